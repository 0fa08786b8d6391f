"""DNS: tunnels and exfiltration (rule) and unexpected DNS servers (baseline).

A DNS tunnel (iodine, dnscat2) encodes data in query names: long labels of
base32/hex/base128 that look random, often with the NULL, TXT, CNAME or MX
types, at a rate no device needs, under one domain. A query is *encoded*
when a label is at least ``dns_tunnel_label`` characters with high
character entropy, or the part left of the registered domain is at least
``dns_tunnel_name`` characters, or it asks for the NULL type (iodine's
favourite, which nothing else uses). ``dns_tunnel`` fires on
``dns_tunnel_queries`` encoded queries in ``dns_tunnel_window``, or on
``dns_tunnel_subdomains`` distinct names under one domain.

new_destination (baseline): a watched device looks up a registered domain it
never looked up while learning; streaming services' content networks
(``STREAMING_CDNS``) are learned silently.

unexpected_dns_server: a watched device asks a DNS server it never used
while learning and no device of the home used either (a hard-coded
resolver that changed, or malware's own). Servers that another device
already uses are learned silently.
"""

from __future__ import annotations

import ipaddress
import math
from collections import Counter
from functools import lru_cache
from typing import Any

from .. import netaddr
from .base import Detector, DetectorContext, move_key, register
from .baseline import MAX_DOMAINS, MAX_SERVERS, DeviceBaseline, add_bounded, base_domain
from .thresholds import Thresholds
from .window import CountInWindow, DistinctInWindow, LruTable

MAX_DEVICES = 256
# Video and music streaming services' content networks: they serve segments of a
# film or a song and nothing else (no one can host a command server or drop data
# there). A TV or stick TOTEM could not name opens a new one of these names for every
# film and app; that is someone watching, not a new service: learned, never alerted.
STREAMING_CDNS = frozenset(
    {
        "nflxvideo.net",  # Netflix Open Connect
        "googlevideo.com",  # YouTube
        "aiv-cdn.net",  # Prime Video
        "aiv-delivery.net",
        "pv-cdn.net",
        "dssott.com",  # Disney+
        "bamgrid.com",
        "hulustream.com",
        "ttvnw.net",  # Twitch
        "scdn.co",  # Spotify audio
        "dzcdn.net",  # Deezer
    }
)
MAX_DOMAINS_PER_DEVICE = 8
MAX_HOME_SERVERS = 32
NULL_QTYPE = 10
ENTROPY_BITS = 3.2  # per character; English-like host names stay under ~3


def _is_local(ip: str) -> bool:
    try:
        return netaddr.is_local_ip(ipaddress.ip_address(ip).packed)
    except ValueError:
        return False


def entropy(text: str) -> float:
    counts = Counter(text)
    n = len(text)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def encoded_query(qname: str, qtype: int, label_len: int, name_len: int) -> bool:
    """Does this query name carry data rather than name a host?"""
    return qtype == NULL_QTYPE or _encoded_name(qname, label_len, name_len)


@lru_cache(maxsize=4096)  # devices ask the same few names all day
def _encoded_name(qname: str, label_len: int, name_len: int) -> bool:
    base = base_domain(qname)
    left = qname[: -len(base) - 1] if base and len(qname) > len(base) else ""
    if len(left) >= name_len:
        return True
    return any(
        len(label) >= label_len and entropy(label) >= ENTROPY_BITS for label in qname.split(".")
    )


class _DeviceDns:
    __slots__ = ("encoded", "names")

    def __init__(self, t: Thresholds) -> None:
        self.encoded = CountInWindow(t.dns_tunnel_window, t.dns_tunnel_queries + 1)
        self.names: LruTable[str, DistinctInWindow] = LruTable(
            MAX_DOMAINS_PER_DEVICE,
            lambda: DistinctInWindow(t.dns_tunnel_window, t.dns_tunnel_subdomains + 1),
        )


