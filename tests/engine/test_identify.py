"""Identification evidence, rules, MAC-rotation merge and robustness.

These drive ``Identifier`` directly (no engine): packets read with scapy
from the captures, or built with scapy where a capture lacks a case.
"""

from __future__ import annotations

import ipaddress
import random
from functools import cache
from importlib.metadata import version
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scapy.layers.dhcp import BOOTP, DHCP
from scapy.layers.dns import DNS, DNSQR, DNSRR, DNSRRSRV
from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import Ether
from scapy.packet import Packet
from scapy.utils import PcapReader

from custom_components.totem.engine import dissect, protocols, vendor
from custom_components.totem.engine.identify import (
    EVIDENCE_PORTS,
    MAX_DOMAINS,
    Identifier,
    TrafficSummary,
)
from custom_components.totem.engine.type_rules import RULES, TypeRule
from tests.conftest import any_pcap

Inspected = tuple[float, bytes, bytes, str, str, int, int, int, bytes]


def mac(text: str) -> bytes:
    return bytes.fromhex(text.replace(":", ""))


def packet_args(packet: Packet) -> Inspected | None:
    """The arguments the engine passes to ``inspect`` for one scapy packet."""
    if Ether not in packet:
        return None
    ip = packet.getlayer(IP) or packet.getlayer(IPv6)
    if ip is None:
        return None
    for layer, proto in ((TCP, 6), (UDP, 17)):
        if layer in packet:
            data = bytes(packet[layer].payload)
            if not data:
                return None
            return (
                float(packet.time),
                mac(packet[Ether].src),
                mac(packet[Ether].dst),
                str(ipaddress.ip_address(ip.src)),
                str(ipaddress.ip_address(ip.dst)),
                proto,
                packet[layer].sport,
                packet[layer].dport,
                data,
            )
    return None


@cache
def capture_args(path: Path) -> list[Inspected]:
    with PcapReader(str(path)) as reader:
        return [args for pkt in reader if (args := packet_args(pkt)) is not None]


def fed(*captures: str) -> Identifier:
    identifier = Identifier()
    for name in captures:
        for args in capture_args(any_pcap(name)):
            identifier.inspect(*args)
    return identifier


def dhcp_request(
    src: str, hostname: str | None = None, client_id: bytes | None = None, ts: float = 0.0
) -> Inspected:
    options: list[object] = [("message-type", "request")]
    if hostname:
        options.append(("hostname", hostname.encode()))
    if client_id:
        options.append(("client_id", client_id))
    options.append("end")
    payload = bytes(BOOTP(op=1, chaddr=mac(src) + bytes(10)) / DHCP(options=options))
    return (ts, mac(src), b"\xff" * 6, "0.0.0.0", "255.255.255.255", 17, 68, 67, payload)


def mdns_response(records: list[Packet]) -> bytes:
    return bytes(DNS(qr=1, aa=1, qd=None, an=records))


def udp(src: str, src_ip: str, dst_ip: str, sport: int, dport: int, payload: bytes) -> Inspected:
    return (1.0, mac(src), b"\x01\x00\x5e\x00\x00\xfb", src_ip, dst_ip, 17, sport, dport, payload)


# ------------------------------------------------------------- evidence


def test_dhcp_evidence_of_the_hs100() -> None:
    identifier = fed("iot_tplink_hs100_plug_setup.pcap")
    ev = identifier.evidence(mac("50:c7:bf:00:fc:a3"))
    assert ev is not None
    assert ev.names["dhcp"] == "HS100(EU)"
    assert ev.dhcp_vendor_class == "udhcp 0.9.9-pre"
    assert ev.dhcp_fingerprint == "1,3,6,12,15,28"
    assert "devs.tplinkcloud.com" in ev.domains


def test_relayed_dhcp_belongs_to_the_client_not_the_relay() -> None:
    identifier = fed("proto_dhcp_hostname_opt60_mudurl.pcap")
    pi = identifier.identity(mac("b8:27:eb:b8:53:c8"), TrafficSummary())
    assert pi.name == "raspberrypi"
    assert pi.manufacturer is not None
    assert pi.manufacturer.startswith("Raspberry Pi")
    assert pi.type == "iot"
    assert "BCM27" in pi.type_reason
    relay = identifier.identity(mac("00:23:eb:10:2c:29"), TrafficSummary())
    assert relay.name is None
    assert relay.type == "unknown"


def test_dhcp_server_and_dns_query_callbacks() -> None:
    identifier = Identifier()
    servers: list[tuple[float, bytes, str]] = []
    queries: list[tuple[float, bytes, str, int, str]] = []
    identifier.on_dhcp_server = lambda *a: servers.append(a)
    identifier.on_dns_query = lambda *a: queries.append(a)
    for args in capture_args(any_pcap("iot_tplink_hs100_plug_setup.pcap")):
        identifier.inspect(*args)
    assert {(s[1], s[2]) for s in servers} == {(mac("00:b5:6d:06:08:ba"), "10.10.10.1")}
    plug = mac("50:c7:bf:00:fc:a3")
    assert (plug, "devs.tplinkcloud.com", 1, "10.10.10.1") in {q[1:] for q in queries}


