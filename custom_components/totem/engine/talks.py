"""Whom a device talks to: its busiest conversations, bounded, for the device page.

A *conversation* is one peer address, transport and service port: a phone's
hundred HTTPS flows to one CDN address are one line, as ntopng groups them.
Each device record keeps at most ``MAX_TALKS`` conversations folded from its
ended flows (:func:`add`, called by ``flows.fold``); a snapshot adds the live
flows on top (:func:`top`) and hands out the busiest ``SHOWN_FLOWS`` of them
and the busiest ``SHOWN_PEERS`` peer addresses. The domain of a conversation
is the TLS server name or HTTP Host its initiator sent (:func:`flow_domain`), else
the name a DNS answer the device received gave for that address.

What a snapshot carries is checked again on the way in (:func:`clean`): a
remote probe's table is as hostile as any packet.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from typing import Any, Final

from . import netaddr, resolved
from .decode import ip_proto_name
from .dissect import HTTP_METHODS, parse_http_request, parse_tls_sni
from .protocols import by_port, service_port

# Conversations kept per device. A busy phone or laptop has a few hundred peers a
# day, a smart plug two or three; the page shows ten, so 32 keeps the heavy ones
# with room for newcomers to grow into them (8 KiB a device at most).
MAX_TALKS: Final = 32
# Past the bound the least busy quarter is forgotten at once: pruning costs a sort,
# done once per eight new conversations rather than on each.
PRUNE_TO: Final = MAX_TALKS * 3 // 4
# What a snapshot carries per device: a screen's worth (250 devices x 16 lines
# stay under 0.5 MB a snapshot).
SHOWN_FLOWS: Final = 10
SHOWN_PEERS: Final = 6
MAX_DOMAIN: Final = 253  # the longest DNS name
_DOMAIN = re.compile(r"[a-z0-9_](?:[a-z0-9_.-]*[a-z0-9_])?")

type TalkKey = tuple[bytes, int, int]  # peer address, IP protocol, service port
_TRANSPORTS: Final = {6: "TCP", 17: "UDP"}


class Talk:
    """One conversation's counters, from the device's side."""

    __slots__ = ("app", "domain", "down", "last", "live", "packets", "up")

    def __init__(self, app: str, domain: str | None) -> None:
        self.up = 0
        self.down = 0
        self.packets = 0
        self.last = 0.0
        self.app = app
        self.domain = domain
        self.live = False

    def grow(
        self, up: int, down: int, packets: int, last: float, app: str, domain: str | None
    ) -> None:
        self.up += up
        self.down += down
        self.packets += packets
        if last >= self.last:
            self.last = last
            self.app = app
        if domain is not None:
            self.domain = domain

    def copy(self) -> Talk:
        twin = Talk(self.app, self.domain)
        twin.grow(self.up, self.down, self.packets, self.last, self.app, None)
        return twin


def flow_domain(payload: bytes) -> str | None:
    """The name a client's first payload asks for: TLS SNI or HTTP Host, cleaned."""
    name: str | None = None
    if payload[:1] == b"\x16":
        name = parse_tls_sni(payload)
    elif payload.startswith(HTTP_METHODS):
        request = parse_http_request(payload)
        name = request.host if request is not None else None
    return clean_domain(name)


def clean_domain(name: object) -> str | None:
    """A host name as DNS spells it, or None: a Host header's port and an IPv6 literal
    (the peer address already says it) are cut, the rest is :func:`.resolved.clean_domain`."""
    if not isinstance(name, str) or not name or len(name) > MAX_DOMAIN + 6:
        return None
    text = name.strip()
    if text.startswith("["):
        return None
    text = text.rsplit(":", 1)[0] if text.count(":") == 1 else text
    return resolved.clean_domain(text)


def add(
    talks: dict[TalkKey, Talk],
    key: TalkKey,
    up: int,
    down: int,
    packets: int,
    last: float,
    app: str,
    domain: str | None,
) -> None:
    """Fold one flow's counters (seen from the device) into its conversation."""
    talk = talks.get(key)
    if talk is None:
        if len(talks) >= MAX_TALKS:
            _prune(talks)
        talk = talks[key] = Talk(app, domain)
    talk.grow(up, down, packets, last, app, domain)


def _prune(talks: dict[TalkKey, Talk]) -> None:
    busiest = sorted(talks.items(), key=lambda kv: -(kv[1].up + kv[1].down))[:PRUNE_TO]
    talks.clear()
    talks.update(busiest)


