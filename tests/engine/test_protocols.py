"""Application protocol detection: payload signatures first, ports second."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from scapy.layers.inet import TCP, UDP
from scapy.utils import PcapReader

from custom_components.totem.engine import protocols as p
from tests.conftest import any_pcap

TCP_, UDP_ = 6, 17


def flows(path: Path) -> Iterator[tuple[int, int, int, bytes]]:
    """(proto, sport, dport, payload) of every payload packet in a capture."""
    with PcapReader(str(path)) as reader:
        for packet in reader:
            for layer, number in ((TCP, TCP_), (UDP, UDP_)):
                if layer in packet:
                    data = bytes(packet[layer].payload)
                    if data:
                        yield number, packet[layer].sport, packet[layer].dport, data


def detected(capture: str) -> set[str]:
    names = {p.detect(*flow) for flow in flows(any_pcap(capture))}
    names.discard(None)
    return names  # type: ignore[return-value]


def first_payload(capture: str, proto: int, port: int) -> bytes:
    for number, sport, dport, data in flows(any_pcap(capture)):
        if number == proto and port in (sport, dport):
            return data
    raise AssertionError(f"no payload on {proto}/{port} in {capture}")


@pytest.mark.parametrize(
    ("capture", "expected"),
    [
        ("iot_tplink_hs100_plug_setup.pcap", {p.TLS, p.DNS, p.DHCP, p.NTP}),
        ("iot_philips_hue_bridge_setup.pcap", {p.HTTP, p.DNS, p.MDNS, p.SSDP, p.NTP, p.DHCP}),
        ("proto_mqtt_paho_pubsub.pcap", {p.MQTT}),
        ("proto_mqtt_iot_device_ota.pcap", {p.MQTT}),
        ("attack_ssh_password_guessing.pcap", {p.SSH}),
        ("proto_ntp_client_server.pcap", {p.NTP}),
        ("printer_ipp_print_job.pcap", {p.IPP}),
        ("iot_tuya_lan_discovery.pcap", {p.TUYA}),
        ("iot_google_home_tplink_shp_discovery.pcap", {p.KASA}),
        ("proto_ssdp_notify_router.pcap", {p.SSDP}),
    ],
)
def test_real_captures(capture: str, expected: set[str]) -> None:
    assert detected(capture) >= expected


def test_coap_among_dropbox_noise() -> None:
    names = detected("proto_coap_ipv6_mixed.pcap")
    assert p.COAP in names
    assert p.DROPBOX_LAN in names


def test_mqtt_connect_signature_without_the_port() -> None:
    connect = next(
        data
        for proto, sport, dport, data in flows(any_pcap("proto_mqtt_paho_pubsub.pcap"))
        if data[0] == 0x10
    )
    assert p.detect(TCP_, 50000, 12345, connect) == p.MQTT
    assert p.detect(TCP_, 50000, 8883, connect) == p.MQTT_TLS


def test_tls_client_hello_names_the_port_protocol_when_it_says_more() -> None:
    hello = first_payload("home_iphone_dhcp_mdns_tls.pcap", TCP_, 443)
    assert hello[:2] == b"\x16\x03"  # a TLS handshake record
    assert p.detect(TCP_, 40000, 443, hello) == p.TLS
    assert p.detect(TCP_, 40000, 8883, hello) == p.MQTT_TLS
    assert p.detect(TCP_, 40000, 1443, hello) == p.SONOS
    # The payload wins over a port that says something else.
    assert p.detect(TCP_, 40000, 80, hello) == p.TLS


def test_http_request_line_and_its_port_specialisations() -> None:
    get = b"GET /description.xml HTTP/1.1\r\nHost: 10.0.0.2\r\n\r\n"
    assert p.detect(TCP_, 40000, 80, get) == p.HTTP
    assert p.detect(TCP_, 40000, 443, get) == p.HTTP
    assert p.detect(TCP_, 40000, 631, get) == p.IPP
    assert p.detect(TCP_, 40000, 1400, get) == p.SONOS
    assert p.detect(TCP_, 80, 40000, b"HTTP/1.1 200 OK\r\n\r\n") == p.HTTP
    assert p.detect(TCP_, 40000, 554, b"OPTIONS rtsp://cam/ RTSP/1.0\r\nCSeq: 1\r\n\r\n") == p.RTSP
    assert p.detect(TCP_, 554, 40000, b"RTSP/1.0 200 OK\r\n") == p.RTSP


def test_ssdp_over_udp() -> None:
    search = b'M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: "ssdp:discover"\r\n\r\n'
    assert p.detect(UDP_, 50000, 1900, search) == p.SSDP
    assert p.detect(UDP_, 1900, 50000, b"HTTP/1.1 200 OK\r\nST: upnp:rootdevice\r\n\r\n") == p.SSDP


def test_small_signatures() -> None:
    assert p.detect(TCP_, 2222, 40000, b"SSH-2.0-OpenSSH_9.2\r\n") == p.SSH
    assert p.detect(TCP_, 40000, 2323, b"\xff\xfd\x18\xff\xfd\x20") == p.TELNET
    smb = b"\x00\x00\x00\x45\xfeSMB" + bytes(60)
    assert p.detect(TCP_, 40000, 4455, smb) == p.SMB
    quic = bytes([0xC3]) + b"\x00\x00\x00\x01" + bytes(1195)
    assert p.detect(UDP_, 50000, 443, quic) == p.QUIC
    assert p.detect(TCP_, 40000, 6668, b"\x00\x00\x55\xaa" + bytes(20)) == p.TUYA
    assert p.detect(TCP_, 40000, 9999, b"\x00\x00\x00\x20\xd0\xf2\x81\xf8") == p.KASA
    assert p.detect(TCP_, 2121, 40000, b"220 (vsFTPd 3.0.3)\r\n") == p.FTP
    assert p.detect(TCP_, 25, 40000, b"220 mail ESMTP Postfix\r\n") == "SMTP"
    pair = b"POST /pair-setup HTTP/1.1\r\nHost: Bridge._hap._tcp.local\r\n\r\n"
    assert p.detect(TCP_, 40000, 51827, pair) == p.HOMEKIT
    rtmp = b"\x03" + bytes(1536)
    assert p.detect(TCP_, 40000, 1935, rtmp) == p.RTMP


def test_ports_second_and_none_when_it_cannot_tell() -> None:
    garbage = b"\x8a\x11\x42"
    assert p.detect(TCP_, 40000, 1883, garbage) == p.MQTT
    assert p.detect(UDP_, 40000, 5683, b"\xff") == p.COAP  # port says so, payload did not
    assert p.detect(TCP_, 40000, 45678, garbage) is None
    assert p.detect(UDP_, 40000, 45678, garbage) is None
    assert p.detect(TCP_, 40000, 80, b"") is None
    assert p.detect(1, 0, 0, b"\x08\x00") is None  # not TCP/UDP: the engine names it


def test_by_port_known_ports() -> None:
    assert p.by_port(TCP_, 51515, 443) == p.TLS
    assert p.by_port(TCP_, 443, 51515) == p.TLS
    assert p.by_port(UDP_, 40000, 53) == p.DNS
    assert p.by_port(UDP_, 5353, 5353) == p.MDNS
    assert p.by_port(UDP_, 6667, 6667) == p.TUYA
    assert p.by_port(TCP_, 40000, 9999) == p.KASA
    assert p.by_port(TCP_, 40000, 8009) == p.GOOGLE_CAST


def test_by_port_names_the_service_port() -> None:
    # A well-known port beats an ephemeral one, whichever side it is on.
    assert p.by_port(TCP_, 40000, 113) == "Unknown TCP port 113"
    assert p.by_port(TCP_, 113, 40000) == "Unknown TCP port 113"
    # Two registered ports: the responder's (dport, in flow orientation).
    assert p.by_port(TCP_, 45000, 3475) == "Unknown TCP port 3475"
    assert p.by_port(UDP_, 18641, 8765) == "Unknown UDP port 8765"
    # Both high: the responder's too (a UPnP device listens on 49154, say).
    assert p.by_port(TCP_, 45000, 49154) == "Unknown TCP port 49154"
    # The caller passed the responder first: a non-ephemeral port beats an ephemeral one.
    assert p.by_port(TCP_, 3475, 45000) == "Unknown TCP port 3475"
    assert p.by_port(47, 0, 0) == "Unknown IP protocol 47"


def test_vocabulary_of_issue_3_is_exported() -> None:
    names = {
        p.DNS, p.MDNS, p.LLMNR, p.DHCP, p.DHCPV6, p.NTP, p.SSDP, p.TLS, p.QUIC, p.HTTP, p.MQTT,
        p.MQTT_TLS, p.COAP, p.TELNET, p.SSH, p.FTP, p.RTSP, p.RTMP, p.SMB, p.NETBIOS, p.IPP,
        p.TUYA, p.KASA, p.HUE, p.HOMEKIT, p.GOOGLE_CAST, p.SONOS,
    }  # fmt: skip
    assert len(names) == 27
    # Each one is reachable from a port, so the fallback can name it too.
    assert names <= set(p.PORTS.values())
