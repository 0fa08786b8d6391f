"""The flow table: what the hot path updates and housekeeping folds into devices.

A ``Flow`` is one bidirectional conversation seen on the LAN segment: its key
is the frame's MAC pair plus the IP 5-tuple, direction set by the initiator
(the sender of its first frame). Keeping the MAC pair in the key makes every
frame belong to exactly one flow, so per-device counters folded from flows
stay byte-exact, and per-device protocol bytes add up to its traffic.

The ``FlowTable`` indexes each flow under both directions' keys, so the hot
loop finds a frame's flow and its direction in one dict lookup; an IPv4 TCP or
UDP flow is also found by its addresses and ports alone (``by_addrs``), which
the hot loop reads straight out of its one unpack, with no key to build. It picks the
flows to expire (idle, or long-lived ones whose counters are exported and
reset) and to evict when full; the engine ends them, and :func:`fold` adds a
flow's counters to its two devices.
"""

from __future__ import annotations

import struct
import weakref

from . import netaddr, talks
from .devices import DeviceRecord, add_traffic
from .model import EngineStats
from .protocols import by_port, service_port

# A flow key's layout (FlowTable.add): destination and source MAC, source and
# destination address, source and destination port, protocol number.
_KEY_V4 = struct.Struct("!6s6s4s4sHHB")
_KEY_V6 = struct.Struct("!6s6s16s16sHHB")
_TCP = 6
_UDP = 17
_SYN = 0x02


class Flow:
    """One bidirectional conversation; counters are plain attributes for speed."""

    __slots__ = (
        "app",
        "domain",
        "dport",
        "dst_ip",
        "dst_mac",
        "dst_ref",
        "evidence",
        "first",
        "first_rev",
        "fwd_bytes",
        "fwd_flags",
        "fwd_pkts",
        "inspect_left",
        "key",
        "last_fwd",
        "last_rev",
        "proto",
        "rev_bytes",
        "rev_flags",
        "rev_pkts",
        "rkey",
        "sport",
        "src_ip",
        "src_mac",
        "src_ref",
        "started",
    )

    def __init__(
        self,
        key: bytes,
        ts: float,
        proto: int,
        src_mac: bytes,
        dst_mac: bytes,
        src_ip: bytes,
        dst_ip: bytes,
        sport: int,
        dport: int,
    ) -> None:
        self.key = key
        self.rkey = key
        self.proto = proto
        self.src_mac = src_mac
        self.dst_mac = dst_mac
        self.src_ip = src_ip
        self.dst_ip = dst_ip
        self.sport = sport
        self.dport = dport
        self.first = ts
        self.started = ts
        self.last_fwd = ts
        self.first_rev = 0.0
        self.last_rev = 0.0
        self.fwd_pkts = 0
        self.fwd_bytes = 0
        self.rev_pkts = 0
        self.rev_bytes = 0
        self.fwd_flags = 0
        self.rev_flags = 0
        self.app: str | None = None
        self.domain: str | None = None  # the TLS server name or HTTP Host the initiator sent
        self.inspect_left = 0
        self.evidence = False
        # Weak: a device evicted from the table while its flows live must be
        # collectable, or memory follows max_flows instead of max_devices.
        self.src_ref: weakref.ref[DeviceRecord] | None = None
        self.dst_ref: weakref.ref[DeviceRecord] | None = None

    @property
    def src_dev(self) -> DeviceRecord | None:
        """The initiator's record; None for a group address or once it was evicted."""
        ref = self.src_ref
        return None if ref is None else ref()

    @src_dev.setter
    def src_dev(self, dev: DeviceRecord | None) -> None:
        self.src_ref = None if dev is None else weakref.ref(dev)

    @property
    def dst_dev(self) -> DeviceRecord | None:
        """The responder's record; None for a group address or once it was evicted."""
        ref = self.dst_ref
        return None if ref is None else ref()

    @dst_dev.setter
    def dst_dev(self, dev: DeviceRecord | None) -> None:
        self.dst_ref = None if dev is None else weakref.ref(dev)

    @property
    def last(self) -> float:
        return self.last_rev if self.last_rev > self.last_fwd else self.last_fwd

    def reset_counters(self, ts: float) -> None:
        """After an active-timeout export: the same flow goes on with fresh counters."""
        self.first = ts
        self.first_rev = 0.0
        self.fwd_pkts = self.fwd_bytes = self.rev_pkts = self.rev_bytes = 0


