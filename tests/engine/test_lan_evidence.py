"""General evidence that names no vendor: LAN beacons on unregistered UDP ports, lwIP's
DHCP fingerprint (issue 12, leave-one-vendor-out)."""

from __future__ import annotations

from custom_components.totem.engine import announce
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

T0 = 1_700_000_000.0
DEVICE = bytes.fromhex("020000aabbcc")  # locally administered: no OUI knowledge applies
IP = bytes([192, 168, 1, 50])
WIN_PRL = bytes([1, 3, 6, 15, 31, 33, 43, 44, 46, 47, 119, 121, 249, 252])


def _frame(t: float, frame: bytes) -> Packet:
    return (t, len(frame), frame, 1)


def _beacons(port: int, count: int = 30, every: float = 5.0) -> list[Packet]:
    payload = b"\x00\x01" + b"\x5a" * 60  # an opaque, encrypted-looking announcement
    return [
        _frame(
            T0 + n * every,
            eth(b"\xff" * 6, DEVICE, 0x0800, ipv4(IP, b"\xff" * 4, 17, udp(49152, port, payload))),
        )
        for n in range(count)
    ]


def _lease(prl: bytes, hostname: str = "", vendor_class: str = "") -> list[Packet]:
    req = dhcp_request(9, DEVICE, hostname, vendor_class, prl, IP)
    ack = dhcp_ack(9, DEVICE, IP, ROUTER_IP)
    return [
        _frame(
            T0, eth(b"\xff" * 6, DEVICE, 0x0800, ipv4(b"\0" * 4, b"\xff" * 4, 17, udp(68, 67, req)))
        ),
        _frame(
            T0 + 0.01, eth(DEVICE, ROUTER_MAC, 0x0800, ipv4(ROUTER_IP, IP, 17, udp(67, 68, ack)))
        ),
    ]


def _browsing(sites: int) -> list[Packet]:
    out: list[Packet] = []
    for n in range(sites):
        q = dns_query(100 + n, f"www.site{n}-example.org")
        out.append(
            _frame(
                T0 + 1 + n,
                eth(ROUTER_MAC, DEVICE, 0x0800, ipv4(IP, ROUTER_IP, 17, udp(40000 + n, 53, q))),
            )
        )
        seg = tcp(50000 + n, 443, 1, 1, 0x18, b"\x17" * 200)
        out.append(
            _frame(
                T0 + 1.5 + n,
                eth(ROUTER_MAC, DEVICE, 0x0800, ipv4(IP, bytes([198, 51, 100, n + 1]), 6, seg)),
            )
        )
    return out


def _identify(frames: list[Packet]) -> tuple[str, str]:
    engine = Engine()
    engine.process(sorted(frames, key=lambda p: p[0]))
    engine.flush()
    dev = next(d for d in engine.snapshot().to_json()["devices"] if d["mac"] == "02:00:00:aa:bb:cc")
    return dev["type"], dev["type_reason"]


def test_beacon_ports_leave_out_general_software() -> None:
    assert announce.is_beacon("255.255.255.255", 38899)
    assert announce.is_beacon("192.168.1.255", 6667)
    assert not announce.is_beacon("255.255.255.255", 17500)  # Dropbox LAN sync
    assert not announce.is_beacon("255.255.255.255", 57621)  # Spotify Connect
    assert not announce.is_beacon("255.255.255.255", 137)  # NetBIOS: privileged port
    assert not announce.is_beacon("192.168.1.20", 38899)  # unicast


def test_a_box_that_only_beacons_on_the_lan_is_iot() -> None:
    got, reason = _identify(_beacons(38899))
    assert got == "iot", reason
    assert "beacons on the LAN, no Internet" in reason


def test_a_beacon_alone_does_not_decide_once_the_device_reaches_the_internet() -> None:
    got, reason = _identify(_beacons(38899) + _browsing(12))
    assert got != "iot", reason


def test_dropbox_lan_sync_is_no_beacon() -> None:
    got, reason = _identify(_beacons(17500))
    assert got == "unknown", reason
    assert "beacon" not in reason


def test_a_windows_laptop_broadcasting_stays_a_computer() -> None:
    frames = _lease(WIN_PRL, "someone-thinkpad", "MSFT 5.0") + _beacons(38899) + _browsing(12)
    got, reason = _identify(frames)
    assert got in ("laptop", "desktop"), reason


def test_lwip_dhcp_fingerprint_is_microcontroller_firmware() -> None:
    got, reason = _identify(_lease(bytes([1, 3, 28, 6])))
    assert got == "iot", reason
    assert "lwIP" in reason
    got, reason = _identify(_lease(bytes([1, 3, 28, 6, 42])))
    assert got == "iot", reason
    got, reason = _identify(_lease(bytes([1, 3, 28, 6, 15, 44])))  # another stack's list
    assert "lwIP" not in reason
