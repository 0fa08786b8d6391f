"""The device page's flow list and top peers (engine/talks.py): built from real frames
through the engine, bounded per device, and checked again on the way in."""

from __future__ import annotations

from typing import Any

from scapy.layers.dns import DNS, DNSQR, DNSRR

from custom_components.totem.engine import talks
from custom_components.totem.engine.engine import Engine, EngineConfig
from custom_components.totem.engine.model import DeviceRow
from custom_components.totem.engine.sources import Packet
from tests.traffic.synth import eth, http_get, ipv4, tcp, tls_client_hello, udp

PLUG = bytes.fromhex("50c7bf000001")
ROUTER = bytes.fromhex("00b56d0608ba")
PLUG_IP = bytes([192, 168, 1, 50])
CLOUD = bytes([203, 0, 113, 7])
API = bytes([198, 51, 100, 9])
NTP = bytes([192, 0, 2, 123])


def frame(src: bytes, dst: bytes, sip: bytes, dip: bytes, l4: bytes, proto: int = 6) -> bytes:
    return eth(dst, src, 0x0800, ipv4(sip, dip, proto, l4))


def packets() -> list[Packet]:
    """The plug: a TLS session to its cloud (big), HTTP to an API, NTP (small)."""
    out: list[Packet] = []

    def add(ts: float, data: bytes) -> None:
        out.append((ts, len(data), data, 1))

    hello = tls_client_hello("a1.tuyaeu.com")
    add(1.0, frame(PLUG, ROUTER, PLUG_IP, CLOUD, tcp(40000, 443, 1, 0, 0x18, hello)))
    for i in range(20):
        data = tcp(443, 40000, 1, 1, 0x18, b"x" * 1000)
        add(1.1 + i * 0.01, frame(ROUTER, PLUG, CLOUD, PLUG_IP, data))
    get = http_get("api.example.net:80", "/", "plug/1")
    add(2.0, frame(PLUG, ROUTER, PLUG_IP, API, tcp(40001, 80, 1, 0, 0x18, get)))
    add(2.1, frame(ROUTER, PLUG, API, PLUG_IP, tcp(80, 40001, 1, 1, 0x18, b"y" * 300)))
    add(3.0, frame(PLUG, ROUTER, PLUG_IP, NTP, udp(50000, 123, b"\x23" + b"\x00" * 47), 17))
    return out


def plug_row(engine: Engine) -> DeviceRow:
    return next(d for d in engine.snapshot().devices if d.mac == PLUG.hex(":"))


def test_flows_and_peers_sorted_by_volume_with_the_domain_the_client_asked_for() -> None:
    engine = Engine(EngineConfig())
    engine.process(packets())
    row = plug_row(engine)
    flows = row.top_flows
    assert [(f["peer"], f["proto"], f["port"]) for f in flows] == [
        ("203.0.113.7", "TCP", 443),
        ("198.51.100.9", "TCP", 80),
        ("192.0.2.123", "UDP", 123),
    ]
    cloud = flows[0]
    assert cloud["domain"] == "a1.tuyaeu.com"
    assert cloud["down"] == 20 * len(packets()[1][2])
    assert cloud["up"] == packets()[0][1]
    assert cloud["packets"] == 21
    assert cloud["live"] is True  # still in the flow table
    assert cloud["local"] is False
    assert flows[1]["domain"] == "api.example.net"  # the Host header without its port
    assert flows[2]["domain"] is None  # NTP names nothing
    assert [p["peer"] for p in row.top_peers] == ["203.0.113.7", "198.51.100.9", "192.0.2.123"]
    assert row.top_peers[0]["up"] + row.top_peers[0]["down"] == cloud["up"] + cloud["down"]

    # Ended flows stay on the list, folded into the record; the counts do not change.
    engine.flush()
    ended = plug_row(engine).top_flows
    assert [(f["peer"], f["up"], f["down"]) for f in ended] == [
        (f["peer"], f["up"], f["down"]) for f in flows
    ]
    assert not any(f["live"] for f in ended)
    # A new flow of the same conversation (another client port) adds to it while live;
    # taking snapshots changes nothing in the engine.
    again = frame(PLUG, ROUTER, PLUG_IP, CLOUD, tcp(40002, 443, 1, 0, 0x18, b"z" * 500))
    engine.process([(9.0, len(again), again, 1)])
    first, second = plug_row(engine).top_flows[0], plug_row(engine).top_flows[0]
    assert first == second
    assert (first["peer"], first["up"], first["live"]) == (
        "203.0.113.7",
        cloud["up"] + len(again),
        True,
    )
    engine.flush()
    assert plug_row(engine).top_flows[0]["up"] == cloud["up"] + len(again)
    # The router's side of the same conversations: peers are the plug's address.
    router = next(d for d in engine.snapshot().devices if d.mac == ROUTER.hex(":"))
    assert {f["peer"] for f in router.top_flows} == {"192.168.1.50"}


