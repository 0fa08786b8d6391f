"""Flow records as the detectors' events: the probe's engine when the router exports flows.

:class:`FlowEngine` is an :class:`~.engine.Engine` fed with flow records instead of
frames. The device table the Home Assistant snapshot shows is the collector's
(:class:`~.cli_collect.FlowCollector`: MAC-keyed where the records carry MACs, else
address-keyed, ``mac`` empty); the detectors get what they get from frames, through
the same hooks and the guard's :class:`~.detectors.base.DetectorContext`:

- one :class:`~.flows.Flow` per 5-tuple, its reverse record (flow export is one-way
  per record) folded in as the reply direction, so "answered", "refused" and
  "half open" mean what they mean on frames (TCP flags are the OR over the flow);
- ``on_flow_start`` when a 5-tuple is first exported, ``on_flow_end`` (the flow
  settles) :data:`PAIR_SECONDS` later, once its reverse had the time to arrive;
- device records (counters, peers, addresses) for the traffic spike, new
  destination and unexpected protocol baselines.

What frames only tell (ARP, DHCP, DNS names, payloads) never reaches a collector, so
the ARP, DHCP and DNS detectors stay silent here; scans, floods, brute force, new
destinations, spikes, blocklisted hosts and unexpected protocols (by port) run.

A device without a MAC in the records is keyed by a locally administered key made
from its address (``02:00`` + IPv4, or ``02:01`` + a hash of an IPv6 address), for
the detectors and in the probe's snapshot (Home Assistant keys devices by MAC), its
``name`` the address; its alerts carry the address in ``details["ip"]``. The
``collect`` CLI document keeps ``"mac": null`` for them.

Once the MAC behind such an address is learned (a record that carries it, or the
router's DHCP lease naming it), the device is re-keyed: its record, its open flows and
everything the detectors learned under the address key (baselines, learned
destinations, scan windows, open alerts, snoozes, the inventory that says it is no new
device) move to the MAC (:meth:`FlowEngine.rekey`), and the address stays that MAC's
(:data:`MAX_OWNERS`) when a later record or an expired lease names no MAC. An address
that a lease or a record moves to *another* MAC moves nothing: a MAC is a device, and
the new holder of an address is another device (DHCP handed the address on); the old
MAC keeps its history for when it comes back.
"""

from __future__ import annotations

import hashlib
import ipaddress
import socket
import time
from collections import OrderedDict
from collections.abc import Callable

from . import netaddr
from .cli_collect import FlowCollector
from .devices import DeviceRecord, add_traffic
from .engine import Engine, EngineConfig
from .evidence import TrafficSummary
from .flows import Flow
from .leases import LeaseFile
from .model import DeviceRow, Snapshot
from .netflow import DecoderConfig, FlowRecord
from .protocols import by_port
from .signals import StopRequest

# A one-way record waits this long (wall time) for its reverse before the flow is
# judged. Exporters send both directions of an expired flow in the same export
# datagram (softflowd, nProbe) or within the next one or two (routers batch per
# second), so 3 s covers them without delaying a scan alert noticeably.
PAIR_SECONDS = 3.0
MAX_OPEN_FLOWS = 50_000  # pairing table; past it the oldest flow is judged early
# Every remote address is reached through the exporter: one stand-in "router" record
# for them, a gateway as the engine's own device table would have it.
ROUTER_KEY = b"\x02\x00\x00\x00\x00\x00"
FLOW_REASON = "from flows: no DHCP/mDNS evidence"
# Addresses whose MAC was learned, remembered as long as the device table remembers
# devices (the engine's max_devices): the LRU end is an address not heard from longest.
MAX_OWNERS = 4096

FiveTuple = tuple[int, bytes, int, bytes, int]


def address_key(addr: bytes) -> bytes:
    """The detectors' key for a device known only by its LAN address."""
    if len(addr) == 4:
        return b"\x02\x00" + addr
    return b"\x02\x01" + hashlib.blake2b(addr, digest_size=4).digest()


