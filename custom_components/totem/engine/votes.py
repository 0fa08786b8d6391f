"""Each knowledge source's votes on a device's type, read from its collected evidence.

Sources, each a data table with its provenance (``knowledge/``) or :mod:`.type_rules`:
Home Assistant's discovery tables (DHCP host name / OUI, zeroconf service + TXT, HomeKit
models, SSDP) through the integration domain to a type; DNS-SD service types and HomeKit
``ci`` category codes; the scored rules (DHCP vendor class and fingerprint, SSDP URNs,
User-Agents, models, traffic behaviour); vendor clouds seen in DNS / TLS SNI / HTTP Host;
host-name tokens; OUI maker classes; and behaviour over the names it looked up (a few
cloud hosts only: IoT; many unrelated web sites: a computer or phone).

:class:`Knowledge` bundles the tables; ``Knowledge.without(pattern)`` drops every row
naming a vendor, for the leave-one-vendor-out measurement (``scripts/eval-identify``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import cache

from .evidence import Evidence
from .fusion import Vote
from .knowledge import clouds as clouds_mod
from .knowledge import ha_discovery, hints
from .knowledge.globs import glob_match
from .type_rules import RULES, TypeRule

# Name sources that are the device's own words about itself (an SSDP name is built from
# URNs and banners: not a host name).
HOSTNAME_SOURCES = (
    "dhcp",
    "dhcp_fqdn",
    "dhcpv6",
    "mdns",
    "mdns_instance",
    "netbios",
    "llmnr",
    "dhcp_server",
)
# OUI maker class -> type (or family); weak classes are scaled down: a laptop Wi-Fi card
# maker also sells desktop cards and modules, a phone maker also makes tablets and TVs.
_OUI_CLASS_TYPES: dict[str, tuple[str, float]] = {
    "iot_module": ("iot", 1.0),
    "laptop_wifi": ("computer", 0.5),
    "wifi_card": ("computer", 0.5),
    "pc_board": ("computer", 0.5),
    "laptop_odm": ("computer", 0.5),
    "pc_maker": ("computer", 0.5),
    "phone_maker": ("phone", 0.5),
    "network_gear": ("router", 1.0),
    "camera_maker": ("camera", 1.0),
    "tv_maker": ("tv", 1.0),
    "printer_maker": ("printer", 1.0),
    "nas_maker": ("nas", 1.0),
    "console_maker": ("game_console", 1.0),
    "smart_home": ("iot", 1.0),
}
# The member of the computer family a computer-maker OUI stands for when it is all that is
# known (fusion's last resort, see ``Vote.alone``): the taxonomy has no neutral "computer",
# so the type a person would guess from the maker.
# - laptop_wifi: Intel, Killer, AzureWave and Lite-On sell the M.2 Wi-Fi cards notebook
#   makers fit; desktops mostly sit on wired on-board Ethernet, whose MAC is the board's.
# - pc_board: MSI, ASRock and Gigabyte burn their own OUI into their boards' on-board
#   Ethernet: a mainboard in a tower (their laptops' Wi-Fi carries Intel's or Killer's OUI).
# - laptop_odm: LCFC (Lenovo's notebook plant) and Compal build notebooks; their OUI is
#   the notebook's on-board Ethernet.
# - pc_maker: Dell's, HP's and Lenovo's own OUIs are on their machines' on-board Ethernet
#   (their laptops' Wi-Fi cards carry the card maker's OUI), and a machine on a cable is
#   more often a desktop; weak, and HP's printers vote against it (vendor HP rule).
# wifi_card makers (Hon Hai, Atheros) also fill consoles, TVs and routers: no guess.
_OUI_ALONE: dict[str, str] = {
    "laptop_wifi": "laptop",
    "pc_board": "desktop",
    "laptop_odm": "laptop",
    "pc_maker": "desktop",
}
# Home Assistant integration confidence (ha_domain_types.tsv) -> weight of its type: a
# "high" domain discovers one kind of device, a "low" one several.
_HA_WEIGHT = {"high": 3.0, "low": 1.5}
_HA_OUI_ONLY = 0.5  # an OUI-only DHCP matcher: the maker, not the product
# Rule evidence kind -> the fact it reads.
_RULE_FACTS = {
    "vendor": "oui",
    "hostname": "hostname",
    "dhcp_vendor_class": "dhcp_class",
    "dhcp_fingerprint": "dhcp_prl",
    "model": "model",
    "ssdp_type": "ssdp",
    "ssdp_server": "ssdp",
    "ssdp_location": "ssdp",
    "domain": "cloud",
    "user_agent": "user_agent",
}
_PERSONAL = frozenset({"phone", "tablet", "laptop", "desktop"})
# Behaviour over looked-up names. IoT devices in the corpus and on the test-bed talk to
# one to three services (their cloud, a time server, a firmware host); one page view in a
# browser touches ten or more unrelated sites (CDNs, ads, analytics).
QUIET_MAX_SITES = 3
BROWSING_MIN_SITES = 10
_CLOUD_WEIGHT = 2.0  # a single-type cloud decides iot alone, never a general type
# Application protocols only smart-home things speak on their own (an app on a phone or
# laptop speaks them too, but never only them), and the ones every device speaks.
IOT_PROTOCOLS: frozenset[str] = frozenset(
    {"TP-Link Kasa", "Tuya LAN", "Hue", "Sonos", "HomeKit", "Nest Weave"}
)
_ANY_DEVICE_PROTOCOLS = frozenset(
    {
        "DNS",
        "DHCP",
        "DHCPv6",
        "NTP",
        "mDNS",
        "SSDP",
        "UPnP",
        "LLMNR",
        "NetBIOS",
        "ARP",
        "ICMP",
        "ICMPv6",
        "IGMP",
        "WS-Discovery",
        "NAT-PMP",
        "EAPOL",  # every Wi-Fi client's WPA handshake
    }
)
# Encrypted web transports. A phone's or computer's OS and apps reach the Internet over
# them (Android 9+ blocks cleartext by default, iOS App Transport Security requires TLS,
# update and push services are TLS); their plain-HTTP connectivity probes are in
# clouds.tsv as personal. Firmware often reaches its one cloud over plain HTTP, MQTT or
# its own protocol: a quiet device that never speaks them is likelier a thing.
_ENCRYPTED_WEB = frozenset({"TLS", "QUIC"})
_SECOND_LEVEL = frozenset({"co", "com", "net", "org", "gov", "ac", "edu", "ne", "or"})


def site_of(domain: str) -> str:
    """The registrable part of a name, near enough: 'a.b.example.co.uk' -> 'example.co.uk'."""
    labels = domain.lower().rstrip(".").split(".")
    keep = 3 if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in _SECOND_LEVEL else 2
    return ".".join(labels[-keep:])


def _rx_hits(rx: re.Pattern[str] | None, *texts: str) -> bool:
    return rx is not None and any(rx.search(t) for t in texts if t)


@dataclass(frozen=True, slots=True)
class Knowledge:
    """Every table fusion reads; ``without`` gives a copy that never names a vendor."""

    rules: tuple[TypeRule, ...] = RULES
    ha: ha_discovery.HaTables = field(default_factory=ha_discovery.bundled)
    clouds: dict[str, clouds_mod.Cloud] = field(default_factory=clouds_mod.table)
    oui: tuple[hints.OuiClass, ...] = field(default_factory=hints.oui_classes)
    hostnames: tuple[hints.Hint, ...] = field(default_factory=hints.hostname_hints)
    mdns: tuple[hints.Hint, ...] = field(default_factory=hints.mdns_hints)
    domain_types: dict[str, ha_discovery.DomainType] = field(
        default_factory=ha_discovery.domain_types
    )
    dropped_domains: frozenset[str] = frozenset()
    iot_protocols: frozenset[str] = IOT_PROTOCOLS

    def with_tables(self, ha: ha_discovery.HaTables) -> Knowledge:
        """The same knowledge with another Home Assistant's discovery tables."""
        return replace(self, ha=ha)

    def without(self, pattern: str) -> Knowledge:
        """Drop every row whose pattern, value, vendor, domain or comment matches."""
        rx = re.compile(pattern, re.IGNORECASE)
        return replace(
            self,
            rules=tuple(r for r in self.rules if not _rx_hits(rx, r.pattern, r.label)),
            clouds={k: c for k, c in self.clouds.items() if not _rx_hits(rx, c.suffix, c.vendor)},
            oui=tuple(o for o in self.oui if not _rx_hits(rx, o.pattern.pattern, o.comment)),
            hostnames=tuple(h for h in self.hostnames if not _rx_hits(rx, h.value, h.source)),
            mdns=tuple(h for h in self.mdns if not _rx_hits(rx, h.value, h.source)),
            iot_protocols=frozenset(p for p in self.iot_protocols if not _rx_hits(rx, p)),
            dropped_domains=frozenset(
                d
                for d in self.ha.domains() | set(self.domain_types)
                if _rx_hits(rx, d, self.domain_types[d].comment if d in self.domain_types else "")
            )
            | self.dropped_domains,
        )

    def cloud(self, domain: str) -> clouds_mod.Cloud | None:
        labels = domain.lower().rstrip(".").split(".")
        for start in range(len(labels) - 1):
            hit = self.clouds.get(".".join(labels[start:]))
            if hit is not None:
                return hit
        return None

    def oui_class(self, vendor: str | None) -> hints.OuiClass | None:
        if not vendor:
            return None
        return next((c for c in self.oui if c.pattern.match(vendor)), None)


