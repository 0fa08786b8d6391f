"""L2-L4 decoders, dpkt's way: literal bytes in, fields out; cut and broken variants."""

from __future__ import annotations

from custom_components.totem.engine.decode import (
    MALFORMED,
    NO_PORTS,
    TRUNCATED,
    ArpPacket,
    Weird,
    cooked_to_ethernet,
    decode_arp,
    decode_ethernet,
    decode_icmp_ids,
    decode_ipv4,
    decode_ipv6,
    ethertype_name,
    ip_proto_name,
    ipv4_ports,
    ipv6_ports,
    tcp_flags,
    transport_payload,
)

h = bytes.fromhex

MACS = h("0200000000bb0200000000aa")  # destination, source
IP_A, IP_B = h("c0a8010a"), h("c0a80114")  # 192.168.1.10, 192.168.1.20
# IPv4, IHL 5, total length 40, id 1, no flags, TTL 64, TCP, checksum 0, A -> B
IPV4_TCP = h("4500 0028 0001 0000 4006 0000 c0a8010a c0a80114".replace(" ", ""))
# TCP 5000 -> 80, seq 1, ack 0, data offset 5, SYN, window 65535
TCP_SYN = h("1388 0050 00000001 00000000 5002 ffff 0000 0000".replace(" ", ""))
FRAME = MACS + h("0800") + IPV4_TCP + TCP_SYN


def ipv4(proto: int, payload: bytes, flags_frag: str = "0000", ihl: int = 5) -> bytes:
    options = b"\x01" * (4 * (ihl - 5))  # NOP options
    total = (20 + len(options) + len(payload)).to_bytes(2)
    head = bytes([0x40 | ihl, 0]) + total + h("0001") + h(flags_frag) + bytes([64, proto])
    return head + h("0000") + IP_A + IP_B + options + payload


def ipv6(next_header: int, payload: bytes) -> bytes:
    src = h("fd00000000000000000000000000000a")
    dst = h("fd000000000000000000000000000014")
    return h("60000000") + len(payload).to_bytes(2) + bytes([next_header, 64]) + src + dst + payload


# -- Ethernet and VLAN tags -------------------------------------------------------------


def test_untagged_frame() -> None:
    assert decode_ethernet(FRAME) == (0x0800, 14)


def test_vlan_tag_is_walked() -> None:
    frame = MACS + h("8100 0005 0800".replace(" ", "")) + IPV4_TCP
    assert decode_ethernet(frame) == (0x0800, 18)


def test_qinq_tags_are_walked() -> None:
    frame = MACS + h("88a8 0007 8100 0005 86dd".replace(" ", "")) + b"\0" * 40
    assert decode_ethernet(frame) == (0x86DD, 22)


def test_a_third_tag_stays_the_ethertype() -> None:
    frame = MACS + h("8100 0001 8100 0002 8100 0003 0800".replace(" ", "")) + IPV4_TCP
    assert decode_ethernet(frame) == (0x8100, 22)


def test_a_tag_cut_off_stays_the_ethertype() -> None:
    assert decode_ethernet(MACS + h("8100 00".replace(" ", ""))) == (0x8100, 14)


def test_frame_shorter_than_an_ethernet_header() -> None:
    assert decode_ethernet(MACS + h("08")) is None
    assert decode_ethernet(b"") is None


def test_ethertype_names() -> None:
    assert ethertype_name(0x0806) == "ARP"
    assert ethertype_name(0x88CC) == "LLDP"
    assert ethertype_name(0x05DC) == "LLC"  # a length, not a type: 802.3 with LLC
    assert ethertype_name(0x1234) == "Ethernet 0x1234"


# -- IPv4 ---------------------------------------------------------------------------------


def test_ipv4_header() -> None:
    assert decode_ipv4(FRAME, 14) == (6, IP_A + IP_B, 34, 0, False)  # proto, addrs, l4, ...


