"""Per-device behaviour baselines: what a device did while TOTEM was learning.

Each device learns for ``learn_seconds`` of packet time from its first
appearance (never earlier than the end of the global learning period): the
Internet services (registered domains) it looks up, the Internet networks
(IPv4 /24, IPv6 /48) it reached, the application
protocols it speaks, its DNS and NTP servers, its LAN peers, and its upload
volume per minute. After that the sets only grow from traffic that raised
no alert, and the volume history slides (one day of minutes), so a baseline
adapts slowly and never learns from the traffic that raised an alert.

Volume model. ntopng forecasts each counter with double exponential
smoothing (Holt: level + trend) and alerts outside a confidence band. IoT
traffic is bursty and zero-inflated (a camera idles, then uploads a clip);
Holt's band follows the last burst and its trend term extrapolates it, so
it both misses slow ramps and fires on ordinary bursts. We keep the last
day of per-minute upload volumes and use order statistics instead: a minute
is a spike when it exceeds all of ``spike_min_bytes``, ``spike_factor`` x
the 95th percentile of the history, and median + ``spike_mad`` x 1.4826 x
MAD; two adjacent minutes are also judged together (an upload does not start
on the minute boundary, so a burst splits across two buckets), against
``spike_factor`` x (p95 + median). Percentiles and MAD ignore the outliers
that would drag an average, and a day of history covers the daily cycle;
the bar is each device's own scale (a plug's KB, a camera's MB).

What is learned after the device's learning period: minutes up to the 95th
percentile freely; minutes above it only at the rate a 95th percentile
allows (``TAIL_SHARE`` of the recent learned minutes), so a device's usual
bursts keep the tail alive while a slow ramp, whose minutes all sit above
the old tail, cannot raise its own bar; minutes above the alert limit are
never learned. A usual minute is learned only once the minute after it is
judged usual too (the detector holds it for that minute): the first part of
an upload that straddles the boundary sits under the bar alone, and is part
of the spike the next minute reveals, so it never enters the history.

An alert's time is the start of the minutes it measured (the earlier one for
a pair): when the upload began, to the minute, not when the bucket closed.
"""

from __future__ import annotations

from array import array
from collections import deque
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

MAX_DOMAINS = 256
MAX_PROTOCOLS = 64
MAX_SERVERS = 16
MAX_PEERS = 64
MAX_PREFIXES = 256  # Internet networks (IPv4 /24, IPv6 /48) a device reached
VOLUME_MINUTES = 1440  # one day of one-minute buckets
# No spike verdict before twenty minutes of history. With 20 minutes the 95th
# percentile is the busiest minute seen, so the bar (4x it) stays conservative; and
# a learning period of half an hour holds only ~28 minutes (the first minute starts
# the device's counter, the first tick sets the minute boundary), so a bar of 30
# left a device unjudged - and learning its spike - in the minutes after learning.
MIN_VOLUME_BUCKETS = 20
STATS_EVERY = 15  # recompute order statistics every this many buckets
TAIL_WINDOW = 100  # learned minutes over which the tail's share is counted
TAIL_SHARE = 5  # at most this many of them above the 95th percentile (5 %)

_SECOND_LEVEL = frozenset({"co", "com", "net", "org", "gov", "ac", "edu", "ne", "or", "go"})
_LOCAL_TLDS = frozenset({"local", "lan", "home", "internal", "localdomain", "arpa", "localhost"})


@lru_cache(maxsize=8192)
def base_domain(name: str) -> str | None:
    """The registered domain of a host name (a close approximation of eTLD+1).

    None for names that stay inside the home (single labels, .local, .lan,
    reverse lookups).
    """
    labels = name.lower().rstrip(".").split(".")
    if len(labels) < 2 or labels[-1] in _LOCAL_TLDS or not labels[-1]:
        return None
    if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in _SECOND_LEVEL:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def add_bounded(items: set[str], item: str, cap: int) -> bool:
    if item in items or len(items) >= cap:
        return False
    items.add(item)
    return True


@dataclass(slots=True)
class VolumeStats:
    """Order statistics of a day of per-minute byte counts."""

    median: float
    mad: float
    p95: float


