"""The "Active discovery" option: off by default, and turning it on starts browsing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.totem import discovery
from custom_components.totem.const import (
    CONF_ACTIVE_DISCOVERY,
    CONF_PATH,
    CONF_UPDATE_INTERVAL,
    DEFAULT_OPTIONS,
    DOMAIN,
)
from custom_components.totem.options import TotemConfig

from .captures import chat, write
from .conftest import replay_entry, setup_entry, wait_for, write_script
from .messages import hang, hello, row, snapshot
from .test_config_flow import no_setup  # noqa: F401  (fixture)
from .test_discovery import FakeBrowser, browsers, later, settle, zc_cache  # noqa: F401


async def test_new_entries_and_old_entries_have_it_off(
    hass: HomeAssistant,
    tmp_path: Path,
    no_setup: Any,  # noqa: F811
) -> None:
    capture = write(tmp_path / "home.pcap", chat("a4:cf:12:00:00:01", 10, 1000.0, 2))
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": "user"})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "replay"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_PATH: str(capture)}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["options"][CONF_ACTIVE_DISCOVERY] is False

    # An entry saved before the option existed keeps working, with it off.
    old_options = {k: v for k, v in DEFAULT_OPTIONS.items() if k != CONF_ACTIVE_DISCOVERY}
    old = MockConfigEntry(domain=DOMAIN, data={}, options=old_options)
    assert CONF_ACTIVE_DISCOVERY not in old.options
    assert TotemConfig.from_config_entry(old).active_discovery is False


async def test_turning_it_on_in_the_options_starts_browsing(
    hass: HomeAssistant,
    tmp_path: Path,
    fake_probe: Callable[[Path], None],
    zc_cache: Any,  # noqa: F811
    browsers: list[FakeBrowser],  # noqa: F811
) -> None:
    mac = "a4:cf:12:00:00:01"
    fake_probe(
        write_script(
            tmp_path / "probe.ndjson",
            [hello(), snapshot(1, 1010.0, [row(mac, ips=["192.168.1.10"])]), hang()],
        )
    )
    entry = replay_entry(tmp_path / "x.pcap", **{CONF_UPDATE_INTERVAL: 10})
    await setup_entry(hass, entry)
    later(hass, discovery.DEFAULT_LIMITS.first_delay + 1)
    await settle(hass)
    assert browsers == []  # off

    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    field = next(k for k in result["data_schema"].schema if k == CONF_ACTIVE_DISCOVERY)
    assert field.description == {"suggested_value": False}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {**TotemConfig.from_config_entry(entry).as_options(), CONF_ACTIVE_DISCOVERY: True},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options[CONF_ACTIVE_DISCOVERY] is True
    await settle(hass)  # the entry reloads with the new options

    coordinator = entry.runtime_data.coordinator
    await wait_for(
        hass,
        lambda: coordinator.data is not None and mac in coordinator.data.devices,
        what="the device after the reload",
    )
    later(hass, discovery.DEFAULT_LIMITS.first_delay + 1)
    await settle(hass)
    assert len(browsers) == 1
    await hass.config_entries.async_unload(entry.entry_id)
