"""L2-L4 decoding: Ethernet and its VLAN tags, IPv4, IPv6, ARP, ports, cooked frames.

Pure functions on a captured frame (``bytes`` that start with the Ethernet
header), dpkt's way: fixed layouts read with ``struct`` and slices, a small
result out. A frame these functions cannot parse is a *weird* (Zeek's word):
:data:`TRUNCATED` when the capture cut it short, :data:`MALFORMED` when its
header is impossible; the caller counts it and goes on. They never raise on
garbage.

The engine's hot loop decodes the one common frame (untagged IPv4 TCP/UDP)
inline in a single ``struct`` unpack, because a call per frame is what it
cannot afford; every other frame comes here.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Final

from . import netaddr

ETH_HEADER = 14
ETHERTYPE_IPV4: Final = 0x0800
ETHERTYPE_ARP: Final = 0x0806
ETHERTYPE_IPV6: Final = 0x86DD
# 802.1Q, its old QinQ value and 802.1ad: tags the walk steps over.
VLAN_TAGS = frozenset((0x8100, 0x9100, 0x88A8))
# Tags beyond two (QinQ) are not walked: the frame counts under the tag's ethertype.
MAX_TAG_OFFSET = 18

TCP: Final = 6
UDP: Final = 17
ICMP: Final = 1
ICMPV6: Final = 58
IGMP: Final = 2

LINKTYPE_ETHERNET = 1
LINKTYPE_LINUX_SLL = 113
LINKTYPE_LINUX_SLL2 = 276

# IPv6 extension headers the chain walk steps over (hop-by-hop, routing,
# fragment, AH, destination options, mobility, HIP, shim6).
IPV6_EXTENSIONS = frozenset((0, 43, 44, 51, 60, 135, 139, 140))
IPV6_FRAGMENT = 44
IPV6_AH = 51
# More extension headers than this is an attack on the decoder, not a packet.
MAX_IPV6_EXTENSIONS = 8

ICMP_ECHO_TYPES = frozenset((0, 8))
ICMPV6_ECHO_TYPES = frozenset((128, 129))
NO_PORTS = b"\x00\x00\x00\x00"

ETHERTYPE_NAMES = {
    0x0806: "ARP",
    0x888E: "EAPOL",
    0x88CC: "LLDP",
    0x8035: "RARP",
    0x88E5: "MACsec",
    0x8863: "PPPoE",
    0x8864: "PPPoE",
    0x893A: "IEEE 1905.1",
    0x88C7: "802.11 pre-auth",
}
IP_PROTO_NAMES = {ICMP: "ICMP", ICMPV6: "ICMPv6", IGMP: "IGMP", 47: "GRE", 50: "ESP", 112: "VRRP"}

_U16 = struct.Struct("!H").unpack_from


@dataclass(frozen=True, slots=True)
class Weird:
    """What a decoder could not parse: the frame is counted, not decoded."""

    reason: str  # "truncated" or "malformed"
    # Fragment headers the IPv6 chain walk had passed when it gave up: counted all the same.
    fragments: int = 0


TRUNCATED = Weird("truncated")
MALFORMED = Weird("malformed")


# An IP header (IPv6: with its extension chain) as the flow table needs it:
# (transport protocol (IPv6: the chain's last next-header), source then destination
# address (4 or 16 bytes each), offset of the transport header in the frame, fragment
# headers seen (IPv4: 1 for any fragment), whether it is a later fragment (no
# transport header in it)). A tuple rather than a dataclass: building a slotted
# dataclass measured 40% more instructions than the rest of decode_ipv4, and every
# frame off the engine's fast path pays it.
IPHeader = tuple[int, bytes, int, int, bool]


@dataclass(slots=True)
class ArpPacket:
    """An Ethernet/IPv4 ARP message."""

    op: int
    sender_mac: bytes
    sender_ip: bytes
    target_ip: bytes


def ethertype_name(ethertype: int) -> str:
    """The protocol name a non-IP frame is counted under."""
    if ethertype < 0x0600:
        return "LLC"
    return ETHERTYPE_NAMES.get(ethertype, f"Ethernet 0x{ethertype:04x}")


def ip_proto_name(proto: int) -> str:
    """The application name of a flow whose transport carries no ports."""
    return IP_PROTO_NAMES.get(proto, f"IP protocol {proto}")


def decode_ethernet(frame: bytes) -> tuple[int, int] | None:
    """(ethertype, offset of the L3 header) after up to two VLAN tags; None under 14 bytes.

    A tag that the capture cut off, or a third tag, stays the ethertype.
    """
    size = len(frame)
    if size < ETH_HEADER:
        return None
    ethertype = (frame[12] << 8) | frame[13]
    if ethertype not in VLAN_TAGS:
        return ethertype, ETH_HEADER
    off = ETH_HEADER
    while ethertype in VLAN_TAGS and size >= off + 4 and off <= MAX_TAG_OFFSET:
        ethertype = (frame[off + 2] << 8) | frame[off + 3]
        off += 4
    return ethertype, off


def decode_ipv4(frame: bytes, off: int) -> IPHeader | Weird:
    """The IPv4 header at ``off``."""
    if len(frame) < off + 20:
        return TRUNCATED
    vihl = frame[off]
    l4 = off + ((vihl & 15) << 2)
    if vihl >> 4 != 4 or l4 < off + 20:
        return MALFORMED
    flags_hi, frag_lo = frame[off + 6], frame[off + 7]
    fragment = 1 if flags_hi & 0x3F or frag_lo else 0  # the MF flag or an offset
    later = (flags_hi & 0x1F or frag_lo) != 0
    return frame[off + 9], frame[off + 12 : off + 20], l4, fragment, later


def decode_ipv6(frame: bytes, off: int) -> IPHeader | Weird:
    """The IPv6 header at ``off`` and its extension-header chain."""
    size = len(frame)
    if size < off + 40:
        return TRUNCATED
    if frame[off] >> 4 != 6:
        return MALFORMED
    nh = frame[off + 6]
    l4 = off + 40
    fragments = 0
    later = False
    hops = 0
    while nh in IPV6_EXTENSIONS:
        hops += 1
        if size < l4 + 8 or hops > MAX_IPV6_EXTENSIONS:
            return Weird("truncated", fragments)
        if nh == IPV6_FRAGMENT:
            fragments += 1
            later = _U16(frame, l4 + 2)[0] >> 3 != 0
            nh, l4 = frame[l4], l4 + 8
        elif nh == IPV6_AH:  # its length counts 4-byte words, less two
            nh, l4 = frame[l4], l4 + (frame[l4 + 1] + 2) * 4
        else:
            nh, l4 = frame[l4], l4 + (frame[l4 + 1] + 1) * 8
        if later:
            break
    return nh, frame[off + 8 : off + 40], l4, fragments, later


def decode_icmp_ids(frame: bytes, l4: int, echo_types: frozenset[int]) -> bytes | None:
    """What stands in for ports in an ICMP flow key (4 bytes); None when cut off.

    An echo request and its reply share their identifier, so they meet in one
    flow; any other message keys on its type and code.
    """
    if len(frame) < l4 + 8:
        return None
    if frame[l4] in echo_types:
        return frame[l4 + 4 : l4 + 6] * 2
    return frame[l4 : l4 + 2] * 2


def ipv4_ports(frame: bytes, ip: IPHeader) -> tuple[bytes, bool]:
    """The 4 port bytes of an IPv4 flow key, and whether the transport header was cut off.

    Zeros for fragments after the first and for protocols without ports. A
    first fragment keys on its ports when it holds them (ICMP: never), and is
    not truncated when it does not: the rest of its header is in the next one.
    """
    proto, _addrs, l4, fragments, later = ip
    if fragments:
        if not later and proto in (TCP, UDP) and len(frame) >= l4 + 4:
            return frame[l4 : l4 + 4], False
        return NO_PORTS, False
    if proto in (TCP, UDP):
        return (frame[l4 : l4 + 4], False) if len(frame) >= l4 + 4 else (NO_PORTS, True)
    if proto == ICMP:
        ids = decode_icmp_ids(frame, l4, ICMP_ECHO_TYPES)
        if ids is not None:
            return ids, False
    return NO_PORTS, False


def ipv6_ports(frame: bytes, ip: IPHeader) -> tuple[bytes, bool]:
    """The 4 port bytes of an IPv6 flow key, and whether the transport header was cut off.

    Zeros for fragments after the first and for protocols without ports.
    """
    proto, _addrs, l4, _fragments, later = ip
    if later:
        return NO_PORTS, False
    if proto in (TCP, UDP):
        return (frame[l4 : l4 + 4], False) if len(frame) >= l4 + 4 else (NO_PORTS, True)
    if proto == ICMPV6:
        ids = decode_icmp_ids(frame, l4, ICMPV6_ECHO_TYPES)
        if ids is not None:
            return ids, False
    return NO_PORTS, False


def tcp_flags(frame: bytes, l4: int) -> int:
    """The TCP header's flags byte; 0 when the capture cut it off."""
    return frame[l4 + 13] if len(frame) > l4 + 13 else 0


