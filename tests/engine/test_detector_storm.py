"""Hostile volumes: alert storms stay bounded and aggregated, big MAC floods still alert,
and an alert says how sure its attribution is."""

from __future__ import annotations

import struct
from collections.abc import Iterator

import pytest

from custom_components.totem.engine.detectors.guard import MAX_ALERTS, attach_detectors
from custom_components.totem.engine.engine import Engine, EngineConfig
from custom_components.totem.engine.sources import Packet
from tests.traffic.synth import BROADCAST, ROUTER_IP, ROUTER_MAC, arp, dhcp_ack, eth, ipv4, tcp, udp

T0 = 1_700_000_000.0


def _random_mac(i: int) -> bytes:
    return b"\x02" + struct.pack("!I", 0x10000000 + i) + b"\x01"


def _batches(frames: Iterator[Packet], size: int = 4096) -> Iterator[list[Packet]]:
    batch: list[Packet] = []
    for frame in frames:
        batch.append(frame)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _run(frames: Iterator[Packet], end: float) -> Engine:
    engine = Engine(EngineConfig(learn_seconds=0.0))
    attach_detectors(engine)
    ack = dhcp_ack(1, b"\x02" * 6, bytes([192, 168, 1, 9]), ROUTER_IP)
    dhcp = eth(BROADCAST, ROUTER_MAC, 0x0800, ipv4(ROUTER_IP, b"\xff" * 4, 17, udp(67, 68, ack)))
    claim = eth(BROADCAST, ROUTER_MAC, 0x0806, arp(2, ROUTER_MAC, ROUTER_IP, BROADCAST, ROUTER_IP))
    engine.process([(T0 - 2, len(dhcp), dhcp, 1), (T0 - 1, len(claim), claim, 1)])
    for batch in _batches(frames):
        engine.process(batch)
    quiet = eth(BROADCAST, ROUTER_MAC, 0x0806, arp(2, ROUTER_MAC, ROUTER_IP, BROADCAST, ROUTER_IP))
    engine.process([(end + 30, len(quiet), quiet, 1), (end + 60, len(quiet), quiet, 1)])
    engine.flush()
    return engine


@pytest.mark.parametrize("macs", [20_000, 100_000])
def test_a_mac_flood_larger_than_the_device_table_still_alerts(macs: int):
    def flood() -> Iterator[Packet]:
        for i in range(macs):
            frame = eth(BROADCAST, _random_mac(i), 0x88B5, bytes(46))
            yield (T0 + i * (10.0 / macs), len(frame), frame, 1)

    engine = _run(flood(), T0 + 10)
    floods = [a for a in engine.alerts if a.kind == "mac_flood"]
    assert len(floods) == 1
    assert floods[0].details["new_macs"] >= 40


def test_an_arp_storm_is_one_aggregated_alert_and_memory_stays_bounded():
    frames = 20_000

    def storm() -> Iterator[Packet]:
        for i in range(frames):
            mac = _random_mac(i)
            frame = eth(BROADCAST, mac, 0x0806, arp(2, mac, ROUTER_IP, BROADCAST, ROUTER_IP))
            yield (T0 + i * 0.0005, len(frame), frame, 1)

    engine = _run(storm(), T0 + 10)
    spoofs = [a for a in engine.alerts if a.kind == "arp_spoof"]
    assert len(engine.alerts) <= MAX_ALERTS
    assert len(spoofs) <= 25  # the first few one by one, then one storm alert
    storm_alert = spoofs[-1]
    assert storm_alert.details["storm"] is True
    assert storm_alert.details["sources"] >= 19_000
    assert storm_alert.count >= 19_000
    assert "storm" in storm_alert.message.lower()
    assert "What you can do" in storm_alert.message


def test_the_alert_list_is_bounded_whatever_arrives():
    engine = Engine(EngineConfig(learn_seconds=0.0))
    guard = attach_detectors(engine)
    for i in range(MAX_ALERTS * 3):
        guard.raise_alert(T0 + i * 100.0, _random_mac(i), "host_scan", "warning", "scan")
    assert len(engine.alerts) <= MAX_ALERTS
    assert engine.alerts_trimmed + len(engine.alerts) == MAX_ALERTS * 3


