"""Device types from evidence: behaviour tokens, and the fused votes of every source.

:mod:`.votes` asks each knowledge source (the rules of :mod:`.type_rules` among them)
for its votes, :mod:`.fusion` decides. Results are cached per MAC until its evidence grows.
"""

from __future__ import annotations

from .evidence import Evidence, TrafficSummary
from .fusion import Decision, decide
from .votes import Ballot, Knowledge, collect
from .wakes import TOKEN as SLEEPS_TOKEN
from .wakes import sleeps

# Bytes per second of sustained upload that only video makes in a smart home.
_VIDEO_UPSTREAM_RATE = 40_000
_VIDEO_MIN_SECONDS = 60.0
UPSTREAM_VIDEO = "upstream_video"  # the behaviour token of a camera's steady upload
# Bytes per second of sustained download from the Internet that a media stream makes:
# ~0.8 Mbit/s, under the lowest SD bitrate YouTube/Netflix serve (~1 Mbit/s); a stream's
# upload is only TCP ACKs and player reports, far below 1/8 of what it receives.
_MEDIA_DOWNSTREAM_RATE = 100_000

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
    # Edimax smart plugs (SP-1101W, SP-2101W) take their local commands as HTTP POSTs to
    # /smartplug.cgi on TCP 10000 (what Home Assistant's edimax integration, via pyedimax,
    # and the EdiPlug app talk to); Webmin and NDMP use 10000 too, so the rule is weak.
    (6, 10000): "serves_10000",
    # Google Cast receivers listen on 8008 (HTTP/DIAL) and 8009 (Cast channel); senders
    # (phones, browsers) only connect to them.
    (6, 8008): "serves_cast",
    (6, 8009): "serves_cast",
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
        tokens.add(UPSTREAM_VIDEO)
    if (
        traffic.duration >= _VIDEO_MIN_SECONDS
        and traffic.downstream_bytes >= 8 * max(traffic.upstream_bytes, 1)
        and traffic.downstream_bytes / traffic.duration >= _MEDIA_DOWNSTREAM_RATE
    ):
        tokens.add("downstream_media")  # receives a stream: a TV, a cast stick, or a screen
    if "lan_beacon" in tokens and not traffic.upstream_bytes and (ev is None or not ev.domains):
        tokens.add("lan_beacon_only")  # it announces itself and never reaches the Internet
    if sleeps(ev, traffic):
        tokens.add(SLEEPS_TOKEN)
    if "kasa_server" in tokens:
        tokens.discard("kasa_client")
    return tokens


class TypeClassifier:
    """Fuses every knowledge source's votes (:mod:`.votes`) into a type (:mod:`.fusion`)."""

    def __init__(self, knowledge: Knowledge) -> None:
        self.knowledge = knowledge

    def classify(
        self,
        mac: str,
        manufacturer: str | None,
        ev: Evidence | None,
        tokens: set[str],
        protocols: dict[str, int] | None = None,
    ) -> tuple[Decision, Ballot]:
        """Fusion once per change of evidence: every set and dict only grows, so sizes
        and the names say whether anything changed since last time."""
        if ev is None:
            return self._classify(mac, manufacturer, ev, tokens, protocols)
        seen = (
            id(self.knowledge),
            manufacturer,
            frozenset(tokens),
            tuple(sorted(protocols or {})),
            tuple(ev.names.values()),
            ev.dhcp_vendor_class,
            ev.dhcp_fingerprint,
            len(ev.mdns_services),
            len(ev.models),
            len(ev.txt),
            len(ev.ssdp_types),
            len(ev.ssdp_servers),
            len(ev.ssdp_locations),
            len(ev.user_agents),
            len(ev.domains),
        )
        if ev.classified is not None and ev.classified[0] == seen:
            return ev.classified[1]  # type: ignore[return-value]
        result = self._classify(mac, manufacturer, ev, tokens, protocols)
        ev.classified = (seen, result)
        return result

    def _classify(
        self,
        mac: str,
        manufacturer: str | None,
        ev: Evidence | None,
        tokens: set[str],
        protocols: dict[str, int] | None,
    ) -> tuple[Decision, Ballot]:
        ballot = collect(self.knowledge, mac, manufacturer, ev, tokens, protocols)
        return decide(ballot.votes), ballot
