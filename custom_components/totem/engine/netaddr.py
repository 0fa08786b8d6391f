"""Small address helpers on raw bytes (no ipaddress objects on the packet path)."""

from __future__ import annotations

import socket

BROADCAST_MAC = b"\xff" * 6
ZERO_MAC = b"\x00" * 6


def mac_str(mac: bytes) -> str:
    return mac.hex(":")


def mac_bytes(text: str) -> bytes:
    """Parse 'aa:bb:cc:dd:ee:ff' (also '-' or no separators); ValueError when malformed."""
    clean = text.strip().lower().replace("-", "").replace(":", "").replace(".", "")
    if len(clean) != 12:
        raise ValueError(f"not a MAC address: {text!r}")
    return bytes.fromhex(clean)


def is_unicast_mac(mac: bytes) -> bool:
    """A MAC that names one station: not group (multicast/broadcast) and not all zeros."""
    return not (mac[0] & 1) and mac != ZERO_MAC


def is_null_mac(mac: bytes) -> bool:
    """The all-zero MAC: loopback frames and forged or broken frames carry it.

    tshark counts it as an endpoint, so the engine counts its frames too (the
    counters must add up), but it names no station: never a Home Assistant
    device, never blockable, never blamed for an alert.
    """
    return mac == ZERO_MAC


def is_locally_administered(mac: bytes) -> bool:
    """Randomised or otherwise locally assigned (the U/L bit), not a vendor's OUI."""
    return bool(mac[0] & 2)


def ip_str(raw: bytes) -> str:
    if len(raw) == 4:
        return socket.inet_ntop(socket.AF_INET, raw)
    return socket.inet_ntop(socket.AF_INET6, raw)


_LOCAL_FIRST_OCTETS = frozenset({10, 172, 192, 169, 100, 127})


def is_local_ip(raw: bytes) -> bool:
    """Addresses that stay inside a home: RFC 1918, CGNAT, link-local, ULA, loopback."""
    if len(raw) == 4:
        a = raw[0]
        if a not in _LOCAL_FIRST_OCTETS:  # nearly every Internet address stops here
            return False
        b = raw[1]
        return (
            a == 10
            or (a == 172 and 16 <= b <= 31)
            or (a == 192 and b == 168)
            or (a == 169 and b == 254)
            or (a == 100 and 64 <= b <= 127)
            or a == 127
        )
    return (
        (raw[0] == 0xFE and (raw[1] & 0xC0) == 0x80)
        or (raw[0] & 0xFE) == 0xFC
        or raw == (b"\x00" * 15 + b"\x01")
    )


def is_multicast_ip(raw: bytes) -> bool:
    if len(raw) == 4:
        return 224 <= raw[0] <= 239 or raw == b"\xff\xff\xff\xff"
    return raw[0] == 0xFF
