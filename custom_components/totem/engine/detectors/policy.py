"""Device-type policies: which application protocols a type may speak, and which
baseline detectors watch it (like ntopng's "Device Protocols" page).

ntopng's defaults allow every device type mDNS, NTP, NetBIOS, ICMP, IGMP,
DHCPv6, UPnP/SSDP and LLMNR, plus DNS and DHCP always; IoT types add HTTP and
TLS, cameras RTSP/RTP. The table below starts from the same place and adds the
vendor protocols our detector names (Kasa, Tuya, Hue, Cast...). ``None`` means
"anything goes": general-purpose machines and routers speak every protocol.

``watch`` says which baseline kinds apply to a type (rule kinds - scans,
floods, tunnels, spoofing - apply to every device whatever its type):
- ``strict``  stable IoT behaviour: new_destination, traffic_spike,
  unexpected_protocol and unexpected_dns_server. Unknown devices are
  watched this way too: the devices TOTEM cannot name are the ones to watch
  most (a camera it could not type is still a camera);
- ``service`` media and appliances that roam between services (TVs, speakers,
  consoles, NAS): unexpected_protocol, unexpected_dns_server and
  traffic_spike on the roomy ``general`` volume model;
- ``general`` laptops, phones, tablets, desktops: unexpected_dns_server and
  traffic_spike on the ``general`` volume model (see
  :mod:`.behaviour`), never new_destination or unexpected_protocol: a
  person's machine goes everywhere and speaks everything on a normal day;
- ``none``    routers and access points: they carry everyone's traffic.

The user edits the table with the ``policy`` control command (persisted).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Watch = Literal["strict", "service", "general", "none"]

# Allowed for every type (ntopng's defaults, with our protocol names).
BASE_ALLOWED: frozenset[str] = frozenset(
    {
        "DNS",
        "DHCP",
        "DHCPv6",
        "mDNS",
        "NTP",
        "NetBIOS",
        "ICMP",
        "ICMPv6",
        "IGMP",
        "SSDP",
        "UPnP",
        "LLMNR",
        "ARP",
        "WS-Discovery",
        "NAT-PMP",
    }
)
IOT_ALLOWED: frozenset[str] = BASE_ALLOWED | {
    "HTTP",
    "TLS",
    "QUIC",
    "MQTT",
    "MQTT over TLS",
    "CoAP",
    "STUN",
}
MEDIA_ALLOWED: frozenset[str] = IOT_ALLOWED | {
    "Google Cast",
    "AirPlay",
    "Spotify Connect",
    "Sonos",
    "RTSP",
    "RTMP",
    "HomeKit",
    "Apple Push",
    "XMPP",
}

# An unknown device with a locally administered (randomised) MAC. Phones, tablets
# and laptops randomise their Wi-Fi MAC per network (iOS 14+, Android 10+, Windows
# 10+), as do virtual machines and containers; IoT firmware (ESP, cameras, plugs,
# bulbs) keeps the maker's burned-in MAC. So an unknown device with a random MAC is
# judged as a person's machine, and one with a maker's MAC as the IoT device it
# most likely is (strict baselines, the IoT scan limits).
UNKNOWN_PRIVATE = "unknown_private"

# Types whose owner uses them for everything: wider scan limits, the roomy volume model.
GENERAL_PURPOSE: frozenset[str] = frozenset(
    {"laptop", "desktop", "phone", "tablet", UNKNOWN_PRIVATE, "router", "access_point"}
)


@dataclass(slots=True)
class TypePolicy:
    """What a device type may speak (None: anything) and how it is watched."""

    allowed: frozenset[str] | None
    watch: Watch


DEFAULT_POLICIES: dict[str, TypePolicy] = {
    "router": TypePolicy(None, "none"),
    "access_point": TypePolicy(None, "none"),
    "laptop": TypePolicy(None, "general"),
    "desktop": TypePolicy(None, "general"),
    "phone": TypePolicy(None, "general"),
    "tablet": TypePolicy(None, "general"),
    UNKNOWN_PRIVATE: TypePolicy(None, "general"),
    # Unknown: watched like IoT, with the widest non-general protocol set (it
    # may be a TV or a speaker TOTEM could not name).
    "unknown": TypePolicy(MEDIA_ALLOWED, "strict"),
    "nas": TypePolicy(None, "service"),
    "tv": TypePolicy(MEDIA_ALLOWED, "service"),
    "media_player": TypePolicy(MEDIA_ALLOWED, "service"),
    "smart_speaker": TypePolicy(MEDIA_ALLOWED, "service"),
    "game_console": TypePolicy(MEDIA_ALLOWED | {"SIP"}, "service"),
    "camera": TypePolicy(IOT_ALLOWED | {"RTSP", "RTMP", "HomeKit"}, "strict"),
    "printer": TypePolicy(IOT_ALLOWED | {"IPP", "Printer (raw 9100)", "SNMP", "SMB"}, "strict"),
    "smart_plug": TypePolicy(IOT_ALLOWED | {"TP-Link Kasa", "Tuya LAN", "HomeKit"}, "strict"),
    "light": TypePolicy(IOT_ALLOWED | {"Hue", "HomeKit", "Tuya LAN"}, "strict"),
    "hub": TypePolicy(
        IOT_ALLOWED | {"Hue", "HomeKit", "Tuya LAN", "TP-Link Kasa", "Nest Weave", "Modbus"},
        "strict",
    ),
    "sensor": TypePolicy(IOT_ALLOWED | {"HomeKit", "Nest Weave"}, "strict"),
    "iot": TypePolicy(IOT_ALLOWED | {"HomeKit", "Nest Weave", "Tuya LAN"}, "strict"),
}

STRICT_KINDS = frozenset(
    {"new_destination", "traffic_spike", "unexpected_protocol", "unexpected_dns_server"}
)
SERVICE_KINDS = frozenset({"unexpected_protocol", "unexpected_dns_server", "traffic_spike"})
GENERAL_KINDS = frozenset({"unexpected_dns_server", "traffic_spike"})
# Types whose volume is judged on the roomy model (streaming, backups, calls).
ROOMY_VOLUME: frozenset[str] = frozenset({"service", "general"})


class PolicyTable:
    """The default table plus the user's edits (allow/deny per type)."""

    def __init__(self) -> None:
        self._extra: dict[str, set[str]] = {}
        self._denied: dict[str, set[str]] = {}

    def policy(self, device_type: str) -> TypePolicy:
        base = DEFAULT_POLICIES.get(device_type, DEFAULT_POLICIES["unknown"])
        if base.allowed is None:
            return base
        extra = self._extra.get(device_type)
        denied = self._denied.get(device_type)
        if not extra and not denied:
            return base
        allowed = (base.allowed | (extra or set())) - (denied or set())
        return TypePolicy(frozenset(allowed), base.watch)

    def allows(self, device_type: str, protocol: str) -> bool:
        allowed = self.policy(device_type).allowed
        return allowed is None or protocol in allowed

    def watches(self, device_type: str, kind: str) -> bool:
        """Does this baseline kind apply to this device type?"""
        watch = self.policy(device_type).watch
        if watch == "strict":
            return kind in STRICT_KINDS
        if watch == "service":
            return kind in SERVICE_KINDS
        if watch == "general":
            return kind in GENERAL_KINDS
        return False

    def roomy_volume(self, device_type: str) -> bool:
        """Is this type's upload judged on the roomy (person-driven) volume model?"""
        return self.policy(device_type).watch in ROOMY_VOLUME

    def edit(self, device_type: str, allow: list[str], deny: list[str]) -> None:
        if device_type not in DEFAULT_POLICIES:
            raise ValueError(f"unknown device type: {device_type!r}")
        extra = self._extra.setdefault(device_type, set())
        denied = self._denied.setdefault(device_type, set())
        for name in allow:
            extra.add(name)
            denied.discard(name)
        for name in deny:
            denied.add(name)
            extra.discard(name)

    def to_json(self) -> dict[str, Any]:
        return {
            "allow": {t: sorted(v) for t, v in self._extra.items() if v},
            "deny": {t: sorted(v) for t, v in self._denied.items() if v},
        }

    def restore(self, data: dict[str, Any]) -> None:
        for key, target in (("allow", self._extra), ("deny", self._denied)):
            table = data.get(key)
            if not isinstance(table, dict):
                continue
            for device_type, names in table.items():
                if device_type in DEFAULT_POLICIES and isinstance(names, list):
                    target[device_type] = {str(n) for n in names}