def test_ipv4_options_move_the_transport_header() -> None:
    frame = MACS + h("0800") + ipv4(6, TCP_SYN, ihl=7)
    ip = decode_ipv4(frame, 14)
    assert not isinstance(ip, Weird)
    assert ip[2] == 14 + 28
    assert ipv4_ports(frame, ip) == (h("13880050"), False)


def test_ipv4_cut_inside_the_header_is_truncated() -> None:
    assert decode_ipv4(FRAME[:33], 14) == TRUNCATED


def test_ipv4_with_another_version_is_malformed() -> None:
    assert decode_ipv4(MACS + h("0800") + h("65") + IPV4_TCP[1:], 14) == MALFORMED


def test_ipv4_header_length_under_20_is_malformed() -> None:
    assert decode_ipv4(MACS + h("0800") + h("44") + IPV4_TCP[1:], 14) == MALFORMED


def test_dont_fragment_is_no_fragment() -> None:
    ip = decode_ipv4(MACS + h("0800") + ipv4(17, b"\0" * 8, "4000"), 14)
    assert not isinstance(ip, Weird)
    assert ip[3:] == (0, False)


def test_ipv4_first_fragment_keys_on_its_ports() -> None:
    frame = MACS + h("0800") + ipv4(17, h("13880035") + b"\0" * 12, "2000")  # MF
    ip = decode_ipv4(frame, 14)
    assert not isinstance(ip, Weird)
    assert ip[3:] == (1, False)
    assert ipv4_ports(frame, ip) == (h("13880035"), False)


def test_ipv4_first_fragment_too_short_for_ports_is_not_truncated() -> None:
    frame = MACS + h("0800") + ipv4(17, h("1388"), "2000")
    ip = decode_ipv4(frame, 14)
    assert not isinstance(ip, Weird)
    assert ipv4_ports(frame, ip) == (NO_PORTS, False)


def test_ipv4_later_fragment_has_no_ports() -> None:
    frame = MACS + h("0800") + ipv4(17, h("13880035") + b"\0" * 12, "00b9")  # offset 185
    ip = decode_ipv4(frame, 14)
    assert not isinstance(ip, Weird)
    assert ip[3:] == (1, True)
    assert ipv4_ports(frame, ip) == (NO_PORTS, False)


def test_ipv4_tcp_cut_before_its_ports_is_truncated() -> None:
    frame = FRAME[:36]
    ip = decode_ipv4(frame, 14)
    assert not isinstance(ip, Weird)
    assert ipv4_ports(frame, ip) == (NO_PORTS, True)


def test_icmp_echo_keys_on_its_identifier() -> None:
    echo = h("0800 f7ff 1234 0001".replace(" ", ""))  # echo request, id 0x1234, seq 1
    frame = MACS + h("0800") + ipv4(1, echo)
    ip = decode_ipv4(frame, 14)
    assert not isinstance(ip, Weird)
    assert ipv4_ports(frame, ip) == (h("12341234"), False)


def test_other_icmp_keys_on_type_and_code() -> None:
    unreachable = h("0303 0000 00000000".replace(" ", ""))  # port unreachable
    frame = MACS + h("0800") + ipv4(1, unreachable)
    ip = decode_ipv4(frame, 14)
    assert not isinstance(ip, Weird)
    assert ipv4_ports(frame, ip) == (h("03030303"), False)


def test_icmp_cut_short_has_no_ids_and_is_not_truncated() -> None:
    frame = MACS + h("0800") + ipv4(1, h("0800f7ff"))
    ip = decode_ipv4(frame, 14)
    assert not isinstance(ip, Weird)
    assert ipv4_ports(frame, ip) == (NO_PORTS, False)


def test_a_protocol_without_ports() -> None:
    frame = MACS + h("0800") + ipv4(47, b"\0" * 8)  # GRE
    ip = decode_ipv4(frame, 14)
    assert not isinstance(ip, Weird)
    assert ipv4_ports(frame, ip) == (NO_PORTS, False)
    assert ip_proto_name(47) == "GRE"
    assert ip_proto_name(253) == "IP protocol 253"


# -- IPv6 ---------------------------------------------------------------------------------


