"""Which MACs become Home Assistant devices, and how merged MACs show."""

from __future__ import annotations

from pathlib import Path

from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.totem.compat import ONE_DEVICE_PER_ENTRY
from custom_components.totem.const import (
    ADMIT_PER_SNAPSHOT,
    CONF_AUTO_ADD,
    CONF_DEVICE_CAP,
    CONF_IGNORED,
    DOMAIN,
)

from .conftest import replay_entry, setup_entry, wait_for, write_script
from .messages import hang, hello, row, snapshot


def _macs(hass: HomeAssistant, entry_id: str) -> set[str]:
    return {
        mac
        for d in dr.async_entries_for_config_entry(dr.async_get(hass), entry_id)
        for kind, mac in d.connections
        if kind == dr.CONNECTION_NETWORK_MAC
    }


async def _run(hass: HomeAssistant, tmp_path: Path, fake_probe, snapshots: list, **options):
    fake_probe(write_script(tmp_path / "probe.ndjson", [hello(), *snapshots, hang()]))
    entry = replay_entry(tmp_path / "x.pcap", **options)
    await setup_entry(hass, entry)
    coordinator = entry.runtime_data.coordinator
    last_time = snapshots[-1]["snapshot"]["last_time"]
    await wait_for(
        hass,
        lambda: coordinator.data is not None and coordinator.data.time >= last_time,
        what="last snapshot",
    )
    return entry, coordinator


async def test_rotating_mac_merged_into_one_device(
    hass: HomeAssistant, tmp_path: Path, fake_probe
) -> None:
    phone, rotated = "3c:22:fb:00:00:01", "da:a1:19:00:00:02"
    entry, coordinator = await _run(
        hass,
        tmp_path,
        fake_probe,
        [
            snapshot(
                1,
                1010.0,
                [
                    row(phone, name="Lucas-iPhone", type="phone", tx_bytes=1000, rx_bytes=4000),
                    row(rotated, same_device_as=phone, tx_bytes=500, rx_bytes=2000),
                ],
            )
        ],
    )
    await wait_for(hass, lambda: phone in (coordinator.data.devices or {}))
    devices = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    network = [d for d in devices if (DOMAIN, entry.entry_id) not in d.identifiers]
    assert len(network) == 1
    assert network[0].connections == {
        (dr.CONNECTION_NETWORK_MAC, phone),
        (dr.CONNECTION_NETWORK_MAC, rotated),
    }
    assert network[0].model == "Phone"
    sent = er.async_get(hass).async_get_entity_id(
        "sensor", DOMAIN, f"{entry.entry_id}-{phone}-data_sent"
    )
    assert hass.states.get(sent).state == str(1500 / 1e3)
    await hass.config_entries.async_unload(entry.entry_id)


async def test_ignored_cap_and_evidence(hass: HomeAssistant, tmp_path: Path, fake_probe) -> None:
    ignored = "50:c7:bf:00:00:09"
    rows = [
        row(ignored),
        row("a4:cf:12:00:00:01", sent_ip=False, sent_dhcp=True, tx_packets=1),
        row("a4:cf:12:00:00:02", tx_packets=50),
        row("a4:cf:12:00:00:03", tx_packets=5),
        row("a4:cf:12:00:00:04", sent_ip=False, tx_packets=500),  # only layer 2
    ]
    entry, _ = await _run(
        hass,
        tmp_path,
        fake_probe,
        [snapshot(1, 1010.0, rows)],
        **{CONF_IGNORED: [ignored], CONF_DEVICE_CAP: 2},
    )
    await wait_for(hass, lambda: len(_macs(hass, entry.entry_id)) == 2)
    # DHCP first, then the busiest; the cap stops the rest.
    assert _macs(hass, entry.entry_id) == {"a4:cf:12:00:00:01", "a4:cf:12:00:00:02"}
    not_admitted = er.async_get(hass).async_get_entity_id(
        "sensor", DOMAIN, f"{entry.entry_id}-devices_not_admitted"
    )
    assert hass.states.get(not_admitted).state == "3"
    await hass.config_entries.async_unload(entry.entry_id)


