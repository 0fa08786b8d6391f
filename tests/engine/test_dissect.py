"""Payload parsers on real packets from the captures, and on broken ones."""

from __future__ import annotations

import random
import struct
from collections.abc import Iterator
from pathlib import Path

from scapy.layers.inet import TCP, UDP
from scapy.utils import PcapReader

from custom_components.totem.engine import dissect, resolved
from tests.conftest import any_pcap


def payloads(path: Path, proto: str, port: int) -> Iterator[bytes]:
    """UDP/TCP payloads to or from ``port`` in a capture, read with scapy."""
    layer = UDP if proto == "udp" else TCP
    with PcapReader(str(path)) as reader:
        for packet in reader:
            if layer in packet and port in (packet[layer].sport, packet[layer].dport):
                data = bytes(packet[layer].payload)
                if data:
                    yield data


def first(path: Path, proto: str, port: int, predicate: object = None) -> bytes:
    for data in payloads(path, proto, port):
        if predicate is None or predicate(data):  # type: ignore[operator]
            return data
    raise AssertionError(f"no {proto}/{port} payload in {path.name}")


# ---------------------------------------------------------------- DHCP


def test_dhcp_request_of_the_hs100_plug() -> None:
    path = any_pcap("iot_tplink_hs100_plug_setup.pcap")
    messages = [dissect.parse_dhcp(p) for p in payloads(path, "udp", 67)]
    request = next(m for m in messages if m is not None and m.op == 1 and m.hostname)
    assert request.hostname == "HS100(EU)"
    assert request.vendor_class == "udhcp 0.9.9-pre"
    assert request.param_list == (1, 3, 6, 12, 15, 28)
    assert request.client_mac == bytes.fromhex("50c7bf00fca3")
    assert request.client_id == b"\x01" + bytes.fromhex("50c7bf00fca3")
    assert request.msg_type in (dissect.DHCP_DISCOVER, dissect.DHCP_REQUEST)
    replies = [m for m in messages if m is not None and m.op == 2]
    assert {m.msg_type for m in replies} == {dissect.DHCP_OFFER, dissect.DHCP_ACK}
    assert all(m.client_ip and m.server_id for m in replies)


def test_dhcp_relayed_request_belongs_to_chaddr() -> None:
    path = any_pcap("proto_dhcp_hostname_opt60_mudurl.pcap")
    request = next(m for m in map(dissect.parse_dhcp, payloads(path, "udp", 67)) if m and m.op == 1)
    assert request.relayed
    assert request.client_mac == bytes.fromhex("b827ebb853c8")
    assert request.hostname == "raspberrypi"
    assert request.vendor_class == "dhcpcd-6.11.5:Linux-4.1.18-v7+:armv7l:BCM2709"
    assert request.mud_url is not None
    assert request.mud_url.startswith("https://")


def test_dhcp_fqdn_option_81() -> None:
    path = any_pcap("proto_dhcp_discover_opt60_msft.pcap")
    msg = dissect.parse_dhcp(first(path, "udp", 67))
    assert msg is not None
    assert msg.hostname == "NicksMacBook"
    assert msg.fqdn == "NicksMacBook"
    assert msg.vendor_class == "MSFT 5.0"


def test_dhcp_garbage_and_truncation() -> None:
    assert dissect.parse_dhcp(b"") is None
    assert dissect.parse_dhcp(b"\x01" * 300) is None  # no magic cookie
    path = any_pcap("iot_tplink_hs100_plug_setup.pcap")
    whole = first(path, "udp", 67)
    # Cut inside the options: the options before the cut survive, no exception.
    for cut in range(240, len(whole)):
        msg = dissect.parse_dhcp(whole[:cut])
        assert msg is not None
        assert msg.op == 1


# -------------------------------------------------------------- DHCPv6


def test_dhcpv6_solicit_of_the_android_phone() -> None:
    path = any_pcap("home_android_dhcp_opt60_tls.pcap")
    msg = dissect.parse_dhcpv6(first(path, "udp", 547))
    assert msg is not None
    assert msg.msg_type == 1  # Solicit
    # DUID-LLT: type 1, hardware type 1 (Ethernet), time, then the phone's MAC.
    assert msg.duid is not None
    assert msg.duid[:4] == b"\x00\x01\x00\x01"
    assert msg.duid[-6:] == bytes.fromhex("4c6af69ff627")
    assert msg.option_request == (23, 24)  # DNS servers, domain list


