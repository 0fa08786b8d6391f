"""Device types from evidence: behaviour tokens and the scored type rules.

Every rule of :mod:`.type_rules` that matches a piece of a MAC's evidence
adds its weight to its type; the best type at or above ``MIN_SCORE`` wins,
the fallback type only when nothing else does. Results are cached per MAC
until its evidence grows.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from .evidence import Evidence, TrafficSummary
from .type_rules import FALLBACK_TYPE, MIN_SCORE, TypeRule

# Bytes per second of sustained upload that only video makes in a smart home.
_VIDEO_UPSTREAM_RATE = 40_000
_VIDEO_MIN_SECONDS = 60.0

_SERVER_TOKENS: dict[tuple[int, int], str] = {
    (17, 67): "serves_dhcp",
    (17, 53): "serves_dns",
    (6, 53): "serves_dns",
    (6, 631): "serves_ipp",
    (6, 9100): "serves_printer_raw",
    (6, 554): "serves_rtsp",
    (6, 8554): "serves_rtsp",
    (6, 9999): "kasa_server",
    (17, 9999): "kasa_server",
    (6, 1883): "serves_mqtt",
}


def behaviours(ev: Evidence | None, traffic: TrafficSummary) -> set[str]:
    """Behaviour tokens for the ``behaviour`` rules: flags seen in payloads, and traffic."""
    tokens = set(ev.flags) if ev is not None else set()
    if traffic.is_gateway:
        tokens.add("gateway")
    for (proto, port), size in traffic.server_ports.items():
        if size <= 0:
            continue
        token = _SERVER_TOKENS.get((proto, port))
        if token is not None:
            tokens.add(token)
    if (
        traffic.duration >= _VIDEO_MIN_SECONDS
        and traffic.upstream_bytes >= 8 * max(traffic.downstream_bytes, 1)
        and traffic.upstream_bytes / traffic.duration >= _VIDEO_UPSTREAM_RATE
    ):
        tokens.add("upstream_video")
    if "kasa_server" in tokens:
        tokens.discard("kasa_client")
    return tokens


class TypeClassifier:
    """Scores device types from evidence with the rules of :mod:`.type_rules`."""

    def __init__(self, rules: Iterable[TypeRule]) -> None:
        self._by_evidence: dict[str, list[tuple[re.Pattern[str], TypeRule]]] = {}
        for rule in rules:
            self._by_evidence.setdefault(rule.evidence, []).append(
                (re.compile(rule.pattern, re.IGNORECASE), rule)
            )

    def classify(
        self, manufacturer: str | None, ev: Evidence | None, tokens: set[str]
    ) -> tuple[str, str]:
        """``_classify`` once per change of evidence: every set and dict only grows,
        so sizes and the names say whether anything changed since last time."""
        if ev is None:
            return self._classify(manufacturer, ev, tokens)
        seen = (
            manufacturer,
            frozenset(tokens),
            tuple(ev.names.values()),
            ev.dhcp_vendor_class,
            ev.dhcp_fingerprint,
            len(ev.mdns_services),
            len(ev.models),
            len(ev.ssdp_types),
            len(ev.ssdp_servers),
            len(ev.ssdp_locations),
            len(ev.user_agents),
            len(ev.domains),
        )
        if ev.classified is not None and ev.classified[0] == seen:
            return ev.classified[1]
        result = self._classify(manufacturer, ev, tokens)
        ev.classified = (seen, result)
        return result

    def _classify(
        self, manufacturer: str | None, ev: Evidence | None, tokens: set[str]
    ) -> tuple[str, str]:
        values: dict[str, Iterable[str]] = {
            "vendor": [manufacturer] if manufacturer else [],
            "behaviour": tokens,
        }
        if ev is not None:
            values.update(
                hostname=list(ev.names.values()),
                dhcp_vendor_class=[ev.dhcp_vendor_class] if ev.dhcp_vendor_class else [],
                dhcp_fingerprint=[ev.dhcp_fingerprint] if ev.dhcp_fingerprint else [],
                mdns_service=ev.mdns_services,
                model=ev.models,
                ssdp_type=ev.ssdp_types,
                ssdp_server=ev.ssdp_servers,
                ssdp_location=ev.ssdp_locations,
                domain=ev.domains,
                user_agent=ev.user_agents,
            )
        scores: dict[str, int] = {}
        labels: dict[str, list[str]] = {}
        for kind, found in values.items():
            rules = self._by_evidence.get(kind)
            if not rules:
                continue
            items = list(found)
            for pattern, rule in rules:
                if any(pattern.search(item) for item in items):
                    scores[rule.type] = scores.get(rule.type, 0) + rule.weight
                    labels.setdefault(rule.type, []).append(rule.label)
        best: str | None = None
        for type_, score in scores.items():
            if type_ == FALLBACK_TYPE or score < MIN_SCORE:
                continue
            if best is None or score > scores[best]:
                best = type_
        if best is None and scores.get(FALLBACK_TYPE, 0) >= MIN_SCORE:
            best = FALLBACK_TYPE
        if best is None:
            return "unknown", ""
        return best, " + ".join(labels[best])
