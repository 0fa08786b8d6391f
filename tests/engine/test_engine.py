"""The hot path: decoding, flows, device counters, bounds."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from custom_components.totem.engine.engine import Engine, EngineConfig
from custom_components.totem.engine.sources import (
    LINKTYPE_LINUX_SLL,
    LINKTYPE_LINUX_SLL2,
    Packet,
)
from tests.conftest import VENDORED_PCAPS
from tests.engine.helpers import analyze_files, send_command
from tests.traffic.synth import eth, ipv4, tcp, udp

A = bytes.fromhex("0200000000aa")
B = bytes.fromhex("0200000000bb")
GW = bytes.fromhex("0200000000ee")
IP_A = bytes([192, 168, 1, 10])
IP_B = bytes([192, 168, 1, 20])


def udp_frame(src: bytes, dst: bytes, sip: bytes, dip: bytes, sport: int, dport: int) -> bytes:
    return eth(dst, src, 0x0800, ipv4(sip, dip, 17, udp(sport, dport, b"payload")))


def run(frames: list[Packet], **config: object) -> Engine:
    engine = Engine(EngineConfig(**config))  # type: ignore[arg-type]
    engine.process(frames)
    return engine


def device(engine: Engine, mac: bytes) -> dict[str, object]:
    snap = engine.snapshot()
    by_mac = {d.mac: d for d in snap.devices}
    return by_mac[mac.hex(":")].to_json()


def test_reply_joins_the_initiators_flow() -> None:
    fwd = udp_frame(A, B, IP_A, IP_B, 5000, 53)
    rev = udp_frame(B, A, IP_B, IP_A, 53, 5000)
    engine = run([(1.0, len(fwd), fwd, 1), (1.1, len(rev), rev, 1), (1.2, len(fwd), fwd, 1)])
    assert engine.stats.flows_total == 1
    a = device(engine, A)
    assert (a["tx_packets"], a["rx_packets"], a["flows"]) == (2, 1, 1)
    assert a["tx_bytes"] == 2 * len(fwd)
    assert a["remote_hosts"] == 1
    assert a["ips"] == ["192.168.1.10"]


def test_vlan_tagged_frames_are_decoded() -> None:
    inner = ipv4(IP_A, IP_B, 17, udp(1, 2, b"x"))
    tagged = B + A + b"\x81\x00\x00\x05\x08\x00" + inner
    qinq = B + A + b"\x88\xa8\x00\x07\x81\x00\x00\x05\x08\x00" + inner
    engine = run([(1.0, len(tagged), tagged, 1), (2.0, len(qinq), qinq, 1)])
    assert engine.stats.flows_total == 1  # same 5-tuple and MAC pair behind both tag stacks
    assert device(engine, A)["tx_bytes"] == len(tagged) + len(qinq)
    assert engine.stats.malformed == engine.stats.truncated == 0


def test_linux_cooked_captures_count_the_sender() -> None:
    ip = ipv4(IP_A, IP_B, 17, udp(1, 2, b"x"))
    sll = struct.pack("!HHH", 4, 1, 6) + A + b"\0\0" + b"\x08\x00" + ip
    sll2 = b"\x08\x00\0\0" + struct.pack("!IHBB", 2, 1, 4, 6) + A + b"\0\0" + ip
    engine = run(
        [(1.0, len(sll), sll, LINKTYPE_LINUX_SLL), (2.0, len(sll2), sll2, LINKTYPE_LINUX_SLL2)]
    )
    snap = engine.snapshot()
    assert [d.mac for d in snap.devices] == [A.hex(":")]
    assert snap.devices[0].tx_packets == 2
    assert snap.devices[0].ips == ["192.168.1.10"]


def test_ipv6_extension_headers_and_fragments() -> None:
    payload = udp(546, 547, b"dhcpv6")
    hop_by_hop = bytes([44, 0]) + b"\0" * 6  # next header: fragment
    frag_first = bytes([17, 0]) + struct.pack("!HI", 0x0001, 7)  # offset 0, more fragments
    frag_later = bytes([17, 0]) + struct.pack("!HI", 0x0010, 7)  # offset 2 (x8 bytes)
    src = bytes.fromhex("fe80000000000000000000fffe0000aa")
    dst = bytes.fromhex("ff020000000000000000000000010002")

    def v6(ext: bytes, body: bytes) -> bytes:
        hdr = struct.pack("!IHBB", 0x60000000, len(ext) + len(body), 0, 64) + src + dst
        return eth(bytes.fromhex("333300010002"), A, 0x86DD, hdr + ext + body)

    first = v6(hop_by_hop + frag_first, payload)
    later = v6(hop_by_hop + frag_later, b"more")
    engine = run([(1.0, len(first), first, 1), (1.1, len(later), later, 1)])
    assert engine.stats.fragments == 2
    a = device(engine, A)
    assert a["tx_packets"] == 2
    assert a["ips"] == ["fe80::ff:fe00:aa"]


def test_ipv4_fragments_are_counted_and_never_raise() -> None:
    body = udp(1, 2, b"x" * 40)
    first = bytearray(eth(B, A, 0x0800, ipv4(IP_A, IP_B, 17, body)))
    first[20:22] = b"\x20\x00"  # MF, offset 0
    later = bytearray(eth(B, A, 0x0800, ipv4(IP_A, IP_B, 17, b"y" * 16)))
    later[20:22] = b"\x00\x06"  # offset 48 bytes, last fragment
    engine = run([(1.0, len(first), bytes(first), 1), (1.1, len(later), bytes(later), 1)])
    assert engine.stats.fragments == 2
    assert device(engine, A)["tx_packets"] == 2


def test_truncated_and_malformed_frames_are_counted_and_still_attributed() -> None:
    good = udp_frame(A, B, IP_A, IP_B, 1, 2)
    truncated = good[:20]
    bad_version = bytearray(good)
    bad_version[14] = 0x75
    runt = b"\x01\x02\x03"
    engine = run(
        [
            (1.0, len(good), truncated, 1),
            (1.1, len(good), bytes(bad_version), 1),
            (1.2, 3, runt, 1),
        ]
    )
    assert engine.stats.truncated == 1
    assert engine.stats.malformed == 2
    a = device(engine, A)
    assert (a["tx_packets"], a["tx_bytes"]) == (2, 2 * len(good))
    assert a["protocols"] == {"Malformed": 2 * len(good)}


def test_idle_flows_expire_on_packet_time() -> None:
    f1 = udp_frame(A, B, IP_A, IP_B, 1000, 53)
    f2 = udp_frame(A, B, IP_A, IP_B, 1001, 53)
    engine = run([(0.0, 60, f1, 1), (500.0, 60, f2, 1)], flow_idle_timeout=60.0)
    assert len(engine.flow_table) == 1  # the first one expired 440 s before the second arrived
    assert device(engine, A)["tx_packets"] == 2  # its counters were folded, not lost


def test_active_timeout_exports_long_flows_without_double_counting() -> None:
    frames = [(float(t), 60, udp_frame(A, B, IP_A, IP_B, 1, 2), 1) for t in range(0, 100, 5)]
    engine = run(frames, flow_active_timeout=30.0, flow_idle_timeout=1000.0)
    assert device(engine, A)["tx_packets"] == 20
    engine.flush()
    assert device(engine, A)["tx_packets"] == 20


def test_flow_table_bound_evicts_and_counts_but_keeps_device_counters_exact() -> None:
    frames = [(i * 0.001, 60, udp_frame(A, B, IP_A, IP_B, 1024 + i, 80), 1) for i in range(5000)]
    engine = run(frames, max_flows=1000)
    assert len(engine.flow_table) <= 1000
    assert engine.stats.flows_evicted >= 4000
    a = device(engine, A)
    assert a["tx_packets"] == 5000
    assert a["flows"] == 5000


def test_device_table_bound_is_counted() -> None:
    frames = []
    for i in range(3000):
        mac = bytes([2, 0, 0, 0, i >> 8, i & 0xFF])
        frames.append((i * 0.01, 60, udp_frame(mac, B, IP_A, IP_B, 1, 2), 1))
    engine = run(frames, max_devices=500)
    assert len(engine.devices) <= 500
    assert engine.stats.devices_evicted >= 2500


def test_gateway_keeps_only_its_own_addresses() -> None:
    frames = []
    for i in range(5):
        internet = bytes([8, 8, 4, i])
        fwd = eth(GW, A, 0x0800, ipv4(IP_A, internet, 6, tcp(40000 + i, 443, 1, 0, 2)))
        rev = eth(A, GW, 0x0800, ipv4(internet, IP_A, 6, tcp(443, 40000 + i, 1, 1, 0x12)))
        frames += [(i + 0.0, len(fwd), fwd, 1), (i + 0.1, len(rev), rev, 1)]
    arp_reply = eth(
        A,
        GW,
        0x0806,
        struct.pack("!HHBBH6s4s6s4s", 1, 0x800, 6, 4, 2, GW, b"\xc0\xa8\x01\x01", A, IP_A),
    )
    frames.append((9.0, len(arp_reply), arp_reply, 1))
    engine = run(frames)
    assert device(engine, GW)["ips"] == ["192.168.1.1"]
    assert device(engine, A)["ips"] == ["192.168.1.10"]
    assert device(engine, GW)["arp_packets"] == 1


@pytest.mark.parametrize("path", sorted(VENDORED_PCAPS.glob("*.pcap*")), ids=lambda p: p.name)
def test_protocol_bytes_add_up_to_each_devices_traffic(path: Path) -> None:
    for dev in analyze_files([path]).devices:
        assert sum(dev.protocols.values()) == dev.tx_bytes + dev.rx_bytes, dev.mac


def test_snapshot_does_not_change_the_engine() -> None:
    frames = [(float(i), 60, udp_frame(A, B, IP_A, IP_B, 1, 2), 1) for i in range(10)]
    engine = run(frames)
    first = engine.snapshot().to_json()
    second = engine.snapshot().to_json()
    assert first == second
    assert first["devices"][0]["tx_packets"] == 10


def test_discovery_command_names_the_device_that_owns_the_address() -> None:
    frames = [(1.0, 60, udp_frame(A, B, IP_A, IP_B, 5000, 53), 1)]
    engine = run(frames)
    assert send_command(
        engine,
        "discovery",
        {"ip": "192.168.1.10", "service_type": "_googlecast._tcp.local.", "instance": "Kitchen"},
    ).ok
    assert device(engine, A)["name"] == "Kitchen"
    assert not send_command(engine, "discovery", {"ip": "192.168.1.99", "instance": "Nobody"}).ok
    assert not send_command(engine, "discovery", {"mac": "not-a-mac"}).ok


def test_a_device_that_only_answers_is_seen_at_its_address() -> None:
    query = udp_frame(A, B, IP_A, IP_B, 5000, 53)
    answer = udp_frame(B, A, IP_B, IP_A, 53, 5000)
    engine = run([(1.0, 60, query, 1), (1.1, 60, answer, 1)])
    b = engine.snapshot().devices
    by_mac = {d.mac: d for d in b}
    assert by_mac[B.hex(":")].sent_ip
    assert by_mac[B.hex(":")].ips == ["192.168.1.20"]


def test_flows_outliving_their_devices_eviction_still_count() -> None:
    """A MAC flood evicts real devices; their live flows must still land on a record."""
    keep = udp_frame(A, B, IP_A, IP_B, 5000, 53)
    reply = udp_frame(B, A, IP_B, IP_A, 53, 5000)
    frames = [(0.0, 60, keep, 1), (0.0001, 60, reply, 1)]
    for i in range(600):
        mac = bytes([2, 1, 0, 0, i >> 8, i & 0xFF])
        frames.append((0.001 * (i + 1), 60, udp_frame(mac, B, IP_A, IP_B, 1, 2), 1))
    frames.append((1.0, 60, keep, 1))
    engine = run(frames, max_devices=100)
    assert engine.stats.devices_evicted > 0
    engine.flush()
    assert engine.devices[A].tx_packets == 2  # answered devices outlive spoofed ones


PLUG = bytes.fromhex("74da384a0001")  # an Edimax OUI
IP_PLUG = bytes([192, 168, 1, 30])
FIN_ACK, ACK, SYN, SYN_ACK = 0x11, 0x10, 0x02, 0x12


def tcp_frame(
    src: bytes, dst: bytes, sip: bytes, dip: bytes, sport: int, dport: int, flags: int
) -> bytes:
    return eth(dst, src, 0x0800, ipv4(sip, dip, 6, tcp(sport, dport, 1, 1, flags)))


def _reasons(engine: Engine) -> dict[str, str]:
    return {d.mac: d.type_reason for d in engine.snapshot().devices}


@pytest.mark.parametrize("folded", [False, True])
def test_a_server_caught_mid_connection_is_the_server(folded: bool) -> None:
    # The capture begins after the handshake: the plug's FIN from its API port comes
    # first, the phone's ephemeral port answers. The plug serves 10000, the phone nothing.
    first = tcp_frame(PLUG, A, IP_PLUG, IP_A, 10000, 35658, FIN_ACK)
    reply = tcp_frame(A, PLUG, IP_A, IP_PLUG, 35658, 10000, ACK)
    engine = run([(1.0, 60, first, 1), (1.1, 60, reply, 1)])
    if folded:
        engine.flush()
    reasons = _reasons(engine)
    assert "serves TCP 10000 (Edimax plug API)" in reasons[PLUG.hex(":")]
    assert "serves" not in reasons[A.hex(":")]


def test_the_handshake_says_who_serves_and_a_remote_server_is_not_the_router() -> None:
    # With the SYN seen, the initiator is the client even on a high port pair.
    syn = tcp_frame(A, PLUG, IP_A, IP_PLUG, 35658, 10000, SYN)
    syn_ack = tcp_frame(PLUG, A, IP_PLUG, IP_A, 10000, 35658, SYN_ACK)
    engine = run([(1.0, 60, syn, 1), (1.1, 60, syn_ack, 1)])
    engine.flush()
    assert "serves TCP 10000" in _reasons(engine)[PLUG.hex(":")]
    # A remote server's FIN comes through the gateway's MAC: the gateway serves nothing.
    remote = bytes([93, 184, 216, 34])
    fin = tcp_frame(GW, A, remote, IP_A, 10000, 35658, FIN_ACK)
    ack = tcp_frame(A, GW, IP_A, remote, 35658, 10000, ACK)
    engine = run([(1.0, 60, fin, 1), (1.1, 60, ack, 1)])
    engine.flush()
    assert "serves" not in _reasons(engine).get(GW.hex(":"), "")


def test_frame_and_byte_totals_stay_exact_through_every_way_a_flow_leaves_the_table() -> None:
    """The hot loop keeps no engine-wide count: ``packets``/``bytes`` add the live flows'
    counters to what ended, expired, was exported or evicted, and to the non-IP and
    broken frames. Checked against the frames fed, after each batch and after flush."""
    engine = Engine(EngineConfig(flow_idle_timeout=5.0, flow_active_timeout=12.0, max_flows=64))
    arp = eth(b"\xff" * 6, A, 0x0806, b"\x00\x01\x08\x00\x06\x04\x00\x01" + A + IP_A + bytes(10))
    fed = 0
    fed_bytes = 0
    for second in range(60):
        batch: list[Packet] = []
        for i in range(40):
            # Many short flows (expiry, eviction at 64), one long one (active-timeout
            # export), replies, ARP and a truncated frame now and then.
            sport = 1000 + (second * 40 + i) % 300
            batch.append((second + i / 100, 0, udp_frame(A, B, IP_A, IP_B, sport, 53), 1))
            if i % 3 == 0:
                batch.append((second + i / 100, 0, udp_frame(B, A, IP_B, IP_A, 53, sport), 1))
        batch.append((second + 0.5, 0, udp_frame(A, GW, IP_A, IP_B, 4000, 4000), 1))
        batch.append((second + 0.6, 0, arp, 1))
        batch.append((second + 0.7, 0, bytes(9), 1))  # too short for Ethernet: malformed
        for _ts, _wire, frame, _link in batch:
            fed += 1
            fed_bytes += len(frame)
        engine.process(batch)
        assert (engine.packets, engine.bytes) == (fed, fed_bytes), second
    assert engine.stats.flows_evicted > 0
    engine.flush()
    assert (engine.packets, engine.bytes) == (fed, fed_bytes)
    snap = engine.snapshot()
    assert (snap.packets, snap.bytes) == (fed, fed_bytes)


def _address_index_holds(engine: Engine) -> None:
    """Every entry of the address index is the full index's answer for the same frame."""
    table = engine.flow_table
    live = set(map(id, table.flows.values()))
    for addrs, (macs, proto, f, forward) in table.by_addrs.items():
        assert id(f) in live
        assert table.index[macs + addrs + bytes([proto])] == (f, forward)