def test_dhcpv6_fqdn_and_truncation() -> None:
    solicit = (
        b"\x01\x00\x00\x01"
        + b"\x00\x01\x00\x04\x00\x03\x00\x01"
        + b"\x00\x27\x00\x0c\x00\x06laptop\x03lan\x00"
    )
    msg = dissect.parse_dhcpv6(solicit)
    assert msg is not None
    assert msg.fqdn == "laptop.lan"
    for cut in range(len(solicit)):
        dissect.parse_dhcpv6(solicit[:cut])
    assert dissect.parse_dhcpv6(b"\x00\x00\x00\x00") is None


# ----------------------------------------------------------------- DNS


def test_dns_query_and_response() -> None:
    path = any_pcap("iot_tplink_hs100_plug_setup.pcap")
    parsed = [dissect.parse_dns(p) for p in payloads(path, "udp", 53)]
    queries = [m for m in parsed if m is not None and not m.is_response]
    answers = [m for m in parsed if m is not None and m.is_response]
    assert ("devs.tplinkcloud.com", 1) in [q for m in queries for q in m.questions]
    addresses = [r.data for m in answers for r in m.answers if r.rtype == dissect.DNS_A]
    assert addresses
    assert all(a is not None and a.count(".") == 3 for a in addresses)


def test_mdns_announcement_of_the_hue_bridge() -> None:
    path = any_pcap("iot_philips_hue_bridge_setup.pcap")
    records = [
        r
        for p in payloads(path, "udp", 5353)
        if (m := dissect.parse_dns(p)) is not None and m.is_response
        for r in m.answers + m.others
    ]
    srv = {r.name: r.data for r in records if r.rtype == dissect.DNS_SRV}
    assert srv["Philips hue - 2476FF._hap._tcp.local"] == "Philips-hue.local"
    ptr = {(r.name, r.data) for r in records if r.rtype == dissect.DNS_PTR}
    assert ("_hap._tcp.local", "Philips hue - 2476FF._hap._tcp.local") in ptr
    txt = [t for r in records if r.rtype == dissect.DNS_TXT for t in r.txt]
    assert any(t.startswith("md=") for t in txt)


def _header(qd: int = 1, an: int = 0) -> bytes:
    return struct.pack("!HHHHHH", 0x1234, 0x8400, qd, an, 0, 0)


def test_dns_compression_loop_is_refused() -> None:
    # The question's name is a pointer to itself.
    loop = _header() + b"\xc0\x0c" + b"\x00\x01\x00\x01"
    assert dissect.read_dns_name(loop, 12) is None
    assert dissect.parse_dns(loop) is None
    # Two pointers that point at each other.
    ping_pong = _header() + b"\xc0\x0e\xc0\x0c" + b"\x00\x01\x00\x01"
    assert dissect.read_dns_name(ping_pong, 12) is None


def test_dns_compression_pointer_is_followed() -> None:
    name = b"\x03www\x07example\x03com\x00"
    msg = (
        _header(1, 1)
        + name
        + b"\x00\x01\x00\x01"
        + b"\xc0\x0c"
        + struct.pack("!HHIH", 1, 1, 60, 4)
        + bytes([192, 0, 2, 1])
    )
    parsed = dissect.parse_dns(msg)
    assert parsed is not None
    assert parsed.questions == [("www.example.com", 1)]
    assert parsed.answers[0].name == "www.example.com"
    assert parsed.answers[0].data == "192.0.2.1"


def test_dns_name_longer_than_255_is_refused() -> None:
    long_name = b"".join(b"\x3f" + b"a" * 63 for _ in range(5)) + b"\x00"
    assert dissect.read_dns_name(_header() + long_name, 12) is None


def test_dns_truncated_records_keep_what_came_before() -> None:
    path = any_pcap("iot_philips_hue_bridge_setup.pcap")
    whole = max(payloads(path, "udp", 5353), key=len)
    complete = dissect.parse_dns(whole)
    assert complete is not None
    for cut in range(0, len(whole), 7):
        partial = dissect.parse_dns(whole[:cut])
        if partial is not None:
            assert len(partial.answers) <= len(complete.answers)