def transport_payload(frame: bytes, off: int, l4: int, proto: int, v6: bool) -> bytes:
    """The TCP or UDP payload, without Ethernet padding; empty when there is none.

    ``off`` is the IP header's offset; its length field says where the
    payload ends (the capture may hold less).
    """
    end = off + 40 + _U16(frame, off + 4)[0] if v6 else off + _U16(frame, off + 2)[0]
    if proto == TCP:
        if len(frame) < l4 + 13:
            return b""
        start = l4 + ((frame[l4 + 12] >> 4) << 2)
    else:
        start = l4 + 8
    return frame[start:end]


def decode_arp(frame: bytes, off: int) -> ArpPacket | None:
    """The ARP message at ``off``; None when cut off or not Ethernet/IPv4 ARP."""
    if len(frame) < off + 28 or frame[off + 4] != 6 or frame[off + 5] != 4:
        return None
    return ArpPacket(
        op=_U16(frame, off + 6)[0],
        sender_mac=frame[off + 8 : off + 14],
        sender_ip=frame[off + 14 : off + 18],
        target_ip=frame[off + 24 : off + 28],
    )


def cooked_to_ethernet(data: bytes, linktype: int) -> bytes | None:
    """A Linux cooked (SLL or SLL2) frame as an Ethernet frame; None when too short.

    Cooked captures carry only the sender's address. The destination becomes
    the broadcast MAC, which is never a device (tshark reports no Ethernet
    endpoints for cooked captures either); an unknown sender becomes the null MAC.
    """
    if linktype == LINKTYPE_LINUX_SLL and len(data) >= 16:
        alen = _U16(data, 4)[0]
        src = data[6:12] if alen == 6 else netaddr.ZERO_MAC
        return netaddr.BROADCAST_MAC + src + data[14:16] + data[16:]
    if linktype == LINKTYPE_LINUX_SLL2 and len(data) >= 20:
        src = data[12:18] if data[11] == 6 else netaddr.ZERO_MAC
        return netaddr.BROADCAST_MAC + src + data[0:2] + data[20:]
    return None
