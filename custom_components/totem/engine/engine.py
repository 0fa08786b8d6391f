"""The packet engine: frames in, devices, flows, identities and alerts out.

The loop in ``Engine.process_records`` is the hot path. It touches each frame with a
few slices and one dict lookup: the frame's MAC pair plus its IP 5-tuple is
the flow key, and the flow's counters are all that a frame updates. Everything
slower (creating flows and devices, protocol detection, identification,
detectors) runs on the first packets of a flow, on evidence ports, or in
housekeeping every few seconds of packet time. Frames that are not IP go to
small per-(MAC pair, ethertype) counters folded in the same housekeeping.

Where things are: frames are decoded in :mod:`.decode` (the hot loop's one
inline unpack aside), flows live in :mod:`.flows`, devices in :mod:`.devices`,
capture files are read by :mod:`.sources`, snapshots built by :mod:`.snapshot`.

All time is packet time, so a replay gives the same answer as the live run.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from . import netaddr
from .decode import (
    ETHERTYPE_ARP,
    ETHERTYPE_IPV4,
    ETHERTYPE_IPV6,
    IGMP,
    LINKTYPE_ETHERNET,
    TCP,
    UDP,
    ArpPacket,
    Weird,
    cooked_to_ethernet,
    decode_arp,
    decode_ethernet,
    decode_ipv4,
    decode_ipv6,
    ip_proto_name,
    ipv4_ports,
    ipv6_ports,
    tcp_flags,
    transport_payload,
)
from .devices import DeviceRecord, DeviceTable, FrameCounts
from .flows import Flow, FlowTable, fold
from .identify import EVIDENCE_PORTS, Identifier
from .model import Alert, EngineStats, Snapshot
from .protocol import OK, Command, Discovery, Reply, SetDeviceType
from .protocols import detect
from .snapshot import build_snapshot
from .sources import MAX_RECORD, Packet
from .talks import flow_domain

_REC_LE = struct.Struct("<IIII").unpack_from
_REC_BE = struct.Struct(">IIII").unpack_from
_REC_NS = struct.Struct("<IIII")
_PROTO_BYTE = [bytes([i]) for i in range(256)]
_TCP, _UDP = TCP, UDP  # the hot loop compares with these module globals

# The common frame in one unpack: record header (in the file's byte order), MAC
# pair, ethertype, IPv4 version/IHL, flags/fragment offset, protocol, addresses
# and ports, and the TCP flags byte. 64 bytes, so it needs a 48-byte frame; the
# header fields are read in the file's order, which is why the ethertype and
# fragment fields have one constant per byte order below.
#
# This decodes the frame that is nearly all of a home's traffic (99% of the
# benchmark capture) without a call: handing it to a function in :mod:`.decode`
# instead, one call returning the same tuple, measured 3% more instructions per
# frame (callgrind, benchmark capture), and the margins to the targets are thin.
_FAST_LEN = 64
_FAST_MIN_CAPLEN = _FAST_LEN - 16
_FAST_FMT = "IIII12sHB5xH1xB2x12s9xB"
_FAST_LE = struct.Struct("<" + _FAST_FMT).unpack_from
_FAST_BE = struct.Struct(">" + _FAST_FMT).unpack_from
# (ethertype IPv4, mask of the MF flag and fragment offset) as each order reads them.
_FAST_CONST_LE = (0x0008, 0xFF3F)
_FAST_CONST_BE = (0x0800, 0x3FFF)

# Frames whose payload the engine looks at per flow (both directions together)
# while the application protocol is still unknown.
INSPECT_PACKETS = 4
# Addresses kept as text for the identifier: a home has a few hundred LAN and cloud
# addresses in use at once; 4,096 holds them with room, and is ~0.5 MB at worst.
_MAX_IP_TEXTS = 4096


@dataclass(slots=True)
class EngineConfig:
    """Tunables of the engine; defaults suit a home network on a Raspberry Pi."""

    flow_idle_timeout: float = 120.0
    flow_active_timeout: float = 1800.0
    max_flows: int = 65_536
    max_devices: int = 4_096
    housekeeping_interval: float = 5.0
    learn_seconds: float = 0.0
    own_macs: frozenset[bytes] = field(default_factory=frozenset)


class EngineObserver:
    """What a detector sees; subclass and override what you need (all no-ops here).

    Observers are called on the packet path's slow branches only: when a flow
    starts or ends, for ARP frames, when a MAC is first seen, and on the
    housekeeping tick (every few seconds of packet time). ``state`` and
    ``restore`` let the probe persist what an observer learned;
    ``command`` receives control messages (``reset_baseline``...) from
    Home Assistant through the probe's stdin.
    """

    def on_flow_start(self, ts: float, flow: Flow) -> None:
        return None

    def on_flow_end(self, ts: float, flow: Flow) -> None:
        return None

    def on_arp(
        self,
        ts: float,
        src_mac: bytes,
        op: int,
        sender_mac: bytes,
        sender_ip: bytes,
        target_ip: bytes,
    ) -> None:
        return None

    def on_new_device(self, ts: float, mac: bytes) -> None:
        return None

    def on_tick(self, ts: float) -> None:
        return None

    def on_rekey(self, old: bytes, new: bytes) -> None:
        """The device keyed ``old`` turned out to be ``new`` (a flow device known by its
        address whose MAC was learned): what was learned under ``old`` now belongs to
        ``new``. The frame engine never calls it (frames always carry the MAC)."""

    def state(self) -> dict[str, Any] | None:
        """JSON-able state to persist, or None when there is nothing to keep."""
        return None

    def restore(self, state: dict[str, Any]) -> None:
        return None

    def command(self, cmd: Command) -> Reply | None:
        """Handle a control command: its reply, or None when it is not this observer's."""
        return None