def test_dhcp_server_reply_names_the_client() -> None:
    identifier = fed("iot_philips_hue_bridge_setup.pcap")
    ev = identifier.evidence(mac("00:17:88:24:76:ff"))
    assert ev is not None
    assert ev.names["dhcp_server"] == "Philips-hue"
    router = identifier.evidence(mac("00:b5:6d:06:08:ba"))
    assert router is not None
    assert "dhcp_server" not in router.names
    assert "serves_dhcp" in router.flags


def test_mdns_services_instances_and_models() -> None:
    identifier = fed("iot_dlink_dcs935l_camera_setup.pcap")
    ev = identifier.evidence(mac("b0:c5:54:25:5b:0e"))
    assert ev is not None
    assert {"_http._tcp", "_dhnap._tcp"} <= ev.mdns_services
    assert ev.names["mdns_instance"] in {
        "D-Link HNAP Service",
        "D-Link DCS-935L Configuration Utility",
    }
    # The ' (2)' of an mDNS name conflict is not part of the name.
    assert "(" not in ev.names["mdns_instance"]


def test_mdns_instance_drops_an_appended_mac() -> None:
    identifier = fed("attack_mirai_like_telnet_scan_home_lan.pcap")
    ev = identifier.evidence(mac("b8:27:eb:c7:e9:c9"))
    assert ev is not None
    assert ev.names["mdns_instance"] == "black-pearl"
    assert "_workstation._tcp" in ev.mdns_services


def test_mdns_queries_say_nothing_about_the_asker() -> None:
    # The Mac "Nimbus" browses for Chromecasts and printers: it is neither.
    identifier = fed("attack_mirai_like_telnet_scan_home_lan.pcap")
    ev = identifier.evidence(mac("68:5b:35:b1:55:93"))
    assert ev is not None
    assert not ev.mdns_services
    assert "mdns" not in ev.names


def test_mdns_answer_for_another_host_is_not_the_senders() -> None:
    # A Bonjour sleep proxy answers with the sleeping Mac's address.
    srv = DNSRRSRV(rrname="Office iMac._smb._tcp.local", target="office-imac.local", port=445)
    a = DNSRR(rrname="office-imac.local", type="A", rdata="192.168.1.50")
    proxy = "aa:bb:cc:00:00:01"
    identifier = Identifier()
    identifier.inspect(
        *udp(proxy, "192.168.1.2", "224.0.0.251", 5353, 5353, mdns_response([srv, a]))
    )
    assert identifier.evidence(mac(proxy)) is None
    # PTR and TXT alone are anchored to nobody either.
    ptr = DNSRR(rrname="_smb._tcp.local", type="PTR", rdata="Office iMac._smb._tcp.local")
    identifier.inspect(*udp(proxy, "192.168.1.2", "224.0.0.251", 5353, 5353, mdns_response([ptr])))
    assert identifier.evidence(mac(proxy)) is None
    # The Mac itself, with its own address, is believed.
    own = DNSRR(rrname="office-imac.local", type="A", rdata="192.168.1.50")
    imac = "00:1b:63:00:00:02"
    identifier.inspect(
        *udp(
            imac,
            "192.168.1.50",
            "224.0.0.251",
            5353,
            5353,
            mdns_response([ptr, srv, own]),
        )
    )
    ev = identifier.evidence(mac(imac))
    assert ev is not None
    assert ev.names["mdns"] == "office-imac"
    assert ev.names["mdns_instance"] == "Office iMac"
    assert "_smb._tcp" in ev.mdns_services


def test_ssdp_search_is_not_an_announcement() -> None:
    # The D-Link camera searches for an InternetGatewayDevice: it is not one.
    identifier = fed("iot_dlink_dcs935l_camera_setup.pcap")
    ev = identifier.evidence(mac("b0:c5:54:25:5b:0e"))
    assert ev is not None
    assert not any("InternetGatewayDevice" in t for t in ev.ssdp_types)
    wemo = fed("iot_belkin_wemo_insight_setup.pcap").evidence(mac("94:10:3e:41:c2:05"))
    assert wemo is not None
    assert "urn:Belkin:device:insight:1" in wemo.ssdp_types