# ------------------------------------------------------------- NetBIOS


def _nbns_registration(name: str, ip: bytes, group: bool = False) -> bytes:
    raw = name.upper().ljust(15).encode()[:15] + b"\x00"
    encoded = b"".join(bytes([0x41 + (b >> 4), 0x41 + (b & 0xF)]) for b in raw)
    flags = 0x2910  # registration request, recursion desired, broadcast
    return (
        struct.pack("!HHHHHH", 1, flags, 1, 0, 0, 1)
        + b"\x20"
        + encoded
        + b"\x00"
        + b"\x00\x20\x00\x01"
        + b"\xc0\x0c"
        + struct.pack("!HHIH", 0x20, 1, 300000, 6)
        + (b"\x80\x00" if group else b"\x00\x00")
        + ip
    )


def test_netbios_registration() -> None:
    msg = dissect.parse_nbns(_nbns_registration("LIVINGROOM-PC", bytes([192, 168, 1, 20])))
    assert msg is not None
    assert (msg.name, msg.suffix, msg.opcode, msg.is_response) == ("LIVINGROOM-PC", 0, 5, False)
    assert msg.address == "192.168.1.20"
    assert not msg.group
    group = dissect.parse_nbns(_nbns_registration("WORKGROUP", bytes(4), group=True))
    assert group is not None
    assert group.group


def test_netbios_garbage() -> None:
    assert dissect.parse_nbns(b"") is None
    assert dissect.parse_nbns(b"\x00" * 12 + b"\x20" + b"Z" * 32 + b"\x00") is None


# ---------------------------------------------------------------- SSDP


def test_ssdp_notify_of_a_router() -> None:
    path = any_pcap("proto_ssdp_notify_router.pcap")
    msg = dissect.parse_ssdp(first(path, "udp", 1900))
    assert msg is not None
    assert msg.kind == "NOTIFY"
    # Header names are case-insensitive ("lOCATION" in this capture).
    assert msg.headers["LOCATION"] == "http://192.168.1.1:7406/rootDesc.xml"
    assert "MiniUPnPd" in msg.headers["SERVER"]


def test_ssdp_search_response_and_search() -> None:
    path = any_pcap("iot_philips_hue_bridge_setup.pcap")
    kinds = {m.kind for p in payloads(path, "udp", 1900) if (m := dissect.parse_ssdp(p))}
    assert kinds >= {"NOTIFY", "RESPONSE"}
    assert dissect.parse_ssdp(b"GET / HTTP/1.1\r\n\r\n") is None


# ----------------------------------------------------------------- TLS


def test_tls_sni_from_real_client_hellos() -> None:
    path = any_pcap("home_iphone_dhcp_mdns_tls.pcap")
    names = {dissect.parse_tls_sni(p) for p in payloads(path, "tcp", 443)} - {None}
    assert "gateway.icloud.com" in names
    assert all(n == n.lower() for n in names if n)


def test_tls_sni_on_truncated_hello() -> None:
    path = any_pcap("home_iphone_dhcp_mdns_tls.pcap")
    hello = first(path, "tcp", 443, lambda p: dissect.parse_tls_sni(p) is not None)
    for cut in range(len(hello)):
        assert dissect.parse_tls_sni(hello[:cut]) in (None, dissect.parse_tls_sni(hello))


# ---------------------------------------------------------------- HTTP


def test_http_request_host_and_user_agent() -> None:
    path = any_pcap("phone_amazon_alexa_app_android.pcapng")
    requests = [r for p in payloads(path, "tcp", 80) if (r := dissect.parse_http_request(p))]
    assert requests
    assert all(r.host and ":" not in r.host for r in requests)
    assert any(r.user_agent for r in requests)


def test_http_request_line_forms() -> None:
    req = dissect.parse_http_request(
        b"GET /x HTTP/1.1\r\nHost: Example.COM:8080\r\nUser-Agent: curl/8\r\n\r\n"
    )
    assert req is not None
    assert (req.method, req.target, req.host, req.user_agent) == (
        "GET",
        "/x",
        "example.com",
        "curl/8",
    )
    v6 = dissect.parse_http_request(b"GET / HTTP/1.1\r\nHost: [fe80::1]:80\r\n\r\n")
    assert v6 is not None
    assert v6.host == "[fe80::1]"
    assert dissect.parse_http_request(b"GET nothing\r\n") is None
    assert dissect.parse_http_request(b"HELLO / HTTP/1.1\r\n") is None