def test_a_peer_the_device_named_by_no_payload_is_named_by_the_dns_answer_it_got() -> None:
    # An MQTT or raw TCP client sends no SNI or Host: the answer to its lookup says
    # what the address is; a peer nothing named stays bare.
    answer = bytes(
        DNS(
            id=3,
            qr=1,
            qd=DNSQR(qname="mqtt.example.org"),
            an=DNSRR(rrname="mqtt.example.org", type="A", rdata="198.51.100.77", ttl=600),
        )
    )
    broker, other = bytes([198, 51, 100, 77]), bytes([198, 51, 100, 78])
    out: list[Packet] = []
    for ts, data in (
        (1.0, frame(ROUTER, PLUG, bytes([192, 168, 1, 1]), PLUG_IP, udp(53, 40500, answer), 17)),
        (2.0, frame(PLUG, ROUTER, PLUG_IP, broker, tcp(40600, 8883, 1, 0, 0x18, b"m" * 90))),
        (2.1, frame(ROUTER, PLUG, broker, PLUG_IP, tcp(8883, 40600, 1, 1, 0x18, b"n" * 40))),
        (3.0, frame(PLUG, ROUTER, PLUG_IP, other, tcp(40601, 8883, 1, 0, 0x18, b"o" * 10))),
    ):
        out.append((ts, len(data), data, 1))
    engine = Engine(EngineConfig())
    engine.process(out)
    row = plug_row(engine)
    named = {f["peer"]: f["domain"] for f in row.top_flows if f["port"] == 8883}
    assert named == {"198.51.100.77": "mqtt.example.org", "198.51.100.78": None}
    peers = {p["peer"]: p["domain"] for p in row.top_peers}
    assert {peer: peers[peer] for peer in named} == named


def test_conversations_per_device_are_bounded_and_keep_the_busiest() -> None:
    kept: dict[talks.TalkKey, talks.Talk] = {}
    # A scan: 1,000 one-packet conversations, and one big download among them.
    for i in range(1000):
        size = 10_000_000 if i == 500 else 60
        peer = bytes([198, 18, i // 256, i % 256])
        talks.add(kept, (peer, 6, 443), 60, size, 1, float(i), "TLS", None)
        assert len(kept) <= talks.MAX_TALKS
    assert (bytes([198, 18, 1, 244]), 6, 443) in kept  # i == 500
    flows, peers = talks.top(PLUG, kept, ())
    assert len(flows) == talks.SHOWN_FLOWS
    assert len(peers) == talks.SHOWN_PEERS
    assert flows[0]["peer"] == "198.18.1.244"


def test_what_a_snapshot_carries_is_checked_on_the_way_in() -> None:
    good: dict[str, Any] = {
        "peer": "203.0.113.7",
        "domain": "A1.Tuyaeu.com.",
        "proto": "TCP",
        "port": 443,
        "app": "TLS",
        "up": 10,
        "down": 20,
        "packets": 3,
        "last": 5.0,
        "live": True,
        "local": False,
    }
    hostile = [
        good,
        "not an object",
        {**good, "peer": "x" * 500},
        {**good, "up": -1},
        {**good, "down": float("nan")},
        {**good, "port": 70000},
        {**good, "packets": True},
        {**good, "domain": "<script>", "app": "A" * 500},
    ] + [good] * 100
    row = DeviceRow.from_json({"mac": "50:c7:bf:00:00:01", "top_flows": hostile})
    assert len(row.top_flows) == talks.MAX_IN - 6  # 6 of the first 64 are no entries
    assert row.top_flows[0]["domain"] == "a1.tuyaeu.com"
    last = row.top_flows[1]  # the <script> entry: kept, its domain dropped, app cut
    assert last["domain"] is None
    assert len(last["app"]) == 64
    peers = DeviceRow.from_json({"mac": "50:c7:bf:00:00:01", "top_peers": {"not": "a list"}})
    assert peers.top_peers == []


def test_snapshot_without_talks_keeps_every_other_field() -> None:
    """``analyze`` skips ranking conversations (it prints none): every other field of
    every row must be what the full snapshot gives, DNS-named peers included, and the
    rows must carry no conversations."""
    full_engine = Engine(EngineConfig())
    full_engine.process(packets())
    lean_engine = Engine(EngineConfig())
    lean_engine.process(packets())
    full = full_engine.snapshot().to_json()
    lean = lean_engine.snapshot(with_talks=False).to_json()
    assert any(row["top_flows"] for row in full["devices"])  # the capture has some
    for row in lean["devices"]:
        assert row["top_flows"] == []
        assert row["top_peers"] == []
    strip = ("top_flows", "top_peers")
    assert [{k: v for k, v in r.items() if k not in strip} for r in lean["devices"]] == [
        {k: v for k, v in r.items() if k not in strip} for r in full["devices"]
    ]
    assert {k: v for k, v in lean.items() if k != "devices"} == {
        k: v for k, v in full.items() if k != "devices"
    }
