"""One device per MAC across TOTEM's entries: duplicates merged, a shared device kept
when the entry that owns it is deleted (device_merge.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attr
import pytest
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.totem.compat import (
    ONE_DEVICE_PER_ENTRY,
    all_devices,
    device_config_entries,
)
from custom_components.totem.const import DOMAIN
from custom_components.totem.device_merge import async_hand_over, async_merge_duplicates

from .conftest import scripted_entry, setup_entry, wait_for
from .messages import hang, hello, row, snapshot

PLUG = "50:c7:bf:00:00:01"
CAMERA = "a4:cf:12:00:00:02"
SPARE = "a4:cf:12:00:00:99"  # only to create the second device on 2025.x (see _duplicate)
MAC = dr.CONNECTION_NETWORK_MAC


def _entry(hass: HomeAssistant, title: str) -> MockConfigEntry:
    entry = MockConfigEntry(domain=DOMAIN, title=title, unique_id=title)
    entry.add_to_hass(hass)
    return entry


def _devices_with(hass: HomeAssistant, mac: str) -> list[dr.DeviceEntry]:
    return [d for d in all_devices(dr.async_get(hass)) if (MAC, mac) in d.connections]


def _sensor(hass: HomeAssistant, entry: MockConfigEntry, mac: str, key: str) -> er.RegistryEntry:
    return er.async_get(hass).async_get_or_create(
        "sensor", DOMAIN, f"{entry.entry_id}-{mac}-{key}", config_entry=entry,
        device_id=_devices_with(hass, mac)[-1].id,
    )  # fmt: skip


def _duplicate(hass: HomeAssistant, entry: MockConfigEntry, mac: str) -> dr.DeviceEntry:
    """ENTRY's own device for MAC beside the one another entry has, as an earlier TOTEM
    on Home Assistant 2026 (one device per entry) left it."""
    registry = dr.async_get(hass)
    if ONE_DEVICE_PER_ENTRY:
        return registry.async_get_or_create(
            config_entry_id=entry.entry_id, connections={(MAC, mac)}, name=mac
        )
    # 2025.x joins entries by connection and refuses a second device with one MAC:
    # make the device under another MAC, then give it MAC in the registry's items
    # directly. (Its connection index then points at this one; removing it unindexes
    # the MAC, which is why these tests set no entry up after a merge on 2025.x.)
    device = registry.async_get_or_create(
        config_entry_id=entry.entry_id, connections={(MAC, SPARE)}, name=mac
    )
    registry.devices[device.id] = attr.evolve(device, connections={(MAC, mac)})
    return registry.devices[device.id]


async def test_duplicate_devices_of_one_mac_merge_into_the_oldest(hass: HomeAssistant) -> None:
    first, second = _entry(hass, "capture"), _entry(hass, "flows")
    registry = dr.async_get(hass)
    kept = registry.async_get_or_create(
        config_entry_id=first.entry_id, connections={(MAC, PLUG)}, name="plug"
    )
    first_entities = [_sensor(hass, first, PLUG, k) for k in ("data_sent", "data_received")]
    duplicate = _duplicate(hass, second, PLUG)
    assert len(_devices_with(hass, PLUG)) == 2
    # The user had put the duplicate in an area and named it: that is kept.
    area = "garage"
    registry.async_update_device(duplicate.id, area_id=area, name_by_user="Garage plug")
    second_entities = [
        er.async_get(hass).async_get_or_create(
            "sensor", DOMAIN, f"{second.entry_id}-{PLUG}-{k}", config_entry=second,
            device_id=duplicate.id,
        )
        for k in ("data_sent", "data_received")
    ]  # fmt: skip
    # A MAC only one device has: left alone.
    camera = registry.async_get_or_create(
        config_entry_id=first.entry_id, connections={(MAC, CAMERA)}, name="camera"
    )
    await hass.async_block_till_done()

    assert async_merge_duplicates(hass) == 1
    await hass.async_block_till_done()
    devices = _devices_with(hass, PLUG)
    assert [d.id for d in devices] == [kept.id]
    assert devices[0].area_id == area
    assert devices[0].name_by_user == "Garage plug"
    if not ONE_DEVICE_PER_ENTRY:  # 2025.x: one device, both entries on it
        assert device_config_entries(devices[0]) == {first.entry_id, second.entry_id}
    entities = er.async_get(hass)
    for entity in (*first_entities, *second_entities):
        now = entities.async_get(entity.entity_id)
        assert now is not None, entity.entity_id  # nothing lost with the duplicate
        assert now.device_id == kept.id
        assert now.config_entry_id == entity.config_entry_id
    assert registry.async_get(duplicate.id) is None
    assert registry.async_get(camera.id) is not None

    # Idempotent: a second run (the next entry's setup) finds nothing to do.
    assert async_merge_duplicates(hass) == 0
    await hass.async_block_till_done()
    assert [d.id for d in _devices_with(hass, PLUG)] == [kept.id]
    assert len(er.async_entries_for_device(entities, kept.id)) == 4


async def test_merge_leaves_devices_two_entries_share_by_connection(hass: HomeAssistant) -> None:
    """2025.x: entries join one device by connection, nothing to merge; on 2026 the
    second entry's registration makes its own device, merged into the first."""
    first, second = _entry(hass, "capture"), _entry(hass, "flows")
    registry = dr.async_get(hass)
    for entry in (first, second):
        registry.async_get_or_create(
            config_entry_id=entry.entry_id, connections={(MAC, PLUG)}, name="plug"
        )
    before = _devices_with(hass, PLUG)
    assert len(before) == (2 if ONE_DEVICE_PER_ENTRY else 1)
    assert async_merge_duplicates(hass) == len(before) - 1
    assert [d.id for d in _devices_with(hass, PLUG)] == [before[0].id]
    assert async_merge_duplicates(hass) == 0