def test_netbios_registration_names_the_sender() -> None:
    raw = b"DESKTOP-ABC1234".ljust(15) + b"\x00"
    encoded = b"".join(bytes([0x41 + (b >> 4), 0x41 + (b & 0xF)]) for b in raw)
    payload = (
        bytes.fromhex("0001291000010000000000 01".replace(" ", ""))
        + b"\x20" + encoded + b"\x00" + b"\x00\x20\x00\x01" + b"\xc0\x0c"
        + bytes.fromhex("00200001000493e00006") + b"\x00\x00" + bytes([192, 168, 1, 30])
    )  # fmt: skip
    identifier = Identifier()
    identifier.inspect(*udp("00:1b:63:00:00:03", "192.168.1.30", "192.168.1.255", 137, 137,
                            payload))  # fmt: skip
    ident = identifier.identity(mac("00:1b:63:00:00:03"), TrafficSummary())
    assert ident.name_sources == {"netbios": "DESKTOP-ABC1234"}
    assert ident.type == "desktop"


def test_llmnr_answer_names_the_responder() -> None:
    answer = DNSRR(rrname="nas-box", type="A", rdata="192.168.1.40")
    payload = bytes(DNS(id=7, qr=1, qd=DNSQR(qname="nas-box"), an=[answer]))
    identifier = Identifier()
    identifier.inspect(*udp("00:11:32:00:00:01", "192.168.1.40", "192.168.1.9", 5355, 50000,
                            payload))  # fmt: skip
    ident = identifier.identity(mac("00:11:32:00:00:01"), TrafficSummary())
    assert ident.name_sources == {"llmnr": "nas-box"}
    # An answer about another address is not the sender's name.
    identifier.inspect(*udp("00:11:32:00:00:02", "192.168.1.41", "192.168.1.9", 5355, 50000,
                            payload))  # fmt: skip
    assert identifier.identity(mac("00:11:32:00:00:02"), TrafficSummary()).name is None


def test_ssdp_friendly_name_header_beats_the_server_token() -> None:
    notify = (
        b"NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nNT: upnp:rootdevice\r\n"
        b"NTS: ssdp:alive\r\nSERVER: Linux/4.9 UPnP/1.0 Sonos/70.3-35220\r\n"
        b"X-Friendly-Name: Kitchen\r\n\r\n"
    )
    identifier = Identifier()
    identifier.inspect(*udp("34:7e:5c:00:00:01", "192.168.1.60", "239.255.255.250", 1900, 1900,
                            notify.replace(b"X-Friendly-Name: Kitchen\r\n", b"")))  # fmt: skip
    ident = identifier.identity(mac("34:7e:5c:00:00:01"), TrafficSummary())
    assert ident.name is None  # a SERVER banner is never a name (the glue says vendor + MAC)
    assert ident.name_sources["ssdp"] == "Sonos/70.3-35220"  # kept for diagnostics
    identifier.inspect(*udp("34:7e:5c:00:00:01", "192.168.1.60", "239.255.255.250", 1900, 1900,
                            notify))  # fmt: skip
    ident = identifier.identity(mac("34:7e:5c:00:00:01"), TrafficSummary())
    assert ident.name == "Kitchen"
    assert ident.type == "smart_speaker"
    assert ident.type_reason == "vendor Sonos + SSDP server Sonos"
    # A goodbye says nothing new.
    identifier.inspect(*udp("34:7e:5c:00:00:02", "192.168.1.61", "239.255.255.250", 1900, 1900,
                            notify.replace(b"ssdp:alive", b"ssdp:byebye")))  # fmt: skip
    assert identifier.evidence(mac("34:7e:5c:00:00:02")) is None


def test_tls_sni_and_http_host_become_domains_but_ip_literals_do_not() -> None:
    identifier = fed("iot_belkin_wemo_insight_setup.pcap", "phone_amazon_alexa_app_android.pcapng")
    wemo = identifier.evidence(mac("94:10:3e:41:c2:05"))
    assert wemo is not None
    assert "api.xbcs.net" in wemo.domains
    phone = identifier.evidence(mac("78:f8:82:d3:fb:c2"))
    assert phone is not None
    assert phone.user_agents
    sonos = fed("iot_sonos_speaker.pcapng")
    # Sonos controllers put the speaker's IP address in the SNI.
    for ev in (sonos.evidence(mac("9c:58:3c:a7:ee:cc")), sonos.evidence(mac("34:7e:5c:ff:a2:6e"))):
        assert ev is None or not ev.domains


def test_domains_are_bounded() -> None:
    identifier = Identifier()
    src = "00:1b:63:00:00:04"
    for i in range(500):
        query = bytes(DNS(rd=1, qd=DNSQR(qname=f"host{i}.example.com")))
        identifier.inspect(*udp(src, "192.168.1.4", "192.168.1.1", 40000 + i, 53, query))
    ident = identifier.identity(mac(src), TrafficSummary())
    assert len(ident.domains) == MAX_DOMAINS
    assert ident.domains[0] == "host0.example.com"