def test_flows_that_share_addresses_and_ports_keep_their_own_frames() -> None:
    """The hot loop finds an IPv4 TCP/UDP flow by addresses and ports alone and checks the
    MAC pair and protocol: the same 4-tuple between other MACs (a routed copy) and over
    the other transport are other flows. Once the flow that held the address entry ends,
    the one left takes it over, and a new flow under the ended one's key starts afresh."""
    engine = Engine(EngineConfig(flow_idle_timeout=5.0, housekeeping_interval=1.0))
    udp_ab = udp_frame(A, B, IP_A, IP_B, 5000, 53)
    udp_ba = udp_frame(B, A, IP_B, IP_A, 53, 5000)
    routed = udp_frame(A, GW, IP_A, IP_B, 5000, 53)  # the same 4-tuple via the router
    tcp_ab = tcp_frame(A, B, IP_A, IP_B, 5000, 53, 0x10)
    want = {"udp": [0, 0], "routed": [0, 0], "tcp": [0, 0]}
    for step in range(30):
        batch: list[Packet] = []
        ts = float(step)
        if step < 10:  # the first UDP flow goes quiet after ten seconds and expires
            batch += [(ts, 0, udp_ab, 1), (ts + 0.1, 0, udp_ba, 1)]
            want["udp"][0] += 1
            want["udp"][1] += 1
        batch += [(ts + 0.2, 0, routed, 1), (ts + 0.3, 0, tcp_ab, 1), (ts + 0.4, 0, tcp_ab, 1)]
        want["routed"][0] += 1
        want["tcp"][0] += 2
        # Padding frames of other flows push these away from the buffer's end, where
        # every frame takes the general path: the fast path must see them too.
        batch += [(ts + 0.5, 0, udp_frame(B, A, IP_B, IP_A, 7000 + step, 9), 1)] * 3
        engine.process(batch)
        _address_index_holds(engine)
    flows = {(f.dst_mac, f.proto): f for f in engine.live_flows() if f.sport == 5000}
    assert flows.keys() == {(GW, 17), (B, 6)}  # the first UDP flow expired
    assert [flows[GW, 17].fwd_pkts, flows[GW, 17].rev_pkts] == want["routed"]
    assert [flows[B, 6].fwd_pkts, flows[B, 6].rev_pkts] == want["tcp"]
    assert flows[GW, 17].fwd_bytes == want["routed"][0] * len(routed)
    # A flow left on the 4-tuple took the entry over (whichever sent first after the
    # expiry); the first flow's key starts afresh.
    holder = engine.flow_table.by_addrs[IP_A + IP_B + b"\x13\x88\x00\x35"][2]
    assert holder in (flows[GW, 17], flows[B, 6])
    engine.process([(30.0, 0, udp_ab, 1)] + [(30.1, 0, routed, 1)] * 3)
    _address_index_holds(engine)
    fresh = [f for f in engine.live_flows() if f.dst_mac == B and f.proto == 17 and f.sport == 5000]
    assert [(f.fwd_pkts, f.rev_pkts) for f in fresh] == [(1, 0)]
    assert flows[GW, 17].fwd_pkts == want["routed"][0] + 3
    engine.flush()
    assert not engine.flow_table.by_addrs
