"""Identification from Home Assistant's side: the running Home Assistant's discovery
tables reach the probe, and totem.set_device_type gives the user the last word."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import voluptuous as vol
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import Unauthorized
from pytest_homeassistant_custom_component.common import MockUser

from custom_components.totem.const import CONF_UPDATE_INTERVAL, DOMAIN
from custom_components.totem.coordinator import engine_state_file
from custom_components.totem.engine.messages import Ack, SnapshotMessage

from .captures import chat, write
from .conftest import find_device, replay_entry, setup_entry, wait_for

PLUG = "a4:cf:12:00:00:01"


async def _running(hass: HomeAssistant, tmp_path: Path) -> tuple[Any, list[Ack]]:
    capture = write(tmp_path / "plug.pcap", chat(PLUG, 10, 1000.0, 20))
    entry = replay_entry(capture, speed=1, loop=True, **{CONF_UPDATE_INTERVAL: 0.2})
    await setup_entry(hass, entry)
    coordinator = entry.runtime_data.coordinator
    acks: list[Ack] = []
    original = coordinator.probe._on_message

    def spy(msg: Any) -> None:
        if isinstance(msg, Ack) and msg.cmd == "device_type":
            acks.append(msg)
        original(msg)

    coordinator.probe._on_message = spy
    await wait_for(hass, lambda: find_device(hass, mac=PLUG) is not None, what="the plug")
    return entry, acks


async def test_running_tables_are_handed_to_the_probe(hass: HomeAssistant, tmp_path: Path) -> None:
    entry, _acks = await _running(hass, tmp_path)
    config = entry.runtime_data.config
    assert config.ha_tables_file is not None
    tables = json.loads(Path(config.ha_tables_file).read_text(encoding="utf-8"))
    assert {"dhcp", "zeroconf", "homekit", "ssdp"} <= set(tables)
    assert any(m.get("domain") == "yeelight" for m in tables["dhcp"])
    assert config.probe_args()[-2:] == ["--ha-tables", config.ha_tables_file]
    await hass.config_entries.async_unload(entry.entry_id)


async def test_set_device_type_reaches_the_probe_and_is_persisted(
    hass: HomeAssistant, tmp_path: Path, hass_read_only_user: MockUser
) -> None:
    entry, acks = await _running(hass, tmp_path)
    coordinator = entry.runtime_data.coordinator
    plug = find_device(hass, mac=PLUG)
    assert plug is not None
    await hass.services.async_call(
        DOMAIN, "set_device_type", {"device_id": plug.id, "type": "camera"}, blocking=True
    )
    await wait_for(hass, lambda: bool(acks), what="the probe's ack")
    assert acks[0].ok
    assert coordinator.store.devices[PLUG].user_type == "camera"
    # The probe says so in its next snapshot, and the view shows who set it.
    await wait_for(
        hass,
        lambda: coordinator.data.devices[PLUG].type == "camera"
        and coordinator.data.devices[PLUG].type_source == "user",
        what="the user's type in a snapshot",
    )
    # Automatic: back to identification.
    await hass.services.async_call(
        DOMAIN, "set_device_type", {"mac": PLUG, "type": "automatic"}, blocking=True
    )
    await wait_for(hass, lambda: len(acks) == 2, what="the second ack")
    assert coordinator.store.devices[PLUG].user_type is None
    # Unknown types are refused by the schema; non-admins may not call it.
    with pytest.raises(vol.Invalid):
        await hass.services.async_call(
            DOMAIN, "set_device_type", {"mac": PLUG, "type": "toaster"}, blocking=True
        )
    with pytest.raises(Unauthorized):
        await hass.services.async_call(
            DOMAIN,
            "set_device_type",
            {"mac": PLUG, "type": "camera"},
            blocking=True,
            context=Context(user_id=hass_read_only_user.id),
        )
    await hass.config_entries.async_unload(entry.entry_id)


async def test_user_types_reach_a_probe_that_lost_its_state_file(
    hass: HomeAssistant, tmp_path: Path
) -> None:
    """The user's type lives in Home Assistant's store; a probe started without its
    state file hears it again at its hello, so its detectors follow it."""
    entry, acks = await _running(hass, tmp_path)
    await hass.services.async_call(
        DOMAIN, "set_device_type", {"mac": PLUG, "type": "camera"}, blocking=True
    )
    await wait_for(hass, lambda: bool(acks), what="the probe's ack")
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    Path(engine_state_file(hass, entry.entry_id)).unlink(missing_ok=True)

    rows: list[Any] = []

    def spy(msg: Any) -> None:
        if isinstance(msg, SnapshotMessage):
            rows.extend(r for r in msg.snapshot.devices if r.mac == PLUG)
        original(msg)

    assert await hass.config_entries.async_setup(entry.entry_id)
    coordinator = entry.runtime_data.coordinator
    original = coordinator.probe._on_message
    coordinator.probe._on_message = spy
    # The engine's own row says "user", not only Home Assistant's view of it.
    await wait_for(
        hass,
        lambda: any(r.type == "camera" and r.type_source == "user" for r in rows),
        what="the user's type in the new probe's snapshot",
    )
    await hass.config_entries.async_unload(entry.entry_id)
