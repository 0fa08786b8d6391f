"""Presence: one router-style tracker per device, home while TOTEM sees it online."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from homeassistant.components.device_tracker.const import SourceType
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er

from custom_components.totem.const import DEFAULT_AWAY_TIMEOUT, DOMAIN

from .conftest import find_device, replay_entry, setup_entry, wait_for, write_script
from .messages import hang, hello, row, snapshot

PHONE = "3c:22:fb:00:00:01"
PLUG = "50:c7:bf:00:00:01"
# A snapshot after the away timeout, in which the phone sent nothing more.
LATER = 1010.0 + DEFAULT_AWAY_TIMEOUT + 60


def tracker_id(hass: HomeAssistant, entry_id: str, mac: str) -> str | None:
    return er.async_get(hass).async_get_entity_id(
        "device_tracker", DOMAIN, f"{entry_id}-{mac}-presence"
    )


async def test_phone_is_home_then_away_and_iot_trackers_start_disabled(
    hass: HomeAssistant, tmp_path: Path, fake_probe: Any
) -> None:
    again = tmp_path / "again"
    back = tmp_path / "back"
    phone = {"type": "phone", "name": "Annas-iPhone", "ips": ["fe80::1", "192.168.1.23"]}
    fake_probe(
        write_script(
            tmp_path / "probe.ndjson",
            [
                hello(),
                snapshot(
                    1,
                    1010.0,
                    [
                        row(PHONE, tx_bytes=500, tx_packets=5, last_seen=1010.0, **phone),
                        row(PLUG, type="smart_plug", tx_bytes=90, tx_packets=1, last_seen=1010.0),
                    ],
                ),
                {"fake": "wait_file", "path": str(again)},
                snapshot(
                    2,
                    LATER,
                    [
                        row(PHONE, tx_bytes=500, tx_packets=5, last_seen=1010.0, **phone),
                        row(PLUG, type="smart_plug", tx_bytes=99, tx_packets=2, last_seen=LATER),
                    ],
                ),
                {"fake": "wait_file", "path": str(back)},
                snapshot(
                    3,
                    LATER + 10,
                    [row(PHONE, tx_bytes=800, tx_packets=9, last_seen=LATER + 10, **phone)],
                ),
                hang(),
            ],
        )
    )
    entry = replay_entry(tmp_path / "x.pcap")
    await setup_entry(hass, entry)
    coordinator = entry.runtime_data.coordinator
    await wait_for(hass, lambda: coordinator.data is not None and coordinator.data.time == 1010.0)
    await hass.async_block_till_done()

    phone_id = tracker_id(hass, entry.entry_id, PHONE)
    plug_id = tracker_id(hass, entry.entry_id, PLUG)
    assert phone_id is not None
    assert plug_id is not None
    registry = er.async_get(hass)
    assert registry.async_get(phone_id).disabled_by is None
    # A plug is always home: its tracker waits for someone to want it.
    assert registry.async_get(plug_id).disabled_by is er.RegistryEntryDisabler.INTEGRATION
    # Attached to the phone's device by its MAC, like every TOTEM entity of it.
    device = find_device(hass, mac=PHONE)
    assert device is not None
    assert registry.async_get(phone_id).device_id == device.id

    state = hass.states.get(phone_id)
    assert state.state == "home"
    assert state.attributes["source_type"] == SourceType.ROUTER
    assert state.attributes["ip"] == "192.168.1.23"
    assert state.attributes["mac"] == PHONE
    assert state.attributes["host_name"] == "Annas-iPhone"

    again.touch()
    await wait_for(hass, lambda: coordinator.data.time == LATER, what="the later snapshot")
    assert hass.states.get(phone_id).state == "not_home"

    back.touch()
    await wait_for(hass, lambda: coordinator.data.time == LATER + 10, what="the phone back")
    assert hass.states.get(phone_id).state == "home"
    await hass.config_entries.async_unload(entry.entry_id)
