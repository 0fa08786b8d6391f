"""``collect --netflow PORT | --replay FILE``: flow export in, the ``analyze`` document out.

A router that exports NetFlow/IPFIX/sFlow sees every home device without a bridge.
Flow records carry addresses and counters, not frames: devices are keyed by MAC when
the records carry one, otherwise by their LAN address (``"mac": null``), and nothing
identifies their type (no DHCP, mDNS or payload reaches a collector).
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import signal
import socket
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

from .devices import GATEWAY_NONLOCAL_ADDRESSES
from .dissect import flow_export_kind
from .leases import Lease, LeaseFile
from .model import DeviceRow, Snapshot
from .netaddr import ip_str, is_local_ip, is_multicast_ip, is_unicast_mac, mac_str
from .netflow import DecoderConfig, FlowDecoder, FlowRecord
from .protocols import by_port
from .report import render_table
from .sources import CaptureFileError, open_capture

READY_MARK = "collecting on"
MAX_DEVICES = 4096
MAX_IPS = 16
MAX_REMOTES = 4096  # per device; past it remote_hosts stops growing (reported as is)
MAX_PROTOCOLS = 64
MAX_EXPORTERS_IGNORED = 1024
IDENTIFICATION_NOTE = (
    "flow records carry no DHCP, mDNS or payload evidence: devices are not identified"
)


@dataclass(slots=True)
class _Device:
    mac: str | None
    name: str | None = None  # from the router's DHCP lease
    ips: list[str] = field(default_factory=list)
    first: float = 0.0
    last: float = 0.0
    tx_packets: int = 0
    tx_bytes: int = 0
    rx_packets: int = 0
    rx_bytes: int = 0
    flows: int = 0
    remotes: set[bytes] = field(default_factory=set)
    protocols: dict[str, int] = field(default_factory=dict)
    # Internet addresses that were this MAC's own end of a record, up to
    # GATEWAY_NONLOCAL_ADDRESSES: at that many the MAC forwards (the router).
    behind: set[bytes] = field(default_factory=set)


@dataclass(slots=True)
class CollectorStats:
    datagrams: int = 0
    not_allowed: int = 0  # from an address outside --allow: ignored
    not_export: int = 0  # replayed UDP that is no flow export
    records: int = 0
    records_without_device: int = 0  # neither end a MAC or a LAN address
    devices_dropped: int = 0
    devices_merged: int = 0  # address-keyed devices whose MAC a later record named
    devices_from_leases: int = 0  # address-keyed devices whose MAC the DHCP leases named


class FlowCollector:
    """Flow records in, the ``analyze`` document out; every table bounded."""

    def __init__(
        self, allow: Iterable[str] = (), decoder_config: DecoderConfig | None = None
    ) -> None:
        self.allow = {_normal(a) for a in allow}
        self.decoder = FlowDecoder(decoder_config)
        self.stats = CollectorStats()
        self._devices: dict[str, _Device] = {}
        self.packets = 0
        self.bytes = 0
        self.first: float | None = None
        self.last: float | None = None
        self._ignored: set[str] = set()
        # Address -> the MAC a record or a lease named for it: a later record without a
        # MAC (the reply direction, an exporter without MAC fields) or a lease that
        # expired still finds the MAC's device instead of making an address device again.
        self._owners: dict[str, str] = {}
        # The router's DHCP leases (--leases): MAC and name for address-only records.
        self.leases: LeaseFile | None = None
        # Called with every decoded record after it is counted (the probe's detectors).
        self.on_record: Callable[[FlowRecord, float], None] | None = None

    def feed(self, payload: bytes, exporter: str, now: float) -> None:
        """One datagram from ``exporter`` received at ``now``."""
        exporter = _normal(exporter)
        self.stats.datagrams += 1
        if self.allow and exporter not in self.allow:
            self.stats.not_allowed += 1
            if len(self._ignored) < MAX_EXPORTERS_IGNORED:
                self._ignored.add(exporter)
            return
        for rec in self.decoder.decode(payload, exporter, now):
            self.add(rec, now)
            if self.on_record is not None:
                self.on_record(rec, now)

    def refresh_leases(self, now: float | None = None, force: bool = False) -> bool:
        """Re-reads the lease file if it changed (one stat at most every few seconds);
        True when it did."""
        if self.leases is not None and self.leases.refresh(now, force):
            self.apply_leases()
            return True
        return False

    def apply_leases(self) -> None:
        """Address-keyed devices the leases name take the lease's MAC (and name)."""
        if self.leases is None:
            return
        for key, dev in list(self._devices.items()):
            if dev.mac is not None:
                for ip in dev.ips:
                    lease = self.leases.get(ip)
                    if lease is not None and lease.mac == dev.mac and lease.name:
                        dev.name = lease.name
                continue
            lease = self.leases.get(key)
            if lease is None:
                continue
            if lease.name:
                dev.name = lease.name
            if lease.mac is None:
                continue
            del self._devices[key]
            self._own(key, lease.mac)
            self.stats.devices_from_leases += 1
            into = self._devices.get(lease.mac)
            if into is None:
                dev.mac = lease.mac
                self._devices[lease.mac] = dev
            else:
                _fold(into, dev)

    def lease_for(self, addr: bytes) -> Lease | None:
        if self.leases is None:
            return None
        return self.leases.get(ip_str(addr))

    def add(self, rec: FlowRecord, now: float) -> None:
        self.stats.records += 1
        first = rec.first if rec.first is not None else now
        last = rec.last if rec.last is not None else now
        self.first = first if self.first is None else min(self.first, first)
        self.last = last if self.last is None else max(self.last, last)
        self.packets += rec.packets
        self.bytes += rec.octets
        src = self._device(rec.src_mac, rec.src)
        dst = self._device(rec.dst_mac, rec.dst)
        if src is None and dst is None:
            self.stats.records_without_device += 1
            return
        proto = by_port(rec.proto, rec.sport, rec.dport)
        for dev, peer, tx in ((src, rec.dst, True), (dst, rec.src, False)):
            if dev is None:
                continue
            if tx:
                dev.tx_packets += rec.packets
                dev.tx_bytes += rec.octets
            else:
                dev.rx_packets += rec.packets
                dev.rx_bytes += rec.octets
            dev.flows += 1
            dev.first = min(dev.first, first) if dev.flows > 1 else first
            dev.last = max(dev.last, last)
            if (
                not is_local_ip(peer)
                and not is_multicast_ip(peer)
                and len(dev.remotes) < MAX_REMOTES
            ):
                dev.remotes.add(peer)
            if proto in dev.protocols or len(dev.protocols) < MAX_PROTOCOLS:
                dev.protocols[proto] = dev.protocols.get(proto, 0) + rec.octets

    def _device(self, mac: bytes | None, addr: bytes) -> _Device | None:
        local = is_local_ip(addr) and not is_multicast_ip(addr)
        if mac is not None and not is_unicast_mac(mac):
            mac = None
        text = ip_str(addr) if local else ""
        lease = self.leases.get(text) if local and self.leases is not None else None
        key: str | None = None
        if mac is not None:
            key = mac_str(mac)
            if local and self._owners.get(text) != key and not self._forwards(key):
                self._own(text, key)
        elif local:
            if lease is not None and lease.mac is not None:
                key = lease.mac
                if text in self._devices:
                    self.apply_leases()  # keyed by address before the leases named it
            else:
                key = self._owners.get(text)  # named before, by a record or a lease
        if key is None and not local:
            return None  # a public address is a remote host, never a home device
        named = key is not None
        key = key or text
        dev = self._devices.get(key)
        if dev is None and named and local:
            # The address was a device of its own until a record named its MAC: one device.
            dev = self._devices.pop(text, None)
            if dev is not None:
                dev.mac = key
                self._devices[key] = dev
                self.stats.devices_merged += 1
        if dev is None:
            if len(self._devices) >= MAX_DEVICES:
                self.stats.devices_dropped += 1
                return None
            dev = self._devices[key] = _Device(key if named else None)
            if lease is not None and (lease.mac is None or lease.mac == key):
                dev.name = lease.name
        if local and text not in dev.ips and len(dev.ips) < MAX_IPS:
            dev.ips.append(text)
        elif not local and len(dev.behind) < GATEWAY_NONLOCAL_ADDRESSES:
            dev.behind.add(addr)
        return dev

    def _forwards(self, key: str) -> bool:
        """The router's MAC on a routed record (another VLAN's device, seen on egress)
        holds no LAN address of its own: it names none, as the detectors' table says."""
        dev = self._devices.get(key)
        return dev is not None and len(dev.behind) >= GATEWAY_NONLOCAL_ADDRESSES

    def _own(self, ip: str, mac: str) -> None:
        owners = self._owners
        if owners.get(ip) == mac:
            return
        owners.pop(ip, None)  # re-inserted last: the oldest entry goes first when full
        if len(owners) >= MAX_DEVICES:
            del owners[next(iter(owners))]
        owners[ip] = mac

    def snapshot(self) -> Snapshot:
        rows = []
        for dev in self._devices.values():
            rows.append(
                DeviceRow(
                    mac=dev.mac or "",
                    name=dev.name,
                    name_sources={"dhcp_lease": dev.name} if dev.name else {},
                    ips=sorted(dev.ips),
                    first_seen=dev.first,
                    last_seen=dev.last,
                    tx_packets=dev.tx_packets,
                    tx_bytes=dev.tx_bytes,
                    rx_packets=dev.rx_packets,
                    rx_bytes=dev.rx_bytes,
                    flows=dev.flows,
                    remote_hosts=len(dev.remotes),
                    protocols=dict(sorted(dev.protocols.items(), key=lambda kv: -kv[1])),
                )
            )
        rows.sort(key=lambda r: (-(r.tx_bytes + r.rx_bytes), r.mac, r.ips))
        return Snapshot(self.packets, self.bytes, self.first, self.last, rows, [])

    def document(self) -> dict[str, Any]:
        """The ``analyze --json`` document, plus a ``collector`` entry of counters."""
        doc = self.snapshot().to_json(contract_only=True)
        for dev in doc["devices"]:
            if dev["mac"] == "":
                dev["mac"] = None
        doc["collector"] = {
            "identification": IDENTIFICATION_NOTE,
            **_fields(self.stats),
            **self.decoder.stats.to_json(),
            "templates": self.decoder.templates,
            "ignored_exporters": sorted(self._ignored),
            **(self.leases.stats() if self.leases is not None else {}),
        }
        return doc