class VolumeHistory:
    """One day of per-minute byte counts in a ring, with cached order statistics."""

    __slots__ = ("_pos", "_since_stats", "_stats", "_tail", "values")

    def __init__(self, values: list[float] | None = None) -> None:
        self.values: array[float] = array("f", (values or [])[-VOLUME_MINUTES:])
        self._pos = len(self.values) % VOLUME_MINUTES
        self._stats: VolumeStats | None = None
        self._since_stats = STATS_EVERY
        self._tail: deque[bool] = deque(maxlen=TAIL_WINDOW)  # learned minute above p95?

    def learn(self, value: float) -> bool:
        """Learn a minute after the learning period, keeping the tail at its share."""
        stats = self.stats()
        above = stats is not None and value > stats.p95
        if above and sum(self._tail) >= TAIL_SHARE:
            return False
        self._tail.append(above)
        self.add(value)
        return True

    def __len__(self) -> int:
        return len(self.values)

    def add(self, value: float) -> None:
        if len(self.values) < VOLUME_MINUTES:
            self.values.append(value)
        else:
            self.values[self._pos] = value
        self._pos = (self._pos + 1) % VOLUME_MINUTES
        self._since_stats += 1

    def stats(self) -> VolumeStats | None:
        if len(self.values) < MIN_VOLUME_BUCKETS:
            return None
        if self._stats is None or self._since_stats >= STATS_EVERY:
            ordered = sorted(self.values)
            n = len(ordered)
            median = ordered[n // 2]
            deviations = sorted(abs(v - median) for v in ordered)
            self._stats = VolumeStats(
                median=median, mad=deviations[n // 2], p95=ordered[min(n - 1, (n * 95) // 100)]
            )
            self._since_stats = 0
        return self._stats

    def ordered(self) -> list[float]:
        """Oldest first (for persistence)."""
        if len(self.values) < VOLUME_MINUTES:
            return list(self.values)
        return list(self.values[self._pos :]) + list(self.values[: self._pos])


@dataclass(slots=True)
class DeviceBaseline:
    """What one device does normally; every set is capped."""

    learn_until: float
    domains: set[str] = field(default_factory=set)
    protocols: set[str] = field(default_factory=set)
    dns_servers: set[str] = field(default_factory=set)
    ntp_servers: set[str] = field(default_factory=set)
    lan_peers: set[str] = field(default_factory=set)
    prefixes: set[str] = field(default_factory=set)
    volume: VolumeHistory = field(default_factory=VolumeHistory)
    # Cumulative upload counter at the last minute boundary (not persisted).
    last_total: int = -1
    # Bytes of the last judged minute when it was usual, else 0 (not persisted): an
    # upload splits across two minute buckets, so a pair of minutes is judged too.
    last_sent: int = 0
    # The last usual minute, learned once the next minute is judged usual too (not
    # persisted): a spike's first minute, under the bar alone, is never learned.
    pending: float | None = None

    def learning(self, ts: float) -> bool:
        return ts < self.learn_until

    def absorb(self, other: DeviceBaseline) -> None:
        """Adds what ``other`` learned about the same device under another key.

        The device learned since the earlier of the two starts; sets are unions within
        their caps; the longer volume history is kept (minutes of the two keys are not
        the same minutes, so they cannot be added bucket by bucket), and the minute
        counters add up as the device's two records do once merged.
        """
        self.learn_until = min(self.learn_until, other.learn_until)
        for mine, theirs, cap in (
            (self.domains, other.domains, MAX_DOMAINS),
            (self.protocols, other.protocols, MAX_PROTOCOLS),
            (self.dns_servers, other.dns_servers, MAX_SERVERS),
            (self.ntp_servers, other.ntp_servers, MAX_SERVERS),
            (self.lan_peers, other.lan_peers, MAX_PEERS),
            (self.prefixes, other.prefixes, MAX_PREFIXES),
        ):
            for item in sorted(theirs):
                if len(mine) >= cap:
                    break
                mine.add(item)
        if len(other.volume) > len(self.volume):
            self.volume = other.volume
        both = self.last_total >= 0 and other.last_total >= 0
        self.last_total = self.last_total + other.last_total if both else -1
        self.last_sent = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "learn_until": self.learn_until,
            "domains": sorted(self.domains),
            "protocols": sorted(self.protocols),
            "dns_servers": sorted(self.dns_servers),
            "ntp_servers": sorted(self.ntp_servers),
            "lan_peers": sorted(self.lan_peers),
            "prefixes": sorted(self.prefixes),
            "volume": [round(v) for v in self.volume.ordered()],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DeviceBaseline:
        def names(key: str, cap: int) -> set[str]:
            raw = data.get(key)
            return {str(x) for x in raw[:cap]} if isinstance(raw, list) else set()

        volume = data.get("volume")
        return cls(
            learn_until=float(data.get("learn_until", 0.0)),
            domains=names("domains", MAX_DOMAINS),
            protocols=names("protocols", MAX_PROTOCOLS),
            dns_servers=names("dns_servers", MAX_SERVERS),
            ntp_servers=names("ntp_servers", MAX_SERVERS),
            lan_peers=names("lan_peers", MAX_PEERS),
            prefixes=names("prefixes", MAX_PREFIXES),
            volume=VolumeHistory(
                [float(v) for v in volume if isinstance(v, int | float)]
                if isinstance(volume, list)
                else None
            ),
        )
