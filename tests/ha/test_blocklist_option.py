"""The blocklist as an option: the options flow checks the file the way the probe
loads it, and the probe gets it on its command line."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from unittest.mock import MagicMock

from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType

from custom_components.totem.const import (
    CONF_BLOCKLIST,
)
from custom_components.totem.options import TotemConfig

from .conftest import options_form, replay_entry

OPTIONS = options_form()


async def _submit(hass: HomeAssistant, entry: Any, path: str) -> Any:
    result = await hass.config_entries.options.async_init(entry.entry_id)
    return await hass.config_entries.options.async_configure(
        result["flow_id"], {**OPTIONS, CONF_BLOCKLIST: path}
    )


async def test_unloadable_blocklists_are_refused(
    hass: HomeAssistant, tmp_path: Path, no_setup: MagicMock
) -> None:
    entry = replay_entry(tmp_path / "x.pcap")
    entry.add_to_hass(hass)
    for bad in (tmp_path / "missing.txt", tmp_path):  # absent; not a regular file
        result = await _submit(hass, entry, str(bad))
        assert result["type"] is FlowResultType.FORM, bad
        assert result["errors"] == {CONF_BLOCKLIST: "blocklist_unreadable"}, bad
    assert CONF_BLOCKLIST not in entry.options


async def test_a_blocklist_reaches_the_probe_and_empty_removes_it(
    hass: HomeAssistant, tmp_path: Path, no_setup: MagicMock
) -> None:
    entry = replay_entry(tmp_path / "x.pcap")
    entry.add_to_hass(hass)
    blocklist = tmp_path / "blocklist.txt"
    blocklist.write_text("# known C2\n203.0.113.7\nevil.example\n")

    result = await _submit(hass, entry, f" {blocklist} ")
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options[CONF_BLOCKLIST] == str(blocklist)
    args = TotemConfig.from_config_entry(entry).probe_args()
    assert args[args.index("--blocklist") + 1] == str(blocklist)
    # The form shows the file in use.
    result = await hass.config_entries.options.async_init(entry.entry_id)
    shown = {str(k): k.description for k in result["data_schema"].schema}
    assert shown[CONF_BLOCKLIST] == {"suggested_value": str(blocklist)}

    result = await _submit(hass, entry, "")
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert CONF_BLOCKLIST not in entry.options
    assert "--blocklist" not in TotemConfig.from_config_entry(entry).probe_args()