def _entities_of(hass: HomeAssistant, entry: MockConfigEntry, mac: str) -> list[er.RegistryEntry]:
    return [
        e for e in er.async_get(hass).entities.values()
        if e.config_entry_id == entry.entry_id
        and e.unique_id.startswith(f"{entry.entry_id}-{mac}-")
    ]  # fmt: skip


async def test_the_shared_device_stays_when_the_entry_that_owns_it_is_deleted(
    hass: HomeAssistant, tmp_path: Path, fake_probe: Any
) -> None:
    capture = scripted_entry(tmp_path, "capture", fake_probe, [
        hello(),
        snapshot(1, 1010.0, [row(PLUG, ips=["192.168.1.5"], tx_bytes=1000, rx_bytes=4000)]),
        hang(),
    ])  # fmt: skip
    await setup_entry(hass, capture)
    await wait_for(hass, lambda: bool(_entities_of(hass, capture, PLUG)), what="capture's plug")
    go = tmp_path / "go"
    flows = scripted_entry(tmp_path, "flows", fake_probe, [
        hello(),
        snapshot(1, 1010.0, [row(PLUG, ips=["192.168.1.5"], tx_bytes=900, rx_bytes=5000)]),
        {"fake": "wait_file", "path": str(go)},
        snapshot(2, 1100.0, [row(PLUG, ips=["192.168.1.5"], tx_bytes=7000, rx_bytes=9000)]),
        hang(),
    ])  # fmt: skip
    await setup_entry(hass, flows)
    await wait_for(hass, lambda: bool(_entities_of(hass, flows, PLUG)), what="flows' plug")
    devices = _devices_with(hass, PLUG)
    assert len(devices) == 1
    device_id = devices[0].id
    # The capture entry registered the plug first: it owns the device (on 2026 the
    # only config entry; on 2025.x the first of two).
    assert capture.entry_id in device_config_entries(devices[0])
    flows_entities = {e.entity_id for e in _entities_of(hass, flows, PLUG)}
    sent = next(e for e in flows_entities if e.startswith("sensor.") and "sent" in e
                and "all_probes" not in e)  # fmt: skip
    assert hass.states.get(sent).state == "0.9"  # kB

    assert await hass.config_entries.async_remove(capture.entry_id)
    await hass.async_block_till_done()

    device = dr.async_get(hass).async_get(device_id)
    assert device is not None, "the device shared with the flows entry was deleted"
    assert device_config_entries(device) == {flows.entry_id}
    assert _devices_with(hass, PLUG) == [device]
    # The remaining entry's entities are still there, on that device, and working.
    entities = er.async_get(hass)
    for entity_id in flows_entities:
        entity = entities.async_get(entity_id)
        assert entity is not None, entity_id
        if entity.domain != "device_tracker":  # linked by its own rules
            assert entity.device_id == device_id, entity_id
    assert not _entities_of(hass, capture, PLUG)
    assert hass.states.get(sent).state == "0.9"
    go.touch()  # 90 s of packet time later: past the counters' once-a-minute write
    await wait_for(hass, lambda: hass.states.get(sent).state == "7.0", what="the next snapshot")
    # The flows entry, now the device's owner, keeps it in step and does not make
    # another one for the MAC.
    assert [d.id for d in _devices_with(hass, PLUG)] == [device_id]
    assert async_hand_over(hass, flows.entry_id) == 0  # no other entry's entities on it
    await hass.config_entries.async_unload(flows.entry_id)
    await hass.async_block_till_done()