def _fold(into: _Device, dev: _Device) -> None:
    """Adds an address-keyed device's traffic to the MAC-keyed device it turned out to be."""
    into.first = min(into.first, dev.first) if into.flows else dev.first
    into.last = max(into.last, dev.last)
    into.tx_packets += dev.tx_packets
    into.tx_bytes += dev.tx_bytes
    into.rx_packets += dev.rx_packets
    into.rx_bytes += dev.rx_bytes
    into.flows += dev.flows
    into.name = into.name or dev.name
    for ip in dev.ips:
        if ip not in into.ips and len(into.ips) < MAX_IPS:
            into.ips.append(ip)
    for peer in dev.remotes:
        if len(into.remotes) >= MAX_REMOTES:
            break
        into.remotes.add(peer)
    for proto, octets in dev.protocols.items():
        if proto in into.protocols or len(into.protocols) < MAX_PROTOCOLS:
            into.protocols[proto] = into.protocols.get(proto, 0) + octets


def _fields(obj: Any) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in obj.__dataclass_fields__}


def _normal(addr: str) -> str:
    """An address in one spelling: IPv4-mapped IPv6 (dual-stack sockets) as IPv4."""
    ip = ipaddress.ip_address(addr.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return str(ip)


def udp_payloads(path: str) -> Iterable[tuple[float, str, bytes]]:
    """(time, sender, payload) of every flow-export datagram in a capture (Ethernet, VLAN)."""
    for batch in open_capture(path):
        for ts, _wire, frame, linktype in batch:
            got = _udp(frame, linktype)
            if got is not None:
                yield ts, got[0], got[1]


def _udp(frame: bytes, linktype: int) -> tuple[str, bytes] | None:
    if linktype != 1 or len(frame) < 14:
        return None
    etype = int.from_bytes(frame[12:14], "big")
    pos = 14
    while etype in (0x8100, 0x88A8) and len(frame) >= pos + 4:
        etype = int.from_bytes(frame[pos + 2 : pos + 4], "big")
        pos += 4
    if etype == 0x0800 and len(frame) >= pos + 20:
        ihl = (frame[pos] & 0x0F) * 4
        if frame[pos + 9] != 17 or int.from_bytes(frame[pos + 6 : pos + 8], "big") & 0x1FFF:
            return None
        src, l4 = frame[pos + 12 : pos + 16], pos + ihl
    elif etype == 0x86DD and len(frame) >= pos + 40:
        if frame[pos + 6] != 17:
            return None
        src, l4 = frame[pos + 8 : pos + 24], pos + 40
    else:
        return None
    if len(frame) < l4 + 8:
        return None
    ulen = int.from_bytes(frame[l4 + 4 : l4 + 6], "big")
    payload = frame[l4 + 8 : l4 + max(ulen, 8)]
    return ip_str(src), payload


def replay(collector: FlowCollector, path: str) -> None:
    """Feeds a capture's export datagrams to ``collector``, in capture time."""
    for ts, sender, payload in udp_payloads(path):
        if flow_export_kind(payload) is None:
            collector.stats.not_export += 1
            continue
        collector.feed(payload, sender, ts)


def port_arg(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port: {text!r}") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"port out of range: {text!r}")
    return value


def address_arg(text: str) -> str:
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an IP address: {text!r}") from None


def _duration(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0: {text!r}")
    return value


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("collect", help="NetFlow v5/v9, IPFIX and sFlow collector")
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument("--netflow", type=port_arg, metavar="PORT", help="UDP port to listen on")
    src.add_argument("--replay", metavar="FILE", help="export datagrams from a capture")
    parser.add_argument("--bind", type=address_arg, metavar="ADDR", help="default: all addresses")
    parser.add_argument(
        "--allow", type=address_arg, nargs="+", default=[], metavar="ADDR",
        help="accept exports only from these exporters",
    )  # fmt: skip
    parser.add_argument("--duration", type=_duration, metavar="S", help="stop after S seconds")
    parser.add_argument(
        "--template-ttl", type=_duration, default=1800.0, metavar="S",
        help="forget a template not refreshed for S seconds (default 1800)",
    )  # fmt: skip
    parser.add_argument("--json", action="store_true", help="one JSON document on stdout")
    add_leases_option(parser)
    parser.set_defaults(func=run)


def add_leases_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--leases", metavar="FILE",
        help="the router's DHCP leases (dnsmasq, ISC dhcpd or odhcpd): MACs and names "
        "for devices the flow records name only by address; re-read when it changes",
    )  # fmt: skip


def open_leases(path: str | None) -> LeaseFile | None:
    """The lease file, read once now (an unreadable file: one warning, collection goes on)."""
    if not path:
        return None
    leases = LeaseFile(path, warn=lambda line: print(f"warning: {line}", file=sys.stderr))
    leases.refresh(force=True)
    return leases


def open_socket(bind: str | None, port: int) -> socket.socket:
    if bind is None or ":" in bind:
        sock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        if bind is None:
            # Dual stack: IPv4 exporters arrive as ::ffff:a.b.c.d, normalised later.
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        target: tuple[Any, ...] = (bind or "::", port)
    else:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        target = (bind, port)
    try:
        # Room for a burst of export datagrams while the decoder is busy.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        sock.bind(target)
    except OSError:
        sock.close()
        raise
    return sock


def listen(collector: FlowCollector, sock: socket.socket, duration: float | None) -> None:
    stop = False

    def on_signal(_sig: int, _frame: FrameType | None) -> None:
        nonlocal stop
        stop = True

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, on_signal)
    deadline = None if duration is None else time.monotonic() + duration
    sock.settimeout(0.2)  # how late a signal or the deadline may be noticed
    while not stop:
        if deadline is not None and time.monotonic() >= deadline:
            break
        try:
            payload, addr = sock.recvfrom(65535)
        except TimeoutError:
            continue
        except InterruptedError:
            continue
        finally:
            collector.refresh_leases()  # a stat at most every CHECK_SECONDS
        collector.feed(payload, addr[0], time.time())


def run(args: argparse.Namespace) -> int:
    collector = FlowCollector(args.allow, DecoderConfig(template_ttl=args.template_ttl))
    collector.leases = open_leases(args.leases)
    if args.replay is not None:
        try:
            replay(collector, args.replay)
        except CaptureFileError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
    else:
        try:
            sock = open_socket(args.bind, args.netflow)
        except OSError as err:
            where = f"[{args.bind}]" if args.bind and ":" in args.bind else args.bind or "*"
            print(
                f"error: cannot listen on {where}:{args.netflow}: {err.strerror}", file=sys.stderr
            )
            return 2
        host, port = sock.getsockname()[:2]
        print(f"{READY_MARK} udp {host} port {port}", file=sys.stderr, flush=True)
        try:
            listen(collector, sock, args.duration)
        finally:
            sock.close()
    if args.json:
        json.dump(collector.document(), sys.stdout, separators=(",", ":"))
        sys.stdout.write("\n")
    else:
        snap = collector.snapshot()
        for row in snap.devices:
            row.mac = row.mac or "-"
        print(render_table(snap))
        print(f"({IDENTIFICATION_NOTE})")
    return 0