def test_randomised_mac_has_no_vendor() -> None:
    ident = Identifier().identity(mac("c6:2c:03:60:6a:64"), TrafficSummary())
    assert ident.randomized
    assert ident.manufacturer is None
    real = Identifier().identity(mac("c4:2c:03:60:6a:64"), TrafficSummary())
    assert not real.randomized
    assert real.manufacturer is not None
    assert real.manufacturer.startswith("Apple")


def test_vendor_lookup_from_aiooui_data() -> None:
    assert vendor.lookup(mac("00:17:88:24:76:ff")) == "Philips Lighting BV"
    assert vendor.lookup(mac("5c:cf:7f:07:ae:fb")) == "Espressif Inc."
    assert vendor.lookup(mac("0c:00:00:00:00:01")) is None  # unassigned OUI
    assert vendor.lookup(mac("da:a1:19:00:00:01")) is None  # locally administered
    assert vendor.lookup(b"") is None


def test_evidence_table_is_bounded() -> None:
    identifier = Identifier(max_macs=10)
    for i in range(100):
        identifier.inspect(*dhcp_request(f"00:1b:63:00:01:{i:02x}", hostname=f"h{i}"))
    kept = [i for i in range(100) if identifier.evidence(mac(f"00:1b:63:00:01:{i:02x}"))]
    assert kept == list(range(90, 100))


# ------------------------------------------------------- MAC rotation merge


def test_rotating_mac_merges_on_dhcp_client_id() -> None:
    identifier = Identifier()
    duid = b"\xff\x00\x00\x00\x01\x00\x04\x12\x34\x56\x78"
    identifier.inspect(*dhcp_request("00:1b:63:aa:bb:cc", "lucas-pixel", duid, ts=1))
    identifier.inspect(*dhcp_request("da:a1:19:00:00:01", "pixel-7", duid, ts=100))
    identifier.inspect(*dhcp_request("da:a1:19:00:00:02", "pixel-7", duid, ts=200))
    for rotated in ("da:a1:19:00:00:01", "da:a1:19:00:00:02"):
        ident = identifier.identity(mac(rotated), TrafficSummary())
        assert ident.same_device_as == "00:1b:63:aa:bb:cc"
    assert identifier.identity(mac("00:1b:63:aa:bb:cc"), TrafficSummary()).same_device_as is None


def test_rotating_macs_without_a_fixed_one_merge_into_the_first() -> None:
    identifier = Identifier()
    identifier.inspect(*dhcp_request("da:a1:19:00:00:01", "Lucas-Galaxy", ts=10))
    identifier.inspect(*dhcp_request("fa:a1:19:00:00:02", "lucas-galaxy", ts=20))
    first = identifier.identity(mac("da:a1:19:00:00:01"), TrafficSummary())
    second = identifier.identity(mac("fa:a1:19:00:00:02"), TrafficSummary())
    assert first.same_device_as is None
    assert second.same_device_as == "da:a1:19:00:00:01"


def dhcpv6_solicit(src: str, duid: bytes) -> Inspected:
    payload = b"\x01\x12\x34\x56" + b"\x00\x01" + len(duid).to_bytes(2, "big") + duid
    return (5.0, mac(src), mac("33:33:00:01:00:02"), "fe80::1", "ff02::1:2", 17, 546, 547,
            payload)  # fmt: skip


def test_rotating_mac_merges_on_dhcpv6_duid() -> None:
    identifier = Identifier()
    duid = b"\x00\x01\x00\x01\x25\xe5\x14\x8e" + mac("00:1b:63:aa:bb:01")
    identifier.inspect(*dhcpv6_solicit("00:1b:63:aa:bb:01", duid))
    identifier.inspect(*dhcpv6_solicit("ea:11:22:33:44:55", duid))
    rotated = identifier.identity(mac("ea:11:22:33:44:55"), TrafficSummary())
    assert rotated.same_device_as == "00:1b:63:aa:bb:01"


def test_merge_follows_new_evidence() -> None:
    identifier = Identifier()
    identifier.inspect(*dhcp_request("da:a1:19:00:00:40", "lucas-tablet", ts=10))
    assert identifier.identity(mac("da:a1:19:00:00:40"), TrafficSummary()).same_device_as is None
    # The fixed MAC shows up later: the rotating one now merges into it...
    identifier.inspect(*dhcp_request("00:1b:63:00:00:40", "lucas-tablet", ts=20))
    merged = identifier.identity(mac("da:a1:19:00:00:40"), TrafficSummary())
    assert merged.same_device_as == "00:1b:63:00:00:40"
    # ...and stops when the fixed MAC is forgotten (evicted by the engine).
    identifier.forget(mac("00:1b:63:00:00:40"))
    assert identifier.identity(mac("da:a1:19:00:00:40"), TrafficSummary()).same_device_as is None