@pytest.mark.skipif(
    not ONE_DEVICE_PER_ENTRY,
    reason="2025.x cannot hold two devices of one MAC: nothing to merge at setup",
)
async def test_setup_merges_the_duplicates_an_earlier_version_left(
    hass: HomeAssistant, tmp_path: Path, fake_probe: Any
) -> None:
    """Two probes' entries, each with its own device of the plug (what TOTEM before the
    merge left on 2026): after setup, one device carries both entries' entities, under
    the entity ids they had."""
    # Both entries run this script: the integration's first setup sets up every entry.
    plug = [row(PLUG, ips=["192.168.1.5"], tx_bytes=1000, rx_bytes=4000)]
    script = [hello(), snapshot(1, 1010.0, plug), hang()]
    capture = scripted_entry(tmp_path, "capture", fake_probe, script)
    flows = scripted_entry(tmp_path, "flows", fake_probe, script)
    capture.add_to_hass(hass)
    flows.add_to_hass(hass)
    registry, entities = dr.async_get(hass), er.async_get(hass)
    old = registry.async_get_or_create(
        config_entry_id=capture.entry_id, connections={(MAC, PLUG)}, name="plug"
    )
    duplicate = _duplicate(hass, flows, PLUG)
    sent = entities.async_get_or_create(
        "sensor", DOMAIN, f"{flows.entry_id}-{PLUG}-data_sent", config_entry=flows,
        device_id=duplicate.id, suggested_object_id="flows_plug_sent",
    )  # fmt: skip
    assert len(_devices_with(hass, PLUG)) == 2

    assert await hass.config_entries.async_setup(capture.entry_id)
    await hass.async_block_till_done()
    for entry in (capture, flows):
        await wait_for(hass, lambda e=entry: len(_entities_of(hass, e, PLUG)) > 1, what=entry.title)
    assert [d.id for d in _devices_with(hass, PLUG)] == [old.id]
    now = entities.async_get(sent.entity_id)
    assert now is not None
    assert now.device_id == old.id
    assert hass.states.get(sent.entity_id) is not None
    for entry in (capture, flows):
        attached = {e.device_id for e in _entities_of(hass, entry, PLUG)
                    if e.domain != "device_tracker"}  # fmt: skip
        assert attached == {old.id}, entry.title
    for entry in (capture, flows):
        await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
