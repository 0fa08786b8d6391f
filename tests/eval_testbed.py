"""The FOSDEM 2021 TOTEM test-bed devices as synthetic frames (DHCP name + OUI + cloud DNS).

We cannot capture them, but we know their evidence; the frames go through the real engine
path (Engine.process -> Identifier), built with tests/traffic/synth.py. Behaviour too, over
:data:`HOURS` of traffic: an always-on device takes one lease and keeps its cloud connection
open with a keepalive every :data:`KEEPALIVE` seconds; the battery door sensor sleeps and
wakes :data:`SENSOR_WAKES` times (door opened or closed, hourly heartbeat), each wake a fresh
DHCP lease, a lookup and a few seconds of TLS to its cloud, as a DW2-WiFi does. The Philips Hue E27
bulb is Zigbee, never on IP: not here. MAC suffixes are made up; OUIs are the makers'.
"""

from __future__ import annotations

from dataclasses import dataclass

from custom_components.totem.engine.engine import Engine
from custom_components.totem.engine.sources import Packet
from tests.traffic.synth import (
    ROUTER_IP,
    ROUTER_MAC,
    dhcp_ack,
    dhcp_request,
    dns_query,
    eth,
    ipv4,
    tcp,
    udp,
)

BROADCAST = b"\xff" * 6
ESP_PRL = bytes([1, 3, 28, 6, 15, 44, 46, 47, 31, 33, 121, 43])
WIN_PRL = bytes([1, 3, 6, 15, 31, 33, 43, 44, 46, 47, 119, 121, 249, 252])
UDHCP_PRL = bytes([1, 3, 6, 12, 15, 28, 42])
CLOUD_IP = bytes([203, 0, 113, 10])  # TEST-NET-3: the clouds' address in these frames
HOURS = 2.0
KEEPALIVE = 60.0  # eWeLink, Kasa and Hue clouds keep their connections up with 30-120 s pings
SENSOR_WAKES = 7  # a door opened and closed three times and an hourly heartbeat, in 2 h


@dataclass(frozen=True, slots=True)
class TestbedDevice:
    label: str
    mac: str
    hostname: str
    vendor_class: str
    prl: bytes
    domains: tuple[str, ...]
    expected: tuple[str, ...]  # acceptable types
    note: str = ""
    sleeps: bool = False  # a battery device: wakes briefly, sleeps between


DEVICES: tuple[TestbedDevice, ...] = (
    TestbedDevice(
        "Sonoff S26 socket",
        "5c:cf:7f:01:02:03",
        "ESP_010203",
        "",
        ESP_PRL,
        ("eu-disp.coolkit.cc",),
        ("smart_plug", "iot"),
    ),
    TestbedDevice(
        "Ezviz C6CN camera",
        "44:01:bb:01:02:04",
        "E12345678",
        "",
        UDHCP_PRL,
        ("i.ezvizlife.com",),
        ("camera",),
        "OUI of another Wi-Fi module maker (Shenzhen Bilian) stands in for Sichuan AI-Link",
    ),
    TestbedDevice(
        "Xiaomi Mi LED desk lamp",
        "7c:49:eb:01:02:05",
        "yeelink-light-lamp4_mio0001",
        "",
        ESP_PRL,
        ("ot.io.mi.com",),
        ("light",),
    ),
    TestbedDevice(
        "TP-Link HS100 plug",
        "50:c7:bf:01:02:06",
        "HS100",
        "udhcp 0.9.9-pre",
        UDHCP_PRL,
        ("devs.tplinkcloud.com",),
        ("smart_plug",),
    ),
    TestbedDevice(
        "Dell laptop, Intel Wi-Fi",
        "3c:a9:f4:01:02:07",
        "someone-dell",
        "MSFT 5.0",
        WIN_PRL,
        ("www.google.com",),
        ("laptop",),
    ),
    TestbedDevice(
        "Sonoff DW2-WiFi door sensor",
        "5c:cf:7f:01:02:08",
        "ESP_010208",
        "",
        ESP_PRL,
        ("eu-disp.coolkit.cc",),
        ("sensor",),
        sleeps=True,
    ),
    TestbedDevice(
        "Philips Hue bridge",
        "00:17:88:01:02:09",
        "Philips-hue",
        "udhcp 1.19.4",
        UDHCP_PRL,
        ("bridge.meethue.com",),
        ("hub",),
    ),
    TestbedDevice(
        "FERON insighio ESP32 board", "24:0a:c4:01:02:0a", "espressif", "", ESP_PRL, (), ("iot",)
    ),
)
ROUTER = ("TP-Link router (serves DHCP)", ("router",))


