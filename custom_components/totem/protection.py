"""Which devices TOTEM must never block, from what it observed on the network.

The engine's safety check (engine/safety.py) refuses the host's default
gateway, this host and the capture interface; this module adds what only the
traffic shows: a device that routes for many remote hosts, owns the gateway's
IP in ARP, answers DHCP or DNS, or is typed router or access point. Once seen,
a device stays protected (kept in the block store) until it is forgotten: a
router that went quiet, or whose ARP entry was flushed, is still the router.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .engine.safety import PROTECTION_REASONS, Protection
from .inventory import DeviceView

# Device types whose loss takes other devices offline with them.
INFRASTRUCTURE_TYPES = ("router", "access_point")


def observed_protection(view: DeviceView, gateway_ips: Iterable[str]) -> Protection | None:
    """Why VIEW must never be blocked, judged from the traffic; None when it may be."""
    roles = set(view.roles)
    owned = sorted(set(view.ips) & set(gateway_ips))
    if owned:
        return Protection(
            "gateway",
            f"it holds the default gateway's address {owned[0]} (ARP); "
            "the whole network would lose its way out",
        )
    if "gateway" in roles:
        return Protection(
            "gateway",
            "TOTEM saw it carry the traffic of many remote hosts: it is a gateway, "
            "and the network behind it would lose its way out",
        )
    if "dhcp_server" in roles:
        return Protection(
            "dhcp_server", "TOTEM saw it answer DHCP: devices would get no address without it"
        )
    if "dns_server" in roles:
        return Protection(
            "dns_server", "TOTEM saw it answer DNS: devices could not find names without it"
        )
    if view.type in INFRASTRUCTURE_TYPES:
        kind = view.type.replace("_", " ")
        return Protection(
            "router", f"TOTEM takes it for a {kind}: the devices behind it would go offline"
        )
    return None


def protection_to_json(protection: Protection) -> dict[str, str]:
    return {"reason": protection.reason, "detail": protection.detail}


def protection_from_json(data: Any) -> Protection | None:
    """A stored protection, or None for anything a hand edit broke."""
    if not isinstance(data, dict):
        return None
    reason, detail = data.get("reason"), data.get("detail")
    if reason not in PROTECTION_REASONS or not isinstance(detail, str):
        return None
    return Protection(reason, detail[:300])
