"""Scans, floods and password guessing, from settled flows and ARP requests.

What tells a scan from a busy browser is the answer: a browser's
connections are answered, a scanner's mostly are not (no reply, a reset,
or a SYN-ACK the scanner never completes). So only failed or half-open
connections count, per origin device:

- host_scan: distinct hosts on one (protocol, port) in ``scan_window``
  (Mirai's telnet sweep), or distinct hosts pinged (answered or not), or
  distinct addresses asked for by ARP (arp-scan, nmap -PR);
- port_scan: distinct ports on one host;
- syn_flood: half-open or unanswered connections to one host and port in
  ``syn_flood_window`` (each from a new source port);
- brute_force: completed connections to a login service (SSH, Telnet, FTP,
  RDP, VNC) on one host in ``brute_force_window``.
"""

from __future__ import annotations

from .. import netaddr
from .base import Detector, DetectorContext, Settled, move_key, register
from .thresholds import Thresholds
from .window import CountInWindow, DistinctInWindow, LruTable

MAX_DEVICES = 256
_SYN, _ACK = 0x02, 0x10
MAX_KEYS_PER_DEVICE = 16
LOGIN_PORTS = frozenset({(6, 22), (6, 23), (6, 2323), (6, 21), (6, 3389), (6, 5900)})
_PROTO_NAMES = {6: "TCP", 17: "UDP"}
# UDP sent from these ports answers or announces; the receiver owes no reply.
SERVER_PORTS = frozenset({53, 67, 68, 123, 137, 138, 547, 1900, 5353, 5355})


def _port_name(proto: int, port: int, app: str) -> str:
    if app and not app.startswith("Unknown"):
        return f"on the {app} port ({port})"
    return f"on {_PROTO_NAMES.get(proto, 'IP')} port {port}"


class _DeviceScans:
    """One device's sliding windows; each holds just over its threshold, so the
    worst case (every device scanning many services) stays a few MB."""

    __slots__ = ("arp", "hosts", "logins", "pings", "ports", "syns")

    def __init__(self, t: Thresholds, gateway_arp: int) -> None:
        hosts = max(t.host_scan_hosts, t.host_scan_hosts_general) + 1
        self.hosts: LruTable[tuple[int, int], DistinctInWindow] = LruTable(
            MAX_KEYS_PER_DEVICE, lambda: DistinctInWindow(t.scan_window, hosts)
        )
        self.ports: LruTable[bytes, DistinctInWindow] = LruTable(
            MAX_KEYS_PER_DEVICE, lambda: DistinctInWindow(t.scan_window, t.port_scan_ports + 1)
        )
        self.syns: LruTable[tuple[bytes, int], CountInWindow] = LruTable(
            MAX_KEYS_PER_DEVICE,
            lambda: CountInWindow(t.syn_flood_window, t.syn_flood_half_open + 1),
        )
        self.logins: LruTable[tuple[bytes, int], CountInWindow] = LruTable(
            4, lambda: CountInWindow(t.brute_force_window, t.brute_force_connections + 1)
        )
        self.pings = DistinctInWindow(t.scan_window, t.ping_sweep_hosts + 1)
        self.arp = DistinctInWindow(t.scan_window, max(t.arp_sweep_targets, gateway_arp) + 1)


class _Victim:
    """A home device attacked from the Internet: half-open connections per port,
    distinct ports probed, and the sources (spoofed or not) seen doing it."""

    __slots__ = ("ports", "sources", "syns")

    def __init__(self, t: Thresholds) -> None:
        self.syns: LruTable[int, CountInWindow] = LruTable(
            MAX_KEYS_PER_DEVICE,
            lambda: CountInWindow(t.syn_flood_window, t.syn_flood_half_open + 1),
        )
        self.ports = DistinctInWindow(t.scan_window, t.port_scan_ports + 1)
        self.sources = DistinctInWindow(t.syn_flood_window, 4096)


