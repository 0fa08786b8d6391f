"""What identification collects per MAC (``Evidence``) and what the engine counted
for it (``TrafficSummary``): the inputs of :mod:`.identify` and :mod:`.classify`."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class TrafficSummary:
    """What the engine counted for one MAC; behaviour rules read it."""

    ips: list[str] = field(default_factory=list)
    tx_bytes: int = 0
    rx_bytes: int = 0
    tx_packets: int = 0
    rx_packets: int = 0
    protocols: dict[str, int] = field(default_factory=dict)
    server_ports: dict[tuple[int, int], int] = field(default_factory=dict)
    remote_hosts: int = 0
    upstream_bytes: int = 0
    downstream_bytes: int = 0
    is_gateway: bool = False
    duration: float = 0.0
    longest_flow: float = 0.0  # seconds the longest flow it sent on lasted (wakes.py)


@dataclass(slots=True)
class Evidence:
    """What one MAC said about itself, bounded."""

    first_seen: float
    last_seen: float
    names: dict[str, str] = field(default_factory=dict)
    dhcp_vendor_class: str | None = None
    dhcp_fingerprint: str | None = None
    dhcp_client_id: bytes | None = None
    dhcpv6_duid: bytes | None = None
    mdns_services: set[str] = field(default_factory=set)
    models: set[str] = field(default_factory=set)
    # DNS-SD TXT key (lower-cased) -> its first value, and service type -> the instance
    # name it was announced under: what Home Assistant's zeroconf matchers read.
    txt: dict[str, str] = field(default_factory=dict)
    mdns_instances: dict[str, str] = field(default_factory=dict)
    ssdp_types: set[str] = field(default_factory=set)
    ssdp_servers: set[str] = field(default_factory=set)
    ssdp_locations: set[str] = field(default_factory=set)
    user_agents: set[str] = field(default_factory=set)
    domains: dict[str, None] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)  # behaviour tokens seen in payloads
    ssdp_name_rank: int = 99
    # Leases started from scratch (DHCP DISCOVER / INIT-REBOOT), a minute apart: wakes.py.
    wakes: int = 0
    first_wake: float = 0.0
    last_wake: float = 0.0
    awake_between: int = 0  # packets it started flows with between wakes
    # (what the last classification saw, its result): snapshots repeat it.
    classified: tuple[object, object] | None = None
