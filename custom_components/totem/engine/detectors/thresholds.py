"""Every detector threshold, in one place; Home Assistant overrides them per device."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

# Above any meaningful count, byte volume or duration, and finite (int(inf) raises).
MAX_THRESHOLD = 1e12


@dataclass(slots=True)
class Thresholds:
    """Every detector threshold, in one place; per-device overrides replace fields."""

    cooldown: float = 3600.0  # one alert per device and kind per cooldown; repeats count
    settle_seconds: float = 3.0  # a flow is judged (answered or not) this long after it starts
    scan_window: float = 60.0
    host_scan_hosts: int = 20  # distinct hosts on one port, unanswered, in scan_window
    host_scan_hosts_general: int = 60  # the same for laptops, phones, unknown devices
    ping_sweep_hosts: int = 12  # distinct hosts pinged in scan_window
    arp_sweep_targets: int = 40  # distinct addresses asked for by ARP in scan_window
    arp_sweep_targets_gateway: int = 160
    port_scan_ports: int = 15  # distinct ports on one host, unanswered or half-open
    syn_flood_window: float = 10.0
    syn_flood_half_open: int = 50  # half-open connections to one host and port
    brute_force_window: float = 120.0
    brute_force_connections: int = 8  # logins (SSH, Telnet, FTP, RDP, VNC) to one host
    dns_tunnel_window: float = 60.0
    dns_tunnel_queries: int = 10  # queries that look like encoded data
    dns_tunnel_subdomains: int = 80  # distinct names under one domain
    dns_tunnel_label: int = 24  # a label this long with high entropy is data
    dns_tunnel_name: int = 60  # or this many characters left of the domain
    mac_flood_window: float = 10.0
    mac_flood_new_macs: int = 40
    arp_conflict_window: float = 300.0  # the other owner claimed the address this recently
    # Upload per minute, judged against the device's own history (its scale), so
    # a plug, a scale and a camera each get their own bar. The floor only keeps
    # noise out: a smart plug idles at 0.5-3 KB a minute (an MQTT keepalive and
    # a cloud heartbeat), a scale sends nothing between weighings; 16 KB is a
    # handful of TLS records, below any data theft or flood worth a person's
    # attention, and far below the MB a minute of a joined DDoS.
    spike_min_bytes: int = 16_000
    # x the 95th percentile: a device's busiest normal minutes already hold its
    # bursts (a clip upload, a sync), so 4x above them is outside its rhythm; a
    # 3x burst stays silent, 7x on a steady device does not.
    spike_factor: float = 4.0
    spike_mad: float = 10.0  # and median + this x 1.4826 x MAD
    # The roomy model for people's machines and media (phones, laptops, TVs):
    # an HD video call uploads ~25 MB a minute and a photo backup fills the
    # uplink, so only 10x their own busy minutes and over 30 MB a minute count.
    spike_min_bytes_roomy: int = 30_000_000
    spike_factor_roomy: float = 10.0

    def with_values(self, values: dict[str, Any]) -> Thresholds:
        """A copy with some fields replaced; ValueError on an unknown name or bad value."""
        known = {f.name: f.type for f in fields(self)}
        clean: dict[str, Any] = {}
        for name, value in values.items():
            if name not in known:
                raise ValueError(f"unknown threshold: {name!r}")
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not 0 <= value <= MAX_THRESHOLD
            ):
                raise ValueError(f"threshold {name} must be a number from 0 to {MAX_THRESHOLD:g}")
            clean[name] = int(value) if known[name] in (int, "int") else float(value)
        return replace(self, **clean)
