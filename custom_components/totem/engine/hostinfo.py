"""What the host itself looks like on the network: its MACs, bridges and gateways.

Blocking needs this to stay safe (never cut off the gateway or the host) and to
pick a backend (a Linux bridge means the bridge family sees the devices'
frames). Everything is read from /sys, /proc and ``ip -j``: no packet is sent,
so a gateway the host has not talked to recently has no known MAC.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SYS_CLASS_NET = Path("/sys/class/net")
# Non-root users' PATH often lacks the sbin directories where nft and ip live.
_SBIN_DIRS = ("/usr/local/sbin", "/usr/sbin", "/sbin")
PROC_IP_FORWARD = Path("/proc/sys/net/ipv4/ip_forward")

_MAC_SEPARATED = re.compile(r"^[0-9a-f]{1,2}([:-])[0-9a-f]{1,2}(?:\1[0-9a-f]{1,2}){4}$")
_MAC_BARE = re.compile(r"^[0-9a-f]{12}$")
_MAC_CISCO = re.compile(r"^[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4}$")


def canonical_mac(text: str) -> str | None:
    """``aa:bb:cc:dd:ee:ff`` for any common spelling of a MAC, else None.

    Accepts colons or dashes (single-digit groups too, as some tools print
    them), twelve bare hex digits and Cisco's dotted form.
    """
    value = text.strip().lower()
    if _MAC_SEPARATED.match(value):
        return ":".join(part.zfill(2) for part in re.split("[:-]", value))
    if _MAC_CISCO.match(value):
        value = value.replace(".", "")
    if _MAC_BARE.match(value):
        return ":".join(value[i : i + 2] for i in range(0, 12, 2))
    return None


def find_tool(name: str) -> str:
    """NAME's full path from PATH or the sbin directories, else NAME unchanged."""
    path = os.pathsep.join([os.environ.get("PATH", os.defpath), *_SBIN_DIRS])
    return shutil.which(name, path=path) or name


def is_group_mac(mac: str) -> bool:
    """True for multicast and broadcast MACs (the I/G bit), which no device owns."""
    return bool(int(mac[0:2], 16) & 1)


@dataclass(frozen=True, slots=True)
class Gateway:
    """A default route's next hop; ``mac`` is None when the neighbour table lacks it."""

    ip: str
    dev: str | None
    mac: str | None


@dataclass(frozen=True, slots=True)
class HostInfo:
    """One reading of the host's network identity."""

    interfaces: dict[str, str] = field(default_factory=dict)  # name -> MAC
    bridges: tuple[str, ...] = ()
    gateways: tuple[Gateway, ...] = ()
    ip_forward: bool = False
    neighbours: dict[str, str] = field(default_factory=dict)  # IP -> MAC, resolved entries
    # Why part of the picture may be missing (e.g. ``ip`` not installed).
    problems: tuple[str, ...] = ()

    def own_macs(self) -> dict[str, str]:
        """MAC -> interface name, without the all-zero MAC of loopback and tunnels."""
        owned: dict[str, str] = {}
        for name, mac in sorted(self.interfaces.items()):
            if mac != "00:00:00:00:00:00":
                owned.setdefault(mac, name)
        return owned

    def ips_of(self, mac: str) -> tuple[str, ...]:
        """The IPs the neighbour table currently maps to MAC."""
        return tuple(sorted(ip for ip, owner in self.neighbours.items() if owner == mac))


def read_interfaces(sys_class_net: Path = SYS_CLASS_NET) -> dict[str, str]:
    """Interface name -> MAC for every interface with an Ethernet-style address."""
    found: dict[str, str] = {}
    if not sys_class_net.is_dir():
        return found
    for entry in sorted(sys_class_net.iterdir()):
        try:
            raw = (entry / "address").read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError):
            continue  # interfaces vanish while we read; some have no address
        mac = canonical_mac(raw)
        if mac is not None:
            found[entry.name] = mac
    return found


