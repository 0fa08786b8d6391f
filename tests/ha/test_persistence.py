"""What survives a restart, and what goes when a device is stale or removed."""

from __future__ import annotations

import time
from contextlib import AsyncExitStack
from pathlib import Path

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er

from custom_components import totem
from custom_components.totem.const import CONF_STALE_DAYS, CONF_UPDATE_INTERVAL, DOMAIN

from .captures import ROUTER, analyze, chat, write
from .conftest import (
    find_device,
    replay_entry,
    restart_home_assistant,
    setup_entry,
    wait_for,
    write_script,
)
from .messages import NOW, hang, hello, row, snapshot

DAY = 86400.0


def _entity_states(hass: HomeAssistant, entry_id: str) -> dict[str, str]:
    registry = er.async_get(hass)
    return {e.unique_id: e.entity_id for e in er.async_entries_for_config_entry(registry, entry_id)}


async def test_restart_keeps_devices_entity_ids_and_counters(
    hass: HomeAssistant, tmp_path: Path
) -> None:
    plug, bulb = "50:c7:bf:00:00:01", "a4:cf:12:00:00:02"
    capture = write(tmp_path / "home.pcap", chat(plug, 10, 1000.0, 10) + chat(bulb, 11, 1000.2, 6))
    expected = analyze(capture)
    entry = replay_entry(capture, speed=0, **{CONF_UPDATE_INTERVAL: 0.2})
    await setup_entry(hass, entry)
    await wait_for(hass, lambda: entry.runtime_data.coordinator.finished, what="first replay")

    device_ids = {mac: find_device(hass, mac=mac).id for mac in (plug, bulb)}
    entity_ids = _entity_states(hass, entry.entry_id)
    sent = entity_ids[f"{entry.entry_id}-{plug}-data_sent"]
    assert float(hass.states.get(sent).state) * 1e3 == expected[plug].tx_bytes

    # Restart: unload (the probe stops, the store is written), set up again.
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    coordinator = entry.runtime_data.coordinator
    # The restored devices are known before the probe says anything; the router, which
    # only answered, is a device too.
    assert set(coordinator.store.devices) == {plug, bulb, ROUTER.hex(":")}
    await wait_for(hass, lambda: coordinator.finished, what="second replay")

    assert _entity_states(hass, entry.entry_id) == entity_ids
    for mac, device_id in device_ids.items():
        device = find_device(hass, mac=mac)
        assert device.id == device_id
    # The new probe counted the file again from zero; the sensor kept growing.
    assert round(float(hass.states.get(sent).state) * 1e3) == 2 * expected[plug].tx_bytes
    received = entity_ids[f"{entry.entry_id}-{bulb}-data_received"]
    assert round(float(hass.states.get(received).state) * 1e3) == 2 * expected[bulb].rx_bytes


async def test_stale_device_removed_and_back_only_with_new_traffic(
    hass: HomeAssistant, tmp_path: Path, fake_probe
) -> None:
    keeps, goes = "50:c7:bf:00:00:01", "a4:cf:12:00:00:02"
    fake_probe(
        write_script(
            tmp_path / "probe.ndjson",
            [
                {"fake": "wait_file", "path": str(tmp_path / "go")},
                hello(),
                snapshot(1, 1010.0, [row(keeps, last_seen=1010.0), row(goes, last_seen=1010.0)]),
                # Two days later only one of them still talks.
                snapshot(
                    2,
                    1010.0 + 2 * DAY,
                    [row(keeps, last_seen=1010.0 + 2 * DAY), row(goes, last_seen=1010.0)],
                ),
                snapshot(
                    3,
                    1020.0 + 2 * DAY,
                    [row(keeps, last_seen=1020.0 + 2 * DAY), row(goes, last_seen=1010.0)],
                ),
                snapshot(
                    4,
                    1030.0 + 2 * DAY,
                    [row(keeps, last_seen=1030.0 + 2 * DAY), row(goes, last_seen=1025.0 + 2 * DAY)],
                ),
                hang(),
            ],
        )
    )
    entry = replay_entry(tmp_path / "x.pcap", **{CONF_STALE_DAYS: 1})
    seen: list[set[str]] = []

    await setup_entry(hass, entry)
    coordinator = entry.runtime_data.coordinator

    def record() -> None:
        seen.append({mac for mac in (keeps, goes) if find_device(hass, mac=mac)})

    coordinator.async_add_listener(record)
    (tmp_path / "go").touch()  # the probe speaks only now that the test listens
    await wait_for(hass, lambda: len(seen) >= 4, what="four snapshots")
    assert seen[0] == {keeps, goes}
    assert seen[1] == {keeps}  # unseen for two days with a one-day limit
    assert seen[2] == {keeps}  # the probe's old row does not bring it back
    assert seen[3] == {keeps, goes}  # new traffic does
    await hass.config_entries.async_unload(entry.entry_id)


