"""new_destination by address: an Internet host no learned service leads to.

Domains alone miss what never asks DNS: a bot's command channel on a raw
address, a bridge sent to a new host by its firmware. So each device also
learns the Internet networks it reached while learning (IPv4 /24, IPv6
/48: one provider's block, where a service's servers sit together). After
learning, an answered connection to an address outside every learned
network is judged by what the device looked up just before it:

- nothing (no lookup within ``RESOLVE_WINDOW``): the address came from no
  name, so it is new: ``new_destination``;
- a domain it uses (learned): CDN churn behind a known service; the network
  is learned silently;
- a domain it never used: the DNS detector already tells that one.

"The domain resolved to this address" comes from the DNS answer the device
received (:mod:`..resolved`, held for the answer's TTL, at least ten minutes)
and, where no answer was seen (a DNS-over-HTTPS client, an answer from before
the capture), from the device's own order of events: devices connect within
milliseconds of their lookup, and ``RESOLVE_WINDOW`` leaves slow stacks and
retries room. DNS, NTP and ICMP are left out: resolvers and time servers are
the DNS detector's and the baseline's, and pings answer nothing.
"""

from __future__ import annotations

from collections import deque

from .. import netaddr
from .base import Detector, DetectorContext, Settled, move_key, register
from .baseline import MAX_PREFIXES, add_bounded, base_domain

MAX_DEVICES = 256
LOOKUPS_PER_DEVICE = 16
RESOLVE_WINDOW = 30.0  # seconds from a lookup to the connection it was for
SKIPPED_PORTS = frozenset({53, 123, 853})


def prefix_of(ip: bytes) -> str:
    """'203.0.113.0/24' or '2001:db8:1::/48': the network a host sits in."""
    if len(ip) == 4:
        return netaddr.ip_str(ip[:3] + b"\0") + "/24"
    return netaddr.ip_str(ip[:6] + bytes(10)) + "/48"


@register(order=65)
class AddressDetector(Detector):
    kinds = ("new_destination",)

    def __init__(self, ctx: DetectorContext) -> None:
        super().__init__(ctx)
        self._lookups: dict[bytes, deque[tuple[float, str]]] = {}

    def on_dns_query(self, ts: float, mac: bytes, qname: str, qtype: int, server: str) -> None:
        if self.ctx.learn_seconds <= 0:
            return  # only ``on_settled`` reads the lookups, and learning off skips it
        domain = base_domain(qname)
        if domain is None or self.ctx.is_forwarder(mac):
            return
        lookups = self._lookups.get(mac)
        if lookups is None:
            if len(self._lookups) >= MAX_DEVICES:
                del self._lookups[next(iter(self._lookups))]
            lookups = self._lookups[mac] = deque(maxlen=LOOKUPS_PER_DEVICE)
        lookups.append((ts, domain))

    def _resolved(self, mac: bytes, ts: float) -> list[str]:
        """The domains the device looked up just before ``ts``."""
        lookups = self._lookups.get(mac)
        if not lookups:
            return []
        return [d for t, d in lookups if ts - RESOLVE_WINDOW <= t <= ts + 1.0]

    def on_settled(self, s: Settled) -> None:
        origin = s.origin
        if origin is None or not s.answered or s.probe or self.ctx.learn_seconds <= 0:
            return  # learning off: no baseline to compare with (``ctx.baseline`` is None)
        f = s.flow
        ip = f.dst_ip
        if netaddr.is_local_ip(ip) or netaddr.is_multicast_ip(ip) or f.dport in SKIPPED_PORTS:
            return
        ctx = self.ctx
        ts = f.started
        base = ctx.baseline(origin, ts)
        if base is None:
            return
        prefix = prefix_of(ip)
        if prefix in base.prefixes:
            return
        if base.learning(ts):
            add_bounded(base.prefixes, prefix, MAX_PREFIXES)
            return
        resolved = self._resolved(origin, ts)
        if not resolved:  # the answer it was given names the host, whatever the timing
            name = ctx.resolved_name(origin, ip, ts)
            domain = base_domain(name) if name else None
            if domain is not None:
                resolved = [domain]
        if resolved:
            if any(d in base.domains for d in resolved) and not ctx.alerted_recently(origin, ts):
                add_bounded(base.prefixes, prefix, MAX_PREFIXES)  # churn behind a known name
            return
        if ctx.watched(origin, "new_destination", ts) is None:
            return
        if ctx.counted(ts, origin, "new_destination"):
            return
        host = netaddr.ip_str(ip)
        ctx.raise_alert(
            ts,
            origin,
            "new_destination",
            "warning",
            f"{ctx.describe(origin, ts)} connected to {host} (port {f.dport}) without "
            "looking up any name, outside every network it reached while TOTEM was "
            "learning. Malware reaches its command servers like this. What you can do: "
            "if you did not change anything on this device, block it and check it.",
            {"address": host, "port": f.dport, "prefix": prefix},
            src_ip=f.src_ip,
        )

    def rekey(self, old: bytes, new: bytes) -> None:
        move_key(self._lookups, old, new)

    def forget(self, mac: bytes | None) -> None:
        if mac is None:
            self._lookups.clear()
        else:
            self._lookups.pop(mac, None)
