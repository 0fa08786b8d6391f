"""Snapshots: the device table as the JSON contract shows it, live flows included.

A snapshot changes nothing in the engine: live flows are added to copies of
the device rows (``fold_into_rows``), never to the records, so taking one at
any time gives the same counters a flush would, and the engine goes on.
Identification (:mod:`.identify`) runs here, once per device and snapshot.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import partial

from . import netaddr, talks
from .classify import behaviours
from .devices import DeviceRecord, add_traffic
from .evidence import TrafficSummary
from .flows import Flow, src_serves
from .identify import Identifier
from .model import Alert, DeviceRow, EngineStats, Snapshot
from .protocols import by_port


def device_row(dev: DeviceRecord) -> DeviceRow:
    """A record's folded counters as a contract row (identity still to fill)."""
    if dev.is_gateway:
        own = [ip for ip in dev.source_ips if netaddr.is_local_ip(ip)]
    else:
        own = list(dev.source_ips)
    own.extend(ip for ip in dev.arp_ips if ip not in dev.source_ips)
    return DeviceRow(
        mac=netaddr.mac_str(dev.mac),
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


def fold_into_rows(f: Flow, rows: dict[bytes, DeviceRow]) -> None:
    """Add a live flow's counters to its devices' rows (not to their records)."""
    app = f.app or by_port(f.proto, f.sport, f.dport)
    total = f.fwd_bytes + f.rev_bytes
    srow = rows.get(f.src_mac) if f.src_dev is not None else None
    drow = rows.get(f.dst_mac) if f.dst_dev is not None else None
    if srow is not None:
        add_traffic(
            srow, f.fwd_pkts, f.fwd_bytes, f.rev_pkts, f.rev_bytes, f.first, f.last_fwd, app, total
        )
        srow.active_flows += 1
    if drow is not None:
        add_traffic(
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


def traffic_summary(dev: DeviceRecord, row: DeviceRow, live: Iterable[Flow] = ()) -> TrafficSummary:
    """What identification knows of a device's traffic, live flows included."""
    server_ports = dict(dev.server_ports)
    upstream, downstream = dev.upstream_bytes, dev.downstream_bytes
    longest = dev.longest_flow
    for f in live:
        total = f.fwd_bytes + f.rev_bytes
        responder_first = src_serves(f)
        if f.dst_mac == dev.mac and f.rev_pkts:
            if not responder_first:
                port = (f.proto, f.dport)
                server_ports[port] = server_ports.get(port, 0) + total
            longest = max(longest, f.last_rev - f.first_rev)
        if f.src_mac == dev.mac and responder_first:
            port = (f.proto, f.sport)
            server_ports[port] = server_ports.get(port, 0) + total
        if f.src_mac == dev.mac:
            longest = max(longest, f.last_fwd - f.first)
            if not netaddr.is_local_ip(f.dst_ip) and not netaddr.is_multicast_ip(f.dst_ip):
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
        longest_flow=longest,
    )


def summary_of(dev: DeviceRecord) -> TrafficSummary:
    """The identifier's view of a device from its folded counters alone (no snapshot)."""
    return TrafficSummary(
        ips=[netaddr.ip_str(ip) for ip in dev.source_ips],
        tx_bytes=dev.tx_bytes,
        rx_bytes=dev.rx_bytes,
        tx_packets=dev.tx_packets,
        rx_packets=dev.rx_packets,
        protocols=dev.protocols,
        server_ports=dev.server_ports,
        remote_hosts=len(dev.remote),
        upstream_bytes=dev.upstream_bytes,
        downstream_bytes=dev.downstream_bytes,
        is_gateway=dev.is_gateway,
        duration=max(0.0, dev.last_seen - dev.first_seen),
        longest_flow=dev.longest_flow,
    )


# Behaviour tokens that make a device part of the network's plumbing.
_ROLE_OF_TOKEN = {"gateway": "gateway", "serves_dhcp": "dhcp_server", "serves_dns": "dns_server"}


def network_roles(tokens: set[str]) -> list[str]:
    """The roles (gateway, dhcp_server, dns_server) the behaviour tokens show."""
    return sorted(role for token, role in _ROLE_OF_TOKEN.items() if token in tokens)


def build_snapshot(
    *,
    devices: Mapping[bytes, DeviceRecord],
    flows: Iterable[Flow],
    identifier: Identifier,
    packets: int,
    bytes_: int,
    first_time: float | None,
    last_time: float | None,
    alerts: list[Alert],
    stats: EngineStats,
    with_talks: bool = True,
) -> Snapshot:
    """Every MAC that sent a frame, identified, busiest first.

    ``with_talks=False`` leaves each row's busiest conversations and peers empty, for a
    caller that shows neither (ranking them costs a sort and a name lookup a device)."""
    rows = {mac: device_row(dev) for mac, dev in devices.items()}
    live: dict[bytes, list[Flow]] = {}
    for f in flows:
        fold_into_rows(f, rows)
        live.setdefault(f.src_mac, []).append(f)
        if f.dst_mac != f.src_mac:
            live.setdefault(f.dst_mac, []).append(f)
    out: list[DeviceRow] = []
    now = last_time if last_time is not None else 0.0  # what answers are still held at
    for mac, row in rows.items():
        if row.tx_packets == 0:
            continue
        if mac == netaddr.ZERO_MAC:
            row.station = False  # no vendor, name or type to guess for nobody
            out.append(row)
            continue
        summary = traffic_summary(devices[mac], row, live.get(mac, ()))
        ident = identifier.identity(mac, summary)
        row.randomized = ident.randomized
        row.manufacturer = ident.manufacturer
        row.name = ident.name
        row.type = ident.type
        row.type_reason = ident.type_reason
        row.domains = list(ident.domains)
        row.same_device_as = ident.same_device_as
        row.name_sources = dict(ident.name_sources)
        row.model = ident.model
        row.integration = ident.integration
        row.manufacturer_registry = ident.manufacturer_registry
        row.type_source = ident.type_source
        row.roles = network_roles(behaviours(identifier.evidence(mac), summary))
        if with_talks:
            row.top_flows, row.top_peers = talks.top(
                mac,
                devices[mac].talks,
                live.get(mac, ()),
                partial(identifier.resolved_name, mac, ts=now),
            )
        out.append(row)
    out.sort(key=lambda r: (-(r.tx_bytes + r.rx_bytes), r.mac))
    return Snapshot(
        packets=packets,
        bytes=bytes_,
        first_time=first_time,
        last_time=last_time,
        devices=out,
        alerts=list(alerts),
        stats=EngineStats.from_json(stats.to_json()),
    )
