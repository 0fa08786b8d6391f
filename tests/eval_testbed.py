"""The FOSDEM 2021 TOTEM test-bed devices as synthetic frames (DHCP name + OUI + cloud DNS).

We cannot capture them, but we know their evidence; the frames go through the real engine
path (Engine.process -> Identifier), built with tests/traffic/synth.py. The Philips Hue E27
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
    udp,
)

BROADCAST = b"\xff" * 6
ESP_PRL = bytes([1, 3, 28, 6, 15, 44, 46, 47, 31, 33, 121, 43])
WIN_PRL = bytes([1, 3, 6, 15, 31, 33, 43, 44, 46, 47, 119, 121, 249, 252])
UDHCP_PRL = bytes([1, 3, 6, 12, 15, 28, 42])


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


def frames() -> list[Packet]:
    out: list[Packet] = []
    t = 1_700_000_000.0
    for n, dev in enumerate(DEVICES):
        mac = bytes.fromhex(dev.mac.replace(":", ""))
        ip = bytes([192, 168, 1, 10 + n])
        req = dhcp_request(0x1000 + n, mac, dev.hostname, dev.vendor_class, dev.prl, ip)
        frame = eth(BROADCAST, mac, 0x0800, ipv4(b"\0" * 4, b"\xff" * 4, 17, udp(68, 67, req)))
        out.append((t, len(frame), frame, 1))
        ack = dhcp_ack(0x1000 + n, mac, ip, ROUTER_IP)
        frame = eth(mac, ROUTER_MAC, 0x0800, ipv4(ROUTER_IP, ip, 17, udp(67, 68, ack)))
        out.append((t + 0.01, len(frame), frame, 1))
        for k, name in enumerate(dev.domains):
            q = dns_query(n * 16 + k, name)
            frame = eth(ROUTER_MAC, mac, 0x0800, ipv4(ip, ROUTER_IP, 17, udp(40000 + k, 53, q)))
            out.append((t + 0.1 + k, len(frame), frame, 1))
        t += 5
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