class FlowEngine(Engine):
    """Flow records in; snapshots and alerts out, like the frame engine's."""

    def __init__(
        self,
        config: EngineConfig | None = None,
        allow: tuple[str, ...] = (),
        decoder_config: DecoderConfig | None = None,
    ) -> None:
        super().__init__(config)
        self.collector = FlowCollector(allow, decoder_config)
        self.collector.on_record = self.add_record
        self._open: OrderedDict[FiveTuple, tuple[float, Flow]] = OrderedDict()
        self._addresses: dict[bytes, str] = {}  # address key -> the address, for alerts
        # LAN address -> the MAC a record or a lease named for it (see the module doc).
        self._owners: OrderedDict[bytes, bytes] = OrderedDict()
        self.rekeyed = 0  # address-keyed devices whose history moved to their MAC

    # -- records in ----------------------------------------------------------------

    def feed(self, payload: bytes, exporter: str, now: float | None = None) -> None:
        """One export datagram; its records reach :meth:`add_record` through the collector."""
        self.collector.feed(payload, exporter, time.time() if now is None else now)

    def _key(self, mac: bytes | None, addr: bytes) -> bytes | None:
        if mac is not None and netaddr.is_unicast_mac(mac):
            if self._owners.get(addr) != mac and netaddr.is_local_ip(addr):
                self._learn(addr, mac)
            return mac
        if netaddr.is_local_ip(addr) and not netaddr.is_multicast_ip(addr):
            lease = self.collector.lease_for(addr)
            if lease is not None and lease.mac is not None:
                leased = netaddr.mac_bytes(lease.mac)  # the router's DHCP lease names it
                if self._owners.get(addr) != leased:
                    self._learn(addr, leased)
                return leased
            owner = self._owners.get(addr)
            if owner is not None:
                return owner  # named before; this record (or the expired lease) does not
            key = address_key(addr)
            if key not in self._addresses and len(self._addresses) < self.config.max_devices:
                self._addresses[key] = netaddr.ip_str(addr)
            return key
        return None

    def _learn(self, addr: bytes, mac: bytes) -> None:
        """``mac`` holds ``addr`` now; an address-keyed device of it becomes ``mac``."""
        if netaddr.is_multicast_ip(addr):
            return
        known = self.device_table.records.get(mac)
        if known is not None and known.is_gateway:
            return  # the router's MAC on a routed record: not the address's holder
        owners = self._owners
        previous = owners.get(addr)
        owners[addr] = mac
        owners.move_to_end(addr)
        while len(owners) > MAX_OWNERS:
            owners.popitem(last=False)
        if previous is None:
            # The first MAC named for the address is the one its address key stood in
            # for, this run's or a restored state's (the probe persists the detectors'
            # state by key); a later MAC is another device (see the module doc).
            self.rekey(address_key(addr), mac)

    def rekey(self, old: bytes, new: bytes) -> None:
        """The device keyed ``old`` is ``new``: its record, open flows and the detectors'
        history follow it (merged where ``new`` had its own already)."""
        text = self._addresses.pop(old, None)
        dev = self.device_table.rekey(old, new)
        if dev is not None:
            for _started, flow in self._open.values():
                if flow.src_mac == old:
                    flow.src_mac, flow.src_dev = new, dev
                if flow.dst_mac == old:
                    flow.dst_mac, flow.dst_dev = new, dev
        if text is not None:
            old_text = netaddr.mac_str(old)
            for alert in self.alerts:  # told under the address key: keep saying which
                if alert.mac == old_text:
                    alert.details.setdefault("ip", text)
        for obs in self.observers:
            obs.on_rekey(old, new)
        if text is not None or dev is not None:
            self.rekeyed += 1

    def _device(self, key: bytes | None, addr: bytes, ts: float) -> DeviceRecord | None:
        if key is None:
            dev = self.device_table.device(ROUTER_KEY, ts)
            if dev is not None:
                dev.behind(addr)
            return dev
        return self.device_table.device(key, ts)

    def add_record(self, rec: FlowRecord, now: float) -> None:
        ts = rec.last if rec.last is not None else now
        first = rec.first if rec.first is not None else ts
        self._outside_packets += rec.packets  # its flows live outside the frame flow table
        self._outside_bytes += rec.octets
        self.first_time = first if self.first_time is None else min(self.first_time, first)
        self.last_time = ts if self.last_time is None else max(self.last_time, ts)
        skey, dkey = self._key(rec.src_mac, rec.src), self._key(rec.dst_mac, rec.dst)
        if skey is None and dkey is None:
            return  # transit between two remote hosts: nobody at home
        app = by_port(rec.proto, rec.sport, rec.dport)
        src, dst = self._device(skey, rec.src, ts), self._device(dkey, rec.dst, ts)
        if src is not None:
            add_traffic(src, rec.packets, rec.octets, 0, 0, first, ts, app, rec.octets)
            src.sent_from(rec.src) if skey is not None else None
        if dst is not None:
            add_traffic(dst, 0, 0, rec.packets, rec.octets, first, ts, app, 0)
        reverse = (rec.proto, rec.dst, rec.dport, rec.src, rec.sport)
        hit = self._open.get(reverse)
        if hit is not None:
            flow = hit[1]
            flow.rev_pkts += rec.packets
            flow.rev_bytes += rec.octets
            flow.rev_flags |= rec.tcp_flags
            flow.last_rev = ts
            if flow.first_rev == 0.0:
                flow.first_rev = first
            return
        forward = (rec.proto, rec.src, rec.sport, rec.dst, rec.dport)
        hit = self._open.get(forward)
        if hit is not None:  # an active-timeout export of a flow still open
            flow = hit[1]
            flow.fwd_pkts += rec.packets
            flow.fwd_bytes += rec.octets
            flow.fwd_flags |= rec.tcp_flags
            flow.last_fwd = ts
            return
        self._start(forward, rec, skey, dkey, src, dst, first, app, now)

    def _start(
        self,
        tup: FiveTuple,
        rec: FlowRecord,
        skey: bytes | None,
        dkey: bytes | None,
        src: DeviceRecord | None,
        dst: DeviceRecord | None,
        first: float,
        app: str,
        now: float,
    ) -> None:
        if len(self._open) >= MAX_OPEN_FLOWS:
            _started, oldest = self._open.popitem(last=False)[1]
            self._end(oldest)
        key = bytes([rec.proto]) + rec.src + rec.sport.to_bytes(2, "big")
        key += rec.dst + rec.dport.to_bytes(2, "big")
        flow = Flow(
            key,
            first,
            rec.proto,
            skey or ROUTER_KEY,
            dkey or ROUTER_KEY,
            rec.src,
            rec.dst,
            rec.sport,
            rec.dport,
        )
        flow.fwd_pkts, flow.fwd_bytes, flow.fwd_flags = rec.packets, rec.octets, rec.tcp_flags
        flow.last_fwd = rec.last if rec.last is not None else first
        flow.app = app
        flow.src_dev, flow.dst_dev = src, dst
        self.stats.flows_total += 1
        multicast = netaddr.is_multicast_ip(rec.dst)
        # A MAC the records name with Internet addresses forwards (the frame engine's
        # rule, devices.GATEWAY_NONLOCAL_ADDRESSES): what it brings in is nobody's at
        # home, and it names no LAN address (``_learn``).
        if src is not None:
            src.flows += 1
            if skey is not None:
                src.behind(rec.src)
            if not multicast:
                src.talked_to(rec.dst)
        if dst is not None:
            dst.flows += 1
            if dkey is not None and not multicast:
                dst.behind(rec.dst)
            dst.talked_to(rec.src)
        self._open[tup] = (now, flow)
        for obs in self.observers:
            obs.on_flow_start(first, flow)

    def _end(self, flow: Flow) -> None:
        for obs in self.observers:
            obs.on_flow_end(flow.last, flow)

    def _identify_leased(self, row: DeviceRow) -> None:
        """A device the router's DHCP lease named: its MAC's vendor and its lease
        hostname are evidence, as a DHCP request on the wire would be; the type follows
        from them when a rule knows the name or vendor, never from the flows alone."""
        lease_name = row.name_sources["dhcp_lease"]
        mac = netaddr.mac_bytes(row.mac)
        self.identifier.note_lease_name(mac, lease_name, row.last_seen)
        traffic = TrafficSummary(
            ips=list(row.ips),
            tx_bytes=row.tx_bytes,
            rx_bytes=row.rx_bytes,
            tx_packets=row.tx_packets,
            rx_packets=row.rx_packets,
            protocols=dict(row.protocols),
            remote_hosts=row.remote_hosts,
        )
        ident = self.identifier.identity(mac, traffic)
        row.manufacturer = ident.manufacturer
        row.manufacturer_registry = ident.manufacturer_registry
        row.randomized = ident.randomized
        row.name = ident.name or lease_name
        row.name_sources = {**ident.name_sources, "dhcp_lease": lease_name}
        note = "name from the router's DHCP lease; no mDNS or payload in flows"
        if ident.type != "unknown":
            row.type, row.type_source = ident.type, ident.type_source
            row.type_reason = f"{ident.type_reason} ({note})"
        else:
            row.type_reason = f"{FLOW_REASON}; {note}"

    def tick(self, now: float | None = None) -> None:
        """Judge the flows whose reverse had its time; the detectors' clock ticks."""
        wall = time.time() if now is None else now
        self.refresh_leases()  # one stat at most every leases.CHECK_SECONDS
        cutoff = wall - PAIR_SECONDS
        while self._open:
            started, flow = next(iter(self._open.values()))
            if started > cutoff:
                break
            self._open.popitem(last=False)
            self._end(flow)
        if self.last_time is not None:
            for obs in self.observers:
                obs.on_tick(self.last_time)

    def refresh_leases(self, force: bool = False) -> None:
        """Re-reads the router's leases if they changed; address-keyed devices a lease
        names move to its MAC now, not at their next record: a quiet device's history
        must not wait for it to speak."""
        leases = self.collector.leases
        if leases is None or not self.collector.refresh_leases(force=force):
            return
        for text in list(self._addresses.values()):
            lease = leases.get(text)
            if lease is not None and lease.mac is not None:
                self._learn(ipaddress.ip_address(text).packed, netaddr.mac_bytes(lease.mac))

    def flush(self) -> None:
        while self._open:
            self._end(self._open.popitem(last=False)[1][1])
        self.tick()

    # -- out -----------------------------------------------------------------------

    def snapshot(self, *, with_talks: bool = True) -> Snapshot:
        """The collector's devices, the detectors' alerts (address devices named).

        ``with_talks`` is the base's: flow records rank no conversations either way."""
        del with_talks
        snap = self.collector.snapshot()
        for row in snap.devices:
            row.type_reason = FLOW_REASON
            row.sent_ip = bool(row.ips) or row.tx_packets > 0
            if row.name_sources.get("dhcp_lease"):
                self._identify_leased(row)
            if not row.mac and row.ips:
                # Home Assistant keys devices by MAC: the detectors' address key stands in,
                # named by the address (locally administered, so no vendor is looked up).
                row.mac = netaddr.mac_str(address_key(ipaddress.ip_address(row.ips[0]).packed))
                row.name = row.name or row.ips[0]
                row.randomized = True
                row.type_reason = f"{FLOW_REASON}; keyed by its address, no MAC in the records"
        self.stats.flows_active = len(self._open)
        snap.stats = self.stats
        alerts = []
        for alert in self.alerts:
            key = netaddr.mac_bytes(alert.mac) if alert.mac else b""
            addr = self._addresses.get(key)
            if addr is not None:
                alert.details.setdefault("ip", addr)
            alerts.append(alert)
        snap.alerts = alerts
        return snap


