"""Data the engine hands out: device rows, alerts and snapshots.

These dataclasses are the engine's public contract. The CLI prints them as
the JSON document of DESIGN.md, the probe streams them as newline-delimited
JSON, and the Home Assistant layer rebuilds them with ``from_json``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from . import talks

Severity = Literal["info", "warning", "critical"]

DEVICE_TYPES: tuple[str, ...] = (
    "router",
    "access_point",
    "laptop",
    "desktop",
    "phone",
    "tablet",
    "tv",
    "media_player",
    "smart_speaker",
    "camera",
    "printer",
    "nas",
    "game_console",
    "smart_plug",
    "light",
    "hub",
    "sensor",
    "iot",
    "unknown",
)

ALERT_KINDS: tuple[str, ...] = (
    "new_device",
    "host_scan",
    "port_scan",
    "syn_flood",
    "traffic_spike",
    "new_destination",
    "unexpected_dns_server",
    "unexpected_protocol",
    "insecure_protocol",
    "arp_spoof",
    "rogue_dhcp",
    "dns_tunnel",
    "blocklisted_host",
    "mac_flood",
    "activity_mismatch",
    "brute_force",
)


# The keys of a device in ``analyze --json`` (DESIGN.md); the probe sends all fields.
CONTRACT_DEVICE_KEYS: tuple[str, ...] = (
    "mac",
    "manufacturer",
    "type",
    "name",
    "ips",
    "first_seen",
    "last_seen",
    "tx_packets",
    "tx_bytes",
    "rx_packets",
    "rx_bytes",
    "arp_packets",
    "flows",
    "remote_hosts",
    "protocols",
    "domains",
    "type_reason",
    "same_device_as",
)
CONTRACT_ALERT_KEYS: tuple[str, ...] = ("time", "mac", "kind", "severity", "message")


@dataclass(slots=True)
class DeviceRow:
    """One unicast MAC that sent at least one frame, as in the JSON contract."""

    mac: str
    manufacturer: str | None = None
    type: str = "unknown"
    name: str | None = None
    ips: list[str] = field(default_factory=list)
    first_seen: float = 0.0
    last_seen: float = 0.0
    tx_packets: int = 0
    tx_bytes: int = 0
    rx_packets: int = 0
    rx_bytes: int = 0
    arp_packets: int = 0
    flows: int = 0
    remote_hosts: int = 0
    protocols: dict[str, int] = field(default_factory=dict)
    domains: list[str] = field(default_factory=list)
    type_reason: str = ""
    same_device_as: str | None = None
    # Beyond the CLI contract; the probe and Home Assistant use them.
    randomized: bool = False  # locally administered MAC: no vendor to name
    active_flows: int = 0
    sent_ip: bool = False
    sent_dhcp: bool = False
    name_sources: dict[str, str] = field(default_factory=dict)
    model: str | None = None  # from the device's own announcements (mDNS TXT md/model)
    integration: str | None = None  # the Home Assistant integration that supports it
    manufacturer_registry: str | None = None  # the OUI registry string, for diagnostics
    type_source: str = "evidence"  # "user" when the user set the type
    # False for the null MAC (00:00:00:00:00:00): its frames are counted, as tshark
    # counts them, but it names no station (never a Home Assistant device).
    station: bool = True
    # What the device does for the network, as TOTEM observed it: "gateway" (routes
    # for many remote hosts), "dhcp_server", "dns_server". Such a device is never blocked.
    roles: list[str] = field(default_factory=list)
    # Its busiest conversations (peer, domain if known, protocol/port, bytes, packets,
    # last seen; ended and live) and busiest peer addresses, bounded (talks.py).
    top_flows: list[dict[str, Any]] = field(default_factory=list)
    top_peers: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DeviceRow:
        known = cls.__dataclass_fields__
        fields = {k: v for k, v in data.items() if k in known}
        # Lists of objects from another process (or machine): typed and bounded here.
        if "top_flows" in fields:
            fields["top_flows"] = talks.clean(fields["top_flows"], "flows")
        if "top_peers" in fields:
            fields["top_peers"] = talks.clean(fields["top_peers"], "peers")
        return cls(**fields)


@dataclass(slots=True)
class Alert:
    """A behaviour worth telling the user about, blamed on the MAC that did it."""

    time: float
    mac: str
    kind: str
    severity: Severity
    message: str
    count: int = 1
    details: dict[str, Any] = field(default_factory=dict)
    # "outbound": the device did it; "inbound": the device suffered it (the victim
    # of a flood or a scan from the Internet): never a reason to block it.
    direction: str = "outbound"
    # "confident": the MAC's learned addresses agree with the frames blamed on it;
    # "doubtful": they do not (a forged source MAC can frame an innocent device).
    attribution: str = "confident"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Alert:
        known = cls.__dataclass_fields__
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass(slots=True)
class EngineStats:
    """Health counters: what the engine could not parse or had to drop."""

    malformed: int = 0
    truncated: int = 0
    fragments: int = 0
    non_ip: int = 0
    flows_active: int = 0
    flows_total: int = 0
    flows_evicted: int = 0
    devices_evicted: int = 0
    unicast_frames: int = 0
    unicast_between_others: int = 0
    kernel_received: int = 0
    kernel_dropped: int = 0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> EngineStats:
        known = cls.__dataclass_fields__
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass(slots=True)
class Snapshot:
    """The engine's view at one moment of packet time."""

    packets: int
    bytes: int
    first_time: float | None
    last_time: float | None
    devices: list[DeviceRow]
    alerts: list[Alert]
    stats: EngineStats = field(default_factory=EngineStats)
    # Alerts sent before whose count grew (repeats inside the cooldown); the probe fills it.
    alert_updates: list[Alert] = field(default_factory=list)

    def to_json(self, *, contract_only: bool = False) -> dict[str, Any]:
        """The full document, or exactly the CLI contract's keys with ``contract_only``."""
        devices = [d.to_json() for d in self.devices]
        alerts = [a.to_json() for a in self.alerts]
        doc: dict[str, Any] = {
            "packets": self.packets,
            "bytes": self.bytes,
            "first_time": self.first_time,
            "last_time": self.last_time,
            "devices": devices,
            "alerts": alerts,
        }
        if self.alert_updates:
            doc["alert_updates"] = [a.to_json() for a in self.alert_updates]
        if contract_only:
            doc["devices"] = [{k: d[k] for k in CONTRACT_DEVICE_KEYS} for d in devices]
            doc["alerts"] = [{k: a[k] for k in CONTRACT_ALERT_KEYS} for a in alerts]
        else:
            doc["stats"] = self.stats.to_json()
        return doc

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Snapshot:
        return cls(
            packets=int(data["packets"]),
            bytes=int(data["bytes"]),
            first_time=data.get("first_time"),
            last_time=data.get("last_time"),
            devices=[DeviceRow.from_json(d) for d in data.get("devices", [])],
            alerts=[Alert.from_json(a) for a in data.get("alerts", [])],
            stats=EngineStats.from_json(data.get("stats", {})),
            alert_updates=[Alert.from_json(a) for a in data.get("alert_updates", [])],
        )