def top(
    mac: bytes,
    kept: dict[TalkKey, Talk],
    live: Iterable[Any],
    resolve: Callable[[bytes], str | None] | None = None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The device's busiest conversations (ended and live) and busiest peers, as JSON.

    LIVE are its flows still in the flow table (``engine.flows.Flow``). RESOLVE names
    a peer the device sent no name to (a DNS answer it received for that address).
    """
    merged = dict(kept)  # the kept ones are copied only when a live flow adds to them
    fresh: set[TalkKey] = set()
    for f in live:
        app = f.app or by_port(f.proto, f.sport, f.dport)
        if f.src_mac == mac:
            peer, up, down = f.dst_ip, f.fwd_bytes, f.rev_bytes
        else:
            peer, up, down = f.src_ip, f.rev_bytes, f.fwd_bytes
        key = (peer, f.proto, service_port(f.proto, f.sport, f.dport))
        talk = merged.get(key)
        if talk is None:
            talk = merged[key] = Talk(app, f.domain)
            fresh.add(key)
        elif key not in fresh:
            talk = merged[key] = talk.copy()
            fresh.add(key)
        talk.grow(up, down, f.fwd_pkts + f.rev_pkts, f.last, app, f.domain)
        talk.live = True
    ranked = sorted(merged.items(), key=lambda kv: (-(kv[1].up + kv[1].down), -kv[1].last))

    def domain_of(peer: bytes, talk: Talk) -> str | None:
        if talk.domain is not None or resolve is None:
            return talk.domain
        return resolve(peer)

    flows = [
        {
            "peer": netaddr.ip_str(peer),
            "domain": domain_of(peer, talk),
            "proto": _TRANSPORTS.get(proto) or ip_proto_name(proto),
            "port": port,
            "app": talk.app,
            "up": talk.up,
            "down": talk.down,
            "packets": talk.packets,
            "last": talk.last,
            "live": talk.live,
            "local": netaddr.is_local_ip(peer),
        }
        for (peer, proto, port), talk in ranked[:SHOWN_FLOWS]
    ]
    peers: dict[bytes, dict[str, Any]] = {}
    for (peer, _proto, _port), talk in ranked:
        entry = peers.get(peer)
        if entry is None:
            entry = peers[peer] = {
                "peer": netaddr.ip_str(peer),
                "domain": None,
                "up": 0,
                "down": 0,
                "conversations": 0,
                "local": netaddr.is_local_ip(peer),
            }
        entry["up"] += talk.up
        entry["down"] += talk.down
        entry["conversations"] += 1
        entry["domain"] = entry["domain"] or talk.domain
    busiest = sorted(peers.items(), key=lambda kv: -(kv[1]["up"] + kv[1]["down"]))[:SHOWN_PEERS]
    if resolve is not None:
        for peer, entry in busiest:
            entry["domain"] = entry["domain"] or resolve(peer)
    return flows, [entry for _peer, entry in busiest]


# -- on the way in ---------------------------------------------------------------------

_FLOW_TEXT: Final = {"peer": 64, "proto": 32, "app": 64}
_FLOW_COUNTS: Final = ("up", "down", "packets")
_PEER_COUNTS: Final = ("up", "down", "conversations")
# More than a row could carry from this engine, less than a hostile table could ask.
MAX_IN: Final = 64


def _count(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if not math.isfinite(value) or value < 0 or value > 1e15:
        return None
    return int(value)


def clean(raw: object, kind: str) -> list[dict[str, Any]]:
    """A snapshot's "top_flows" or "top_peers" list, every field typed and bounded;
    an entry that is not one is dropped (the rest of the row stays)."""
    if not isinstance(raw, list):
        return []
    out: list[dict[str, Any]] = []
    for item in raw[:MAX_IN]:
        if not isinstance(item, dict):
            continue
        peer = item.get("peer")
        if not isinstance(peer, str) or not 0 < len(peer) <= _FLOW_TEXT["peer"]:
            continue
        counts = _FLOW_COUNTS if kind == "flows" else _PEER_COUNTS
        values = {key: _count(item.get(key, 0)) for key in counts}
        if any(v is None for v in values.values()):
            continue
        entry: dict[str, Any] = {
            "peer": peer,
            "domain": clean_domain(item.get("domain")),
            "local": bool(item.get("local")),
            **values,
        }
        if kind == "flows":
            port, last = _count(item.get("port", 0)), item.get("last", 0.0)
            if port is None or port > 65535 or _count(last) is None:
                continue
            entry["port"] = port
            entry["last"] = float(last)
            entry["live"] = bool(item.get("live"))
            for key in ("proto", "app"):
                text = item.get(key)
                entry[key] = text[: _FLOW_TEXT[key]] if isinstance(text, str) else None
        out.append(entry)
    return out
