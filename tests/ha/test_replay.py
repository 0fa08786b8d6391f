"""The real probe process replaying captures into Home Assistant."""

from __future__ import annotations

from pathlib import Path

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er

from custom_components.totem.const import CONF_UPDATE_INTERVAL, DOMAIN
from tests.conftest import shared_pcap

from .captures import ROUTER, analyze, chat, mac_flood, write
from .conftest import find_device, replay_entry, setup_entry, wait_for


def _totem_devices(hass: HomeAssistant, entry_id: str) -> list[dr.DeviceEntry]:
    hub = (DOMAIN, entry_id)
    return [
        d
        for d in dr.async_entries_for_config_entry(dr.async_get(hass), entry_id)
        if hub not in d.identifiers
    ]


def _state(hass: HomeAssistant, platform: str, unique_id: str) -> str:
    entity_id = er.async_get(hass).async_get_entity_id(platform, DOMAIN, unique_id)
    assert entity_id is not None, unique_id
    return hass.states.get(entity_id).state


async def test_real_capture_becomes_devices_with_engine_figures(hass: HomeAssistant) -> None:
    capture = shared_pcap("iot_tplink_hs100_plug_setup.pcap")
    expected = analyze(capture)
    entry = replay_entry(capture, speed=0, **{CONF_UPDATE_INTERVAL: 0.2})
    await setup_entry(hass, entry)
    coordinator = entry.runtime_data.coordinator
    await wait_for(hass, lambda: coordinator.finished, what="end of replay")

    admitted = {mac for mac, r in expected.items() if r.sent_ip or r.sent_dhcp}
    devices = _totem_devices(hass, entry.entry_id)
    assert {mac for d in devices for _, mac in d.connections} == admitted

    plug_mac = next(m for m, r in expected.items() if r.name == "HS100(EU)")
    plug = expected[plug_mac]
    device = find_device(hass, mac=plug_mac)
    assert device.name == "HS100(EU)"
    assert device.manufacturer == plug.manufacturer
    assert device.model == "Smart plug"
    assert _state(hass, "sensor", f"{entry.entry_id}-{plug_mac}-data_sent") == str(
        round(plug.tx_bytes / 1e3, 3)
    )
    assert _state(hass, "sensor", f"{entry.entry_id}-{plug_mac}-data_received") == str(
        round(plug.rx_bytes / 1e3, 3)
    )
    assert _state(hass, "binary_sensor", f"{entry.entry_id}-{plug_mac}-online") == "on"
    online_id = er.async_get(hass).async_get_entity_id(
        "binary_sensor", DOMAIN, f"{entry.entry_id}-{plug_mac}-online"
    )
    assert hass.states.get(online_id).attributes["ip_addresses"] == plug.ips
    assert _state(hass, "sensor", f"{entry.entry_id}-devices_online") == str(len(admitted))


async def test_device_appearing_mid_run_gets_entities_without_reload(
    hass: HomeAssistant, tmp_path: Path
) -> None:
    early, late = "a4:cf:12:00:00:01", "a4:cf:12:00:00:02"
    # The late device starts 250 s of packet time (2.5 s at speed 100) after the
    # early one: the probe sends snapshots (every 0.1 s) in between. A shorter gap
    # (0.5 s) proved too short on a loaded 2-core machine: the reader saw no
    # snapshot between the two devices.
    capture = write(
        tmp_path / "late.pcap", chat(early, 10, 1000.0, 10) + chat(late, 11, 1250.0, 10)
    )
    entry = replay_entry(capture, speed=100, **{CONF_UPDATE_INTERVAL: 0.1})
    await setup_entry(hass, entry)
    coordinator = entry.runtime_data.coordinator
    seen_without_late: list[bool] = []

    def early_only() -> bool:
        macs = set(coordinator.data.devices) if coordinator.data else set()
        if early in macs and late not in macs:
            seen_without_late.append(True)
        return late in macs

    await wait_for(hass, early_only, what="late device")
    assert seen_without_late, "no snapshot showed the early device alone"
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data.coordinator is coordinator  # no reload happened
    assert _state(hass, "binary_sensor", f"{entry.entry_id}-{late}-online") == "on"
    await wait_for(hass, lambda: coordinator.finished, what="end of replay")


async def test_mac_flood_creates_no_device_storm(hass: HomeAssistant, tmp_path: Path) -> None:
    real = ["a4:cf:12:00:00:01", "a4:cf:12:00:00:02", "50:c7:bf:00:00:03"]
    capture = mac_flood(tmp_path / "flood.pcap", 10_000, real)
    entry = replay_entry(capture, speed=0, **{CONF_UPDATE_INTERVAL: 0.2})
    await setup_entry(hass, entry)
    coordinator = entry.runtime_data.coordinator
    await wait_for(hass, lambda: coordinator.finished, timeout=120, what="end of replay")

    devices = _totem_devices(hass, entry.entry_id)
    # The real devices and the router answering them; none of the 10,000 spoofed MACs.
    assert {mac for d in devices for _, mac in d.connections} == {*real, ROUTER.hex(":")}
    not_admitted = int(_state(hass, "sensor", f"{entry.entry_id}-devices_not_admitted"))
    assert not_admitted > 1000  # the flood reached Home Assistant, and was kept out
    assert coordinator.data.flood


async def test_first_snapshot_comes_early_and_engine_state_is_kept(
    hass: HomeAssistant, tmp_path: Path
) -> None:
    mac = "a4:cf:12:00:00:01"
    capture = write(tmp_path / "slow.pcap", chat(mac, 10, 1000.0, 200))
    # A one-hour interval: only the coordinator's early request can bring data now.
    entry = replay_entry(capture, speed=1, loop=True, **{CONF_UPDATE_INTERVAL: 3600})
    await setup_entry(hass, entry)
    coordinator = entry.runtime_data.coordinator
    await wait_for(hass, lambda: coordinator.data is not None, timeout=30, what="early snapshot")
    assert mac in coordinator.data.devices
    await hass.config_entries.async_unload(entry.entry_id)
    state = Path(hass.config.path(".storage", f"{DOMAIN}.{entry.entry_id}.engine.json"))
    assert state.exists()  # the probe saved what it learned on its way out
    await hass.config_entries.async_remove(entry.entry_id)
    assert not state.exists()
