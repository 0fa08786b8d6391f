"""What must never be blocked, and why: the refusals every backend applies.

A block that cuts off the gateway, a DHCP or DNS server, a router or access
point, this host or the capture interface takes the whole home (or TOTEM)
offline. The host's routes and neighbour cache say who the default gateway
is right now, but a flushed cache (any quiet minute, and for good once the
gateway is blocked, since ARP then never resolves again) says nothing, so:

- every gateway MAC the cache ever resolved is remembered on disk
  (``GatewayMemory``) and protected while its route exists;
- what TOTEM itself observed (a device typed router or access point, one
  that answers DHCP or DNS, routes for many remote hosts, or owns the
  gateway's IP in ARP) comes in as ``Protection`` entries from the caller
  (Home Assistant keeps them in its store).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, get_args

from .hostinfo import HostInfo, canonical_mac

ReasonCode = Literal[
    "gateway",
    "router",
    "dhcp_server",
    "dns_server",
    "own_host",
    "capture_interface",
    "invalid_mac",
    "invalid_ip",
    "invalid_duration",
    "invalid_backend",
    "nft_missing",
    "permission_denied",
    "nft_error",
    # A probe on another machine refused, or could not be asked (glue: remote_blocking).
    "remote_refused",
    "probe_not_running",
]
REASONS: tuple[str, ...] = get_args(ReasonCode)
# The reasons a device is protected for what it is on the network, strongest first.
PROTECTION_REASONS: tuple[ReasonCode, ...] = ("gateway", "dhcp_server", "dns_server", "router")
# A gateway IP keeps at most this many remembered MACs (a router replaced a few
# times, a spoofer or two); older ones go first.
MAX_REMEMBERED_PER_GATEWAY = 4


class EnforceError(Exception):
    """A block that cannot or must not happen; ``reason`` is for translations."""

    def __init__(self, reason: ReasonCode, message: str) -> None:
        super().__init__(message)
        self.reason: ReasonCode = reason
        self.message = message


@dataclass(frozen=True, slots=True)
class Protection:
    """Why a device must never be blocked: a reason code and the evidence, for people."""

    reason: ReasonCode
    detail: str


@dataclass(slots=True)
class GatewayMemory:
    """Gateway IP -> the MACs the neighbour cache resolved it to, kept on disk.

    ``path`` None keeps it in memory only. Unreadable or hand-broken files
    start empty (nothing is lost that the next resolved cache does not bring
    back); writes that fail leave the in-memory copy in use.
    """

    path: Path | None = None
    known: dict[str, list[str]] = field(default_factory=dict)
    _loaded: bool = False

    def load(self) -> None:
        if self._loaded or self.path is None:
            self._loaded = True
            return
        self._loaded = True
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return
        if not isinstance(data, dict):
            return
        for ip, macs in data.items():
            if isinstance(ip, str) and isinstance(macs, list):
                clean = [m for m in (canonical_mac(str(x)) for x in macs) if m]
                if clean:
                    self.known[ip] = clean[-MAX_REMEMBERED_PER_GATEWAY:]

    def learn(self, host: HostInfo) -> None:
        """Remember every default gateway the host resolved right now."""
        self.load()
        changed = False
        for gateway in host.gateways:
            if gateway.mac is None:
                continue
            macs = self.known.setdefault(gateway.ip, [])
            if gateway.mac in macs:
                continue
            macs.append(gateway.mac)
            del macs[:-MAX_REMEMBERED_PER_GATEWAY]
            changed = True
        if changed:
            self._save()

    def macs_for(self, ip: str) -> list[str]:
        self.load()
        return list(self.known.get(ip, ()))

    def _save(self) -> None:
        if self.path is None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(self.path.suffix + ".tmp")
            tmp.write_text(json.dumps(self.known, sort_keys=True), encoding="utf-8")
            os.replace(tmp, self.path)
        except OSError:
            pass  # kept in memory; the next resolved gateway tries again


@dataclass(frozen=True, slots=True)
class Safety:
    """One check of a MAC (and its IPs) against everything that must never be blocked."""

    host: HostInfo
    capture_mac: str | None = None
    protected: Mapping[str, Protection] = field(default_factory=dict)
    memory: GatewayMemory | None = None

    def check(self, mac: str, ips: Sequence[str] = ()) -> None:
        for gateway in self.host.gateways:
            remembered = self.memory.macs_for(gateway.ip) if self.memory is not None else []
            if mac == gateway.mac or gateway.ip in ips or mac in remembered:
                how = "" if mac == gateway.mac or gateway.ip in ips else " (remembered)"
                raise EnforceError(
                    "gateway",
                    f"refusing to block {mac}: it is the default gateway ({gateway.ip}"
                    f"{' on ' + gateway.dev if gateway.dev else ''}{how}); "
                    "the whole network would lose its way out",
                )
        observed = self.protected.get(mac)
        if observed is not None:
            raise EnforceError(observed.reason, f"refusing to block {mac}: {observed.detail}")
        if self.capture_mac is not None and mac == self.capture_mac:
            raise EnforceError(
                "capture_interface",
                f"refusing to block {mac}: it is the MAC of TOTEM's capture interface",
            )
        owner = self.host.own_macs().get(mac)
        if owner is not None:
            raise EnforceError(
                "own_host",
                f"refusing to block {mac}: it belongs to this host ({owner}); "
                "Home Assistant would cut itself off",
            )


def default_memory_path() -> Path:
    """Where the command line remembers gateways: $TOTEM_STATE_DIR, else /var/lib/totem."""
    return Path(os.environ.get("TOTEM_STATE_DIR") or "/var/lib/totem") / "gateways.json"
