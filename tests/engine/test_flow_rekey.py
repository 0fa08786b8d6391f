"""A flow device known by its address, re-keyed once its MAC is learned: its history follows.

The router's flow records name an address; a record that carries the MAC, or the
router's DHCP lease, later names the MAC behind it. What the detectors learned under
the address key (baseline, inventory, scan windows) must be the MAC's from then on, or
the device learns again from scratch (blind for ``learn_seconds``), is announced as a
new device, and a scan split across the moment is never counted whole.
"""

from __future__ import annotations

from pathlib import Path

from custom_components.totem.engine import netaddr
from custom_components.totem.engine.cli_collect import open_leases
from custom_components.totem.engine.detectors.destinations import prefix_of
from custom_components.totem.engine.detectors.guard import Guard
from custom_components.totem.engine.flow_events import (
    PAIR_SECONDS,
    FlowEngine,
    address_key,
    build_flow_engine,
)
from tests.engine import netflow_synth as syn

EXPORTER = "192.168.1.1"
T0 = 1_700_000_000
LEARN = 600.0
PLUG_IP = "192.168.1.23"
PLUG_MAC = "a4:cf:12:3b:4c:5d"  # an Espressif OUI: a plug once the lease names it
OTHER_MAC = "a4:cf:12:3b:4c:99"
ROUTER_MAC = "02:00:00:00:00:fe"
NOMAC = tuple(f for f in syn.FLOW_FIELDS if f[0] not in (56, 80))
SYN, ACK, SYN_ACK, RST_ACK = 0x02, 0x10, 0x12, 0x14


def _record(src: str, dst: str, sport: int, dport: int, flags: int, mac: str | None,
            dst_mac: str | None = None) -> bytes:  # fmt: skip
    values = syn.flow_values(src, dst, sport, dport, 6, 3, 180, flags=flags,
                             src_mac=mac or "02:00:00:00:00:01",
                             dst_mac=dst_mac or ROUTER_MAC)  # fmt: skip
    return values if mac is not None else values[:-12]


def _datagram(secs: int, seq: int, records: list[bytes], with_mac: bool) -> bytes:
    """A v9 export datagram sent at ``secs``: records end ~8 s before it (synth uptimes)."""
    tid = 256 if with_mac else 300
    fields = syn.FLOW_FIELDS if with_mac else NOMAC
    sets = [syn.template_set(9, tid, fields), syn.data_set(tid, records)]
    return syn.v9(sets, seq, source_id=1 if with_mac else 7, secs=secs)


class _Feed:
    """Feeds datagrams at export time and ticks past the pairing wait, as the probe does."""

    def __init__(self, engine: FlowEngine) -> None:
        self.engine = engine
        self.seq = {True: 0, False: 0}

    def connection(self, secs: int, src: str, dst: str, dport: int, *, mac: str | None = None,
                   answered: bool = True, dst_mac: str | None = None) -> None:  # fmt: skip
        """One TCP connection from ``src``: its record and its reverse, one datagram."""
        sport = 40000 + self.seq[mac is not None] % 20000
        out = _record(src, dst, sport, dport, SYN | ACK if answered else SYN, mac, dst_mac)
        back = _record(dst, src, dport, sport, SYN_ACK | ACK if answered else RST_ACK,
                       dst_mac if dst_mac is not None and mac else (ROUTER_MAC if mac else None),
                       mac)  # fmt: skip
        self.send(secs, [out, back], mac is not None)

    def send(self, secs: int, records: list[bytes], with_mac: bool) -> None:
        self.seq[with_mac] += 1
        payload = _datagram(secs, self.seq[with_mac], records, with_mac)
        self.engine.feed(payload, EXPORTER, float(secs))
        self.engine.tick(secs + PAIR_SECONDS + 1)


def _guard(engine: FlowEngine) -> Guard:
    return next(o for o in engine.observers if isinstance(o, Guard))


def _alerts(engine: FlowEngine, kind: str) -> list[str]:
    return [a.mac for a in engine.snapshot().alerts if a.kind == kind]