@register(order=30)
class DnsDetector(Detector):
    kinds = ("dns_tunnel", "unexpected_dns_server", "new_destination")

    def __init__(self, ctx: DetectorContext) -> None:
        super().__init__(ctx)
        self._devices: dict[bytes, _DeviceDns] = {}
        self.home_servers: set[str] = set()

    def on_dns_query(self, ts: float, mac: bytes, qname: str, qtype: int, server: str) -> None:
        ctx = self.ctx
        if ctx.is_forwarder(mac):
            return  # the router resolving for everyone: the asking device is behind it
        t = ctx.thresholds(mac)
        state = self._devices.get(mac)
        if state is None:
            if len(self._devices) >= MAX_DEVICES:
                del self._devices[next(iter(self._devices))]
            state = self._devices[mac] = _DeviceDns(t)
        domain = base_domain(qname)
        if encoded_query(qname, qtype, t.dns_tunnel_label, t.dns_tunnel_name):
            n = state.encoded.add(ts)
            if n >= t.dns_tunnel_queries:
                self._tunnel(ts, mac, domain or qname, f"{n} queries that carry encoded data")
        if domain is not None:
            m = state.names.get(domain).add(qname, ts)
            if m >= t.dns_tunnel_subdomains:
                self._tunnel(ts, mac, domain, f"{m} different names under {domain}")
        # Both baseline checks compare with the same baseline: fetch it once (None
        # with learning off, which makes them no-ops).
        base = ctx.baseline(mac, ts)
        if base is None:
            return
        self._server(ts, mac, server, base)
        if domain is not None:
            self._destination(ts, mac, domain, base)

    def _tunnel(self, ts: float, mac: bytes, domain: str, what: str) -> None:
        ctx = self.ctx
        if ctx.counted(ts, mac, "dns_tunnel"):
            return
        window = ctx.thresholds(mac).dns_tunnel_window
        ctx.raise_alert(
            ts,
            mac,
            "dns_tunnel",
            "critical",
            f"{ctx.describe(mac, ts)} sent {what} within {window:.0f} seconds "
            f"(domain {domain}). Data is being smuggled through DNS: a tunnel or "
            "data theft. What you can do: block the device and check it.",
            {"domain": domain},
        )

    def _server(self, ts: float, mac: bytes, server: str, base: DeviceBaseline) -> None:
        ctx = self.ctx
        if base.learning(ts):
            add_bounded(base.dns_servers, server, MAX_SERVERS)
            add_bounded(self.home_servers, server, MAX_HOME_SERVERS)
            return
        if server in base.dns_servers:
            return
        if server in self.home_servers or _is_local(server):
            # Another device's resolver, or one inside the home (router, Pi-hole).
            add_bounded(base.dns_servers, server, MAX_SERVERS)
            return
        if ctx.watched(mac, "unexpected_dns_server", ts) is None:
            return
        ctx.raise_alert(
            ts,
            mac,
            "unexpected_dns_server",
            "warning",
            f"{ctx.describe(mac, ts)} asked the DNS server {server}, which no device "
            "of your home used before. Malware often brings its own DNS server. What you "
            "can do: if you did not set that server yourself, block the device and check it.",
            {"server": server},
        )

    def _destination(self, ts: float, mac: bytes, domain: str, base: DeviceBaseline) -> None:
        ctx = self.ctx
        if base.learning(ts) or domain in STREAMING_CDNS:
            add_bounded(base.domains, domain, MAX_DOMAINS)
            return
        if domain in base.domains or ctx.watched(mac, "new_destination", ts) is None:
            return
        ctx.raise_alert(
            ts,
            mac,
            "new_destination",
            "warning",
            f"{ctx.describe(mac, ts)} contacted {domain}, an Internet service it never "
            "used while TOTEM was learning its habits. What you can do: if you did not "
            "install an update or a new app for it, keep an eye on it or block it.",
            {"domain": domain},
        )

    def rekey(self, old: bytes, new: bytes) -> None:
        move_key(self._devices, old, new)

    def forget(self, mac: bytes | None) -> None:
        if mac is None:
            self._devices.clear()
        else:
            self._devices.pop(mac, None)

    def state(self) -> dict[str, Any] | None:
        return {"home_servers": sorted(self.home_servers)}

    def restore(self, state: dict[str, Any]) -> None:
        servers = state.get("home_servers")
        if isinstance(servers, list):
            self.home_servers = {str(s) for s in servers[:MAX_HOME_SERVERS]}