def test_ipv6_header() -> None:
    frame = MACS + h("86dd") + ipv6(17, h("0222 0223 0010 0000".replace(" ", "")) + b"x" * 8)
    ip = decode_ipv6(frame, 14)
    assert not isinstance(ip, Weird)
    assert ip == (17, frame[22:54], 54, 0, False)
    assert ipv6_ports(frame, ip) == (h("02220223"), False)


def test_ipv6_extension_chain_to_a_first_fragment() -> None:
    hop_by_hop = h("2c00 0000 0000 0000".replace(" ", ""))  # next: fragment, 8 bytes
    fragment = h("1100 0001 0000 002a".replace(" ", ""))  # next: UDP, offset 0, M=1
    frame = MACS + h("86dd") + ipv6(0, hop_by_hop + fragment + h("02220223") + b"\0" * 4)
    ip = decode_ipv6(frame, 14)
    assert not isinstance(ip, Weird)
    assert (ip[0], ip[2], ip[3], ip[4]) == (17, 70, 1, False)
    assert ipv6_ports(frame, ip) == (h("02220223"), False)


def test_ipv6_later_fragment_stops_the_walk() -> None:
    fragment = h("1100 0100 0000 002a".replace(" ", ""))  # next: UDP, offset 32
    frame = MACS + h("86dd") + ipv6(44, fragment + b"\0" * 16)
    ip = decode_ipv6(frame, 14)
    assert not isinstance(ip, Weird)
    assert ip[2:] == (62, 1, True)
    assert ipv6_ports(frame, ip) == (NO_PORTS, False)


def test_ipv6_authentication_header_counts_4_byte_words() -> None:
    ah = h("0604") + b"\0" * 22  # next: TCP, length 4 -> (4 + 2) * 4 = 24 bytes
    frame = MACS + h("86dd") + ipv6(51, ah + TCP_SYN)
    ip = decode_ipv6(frame, 14)
    assert not isinstance(ip, Weird)
    assert (ip[0], ip[2]) == (6, 54 + 24)


def test_ipv6_cut_inside_the_header_is_truncated() -> None:
    frame = MACS + h("86dd") + ipv6(17, b"")
    assert decode_ipv6(frame[:50], 14) == TRUNCATED


def test_ipv6_with_another_version_is_malformed() -> None:
    frame = MACS + h("86dd") + h("45") + ipv6(17, b"")[1:]
    assert decode_ipv6(frame, 14) == MALFORMED


def test_ipv6_chain_cut_off_is_truncated_and_keeps_its_fragment_count() -> None:
    fragment = h("3c00 0000 0000 002a".replace(" ", ""))  # next: destination options
    frame = MACS + h("86dd") + ipv6(44, fragment + h("1100"))  # options header cut off
    assert decode_ipv6(frame, 14) == Weird("truncated", fragments=1)


def test_ipv6_endless_extension_chain_is_truncated() -> None:
    options = h("3c00 0000 0000 0000".replace(" ", "")) * 9  # destination options, again
    frame = MACS + h("86dd") + ipv6(60, options + b"\0" * 8)
    assert decode_ipv6(frame, 14) == TRUNCATED


def test_ipv6_tcp_cut_before_its_ports_is_truncated() -> None:
    frame = MACS + h("86dd") + ipv6(6, h("1388"))
    ip = decode_ipv6(frame, 14)
    assert not isinstance(ip, Weird)
    assert ipv6_ports(frame, ip) == (NO_PORTS, True)


def test_icmpv6_echo_keys_on_its_identifier() -> None:
    echo = h("8000 0000 beef 0001".replace(" ", ""))  # echo request, id 0xbeef
    frame = MACS + h("86dd") + ipv6(58, echo)
    ip = decode_ipv6(frame, 14)
    assert not isinstance(ip, Weird)
    assert ipv6_ports(frame, ip) == (h("beefbeef"), False)


# -- transport ----------------------------------------------------------------------------