def build_flow_engine(
    learn_seconds: float,
    blocklist: str | None,
    max_devices: int,
    allow: tuple[str, ...] = (),
    leases: LeaseFile | None = None,
) -> FlowEngine:
    """A flow engine with every detector attached (raises BlocklistError, one line)."""
    from .detectors.guard import attach_detectors

    engine = FlowEngine(
        EngineConfig(learn_seconds=learn_seconds, max_devices=max_devices), allow=allow
    )
    attach_detectors(engine, blocklist)
    engine.collector.leases = leases
    return engine


def serve(
    engine: FlowEngine,
    sock: socket.socket,
    interval: float,
    stop: StopRequest,
    emit: Callable[[], None],
    poll: Callable[[], None],
) -> None:
    """The probe loop on a collector socket: datagrams in, a snapshot every ``interval``."""
    sock.settimeout(0.2)  # how late a command, a stop or a snapshot may be
    next_emit = time.monotonic() + interval
    next_tick = time.monotonic() + 1.0
    while not stop.requested:
        try:
            payload, addr = sock.recvfrom(65535)
        except (TimeoutError, InterruptedError):
            pass
        else:
            engine.feed(payload, addr[0])
        mono = time.monotonic()
        if mono >= next_tick:
            engine.tick()
            next_tick = mono + 1.0
        poll()
        if mono >= next_emit:
            emit()
            next_emit = time.monotonic() + interval
    engine.flush()