def test_a_lease_naming_the_mac_moves_the_baseline_and_the_device_is_not_new(
    tmp_path: Path,
) -> None:
    leases = tmp_path / "dhcp.leases"
    engine = build_flow_engine(LEARN, None, 4096, leases=open_leases(str(leases)))
    feed = _Feed(engine)
    old = address_key(syn.ip4(PLUG_IP))
    # Learning: the plug (by address only) reaches its cloud's network.
    for minute in range(5):
        feed.connection(T0 + 60 * minute, PLUG_IP, "93.184.216.34", 443)
    guard = _guard(engine)
    learned = guard.baselines[old]
    assert prefix_of(syn.ip4("93.184.216.34")) in learned.prefixes
    learn_until = learned.learn_until

    # The router's lease file appears, naming the address's MAC: the device moves now.
    leases.write_text(f"{T0 + 86400} {PLUG_MAC} {PLUG_IP} living-room-plug *\n")
    engine.refresh_leases(force=True)
    mac = netaddr.mac_bytes(PLUG_MAC)
    assert old not in guard.baselines
    assert old not in engine.device_table.records
    moved = guard.baselines[mac]
    assert moved.learn_until == learn_until  # not learning again from scratch
    assert prefix_of(syn.ip4("93.184.216.34")) in moved.prefixes
    assert engine.device_table.records[mac].tx_packets == 5 * 3
    assert engine.rekeyed == 1

    # After learning: the known network is no news, an unknown one is (the device was
    # not made to learn again), and the plug is never announced as a new device.
    after = T0 + int(LEARN) + 60
    feed.connection(after, PLUG_IP, "93.184.216.99", 443)
    assert _alerts(engine, "new_destination") == []
    feed.connection(after + 60, PLUG_IP, "203.0.113.7", 443)
    assert _alerts(engine, "new_destination") == [PLUG_MAC]
    for minute in range(2, 8):  # ticks past the new-device grace and its sweep
        feed.connection(after + 60 * minute, PLUG_IP, "93.184.216.34", 443)
    assert _alerts(engine, "new_device") == []
    rows = [r for r in engine.snapshot().devices if PLUG_IP in r.ips]
    assert [(r.mac, r.tx_packets) for r in rows] == [(PLUG_MAC, 13 * 3)]

    # The lease expires from the file (dnsmasq drops it): the address stays the MAC's.
    leases.write_text("")
    engine.refresh_leases(force=True)
    feed.connection(after + 600, PLUG_IP, "93.184.216.34", 443)
    assert old not in engine.device_table.records
    rows = [r for r in engine.snapshot().devices if PLUG_IP in r.ips]
    assert [(r.mac, r.tx_packets) for r in rows] == [(PLUG_MAC, 14 * 3)]
    assert _alerts(engine, "new_device") == []


def test_a_scan_split_across_the_moment_its_mac_is_learned_is_counted_whole() -> None:
    # 10 ports probed while the exporter named only addresses, 10 more once its
    # records carry MACs: 20 distinct ports, past the 15 a port scan takes.
    engine = build_flow_engine(0.0, None, 4096)
    feed = _Feed(engine)
    scanner, target = "192.168.1.50", "192.168.1.60"
    for port in range(1, 11):
        feed.connection(T0 + port, scanner, target, port, answered=False)
    assert _alerts(engine, "port_scan") == []
    for port in range(11, 21):
        feed.connection(T0 + port, scanner, target, port, answered=False,
                        mac="02:11:22:33:44:55", dst_mac="02:11:22:33:44:66")  # fmt: skip
    assert _alerts(engine, "port_scan") == ["02:11:22:33:44:55"]
    assert engine.rekeyed == 2  # the scanner and its target
    # A later record without MACs (another exporter, the reply direction) is the MAC's:
    # one device in the collector's table and the detectors', not a new address device.
    feed.connection(T0 + 30, scanner, "93.184.216.34", 443)
    keys = {r.mac for r in engine.snapshot().devices if scanner in r.ips}
    assert keys == {"02:11:22:33:44:55"}
    assert address_key(syn.ip4(scanner)) not in engine.device_table.records
    doc = engine.collector.document()
    assert [d["mac"] for d in doc["devices"] if scanner in d["ips"]] == ["02:11:22:33:44:55"]