def test_no_merge_when_the_tie_is_ambiguous() -> None:
    identifier = Identifier()
    # Two real devices share a host name: a third MAC with it could be either.
    identifier.inspect(*dhcp_request("00:1b:63:00:00:10", "office-pc", ts=1))
    identifier.inspect(*dhcp_request("00:1b:63:00:00:11", "office-pc", ts=2))
    identifier.inspect(*dhcp_request("da:a1:19:00:00:12", "office-pc", ts=3))
    assert identifier.identity(mac("da:a1:19:00:00:12"), TrafficSummary()).same_device_as is None
    # A generic name ties nothing.
    identifier.inspect(*dhcp_request("00:1b:63:00:00:20", "iPhone", ts=4))
    identifier.inspect(*dhcp_request("da:a1:19:00:00:21", "iPhone", ts=5))
    assert identifier.identity(mac("da:a1:19:00:00:21"), TrafficSummary()).same_device_as is None
    # A client id made of the MAC itself ties nothing either.
    identifier.inspect(
        *dhcp_request("da:a1:19:00:00:30", client_id=b"\x01" + mac("da:a1:19:00:00:30"))
    )
    assert identifier.identity(mac("da:a1:19:00:00:30"), TrafficSummary()).same_device_as is None


# ----------------------------------------------------------- type rules


def identity_of(evidence: list[Inspected], target: str, traffic: TrafficSummary | None = None,
                rules: tuple[TypeRule, ...] = RULES) -> tuple[str, str]:  # fmt: skip
    identifier = Identifier(rules=rules)
    for args in evidence:
        identifier.inspect(*args)
    ident = identifier.identity(mac(target), traffic or TrafficSummary())
    return ident.type, ident.type_reason


def test_single_weak_evidence_stays_unknown() -> None:
    # Belkin's OUI alone (weight 1) is not enough to call it a plug.
    type_, reason = identity_of([], "94:10:3e:00:00:01")
    assert type_ == "unknown"
    assert reason.startswith("too little evidence: vendor Belkin")
    # udhcp alone says "embedded", not what it is.
    req = dhcp_request("0c:00:00:00:00:05")
    payload = bytes(
        BOOTP(op=1, chaddr=mac("0c:00:00:00:00:05") + bytes(10))
        / DHCP(options=[("message-type", "request"), ("vendor_class_id", b"udhcp 1.2"), "end"])
    )
    assert identity_of([(*req[:8], payload)], "0c:00:00:00:00:05") == (
        "unknown",
        "too little evidence: DHCP vendor class udhcp (embedded Linux)",
    )


def test_edimax_model_names() -> None:
    # Edimax's catalogue naming, from any name the device gives (a non-Edimax OUI here:
    # the name alone decides).
    target = "0c:00:00:00:00:0a"
    for name, want in (("SP-2101W", "smart_plug"), ("EdiMax-SP1101W", "smart_plug"),
                       ("IC-3116W", "camera"), ("SPA-2101W", "unknown")):  # fmt: skip
        assert identity_of([dhcp_request(target, name)], target)[0] == want, name


def test_specific_type_beats_the_iot_fallback() -> None:
    # Espressif (iot, 2) + a Kasa-like plug host name (smart_plug, 3).
    kind, reason = identity_of([dhcp_request("cc:50:e3:00:00:01", "HS103")], "cc:50:e3:00:00:01")
    assert kind == "smart_plug"
    assert reason == "hostname HS1xx (TP-Link Kasa plug)"
    kind, reason = identity_of([dhcp_request("cc:50:e3:00:00:01", "ESP_00AA11")],
                               "cc:50:e3:00:00:01")  # fmt: skip
    assert (kind, reason) == ("iot", "vendor Espressif + hostname ESP_*")


def test_rules_are_data_a_user_can_extend() -> None:
    target = "00:1b:63:00:00:06"
    evidence = [dhcp_request(target, "zigbee2mqtt")]
    assert identity_of(evidence, target)[0] == "unknown"
    extra = (*RULES, TypeRule("hostname", r"^zigbee2mqtt", "hub", 3, "hostname zigbee2mqtt"))
    assert identity_of(evidence, target, rules=extra) == ("hub", "hostname zigbee2mqtt")


def test_behaviour_router() -> None:
    traffic = TrafficSummary(is_gateway=True, server_ports={(17, 67): 1000, (17, 53): 5000})
    kind, reason = identity_of([], "00:b5:6d:06:08:ba", traffic)
    assert kind == "router"
    assert reason == "gateway for many remote hosts + serves DHCP + serves DNS"


def test_behaviour_camera_needs_steady_upstream_video() -> None:
    steady = TrafficSummary(upstream_bytes=300 * 250_000, downstream_bytes=300 * 5_000,
                            duration=300.0)  # fmt: skip
    assert identity_of([], "0c:00:00:00:00:07", steady) == ("camera", "steady upstream video")
    # A short burst (a photo upload) is not a camera.
    burst = TrafficSummary(upstream_bytes=5_000_000, downstream_bytes=10_000, duration=10.0)
    assert identity_of([], "0c:00:00:00:00:07", burst) == ("unknown", "")
    # Balanced traffic (a video call) is not either.
    call = TrafficSummary(upstream_bytes=75_000_000, downstream_bytes=75_000_000, duration=300.0)
    assert identity_of([], "0c:00:00:00:00:07", call) == ("unknown", "")
    # A randomised (locally administered) MAC with the same steady upload is a phone
    # or laptop backing up: cameras keep their maker's MAC.
    assert identity_of([], "02:c6:d6:c8:44:11", steady)[0] != "camera"