@cache
def default_knowledge() -> Knowledge:
    return Knowledge()


@dataclass(slots=True)
class Ballot:
    """The votes on one device and the Home Assistant integrations that matched it."""

    votes: list[Vote] = field(default_factory=list)
    integrations: list[tuple[str, str, float]] = field(default_factory=list)  # domain, type

    def add(
        self,
        type_: str | None,
        weight: float,
        fact: str,
        label: str,
        source: str,
        alone: str = "",
    ) -> None:
        if type_ is not None and weight > 0:
            self.votes.append(Vote(type_, weight, fact, label, source, alone))


def _ha_domains(
    k: Knowledge, ballot: Ballot, domains: Iterable[str], fact: str, what: str, scale: float
) -> None:
    for domain in domains:
        if domain in k.dropped_domains:
            continue
        entry = k.domain_types.get(domain)
        if entry is None or entry.type is None:
            continue
        weight = _HA_WEIGHT.get(entry.confidence, 1.0) * scale
        ballot.integrations.append((domain, entry.type, weight))
        ballot.add(entry.type, weight, fact, f"HA {what}: {domain}", "ha_discovery")


@cache
def _compiled(pattern: str) -> re.Pattern[str]:
    """A rule's pattern, compiled once: ``re``'s own cache holds 512 and is shared with
    every fnmatch and library in the process, so a table of rules misses it."""
    return re.compile(pattern, re.IGNORECASE)