class FlowTable:
    """Flows by key, and both directions' keys -> (flow, is the initiator's direction)."""

    def __init__(self, max_flows: int) -> None:
        self.max_flows = max_flows
        self.flows: dict[bytes, Flow] = {}
        self.index: dict[bytes, tuple[Flow, bool]] = {}
        # IPv4 TCP/UDP: source and destination address and port (the key's bytes
        # 12-24) -> (MAC pair, protocol, flow, is the initiator's direction). Building
        # the full key costs two concatenations a frame, 12% of the hot loop's
        # instructions; the loop checks the MAC pair and protocol of the entry instead.
        # One flow per address tuple is entered (the first); one that shares its tuple
        # with another (the same conversation between other MACs, TCP beside UDP) is
        # found by its full key in ``index``, which stays the truth for every flow.
        self.by_addrs: dict[bytes, tuple[bytes, int, Flow, bool]] = {}

    def __len__(self) -> int:
        return len(self.flows)

    @property
    def full(self) -> bool:
        return len(self.flows) >= self.max_flows

    def add(self, key: bytes, ts: float, proto: int, alen: int) -> Flow:
        """A new flow for a frame no flow knows, indexed under both directions' keys.

        The key is MAC pair (12: destination, source) + source and destination
        address (``alen`` each) + ports (4) + protocol (1); the reverse key
        swaps every pair. One unpack and one pack of the key's layout: a third of
        the cost of the dozen slices and concatenations that spell the same swap.
        """
        layout = _KEY_V4 if alen == 4 else _KEY_V6
        dst_mac, src_mac, src_ip, dst_ip, sport, dport, proto_byte = layout.unpack(key)
        rkey = layout.pack(src_mac, dst_mac, dst_ip, src_ip, dport, sport, proto_byte)
        f = Flow(key, ts, proto, src_mac, dst_mac, src_ip, dst_ip, sport, dport)
        f.rkey = rkey
        self.flows[key] = f
        self.index[key] = (f, True)
        if rkey != key:  # a host talking to itself on one port keeps one direction
            self.index[rkey] = (f, False)
        if alen == 4 and proto in (_TCP, _UDP):
            enter = self.by_addrs.setdefault
            enter(key[12:24], (key[:12], proto, f, True))
            if rkey != key:
                enter(rkey[12:24], (rkey[:12], proto, f, False))
        return f

    def enter_addrs(self, addrs: bytes, macs: bytes, proto: int, f: Flow, forward: bool) -> None:
        """A flow found by its full key whose address tuple has no entry (the flow that
        held it ended): it holds the entry now, until it ends too."""
        self.by_addrs[addrs] = (macs, proto, f, forward)

    def _leave_addrs(self, f: Flow) -> None:
        """Remove the flow's address entries, where they are its own."""
        by_addrs = self.by_addrs
        for key in (f.key, f.rkey):
            if len(key) == _KEY_V4.size:  # IPv4
                addrs = key[12:24]
                entry = by_addrs.get(addrs)
                if entry is not None and entry[2] is f:
                    del by_addrs[addrs]

    def drop(self, f: Flow) -> None:
        del self.flows[f.key]
        self.index.pop(f.key, None)
        self.index.pop(f.rkey, None)
        self._leave_addrs(f)

    def take_expired(
        self, ts: float, idle_timeout: float, active_timeout: float
    ) -> tuple[list[Flow], list[Flow]]:
        """Take out the flows silent in both directions for ``idle_timeout`` (first list),
        and list those left whose counters started ``active_timeout`` ago (second list,
        due for an export; they stay in the table).

        One pass over the table for both, as housekeeping runs it every tick; a flow
        that is idle is only ended, never exported too. Both lists keep table order.
        """
        idle_before = ts - idle_timeout
        active_before = ts - active_timeout
        idle: list[Flow] = []
        due: list[Flow] = []
        for f in self.flows.values():
            if f.last_fwd < idle_before and f.last_rev < idle_before:
                idle.append(f)
            elif f.first < active_before:
                due.append(f)
        if idle:
            flows, index_pop = self.flows, self.index.pop
            for f in idle:  # drop(), inline: an idle sweep can end thousands at once
                del flows[f.key]
                index_pop(f.key, None)
                index_pop(f.rkey, None)
                self._leave_addrs(f)
        return idle, due

    def drop_oldest(self) -> list[Flow]:
        """Take out the least recently active eighth of the table."""
        count = max(1, len(self.flows) // 8)
        victims = sorted(self.flows.values(), key=lambda fl: fl.last)[:count]
        for f in victims:
            self.drop(f)
        return victims

    def clear(self) -> None:
        self.flows.clear()
        self.index.clear()
        self.by_addrs.clear()


def src_serves(f: Flow) -> bool:
    """A TCP conversation caught after its handshake whose first-seen side is the server.

    With no SYN either way (the capture or the flow table began mid-connection), the
    first frame's sender may be the responder: a device answering from its service port
    (a plug closing its API session on 10000 to a phone's ephemeral port). The port that
    names the service then says who serves. Only a LAN address counts: a remote
    server's replies come through the router's MAC, which serves nothing of theirs.
    """
    return (
        f.proto == _TCP
        and not (f.fwd_flags | f.rev_flags) & _SYN
        and f.sport != f.dport
        and service_port(f.proto, f.sport, f.dport) == f.sport
        and netaddr.is_local_ip(f.src_ip)
    )


def fold(
    f: Flow,
    src: DeviceRecord | None,
    dst: DeviceRecord | None,
    stats: EngineStats,
    own_macs: frozenset[bytes],
) -> None:
    """Add a flow's counters to its devices' records (and the unicast statistics).

    ``src`` and ``dst`` are ``f.src_dev`` and ``f.dst_dev``, which the caller has just
    read (and refreshed): passed in, the weak references are not read again. This runs
    once per ended flow and per export, so the flow's fields are read once into locals.
    """
    proto, sport, dport = f.proto, f.sport, f.dport
    app = f.app or by_port(proto, sport, dport)
    fwd_pkts, fwd_bytes = f.fwd_pkts, f.fwd_bytes
    rev_pkts, rev_bytes = f.rev_pkts, f.rev_bytes
    total = fwd_bytes + rev_bytes
    pkts = fwd_pkts + rev_pkts
    if src is not None and dst is not None:
        stats.unicast_frames += pkts
        if own_macs and f.src_mac not in own_macs and f.dst_mac not in own_macs:
            stats.unicast_between_others += pkts
    elif src is None and dst is None:
        return  # group traffic between records gone: nobody to fold into
    responder_first = src_serves(f)
    last_fwd, last_rev = f.last_fwd, f.last_rev
    last = last_rev if last_rev > last_fwd else last_fwd  # Flow.last
    domain = f.domain
    # A conversation is keyed by its service port (talks.py): the same for both sides.
    talk_port = service_port(proto, sport, dport)
    if src is not None:
        first = f.first
        dst_ip = f.dst_ip
        add_traffic(src, fwd_pkts, fwd_bytes, rev_pkts, rev_bytes, first, last_fwd, app, total)
        if responder_first:
            port = (proto, sport)
            src.server_ports[port] = src.server_ports.get(port, 0) + total
        src.longest_flow = max(src.longest_flow, last_fwd - first)
        if not netaddr.is_local_ip(dst_ip) and not netaddr.is_multicast_ip(dst_ip):
            src.upstream_bytes += fwd_bytes  # the Internet: not the LAN, its broadcasts
            src.downstream_bytes += rev_bytes
        talks.add(
            src.talks, (dst_ip, proto, talk_port), fwd_bytes, rev_bytes, pkts, last, app, domain
        )
    if dst is not None:
        first_rev = f.first_rev
        add_traffic(dst, rev_pkts, rev_bytes, fwd_pkts, fwd_bytes, first_rev, last_rev, app, total)
        if rev_pkts:
            dst.longest_flow = max(dst.longest_flow, last_rev - first_rev)
            if not responder_first:
                port = (proto, dport)
                dst.server_ports[port] = dst.server_ports.get(port, 0) + total
        talks.add(
            dst.talks, (f.src_ip, proto, talk_port), rev_bytes, fwd_bytes, pkts, last, app, domain
        )
