"""Several capture points, one home: stand-ins resolved to real MACs, totals across probes.

Two entries, each with the scripted fake probe (the process boundary): one a capture
that sees the real MACs, one a flow source that knows some devices only by address.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

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
from custom_components.totem.mesh import (
    RULE_LARGEST,
    RULE_SUM,
    Seen,
    disjoint,
    probe_mesh,
    stand_in_ip,
)

from .conftest import find_device, scripted_entry, setup_entry, wait_for
from .messages import hang, hello, row, snapshot

PLUG = "50:c7:bf:00:00:01"
PLUG_IP = "192.168.1.5"
PLUG_STAND_IN = "02:00:c0:a8:01:05"  # 02:00 + 192.168.1.5, as the flow engine keys it
CAMERA = "a4:cf:12:00:00:02"
PHONE_STAND_IN = "02:00:c0:a8:01:09"


def _sensor(hass: HomeAssistant, entry: MockConfigEntry, mac: str, key: str) -> Any:
    entity_id = er.async_get(hass).async_get_entity_id(
        "sensor", DOMAIN, f"{entry.entry_id}-{mac}-{key}"
    )
    return hass.states.get(entity_id) if entity_id else None


def _devices_with(hass: HomeAssistant, mac: str) -> list[dr.DeviceEntry]:
    connection = (dr.CONNECTION_NETWORK_MAC, mac)
    return [d for d in all_devices(dr.async_get(hass)) if connection in d.connections]


def _entities_of(hass: HomeAssistant, entry: MockConfigEntry, mac: str) -> list[er.RegistryEntry]:
    return [
        e for e in er.async_get(hass).entities.values()
        if e.config_entry_id == entry.entry_id
        and e.unique_id.startswith(f"{entry.entry_id}-{mac}-")
    ]  # fmt: skip


def test_a_stand_in_is_recognised_by_its_structure_only() -> None:
    assert stand_in_ip(PLUG_STAND_IN, [PLUG_IP]) == PLUG_IP
    # A randomized MAC that starts like one, or a stand-in of another address: not one.
    assert stand_in_ip("02:00:5e:10:00:01", [PLUG_IP]) is None
    assert stand_in_ip(PLUG_STAND_IN, ["192.168.1.6"]) is None
    assert stand_in_ip(PLUG, [PLUG_IP]) is None


async def test_probes_merge_by_mac_and_show_one_total(
    hass: HomeAssistant, tmp_path: Path, fake_probe: Any
) -> None:
    capture = scripted_entry(tmp_path, "capture", fake_probe, [
        hello(),
        snapshot(1, 1010.0, [
            row(PLUG, ips=[PLUG_IP], tx_bytes=1000, rx_bytes=4000, tx_packets=10, rx_packets=20),
            row(CAMERA, ips=["192.168.1.7"], tx_bytes=100, rx_bytes=200),
        ]),
        hang(),
    ])  # fmt: skip
    await setup_entry(hass, capture)
    await wait_for(hass, lambda: capture.runtime_data.coordinator.data is not None
                   and PLUG in capture.runtime_data.coordinator.data.devices)  # fmt: skip
    go = tmp_path / "go"
    flows = scripted_entry(tmp_path, "flows", fake_probe, [
        hello(),
        {"fake": "wait_file", "path": str(go)},
        snapshot(1, 1010.0, [
            row(PLUG_STAND_IN, ips=[PLUG_IP], name=PLUG_IP, tx_bytes=900, rx_bytes=5000),
            row(CAMERA, ips=["192.168.1.7"], tx_bytes=300, rx_bytes=50),
        ]),
        hang(),
    ])  # fmt: skip
    await setup_entry(hass, flows)
    go.touch()
    coordinator = flows.runtime_data.coordinator
    await wait_for(hass, lambda: coordinator.data is not None and PLUG in coordinator.data.devices,
                   what="the stand-in resolved to the plug's MAC")  # fmt: skip
    assert PLUG_STAND_IN not in coordinator.data.devices
    assert find_device(hass, mac=PLUG_STAND_IN) is None  # no device of its own
    assert probe_mesh(hass).aliases == {PLUG_STAND_IN: PLUG}
    plug = find_device(hass, mac=PLUG)
    assert plug is not None
    if not ONE_DEVICE_PER_ENTRY:  # the registry joins the entries by the MAC connection
        assert device_config_entries(plug) >= {capture.entry_id, flows.entry_id}

    # One total per direction, the largest view; each probe's own counter as attributes.
    await wait_for(hass, lambda: _sensor(hass, capture, PLUG, "data_sent_all_probes") is not None,
                   what="the totals")  # fmt: skip
    # One Home Assistant device per MAC on every supported version (2026 keeps devices
    # per config entry and no longer joins them by connection), carrying both entries'
    # entities.
    await wait_for(
        hass,
        lambda: bool(_entities_of(hass, flows, CAMERA) and _entities_of(hass, flows, PLUG)),
        what="the flow entry's entities",
    )
    for mac in (PLUG, CAMERA):
        devices = _devices_with(hass, mac)
        assert len(devices) == 1, (mac, devices)
        for entry in (capture, flows):
            entities = _entities_of(hass, entry, mac)
            assert entities, (mac, entry.title)
            # The presence tracker links to a device by its own rules (device_tracker's
            # scanner entities): the sensors and switches carry the device.
            attached = {e.device_id for e in entities if e.domain != "device_tracker"}
            assert attached == {devices[0].id}, (mac, entry.title)
    assert (
        flows.runtime_data.coordinator.devices.device_ids()[CAMERA]
        == _devices_with(hass, CAMERA)[0].id
    )
    sent = _sensor(hass, capture, PLUG, "data_sent_all_probes")
    received = _sensor(hass, capture, PLUG, "data_received_all_probes")
    assert float(sent.state) == 1000 / 1000  # kB: max(1000, 900) bytes
    assert float(received.state) == 5000 / 1000
    assert sent.attributes["per_probe_sent"] == {"capture": 1000, "flows": 900}
    assert received.attributes["per_probe_received"] == {"capture": 4000, "flows": 5000}
    camera = _sensor(hass, capture, CAMERA, "data_sent_all_probes")
    assert float(camera.state) == 300 / 1000
    # One pair per device, from one entry: not a pair per probe.
    assert _sensor(hass, flows, CAMERA, "data_sent_all_probes") is None
    totals = [
        e for e in er.async_get(hass).entities.values()
        if e.unique_id.endswith(f"{CAMERA}-data_sent_all_probes")
    ]  # fmt: skip
    assert len(totals) == 1
    mesh = probe_mesh(hass)
    assert mesh.shared == {PLUG, CAMERA}
    await hass.config_entries.async_unload(flows.entry_id)
    await hass.async_block_till_done()
    assert mesh.shared == set()
    assert mesh.seen_by(CAMERA) == [capture.entry_id]
    await hass.config_entries.async_unload(capture.entry_id)
    await hass.async_block_till_done()


async def test_a_dhcp_lease_in_home_assistant_names_an_address_only_device(
    hass: HomeAssistant, tmp_path: Path, fake_probe: Any
) -> None:
    # What a router integration's tracker shows for a DHCP lease.
    lease = {"ip": "192.168.1.9", "mac": "AA:BB:CC:00:00:09", "source_type": "router"}
    hass.states.async_set("device_tracker.phone", "home", lease)
    # Two trackers claiming one address: TOTEM does not pick one.
    hass.states.async_set("device_tracker.a", "home", {"ip": PLUG_IP, "mac": "aa:bb:cc:00:00:0a"})
    hass.states.async_set("device_tracker.b", "home", {"ip": PLUG_IP, "mac": "aa:bb:cc:00:00:0b"})
    flows = scripted_entry(tmp_path, "flows", fake_probe, [
        hello(),
        snapshot(1, 1010.0, [
            row(PHONE_STAND_IN, ips=["192.168.1.9"], name="192.168.1.9", tx_bytes=10),
            row(PLUG_STAND_IN, ips=[PLUG_IP], name=PLUG_IP, tx_bytes=10),
        ]),
        hang(),
    ])  # fmt: skip
    await setup_entry(hass, flows)
    coordinator = flows.runtime_data.coordinator
    await wait_for(hass, lambda: coordinator.data is not None and bool(coordinator.data.devices))
    assert set(coordinator.data.devices) == {"aa:bb:cc:00:00:09", PLUG_STAND_IN}
    assert find_device(hass, mac="aa:bb:cc:00:00:09") is not None
    # A single probe: no totals pair (its own counters are the total).
    assert _sensor(hass, flows, "aa:bb:cc:00:00:09", "data_sent_all_probes") is None
    await hass.config_entries.async_unload(flows.entry_id)
    await hass.async_block_till_done()


def _seen(probe: str, tx: int, peers: set[str]) -> Seen:
    return Seen(probe, tx, tx * 2, tx // 100, tx // 50, True, frozenset(peers))


def test_overlapping_views_take_the_largest_and_disjoint_ones_the_sum() -> None:
    # One path (access point then router): the same conversations, shared peers.
    same_path = [
        _seen("ap", 1000, {"52.1.1.1", "192.168.1.1"}),
        _seen("router", 900, {"52.1.1.1", "8.8.8.8"}),
    ]
    assert not disjoint(same_path)
    # A laptop roaming between two access points: different peers behind each probe.
    roaming = [_seen("ap1", 1000, {"52.1.1.1"}), _seen("ap2", 700, {"140.82.1.1", "1.1.1.1"})]
    assert disjoint(roaming)
    # A probe without peer lists (an older probe): overlap assumed, never double-count.
    assert not disjoint([_seen("ap1", 1000, {"52.1.1.1"}), _seen("old", 700, set())])
    assert not disjoint([_seen("only", 1000, {"52.1.1.1"})])


async def test_totals_sum_disjoint_views_and_keep_the_largest_of_overlapping_ones(
    hass: HomeAssistant,
) -> None:
    mesh = probe_mesh(hass)

    def view(tx: int, peers: list[str]) -> Any:
        return SimpleNamespace(
            tx_bytes=tx, rx_bytes=tx * 2, tx_packets=1, rx_packets=1, online=True,
            top_peers=tuple({"peer": p, "bytes": 10} for p in peers),
        )  # fmt: skip

    mesh._index("a", gone=set(), new={PLUG, CAMERA})
    mesh._index("b", gone=set(), new={PLUG, CAMERA})
    mesh.views = {
        "a": {PLUG: view(1000, ["52.1.1.1"]), CAMERA: view(1000, ["52.1.1.1"])},
        "b": {PLUG: view(700, ["140.82.1.1"]), CAMERA: view(700, ["52.1.1.1", "1.1.1.1"])},
    }
    roaming = mesh.totals(PLUG)
    assert roaming is not None
    assert (roaming.tx_bytes, roaming.rx_bytes) == (1700, 3400)
    assert roaming.attributes()["total_rule"].startswith("sum")
    overlap = mesh.totals(CAMERA)
    assert overlap is not None
    assert (overlap.tx_bytes, overlap.rx_bytes) == (1000, 2000)
    assert overlap.attributes()["total_rule"].startswith("largest")


async def test_the_totals_rule_is_sticky_so_the_total_never_flips_back(
    hass: HomeAssistant,
) -> None:
    """The all-probes sensors are total_increasing: a total switching between sum and
    largest as top-peer lists change would read as meter resets. The sum holds through a
    snapshot without a peer list; a shared peer fixes the largest view for good."""
    mesh = probe_mesh(hass)

    def view(tx: int, peers: list[str]) -> Any:
        return SimpleNamespace(
            tx_bytes=tx, rx_bytes=tx, tx_packets=1, rx_packets=1, online=True,
            top_peers=tuple({"peer": p, "bytes": 10} for p in peers),
        )  # fmt: skip

    mesh._index("a", gone=set(), new={PLUG})
    mesh._index("b", gone=set(), new={PLUG})

    def total(a: tuple[int, list[str]], b: tuple[int, list[str]]) -> tuple[int, str]:
        mesh.views = {"a": {PLUG: view(*a)}, "b": {PLUG: view(*b)}}
        got = mesh.totals(PLUG)
        assert got is not None
        return got.tx_bytes, got.attributes()["total_rule"].split()[0]

    assert total((1000, ["52.1.1.1"]), (700, ["140.82.1.1"])) == (1700, "sum")
    # Probe b restarted: no peer list for a moment. Still the sum (no drop to 1000).
    assert total((1100, ["52.1.1.1"]), (10, [])) == (1110, "sum")
    # Proof of overlap: the same cloud host through both. From now on the largest.
    assert total((1200, ["52.1.1.1"]), (800, ["52.1.1.1"])) == (1200, "largest")
    # Disjoint again later (the top lists moved): still the largest, no jump back up.
    assert total((1300, ["52.1.1.1"]), (900, ["140.82.1.1"])) == (1300, "largest")
    assert mesh.rules[PLUG].startswith("largest")


async def test_the_totals_rules_survive_a_restart_and_a_broken_store(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    hass_storage["totem.mesh"] = {
        "version": 1,
        "data": {
            "aliases": {},
            "rules": {PLUG: RULE_LARGEST, "not a mac": RULE_SUM, CAMERA: "made up"},
        },
    }
    mesh = probe_mesh(hass)
    await mesh.async_load()
    assert mesh.rules == {PLUG: RULE_LARGEST}
