"""Battery-sensor behaviour (engine/wakes.py): brief wakes and long sleeps make a sensor;
an always-on device, however it renews or reconnects, never is one."""

from __future__ import annotations

import random

import pytest

from custom_components.totem.engine import dissect, wakes
from custom_components.totem.engine.engine import Engine
from custom_components.totem.engine.evidence import Evidence, TrafficSummary
from custom_components.totem.engine.sources import Packet
from tests.traffic.synth import (
    ROUTER_IP,
    ROUTER_MAC,
    dhcp_ack,
    dhcp_request,
    eth,
    ipv4,
    tcp,
    udp,
)

ESP_PRL = bytes([1, 3, 28, 6, 15, 44, 46, 47, 31, 33, 121, 43])
CLOUD = bytes([203, 0, 113, 20])
T0 = 1_700_000_000.0


def _frame(t: float, frame: bytes) -> Packet:
    return (t, len(frame), frame, 1)


def _lease(t: float, mac: bytes, ip: bytes, renew: bool) -> list[Packet]:
    """A DHCP REQUEST and its ACK: from scratch (INIT-REBOOT) or a renewal from ``ip``."""
    req = bytearray(dhcp_request(7, mac, "ESP_0A0B0C", "", ESP_PRL, ip))
    if renew:
        req[12:16] = ip  # ciaddr: a bound client renewing its lease
    src, dst = (ip, ROUTER_IP) if renew else (b"\0" * 4, b"\xff" * 4)
    out = [_frame(t, eth(b"\xff" * 6, mac, 0x0800, ipv4(src, dst, 17, udp(68, 67, bytes(req)))))]
    ack = dhcp_ack(7, mac, ip, ROUTER_IP)
    out.append(
        _frame(t + 0.01, eth(mac, ROUTER_MAC, 0x0800, ipv4(ROUTER_IP, ip, 17, udp(67, 68, ack))))
    )
    return out


def _exchange(t: float, mac: bytes, ip: bytes, sport: int, size: int) -> list[Packet]:
    up = tcp(sport, 443, 1, 1, 0x18, b"\x17" * size)
    down = tcp(443, sport, 1, 1, 0x18, b"\x17" * size)
    return [
        _frame(t, eth(ROUTER_MAC, mac, 0x0800, ipv4(ip, CLOUD, 6, up))),
        _frame(t + 0.05, eth(mac, ROUTER_MAC, 0x0800, ipv4(CLOUD, ip, 6, down))),
    ]


def _type_of(frames: list[Packet], mac: bytes) -> tuple[str, str]:
    engine = Engine()
    engine.process(sorted(frames, key=lambda p: p[0]))
    engine.flush()
    text = ":".join(f"{b:02x}" for b in mac)
    dev = next(d for d in engine.snapshot().to_json()["devices"] if d["mac"] == text)
    return dev["type"], dev["type_reason"]


def sleeping_sensor(wakes_n: int, gap: float, awake: float, size: int) -> list[Packet]:
    mac, ip = bytes.fromhex("5ccf7f0a0b0c"), bytes([192, 168, 1, 40])
    out: list[Packet] = []
    for n in range(wakes_n):
        at = T0 + n * gap
        out += _lease(at, mac, ip, renew=False)
        steps = max(1, int(awake))
        for k in range(steps):
            out += _exchange(at + 1 + k, mac, ip, 50000 + n, size)
    return out


def always_on_plug(
    hours: float, keepalive: float, lease: float, reconnects: int, rng: random.Random
) -> list[Packet]:
    """A plug that stays up: one lease, renewals at half the lease, a cloud connection with
    a keepalive, and ``reconnects`` Wi-Fi drops (a fresh lease and a new connection)."""
    mac, ip = bytes.fromhex("5ccf7f0a0b0c"), bytes([192, 168, 1, 40])
    end = T0 + hours * 3600
    drops = sorted(rng.uniform(T0 + 600, end) for _ in range(reconnects))
    out = _lease(T0, mac, ip, renew=False)
    renew = T0 + lease / 2
    while renew < end:
        out += _lease(renew, mac, ip, renew=True)
        renew += lease / 2
    at, sport = T0 + 2, 50000
    for drop in [*drops, end]:
        while at < drop:
            out += _exchange(at, mac, ip, sport, 40)
            at += keepalive * rng.uniform(0.9, 1.1)
        if drop < end:
            out += _lease(drop, mac, ip, renew=False)
            sport += 1
            at = drop + 3
    return out


