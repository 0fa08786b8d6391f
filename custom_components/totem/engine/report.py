"""Human-readable output: the device table, in ntopng's units."""

from __future__ import annotations

import time

from .model import Snapshot


def human_bytes(value: float) -> str:
    """8.52 MB, like ntopng (decimal units)."""
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(value) < 1000 or unit == "TB":
            return f"{value:.0f} B" if unit == "B" else f"{value:.2f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


def human_bits(value: float) -> str:
    """432.35 bit/s, 1.20 Mbit/s."""
    for unit in ("bit/s", "kbit/s", "Mbit/s", "Gbit/s"):
        if abs(value) < 1000 or unit == "Gbit/s":
            return f"{value:.2f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


def human_duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    if minutes:
        return f"{minutes}m {secs}s"
    return f"{secs}s"


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def render_table(snap: Snapshot, now: float | None = None) -> str:
    """The device table, busiest first: MAC, vendor, type, name, IPs, ARP, age, rate, traffic."""
    end = snap.last_time if now is None else now
    if end is None:
        end = time.time()
    header = (
        f"{'MAC':<17}  {'Manufacturer':<22}  {'Type':<13}  {'Name':<22}  {'IPs':<18}  "
        f"{'ARP':>5}  {'Seen since':>10}  {'Throughput':>15}  {'Traffic':>10}"
    )
    lines = [header, "-" * len(header)]
    for dev in snap.devices:
        total = dev.tx_bytes + dev.rx_bytes
        span = max(dev.last_seen - dev.first_seen, 1e-9)
        rate = total * 8 / span if dev.last_seen > dev.first_seen else 0.0
        ips = ", ".join(dev.ips) if dev.ips else "-"
        name = dev.name or "-"
        vendor = dev.manufacturer or ("(randomized MAC)" if dev.randomized else "-")
        if dev.same_device_as:
            name = f"{name} (= {dev.same_device_as})"
        lines.append(
            f"{dev.mac:<17}  {_cut(vendor, 22):<22}  {dev.type:<13}  "
            f"{_cut(name, 22):<22}  {_cut(ips, 18):<18}  {dev.arp_packets:>5}  "
            f"{human_duration(end - dev.first_seen):>10}  {human_bits(rate):>15}  "
            f"{human_bytes(total):>10}"
        )
    span = (snap.last_time or 0.0) - (snap.first_time or 0.0)
    lines.append("")
    lines.append(
        f"{len(snap.devices)} devices, {snap.packets} packets, {human_bytes(snap.bytes)} "
        f"in {human_duration(span)}; {len(snap.alerts)} alerts"
    )
    for alert in snap.alerts:
        lines.append(f"  [{alert.severity}] {alert.mac} {alert.kind}: {alert.message}")
    return "\n".join(lines)