def test_behaviour_printer_and_kasa() -> None:
    printer = TrafficSummary(server_ports={(6, 631): 250_000})
    assert identity_of([], "0c:00:00:00:00:08", printer) == ("printer", "serves IPP/9100")
    plug = TrafficSummary(server_ports={(17, 9999): 600})
    assert identity_of([], "0c:00:00:00:00:09", plug) == ("smart_plug", "serves TP-Link Kasa")


def http_get(src: str, agent: str) -> Inspected:
    request = f"GET / HTTP/1.1\r\nHost: example.com\r\nUser-Agent: {agent}\r\n\r\n"
    return (1.0, mac(src), mac("00:b5:6d:06:08:ba"), "192.168.1.70", "93.184.216.34", 6, 40000,
            80, request.encode())  # fmt: skip


@pytest.mark.parametrize(
    ("agent", "expected"),
    [
        ("Mozilla/5.0 (Linux; Android 10; SM-G973F) AppleWebKit/537.36 Mobile Safari/537.36",
         "phone"),
        ("Mozilla/5.0 (X11; Linux armv7l) AppleWebKit/537.36 CrKey/1.56.500000", "media_player"),
        ("Mozilla/5.0 (SMART-TV; Linux; Tizen 5.0) AppleWebKit/537.36", "tv"),
        ("Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X)", "tablet"),
        ("Dalvik/2.1.0 (Linux; U; Android 9; AFTMM Build/PS7233)", "unknown"),  # weak alone
        ("curl/8.5.0", "unknown"),
    ],
)  # fmt: skip
def test_user_agent_rules(agent: str, expected: str) -> None:
    assert identity_of([http_get("0c:00:00:00:00:0a", agent)], "0c:00:00:00:00:0a")[0] == expected


def test_type_follows_new_evidence() -> None:
    identifier = Identifier()
    device = "0c:00:00:00:00:0b"
    identifier.inspect(*dhcp_request(device, "ESP_00AA11"))
    assert identifier.identity(mac(device), TrafficSummary()).type == "iot"
    # Later it announces a printer service over mDNS: the type changes with it.
    ptr = DNSRR(rrname="_ipp._tcp.local", type="PTR", rdata="Office Labeller._ipp._tcp.local")
    srv = DNSRRSRV(rrname="Office Labeller._ipp._tcp.local", target="ESP_00AA11.local", port=631)
    identifier.inspect(*udp(device, "192.168.1.80", "224.0.0.251", 5353, 5353,
                            mdns_response([ptr, srv])))  # fmt: skip
    ident = identifier.identity(mac(device), TrafficSummary())
    assert (ident.type, ident.type_reason) == ("printer", "mDNS _ipp")
    assert ident.name_sources["mdns_instance"] == "Office Labeller"


def test_active_discovery_evidence() -> None:
    identifier = Identifier()
    speaker = mac("0c:00:00:00:00:0c")
    identifier.note_discovery(speaker, 1.0, service_type="_googlecast._tcp.local.",
                              instance="Kitchen speaker", host="kitchen.local.",
                              model="Google Nest Mini")  # fmt: skip
    ident = identifier.identity(speaker, TrafficSummary())
    assert ident.name == "Kitchen speaker"
    assert ident.name_sources["mdns"] == "kitchen"
    assert ident.type == "smart_speaker"
    assert ident.type_reason.startswith("mDNS model Google Home")


def test_every_rule_is_well_formed() -> None:
    from custom_components.totem.engine.fusion import FAMILIES
    from custom_components.totem.engine.model import DEVICE_TYPES

    kinds = {"vendor", "hostname", "dhcp_vendor_class", "dhcp_fingerprint", "mdns_service",
             "model", "ssdp_type", "ssdp_server", "ssdp_location", "domain", "user_agent",
             "behaviour"}  # fmt: skip
    for rule in RULES:
        assert rule.evidence in kinds, rule
        assert rule.type in DEVICE_TYPES or rule.type in FAMILIES, rule
        assert rule.type != "unknown", rule
        assert 1 <= rule.weight <= 4, rule
        assert rule.label, rule


# ----------------------------------------------------------- robustness

