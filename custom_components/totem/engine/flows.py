"""Flow and device records: what the hot path updates and housekeeping folds.

A ``Flow`` is one bidirectional conversation seen on the LAN segment: its key
is the frame's MAC pair plus the IP 5-tuple, direction set by the initiator
(the sender of its first frame). Keeping the MAC pair in the key makes every
frame belong to exactly one flow, so per-device counters folded from flows
stay byte-exact, and per-device protocol bytes add up to its traffic.

A ``DeviceRecord`` accumulates the folded counters of one MAC.
"""

from __future__ import annotations

from dataclasses import dataclass, field

MAX_REMOTE_HOSTS = 10_000
MAX_SOURCE_IPS = 32
# Two distinct Internet addresses behind one MAC already mean it forwards: a device
# has at most one address of its own outside the private ranges.
GATEWAY_NONLOCAL_ADDRESSES = 2


class Flow:
    """One bidirectional conversation; counters are plain attributes for speed."""

    __slots__ = (
        "app",
        "dport",
        "dst_dev",
        "dst_ip",
        "dst_mac",
        "evidence",
        "first",
        "first_rev",
        "fwd_bytes",
        "fwd_flags",
        "fwd_pkts",
        "inspect_left",
        "key",
        "last_fwd",
        "last_rev",
        "proto",
        "rev_bytes",
        "rev_flags",
        "rev_pkts",
        "rkey",
        "sport",
        "src_dev",
        "src_ip",
        "src_mac",
        "started",
    )

    def __init__(
        self,
        key: bytes,
        ts: float,
        proto: int,
        src_mac: bytes,
        dst_mac: bytes,
        src_ip: bytes,
        dst_ip: bytes,
        sport: int,
        dport: int,
    ) -> None:
        self.key = key
        self.rkey = key
        self.proto = proto
        self.src_mac = src_mac
        self.dst_mac = dst_mac
        self.src_ip = src_ip
        self.dst_ip = dst_ip
        self.sport = sport
        self.dport = dport
        self.first = ts
        self.started = ts
        self.last_fwd = ts
        self.first_rev = 0.0
        self.last_rev = 0.0
        self.fwd_pkts = 0
        self.fwd_bytes = 0
        self.rev_pkts = 0
        self.rev_bytes = 0
        self.fwd_flags = 0
        self.rev_flags = 0
        self.app: str | None = None
        self.inspect_left = 0
        self.evidence = False
        self.src_dev: DeviceRecord | None = None
        self.dst_dev: DeviceRecord | None = None

    @property
    def last(self) -> float:
        return self.last_rev if self.last_rev > self.last_fwd else self.last_fwd

    def reset_counters(self, ts: float) -> None:
        """After an active-timeout export: the same flow goes on with fresh counters."""
        self.first = ts
        self.first_rev = 0.0
        self.fwd_pkts = self.fwd_bytes = self.rev_pkts = self.rev_bytes = 0


@dataclass(slots=True)
class DeviceRecord:
    """Folded counters and facts about one MAC."""

    mac: bytes
    tx_packets: int = 0
    tx_bytes: int = 0
    rx_packets: int = 0
    rx_bytes: int = 0
    first_seen: float = 0.0
    last_seen: float = 0.0
    arp_packets: int = 0
    flows: int = 0
    active_flows: int = 0
    upstream_bytes: int = 0
    downstream_bytes: int = 0
    sent_ip: bool = False
    sent_dhcp: bool = False
    answered: bool = False  # someone replied to it: not a spoofed source
    remote: set[bytes] = field(default_factory=set)
    source_ips: dict[bytes, int] = field(default_factory=dict)
    nonlocal_behind: set[bytes] = field(default_factory=set)
    arp_ips: set[bytes] = field(default_factory=set)
    protocols: dict[str, int] = field(default_factory=dict)
    server_ports: dict[tuple[int, int], int] = field(default_factory=dict)

    @property
    def is_gateway(self) -> bool:
        """Internet addresses live behind this MAC (as source or destination): it forwards."""
        return len(self.nonlocal_behind) >= GATEWAY_NONLOCAL_ADDRESSES