@register(order=20)
class ScanDetector(Detector):
    kinds = ("host_scan", "port_scan", "syn_flood", "brute_force")

    def __init__(self, ctx: DetectorContext) -> None:
        super().__init__(ctx)
        self._devices: dict[bytes, _DeviceScans] = {}
        self._victims: dict[bytes, _Victim] = {}

    def _victim(self, mac: bytes) -> _Victim:
        victim = self._victims.get(mac)
        if victim is None:
            if len(self._victims) >= MAX_DEVICES:
                del self._victims[next(iter(self._victims))]
            victim = self._victims[mac] = _Victim(self.ctx.thresholds(mac))
        return victim

    def _inbound(self, s: Settled) -> None:
        """A flow the router forwarded in from the Internet: the home device is the victim.

        Spoofed sources make the attacker unknowable, and the router only
        forwards: the one to tell is the device under attack.
        """
        f = s.flow
        dst = f.dst_dev
        if dst is None or dst.is_gateway or not (s.failed or s.half_open) or f.proto != 6:
            return
        if f.fwd_flags & _ACK or not f.fwd_flags & _SYN:
            return  # a capture that missed the device's own SYN: an answer, not an attack
        if netaddr.is_local_ip(f.src_ip) or f.dst_mac == netaddr.ZERO_MAC:
            return
        ctx = self.ctx
        mac = f.dst_mac
        t = ctx.thresholds(mac)
        ts = f.started
        victim = self._victim(mac)
        victim.sources.add(f.src_ip, ts)
        k = victim.syns.get(f.dport).add(ts)
        if k >= t.syn_flood_half_open and not ctx.counted(ts, mac, "syn_flood"):
            sources = len(victim.sources.keys())
            ctx.raise_alert(
                ts,
                mac,
                "syn_flood",
                "critical",
                f"{ctx.describe(mac, ts)} is being SYN-flooded from the Internet through "
                f"port {f.dport}: {k} connection attempts from {sources} addresses within "
                f"{t.syn_flood_window:.0f} seconds, none completed. What you can do: close "
                "the port forwarding (or UPnP) on your router that exposes this device.",
                {"port": f.dport, "half_open": k, "sources": sources},
                direction="inbound",
            )
        m = victim.ports.add(f.dport, ts)
        if m >= t.port_scan_ports and not ctx.counted(ts, mac, "port_scan"):
            ctx.raise_alert(
                ts,
                mac,
                "port_scan",
                "warning",
                f"{ctx.describe(mac, ts)} is being port-scanned from the Internet: {m} "
                f"ports probed within {t.scan_window:.0f} seconds (the last from "
                f"{netaddr.ip_str(f.src_ip)}). What you can do: check which ports your "
                "router forwards to this device and close the ones you do not use.",
                {"ports": m, "source": netaddr.ip_str(f.src_ip)},
                direction="inbound",
            )

    def _scans(self, mac: bytes) -> _DeviceScans:
        """The device's windows, sized by its own thresholds when first needed."""
        scans = self._devices.get(mac)
        if scans is None:
            if len(self._devices) >= MAX_DEVICES:
                del self._devices[next(iter(self._devices))]  # the longest-tracked goes
            t = self.ctx.thresholds(mac)
            scans = self._devices[mac] = _DeviceScans(t, t.arp_sweep_targets_gateway)
        return scans

    def on_settled(self, s: Settled) -> None:
        origin = s.origin
        if origin is None:
            self._inbound(s)
            return
        f = s.flow
        ctx = self.ctx
        ts = f.started
        scans = self._scans(origin)
        if s.probe:
            if f.proto == 1:
                n = scans.pings.add(f.dst_ip, ts)
                if n >= ctx.thresholds(origin).ping_sweep_hosts and not ctx.counted(
                    ts, origin, "host_scan"
                ):
                    self._host_scan(
                        ts, origin, n, "with pings (ICMP echo)", scans.pings.keys(), f.src_ip
                    )
            return
        if f.proto == 17 and f.sport in SERVER_PORTS:
            return  # a server's own message (a DHCP offer, an NTP reply): nothing to answer
        # The thresholds are read where a window counts: most flows are answered and
        # no login, and count nothing.
        if s.failed or s.half_open:
            t = ctx.thresholds(origin)
            service = (f.proto, f.dport)
            n = scans.hosts.get(service).add(f.dst_ip, ts)
            limit = (
                t.host_scan_hosts_general
                if ctx.general_purpose(origin, ts)
                else (t.host_scan_hosts)
            )
            if n >= limit and not ctx.counted(ts, origin, "host_scan"):
                self._host_scan(
                    ts,
                    origin,
                    n,
                    _port_name(f.proto, f.dport, s.app),
                    scans.hosts.get(service).keys(),
                    f.src_ip,
                )
            m = scans.ports.get(f.dst_ip).add((f.proto, f.dport), ts)
            if m >= t.port_scan_ports and not ctx.counted(ts, origin, "port_scan"):
                host = netaddr.ip_str(f.dst_ip)
                ctx.raise_alert(
                    ts,
                    origin,
                    "port_scan",
                    "warning",
                    f"{ctx.describe(origin, ts)} probed {m} different ports on {host} "
                    f"within {t.scan_window:.0f} seconds, looking for open services. "
                    "This is a port scan: fine if you ran it yourself, otherwise the "
                    "device may be compromised. What you can do: if you did not run it, "
                    "block the device and check it.",
                    {"target": host, "ports": m},
                    src_ip=f.src_ip,
                )
            if f.proto == 6:
                k = scans.syns.get((f.dst_ip, f.dport)).add(ts)
                if k >= t.syn_flood_half_open and not ctx.counted(ts, origin, "syn_flood"):
                    host = netaddr.ip_str(f.dst_ip)
                    ctx.raise_alert(
                        ts,
                        origin,
                        "syn_flood",
                        "critical",
                        f"{ctx.describe(origin, ts)} opened {k} connections to {host} "
                        f"port {f.dport} within {t.syn_flood_window:.0f} seconds without "
                        "finishing any: a SYN flood, typical of a device taking part in "
                        "a denial-of-service attack. What you can do: block the device and "
                        "reset it to factory settings.",
                        {"target": host, "port": f.dport, "half_open": k},
                        src_ip=f.src_ip,
                    )
        elif s.answered and (f.proto, f.dport) in LOGIN_PORTS:
            t = ctx.thresholds(origin)
            k = scans.logins.get((f.dst_ip, f.dport)).add(ts)
            if k >= t.brute_force_connections and not ctx.counted(ts, origin, "brute_force"):
                host = netaddr.ip_str(f.dst_ip)
                ctx.raise_alert(
                    ts,
                    origin,
                    "brute_force",
                    "warning",
                    f"{ctx.describe(origin, ts)} logged in to {host} "
                    f"({s.app}) {k} times within {t.brute_force_window:.0f} seconds: "
                    "it looks like password guessing. What you can do: if it is not you, "
                    "block the device and change the password on that host.",
                    {"target": host, "port": f.dport, "connections": k},
                    src_ip=f.src_ip,
                )

    def _host_scan(
        self,
        ts: float,
        mac: bytes,
        n: int,
        what: str,
        targets: list[object],
        src_ip: bytes | None = None,
    ) -> None:
        ctx = self.ctx
        sample = [netaddr.ip_str(t) for t in targets[:5] if isinstance(t, bytes)]
        internet = any(not netaddr.is_local_ip(t) for t in targets if isinstance(t, bytes))
        where = "Internet hosts" if internet else "devices on your network"
        window = ctx.thresholds(mac).scan_window
        ctx.raise_alert(
            ts,
            mac,
            "host_scan",
            "critical" if internet else "warning",
            f"{ctx.describe(mac, ts)} tried to reach {n} different {where} "
            f"{what} within {window:.0f} seconds: it is scanning"
            + (
                " and may be infected. What you can do: block it and reset it to factory "
                "settings, then change its password."
                if internet
                else "; fine if you ran a scan yourself. What you can do: if you did not, "
                "block the device and check it."
            ),
            {"service": what, "hosts": n, "sample": sample},
            src_ip=src_ip,
        )

    def on_arp(
        self,
        ts: float,
        src_mac: bytes,
        op: int,
        sender_mac: bytes,
        sender_ip: bytes,
        target_ip: bytes,
    ) -> None:
        if op != 1 or not netaddr.is_unicast_mac(src_mac) or target_ip == sender_ip:
            return
        scans = self._scans(src_mac)
        n = scans.arp.add(target_ip, ts)
        t = self.ctx.thresholds(src_mac)
        limit = (
            t.arp_sweep_targets_gateway if self.ctx.is_forwarder(src_mac) else (t.arp_sweep_targets)
        )
        if n >= limit and not self.ctx.counted(ts, src_mac, "host_scan"):
            self._host_scan(ts, src_mac, n, "with ARP requests", scans.arp.keys(), sender_ip)

    def rekey(self, old: bytes, new: bytes) -> None:
        # A scan under way keeps counting when the scanner's MAC is learned mid-scan.
        move_key(self._devices, old, new)
        move_key(self._victims, old, new)

    def forget(self, mac: bytes | None) -> None:
        if mac is None:
            self._devices.clear()
            self._victims.clear()
        else:
            self._devices.pop(mac, None)
            self._victims.pop(mac, None)
