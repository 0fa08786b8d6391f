"""The packet engine: frames in, devices, flows, identities and alerts out.

The loop in ``Engine.process_records`` is the hot path. It touches each frame with a
few slices and one dict lookup: the frame's MAC pair plus its IP 5-tuple is
the flow key, and the flow's counters are all that a frame updates. Everything
slower (creating flows and devices, protocol detection, identification,
detectors) runs on the first packets of a flow, on evidence ports, or in
housekeeping every few seconds of packet time. Frames that are not IP go to
small per-(MAC pair, ethertype) counters folded in the same housekeeping.

All time is packet time, so a replay gives the same answer as the live run.
"""

from __future__ import annotations

import mmap
import os
import socket
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from . import netaddr
from .flows import MAX_REMOTE_HOSTS, MAX_SOURCE_IPS, DeviceRecord, Flow
from .identify import EVIDENCE_PORTS, Identifier, TrafficSummary
from .model import Alert, DeviceRow, EngineStats, Snapshot
from .protocol import OK, Command, Discovery, Reply
from .protocols import by_port, detect
from .sources import (
    LINKTYPE_ETHERNET,
    LINKTYPE_LINUX_SLL,
    LINKTYPE_LINUX_SLL2,
    MAX_RECORD,
    Packet,
    PcapHeader,
    WarnFn,
    pcap_header,
    read_captures,
)

_U16 = struct.Struct("!H").unpack_from
_REC_LE = struct.Struct("<IIII").unpack_from
_REC_BE = struct.Struct(">IIII").unpack_from
_REC_NS = struct.Struct("<IIII")
_PORTS = struct.Struct("!HH").unpack_from
_PROTO_BYTE = [bytes([i]) for i in range(256)]

# The common frame in one unpack: record header (in the file's byte order), MAC
# pair, ethertype, IPv4 version/IHL, flags/fragment offset, protocol, addresses
# and ports, and the TCP flags byte. 64 bytes, so it needs a 48-byte frame; the
# header fields are read in the file's order, which is why the ethertype and
# fragment fields have one constant per byte order below.
_FAST_LEN = 64
_FAST_MIN_CAPLEN = _FAST_LEN - 16
_FAST_FMT = "IIII12sHB5xH1xB2x12s9xB"
_FAST_LE = struct.Struct("<" + _FAST_FMT).unpack_from
_FAST_BE = struct.Struct(">" + _FAST_FMT).unpack_from
# (ethertype IPv4, mask of the MF flag and fragment offset) as each order reads them.
_FAST_CONST_LE = (0x0008, 0xFF3F)
_FAST_CONST_BE = (0x0800, 0x3FFF)
_ZERO4 = b"\x00\x00\x00\x00"

_IPV6_EXT = frozenset((0, 43, 44, 51, 60, 135, 139, 140))
_TCP, _UDP, _ICMP, _ICMP6, _IGMP = 6, 17, 1, 58, 2
_ICMP_ECHO = frozenset((0, 8))
_ICMP6_ECHO = frozenset((128, 129))

# Frames whose payload the engine looks at per flow (both directions together)
# while the application protocol is still unknown.
INSPECT_PACKETS = 4

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
IP_PROTO_NAMES = {_ICMP: "ICMP", _ICMP6: "ICMPv6", _IGMP: "IGMP", 47: "GRE", 50: "ESP", 112: "VRRP"}


def ethertype_name(ethertype: int) -> str:
    if ethertype < 0x0600:
        return "LLC"
    return ETHERTYPE_NAMES.get(ethertype, f"Ethernet 0x{ethertype:04x}")


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


class _Counters(Protocol):
    """What a device record and a snapshot row share: traffic counters."""

    tx_packets: int
    tx_bytes: int
    rx_packets: int
    rx_bytes: int
    first_seen: float
    last_seen: float
    protocols: dict[str, int]


