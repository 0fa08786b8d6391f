"""Address classes the engine decides on for every flow."""

from __future__ import annotations

import ipaddress

from custom_components.totem.engine import netaddr

HOME_NETWORKS = [
    ipaddress.ip_network(n)
    for n in (
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "169.254.0.0/16",
        "100.64.0.0/10",
        "127.0.0.0/8",
    )
]


def test_every_ipv4_prefix_is_local_exactly_when_a_home_range_holds_it() -> None:
    """All 65,536 first-two-octet prefixes (the fast reject on the first octet included)."""
    for a in range(256):
        for b in range(256):
            raw = bytes([a, b, 7, 9])
            address = ipaddress.IPv4Address(raw)
            expected = any(address in net for net in HOME_NETWORKS)
            assert netaddr.is_local_ip(raw) is expected, address


def test_ipv6_local_classes() -> None:
    for text, local in (
        ("fe80::1", True),
        ("fd12:3456::1", True),
        ("fc00::1", True),
        ("::1", True),
        ("2001:db8::1", False),
        ("2a00:1450::200e", False),
        ("fec0::1", False),
    ):
        assert netaddr.is_local_ip(ipaddress.IPv6Address(text).packed) is local, text
