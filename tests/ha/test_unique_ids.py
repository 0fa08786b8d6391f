"""Per-device unique ids are scoped to the config entry, and older ones are migrated."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.totem.const import DOMAIN, ENTRY_MINOR_VERSION

from .conftest import replay_entry, setup_entry, wait_for, write_script
from .messages import hang, hello, row, snapshot

PLUG = "50:c7:bf:00:00:01"


def _script(tmp_path: Path) -> Path:
    return write_script(
        tmp_path / "probe.ndjson",
        [hello(), snapshot(1, 1010.0, [row(PLUG, tx_bytes=5000, tx_packets=10)]), hang()],
    )


async def _running(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    coordinator = entry.runtime_data.coordinator
    await wait_for(
        hass,
        lambda: coordinator.data is not None and coordinator.data.time == 1010.0,
        what="the probe's snapshot",
    )


async def test_an_entry_with_old_unique_ids_keeps_its_entity_ids(
    hass: HomeAssistant, tmp_path: Path, fake_probe: Any
) -> None:
    fake_probe(_script(tmp_path))
    entry = replay_entry(tmp_path / "x.pcap")
    assert entry.minor_version == 1  # as entries were saved before the migration
    entry.add_to_hass(hass)
    registry = er.async_get(hass)
    # Entities as TOTEM registered them before: "<mac>-<key>", renamed by the user.
    sent = registry.async_get_or_create(
        "sensor", DOMAIN, f"{PLUG}-data_sent", config_entry=entry, suggested_object_id="my_plug_tx"
    )
    online = registry.async_get_or_create(
        "binary_sensor", DOMAIN, f"{PLUG}-online", config_entry=entry
    )
    hub = registry.async_get_or_create(
        "sensor", DOMAIN, f"{entry.entry_id}-devices_online", config_entry=entry
    )

    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    await _running(hass, entry)

    assert entry.minor_version == ENTRY_MINOR_VERSION
    assert registry.async_get(sent.entity_id).unique_id == f"{entry.entry_id}-{PLUG}-data_sent"
    assert registry.async_get(online.entity_id).unique_id == f"{entry.entry_id}-{PLUG}-online"
    assert registry.async_get(hub.entity_id).unique_id == hub.unique_id  # already scoped
    # The same entities carry on (history stays with the entity id), no "_2" twin.
    assert sent.entity_id == "sensor.my_plug_tx"
    # Registered here without the display unit the platform suggests on a first
    # registration: the state is in the native unit, bytes.
    assert hass.states.get(sent.entity_id).state == "5000"
    sent_ids = [
        e.entity_id
        for e in er.async_entries_for_config_entry(registry, entry.entry_id)
        if e.unique_id.endswith("-data_sent")
    ]
    assert sent_ids == [sent.entity_id]
    await hass.config_entries.async_unload(entry.entry_id)


async def test_two_entries_seeing_one_mac_get_their_own_entities(
    hass: HomeAssistant, tmp_path: Path, fake_probe: Any
) -> None:
    fake_probe(_script(tmp_path))
    first = replay_entry(tmp_path / "first.pcap")
    await setup_entry(hass, first)
    await _running(hass, first)
    second = replay_entry(tmp_path / "second.pcap")
    await setup_entry(hass, second)
    await _running(hass, second)

    registry = er.async_get(hass)
    ids = {
        entry.entry_id: registry.async_get_entity_id(
            "sensor", DOMAIN, f"{entry.entry_id}-{PLUG}-data_sent"
        )
        for entry in (first, second)
    }
    assert None not in ids.values()
    assert len(set(ids.values())) == 2
    for entity_id in ids.values():
        assert hass.states.get(entity_id).state == "5.0"  # 5000 bytes in kB
    for entry in (first, second):
        await hass.config_entries.async_unload(entry.entry_id)


async def test_an_entry_from_a_newer_totem_is_not_set_up(
    hass: HomeAssistant, tmp_path: Path
) -> None:
    entry = replay_entry(tmp_path / "x.pcap")
    newer = MockConfigEntry(
        domain=DOMAIN, version=2, data=dict(entry.data), options=dict(entry.options)
    )
    newer.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(newer.entry_id)
    assert newer.state is ConfigEntryState.MIGRATION_ERROR