def _rule_votes(k: Knowledge, ballot: Ballot, values: dict[str, list[str]]) -> None:
    for rule in k.rules:
        items = values.get(rule.evidence)
        if not items:
            continue
        rx = _compiled(rule.pattern)
        for item in items:
            if rx.search(item):
                fact = _RULE_FACTS.get(rule.evidence)
                if fact is None:  # per service, per behaviour token: independent facts
                    fact = f"{'mdns' if rule.evidence == 'mdns_service' else rule.evidence}:{item}"
                ballot.add(rule.type, rule.weight, fact, rule.label, "rules")
                break


def _hostname_votes(k: Knowledge, ballot: Ballot, names: list[str], mac: str) -> None:
    for name in names:
        lowered = name.lower()
        pieces = set(hints.hostname_tokens(lowered))
        for h in k.hostnames:
            if (h.kind == "token" and h.value in pieces) or (
                h.kind == "pattern" and glob_match(lowered, h.value)
            ):
                label = f"hostname {h.kind} {h.value}"
                ballot.add(h.type, h.weight, "hostname", label, "hostname_tokens")
    dhcp_name = names[0] if names else None
    with_host = k.ha.match_dhcp(dhcp_name, mac) if dhcp_name else []
    _ha_domains(k, ballot, with_host, "hostname", "dhcp", 1.0)
    mac_only = [d for d in k.ha.match_dhcp(None, mac) if d not in with_host]
    _ha_domains(k, ballot, mac_only, "oui", "dhcp OUI", _HA_OUI_ONLY)


