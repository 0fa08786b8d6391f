"""General evidence from how a device's IP stack and cloud client behave, naming no vendor
(issue 12, leave-one-vendor-out): lwIP's IGMP report for 224.0.0.1, a quiet device that
reaches the Internet without TLS."""

from __future__ import annotations

import struct

from custom_components.totem.engine import announce, dissect
from custom_components.totem.engine.engine import Engine
from custom_components.totem.engine.sources import Packet
from tests.traffic.synth import (
    ROUTER_IP,
    ROUTER_MAC,
    dns_query,
    eth,
    http_get,
    ipv4,
    tcp,
    tls_client_hello,
    udp,
)

T0 = 1_700_000_000.0
DEVICE = bytes.fromhex("020000aabbcc")  # locally administered: no OUI knowledge applies
IP = bytes([192, 168, 1, 50])
CLOUD_IP = bytes([198, 51, 100, 7])
CLOUD = "api.things-example.net"  # in no table: only behaviour can type it


def _frame(t: float, frame: bytes) -> Packet:
    return (t, len(frame), frame, 1)


def _igmp(kind: int, group: bytes, dst: bytes) -> Packet:
    message = struct.pack("!BBH4s", kind, 0, 0, group)
    multicast_mac = b"\x01\x00\x5e" + bytes([dst[1] & 0x7F, dst[2], dst[3]])
    return _frame(T0, eth(multicast_mac, DEVICE, 0x0800, ipv4(IP, dst, 2, message, ttl=1)))


def _identify(frames: list[Packet]) -> tuple[str, str]:
    engine = Engine()
    engine.process(sorted(frames, key=lambda p: p[0]))
    engine.flush()
    dev = next(d for d in engine.snapshot().to_json()["devices"] if d["mac"] == "02:00:00:aa:bb:cc")
    return dev["type"], dev["type_reason"]


def test_reports_all_systems_reads_the_igmp_type_and_group() -> None:
    all_systems = bytes([224, 0, 0, 1])
    assert announce.reports_all_systems(struct.pack("!BBH4s", 0x16, 0, 0, all_systems))
    assert announce.reports_all_systems(struct.pack("!BBH4s", 0x12, 0, 0, all_systems))  # v1
    assert not announce.reports_all_systems(struct.pack("!BBH4s", 0x11, 0, 0, all_systems))
    assert not announce.reports_all_systems(struct.pack("!BBH4s", 0x16, 0, 0, bytes(4)))
    assert not announce.reports_all_systems(b"\x16\x00\x00\x00\xe0")  # cut off


def test_an_igmp_report_for_all_systems_is_embedded_firmware() -> None:
    all_systems = bytes([224, 0, 0, 1])
    got, reason = _identify([_igmp(0x16, all_systems, all_systems)])
    assert got == "iot", reason
    assert "224.0.0.1" in reason


def test_reports_every_os_sends_say_nothing() -> None:
    ssdp = bytes([239, 255, 255, 250])
    got, reason = _identify([_igmp(0x16, ssdp, ssdp)])  # joining SSDP: any OS does
    assert got == "unknown", reason
    all_systems = bytes([224, 0, 0, 1])
    got, reason = _identify([_igmp(0x11, bytes(4), all_systems)])  # a general query
    assert got == "unknown", reason


def _cloud_client(port: int, payload: bytes) -> list[Packet]:
    q = dns_query(7, CLOUD)
    eapol = eth(ROUTER_MAC, DEVICE, 0x888E, b"\x02\x03\x00\x5f" + b"\x00" * 95)
    return [
        _frame(T0 - 1, eapol),  # its Wi-Fi handshake: every client's, no protocol of its own
        _frame(T0, eth(ROUTER_MAC, DEVICE, 0x0800, ipv4(IP, ROUTER_IP, 17, udp(40000, 53, q)))),
        _frame(
            T0 + 0.5,
            eth(
                ROUTER_MAC,
                DEVICE,
                0x0800,
                ipv4(IP, CLOUD_IP, 6, tcp(50000, port, 1, 1, 0x18, payload)),
            ),
        ),
    ]


def test_a_quiet_device_reaching_its_cloud_over_plain_http_is_iot() -> None:
    got, reason = _identify(_cloud_client(80, http_get(CLOUD, "/register", "client/1.0")))
    assert got == "iot", reason
    assert "without TLS" in reason
    assert "EAPOL" not in reason


def test_the_same_device_over_tls_is_too_little_evidence() -> None:
    got, reason = _identify(_cloud_client(443, b"\x17\x03\x03\x00\x20" + b"\x5a" * 32))
    assert got == "unknown", reason
    assert "without TLS" not in reason


PHONE = bytes.fromhex("0a0000112233")
PHONE_IP = bytes([192, 168, 1, 60])


def _certificate(common_name: bytes) -> bytes:
    """A TLS 1.2 Certificate record whose subject is only a commonName (enough DER)."""
    name = b"\x06\x03\x55\x04\x03" + b"\x13" + bytes([len(common_name)]) + common_name
    body = b"\x0b" + b"\x00\x00" + bytes([len(name)]) + name
    return b"\x16\x03\x03" + len(body).to_bytes(2, "big") + body


def _serves_tls(server_ip: bytes, common_name: bytes) -> list[Packet]:
    """The phone opens TLS to the device, which answers ServerHello then its certificate."""
    hello = b"\x16\x03\x03\x00\x2a\x02" + b"\x00" * 41
    client = tls_client_hello("speaker.local")

    def seg(
        src_mac: bytes, dst_mac: bytes, src: bytes, dst: bytes, sp: int, dp: int, data: bytes
    ) -> bytes:
        return eth(dst_mac, src_mac, 0x0800, ipv4(src, dst, 6, tcp(sp, dp, 1, 1, 0x18, data)))

    return [
        _frame(T0, seg(PHONE, DEVICE, PHONE_IP, server_ip, 52000, 1443, client)),
        _frame(T0 + 0.01, seg(DEVICE, PHONE, server_ip, PHONE_IP, 1443, 52000, hello)),
        _frame(
            T0 + 0.02,
            seg(DEVICE, PHONE, server_ip, PHONE_IP, 1443, 52000, _certificate(common_name)),
        ),
    ]


def test_certificate_names_mac_reads_the_common_name() -> None:
    assert dissect.certificate_names_mac(_certificate(b"020000AABBCC"), DEVICE)
    assert dissect.certificate_names_mac(_certificate(b"02:00:00:aa:bb:cc"), DEVICE)
    assert not dissect.certificate_names_mac(_certificate(b"020000AABBCD"), DEVICE)
    assert not dissect.certificate_names_mac(_certificate(b"nas.example.lan"), DEVICE)
    assert not dissect.certificate_names_mac(tls_client_hello("020000aabbcc"), DEVICE)


def test_a_lan_server_whose_certificate_names_its_mac_is_an_appliance() -> None:
    got, reason = _identify(_serves_tls(IP, b"020000AABBCC"))
    assert got == "iot", reason
    assert "certificate names its MAC" in reason


def test_a_lan_server_with_a_host_name_certificate_says_nothing() -> None:
    got, reason = _identify(_serves_tls(IP, b"nas.example.lan"))
    assert got == "unknown", reason


def test_internet_flows_are_not_followed_past_the_client_hello() -> None:
    # The per-packet cost stays where it was: only a LAN server's answer is read.
    got, reason = _identify(_serves_tls(bytes([198, 51, 100, 9]), b"020000AABBCC"))
    assert "certificate" not in reason, reason