def _lease(t: float, n: int, dev: TestbedDevice, mac: bytes, ip: bytes) -> list[Packet]:
    req = dhcp_request(0x1000 + n, mac, dev.hostname, dev.vendor_class, dev.prl, ip)
    out = [
        _frame(t, eth(BROADCAST, mac, 0x0800, ipv4(b"\0" * 4, b"\xff" * 4, 17, udp(68, 67, req))))
    ]
    ack = dhcp_ack(0x1000 + n, mac, ip, ROUTER_IP)
    out.append(
        _frame(t + 0.01, eth(mac, ROUTER_MAC, 0x0800, ipv4(ROUTER_IP, ip, 17, udp(67, 68, ack))))
    )
    for k, name in enumerate(dev.domains):
        q = dns_query(n * 16 + k, name)
        frame = eth(ROUTER_MAC, mac, 0x0800, ipv4(ip, ROUTER_IP, 17, udp(40000 + k, 53, q)))
        out.append(_frame(t + 0.1 + k, frame))
    return out


def _frame(t: float, frame: bytes) -> Packet:
    return (t, len(frame), frame, 1)


def _cloud(t: float, mac: bytes, ip: bytes, sport: int, seq: int, size: int) -> list[Packet]:
    """One exchange with the cloud on one TCP connection: a message and its answer."""
    up = tcp(sport, 443, seq, 1, 0x18, b"\x17" * size)
    down = tcp(443, sport, 1, seq + size, 0x18, b"\x17" * size)
    return [
        _frame(t, eth(ROUTER_MAC, mac, 0x0800, ipv4(ip, CLOUD_IP, 6, up))),
        _frame(t + 0.05, eth(mac, ROUTER_MAC, 0x0800, ipv4(CLOUD_IP, ip, 6, down))),
    ]


def frames() -> list[Packet]:
    out: list[Packet] = []
    start = 1_700_000_000.0
    end = start + HOURS * 3600
    for n, dev in enumerate(DEVICES):
        mac = bytes.fromhex(dev.mac.replace(":", ""))
        ip = bytes([192, 168, 1, 10 + n])
        t = start + 5 * n
        if dev.sleeps:
            gap = (end - t) / SENSOR_WAKES
            for wake in range(SENSOR_WAKES):
                at = t + wake * gap
                out += _lease(at, n, dev, mac, ip)
                for k in range(3):  # a few seconds of TLS: hello, report, goodbye
                    out += _cloud(at + 1 + k, mac, ip, 50000 + wake, 1 + 300 * k, 300)
        else:
            out += _lease(t, n, dev, mac, ip)
            if dev.domains:
                at, seq = t + 2, 1
                while at < end:
                    out += _cloud(at, mac, ip, 50000, seq, 40)
                    at, seq = at + KEEPALIVE, seq + 40
    out.sort(key=lambda packet: packet[0])
    return out


def run() -> list[tuple[str, tuple[str, ...], str, str]]:
    """(device, expected types, TOTEM's type, its reason) per test-bed device."""
    engine = Engine()
    engine.process(frames())
    engine.flush()
    by_mac = {d["mac"]: d for d in engine.snapshot().to_json(contract_only=True)["devices"]}
    rows = []
    for dev in DEVICES:
        got = by_mac.get(dev.mac, {"type": "unknown", "type_reason": "not seen"})
        rows.append((dev.label, dev.expected, got["type"], got["type_reason"]))
    router = by_mac.get(
        ":".join(f"{b:02x}" for b in ROUTER_MAC), {"type": "unknown", "type_reason": ""}
    )
    rows.append((ROUTER[0], ROUTER[1], router["type"], router["type_reason"]))
    return rows


def report() -> None:
    rows = run()
    ok = sum(got in expected for _, expected, got, _ in rows)
    print(f"\ntest-bed (FOSDEM 2021, synthetic frames): {ok}/{len(rows)} sane types")
    for label, expected, got, reason in rows:
        mark = "ok " if got in expected else "MISS"
        print(f"  {mark} {label:30} want {'|'.join(expected):16} got {got:12} {reason}")
    print("  (Philips Hue E27 bulb: Zigbee, not on IP: skipped)")