_FUZZ_CAPTURES = (
    "iot_philips_hue_bridge_setup.pcap",
    "iot_dlink_dcs935l_camera_setup.pcap",
    "iot_belkin_wemo_insight_setup.pcap",
    "home_iphone_dhcp_mdns_tls.pcap",
    "proto_dhcp_hostname_opt60_mudurl.pcap",
    "proto_mqtt_paho_pubsub.pcap",
    "iot_tuya_lan_discovery.pcap",
    "home_android_dhcp_opt60_tls.pcap",
)


@cache
def fuzz_corpus() -> list[Inspected]:
    corpus: list[Inspected] = []
    for name in _FUZZ_CAPTURES:
        seen: set[tuple[int, int, int]] = set()
        for args in capture_args(any_pcap(name)):
            key = (args[5], min(args[6], args[7]), len(args[8]) // 64)
            if key not in seen:
                seen.add(key)
                corpus.append(args)
    return corpus


def mutate(rng: random.Random, data: bytes) -> bytes:
    buf = bytearray(data)
    choice = rng.randrange(6)
    if choice == 0 and buf:
        for _ in range(rng.randint(1, 8)):
            buf[rng.randrange(len(buf))] = rng.randrange(256)
    elif choice == 1:
        buf = buf[: rng.randrange(len(buf) + 1)]
    elif choice == 2 and buf:
        start = rng.randrange(len(buf))
        buf[start : start + rng.randint(1, 16)] = rng.randbytes(rng.randint(0, 16))
    elif choice == 3:
        buf = bytearray(rng.randbytes(rng.randint(0, 600)))
    elif choice == 4 and len(buf) > 12:
        # Compression pointers at random places: loops and out-of-range jumps.
        pos = rng.randrange(12, len(buf))
        buf[pos : pos + 2] = bytes([0xC0 | rng.randrange(64), rng.randrange(256)])
    else:
        buf += rng.randbytes(rng.randint(1, 64))
    return bytes(buf)


_PORTS = sorted(EVIDENCE_PORTS | {80, 443, 631, 1883, 8883, 6667, 9999, 5683, 123, 22, 554})
_FUZZ_EXAMPLES = 500
_MUTATIONS_PER_EXAMPLE = 200  # 500 x 200 = 100,000 payloads


@settings(
    max_examples=_FUZZ_EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(seed=st.integers(min_value=0, max_value=2**64 - 1))
def test_fuzz_inspect_and_detect_never_raise(seed: int) -> None:
    rng = random.Random(seed)
    corpus = fuzz_corpus()
    identifier = Identifier(max_macs=64)
    for _ in range(_MUTATIONS_PER_EXAMPLE):
        ts, src, dst, sip, dip, proto, sport, dport, data = rng.choice(corpus)
        payload = mutate(rng, data)
        if rng.random() < 0.3:
            sport, dport = rng.choice(_PORTS), rng.choice(_PORTS)
        identifier.inspect(ts, src, dst, sip, dip, proto, sport, dport, payload)
        protocols.detect(proto, sport, dport, payload)
    # The parsers themselves never raised: ``inspect``'s guard never fired.
    assert identifier.weird == 0
    for key in list(identifier._evidence)[:8]:
        identifier.identity(key, TrafficSummary())


@settings(max_examples=2000, deadline=None, derandomize=True)
@given(data=st.binary(max_size=400), sport=st.sampled_from(_PORTS), dport=st.sampled_from(_PORTS))
def test_random_bytes_through_every_parser(data: bytes, sport: int, dport: int) -> None:
    dissect.parse_dhcp(data)
    dissect.parse_dhcpv6(data)
    dissect.parse_dns(data)
    dissect.parse_nbns(data)
    dissect.parse_ssdp(data)
    dissect.parse_tls_sni(data)
    dissect.parse_http_request(data)
    identifier = Identifier()
    for proto in (6, 17):
        identifier.inspect(0.0, b"\x00\x1b\x63\x00\x00\x01", b"\xff" * 6, "10.0.0.2",
                           "10.0.0.1", proto, sport, dport, data)  # fmt: skip
        protocols.detect(proto, sport, dport, data)
        protocols.by_port(proto, sport, dport)
    assert identifier.weird == 0


def test_callback_errors_are_not_swallowed() -> None:
    identifier = Identifier()

    def broken(*_args: object) -> None:
        raise RuntimeError("caller bug")

    identifier.on_dns_query = broken
    query = bytes(DNS(rd=1, qd=DNSQR(qname="example.com")))
    with pytest.raises(RuntimeError):
        identifier.inspect(*udp("00:1b:63:00:00:01", "10.0.0.2", "10.0.0.1", 40000, 53, query))


def test_vendor_text_table_matches_aiooui_api(monkeypatch: pytest.MonkeyPatch) -> None:
    """The direct read of aiooui's text table answers what aiooui's own table does,
    and any other data file falls back to aiooui's API with the same answers."""
    import asyncio

    import aiooui

    asyncio.run(aiooui.async_load())
    table = vendor._text_table()
    if version("aiooui") == "0.1.9":
        # The floor's pin ships the text table, so the direct read is what runs there;
        # aiooui 0.1.11 (the newest leg) ships a binary table and only the API path runs.
        assert table is not None
    if table is not None:
        # Every 37th OUI of the table (about a thousand, first and last lines too).
        keys = [line[:6] for line in table.split(b"\n") if line][::37]
        keys += [table[:6], table.rsplit(b"\n", 1)[-1][:6]]
    else:
        # Makers' OUIs of the kind a home holds (Espressif, Google, Apple, TP-Link,
        # Raspberry Pi, Philips Lighting, Amazon, Tuya), answered by the API alone.
        keys = [b"240AC4", b"F4F5D8", b"3C22FB", b"50C7BF", b"B827EB", b"001788", b"FCA183"]
        keys += [b"D81F12"]
    keys += [b"0C0000", b"FFFFFE"]  # unassigned
    for key in keys:
        oui = bytes.fromhex(key.decode())
        expected = aiooui.get_vendor(oui.hex(":"))
        assert vendor._registry_name(oui) == expected, key
    samples = [bytes.fromhex(k.decode()) + b"\x00\x00\x01" for k in keys[:50]]
    direct = [vendor.lookup(m) for m in samples]
    monkeypatch.setattr(vendor, "_text_table", lambda: None)
    monkeypatch.setattr(vendor, "_table", None)
    monkeypatch.setattr(vendor, "_api", None)
    assert [vendor.lookup(m) for m in samples] == direct
    assert vendor._api is aiooui


def test_query_questions_are_read_once_per_message_and_equal_dns_questions() -> None:
    """``_questions`` keeps a query's questions by the message after its ID: on real
    queries, a fuzzed capture, hand-broken messages and the same messages under other
    IDs, it must give ``dissect.dns_questions``'s questions (None included), the second
    time from its table, and it must stay bounded."""
    from custom_components.totem.engine.identify import MAX_CACHED_QUERY, MAX_QUERIES

    real = [
        args[8]
        for name in ("fuzz_dns_malformed.pcap", "attack_dns_tunnel_iodine.pcap")
        for args in capture_args(any_pcap(name))
        if 53 in (args[6], args[7])
    ]
    two = b"\x01a\x00\x00\x01\x00\x01\x01b\x00\x00\x1c\x00\x01"
    header = bytes.fromhex("123401000001000000000000")
    made = [
        b"\x00" * 12,  # no sections at all: not DNS
        header + two,  # one question read, the second ignored
        header[:4] + b"\x00\x02" + header[6:] + two[:9],  # the second question cut
        header + b"\x05ab",  # the only question cut
        header + b"\xc0\x0c\x00\x01\x00\x01",  # a pointer loop
        header + b"\x03abc\x00\x00\x01\x00\x01" + b"\x00" * MAX_CACHED_QUERY,  # too long to keep
    ]
    rng = random.Random(7)
    fuzzed = [bytes(rng.randrange(256) for _ in range(rng.randrange(12, 80))) for _ in range(300)]
    assert len(real) > 50
    identifier = Identifier()
    for data in real + made + fuzzed:
        expected = dissect.dns_questions(data)
        want = None if expected is None else [(n, t, n.rstrip(".").lower()) for n, t in expected]
        for ident in (data[:2], b"\xab\xcd", data[:2]):  # first read, other ID, a hit
            got = identifier._questions(ident + data[2:])
            assert (None if got is None else list(got)) == want, data
    assert len(identifier._queries) <= MAX_QUERIES
    assert all(len(key) <= MAX_CACHED_QUERY for key in identifier._queries)
    for n in range(MAX_QUERIES + 10):  # a tunnel's fresh names: the table starts again
        identifier._questions(
            header + bytes([3]) + f"{n:03x}".encode()[-3:] + b"\x00\x00\x01\x00\x01"
        )
    assert len(identifier._queries) <= MAX_QUERIES


def test_the_http_request_cache_equals_the_parser() -> None:
    """``dissect.parse_http_request``'s one-entry cache (the flow's domain and the
    identifier read the same payload) gives what the parser gives, on requests,
    garbage and the same bytes twice."""
    http_request = dissect.parse_http_request
    parse = http_request.__wrapped__

    requests = [
        b"GET / HTTP/1.1\r\nHost: example.com:8080\r\nUser-Agent: curl/8\r\n\r\n",
        b"POST /x HTTP/1.0\nHost: [::1]:80\n\n",
        b"GET /only-a-line",
        b"OPTIONS * RTSP/1.0\r\n\r\n",
        b"\x16\x03\x01",
        b"",
    ]
    rng = random.Random(3)
    requests += [b"GET " + bytes(rng.randrange(256) for _ in range(40)) for _ in range(50)]
    for data in requests + requests[::-1]:
        assert http_request(data) == parse(data)
        assert http_request(data) == parse(data)