def _add_traffic(
    dev: _Counters,
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

    def state(self) -> dict[str, Any] | None:
        """JSON-able state to persist, or None when there is nothing to keep."""
        return None

    def restore(self, state: dict[str, Any]) -> None:
        return None

    def command(self, cmd: Command) -> Reply | None:
        """Handle a control command: its reply, or None when it is not this observer's."""
        return None


class Engine:
    """Feeds on packets, answers with snapshots."""

    def __init__(self, config: EngineConfig | None = None) -> None:
        self.config = config or EngineConfig()
        self.stats = EngineStats()
        self.packets = 0
        self.bytes = 0
        self.first_time: float | None = None
        self.last_time: float | None = None
        self.alerts: list[Alert] = []
        self.observers: list[EngineObserver] = []
        self.identifier = Identifier()
        self.devices: dict[bytes, DeviceRecord] = {}
        self._flows: dict[bytes, Flow] = {}
        # Both directions' keys -> (flow, is the initiator's direction): one lookup a frame.
        self._index: dict[bytes, tuple[Flow, bool]] = {}
        # (MAC pair + ethertype) -> [packets, bytes, first, last] for frames that are not IP.
        self._other: dict[bytes, list[Any]] = {}
        # MAC pair -> [packets, bytes, first, last] for frames the decoder gave up on.
        self._broken: dict[bytes, list[Any]] = {}
        self._next_housekeeping = 0.0

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
                data if linktype == LINKTYPE_ETHERNET else self._cooked_to_ethernet(data, linktype)
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
        unpack (record header to TCP flags), two concatenations and one dict
        lookup (both directions of a flow are indexed), and allocates nothing
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
        npk = 0
        nbytes = 0
        last = self.last_time if self.last_time is not None else 0.0
        size = len(buf)
        fast_end = size - _FAST_LEN
        p = start
        index = self._index
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
                npk += 1
                nbytes += wirelen
                if ts > last:
                    last = ts
                    if ts >= next_hk:
                        if self.first_time is None:
                            self.first_time = ts
                        self.last_time = ts
                        self._housekeeping(ts)
                        next_hk = self._next_housekeeping
                key = macs + addrs + pb[proto]
                # A subscript is cheaper than get(); a new flow is rare enough for the raise.
                try:
                    f, forward = index[key]
                except KeyError:
                    self._start_flow(key, ts, wirelen, buf[p - caplen : p], 14, 34, proto, 4)
                    continue
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
                p = -1
                break
            q = p + 16  # the frame starts here
            if q + caplen > size:
                break
            p = q + caplen
            ts = sec + frac * tick
            if wirelen < caplen:  # noqa: PLR1730 - a branch is cheaper than max() here
                wirelen = caplen
            npk += 1
            nbytes += wirelen
            if ts > last:
                last = ts
                if ts >= next_hk:
                    if self.first_time is None:
                        self.first_time = ts
                    self.last_time = ts
                    self._housekeeping(ts)
                    next_hk = self._next_housekeeping
            if caplen < 14:
                stats.malformed += 1
                if caplen >= 12:
                    self._count_broken(buf[q : q + 12], ts, wirelen)
                continue
            e0 = buf[q + 12]
            e1 = buf[q + 13]
            off = 14
            if e0 != 8 or e1:  # not untagged IPv4
                while (e0 in (0x81, 0x91) and e1 == 0) or (e0 == 0x88 and e1 == 0xA8):
                    if caplen < off + 4 or off > 18:
                        break
                    e0 = buf[q + off + 2]
                    e1 = buf[q + off + 3]
                    off += 4
                if e0 != 8 or e1:
                    self._not_ipv4(buf[q:p], off, e0, e1, ts, wirelen)
                    continue
            ip = q + off
            if caplen < off + 20:
                stats.truncated += 1
                self._count_broken(buf[q : q + 12], ts, wirelen)
                continue
            vihl = buf[ip]
            l4 = ip + ((vihl & 15) << 2)
            if vihl >> 4 != 4 or l4 < ip + 20:
                stats.malformed += 1
                self._count_broken(buf[q : q + 12], ts, wirelen)
                continue
            proto = buf[ip + 9]
            if buf[ip + 6] & 0x3F or buf[ip + 7]:  # MF flag or a fragment offset
                stats.fragments += 1
                if buf[ip + 6] & 0x1F or buf[ip + 7]:
                    ports = _ZERO4  # not the first fragment: no L4 header
                elif l4 + 4 <= p and proto in (_TCP, _UDP):
                    ports = buf[l4 : l4 + 4]
                else:
                    ports = _ZERO4
                key = buf[q : q + 12] + buf[ip + 12 : ip + 20] + ports + pb[proto]
            elif proto == _TCP or proto == _UDP:  # noqa: PLR1714,SIM109 - cheaper than a tuple test
                if l4 + 4 > p:
                    stats.truncated += 1
                    key = buf[q : q + 12] + buf[ip + 12 : ip + 20] + _ZERO4 + pb[proto]
                elif l4 == ip + 20:  # no IP options: addresses and ports are contiguous
                    key = buf[q : q + 12] + buf[ip + 12 : ip + 24] + pb[proto]
                else:
                    key = buf[q : q + 12] + buf[ip + 12 : ip + 20] + buf[l4 : l4 + 4] + pb[proto]
            elif proto == _ICMP and l4 + 8 <= p:
                ports = buf[l4 + 4 : l4 + 6] * 2 if buf[l4] in _ICMP_ECHO else buf[l4 : l4 + 2] * 2
                key = buf[q : q + 12] + buf[ip + 12 : ip + 20] + ports + pb[proto]
            else:
                key = buf[q : q + 12] + buf[ip + 12 : ip + 20] + _ZERO4 + pb[proto]
            hit = index_get(key)
            if hit is None:
                self._start_flow(key, ts, wirelen, buf[q:p], off, l4 - q, proto, 4)
                continue
            f, forward = hit
            if forward:
                f.last_fwd = ts
                f.fwd_pkts += 1
                f.fwd_bytes += wirelen
                if proto == _TCP and l4 + 13 < p:
                    f.fwd_flags |= buf[l4 + 13]
            else:
                if not f.rev_pkts:
                    self._first_reply(f, ts)
                f.last_rev = ts
                f.rev_pkts += 1
                f.rev_bytes += wirelen
                if proto == _TCP and l4 + 13 < p:
                    f.rev_flags |= buf[l4 + 13]
            if f.inspect_left:
                self._inspect(f, ts, buf[q:p], off, l4 - q, False, forward)
        self.packets += npk
        self.bytes += nbytes
        if npk:
            self.last_time = last
            if self.first_time is None:
                self.first_time = last
        return p

    def _not_ipv4(self, data: bytes, off: int, e0: int, e1: int, ts: float, wirelen: int) -> None:
        if e0 == 0x86 and e1 == 0xDD:
            self._ipv6(ts, wirelen, data, off)
            return
        self._count_other(data[:12] + bytes((e0, e1)), ts, wirelen)
        if e0 == 8 and e1 == 6:
            self._arp(ts, data, off)

    def read_files(self, paths: Sequence[str | os.PathLike[str]], warn: WarnFn) -> None:
        """Feed capture files. One classic Ethernet pcap goes straight to the hot loop."""
        if len(paths) == 1:
            info = pcap_header(paths[0])
            if info is not None and info.linktype == LINKTYPE_ETHERNET:
                self._read_pcap(paths[0], info, warn)
                return
        for batch in read_captures(paths, warn):
            self.process(batch)

    def _read_pcap(self, path: str | os.PathLike[str], info: PcapHeader, warn: WarnFn) -> None:
        """Walk the records in place through a read-only mapping: no copy of the file."""
        with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            mm.madvise(mmap.MADV_SEQUENTIAL)
            # mmap slices are bytes, which is all the loop needs from its buffer.
            used = self.process_records(mm, info.endian, info.tick, 24)  # type: ignore[arg-type]
            if used < 0:
                warn(f"{path}: corrupt record after {self.packets} packets; analysed up to there")
            elif used < len(mm):
                warn(
                    f"{path}: file cut off mid-packet after {self.packets} packets "
                    f"({len(mm) - used} trailing bytes); analysed up to the cut"
                )

    def _ipv6(self, ts: float, wirelen: int, data: bytes, off: int) -> None:
        """IPv6 with its extension-header chain; rarer than IPv4 in homes, kept out of line."""
        stats = self.stats
        if len(data) < off + 40:
            stats.truncated += 1
            self._count_broken(data[:12], ts, wirelen)
            return
        if data[off] >> 4 != 6:
            stats.malformed += 1
            self._count_broken(data[:12], ts, wirelen)
            return
        nh = data[off + 6]
        l4 = off + 40
        first_fragment = True
        hops = 0
        while nh in _IPV6_EXT:
            hops += 1
            if len(data) < l4 + 8 or hops > 8:
                stats.truncated += 1
                nh = -1
                break
            if nh == 44:
                stats.fragments += 1
                if _U16(data, l4 + 2)[0] >> 3:
                    first_fragment = False
                nh = data[l4]
                l4 += 8
            elif nh == 51:
                nh, l4 = data[l4], l4 + (data[l4 + 1] + 2) * 4
            else:
                nh, l4 = data[l4], l4 + (data[l4 + 1] + 1) * 8
            if not first_fragment:
                break
        if nh < 0:
            self._count_broken(data[:12], ts, wirelen)
            return
        proto = nh
        if not first_fragment:
            ports = _ZERO4
        elif proto in (_TCP, _UDP) and len(data) >= l4 + 4:
            ports = data[l4 : l4 + 4]
        elif proto == _ICMP6 and len(data) >= l4 + 8:
            ports = data[l4 + 4 : l4 + 6] * 2 if data[l4] in _ICMP6_ECHO else data[l4 : l4 + 2] * 2
        else:
            if proto in (_TCP, _UDP):
                stats.truncated += 1
            ports = _ZERO4
        key = data[:12] + data[off + 8 : off + 40] + ports + _PROTO_BYTE[proto & 0xFF]
        hit = self._index.get(key)
        if hit is None:
            self._start_flow(key, ts, wirelen, data, off, l4, proto, 16)
            return
        f, forward = hit
        if forward:
            f.last_fwd = ts
            f.fwd_pkts += 1
            f.fwd_bytes += wirelen
            if proto == _TCP and len(data) > l4 + 13:
                f.fwd_flags |= data[l4 + 13]
        else:
            if not f.rev_pkts:
                self._first_reply(f, ts)
            f.last_rev = ts
            f.rev_pkts += 1
            f.rev_bytes += wirelen
            if proto == _TCP and len(data) > l4 + 13:
                f.rev_flags |= data[l4 + 13]
        if f.inspect_left:
            self._inspect(f, ts, data, off, l4, True, forward)

    def _cooked_to_ethernet(self, data: bytes, linktype: int) -> bytes:
        """Linux cooked captures carry only the sender's address: make an Ethernet frame.

        The destination is unknown there, so it becomes the broadcast MAC, which
        is never a device (tshark reports no Ethernet endpoints for cooked
        captures either); an unknown sender becomes the null MAC.
        """
        if linktype == LINKTYPE_LINUX_SLL and len(data) >= 16:
            alen = _U16(data, 4)[0]
            src = data[6:12] if alen == 6 else netaddr.ZERO_MAC
            return netaddr.BROADCAST_MAC + src + data[14:16] + data[16:]
        if linktype == LINKTYPE_LINUX_SLL2 and len(data) >= 20:
            src = data[12:18] if data[11] == 6 else netaddr.ZERO_MAC
            return netaddr.BROADCAST_MAC + src + data[0:2] + data[20:]
        return b""

    def _count_other(self, key: bytes, ts: float, wirelen: int) -> None:
        c = self._other.get(key)
        if c is None:
            self._other[key] = [1, wirelen, ts, ts]
        else:
            c[0] += 1
            c[1] += wirelen
            c[3] = ts

    def _count_broken(self, pair: bytes, ts: float, wirelen: int) -> None:
        c = self._broken.get(pair)
        if c is None:
            self._broken[pair] = [1, wirelen, ts, ts]
        else:
            c[0] += 1
            c[1] += wirelen
            c[3] = ts

    def _arp(self, ts: float, data: bytes, off: int) -> None:
        if len(data) < off + 28 or data[off + 4] != 6 or data[off + 5] != 4:
            return
        op = _U16(data, off + 6)[0]
        sender_mac = data[off + 8 : off + 14]
        sender_ip = data[off + 14 : off + 18]
        target_ip = data[off + 24 : off + 28]
        src = data[6:12]
        if sender_mac == src and netaddr.is_unicast_mac(src) and any(sender_ip):
            dev = self._device(src, ts)
            if dev is not None and len(dev.arp_ips) < MAX_SOURCE_IPS:
                dev.arp_ips.add(sender_ip)
        for obs in self.observers:
            obs.on_arp(ts, src, op, sender_mac, sender_ip, target_ip)

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
        """A frame no flow knows: a new flow, indexed under both directions' keys.

        The key is MAC pair (12) + source and destination address (``alen``
        each) + ports (4) + protocol (1); the reverse key swaps every pair.
        """
        flows = self._flows
        if len(flows) >= self.config.max_flows:
            self._evict_flows(ts)
        a = 12 + alen
        b = a + alen
        src_ip = key[12:a]
        dst_ip = key[a:b]
        ports = key[b : b + 4]
        rkey = key[6:12] + key[:6] + dst_ip + src_ip + ports[2:] + ports[:2] + key[b + 4 :]
        sport, dport = _PORTS(ports)
        src_mac = data[6:12]
        dst_mac = data[:6]
        f = Flow(key, ts, proto, src_mac, dst_mac, src_ip, dst_ip, sport, dport)
        f.rkey = rkey
        f.fwd_pkts = 1
        f.fwd_bytes = wirelen
        if proto == _TCP and len(data) > l4 + 13:
            f.fwd_flags = data[l4 + 13]
        flows[key] = f
        self._index[key] = (f, True)
        if rkey != key:  # a host talking to itself on one port keeps one direction
            self._index[rkey] = (f, False)
        self.stats.flows_total += 1
        src = f.src_dev = self._device(src_mac, ts)
        dst = f.dst_dev = self._device(dst_mac, ts)
        multicast_dst = netaddr.is_multicast_ip(dst_ip)
        if src is not None:
            src.flows += 1
            src.active_flows += 1
            if any(src_ip):
                src.sent_ip = True
                ips = src.source_ips
                if src_ip in ips:
                    ips[src_ip] += 1
                elif len(ips) < MAX_SOURCE_IPS:
                    ips[src_ip] = 1
                if not netaddr.is_local_ip(src_ip) and len(src.nonlocal_behind) < 16:
                    src.nonlocal_behind.add(src_ip)
            if proto == _UDP and sport == 68 and dport == 67:
                src.sent_dhcp = True
            if not multicast_dst and any(dst_ip) and len(src.remote) < MAX_REMOTE_HOSTS:
                src.remote.add(dst_ip)
        if dst is not None:
            dst.flows += 1
            dst.active_flows += 1
            if any(src_ip) and len(dst.remote) < MAX_REMOTE_HOSTS:
                dst.remote.add(src_ip)
            if (
                not multicast_dst
                and not netaddr.is_local_ip(dst_ip)
                and len(dst.nonlocal_behind) < 16
            ):
                dst.nonlocal_behind.add(dst_ip)
        if proto in (_TCP, _UDP):
            f.evidence = sport in EVIDENCE_PORTS or dport in EVIDENCE_PORTS
            f.inspect_left = INSPECT_PACKETS
            self._inspect(f, ts, data, off, l4, len(src_ip) == 16, True)
        elif proto in IP_PROTO_NAMES:
            f.app = IP_PROTO_NAMES[proto]
        else:
            f.app = f"IP protocol {proto}"
        for obs in self.observers:
            obs.on_flow_start(ts, f)

    def _inspect(
        self, f: Flow, ts: float, data: bytes, off: int, l4: int, v6: bool, forward: bool
    ) -> None:
        """Look at a payload: application protocol detection and identification evidence."""
        proto = f.proto
        end = off + 40 + _U16(data, off + 4)[0] if v6 else off + _U16(data, off + 2)[0]
        if proto == _TCP:
            if len(data) < l4 + 13:
                return
            start = l4 + ((data[l4 + 12] >> 4) << 2)
        else:
            start = l4 + 8
        payload = data[start:end]
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
        self.identifier.inspect(
            ts, smac, dmac, netaddr.ip_str(sip), netaddr.ip_str(dip), proto, sport, dport, payload
        )
        if not f.evidence:
            # Names (SNI, Host, banners) sit in the payload that gave the protocol away.
            f.inspect_left = 0 if f.app is not None else f.inspect_left - 1

    def _fold_flow(self, f: Flow, rows: dict[bytes, DeviceRow] | None = None) -> None:
        """Add a flow's counters to its devices (or, for a snapshot, to device rows)."""
        app = f.app or by_port(f.proto, f.sport, f.dport)
        total = f.fwd_bytes + f.rev_bytes
        pkts = f.fwd_pkts + f.rev_pkts
        src, dst = f.src_dev, f.dst_dev
        mine = self.config.own_macs
        if rows is None:
            if src is not None and dst is not None:
                self.stats.unicast_frames += pkts
                if mine and f.src_mac not in mine and f.dst_mac not in mine:
                    self.stats.unicast_between_others += pkts
            if src is not None:
                _add_traffic(
                    src,
                    f.fwd_pkts,
                    f.fwd_bytes,
                    f.rev_pkts,
                    f.rev_bytes,
                    f.first,
                    f.last_fwd,
                    app,
                    total,
                )
                if not netaddr.is_local_ip(f.dst_ip):
                    src.upstream_bytes += f.fwd_bytes
                    src.downstream_bytes += f.rev_bytes
            if dst is not None:
                _add_traffic(
                    dst,
                    f.rev_pkts,
                    f.rev_bytes,
                    f.fwd_pkts,
                    f.fwd_bytes,
                    f.first_rev,
                    f.last_rev,
                    app,
                    total,
                )
                if f.rev_pkts:
                    port = (f.proto, f.dport)
                    dst.server_ports[port] = dst.server_ports.get(port, 0) + total
            return
        srow = rows.get(f.src_mac) if src is not None else None
        drow = rows.get(f.dst_mac) if dst is not None else None
        if srow is not None:
            _add_traffic(
                srow,
                f.fwd_pkts,
                f.fwd_bytes,
                f.rev_pkts,
                f.rev_bytes,
                f.first,
                f.last_fwd,
                app,
                total,
            )
            srow.active_flows += 1
        if drow is not None:
            _add_traffic(
                drow,
                f.rev_pkts,
                f.rev_bytes,
                f.fwd_pkts,
                f.fwd_bytes,
                f.first_rev,
                f.last_rev,
                app,
                total,
            )
            drow.active_flows += 1

    def _first_reply(self, f: Flow, ts: float) -> None:
        """The responder answered (once per flow): it is alive at its address."""
        f.first_rev = ts
        if f.src_dev is not None:
            f.src_dev.answered = True
        dst = f.dst_dev
        ip = f.dst_ip
        if dst is not None and any(ip) and not netaddr.is_multicast_ip(ip):
            dst.sent_ip = True
            ips = dst.source_ips
            if ip in ips:
                ips[ip] += 1
            elif len(ips) < MAX_SOURCE_IPS:
                ips[ip] = 1

    def _refresh_devices(self, f: Flow, ts: float) -> None:
        """A device evicted while its flow lived gets a fresh record before the fold.

        Otherwise the flow's counters would go to a record no longer in the table.
        """
        for attr, mac in (("src_dev", f.src_mac), ("dst_dev", f.dst_mac)):
            dev = getattr(f, attr)
            if dev is not None and self.devices.get(mac) is not dev:
                fresh = self._device(mac, ts)
                if fresh is not None:
                    fresh.active_flows += 1
                setattr(f, attr, fresh)

    def _end_flow(self, f: Flow, ts: float) -> None:
        self._refresh_devices(f, ts)
        self._fold_flow(f)
        if f.src_dev is not None:
            f.src_dev.active_flows -= 1
        if f.dst_dev is not None:
            f.dst_dev.active_flows -= 1
        for obs in self.observers:
            obs.on_flow_end(ts, f)

    def _drop_flow(self, f: Flow) -> None:
        del self._flows[f.key]
        self._index.pop(f.key, None)
        self._index.pop(f.rkey, None)

    def _evict_flows(self, ts: float) -> None:
        """The table is full: expire what is idle, else drop the oldest eighth (counted)."""
        self._expire_flows(ts)
        flows = self._flows
        if len(flows) < self.config.max_flows:
            return
        count = max(1, len(flows) // 8)
        victims = sorted(flows.values(), key=lambda fl: fl.last)[:count]
        for f in victims:
            self._drop_flow(f)
            self._end_flow(f, ts)
        self.stats.flows_evicted += len(victims)

    def _expire_flows(self, ts: float) -> None:
        idle_before = ts - self.config.flow_idle_timeout
        active_before = ts - self.config.flow_active_timeout
        flows = self._flows
        dead = [f for f in flows.values() if f.last_fwd < idle_before and f.last_rev < idle_before]
        for f in dead:
            self._drop_flow(f)
            self._end_flow(f, ts)
        for f in flows.values():
            if f.first < active_before:
                self._refresh_devices(f, ts)
                self._fold_flow(f)
                f.reset_counters(ts)

    # -- devices ------------------------------------------------------------------

    def _device(self, mac: bytes, ts: float) -> DeviceRecord | None:
        if mac[0] & 1:  # group address: broadcast and multicast are nobody's
            return None
        dev = self.devices.get(mac)
        if dev is None:
            if len(self.devices) >= self.config.max_devices:
                self._evict_devices()
            dev = self.devices[mac] = DeviceRecord(mac)
            # The null MAC is counted (tshark counts it) but is no station to watch.
            if mac != netaddr.ZERO_MAC:
                for obs in self.observers:
                    obs.on_new_device(ts, mac)
        return dev

    def _evict_devices(self) -> None:
        """Forget the least recently active eighth of the table; counted, never silent."""
        devices = self.devices
        count = max(1, len(devices) // 8)
        # Spoofed flood MACs never get an answer nor use DHCP: they go first.
        victims = sorted(
            devices.values(),
            key=lambda d: (d.answered or d.sent_dhcp, d.active_flows > 0, d.last_seen),
        )[:count]
        for dev in victims:
            del devices[dev.mac]
            self.identifier.forget(dev.mac)
        self.stats.devices_evicted += len(victims)

    def _fold_small_counters(self) -> None:
        """Fold the non-IP and broken-frame counters into the device table."""
        for table, arp_aware in ((self._other, True), (self._broken, False)):
            for key, (pkts, nbytes, first, last) in table.items():
                dst_mac, src_mac = key[:6], key[6:12]
                name = "Malformed" if not arp_aware else ethertype_name(_U16(key, 12)[0])
                src = self._device(src_mac, first)
                dst = self._device(dst_mac, first)
                if src is not None:
                    _add_traffic(src, pkts, nbytes, 0, 0, first, last, name, nbytes)
                    if name == "ARP":
                        src.arp_packets += pkts
                if dst is not None:
                    _add_traffic(dst, 0, 0, pkts, nbytes, first, last, name, nbytes)
                    if name == "ARP":
                        dst.arp_packets += pkts
                if src is not None and dst is not None:
                    self.stats.unicast_frames += pkts
                    mine = self.config.own_macs
                    if mine and src_mac not in mine and dst_mac not in mine:
                        self.stats.unicast_between_others += pkts
            table.clear()

    def _housekeeping(self, ts: float) -> None:
        self._next_housekeeping = ts + self.config.housekeeping_interval
        self._fold_small_counters()
        self._expire_flows(ts)
        for obs in self.observers:
            obs.on_tick(ts)

    def live_flows(self) -> list[Flow]:
        """The flows in the table now (a copy: observers must not change the table)."""
        return list(self._flows.values())

    # -- control and persistence -------------------------------------------------

    def command(self, cmd: Command) -> Reply:
        """A control command: the engine's own, else its observers' (each one sees it).

        The first refusal wins; a command nobody handles is refused, never ignored.
        """
        if isinstance(cmd, Discovery):
            return self._note_discovery(cmd)
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
        for dev in self.devices.values():
            if raw in dev.arp_ips:
                return dev.mac
        owners = [
            dev.mac for dev in self.devices.values() if raw in dev.source_ips and not dev.is_gateway
        ]
        return owners[0] if len(owners) == 1 else None

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
        return out

    def import_state(self, state: dict[str, Any]) -> None:
        for obs in self.observers:
            saved = state.get(type(obs).__name__)
            if isinstance(saved, dict):
                obs.restore(saved)

    # -- output -------------------------------------------------------------------

    def flush(self) -> None:
        """End of input: expire every flow so devices hold final counters."""
        self._fold_small_counters()
        ts = self.last_time or 0.0
        for f in list(self._flows.values()):
            self._end_flow(f, ts)
        self._flows.clear()
        self._index.clear()

    def traffic_summary(
        self, dev: DeviceRecord, row: DeviceRow, live: list[Flow] | None = None
    ) -> TrafficSummary:
        """What identification knows of a device's traffic, live flows included."""
        server_ports = dict(dev.server_ports)
        upstream, downstream = dev.upstream_bytes, dev.downstream_bytes
        for f in live or ():
            total = f.fwd_bytes + f.rev_bytes
            if f.dst_mac == dev.mac and f.rev_pkts:
                port = (f.proto, f.dport)
                server_ports[port] = server_ports.get(port, 0) + total
            if f.src_mac == dev.mac and not netaddr.is_local_ip(f.dst_ip):
                upstream += f.fwd_bytes
                downstream += f.rev_bytes
        return TrafficSummary(
            ips=row.ips,
            tx_bytes=row.tx_bytes,
            rx_bytes=row.rx_bytes,
            tx_packets=row.tx_packets,
            rx_packets=row.rx_packets,
            protocols=row.protocols,
            server_ports=server_ports,
            remote_hosts=row.remote_hosts,
            upstream_bytes=upstream,
            downstream_bytes=downstream,
            is_gateway=dev.is_gateway,
            duration=max(0.0, row.last_seen - row.first_seen),
        )

    def snapshot(self) -> Snapshot:
        """Every MAC that sent a frame, with live flows included; the engine is unchanged."""
        self._fold_small_counters()
        rows: dict[bytes, DeviceRow] = {}
        for mac, dev in self.devices.items():
            if dev.is_gateway:
                own = [ip for ip in dev.source_ips if netaddr.is_local_ip(ip)]
            else:
                own = list(dev.source_ips)
            own.extend(ip for ip in dev.arp_ips if ip not in dev.source_ips)
            rows[mac] = DeviceRow(
                mac=netaddr.mac_str(mac),
                ips=sorted({netaddr.ip_str(ip) for ip in own if not netaddr.is_multicast_ip(ip)}),
                first_seen=dev.first_seen,
                last_seen=dev.last_seen,
                tx_packets=dev.tx_packets,
                tx_bytes=dev.tx_bytes,
                rx_packets=dev.rx_packets,
                rx_bytes=dev.rx_bytes,
                arp_packets=dev.arp_packets,
                flows=dev.flows,
                remote_hosts=len(dev.remote),
                protocols=dict(dev.protocols),
                sent_ip=dev.sent_ip,
                sent_dhcp=dev.sent_dhcp,
            )
        live: dict[bytes, list[Flow]] = {}
        for f in self._flows.values():
            self._fold_flow(f, rows)
            live.setdefault(f.src_mac, []).append(f)
            if f.dst_mac != f.src_mac:
                live.setdefault(f.dst_mac, []).append(f)
        out: list[DeviceRow] = []
        for mac, row in rows.items():
            if row.tx_packets == 0:
                continue
            if mac == netaddr.ZERO_MAC:
                row.station = False  # no vendor, name or type to guess for nobody
                out.append(row)
                continue
            summary = self.traffic_summary(self.devices[mac], row, live.get(mac))
            ident = self.identifier.identity(mac, summary)
            row.randomized = ident.randomized
            row.manufacturer = ident.manufacturer
            row.name = ident.name
            row.type = ident.type
            row.type_reason = ident.type_reason
            row.domains = list(ident.domains)
            row.same_device_as = ident.same_device_as
            row.name_sources = dict(ident.name_sources)
            out.append(row)
        out.sort(key=lambda r: (-(r.tx_bytes + r.rx_bytes), r.mac))
        stats = self.stats
        stats.flows_active = len(self._flows)
        return Snapshot(
            packets=self.packets,
            bytes=self.bytes,
            first_time=self.first_time,
            last_time=self.last_time,
            devices=out,
            alerts=list(self.alerts),
            stats=EngineStats.from_json(stats.to_json()),
        )
