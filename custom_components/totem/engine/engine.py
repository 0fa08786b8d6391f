"""The packet engine: frames in, devices, flows, identities and alerts out.

The loop in ``Engine.process`` is the hot path. It touches each frame with a
few slices and one dict lookup: the frame's MAC pair plus its IP 5-tuple is
the flow key, and the flow's counters are all that a frame updates. Everything
slower (creating flows and devices, protocol detection, identification,
detectors) runs on the first packets of a flow, on evidence ports, or in
housekeeping every few seconds of packet time. Frames that are not IP go to
small per-(MAC pair, ethertype) counters folded in the same housekeeping.

All time is packet time, so a replay gives the same answer as the live run.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from . import netaddr
from .flows import MAX_REMOTE_HOSTS, MAX_SOURCE_IPS, DeviceRecord, Flow
from .identify import EVIDENCE_PORTS, Identifier, TrafficSummary
from .model import Alert, DeviceRow, EngineStats, Snapshot
from .protocols import by_port, detect
from .sources import LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2, Packet

_U16 = struct.Struct("!H").unpack_from
_PORTS = struct.Struct("!HH").unpack_from
_PROTO_BYTE = [bytes([i]) for i in range(256)]
_ZERO4 = b"\x00\x00\x00\x00"

ETH_IPV4 = b"\x08\x00"
ETH_IPV6 = b"\x86\xdd"
ETH_ARP = b"\x08\x06"
_VLAN_TAGS = frozenset((b"\x81\x00", b"\x88\xa8", b"\x91\x00"))
_IPV6_EXT = frozenset((0, 43, 44, 51, 60, 135, 139, 140))
_TCP, _UDP, _ICMP, _ICMP6, _IGMP = 6, 17, 1, 58, 2
_ICMP_ECHO = frozenset((0, 8))
_ICMP6_ECHO = frozenset((128, 129))

# Frames whose payload the engine looks at per flow (both directions together)
# while the application protocol is still unknown.
INSPECT_PACKETS = 6

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


class EngineObserver(Protocol):
    """What a detector sees: flow starts and ends, ARP, and a periodic tick."""

    def on_flow_start(self, ts: float, flow: Flow) -> None: ...

    def on_flow_end(self, ts: float, flow: Flow) -> None: ...

    def on_arp(
        self,
        ts: float,
        src_mac: bytes,
        op: int,
        sender_mac: bytes,
        sender_ip: bytes,
        target_ip: bytes,
    ) -> None: ...

    def on_tick(self, ts: float) -> None: ...


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
        # (MAC pair + ethertype) -> [packets, bytes, first, last] for frames that are not IP.
        self._other: dict[bytes, list[Any]] = {}
        # MAC pair -> [packets, bytes, first, last] for frames the decoder gave up on.
        self._broken: dict[bytes, list[Any]] = {}
        self._next_housekeeping = 0.0
        self.on_new_device: Callable[[float, bytes], None] | None = None

    # -- packet path -------------------------------------------------------------

    def feed(self, ts: float, wirelen: int, data: bytes, linktype: int = LINKTYPE_ETHERNET) -> None:
        self.process(((ts, wirelen, data, linktype),))

    def process(self, packets: Iterable[Packet]) -> None:
        flows = self._flows
        flows_get = flows.get
        stats = self.stats
        pb = _PROTO_BYTE
        vlan_tags = _VLAN_TAGS
        next_hk = self._next_housekeeping
        npk = 0
        nbytes = 0
        first_time = self.first_time
        last = self.last_time if self.last_time is not None else 0.0
        for ts, wirelen, data, linktype in packets:
            npk += 1
            nbytes += wirelen
            if ts > last:
                last = ts
                if ts >= next_hk:
                    self.last_time = last
                    if first_time is None:
                        first_time = self.first_time = ts
                    self._housekeeping(ts)
                    next_hk = self._next_housekeeping
            if linktype != LINKTYPE_ETHERNET:
                data = self._cooked_to_ethernet(data, linktype)  # noqa: PLW2901
            if len(data) < 14:
                stats.malformed += 1
                if len(data) >= 12:
                    self._count_broken(data[:12], ts, wirelen)
                continue
            et = data[12:14]
            off = 14
            if et in vlan_tags:
                if len(data) < 18:
                    stats.truncated += 1
                    self._count_broken(data[:12], ts, wirelen)
                    continue
                et = data[16:18]
                off = 18
                if et in vlan_tags and len(data) >= 22:
                    et = data[20:22]
                    off = 22
            if et == ETH_IPV4:
                if len(data) < off + 20:
                    stats.truncated += 1
                    self._count_broken(data[:12], ts, wirelen)
                    continue
                vihl = data[off]
                l4 = off + ((vihl & 15) << 2)
                if vihl >> 4 != 4 or l4 < off + 20:
                    stats.malformed += 1
                    self._count_broken(data[:12], ts, wirelen)
                    continue
                proto = data[off + 9]
                addrs = data[off + 12 : off + 20]
                if data[off + 6] & 0x3F or data[off + 7]:  # MF flag or a fragment offset
                    stats.fragments += 1
                    if data[off + 6] & 0x1F or data[off + 7]:
                        ports = _ZERO4  # not the first fragment: no L4 header
                    elif len(data) >= l4 + 4 and proto in (_TCP, _UDP):
                        ports = data[l4 : l4 + 4]
                    else:
                        ports = _ZERO4
                elif proto == _TCP or proto == _UDP:  # noqa: PLR1714,SIM109 - cheaper than a tuple test
                    ports = data[l4 : l4 + 4]
                    if len(ports) < 4:
                        stats.truncated += 1
                        ports = _ZERO4
                elif proto == _ICMP and len(data) >= l4 + 8:
                    ports = (
                        data[l4 + 4 : l4 + 6] * 2
                        if data[l4] in _ICMP_ECHO
                        else data[l4 : l4 + 2] * 2
                    )
                else:
                    ports = _ZERO4
                key = data[:12] + addrs + ports + pb[proto]
                f = flows_get(key)
                if f is not None:
                    f.last_fwd = ts
                    f.fwd_pkts += 1
                    f.fwd_bytes += wirelen
                    if proto == _TCP and len(data) > l4 + 13:
                        f.fwd_flags |= data[l4 + 13]
                    if f.inspect_left:
                        self._inspect(f, ts, data, off, l4, False, True)
                    continue
                rkey = (
                    data[6:12]
                    + data[:6]
                    + addrs[4:]
                    + addrs[:4]
                    + ports[2:]
                    + ports[:2]
                    + pb[proto]
                )
                f = flows_get(rkey)
                if f is not None:
                    if not f.rev_pkts:
                        f.first_rev = ts
                    f.last_rev = ts
                    f.rev_pkts += 1
                    f.rev_bytes += wirelen
                    if proto == _TCP and len(data) > l4 + 13:
                        f.rev_flags |= data[l4 + 13]
                    if f.inspect_left:
                        self._inspect(f, ts, data, off, l4, False, False)
                    continue
                self._start_flow(
                    key, ts, wirelen, data, off, l4, proto, addrs[:4], addrs[4:], ports
                )
            elif et == ETH_IPV6:
                self._ipv6(ts, wirelen, data, off)
            else:
                self._count_other(data[:12] + et, ts, wirelen)
                if et == ETH_ARP:
                    self._arp(ts, data, off)
        self.packets += npk
        self.bytes += nbytes
        if npk:
            self.last_time = last
            if first_time is None:
                first_time = min(p[0] for p in packets) if isinstance(packets, list) else last
            self.first_time = first_time

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
        addrs = data[off + 8 : off + 40]
        pbyte = _PROTO_BYTE[proto & 0xFF]
        key = data[:12] + addrs + ports + pbyte
        flows = self._flows
        f = flows.get(key)
        if f is not None:
            f.last_fwd = ts
            f.fwd_pkts += 1
            f.fwd_bytes += wirelen
            if proto == _TCP and len(data) > l4 + 13:
                f.fwd_flags |= data[l4 + 13]
            if f.inspect_left:
                self._inspect(f, ts, data, off, l4, True, True)
            return
        rkey = data[6:12] + data[:6] + addrs[16:] + addrs[:16] + ports[2:] + ports[:2] + pbyte
        f = flows.get(rkey)
        if f is not None:
            if not f.rev_pkts:
                f.first_rev = ts
            f.last_rev = ts
            f.rev_pkts += 1
            f.rev_bytes += wirelen
            if proto == _TCP and len(data) > l4 + 13:
                f.rev_flags |= data[l4 + 13]
            if f.inspect_left:
                self._inspect(f, ts, data, off, l4, True, False)
            return
        self._start_flow(key, ts, wirelen, data, off, l4, proto, addrs[:16], addrs[16:], ports)

    def _cooked_to_ethernet(self, data: bytes, linktype: int) -> bytes:
        """Linux cooked captures carry only the sender's address: make an Ethernet frame.

        The destination is unknown there, so it becomes the all-zero MAC, which
        is never a device.
        """
        if linktype == LINKTYPE_LINUX_SLL and len(data) >= 16:
            alen = _U16(data, 4)[0]
            src = data[6:12] if alen == 6 else netaddr.ZERO_MAC
            return netaddr.ZERO_MAC + src + data[14:16] + data[16:]
        if linktype == LINKTYPE_LINUX_SLL2 and len(data) >= 20:
            src = data[12:18] if data[11] == 6 else netaddr.ZERO_MAC
            return netaddr.ZERO_MAC + src + data[0:2] + data[20:]
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
        src_ip: bytes,
        dst_ip: bytes,
        ports: bytes,
    ) -> None:
        flows = self._flows
        if len(flows) >= self.config.max_flows:
            self._evict_flows(ts)
        sport, dport = _PORTS(ports)
        src_mac = data[6:12]
        dst_mac = data[:6]
        f = Flow(key, ts, proto, src_mac, dst_mac, src_ip, dst_ip, sport, dport)
        f.fwd_pkts = 1
        f.fwd_bytes = wirelen
        if proto == _TCP and len(data) > l4 + 13:
            f.fwd_flags = data[l4 + 13]
        flows[key] = f
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
            f.inspect_left -= 1
            if f.app is not None and f.inspect_left > 2:
                # Names (SNI, Host) sit in the first payloads; two more are enough.
                f.inspect_left = 2

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
                if f.fwd_pkts:
                    src.saw_send(f.first, f.last_fwd)
                src.tx_packets += f.fwd_pkts
                src.tx_bytes += f.fwd_bytes
                src.rx_packets += f.rev_pkts
                src.rx_bytes += f.rev_bytes
                src.protocols[app] = src.protocols.get(app, 0) + total
                if not netaddr.is_local_ip(f.dst_ip):
                    src.upstream_bytes += f.fwd_bytes
                    src.downstream_bytes += f.rev_bytes
            if dst is not None:
                if f.rev_pkts:
                    dst.saw_send(f.first_rev, f.last_rev)
                dst.tx_packets += f.rev_pkts
                dst.tx_bytes += f.rev_bytes
                dst.rx_packets += f.fwd_pkts
                dst.rx_bytes += f.fwd_bytes
                dst.protocols[app] = dst.protocols.get(app, 0) + total
                if f.rev_pkts:
                    port = (f.proto, f.dport)
                    dst.server_ports[port] = dst.server_ports.get(port, 0) + total
            return
        srow = rows.get(f.src_mac) if src is not None else None
        drow = rows.get(f.dst_mac) if dst is not None else None
        if srow is not None:
            if f.fwd_pkts:
                if srow.tx_packets == 0 or f.first < srow.first_seen:
                    srow.first_seen = f.first
                srow.last_seen = max(srow.last_seen, f.last_fwd)
            srow.tx_packets += f.fwd_pkts
            srow.tx_bytes += f.fwd_bytes
            srow.rx_packets += f.rev_pkts
            srow.rx_bytes += f.rev_bytes
            srow.protocols[app] = srow.protocols.get(app, 0) + total
            srow.active_flows += 1
        if drow is not None:
            if f.rev_pkts:
                if drow.tx_packets == 0 or f.first_rev < drow.first_seen:
                    drow.first_seen = f.first_rev
                drow.last_seen = max(drow.last_seen, f.last_rev)
            drow.tx_packets += f.rev_pkts
            drow.tx_bytes += f.rev_bytes
            drow.rx_packets += f.fwd_pkts
            drow.rx_bytes += f.fwd_bytes
            drow.protocols[app] = drow.protocols.get(app, 0) + total
            drow.active_flows += 1

    def _end_flow(self, f: Flow, ts: float) -> None:
        self._fold_flow(f)
        if f.src_dev is not None:
            f.src_dev.active_flows -= 1
        if f.dst_dev is not None:
            f.dst_dev.active_flows -= 1
        for obs in self.observers:
            obs.on_flow_end(ts, f)

    def _evict_flows(self, ts: float) -> None:
        """The table is full: expire what is idle, else drop the oldest eighth (counted)."""
        self._expire_flows(ts)
        flows = self._flows
        if len(flows) < self.config.max_flows:
            return
        count = max(1, len(flows) // 8)
        victims = sorted(flows.values(), key=lambda fl: fl.last)[:count]
        for f in victims:
            del flows[f.key]
            self._end_flow(f, ts)
        self.stats.flows_evicted += len(victims)

    def _expire_flows(self, ts: float) -> None:
        idle_before = ts - self.config.flow_idle_timeout
        active_before = ts - self.config.flow_active_timeout
        flows = self._flows
        dead = [f for f in flows.values() if f.last < idle_before]
        for f in dead:
            del flows[f.key]
            self._end_flow(f, ts)
        for f in flows.values():
            if f.first < active_before:
                self._fold_flow(f)
                f.reset_counters(ts)

    # -- devices ------------------------------------------------------------------

    def _device(self, mac: bytes, ts: float) -> DeviceRecord | None:
        if not netaddr.is_unicast_mac(mac):
            return None
        dev = self.devices.get(mac)
        if dev is None:
            if len(self.devices) >= self.config.max_devices:
                self._evict_devices()
            dev = self.devices[mac] = DeviceRecord(mac)
            if self.on_new_device is not None:
                self.on_new_device(ts, mac)
        return dev

    def _evict_devices(self) -> None:
        """Forget the least recently active eighth of the table; counted, never silent."""
        devices = self.devices
        count = max(1, len(devices) // 8)
        victims = sorted(devices.values(), key=lambda d: (d.active_flows > 0, d.last_seen))[:count]
        for dev in victims:
            del devices[dev.mac]
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
                    src.saw_send(first, last)
                    src.tx_packets += pkts
                    src.tx_bytes += nbytes
                    src.protocols[name] = src.protocols.get(name, 0) + nbytes
                    if name == "ARP":
                        src.arp_packets += pkts
                if dst is not None:
                    dst.rx_packets += pkts
                    dst.rx_bytes += nbytes
                    dst.protocols[name] = dst.protocols.get(name, 0) + nbytes
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

    # -- output -------------------------------------------------------------------

    def flush(self) -> None:
        """End of input: expire every flow so devices hold final counters."""
        self._fold_small_counters()
        ts = self.last_time or 0.0
        for f in list(self._flows.values()):
            self._end_flow(f, ts)
        self._flows.clear()

    def traffic_summary(self, dev: DeviceRecord, row: DeviceRow) -> TrafficSummary:
        return TrafficSummary(
            ips=row.ips,
            tx_bytes=row.tx_bytes,
            rx_bytes=row.rx_bytes,
            tx_packets=row.tx_packets,
            rx_packets=row.rx_packets,
            protocols=row.protocols,
            server_ports=dev.server_ports,
            remote_hosts=row.remote_hosts,
            upstream_bytes=dev.upstream_bytes,
            downstream_bytes=dev.downstream_bytes,
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
        for f in self._flows.values():
            self._fold_flow(f, rows)
        out: list[DeviceRow] = []
        for mac, row in rows.items():
            if row.tx_packets == 0:
                continue
            ident = self.identifier.identity(mac, self.traffic_summary(self.devices[mac], row))
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