CAMERA = bytes.fromhex("b0c554000001")
CAMERA_IP = bytes([192, 168, 1, 40])


def _syn(
    ts: float, src_mac: bytes, src_ip: bytes, dst_mac: bytes, dst_ip: bytes, sport: int, dport: int
) -> Packet:
    frame = eth(dst_mac, src_mac, 0x0800, ipv4(src_ip, dst_ip, 6, tcp(sport, dport, 1, 0, 0x02)))
    return (ts, len(frame), frame, 1)


def _router_routes(ts: float) -> list[Packet]:
    """The router forwards a few Internet hosts' answers: TOTEM learns it routes."""
    out = []
    for i in range(12):
        frame = eth(
            CAMERA,
            ROUTER_MAC,
            0x0800,
            ipv4(bytes([93, 184, 0, i + 1]), CAMERA_IP, 17, udp(123, 123, b"x" * 48)),
        )
        out.append((ts + i * 0.01, len(frame), frame, 1))
    return out


def test_an_inbound_syn_flood_is_reported_on_the_victim():
    packets = _router_routes(T0 - 5)
    # Spoofed sources, each SYN once, all through the router to the camera's RTSP port.
    for i in range(300):
        src = bytes([45, 64 + i % 50, i // 50, 1 + i % 250])
        packets.append(_syn(T0 + i * 0.02, ROUTER_MAC, src, CAMERA, CAMERA_IP, 1024 + i, 554))
    engine = _run(iter(sorted(packets, key=lambda p: p[0])), T0 + 10)
    floods = [a for a in engine.alerts if a.kind == "syn_flood"]
    assert [(a.mac, a.direction) for a in floods] == [("b0:c5:54:00:00:01", "inbound")]
    assert "from the Internet through port 554" in floods[0].message
    assert floods[0].details["sources"] > 40
    assert all(a.mac != "00:b5:6d:06:08:ba" for a in engine.alerts)  # never the router


NAS = bytes.fromhex("001132000001")
NAS_IP = bytes([192, 168, 1, 20])
TARGET_IP = bytes([192, 168, 1, 30])
TARGET = bytes.fromhex("001132000099")


def _claim(ts: float, mac: bytes, ip: bytes) -> Packet:
    frame = eth(BROADCAST, mac, 0x0806, arp(2, mac, ip, BROADCAST, ip))
    return (ts, len(frame), frame, 1)


def _port_scan(src_ip: bytes) -> list[Packet]:
    return [
        _syn(T0 + i * 0.05, NAS, src_ip, TARGET, TARGET_IP, 50000 + i, 1 + i) for i in range(40)
    ]


def test_a_scan_under_a_forged_mac_is_a_doubtful_attribution():
    # The NAS owns .20 by ARP; frames with its MAC but another address scan a host.
    packets = [_claim(T0 - 10, NAS, NAS_IP), _claim(T0 - 9, TARGET, TARGET_IP)]
    packets += _port_scan(bytes([192, 168, 1, 66]))
    engine = _run(iter(sorted(packets, key=lambda p: p[0])), T0 + 10)
    (scan,) = [a for a in engine.alerts if a.kind == "port_scan"]
    assert scan.mac == "00:11:32:00:00:01"
    assert scan.attribution == "doubtful"


def test_a_scan_from_the_macs_own_address_is_a_confident_attribution():
    packets = [_claim(T0 - 10, NAS, NAS_IP), _claim(T0 - 9, TARGET, TARGET_IP)]
    packets += _port_scan(NAS_IP)
    engine = _run(iter(sorted(packets, key=lambda p: p[0])), T0 + 10)
    (scan,) = [a for a in engine.alerts if a.kind == "port_scan"]
    assert (scan.attribution, scan.direction) == ("confident", "outbound")