def test_flow_export_datagrams_are_recognised_by_their_structure() -> None:
    from custom_components.totem.engine.dissect import flow_export_kind

    v5 = struct.pack("!HHIIIIBBH", 5, 1, 0, 0, 0, 0, 0, 0, 0) + b"\0" * 48
    assert flow_export_kind(v5) == "netflow5"
    assert flow_export_kind(v5 + b"\0") is None  # the count promises 72 bytes
    ipfix = struct.pack("!HHIII", 10, 24, 0, 0, 0) + struct.pack("!HH", 2, 8) + b"\0" * 4
    assert flow_export_kind(ipfix) == "ipfix"
    v9 = struct.pack("!HHIIII", 9, 1, 0, 0, 0, 0) + struct.pack("!HH", 256, 12) + b"\0" * 8
    assert flow_export_kind(v9) == "netflow9"
    assert flow_export_kind(v9[:-1]) is None  # the flowset runs past the datagram
    sflow = struct.pack("!IIIIII", 5, 1, 0x0A000001, 0, 1, 0) + b"\0" * 8
    assert flow_export_kind(sflow) == "sflow5"
    assert flow_export_kind(b"\x00\x09" + b"\xff" * 30) is None  # garbage on a collector port
    assert flow_export_kind(b"short") is None


def test_dns_questions_read_what_parse_dns_reads_from_real_and_broken_messages() -> None:
    """A query's questions come from ``dns_questions`` (no message built): on real DNS,
    a fuzzed capture and hand-broken headers they must be parse_dns's, None included."""
    real = [
        data
        for name in ("fuzz_dns_malformed.pcap", "attack_dns_tunnel_iodine.pcap")
        for data in payloads(any_pcap(name), "udp", 53)
    ]
    two = b"\x01a\x00\x00\x01\x00\x01\x01b\x00\x00\x1c\x00\x01"
    made = [
        b"",
        _header(0, 0) + b"\x00" * 8,  # no sections at all: not DNS
        _header(65) + two,  # more questions than a message holds
        _header(2) + two,
        _header(2) + two[:9],  # the second question cut: the first is kept
        _header(1) + b"\x05ab",  # the only question cut: nothing
        _header(0, 1) + two,  # answers but no question: an empty list, not None
        _header() + b"\xc0\x0c\x00\x01\x00\x01",  # a pointer loop
    ]
    assert len(real) > 50
    for data in real + made:
        msg = dissect.parse_dns(data, max_records=0)
        assert dissect.dns_questions(data) == (None if msg is None else msg.questions), data


def _dns_answers_of(msg: dissect.DnsMessage) -> tuple[str, list[dissect.AnswerRecord]]:
    """What ``dns_answers`` must give for a message it reads: the question, and each
    answer's name, type, TTL and (address bytes / CNAME target / None) data."""

    def data(r: dissect.DnsRecord) -> bytes | str | None:
        if r.rtype in (dissect.DNS_A, dissect.DNS_AAAA):
            return resolved.packed(r.data) if r.data else None
        return r.data if r.rtype == 5 else None

    return msg.questions[0][0], [(r.name, r.rtype, r.ttl, data(r)) for r in msg.answers]


def _mutants(data: bytes, rng: random.Random, count: int) -> Iterator[bytes]:
    """Broken copies of a message: bytes flipped, set to pointer / type bytes, cut, and
    its header made a successful response."""
    for _ in range(count):
        raw = bytearray(data)
        for _ in range(rng.randint(1, 4)):
            what = rng.random()
            if what < 0.4 and raw:
                raw[rng.randrange(len(raw))] = rng.randrange(256)
            elif what < 0.6 and len(raw) > 12:
                raw[rng.randrange(12, len(raw))] = rng.choice([0xC0, 0x0C, 0, 1, 5, 28, 0x3F])
            elif what < 0.8:
                raw = raw[: rng.randrange(len(raw) + 1)]
            elif len(raw) >= 4:
                raw[2] |= 0x80
                raw[3] &= 0xF0
        yield bytes(raw)