_TYPE_OVERRIDES = "DeviceTypes"  # the state file's key for the user's device types


class _FrameTotals:
    """The engine's frame and byte totals, added up when asked: the hot loop keeps no
    count of its own (see ``Engine.process_records``). A base class of its own because a
    property named ``bytes`` in ``Engine``'s body would shadow the type there."""

    flow_table: FlowTable
    _outside_packets: int
    _outside_bytes: int

    @property
    def packets(self) -> int:
        """Frames seen: those outside flows plus what the live flows hold (a sum over the
        flow table, taken when asked rather than a count kept per frame)."""
        return self._outside_packets + sum(
            f.fwd_pkts + f.rev_pkts for f in self.flow_table.flows.values()
        )

    @property
    def bytes(self) -> int:
        """Bytes on the wire of every frame seen, like ``packets``."""
        return self._outside_bytes + sum(
            f.fwd_bytes + f.rev_bytes for f in self.flow_table.flows.values()
        )


class Engine(_FrameTotals):
    """Feeds on packets, answers with snapshots."""

    def __init__(self, config: EngineConfig | None = None) -> None:
        self.config = config or EngineConfig()
        self.stats = EngineStats()
        # Frames counted outside the live flows' counters: non-IP and broken frames, and
        # the frames of flows ended or exported since (see ``packets``).
        self._outside_packets = 0
        self._outside_bytes = 0
        self.first_time: float | None = None
        self.last_time: float | None = None
        self.alerts: list[Alert] = []
        self.alerts_trimmed = 0  # oldest alerts dropped from the front of ``alerts``
        self.observers: list[EngineObserver] = []
        self.identifier = Identifier()
        self.device_table = DeviceTable(
            self.config.max_devices, self.stats, self._new_device, self.identifier.forget
        )
        self.devices = self.device_table.records
        self.flow_table = FlowTable(self.config.max_flows)
        self._index = self.flow_table.index  # the hot loop's one lookup a frame
        self._other = FrameCounts(by_ethertype=True)  # frames that are not IP
        self._broken = FrameCounts(by_ethertype=False)  # frames the decoder gave up on
        self._next_housekeeping = 0.0
        self._ip_texts: dict[bytes, str] = {}  # address -> text, for the identifier

    def _retire(self, f: Flow) -> None:
        """A flow's counters leave the table (it ended, or they were exported and reset):
        the engine's totals keep them."""
        self._outside_packets += f.fwd_pkts + f.rev_pkts
        self._outside_bytes += f.fwd_bytes + f.rev_bytes

    # -- packet path -------------------------------------------------------------

    def process(self, packets: Iterable[Packet]) -> None:
        """Packets from a socket or a merged replay, framed as one chunk of pcap records.

        Re-framing costs a pack per packet but leaves one hot loop for files and
        live capture alike; cooked (SLL) frames become Ethernet here.
        """
        parts: list[bytes] = []
        append = parts.append
        pack = _REC_NS.pack
        for ts, wirelen, data, linktype in packets:
            frame = (
                data
                if linktype == LINKTYPE_ETHERNET
                else (cooked_to_ethernet(data, linktype) or b"")
            )
            # Branches rather than min()/max() calls: this runs once a packet.
            if ts > 0:
                sec = int(ts)
                frac = int((ts - sec) * 1e9)
                if frac > 999_999_999:  # noqa: PLR1730 - see above
                    frac = 999_999_999
            else:
                sec = frac = 0
            append(pack(sec & 0xFFFFFFFF, frac, len(frame), wirelen if wirelen > 0 else 0))
            append(frame)
        if parts:
            self.process_records(b"".join(parts), "<", 1e-9)

    def process_records(self, buf: bytes, endian: str, tick: float, start: int = 0) -> int:
        """The hot loop, over classic pcap records (16-byte header + Ethernet frame) in ``buf``.

        Returns the offset of the first record that is not complete in ``buf``
        (the caller keeps those bytes for the next chunk), or -1 when a record
        header is corrupt. A TCP/UDP frame of a known IPv4 flow costs one
        unpack (record header to TCP flags) and one dict lookup by its addresses
        and ports (both directions of a flow are indexed), and allocates nothing
        that outlives it; other frames take the general path, a few slices more.
        """
        index_get = self._index.get
        stats = self.stats
        pb = _PROTO_BYTE
        if endian == "<":
            unpack_rec, unpack_fast, (eth_ipv4, frag_mask) = _REC_LE, _FAST_LE, _FAST_CONST_LE
        else:
            unpack_rec, unpack_fast, (eth_ipv4, frag_mask) = _REC_BE, _FAST_BE, _FAST_CONST_BE
        next_hk = self._next_housekeeping
        outside = 0
        outside_bytes = 0
        corrupt = False
        last = self.last_time if self.last_time is not None else 0.0
        size = len(buf)
        fast_end = size - _FAST_LEN
        p = start
        by_addrs = self.flow_table.by_addrs
        # Locals: the fast path reads them for every frame.
        min_caplen = _FAST_MIN_CAPLEN
        max_caplen = MAX_RECORD
        fsec_of = -1  # the record seconds that ``fsec`` holds as a float
        fsec = 0.0
        while True:
            # Fast path: untagged IPv4 TCP/UDP frames without options or fragments,
            # one unpack instead of a dozen index and slice operations, and no
            # test of the buffer's end per frame (``fast_end`` leaves room for the
            # unpack). Any other frame, and the last bytes of the buffer, go to the
            # general path below, which handles every frame (these ones included).
            while p <= fast_end:
                (sec, frac, caplen, wirelen, macs, ethertype, vihl, frag, proto, addrs, tflags) = (
                    unpack_fast(buf, p)
                )
                if not (
                    ethertype == eth_ipv4
                    and vihl == 0x45
                    and (proto == _TCP or proto == _UDP)  # noqa: PLR1714,SIM109 - cheaper than a tuple
                    and not frag & frag_mask
                    and min_caplen <= caplen <= max_caplen
                ):
                    break
                p += 16 + caplen
                if p > size:  # cut off mid-record: the general path says so
                    p -= 16 + caplen
                    break
                # int + float takes the interpreter's slow mixed-type path: the
                # seconds change once a second, so convert them once (same result).
                if sec != fsec_of:
                    fsec_of = sec
                    fsec = float(sec)
                ts = fsec + frac * tick
                if wirelen < caplen:  # noqa: PLR1730 - a branch is cheaper than max() here
                    wirelen = caplen
                # No engine-wide count here: every frame of this path lands in one flow's
                # counters, and ``packets``/``bytes`` add those up when asked (two integer
                # sums a frame measured 4-5% of the loop).
                if ts > last:
                    last = ts
                    if ts >= next_hk:
                        if self.first_time is None:
                            self.first_time = ts
                        self.last_time = ts
                        self._housekeeping(ts)
                        next_hk = self._next_housekeeping
                # Found by the addresses and ports the unpack gave, with no key built;
                # the entry's MAC pair and protocol must be the frame's. A subscript is
                # cheaper than get(), and a miss is rare enough for the raise.
                try:
                    emacs, eproto, f, forward = by_addrs[addrs]
                except KeyError:
                    emacs = None
                if emacs != macs or eproto != proto:  # eproto is only read when bound
                    key = macs + addrs + pb[proto]
                    hit = index_get(key)
                    if hit is None:
                        self._start_flow(key, ts, wirelen, buf[p - caplen : p], 14, 34, proto, 4)
                        continue
                    f, forward = hit
                    if emacs is None:
                        self.flow_table.enter_addrs(addrs, macs, proto, f, forward)
                # The same counter updates as the general path's, inline for speed.
                if forward:
                    f.last_fwd = ts
                    f.fwd_pkts += 1
                    f.fwd_bytes += wirelen
                    if proto == _TCP:
                        f.fwd_flags |= tflags
                else:
                    if not f.rev_pkts:
                        self._first_reply(f, ts)
                    f.last_rev = ts
                    f.rev_pkts += 1
                    f.rev_bytes += wirelen
                    if proto == _TCP:
                        f.rev_flags |= tflags
                if f.inspect_left:
                    self._inspect(f, ts, buf[p - caplen : p], 14, 34, False, forward)
            if p + 16 > size:
                break
            sec, frac, caplen, wirelen = unpack_rec(buf, p)
            if caplen > MAX_RECORD:
                corrupt = True
                break
            q = p + 16  # the frame starts here
            if q + caplen > size:
                break
            p = q + caplen
            ts = sec + frac * tick
            if wirelen < caplen:  # noqa: PLR1730 - a branch is cheaper than max() here
                wirelen = caplen
            if ts > last:
                last = ts
                if ts >= next_hk:
                    if self.first_time is None:
                        self.first_time = ts
                    self.last_time = ts
                    self._housekeeping(ts)
                    next_hk = self._next_housekeeping
            # General path: every frame, decoded step by step by :mod:`.decode`
            # (tagged, IPv6, fragments, options, non-IP, garbage). The flow update
            # stays inline, as in the fast path: moving this block into a method
            # measured 4% more instructions per frame on a VLAN-tagged capture.
            frame = buf[q:p]
            link = decode_ethernet(frame)
            if link is None:
                outside += 1  # frames no flow holds are counted here, the others by flows
                outside_bytes += wirelen
                stats.malformed += 1
                if caplen >= 12:
                    self._broken.count(frame[:12], ts, wirelen)
                continue
            ethertype, off = link
            if ethertype == ETHERTYPE_IPV4:
                ip = decode_ipv4(frame, off)
                v6 = False
            elif ethertype == ETHERTYPE_IPV6:
                ip = decode_ipv6(frame, off)
                v6 = True
            else:
                outside += 1
                outside_bytes += wirelen
                self._not_ip(frame, ethertype, off, ts, wirelen)
                continue
            if isinstance(ip, Weird):
                outside += 1
                outside_bytes += wirelen
                self._weird(frame, ip, ts, wirelen)
                continue
            proto, addrs, l4, fragments, _later = ip
            if fragments:
                stats.fragments += fragments
            ports, cut = ipv6_ports(frame, ip) if v6 else ipv4_ports(frame, ip)
            if cut:
                stats.truncated += 1
            key = frame[:12] + addrs + ports + pb[proto & 0xFF]
            hit = index_get(key)
            if hit is None:
                self._start_flow(key, ts, wirelen, frame, off, l4, proto, 16 if v6 else 4)
                continue
            f, forward = hit
            if forward:
                f.last_fwd = ts
                f.fwd_pkts += 1
                f.fwd_bytes += wirelen
                if proto == _TCP and l4 + 13 < caplen:
                    f.fwd_flags |= frame[l4 + 13]
            else:
                if not f.rev_pkts:
                    self._first_reply(f, ts)
                f.last_rev = ts
                f.rev_pkts += 1
                f.rev_bytes += wirelen
                if proto == _TCP and l4 + 13 < caplen:
                    f.rev_flags |= frame[l4 + 13]
            if f.inspect_left:
                self._inspect(f, ts, frame, off, l4, v6, forward)
        self._outside_packets += outside
        self._outside_bytes += outside_bytes
        if p > start:  # frames were walked
            self.last_time = last
            if self.first_time is None:
                self.first_time = last
        return -1 if corrupt else p

    def _not_ip(self, frame: bytes, ethertype: int, off: int, ts: float, wirelen: int) -> None:
        """ARP, LLDP, EAPOL...: counted per MAC pair and ethertype; ARP is read too."""
        self._other.count(frame[:12] + ethertype.to_bytes(2), ts, wirelen)
        if ethertype == ETHERTYPE_ARP:
            arp = decode_arp(frame, off)
            if arp is not None:
                self._arp(ts, frame[6:12], arp)

    def _weird(self, frame: bytes, weird: Weird, ts: float, wirelen: int) -> None:
        """An IP header the decoder gave up on: counted, by its MAC pair, as broken."""
        stats = self.stats
        stats.fragments += weird.fragments
        if weird.reason == "truncated":
            stats.truncated += 1
        else:
            stats.malformed += 1
        self._broken.count(frame[:12], ts, wirelen)

    def _arp(self, ts: float, src: bytes, arp: ArpPacket) -> None:
        sender_ip = arp.sender_ip
        if arp.sender_mac == src and netaddr.is_unicast_mac(src) and any(sender_ip):
            dev = self.device_table.device(src, ts)
            if dev is not None:
                dev.claimed_by_arp(sender_ip)
        for obs in self.observers:
            obs.on_arp(ts, src, arp.op, arp.sender_mac, sender_ip, arp.target_ip)

    # -- flows ---------------------------------------------------------------------

    def _start_flow(
        self,
        key: bytes,
        ts: float,
        wirelen: int,
        data: bytes,
        off: int,
        l4: int,
        proto: int,
        alen: int,
    ) -> None:
        """A frame no flow knows: a new flow, its devices told what it says about them."""
        table = self.flow_table
        if table.full:
            self._evict_flows(ts)
        f = table.add(key, ts, proto, alen)
        f.fwd_pkts = 1
        f.fwd_bytes = wirelen
        if proto == TCP:
            f.fwd_flags = tcp_flags(data, l4)
        self.stats.flows_total += 1
        src_ip, dst_ip = f.src_ip, f.dst_ip
        src = f.src_dev = self.device_table.device(f.src_mac, ts)
        dst = f.dst_dev = self.device_table.device(f.dst_mac, ts)
        multicast_dst = netaddr.is_multicast_ip(dst_ip)
        from_address = any(src_ip)  # 0.0.0.0 (a DHCP client without one) is nobody's
        if src is not None:
            src.flows += 1
            src.active_flows += 1
            if from_address:
                src.sent_from(src_ip)
                src.behind(src_ip)
            if proto == UDP and f.sport == 68 and f.dport == 67:
                src.sent_dhcp = True
            if not multicast_dst and any(dst_ip):
                src.talked_to(dst_ip)
        if dst is not None:
            dst.flows += 1
            dst.active_flows += 1
            if from_address:
                dst.talked_to(src_ip)
            if not multicast_dst:
                dst.behind(dst_ip)
        if proto in (TCP, UDP):
            f.evidence = f.sport in EVIDENCE_PORTS or f.dport in EVIDENCE_PORTS
            f.inspect_left = INSPECT_PACKETS
            self._inspect(f, ts, data, off, l4, alen == 16, True)
        else:
            f.app = ip_proto_name(proto)
            if proto == IGMP and src is not None:
                # Once per flow (a group's reports share one): an IP stack's quirk.
                self.identifier.inspect_igmp(ts, f.src_mac, data[l4 : l4 + 8])
        for obs in self.observers:
            obs.on_flow_start(ts, f)

    def _inspect(
        self, f: Flow, ts: float, data: bytes, off: int, l4: int, v6: bool, forward: bool
    ) -> None:
        """Look at a payload: application protocol detection and identification evidence."""
        proto = f.proto
        payload = transport_payload(data, off, l4, proto, v6)
        if not payload:
            return
        if forward:
            smac, dmac, sip, dip, sport, dport = (
                f.src_mac,
                f.dst_mac,
                f.src_ip,
                f.dst_ip,
                f.sport,
                f.dport,
            )
        else:
            smac, dmac, sip, dip, sport, dport = (
                f.dst_mac,
                f.src_mac,
                f.dst_ip,
                f.src_ip,
                f.dport,
                f.sport,
            )
        if f.app is None:
            f.app = detect(proto, sport, dport, payload)
        if forward and f.domain is None and proto == 6:
            f.domain = flow_domain(payload)  # the device page's "domain if known"
        self.identifier.inspect(
            ts, smac, dmac, self._ip_text(sip), self._ip_text(dip), proto, sport, dport, payload
        )
        if not f.evidence:
            # Names (SNI, Host, banners) sit in the payload that gave the protocol away.
            # A TLS handshake with a server on the LAN is followed to the server's
            # certificate (an appliance's names it: identify.CERT_NAMES_MAC); Internet
            # flows stop at the ClientHello, as every flow whose protocol is known.
            lan_tls = proto == TCP and payload[0] == 0x16 and netaddr.is_local_ip(f.dst_ip)
            f.inspect_left = 0 if f.app is not None and not lan_tls else f.inspect_left - 1

    def _ip_text(self, raw: bytes) -> str:
        """An address as text, kept: a home's payloads come from and go to a few hundred
        addresses, each converted once (cleared past ``_MAX_IP_TEXTS``: a scan's spray of
        addresses must not grow memory)."""
        texts = self._ip_texts
        text = texts.get(raw)
        if text is None:
            if len(texts) >= _MAX_IP_TEXTS:
                texts.clear()
            text = texts[raw] = netaddr.ip_str(raw)
        return text

    def _first_reply(self, f: Flow, ts: float) -> None:
        """The responder answered (once per flow): it is alive at its address."""
        f.first_rev = ts
        if f.src_dev is not None:
            f.src_dev.answered = True
        dst = f.dst_dev
        ip = f.dst_ip
        if dst is not None and any(ip) and not netaddr.is_multicast_ip(ip):
            dst.sent_from(ip)

    def _refresh_devices(self, f: Flow, ts: float) -> None:
        """A device evicted while its flow lived gets a fresh record before the fold.

        Otherwise the flow's counters would go to a record no longer in the table.
        A flow refers to its devices weakly: an evicted record is gone, or about to be.
        """
        devices = self.devices
        ref = f.src_ref
        if ref is not None and devices.get(f.src_mac) is not ref():
            f.src_dev = self._fresh_device(f.src_mac, ts)
        ref = f.dst_ref
        if ref is not None and devices.get(f.dst_mac) is not ref():
            f.dst_dev = self._fresh_device(f.dst_mac, ts)

    def _fresh_device(self, mac: bytes, ts: float) -> DeviceRecord | None:
        fresh = self.device_table.device(mac, ts)
        if fresh is not None:
            fresh.active_flows += 1
        return fresh

    def _end_flow(self, f: Flow, ts: float) -> None:
        self._retire(f)
        self._refresh_devices(f, ts)
        src, dst = f.src_dev, f.dst_dev
        fold(f, src, dst, self.stats, self.config.own_macs)
        if src is not None:
            src.active_flows -= 1
        if dst is not None:
            dst.active_flows -= 1
        for obs in self.observers:
            obs.on_flow_end(ts, f)

    def _evict_flows(self, ts: float) -> None:
        """The table is full: expire what is idle, else drop the oldest eighth (counted)."""
        self._expire_flows(ts)
        if not self.flow_table.full:
            return
        victims = self.flow_table.drop_oldest()
        for f in victims:
            self._end_flow(f, ts)
        self.stats.flows_evicted += len(victims)

    def _expire_flows(self, ts: float) -> None:
        """End the idle flows; export (fold and reset) the long-lived ones' counters."""
        config = self.config
        idle, due = self.flow_table.take_expired(
            ts, config.flow_idle_timeout, config.flow_active_timeout
        )
        for f in idle:
            self._end_flow(f, ts)
        for f in due:
            self._refresh_devices(f, ts)
            fold(f, f.src_dev, f.dst_dev, self.stats, config.own_macs)
            self._retire(f)
            f.reset_counters(ts)

    # -- devices and housekeeping --------------------------------------------------

    def _new_device(self, ts: float, mac: bytes) -> None:
        for obs in self.observers:
            obs.on_new_device(ts, mac)

    def _fold_frame_counts(self) -> None:
        """Fold the non-IP and broken-frame counters into the device table."""
        for counts in (self._other, self._broken):
            counts.fold(self.device_table, self.stats, self.config.own_macs)

    def _housekeeping(self, ts: float) -> None:
        self._next_housekeeping = ts + self.config.housekeeping_interval
        self._fold_frame_counts()
        self._expire_flows(ts)
        for obs in self.observers:
            obs.on_tick(ts)

    def live_flows(self) -> list[Flow]:
        """The flows in the table now (a copy: observers must not change the table)."""
        return list(self.flow_table.flows.values())

    # -- control and persistence -------------------------------------------------

    def command(self, cmd: Command) -> Reply:
        """A control command: the engine's own, else its observers' (each one sees it).

        The first refusal wins; a command nobody handles is refused, never ignored.
        """
        if isinstance(cmd, Discovery):
            return self._note_discovery(cmd)
        if isinstance(cmd, SetDeviceType):
            self.identifier.set_type(netaddr.mac_bytes(cmd.mac), cmd.type)
            for obs in self.observers:
                obs.command(cmd)  # the detectors drop what they cached about its type
            return OK
        replies = [r for obs in self.observers if (r := obs.command(cmd)) is not None]
        if not replies:
            return Reply.refused("unsupported", f"this probe does not handle {cmd.name!r}")
        return next((r for r in replies if not r.ok), replies[0])

    def mac_of_ip(self, ip: str) -> bytes | None:
        """The MAC that owns an address, as the capture saw it (ARP first, then traffic)."""
        try:
            raw = socket.inet_pton(socket.AF_INET6 if ":" in ip else socket.AF_INET, ip)
        except (OSError, ValueError):
            return None
        return self.device_table.owner_of(raw)

    def _note_discovery(self, cmd: Discovery) -> Reply:
        """Active discovery (Home Assistant's zeroconf browse) about an address or a MAC."""
        mac = netaddr.mac_bytes(cmd.mac) if cmd.mac is not None else None
        if mac is None and cmd.ip is not None:
            mac = self.mac_of_ip(cmd.ip)
        if mac is None or mac not in self.devices:
            return Reply.refused("unknown_device", "no device in the capture has that address")
        self.identifier.note_discovery(
            mac,
            self.last_time or 0.0,
            service_type=cmd.service_type or None,
            instance=cmd.instance or None,
            host=cmd.host or None,
            model=cmd.model or None,
        )
        return OK

    def export_state(self) -> dict[str, Any]:
        """What the observers learned, keyed by observer class, for the probe's state file."""
        out: dict[str, Any] = {}
        for obs in self.observers:
            state = obs.state()
            if state is not None:
                out[type(obs).__name__] = state
        types = self.identifier.overrides_state()
        if types:
            out[_TYPE_OVERRIDES] = types  # the user's types survive a probe restart
        return out

    def import_state(self, state: dict[str, Any]) -> list[str]:
        """Restore what the observers saved; the parts that could not be read are left
        out (returned by name, e.g. ``Guard.snoozed``) and the rest is kept."""
        dropped: list[str] = []
        for obs in self.observers:
            name = type(obs).__name__
            saved = state.get(name)
            if saved is None:
                continue
            if not isinstance(saved, dict):
                dropped.append(name)
                continue
            try:
                obs.restore(saved)
            except Exception:  # wrong types in valid JSON: salvage part by part
                dropped += _salvage(obs, name, saved)
        saved_types = state.get(_TYPE_OVERRIDES)
        if isinstance(saved_types, dict):
            self.identifier.restore_overrides(saved_types)  # skips what does not parse
        elif saved_types is not None:
            dropped.append(_TYPE_OVERRIDES)
        return dropped

    # -- output -------------------------------------------------------------------

    def flush(self) -> None:
        """End of input: expire every flow so devices hold final counters."""
        self._fold_frame_counts()
        ts = self.last_time or 0.0
        for f in list(self.flow_table.flows.values()):
            self._end_flow(f, ts)
        self.flow_table.clear()

    def snapshot(self, *, with_talks: bool = True) -> Snapshot:
        """Every MAC that sent a frame, with live flows included; the engine is unchanged.

        ``with_talks=False``: without each device's busiest conversations and peers."""
        self._fold_frame_counts()
        self.stats.flows_active = len(self.flow_table)
        return build_snapshot(
            devices=self.devices,
            flows=self.flow_table.flows.values(),
            identifier=self.identifier,
            packets=self.packets,
            bytes_=self.bytes,
            first_time=self.first_time,
            last_time=self.last_time,
            alerts=self.alerts,
            stats=self.stats,
            with_talks=with_talks,
        )


def _salvage(obs: EngineObserver, name: str, saved: dict[str, Any]) -> list[str]:
    """Restore ``saved`` one key at a time, and a mapping's entries one at a time, so
    one bad value costs only itself. Restores add to what is there, so the parts that
    passed before the failure stay."""
    dropped: list[str] = []
    for key, value in saved.items():
        try:
            obs.restore({key: value})
            continue
        except Exception:
            pass
        if not isinstance(value, dict):
            dropped.append(f"{name}.{key}")
            continue
        for sub, item in value.items():
            try:
                obs.restore({key: {sub: item}})
            except Exception:
                dropped.append(f"{name}.{key}.{sub}")
    return dropped
