"""The device table: one record per MAC, bounded, folded from flows and frame counts.

A ``DeviceRecord`` accumulates what the engine learned about one MAC: its
traffic counters (folded from flows when they expire, see :mod:`.flows`),
the addresses it used, whom it talked to. The ``DeviceTable`` creates a
record the first time a unicast MAC appears and, when full, forgets the least
recently active eighth: a flood of spoofed MACs cannot grow memory.

Frames that are not IP (ARP, LLDP, EAPOL...) and frames the decoder gave up on
never make flows; :class:`FrameCounts` tallies them per MAC pair and folds
them into the table at housekeeping.
"""

from __future__ import annotations

import operator
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from . import netaddr
from .decode import ethertype_name
from .model import EngineStats
from .talks import MAX_TALKS, Talk, TalkKey

MAX_REMOTE_HOSTS = 10_000
MAX_SOURCE_IPS = 32
MAX_NONLOCAL_BEHIND = 16
# Two distinct Internet addresses behind one MAC already mean it forwards: a device
# has at most one address of its own outside the private ranges.
GATEWAY_NONLOCAL_ADDRESSES = 2

_U16 = struct.Struct("!H").unpack_from
_LAST_SEEN = operator.attrgetter("last_seen")


class Counters(Protocol):
    """What a device record and a snapshot row share: traffic counters."""

    tx_packets: int
    tx_bytes: int
    rx_packets: int
    rx_bytes: int
    first_seen: float
    last_seen: float
    protocols: dict[str, int]


def add_traffic(
    dev: Counters,
    sent_pkts: int,
    sent_bytes: int,
    recv_pkts: int,
    recv_bytes: int,
    first: float,
    last: float,
    app: str,
    app_bytes: int,
) -> None:
    """Add one direction pair of traffic to a device; first/last seen follow what it sent."""
    if sent_pkts:
        if dev.tx_packets == 0 or first < dev.first_seen:
            dev.first_seen = first
        dev.last_seen = max(dev.last_seen, last)
    dev.tx_packets += sent_pkts
    dev.tx_bytes += sent_bytes
    dev.rx_packets += recv_pkts
    dev.rx_bytes += recv_bytes
    dev.protocols[app] = dev.protocols.get(app, 0) + app_bytes


@dataclass(slots=True, weakref_slot=True)  # flows refer to it weakly
class DeviceRecord:
    """Folded counters and facts about one MAC."""

    mac: bytes
    tx_packets: int = 0
    tx_bytes: int = 0
    rx_packets: int = 0
    rx_bytes: int = 0
    first_seen: float = 0.0
    last_seen: float = 0.0
    arp_packets: int = 0
    flows: int = 0
    active_flows: int = 0
    upstream_bytes: int = 0
    downstream_bytes: int = 0
    longest_flow: float = 0.0  # seconds, of the flows it sent on (battery sensors: wakes.py)
    sent_ip: bool = False
    sent_dhcp: bool = False
    answered: bool = False  # someone replied to it: not a spoofed source
    remote: set[bytes] = field(default_factory=set)
    source_ips: dict[bytes, int] = field(default_factory=dict)
    nonlocal_behind: set[bytes] = field(default_factory=set)
    arp_ips: set[bytes] = field(default_factory=set)
    protocols: dict[str, int] = field(default_factory=dict)
    server_ports: dict[tuple[int, int], int] = field(default_factory=dict)
    # Its busiest conversations from ended flows, bounded (talks.py).
    talks: dict[TalkKey, Talk] = field(default_factory=dict)

    @property
    def is_gateway(self) -> bool:
        """Internet addresses live behind this MAC (as source or destination): it forwards."""
        return len(self.nonlocal_behind) >= GATEWAY_NONLOCAL_ADDRESSES

    def sent_from(self, ip: bytes) -> None:
        """It sent (or answered) from this address."""
        self.sent_ip = True
        ips = self.source_ips
        if ip in ips:
            ips[ip] += 1
        elif len(ips) < MAX_SOURCE_IPS:
            ips[ip] = 1

    def talked_to(self, ip: bytes) -> None:
        if len(self.remote) < MAX_REMOTE_HOSTS:
            self.remote.add(ip)

    def behind(self, ip: bytes) -> None:
        """Traffic of an Internet address went through this MAC."""
        if not netaddr.is_local_ip(ip) and len(self.nonlocal_behind) < MAX_NONLOCAL_BEHIND:
            self.nonlocal_behind.add(ip)

    def claimed_by_arp(self, ip: bytes) -> None:
        if len(self.arp_ips) < MAX_SOURCE_IPS:
            self.arp_ips.add(ip)