def _response(question: bytes, *answers: bytes, qd: int = 1, flags: int = 0x8180) -> bytes:
    head = struct.pack("!HHHHHH", 0x1234, flags, qd, len(answers), 0, 0)
    return head + question + b"\x00\x01\x00\x01" + b"".join(answers)


def _rr(name: bytes, rtype: int, rdata: bytes, ttl: int = 60) -> bytes:
    return name + struct.pack("!HHIH", rtype, 1, ttl, len(rdata)) + rdata


def test_dns_answers_read_what_parse_dns_reads_from_real_fuzzed_and_broken_messages() -> None:
    """Queued DNS answers are read by ``dns_answers`` (no message built): on real DNS,
    fuzzed captures, mutants of their responses and hand-made ones, it must give the
    question and the answers as parse_dns reads them, and None only where
    ``resolved.answered`` finds nothing to read; and ``resolved.answers_in`` on it must
    learn what ``answered`` learns from parse_dns's message."""
    real = [
        data
        for name in (
            "fuzz_dns_malformed.pcap",
            "attack_dns_tunnel_iodine.pcap",
            "attack_dns_exfil_dnscat2.pcap",
        )
        for data in payloads(any_pcap(name), "udp", 53)
    ]
    rng = random.Random(20261203)
    responses = [data for data in real if len(data) > 2 and data[2] & 0x80]
    mutants = [m for data in responses for m in _mutants(data, rng, 20)]
    www = b"\x03www\x07example\x03com\x00"
    cdn = b"\x03cdn\x07example\x03net\x00"
    addr4 = bytes([192, 0, 2, 1])
    addr6 = bytes.fromhex("20010db8000000000000000000000001")
    cname = _rr(b"\xc0\x0c", 5, cdn)
    made = [
        _response(www, _rr(b"\xc0\x0c", 1, addr4), _rr(b"\xc0\x0c", 28, addr6)),
        _response(www, cname, _rr(b"\xc0\x2d", 1, addr4)),  # A named by the CNAME target
        _response(www, _rr(b"\xc0\x0c", 1, addr4[:3])),  # A of 3 bytes: no address
        _response(www, _rr(b"\xc0\x0c", 28, addr4)),  # AAAA of 4 bytes: no address
        _response(www, _rr(b"\xc0\x0c", 5, b"\xc0")),  # CNAME target unreadable
        _response(www, _rr(b"\xc0\x0c", 16, b"\x02hi")),  # TXT: no data read
        _response(www, _rr(b"\xc0\x0c", 1, addr4), flags=0x8183),  # NXDOMAIN
        _response(www, _rr(b"\xc0\x0c", 1, addr4), flags=0x0100),  # a query
        _response(www + b"\x00\x01\x00\x01" + www, _rr(b"\xc0\x0c", 1, addr4), qd=2),
        _response(b"\x01a\xff\x00", _rr(b"\xc0\x0c", 1, addr4)),  # label ends in 0xff
        _response(b"\x01a\xc0\x20" + b"\x00" * 20, _rr(b"\xc0\x0c", 1, addr4)),  # pointer
        _response(www, _rr(b"\xc0\x0c", 1, addr4))[:-2],  # the only answer cut
        _response(www, *[_rr(b"\xc0\x0c", 1, bytes([10, 0, 0, n])) for n in range(70)]),
        _response(www)[:20],  # the question cut
        _header(0, 1) + _rr(b"\x00", 1, addr4),  # no question
    ]
    assert len(real) > 50
    assert len(mutants) > 1000
    for data in real + mutants + made:
        msg = dissect.parse_dns(data)
        got = dissect.dns_answers(data)
        if got is None:
            assert (
                msg is None
                or not msg.is_response
                or msg.rcode != 0
                or len(msg.questions) != 1
                or not msg.answers
            ), data
        else:
            assert msg is not None, data
            assert msg.is_response, data
            assert msg.rcode == 0, data
            assert len(msg.questions) == 1, data
            assert got == _dns_answers_of(msg), data
        assert resolved.answers_in(data) == ([] if msg is None else resolved.answered(msg)), data
    learned = [resolved.answers_in(data) for data in made[:2]]
    assert learned == [
        [(addr4, "www.example.com", 60), (addr6, "www.example.com", 60)],
        [(addr4, "www.example.com", 60)],
    ]