async def test_null_mac_is_never_a_device(hass: HomeAssistant, tmp_path: Path, fake_probe) -> None:
    """The engine counts the null MAC's frames (as tshark does); it names no device."""
    null = row("00:00:00:00:00:00", station=False, sent_dhcp=True, rx_packets=5, tx_packets=90)
    entry, coordinator = await _run(
        hass,
        tmp_path,
        fake_probe,
        [snapshot(1, 1010.0, [null, row("a4:cf:12:00:00:01", tx_packets=3)])],
    )
    await wait_for(hass, lambda: "a4:cf:12:00:00:01" in coordinator.data.devices)
    assert _macs(hass, entry.entry_id) == {"a4:cf:12:00:00:01"}
    assert coordinator.data.not_admitted == 0
    await hass.config_entries.async_unload(entry.entry_id)


async def test_auto_add_off_adds_nothing_new(
    hass: HomeAssistant, tmp_path: Path, fake_probe
) -> None:
    entry, coordinator = await _run(
        hass,
        tmp_path,
        fake_probe,
        [snapshot(1, 1010.0, [row("a4:cf:12:00:00:01")])],
        **{CONF_AUTO_ADD: False},
    )
    await wait_for(hass, lambda: coordinator.data.not_admitted == 1)
    assert _macs(hass, entry.entry_id) == set()
    await hass.config_entries.async_unload(entry.entry_id)


async def test_admission_per_snapshot_is_bounded(
    hass: HomeAssistant, tmp_path: Path, fake_probe
) -> None:
    many = [row(f"a4:cf:12:00:01:{n:02x}", tx_packets=n + 1) for n in range(ADMIT_PER_SNAPSHOT + 8)]
    first, second = snapshot(1, 1010.0, many), snapshot(2, 1020.0, many)
    entry, coordinator = await _run(hass, tmp_path, fake_probe, [first, second])
    admitted_at: dict[float, set[str]] = {}
    for mac, record in coordinator.store.devices.items():
        admitted_at.setdefault(record.first_seen, set()).add(mac)
    busiest = {r.mac for r in many[-ADMIT_PER_SNAPSHOT:]}
    assert admitted_at == {
        first["wall_time"]: busiest,
        second["wall_time"]: {r.mac for r in many} - busiest,
    }
    assert _macs(hass, entry.entry_id) == {r.mac for r in many}
    await hass.config_entries.async_unload(entry.entry_id)


async def test_device_known_to_another_integration_is_joined_not_renamed(
    hass: HomeAssistant, tmp_path: Path, fake_probe
) -> None:
    plug = "50:c7:bf:00:00:01"
    kasa = MockConfigEntry(domain="tplink", title="Kasa")
    kasa.add_to_hass(hass)
    kasa_device = dr.async_get(hass).async_get_or_create(
        config_entry_id=kasa.entry_id,
        connections={(dr.CONNECTION_NETWORK_MAC, plug)},
        name="Living room lamp",
        manufacturer="TP-Link",
        model="HS100",
    )
    entry, coordinator = await _run(
        hass,
        tmp_path,
        fake_probe,
        [
            snapshot(1, 1010.0, [row(plug, name="HS100(EU)", type="smart_plug")]),
            snapshot(2, 1020.0, [row(plug, name="HS100(EU)", type="smart_plug")]),
        ],
    )
    registry = dr.async_get(hass)
    kasa_now = registry.async_get(kasa_device.id)
    # The other integration's description is never overwritten.
    assert (kasa_now.name, kasa_now.manufacturer, kasa_now.model) == (
        "Living room lamp",
        "TP-Link",
        "HS100",
    )
    online = er.async_get(hass).async_get_entity_id(
        "binary_sensor", DOMAIN, f"{entry.entry_id}-{plug}-online"
    )
    totem_device = registry.async_get(er.async_get(hass).async_get(online).device_id)
    assert (dr.CONNECTION_NETWORK_MAC, plug) in totem_device.connections
    if ONE_DEVICE_PER_ENTRY:
        # Newer Home Assistant: one device per integration, TOTEM's own is described.
        assert totem_device.id != kasa_device.id
        assert (totem_device.name, totem_device.model) == ("HS100(EU)", "Smart plug")
    else:
        # TOTEM's entities join the device page the Kasa integration made.
        assert totem_device.id == kasa_device.id
        assert totem_device.config_entries == {kasa.entry_id, entry.entry_id}
    await hass.config_entries.async_unload(entry.entry_id)