def _mdns_votes(k: Knowledge, ballot: Ballot, ev: Evidence) -> None:
    for service in sorted(ev.mdns_services):
        fact = f"mdns:{service}"
        hint = next((h for h in k.mdns if h.kind == "service" and h.value == service), None)
        if hint is not None:
            ballot.add(hint.type, hint.weight, fact, f"mDNS {service}", "mdns_services")
        found = k.ha.match_zeroconf(service, ev.mdns_instances.get(service), ev.txt)
        _ha_domains(k, ballot, found, fact, f"zeroconf {service}", 1.0)
    if not ev.mdns_services & {"_hap._tcp", "_hap._udp"}:
        return
    ci = ev.txt.get("ci")
    if ci:
        hint = next((h for h in k.mdns if h.kind == "homekit_ci" and h.value == ci), None)
        if hint is not None:
            ballot.add(hint.type, hint.weight, "homekit", f"HomeKit category {ci}", "mdns_services")
    md = ev.txt.get("md")
    if md:
        domain = k.ha.match_homekit(md)
        if domain is not None:
            _ha_domains(k, ballot, [domain], "homekit", f"HomeKit model {md}", 1.0)


def _ssdp_votes(k: Knowledge, ballot: Ballot, ev: Evidence) -> None:
    for urn in sorted(ev.ssdp_types):
        found = k.ha.match_ssdp({"st": urn, "nt": urn, "deviceType": urn})
        _ha_domains(k, ballot, found, "ssdp", "ssdp", 1.0)


def _cloud_votes(k: Knowledge, ballot: Ballot, ev: Evidence, protocols: dict[str, int]) -> bool:
    """Vendor clouds, and what the spread of looked-up names says; True if it browses."""
    ntp = "NTP" in protocols
    sites: set[str] = set()
    personal = False
    iot_clouds: list[clouds_mod.Cloud] = []
    for domain in ev.domains:
        hit = k.cloud(domain)
        if hit is not None and hit.types == (clouds_mod.NTP,):
            continue
        sites.add(site_of(domain))
        if hit is None:
            continue
        kinds = set(hit.types)
        if clouds_mod.GENERAL in kinds or len(kinds) >= 3 or kinds & _PERSONAL:
            personal = True  # general web, or a service every screen uses
            continue
        iot_clouds.append(hit)
    browsing = len(sites) >= BROWSING_MIN_SITES
    scale = 0.5 if browsing else 1.0  # a phone's apps reach IoT clouds too
    for hit in iot_clouds:
        share = _CLOUD_WEIGHT * scale / len(hit.types)
        for type_ in hit.types:
            ballot.add(type_, share, "cloud", f"cloud {hit.suffix} ({hit.vendor})", "clouds")
    if browsing:
        ballot.add("personal", 1.5, "behaviour:sites", f"browses {len(sites)} sites", "behaviour")
    elif sites and len(sites) <= QUIET_MAX_SITES and not personal:
        what = f"talks only to {len(sites)} site{'s' * (len(sites) > 1)}"
        ballot.add("iot", 1.0, "behaviour:sites", what + (" + NTP" if ntp else ""), "behaviour")
        _cleartext_votes(ballot, protocols)
    return browsing


def _cleartext_votes(ballot: Ballot, protocols: dict[str, int]) -> None:
    """A quiet device that reaches its sites without TLS or QUIC (see _ENCRYPTED_WEB)."""
    spoken = {p for p, n in protocols.items() if n > 0} - _ANY_DEVICE_PROTOCOLS
    if spoken and not spoken & _ENCRYPTED_WEB:
        label = f"reaches the Internet without TLS ({', '.join(sorted(spoken))})"
        # Weak, and the same fact as the smart-home-protocol vote (what it speaks): a
        # Linux box fetching updates over HTTP is quiet and cleartext too.
        ballot.add("iot", 1.0, "behaviour:protocols", label, "behaviour")


def locally_administered(mac: str) -> bool:
    """The U/L bit of the first octet: a randomised (private) address, not a maker's OUI."""
    try:
        return bool(int(mac[:2], 16) & 0x02)
    except ValueError:
        return False