async def test_user_removes_offline_device_but_not_online_one(
    hass: HomeAssistant, tmp_path: Path, fake_probe
) -> None:
    online, offline = "50:c7:bf:00:00:01", "a4:cf:12:00:00:02"
    fake_probe(
        write_script(
            tmp_path / "probe.ndjson",
            [
                hello(),
                snapshot(
                    1,
                    5000.0,
                    [row(online, last_seen=4999.0), row(offline, last_seen=1000.0)],
                    wall_time=NOW,
                ),
                hang(),
            ],
        )
    )
    entry = replay_entry(tmp_path / "x.pcap")
    await setup_entry(hass, entry)
    coordinator = entry.runtime_data.coordinator
    await wait_for(hass, lambda: coordinator.data is not None and coordinator.data.devices)

    def device(mac: str) -> dr.DeviceEntry:
        return find_device(hass, mac=mac)

    hub = find_device(hass, identifier=entry.entry_id)
    assert not await totem.async_remove_config_entry_device(hass, entry, hub)
    assert not await totem.async_remove_config_entry_device(hass, entry, device(online))
    assert await totem.async_remove_config_entry_device(hass, entry, device(offline))
    assert offline not in coordinator.store.devices
    assert offline not in coordinator.data.devices
    await hass.config_entries.async_unload(entry.entry_id)


async def test_stale_days_zero_keeps_devices_forever(
    hass: HomeAssistant, tmp_path: Path, fake_probe
) -> None:
    old = "a4:cf:12:00:00:02"
    fake_probe(
        write_script(
            tmp_path / "probe.ndjson",
            [
                hello(),
                snapshot(1, 1010.0, [row(old, last_seen=1010.0)]),
                snapshot(2, 1010.0 + 400 * DAY, [row(old, last_seen=1010.0)]),
                hang(),
            ],
        )
    )
    entry = replay_entry(tmp_path / "x.pcap", **{CONF_STALE_DAYS: 0})
    await setup_entry(hass, entry)
    coordinator = entry.runtime_data.coordinator
    await wait_for(hass, lambda: coordinator.data is not None and coordinator.data.time > 2000)
    assert find_device(hass, mac=old) is not None
    assert old in coordinator.store.devices
    await hass.config_entries.async_unload(entry.entry_id)


# The second instance's registries leave their daily clean-up timer behind.
@pytest.mark.parametrize("expected_lingering_timers", [True])
async def test_home_assistant_restart_keeps_devices_entity_ids_and_counters(
    hass: HomeAssistant, hass_storage: dict, tmp_path: Path
) -> None:
    """A real restart: this Home Assistant stops, a new one starts on the same storage."""
    plug = "50:c7:bf:00:00:01"
    capture = write(tmp_path / "home.pcap", chat(plug, 10, 1000.0, 10))
    expected = analyze(capture)
    entry = replay_entry(capture, speed=0, **{CONF_UPDATE_INTERVAL: 0.2})
    await setup_entry(hass, entry)
    await wait_for(hass, lambda: entry.runtime_data.coordinator.finished, what="first replay")
    device_id = find_device(hass, mac=plug).id
    entity_ids = _entity_states(hass, entry.entry_id)
    pid = entry.runtime_data.coordinator.probe.pid

    async with AsyncExitStack() as stack:
        hass2, again = await restart_home_assistant(hass, entry, stack)
        assert not Path(f"/proc/{pid}").exists()  # stopped with the old instance
        again.add_to_hass(hass2)
        assert await hass2.config_entries.async_setup(again.entry_id)
        await hass2.async_block_till_done()
        await wait_for(hass2, lambda: again.runtime_data.coordinator.finished, what="replay 2")

        assert find_device(hass2, mac=plug).id == device_id
        assert _entity_states(hass2, again.entry_id) == entity_ids
        sent = hass2.states.get(entity_ids[f"{entry.entry_id}-{plug}-data_sent"])
        assert round(float(sent.state) * 1e3) == 2 * expected[plug].tx_bytes
        await hass2.config_entries.async_unload(again.entry_id)
        await hass2.async_stop()