def read_bridges(sys_class_net: Path = SYS_CLASS_NET) -> tuple[str, ...]:
    """Names of the Linux bridges on this host (those with a ``bridge`` directory)."""
    if not sys_class_net.is_dir():
        return ()
    return tuple(sorted(e.name for e in sys_class_net.iterdir() if (e / "bridge").is_dir()))


def parse_default_routes(text: str) -> list[tuple[str, str | None]]:
    """(gateway IP, device) pairs from ``ip -j route show default`` output."""
    hops: list[tuple[str, str | None]] = []
    for route in _json_list(text):
        # Multipath routes list their next hops instead of one gateway.
        for hop in [route, *route.get("nexthops", [])]:
            if isinstance(hop, dict) and isinstance(hop.get("gateway"), str):
                dev = hop.get("dev")
                hops.append((hop["gateway"], dev if isinstance(dev, str) else None))
    return hops


def parse_neighbours(text: str) -> dict[tuple[str, str | None], str]:
    """(IP, device) -> MAC from ``ip -j neigh show`` output, resolved entries only."""
    table: dict[tuple[str, str | None], str] = {}
    for entry in _json_list(text):
        ip, lladdr, dev = entry.get("dst"), entry.get("lladdr"), entry.get("dev")
        if not isinstance(ip, str) or not isinstance(lladdr, str):
            continue  # FAILED and INCOMPLETE entries have no address
        mac = canonical_mac(lladdr)
        if mac is not None:
            table[(ip, dev if isinstance(dev, str) else None)] = mac
    return table


def gateways_from(
    routes: list[tuple[str, str | None]], neighbours: dict[tuple[str, str | None], str]
) -> tuple[Gateway, ...]:
    """Join default routes with the neighbour table."""
    by_ip: dict[str, str] = {ip: mac for (ip, _dev), mac in neighbours.items()}
    gateways: list[Gateway] = []
    for ip, dev in routes:
        mac = neighbours.get((ip, dev)) or by_ip.get(ip)
        gateway = Gateway(ip=ip, dev=dev, mac=mac)
        if gateway not in gateways:
            gateways.append(gateway)
    return tuple(gateways)


def read_host_info(
    sys_class_net: Path = SYS_CLASS_NET,
    ip_forward_path: Path | None = None,
    ip_command: Sequence[str] | None = None,
) -> HostInfo:
    """Read the host's interfaces, bridges, default gateways and forwarding state."""
    ip_forward_path = PROC_IP_FORWARD if ip_forward_path is None else ip_forward_path
    ip_command = ip_command if ip_command is not None else (find_tool("ip"),)
    problems: list[str] = []
    routes: list[tuple[str, str | None]] = []
    neighbours: dict[tuple[str, str | None], str] = {}
    try:
        for family in ("-4", "-6"):
            routes += parse_default_routes(_run_ip(ip_command, family, "route", "show", "default"))
        neighbours = parse_neighbours(_run_ip(ip_command, "neigh", "show"))
    except (OSError, subprocess.SubprocessError) as err:
        problems.append(f"could not read routes with `ip -j`: {err}")
    try:
        forwarding = ip_forward_path.read_text(encoding="ascii").strip() == "1"
    except OSError:
        forwarding = False
    return HostInfo(
        interfaces=read_interfaces(sys_class_net),
        bridges=read_bridges(sys_class_net),
        gateways=gateways_from(routes, neighbours),
        ip_forward=forwarding,
        neighbours={ip: mac for (ip, _dev), mac in neighbours.items()},
        problems=tuple(problems),
    )


def _run_ip(ip_command: Sequence[str], *args: str) -> str:
    done = subprocess.run(
        [*ip_command, "-j", *args], capture_output=True, text=True, timeout=10, check=False
    )
    if done.returncode != 0:
        raise subprocess.SubprocessError(done.stderr.strip() or f"exit status {done.returncode}")
    return done.stdout


def _json_list(text: str) -> list[dict[str, Any]]:
    try:
        data = json.loads(text) if text.strip() else []
    except json.JSONDecodeError:
        return []
    return [item for item in data if isinstance(item, dict)] if isinstance(data, list) else []