class DeviceTable:
    """Every MAC seen, bounded by ``max_devices``; group addresses are nobody's.

    ``on_new(ts, mac)`` hears of each new station (not the null MAC, which is
    counted because tshark counts it, but is no station); ``on_evict(mac)``
    of each record forgotten to make room.
    """

    def __init__(
        self,
        max_devices: int,
        stats: EngineStats,
        on_new: Callable[[float, bytes], None],
        on_evict: Callable[[bytes], None],
    ) -> None:
        self.records: dict[bytes, DeviceRecord] = {}
        self.max_devices = max_devices
        self._stats = stats
        self._on_new = on_new
        self._on_evict = on_evict

    def device(self, mac: bytes, ts: float) -> DeviceRecord | None:
        """The MAC's record, created on first sight; None for a group address."""
        if mac[0] & 1:  # broadcast and multicast
            return None
        dev = self.records.get(mac)
        if dev is None:
            if len(self.records) >= self.max_devices:
                self._evict()
            dev = self.records[mac] = DeviceRecord(mac)
            if mac != netaddr.ZERO_MAC:
                self._on_new(ts, mac)
        return dev

    def _evict(self) -> None:
        """Forget the least recently active eighth of the table; counted, never silent.

        Spoofed flood MACs never get an answer nor use DHCP: they go first, then
        records without a live flow; within each of those four classes the least
        recently seen go first (ties in table order). That is the order of one sort
        of the whole table by (answered or DHCP, live flow, last seen), but built
        from one pass that files each record in its class and a sort of plain floats
        for only the classes the eighth reaches: no key tuple per record, no tuple
        comparisons (the sort's cost for a 4,096 table). Once an eighth is gone,
        the next eviction is an eighth of the table's new MACs away: amortised, a
        new MAC pays for about eight records' filing.
        """
        records = self.records
        count = max(1, len(records) // 8)
        classes: tuple[list[DeviceRecord], ...] = ([], [], [], [])
        stranger, stranger_busy, known, known_busy = (c.append for c in classes)
        for dev in records.values():
            if dev.answered or dev.sent_dhcp:
                (known_busy if dev.active_flows > 0 else known)(dev)
            else:
                (stranger_busy if dev.active_flows > 0 else stranger)(dev)
        victims: list[DeviceRecord] = []
        for members in classes:
            room = count - len(victims)
            if room <= 0:
                break
            members.sort(key=_LAST_SEEN)  # stable: ties keep the table's order
            victims += members[:room]
        for dev in victims:
            del records[dev.mac]
            self._on_evict(dev.mac)
        self._stats.devices_evicted += len(victims)

    def rekey(self, old: bytes, new: bytes) -> DeviceRecord | None:
        """The record of ``old`` becomes ``new``'s, merged into it where ``new`` has one.

        A record that moves keeps its identity (flows refer to it weakly) and raises no
        ``on_new``: it is no new station, only newly named. None when ``old`` had no record.
        """
        dev = self.records.pop(old, None)
        if dev is None:
            return None
        into = self.records.get(new)
        if into is None:
            dev.mac = new
            self.records[new] = dev
            return dev
        _absorb(into, dev)
        return into

    def owner_of(self, ip: bytes) -> bytes | None:
        """The MAC that owns an address, as the capture saw it (ARP first, then traffic)."""
        for dev in self.records.values():
            if ip in dev.arp_ips:
                return dev.mac
        owners = [
            dev.mac for dev in self.records.values() if ip in dev.source_ips and not dev.is_gateway
        ]
        return owners[0] if len(owners) == 1 else None


def _absorb(into: DeviceRecord, dev: DeviceRecord) -> None:
    """Adds one device's record to the record of the same device under another key."""
    if dev.tx_packets and (into.tx_packets == 0 or dev.first_seen < into.first_seen):
        into.first_seen = dev.first_seen
    into.last_seen = max(into.last_seen, dev.last_seen)
    for name in (
        "tx_packets", "tx_bytes", "rx_packets", "rx_bytes", "arp_packets", "flows",
        "active_flows", "upstream_bytes", "downstream_bytes",
    ):  # fmt: skip
        setattr(into, name, getattr(into, name) + getattr(dev, name))
    into.longest_flow = max(into.longest_flow, dev.longest_flow)
    into.sent_ip |= dev.sent_ip
    into.sent_dhcp |= dev.sent_dhcp
    into.answered |= dev.answered
    for ip in dev.remote:
        into.talked_to(ip)
    for ip, count in dev.source_ips.items():
        if ip in into.source_ips or len(into.source_ips) < MAX_SOURCE_IPS:
            into.source_ips[ip] = into.source_ips.get(ip, 0) + count
    for ip in dev.nonlocal_behind:
        into.behind(ip)
    for ip in dev.arp_ips:
        into.claimed_by_arp(ip)
    for app, octets in dev.protocols.items():
        into.protocols[app] = into.protocols.get(app, 0) + octets
    for port, count in dev.server_ports.items():
        into.server_ports[port] = into.server_ports.get(port, 0) + count
    for key, talk in dev.talks.items():
        if len(into.talks) >= MAX_TALKS:
            break
        into.talks.setdefault(key, talk)


class FrameCounts:
    """Frames that make no flow, per key: [packets, bytes, first, last].

    The key starts with the frame's MAC pair (destination, source); non-IP
    frames add their ethertype, so the fold can name their protocol.
    """

    __slots__ = ("by_ethertype", "counts")

    def __init__(self, by_ethertype: bool) -> None:
        self.counts: dict[bytes, list[Any]] = {}
        self.by_ethertype = by_ethertype

    def count(self, key: bytes, ts: float, wirelen: int) -> None:
        c = self.counts.get(key)
        if c is None:
            self.counts[key] = [1, wirelen, ts, ts]
        else:
            c[0] += 1
            c[1] += wirelen
            c[3] = ts

    def fold(self, table: DeviceTable, stats: EngineStats, own_macs: frozenset[bytes]) -> None:
        """Add the counts to the devices of both MACs and start again."""
        for key, (pkts, nbytes, first, last) in self.counts.items():
            dst_mac, src_mac = key[:6], key[6:12]
            name = ethertype_name(_U16(key, 12)[0]) if self.by_ethertype else "Malformed"
            src = table.device(src_mac, first)
            dst = table.device(dst_mac, first)
            if src is not None:
                add_traffic(src, pkts, nbytes, 0, 0, first, last, name, nbytes)
                if name == "ARP":
                    src.arp_packets += pkts
            if dst is not None:
                add_traffic(dst, 0, 0, pkts, nbytes, first, last, name, nbytes)
                if name == "ARP":
                    dst.arp_packets += pkts
            if src is not None and dst is not None:
                stats.unicast_frames += pkts
                if own_macs and src_mac not in own_macs and dst_mac not in own_macs:
                    stats.unicast_between_others += pkts
        self.counts.clear()
