"""The router's DHCP lease file as an option of a flow entry: the options flow checks the
file is readable (in the executor), the flow probe gets it on its command line, and only
flow entries show the field."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from unittest.mock import MagicMock

from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.totem.const import (
    CONF_DHCP_LEASES,
    CONF_FLOW_EXPORTERS,
    CONF_FLOW_PORT,
    CONF_SOURCE_TYPE,
    DEFAULT_OPTIONS,
    DOMAIN,
    SOURCE_FLOWS,
)
from custom_components.totem.engine.leases import MAX_FILE_BYTES
from custom_components.totem.options import TotemConfig

from .conftest import options_form, replay_entry

OPTIONS = options_form()


def _flow_entry() -> MockConfigEntry:
    return MockConfigEntry(
        domain=DOMAIN,
        title="TOTEM flows on port 2055",
        unique_id="flows:2055",
        data={CONF_SOURCE_TYPE: SOURCE_FLOWS, CONF_FLOW_PORT: 2055, CONF_FLOW_EXPORTERS: []},
        options=dict(DEFAULT_OPTIONS),
    )


async def _submit(hass: HomeAssistant, entry: Any, path: str) -> Any:
    result = await hass.config_entries.options.async_init(entry.entry_id)
    return await hass.config_entries.options.async_configure(
        result["flow_id"], {**OPTIONS, CONF_DHCP_LEASES: path}
    )


async def test_unreadable_lease_files_are_refused(
    hass: HomeAssistant, tmp_path: Path, no_setup: MagicMock
) -> None:
    entry = _flow_entry()
    entry.add_to_hass(hass)
    huge = tmp_path / "huge.leases"
    huge.write_bytes(b"x" * (MAX_FILE_BYTES + 1))
    for bad in (tmp_path / "missing.leases", tmp_path, huge):  # absent; a folder; too big
        result = await _submit(hass, entry, str(bad))
        assert result["type"] is FlowResultType.FORM, bad
        assert result["errors"] == {CONF_DHCP_LEASES: "leases_unreadable"}, bad
    assert CONF_DHCP_LEASES not in entry.options


async def test_a_lease_file_reaches_the_flow_probe_and_empty_removes_it(
    hass: HomeAssistant, tmp_path: Path, no_setup: MagicMock
) -> None:
    entry = _flow_entry()
    entry.add_to_hass(hass)
    leases = tmp_path / "dhcp.leases"
    leases.write_bytes(b"1733150000 a4:cf:12:3b:4c:5d 192.168.1.23 plug *\n")

    result = await _submit(hass, entry, f" {leases} ")
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options[CONF_DHCP_LEASES] == str(leases)
    args = TotemConfig.from_config_entry(entry).probe_args()
    assert args[:2] == ["--netflow", "2055"]
    assert args[args.index("--leases") + 1] == str(leases)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    shown = {str(k): k.description for k in result["data_schema"].schema}
    assert shown[CONF_DHCP_LEASES] == {"suggested_value": str(leases)}

    result = await _submit(hass, entry, "")
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert CONF_DHCP_LEASES not in entry.options
    assert "--leases" not in TotemConfig.from_config_entry(entry).probe_args()


async def test_only_flow_entries_offer_the_lease_file(
    hass: HomeAssistant, tmp_path: Path, no_setup: MagicMock
) -> None:
    entry = replay_entry(tmp_path / "x.pcap")
    entry.add_to_hass(hass)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert CONF_DHCP_LEASES not in {str(k) for k in result["data_schema"].schema}