async def test_a_mac_merged_later_joins_the_device_and_its_description_follows(
    hass: HomeAssistant, tmp_path: Path, fake_probe
) -> None:
    """The registry keeps the device's connections and adds the new MAC (no
    merge_connections, which Home Assistant 2026 deprecates)."""
    phone, rotated = "3c:22:fb:00:00:01", "da:a1:19:00:00:02"
    entry, coordinator = await _run(
        hass,
        tmp_path,
        fake_probe,
        [
            snapshot(1, 1010.0, [row(phone, tx_bytes=1000)]),
            snapshot(
                2,
                1020.0,
                [
                    row(phone, manufacturer="Apple", type="phone", tx_bytes=2000),
                    row(rotated, same_device_as=phone, tx_bytes=500),
                ],
            ),
        ],
    )
    devices = [
        d
        for d in dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
        if (DOMAIN, entry.entry_id) not in d.identifiers
    ]
    assert len(devices) == 1
    assert devices[0].connections == {
        (dr.CONNECTION_NETWORK_MAC, phone),
        (dr.CONNECTION_NETWORK_MAC, rotated),
    }
    assert (devices[0].manufacturer, devices[0].model) == ("Apple", "Phone")
    assert coordinator.devices.device_id(rotated) == devices[0].id
    assert coordinator.devices.device_id("02:00:00:00:00:99") is None
    await hass.config_entries.async_unload(entry.entry_id)


async def test_announced_model_goes_into_the_device_registry(
    hass: HomeAssistant, tmp_path: Path, fake_probe
) -> None:
    """The model number a device announced (mDNS TXT md=) is the registry's model; the
    short vendor name is the manufacturer; the supporting integration is an attribute."""
    hue = "00:17:88:00:00:01"
    entry, coordinator = await _run(
        hass,
        tmp_path,
        fake_probe,
        [
            snapshot(1, 1010.0, [row(hue, manufacturer="Philips Hue", type="hub")]),
            snapshot(
                2,
                1020.0,
                [
                    row(
                        hue,
                        manufacturer="Philips Hue",
                        manufacturer_registry="Philips Lighting BV",
                        type="hub",
                        model="BSB002",
                        integration="hue",
                    )
                ],
            ),
        ],
    )
    await wait_for(
        hass,
        lambda: coordinator.data.devices[hue].model == "BSB002",
        what="model in the view",
    )
    await hass.async_block_till_done()
    devices = [
        d
        for d in dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
        if (DOMAIN, entry.entry_id) not in d.identifiers
    ]
    assert len(devices) == 1
    assert (devices[0].manufacturer, devices[0].model) == ("Philips Hue", "BSB002")
    online = er.async_get(hass).async_get_entity_id(
        "binary_sensor", DOMAIN, f"{entry.entry_id}-{hue}-online"
    )
    assert online is not None
    state = hass.states.get(online)
    assert state is not None
    assert state.attributes["integration"] == "hue"
    assert state.attributes["model"] == "BSB002"
    assert state.attributes["manufacturer_registry"] == "Philips Lighting BV"
    await hass.config_entries.async_unload(entry.entry_id)


def test_a_replay_of_a_whole_home_is_full_visibility() -> None:
    """A file has no "own" host, so the engine counts no unicast "between others" in
    it; every unicast frame between two devices shows what the file holds."""
    from custom_components.totem.engine.model import EngineStats
    from custom_components.totem.inventory import (
        VISIBILITY_FULL,
        VISIBILITY_OWN_TRAFFIC,
        visibility,
    )

    home = EngineStats(unicast_frames=2_500, unicast_between_others=0)
    assert visibility(4_000, home, replay=True) == VISIBILITY_FULL
    # Live, the same counters mean the probe sees only its own traffic.
    assert visibility(4_000, home) == VISIBILITY_OWN_TRAFFIC
    # A file with no unicast at all (broadcasts only) is still limited.
    assert visibility(4_000, EngineStats(), replay=True) == VISIBILITY_OWN_TRAFFIC