def _behaviour_votes(ballot: Ballot, tokens: set[str], browsing: bool) -> None:
    if "downstream_media" in tokens:
        # A box that receives a stream and looks up few sites is a screen that only plays
        # (cast stick, TV, set-top box); a phone or laptop streams too but browses, so
        # then the stream alone is weak.
        weight = 1.0 if browsing else 2.0
        ballot.add(
            "media_player", weight, "behaviour:media", "receives a media stream", "behaviour"
        )


def _randomised_votes(ballot: Ballot) -> None:
    # iOS 14+, Android 10+ and Windows 10+ give each Wi-Fi network a private (locally
    # administered) MAC by default; IoT firmware keeps its maker's OUI. Weak alone (a VM
    # or a container bridge is locally administered too): phone, tablet or computer.
    label = "randomised MAC (phone/computer private address)"
    ballot.add("personal", 1.5, "mac:randomised", label, "convention")


def _protocol_votes(k: Knowledge, ballot: Ballot, protocols: dict[str, int]) -> None:
    spoken = {p for p, n in protocols.items() if n > 0} - _ANY_DEVICE_PROTOCOLS
    if spoken and spoken <= k.iot_protocols:
        label = f"speaks only smart-home protocols ({', '.join(sorted(spoken))})"
        # Weak: the phone running the maker's app speaks them too, to the device.
        ballot.add("iot", 1.0, "behaviour:protocols", label, "behaviour")


def _oui_votes(k: Knowledge, ballot: Ballot, manufacturer: str | None) -> None:
    cls = k.oui_class(manufacturer)
    if cls is None:
        return
    type_, scale = _OUI_CLASS_TYPES.get(cls.cls, (None, 0.0))
    label = f"OUI {manufacturer} ({cls.cls.replace('_', ' ')})"
    alone = _OUI_ALONE.get(cls.cls, "")
    ballot.add(type_, cls.weight * scale, "oui", label, "oui_classes", alone)


def collect(
    k: Knowledge,
    mac: str,
    manufacturer: str | None,
    ev: Evidence | None,
    tokens: set[str],
    protocols: dict[str, int] | None = None,
) -> Ballot:
    """Every source's votes on one device."""
    ballot = Ballot()
    randomised = locally_administered(mac)
    if randomised:
        # Volume says nothing of a private-address device's kind: cameras keep their
        # maker's burned-in MAC, so a randomised MAC's sustained upload is a phone's video
        # call or photo backup, no camera, and its Netflix no TV.
        tokens = tokens - {"upstream_video", "downstream_media"}
    values: dict[str, list[str]] = {
        "vendor": [manufacturer] if manufacturer else [],
        "behaviour": sorted(tokens),
    }
    if ev is not None:
        names = [ev.names[s] for s in HOSTNAME_SOURCES if s in ev.names]
        values.update(
            hostname=list(ev.names.values()),
            dhcp_vendor_class=[ev.dhcp_vendor_class] if ev.dhcp_vendor_class else [],
            dhcp_fingerprint=[ev.dhcp_fingerprint] if ev.dhcp_fingerprint else [],
            mdns_service=sorted(ev.mdns_services),
            model=sorted(ev.models),
            ssdp_type=sorted(ev.ssdp_types),
            ssdp_server=sorted(ev.ssdp_servers),
            ssdp_location=sorted(ev.ssdp_locations),
            domain=list(ev.domains),
            user_agent=sorted(ev.user_agents),
        )
    _rule_votes(k, ballot, values)
    if ev is not None:
        _hostname_votes(k, ballot, names, mac)
        _mdns_votes(k, ballot, ev)
        _ssdp_votes(k, ballot, ev)
        browsing = _cloud_votes(k, ballot, ev, protocols or {})
    else:
        browsing = False
        _hostname_votes(k, ballot, [], mac)
    _behaviour_votes(ballot, tokens, browsing)
    if randomised:
        _randomised_votes(ballot)
    _protocol_votes(k, ballot, protocols or {})
    _oui_votes(k, ballot, manufacturer)
    return ballot