async def test_stores_with_wrong_types_start_from_what_is_valid_and_raise_a_repair(
    hass: HomeAssistant, hass_storage: dict, tmp_path: Path
) -> None:
    """Valid JSON, wrong types (a hand edit): the entry stayed in SETUP_ERROR for good."""
    from homeassistant.config_entries import ConfigEntryState
    from homeassistant.helpers import issue_registry as ir

    plug, bad = "50:c7:bf:00:00:01", "a4:cf:12:00:00:02"
    capture = write(tmp_path / "home.pcap", chat(plug, 10, 1000.0, 10))
    entry = replay_entry(capture, speed=0, **{CONF_UPDATE_INTERVAL: 0.2})
    now = time.time()  # a stale record would be removed at start
    good_record = {
        "mac": plug,
        "first_seen": now,
        "last_active": now,
        "last_seen": now,
        "macs": [plug],
    }
    hass_storage[f"{DOMAIN}.{entry.entry_id}"] = {
        "version": 1,
        "key": f"{DOMAIN}.{entry.entry_id}",
        "data": {
            "devices": {plug: good_record, bad: {"mac": bad, "first_seen": "yesterday"}},
            "counters": {plug: {"offset": {"tx_bytes": 5000}, "raw": {}}, bad: 7},
            "removed": [1, 2],
        },
    }
    hass_storage[f"{DOMAIN}.{entry.entry_id}.activity"] = {
        "version": 1,
        "key": f"{DOMAIN}.{entry.entry_id}.activity",
        "data": {"log": 5, "learned": []},
    }
    await setup_entry(hass, entry)
    assert entry.state is ConfigEntryState.LOADED
    store = entry.runtime_data.coordinator.store
    assert store.devices[plug].first_seen == now
    assert bad not in store.devices
    assert store.counters[plug].offset["tx_bytes"] == 5000
    issues = [i for (domain, _id), i in ir.async_get(hass).issues.items() if domain == DOMAIN]
    repaired = [i for i in issues if i.translation_key == "state_repaired"]
    assert len(repaired) == 2  # the inventory and the activity log
    for issue in repaired:
        backup = Path(issue.translation_placeholders["backup"])
        assert backup.name.endswith(".corrupt")
        assert backup.exists()
    await wait_for(hass, lambda: entry.runtime_data.coordinator.finished, what="the replay")


async def test_an_unreadable_engine_state_file_raises_a_repair(
    hass: HomeAssistant, tmp_path: Path
) -> None:
    """The probe keeps the damaged file aside and says so; Home Assistant shows it."""
    from homeassistant.helpers import issue_registry as ir

    from custom_components.totem.coordinator import engine_state_file

    plug = "50:c7:bf:00:00:01"
    capture = write(tmp_path / "home.pcap", chat(plug, 10, 1000.0, 10))
    entry = replay_entry(capture, speed=0, **{CONF_UPDATE_INTERVAL: 0.2})
    state = Path(engine_state_file(hass, entry.entry_id))
    state.parent.mkdir(parents=True, exist_ok=True)
    state.write_text('{"version": 1, "observers": {"Guard": {"snoozed": 7}}}')
    await setup_entry(hass, entry)
    await wait_for(hass, lambda: entry.runtime_data.coordinator.finished, what="the replay")
    issues = [i for (d, _i), i in ir.async_get(hass).issues.items() if d == DOMAIN]
    assert [i.translation_key for i in issues if i.translation_key.startswith("state_")] == [
        "state_repaired"
    ]
    assert Path(f"{state}.corrupt").exists()


async def test_block_store_with_wrong_types_keeps_the_valid_blocks_and_raises_a_repair(
    hass: HomeAssistant, hass_storage: dict, tmp_path: Path
) -> None:
    """A hand-edited block store (a MAC as a number, a list for a time, blocks as a
    mapping entry): the valid blocks come back, the rest is kept aside and said."""
    from homeassistant.config_entries import ConfigEntryState
    from homeassistant.helpers import issue_registry as ir

    plug, kept = "50:c7:bf:00:00:01", "a4:cf:12:00:00:02"
    capture = write(tmp_path / "home.pcap", chat(plug, 10, 1000.0, 10))
    entry = replay_entry(capture, speed=0, **{CONF_UPDATE_INTERVAL: 0.2})
    key = f"{DOMAIN}.{entry.entry_id}.blocks"
    hass_storage[key] = {
        "version": 1,
        "key": key,
        "data": {
            "backend": None,
            "blocks": [
                {"mac": kept, "until": None, "ips": []},
                {"mac": 5, "until": None, "ips": []},
                {"mac": "a4:cf:12:00:00:03", "until": ["1", "2"], "ips": []},
                "a4:cf:12:00:00:04",
            ],
            "protected": [],
            "known": "everyone",
            "waiting": {plug: "soon"},
        },
    }
    await setup_entry(hass, entry)
    assert entry.state is ConfigEntryState.LOADED
    store = entry.runtime_data.blocking.store
    assert list(store.blocks) == [kept]
    assert store.known is None
    assert store.waiting == {}
    assert store.protected == {}
    issues = [i for (domain, _id), i in ir.async_get(hass).issues.items() if domain == DOMAIN]
    repaired = [i for i in issues if i.translation_key == "state_repaired"]
    assert [i.translation_placeholders["what"].endswith(".blocks") for i in repaired] == [True]
    message = repaired[0].translation_placeholders["message"]
    for index in (1, 2, 3):
        assert f"blocks[{index}]" in message
    backup = Path(repaired[0].translation_placeholders["backup"])
    assert backup.name.endswith(".blocks.corrupt")
    assert backup.exists()
    await wait_for(hass, lambda: entry.runtime_data.coordinator.finished, what="the replay")