def test_an_address_a_lease_hands_to_another_mac_moves_no_history(tmp_path: Path) -> None:
    # DHCP handed the address on: the new holder is another device. It learns on its
    # own and is announced; the old MAC keeps what it learned for when it comes back.
    leases = tmp_path / "dhcp.leases"
    leases.write_text(f"{T0 + 86400} {PLUG_MAC} {PLUG_IP} living-room-plug *\n")
    engine = build_flow_engine(LEARN, None, 4096, leases=open_leases(str(leases)))
    feed = _Feed(engine)
    for minute in range(3):
        feed.connection(T0 + 60 * minute, PLUG_IP, "93.184.216.34", 443)
    guard = _guard(engine)
    first, second = netaddr.mac_bytes(PLUG_MAC), netaddr.mac_bytes(OTHER_MAC)
    kept = guard.baselines[first]
    leases.write_text(f"{T0 + 86400} {OTHER_MAC} {PLUG_IP} new-laptop *\n")
    engine.refresh_leases(force=True)
    after = T0 + int(LEARN) + 60
    for minute in range(8):
        feed.connection(after + 60 * minute, PLUG_IP, "198.51.100.9", 443)
    assert guard.baselines[first] is kept
    assert prefix_of(syn.ip4("198.51.100.9")) not in kept.prefixes
    assert prefix_of(syn.ip4("93.184.216.34")) not in guard.baselines[second].prefixes
    assert guard.baselines[second].learning(after)  # its own learning, from its arrival
    assert _alerts(engine, "new_device") == [OTHER_MAC]
    assert engine.rekeyed == 0
    assert engine.device_table.records[first].tx_packets == 3 * 3


def test_a_restored_address_key_baseline_moves_to_the_mac_named_after_a_restart(
    tmp_path: Path,
) -> None:
    # The probe persists the detectors' state by key: a baseline learned under the
    # address key before a restart is the MAC's once this run's first lease names it.
    before = build_flow_engine(LEARN, None, 4096)
    feed = _Feed(before)
    for minute in range(3):
        feed.connection(T0 + 60 * minute, PLUG_IP, "93.184.216.34", 443)
    saved = _guard(before).state()
    assert saved is not None
    leases = tmp_path / "dhcp.leases"
    leases.write_text(f"{T0 + 86400} {PLUG_MAC} {PLUG_IP} living-room-plug *\n")
    after = build_flow_engine(LEARN, None, 4096, leases=open_leases(str(leases)))
    guard = _guard(after)
    guard.restore(saved)
    old, mac = address_key(syn.ip4(PLUG_IP)), netaddr.mac_bytes(PLUG_MAC)
    assert old in guard.baselines
    _Feed(after).connection(T0 + int(LEARN) + 60, PLUG_IP, "93.184.216.99", 443)
    assert old not in guard.baselines
    assert prefix_of(syn.ip4("93.184.216.34")) in guard.baselines[mac].prefixes
    assert _alerts(after, "new_destination") == []


def test_the_routers_mac_on_a_routed_record_names_no_lan_address() -> None:
    # A camera on another VLAN reaches a LAN device through the router: on the LAN's
    # egress its records carry the router's MAC. That MAC forwards the Internet's
    # traffic too, so the camera's address stays its own device, not the router's.
    engine = build_flow_engine(0.0, None, 4096)
    feed = _Feed(engine)
    laptop, laptop_mac, camera = "192.168.1.30", "a4:cf:12:00:00:30", "192.168.20.5"
    for remote in ("8.8.8.8", "1.1.1.1"):
        feed.connection(T0, laptop, remote, 443, mac=laptop_mac, dst_mac=ROUTER_MAC)
    assert engine.device_table.records[netaddr.mac_bytes(ROUTER_MAC)].is_gateway
    feed.connection(T0 + 5, camera, laptop, 8080, mac=ROUTER_MAC, dst_mac=laptop_mac)
    feed.connection(T0 + 10, camera, "93.184.216.34", 443)  # no MACs in this export
    assert address_key(syn.ip4(camera)) in engine.device_table.records
    assert engine.rekeyed == 0
    doc = engine.collector.document()
    own = [(d["mac"], d["tx_packets"]) for d in doc["devices"] if d["mac"] is None]
    assert own == [(None, 3)]  # the camera's MAC-less record, in a device of its own