def test_icmp_ids() -> None:
    echo_reply = h("0000 0000 0007 0001".replace(" ", ""))
    assert decode_icmp_ids(echo_reply, 0, frozenset((0, 8))) == h("00070007")
    assert decode_icmp_ids(echo_reply[:7], 0, frozenset((0, 8))) is None


def test_tcp_flags() -> None:
    assert tcp_flags(FRAME, 34) == 0x02  # SYN
    assert tcp_flags(FRAME[:47], 34) == 0  # cut before the flags byte


def test_udp_payload_leaves_out_ethernet_padding() -> None:
    udp = h("1388 0035 000b 0000".replace(" ", "")) + b"abc"
    frame = MACS + h("0800") + ipv4(17, udp) + b"\0" * 15  # padded to 60 bytes
    assert transport_payload(frame, 14, 34, 17, False) == b"abc"


def test_tcp_payload_starts_after_its_options() -> None:
    tcp = h("1388 0050 00000001 00000000 7018 ffff 0000 0000".replace(" ", ""))  # offset 7
    frame = MACS + h("0800") + ipv4(6, tcp + b"\x01" * 8 + b"GET /")
    assert transport_payload(frame, 14, 34, 6, False) == b"GET /"
    assert transport_payload(frame[:46], 14, 34, 6, False) == b""  # header cut off


def test_ipv6_payload_follows_its_payload_length() -> None:
    udp = h("0222 0223 000a 0000".replace(" ", "")) + b"hi"
    frame = MACS + h("86dd") + ipv6(17, udp) + b"\0" * 6
    assert transport_payload(frame, 14, 54, 17, True) == b"hi"


# -- ARP ----------------------------------------------------------------------------------


ARP_REQUEST = (
    h("0001 0800 06 04 0001".replace(" ", ""))  # Ethernet, IPv4, sizes 6 and 4, request
    + h("0200000000aa")
    + IP_A
    + h("000000000000")
    + IP_B
)


def test_arp_request() -> None:
    frame = h("ffffffffffff0200000000aa0806") + ARP_REQUEST
    assert decode_arp(frame, 14) == ArpPacket(1, h("0200000000aa"), IP_A, IP_B)


def test_arp_cut_off() -> None:
    frame = h("ffffffffffff0200000000aa0806") + ARP_REQUEST[:27]
    assert decode_arp(frame, 14) is None


def test_arp_for_other_address_sizes_is_ignored() -> None:
    frame = h("ffffffffffff0200000000aa0806") + ARP_REQUEST[:4] + h("0810") + ARP_REQUEST[6:]
    assert decode_arp(frame, 14) is None


# -- Linux cooked captures ----------------------------------------------------------------


def test_sll_becomes_ethernet_from_its_sender() -> None:
    # packet type 4 (sent by us), ARPHRD_ETHER, address length 6, address, padding, IPv4
    sll = h("0004 0001 0006".replace(" ", "")) + h("0200000000aa0000") + h("0800") + IPV4_TCP
    assert cooked_to_ethernet(sll, 113) == h("ffffffffffff0200000000aa0800") + IPV4_TCP


def test_sll_without_a_mac_has_the_null_sender() -> None:
    sll = h("0000 0304 0000".replace(" ", "")) + b"\0" * 8 + h("0800") + IPV4_TCP
    assert cooked_to_ethernet(sll, 113) == h("ffffffffffff0000000000000800") + IPV4_TCP


def test_sll2_becomes_ethernet_from_its_sender() -> None:
    # protocol, reserved, interface 2, ARPHRD_ETHER, packet type 4, address length 6
    sll2 = h("0800 0000 00000002 0001 04 06".replace(" ", "")) + h("0200000000aa0000") + IPV4_TCP
    assert cooked_to_ethernet(sll2, 276) == h("ffffffffffff0200000000aa0800") + IPV4_TCP


def test_cooked_frames_too_short_or_of_another_type() -> None:
    assert cooked_to_ethernet(b"\0" * 15, 113) is None
    assert cooked_to_ethernet(b"\0" * 19, 276) is None
    assert cooked_to_ethernet(FRAME, 1) is None