def test_a_lease_from_scratch_is_a_wake_a_renewal_is_not() -> None:
    ev = Evidence(T0, T0)
    mac = bytes.fromhex("5ccf7f0a0b0c")
    fresh = dissect.parse_dhcp(dhcp_request(1, mac, "x", "", ESP_PRL, bytes([192, 168, 1, 9])))
    assert fresh is not None
    raw = bytearray(dhcp_request(1, mac, "x", "", ESP_PRL, bytes([192, 168, 1, 9])))
    raw[12:16] = bytes([192, 168, 1, 9])
    renewal = dissect.parse_dhcp(bytes(raw))
    assert renewal is not None
    wakes.note_dhcp(ev, T0, fresh)
    wakes.note_dhcp(ev, T0 + 4, fresh)  # a retry of the same wake
    wakes.note_dhcp(ev, T0 + 1800, renewal)
    assert ev.wakes == 1
    wakes.note_dhcp(ev, T0 + 3600, fresh)
    assert (ev.wakes, ev.first_wake, ev.last_wake) == (2, T0, T0 + 3600)


def test_sleeps_needs_every_condition() -> None:
    ev = Evidence(T0, T0)
    ev.wakes, ev.first_wake, ev.last_wake = 4, T0, T0 + 3 * 1200
    quiet = TrafficSummary(tx_bytes=20_000, rx_bytes=20_000, longest_flow=8.0)
    assert wakes.sleeps(ev, quiet)
    held = TrafficSummary(tx_bytes=20_000, rx_bytes=20_000, longest_flow=1800.0)
    assert not wakes.sleeps(ev, held)  # a connection held open: awake
    clip = TrafficSummary(tx_bytes=4_000_000, rx_bytes=20_000, longest_flow=30.0)
    assert not wakes.sleeps(ev, clip)  # a battery camera uploading clips
    ev.last_wake = T0 + 3 * 60
    assert not wakes.sleeps(ev, quiet)  # a reboot loop, no sleep between
    ev.wakes, ev.last_wake = 2, T0 + 7200
    assert not wakes.sleeps(ev, quiet)  # two wakes are no pattern


def test_testbed_door_sensor_is_a_sensor_and_the_plug_is_not() -> None:
    from tests import eval_testbed

    rows = {label: (got, reason) for label, _, got, reason in eval_testbed.run()}
    got, reason = rows["Sonoff DW2-WiFi door sensor"]
    assert got == "sensor"
    assert "wakes briefly" in reason
    got, reason = rows["Sonoff S26 socket"]
    assert got in ("smart_plug", "iot")
    assert "wakes briefly" not in reason


@pytest.mark.parametrize("seed", range(12))
def test_an_always_on_plug_is_never_a_sensor(seed: int) -> None:
    rng = random.Random(seed)
    frames = always_on_plug(
        hours=rng.choice((1.0, 3.0, 6.0)),
        keepalive=rng.choice((15.0, 30.0, 60.0, 120.0)),
        lease=rng.choice((1800.0, 3600.0, 7200.0, 86400.0)),  # dnsmasq's 1 h to a day
        reconnects=rng.randrange(0, 8),
        rng=rng,
    )
    got, reason = _type_of(frames, bytes.fromhex("5ccf7f0a0b0c"))
    assert got != "sensor", reason
    assert "wakes briefly" not in reason


@pytest.mark.parametrize("keepalive", [45.0, 150.0, 300.0])
def test_a_plug_with_flaky_wifi_is_no_sensor(keepalive: float) -> None:
    """Six reconnects in three hours, each a fresh lease: the traffic between them (one
    held connection, or a new flow per keepalive past the flow table's idle timeout)
    shows it never slept."""
    frames = always_on_plug(3.0, keepalive, 86400.0, 6, random.Random(5))
    got, reason = _type_of(frames, bytes.fromhex("5ccf7f0a0b0c"))
    assert got != "sensor", reason


@pytest.mark.parametrize(
    ("wakes_n", "gap", "awake"), [(3, 900.0, 3), (6, 600.0, 8), (12, 3600.0, 20)]
)
def test_a_sleeping_device_is_a_sensor(wakes_n: int, gap: float, awake: int) -> None:
    got, reason = _type_of(sleeping_sensor(wakes_n, gap, awake, 300), bytes.fromhex("5ccf7f0a0b0c"))
    assert got == "sensor", reason
    assert "wakes briefly" in reason


def test_a_device_that_wakes_to_upload_megabytes_is_no_sensor() -> None:
    got, reason = _type_of(sleeping_sensor(5, 900.0, 20, 60_000), bytes.fromhex("5ccf7f0a0b0c"))
    assert got != "sensor", reason
