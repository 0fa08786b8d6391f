"""Quarantine: a new device waits for approval cut off from the Internet and the LAN.

It keeps what it needs to ask again later and to be recognised: an address
(DHCP, udp 67/68), names (DNS, udp/tcp 53) and ARP to find the DHCP and DNS
servers. Everything else from or to its MAC is dropped. The rules live in
TOTEM's table next to the block rules and come after them, so a blocked
device stays blocked whatever its quarantine says. Quarantined MACs are
elements of their own set, so approving one is deleting an element.
"""

from __future__ import annotations

from typing import Any

QUARANTINE_SET = "quarantined_macs"
# DNS (53) and the DHCP server port (67); replies come from those ports.
_DNS, _DHCP_SERVER = 53, 67


def _match(protocol: str, field: str, right: Any) -> dict[str, Any]:
    return {
        "match": {
            "op": "==",
            "left": {"payload": {"protocol": protocol, "field": field}},
            "right": right,
        }
    }


def _rule(family: str, chain: str, *expr: dict[str, Any]) -> dict[str, Any]:
    return {"family": family, "table": "totem", "chain": chain, "expr": list(expr)}


def quarantine_rules(family: str, chain: str) -> list[dict[str, Any]]:
    """The rules of CHAIN that let a quarantined device do only DHCP, DNS and ARP."""
    mine = f"@{QUARANTINE_SET}"
    # Frames the device sends (forward: to others; input: to this host).
    sends = chain in ("forward", "input")
    # Frames to the device: the bridge sees its MAC as destination; the inet family
    # sees no destination MAC and, behind the router's NAT, nothing starts towards it.
    receives = family == "bridge" and chain in ("forward", "output")
    rules: list[dict[str, Any]] = []
    if sends:
        src = _match("ether", "saddr", mine)
        if family == "bridge":
            rules.append(
                _rule(family, chain, src, _match("ether", "type", "arp"), {"accept": None})
            )
        rules.append(
            _rule(
                family,
                chain,
                src,
                _match("udp", "dport", {"set": [_DNS, _DHCP_SERVER]}),
                {"accept": None},
            )
        )
        rules.append(_rule(family, chain, src, _match("tcp", "dport", _DNS), {"accept": None}))
        rules.append(_rule(family, chain, src, {"drop": None}))
    if receives:
        dst = _match("ether", "daddr", mine)
        rules.append(_rule(family, chain, dst, _match("ether", "type", "arp"), {"accept": None}))
        rules.append(
            _rule(
                family,
                chain,
                dst,
                _match("udp", "sport", {"set": [_DNS, _DHCP_SERVER]}),
                {"accept": None},
            )
        )
        rules.append(_rule(family, chain, dst, _match("tcp", "sport", _DNS), {"accept": None}))
        rules.append(_rule(family, chain, dst, {"drop": None}))
    return rules
