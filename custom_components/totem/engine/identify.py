"""Who a MAC is: manufacturer, names, device type, domains, MAC-rotation merge.

The engine hands :meth:`Identifier.inspect` every packet on an evidence port
(:data:`EVIDENCE_PORTS`) and the first few payload packets of every other
flow. ``inspect`` parses what identifies a device (DHCP, DHCPv6, DNS/mDNS/LLMNR,
NetBIOS, SSDP, TLS SNI, HTTP Host/User-Agent) and keeps it per MAC, bounded.
:meth:`Identifier.identity` turns that evidence plus the engine's traffic
counters into an :class:`Identity` on demand (a snapshot), scoring device
types with the data table in :mod:`.type_rules` (see :mod:`.classify`).

Payloads reach their parser through a dispatch table, dpkt's ``_protosw``:
``(transport, port) -> route``. A route names its handler, whether either
port or only the destination selects it, and a rank that decides between
two routes when both ports have one (an mDNS packet from port 53 is mDNS).

Evidence is attributed with care: a DHCP message belongs to its ``chaddr``
(a relay forwards it from its own MAC); an mDNS answer belongs to its sender
only when its address records name the sender (a Bonjour sleep proxy
answers for sleeping Macs), or, lacking address records, when it carries
the SRV record that ties a service to a host; an SSDP search says nothing
about the searcher.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from . import announce, dissect, vendor, wakes
from .announce import (
    MAX_SET_ITEMS,
    MODEL_KEYS,
    add_bounded,
    instance_name,
    set_name,
    split_service,
    strip_local,
)
from .classify import TypeClassifier, behaviours
from .describe import best_name, integration_of, model_of
from .evidence import Evidence, TrafficSummary
from .knowledge import DataFileError
from .knowledge.ha_discovery import HaTables
from .knowledge.ha_discovery import load_file as ha_load_file
from .model import DEVICE_TYPES
from .resolved import AnswerBook, clean_domain
from .type_rules import RULES, TypeRule
from .votes import Knowledge, default_knowledge

# Every packet on these ports reaches ``inspect``: DNS, DHCP, NetBIOS-NS,
# SSDP, mDNS, LLMNR, DHCPv6. Nothing else is per-packet.
EVIDENCE_PORTS: frozenset[int] = frozenset({53, 67, 68, 137, 546, 547, 1900, 5353, 5355})

MAX_DOMAINS = 64
# Distinct DNS query messages whose questions are kept (``Identifier._questions``):
# a home asks a few hundred names, each in one or two forms; past the bound the
# table starts again (a tunnel's stream of fresh names must not grow memory), and
# messages longer than MAX_CACHED_QUERY (no real question needs that) are never
# kept, so the table holds 512 KB at most.
MAX_QUERIES = 1024
MAX_CACHED_QUERY = 512
_UNREAD = object()  # ``_questions``: not in the table yet
DEFAULT_MAX_MACS = 8192

# Best name first (issue 3): the device's own DHCP name, then what it
# announces, then what others call it.
NAME_ORDER: tuple[str, ...] = (
    "dhcp",
    "dhcp_fqdn",
    "dhcpv6",
    "mdns_instance",
    "mdns",
    "netbios",
    "llmnr",
    "ssdp",
    "dhcp_server",
)

# Host names too common to tie two MACs to one device.
_GENERIC_NAMES = frozenset(
    {
        "",
        "localhost",
        "iphone",
        "ipad",
        "android",
        "espressif",
        "unknown",
        "raspberrypi",
        "linux",
        "debian",
        "ubuntu",
        "host",
        "device",
        "wlan0",
        "esp",
    }
)

_TCP, _UDP = 6, 17
_NULL_MAC = bytes(6)

# Behaviour token: the TLS certificate it presents names its own MAC (dissect).
CERT_NAMES_MAC = "certificate_names_own_mac"
LAN_BEACON = "lan_beacon"  # behaviour token: it broadcasts a LAN beacon (announce.py)
DnsQueryCallback = Callable[[float, bytes, str, int, str], None]
DhcpServerCallback = Callable[[float, bytes, str], None]


def format_mac(mac: bytes) -> str:
    return ":".join(f"{b:02x}" for b in mac)


@dataclass(slots=True)
class Identity:
    """Who a MAC is, as the snapshot shows it: maker, name, type and their reasons."""

    manufacturer: str | None
    randomized: bool
    name: str | None
    name_sources: dict[str, str]
    type: str
    type_reason: str
    domains: list[str]
    same_device_as: str | None
    model: str | None = None
    integration: str | None = None  # the Home Assistant integration that supports it
    type_source: str = "evidence"  # "user": the user's override
    manufacturer_registry: str | None = None  # the IEEE registry's string (diagnostics)


class Identifier:
    """Collects identification evidence per MAC and answers ``identity`` on demand."""

    def __init__(
        self,
        *,
        rules: Iterable[TypeRule] = RULES,
        knowledge: Knowledge | None = None,
        max_macs: int = DEFAULT_MAX_MACS,
    ) -> None:
        knowledge = knowledge or default_knowledge()
        if rules is not RULES:
            knowledge = replace(knowledge, rules=tuple(rules))
        self._classifier = TypeClassifier(knowledge)
        self._overrides: dict[bytes, str] = {}  # the user's word on a device's type
        self._max_macs = max_macs
        self._evidence: dict[bytes, Evidence] = {}
        self.on_dns_query: DnsQueryCallback | None = None
        # DNS answers: "which name gave this address" for the detectors (new_destination),
        # through ``resolved_name``.
        self.answers = AnswerBook()
        self.on_dhcp_server: DhcpServerCallback | None = None
        self.weird = 0  # payloads a parser choked on (kept for diagnostics)
        # DNS query messages after their ID -> their questions (``_questions``).
        self._queries: dict[bytes, tuple[tuple[str, int, str], ...] | None] = {}
        self._calls: list[tuple[str, tuple[object, ...]]] = []
        # MAC-rotation merge index: (key kind, key) -> MACs, rebuilt lazily
        # when DHCP evidence changed since the last build.
        self._dhcp_version = 0
        self._merge_version = -1
        self._merge_index: dict[tuple[str, object], list[tuple[float, bytes]]] = {}

    # ----------------------------------------------------------- collection

    def _get(self, mac: bytes, ts: float) -> Evidence | None:
        if len(mac) != 6 or mac[0] & 0x01 or mac == _NULL_MAC:
            return None  # multicast/broadcast/null: not a device
        ev = self._evidence.get(mac)
        if ev is None:
            if len(self._evidence) >= self._max_macs:
                # A MAC flood must not grow memory: forget the oldest MAC.
                del self._evidence[next(iter(self._evidence))]
                self._dhcp_version += 1
            ev = self._evidence[bytes(mac)] = Evidence(ts, ts)
        elif ts > ev.last_seen:
            ev.last_seen = ts
        return ev

    def evidence(self, mac: bytes) -> Evidence | None:
        """The raw evidence for one MAC (diagnostics, tests)."""
        return self._evidence.get(mac)

    def forget(self, mac: bytes) -> None:
        """Drop a MAC the engine evicted from its own table."""
        if self._evidence.pop(mac, None) is not None:
            self._dhcp_version += 1

    def inspect(
        self,
        ts: float,
        src_mac: bytes,
        dst_mac: bytes,
        src_ip: str,
        dst_ip: str,
        proto: int,
        sport: int,
        dport: int,
        payload: bytes,
    ) -> None:
        """Take what identifies a device from one packet; never raises on garbage."""
        calls = self._calls
        if payload:
            try:
                routes_of = _ROUTES.get(proto)
                if routes_of is not None:
                    self._inspect(
                        routes_of,
                        Payload(ts, src_mac, dst_mac, src_ip, dst_ip, sport, dport, payload, calls),
                        proto,
                    )
                # The ".255" test first spares is_beacon's call for every payload
                # that goes to no broadcast address (is_beacon requires one).
                if proto == _UDP and dst_ip.endswith(".255") and announce.is_beacon(dst_ip, dport):
                    self._flag(ts, src_mac, LAN_BEACON)
            except Exception:  # Zeek's rule: a bad payload is a "weird", never a crash
                self.weird += 1
        ev = self._evidence.get(src_mac)
        if ev is not None and ev.wakes:
            wakes.note_contact(ev, ts)
        if not calls:
            return
        # Callbacks run outside the guard: their errors are the caller's bugs.
        pending = list(calls)
        calls.clear()
        for kind, args in pending:
            if kind == "dns" and self.on_dns_query is not None:
                self.on_dns_query(*args)  # type: ignore[arg-type]
            elif kind == "dhcp" and self.on_dhcp_server is not None:
                self.on_dhcp_server(*args)  # type: ignore[arg-type]

    def inspect_igmp(self, ts: float, src_mac: bytes, message: bytes) -> None:
        """An IGMP message that started a flow (the engine's first packet of it)."""
        if announce.reports_all_systems(message):
            self._flag(ts, src_mac, announce.IGMP_ALL_SYSTEMS)

    def _inspect(self, routes_of: dict[int, Route], p: Payload, proto: int) -> None:
        """Hand a payload to the handlers its ports route to, best rank first.

        A handler that declines (its port, but not its protocol) lets the next
        route try; TCP payloads no port route took are told by their first
        byte (TLS handshake, HTTP request).
        """
        first = routes_of.get(p.dport)
        second = routes_of.get(p.sport)
        if second is not None:
            if not second.either or second is first:
                second = None
            elif first is not None and second.rank < first.rank:
                first, second = second, first
        if first is not None and first.handler(self, p):
            return
        if second is not None and second.handler(self, p):
            return
        by_first_byte = _FIRST_BYTE.get(proto)
        if by_first_byte is not None:
            handler = by_first_byte.get(p.data[0])
            if handler is not None:
                handler(self, p)

    # Route handlers: True when the payload was theirs to parse.

    def _on_dhcp(self, p: Payload) -> bool:
        self._dhcp(p.ts, p.src_mac, p.src_ip, p.sport, p.data, p.calls)
        return True

    def _on_mdns(self, p: Payload) -> bool:
        self._mdns(p.ts, p.src_mac, p.src_ip, p.data)
        return True

    def _on_dns_tcp(self, p: Payload) -> bool:
        # DNS over TCP: a two-byte length prefix, then the message.
        return self._on_dns(replace(p, data=p.data[2:]))

    def _on_llmnr(self, p: Payload) -> bool:
        self._llmnr(p.ts, p.src_mac, p.src_ip, p.data)
        return True

    def _on_ssdp(self, p: Payload) -> bool:
        self._ssdp(p.ts, p.src_mac, p.data)
        return True

    def _on_nbns(self, p: Payload) -> bool:
        self._nbns(p.ts, p.src_mac, p.src_ip, p.data)
        return True

    def _on_dhcpv6(self, p: Payload) -> bool:
        if p.sport != 546:  # a client's message; servers' say nothing about the sender
            return False
        self._dhcpv6(p.ts, p.src_mac, p.data)
        return True

    def _on_flow_export(self, p: Payload) -> bool:
        if not dissect.flow_export_kind(p.data):
            return False
        self._flag(p.ts, p.src_mac, "exports_flows")
        return True

    def _on_tuya(self, p: Payload) -> bool:
        if not p.data.startswith(b"\x00\x00\x55\xaa"):
            return False
        self._flag(p.ts, p.src_mac, "tuya_lan")
        return True

    def _on_kasa(self, p: Payload) -> bool:
        if not p.data.startswith(b"\xd0\xf2"):
            return False
        if p.dport == 9999:
            self._flag(p.ts, p.src_mac, "kasa_client")
        elif p.sport == 9999:
            self._flag(p.ts, p.src_mac, "kasa_server")
        return True

    def _on_tls(self, p: Payload) -> bool:
        sni = dissect.parse_tls_sni(p.data)
        if sni is not None:
            self._domain(p.ts, p.src_mac, sni)
        elif dissect.certificate_names_mac(p.data, p.src_mac):
            self._flag(p.ts, p.src_mac, CERT_NAMES_MAC)
        return True

    def _on_http(self, p: Payload) -> bool:
        request = dissect.parse_http_request(p.data)  # cached: flow_domain just read it
        if request is not None:
            ev = self._get(p.src_mac, p.ts)
            if ev is not None:
                if request.host:
                    self._domain(p.ts, p.src_mac, request.host)
                if request.user_agent:
                    add_bounded(ev.user_agents, request.user_agent)
        return True

    def _flag(self, ts: float, mac: bytes, token: str) -> None:
        ev = self._get(mac, ts)
        if ev is not None:
            ev.flags.add(token)

    def _domain(self, ts: float, mac: bytes, name: str) -> None:
        ev = self._get(mac, ts)
        if ev is None or name in ev.domains or len(ev.domains) >= MAX_DOMAINS:
            return
        clean = clean_domain(name)
        if clean is not None:
            ev.domains[clean] = None

    def _dhcp(
        self,
        ts: float,
        src_mac: bytes,
        src_ip: str,
        sport: int,
        payload: bytes,
        calls: list[tuple[str, tuple[object, ...]]],
    ) -> None:
        msg = dissect.parse_dhcp(payload)
        if msg is None:
            return
        client = msg.client_mac or src_mac
        if msg.op == 1:
            ev = self._get(client, ts)
            if ev is None:
                return
            self._dhcp_version += 1
            if msg.hostname:
                set_name(ev, "dhcp", msg.hostname)
            if msg.fqdn:
                set_name(ev, "dhcp_fqdn", msg.fqdn)
            if msg.vendor_class:
                ev.dhcp_vendor_class = msg.vendor_class
            if msg.param_list:
                ev.dhcp_fingerprint = ",".join(map(str, msg.param_list))
            if msg.client_id:
                ev.dhcp_client_id = msg.client_id
            wakes.note_dhcp(ev, ts, msg)
            return
        # A reply: the sender serves DHCP; a host name in it is what the
        # server calls the client.
        if msg.msg_type in (dissect.DHCP_OFFER, dissect.DHCP_ACK) and sport == 67:
            self._flag(ts, src_mac, "serves_dhcp")
            calls.append(("dhcp", (ts, bytes(src_mac), msg.server_id or src_ip)))
        if (
            msg.hostname
            and msg.client_mac is not None
            and msg.msg_type
            in (
                dissect.DHCP_OFFER,
                dissect.DHCP_ACK,
            )
        ):
            ev = self._get(msg.client_mac, ts)
            if ev is not None:
                set_name(ev, "dhcp_server", msg.hostname)

    def _dhcpv6(self, ts: float, src_mac: bytes, payload: bytes) -> None:
        msg = dissect.parse_dhcpv6(payload)
        if msg is None or msg.msg_type not in dissect.DHCPV6_CLIENT_TYPES:
            return
        ev = self._get(src_mac, ts)
        if ev is None:
            return
        if msg.duid is not None and msg.duid != ev.dhcpv6_duid:
            ev.dhcpv6_duid = msg.duid
            self._dhcp_version += 1
        if msg.fqdn:
            set_name(ev, "dhcpv6", msg.fqdn)
        if msg.vendor_class and ev.dhcp_vendor_class is None:
            ev.dhcp_vendor_class = msg.vendor_class

    def _on_dns(self, p: Payload) -> bool:
        """A DNS message: the route handler itself, not a wrapper around a parser
        (one call fewer for each of the capture's DNS payloads)."""
        ts, src_mac, payload = p.ts, p.src_mac, p.data
        if len(payload) < 12:
            return True
        if payload[2] & 0x80:  # a response: who answers DNS, and where names live
            if p.sport == 53:
                self._flag(ts, src_mac, "serves_dns")
                # The addresses an answer gives the device it goes to (resolved.py).
                dst_mac = p.dst_mac
                if len(dst_mac) == 6 and not dst_mac[0] & 0x01:  # one device's answer
                    self.answers.keep(ts, dst_mac, payload)
            return True
        if p.dport != 53:
            return True
        questions = self._questions(payload)
        if questions is None:
            return True
        for qname, qtype, name in questions:
            self._domain(ts, src_mac, qname)
            if self.on_dns_query is not None:
                p.calls.append(("dns", (ts, bytes(src_mac), name, qtype, p.dst_ip)))
        return True

    def _questions(self, payload: bytes) -> tuple[tuple[str, int, str], ...] | None:
        """A query's (name, type, name as the detectors get it) triples, read once per
        distinct message: a home's devices ask the same few names all day, and two of
        their queries differ only in the two-byte ID that ``dns_questions`` skips."""
        key = payload[2:]
        cache = self._queries
        questions = cache.get(key, _UNREAD)
        if questions is _UNREAD:
            read = dissect.dns_questions(payload)
            questions = (
                None
                if read is None
                else tuple((qname, qtype, qname.rstrip(".").lower()) for qname, qtype in read)
            )
            if len(key) <= MAX_CACHED_QUERY:
                if len(cache) >= MAX_QUERIES:
                    cache.clear()
                cache[key] = questions
        return questions  # type: ignore[return-value]

    def resolved_name(self, mac: bytes, address: str | bytes, ts: float) -> str | None:
        """The name ``mac`` looked up that DNS answered with ``address`` (None: none held)."""
        return self.answers.name_of(mac, address, ts)

    def _mdns(self, ts: float, src_mac: bytes, src_ip: str, payload: bytes) -> None:
        msg = dissect.parse_dns(payload)
        if msg is None:
            return
        # Answers of a response, or the authority records of a probe.
        claimed = msg.answers + msg.others if msg.is_response else msg.others
        records = announce.own_records(src_ip, claimed)
        ev = self._get(src_mac, ts) if records else None
        if ev is not None:
            announce.mdns_records(ev, src_ip, records)

    def _llmnr(self, ts: float, src_mac: bytes, src_ip: str, payload: bytes) -> None:
        msg = dissect.parse_dns(payload)
        name = announce.llmnr_name(src_ip, msg) if msg is not None and msg.is_response else None
        ev = self._get(src_mac, ts) if name else None
        if ev is not None:
            set_name(ev, "llmnr", name)

    def _nbns(self, ts: float, src_mac: bytes, src_ip: str, payload: bytes) -> None:
        msg = dissect.parse_nbns(payload)
        if msg is None or msg.group or msg.suffix not in (0x00, 0x20):
            return
        registers = not msg.is_response and msg.opcode in (5, 8, 9)
        answers_own = msg.is_response and msg.opcode == 0 and msg.address == src_ip
        if registers or answers_own:
            ev = self._get(src_mac, ts)
            if ev is not None:
                set_name(ev, "netbios", msg.name)

    def _ssdp(self, ts: float, src_mac: bytes, payload: bytes) -> None:
        msg = dissect.parse_ssdp(payload)
        if msg is None or msg.kind == "M-SEARCH":
            return  # a search tells what the searcher wants, not what it is
        if "byebye" in msg.headers.get("NTS", ""):
            return
        ev = self._get(src_mac, ts)
        if ev is not None:
            announce.ssdp_notice(ev, msg.headers)

    def note_lease_name(self, mac: bytes, name: str, ts: float) -> None:
        """A hostname from the router's DHCP lease (leases.py): the same evidence as the
        hostname option of a DHCP request the engine would have seen on the wire."""
        ev = self._get(mac, ts)
        if ev is not None and ev.names.get("dhcp") != name:
            set_name(ev, "dhcp", name)
            self._dhcp_version += 1

    def note_discovery(
        self,
        mac: bytes,
        ts: float,
        *,
        service_type: str | None = None,
        instance: str | None = None,
        host: str | None = None,
        model: str | None = None,
    ) -> None:
        """Evidence from active discovery (Home Assistant's zeroconf browse), for a
        MAC the capture already tied to the answering IP: same meaning as the mDNS
        evidence the capture itself sees."""
        ev = self._get(mac, ts)
        if ev is None:
            return
        if service_type:
            split = split_service(service_type)
            if split is not None and not split[0]:
                add_bounded(ev.mdns_services, split[1])
        if instance and "mdns_instance" not in ev.names:
            clean = instance_name(instance)
            if clean:
                set_name(ev, "mdns_instance", clean)
        if host and "mdns" not in ev.names:
            set_name(ev, "mdns", strip_local(host)[:64])
        if model:
            add_bounded(ev.models, model[:64])
            if "model" not in ev.txt and len(ev.txt) < MAX_SET_ITEMS:
                ev.txt["model"] = model[:64]

    # ------------------------------------------------------------- identity

    def _merge_keys(self) -> dict[tuple[str, object], list[tuple[float, bytes]]]:
        if self._merge_version != self._dhcp_version:
            index: dict[tuple[str, object], list[tuple[float, bytes]]] = {}
            for other, other_ev in self._evidence.items():
                for key in _merge_keys_of(other, other_ev):
                    index.setdefault(key, []).append((other_ev.first_seen, other))
            for group in index.values():
                group.sort()
            self._merge_index = index
            self._merge_version = self._dhcp_version
        return self._merge_index

    def _merged_into(self, mac: bytes) -> str | None:
        """The MAC a rotating randomised MAC belongs to, when the evidence is unambiguous."""
        ev = self._evidence.get(mac)
        if ev is None or not vendor.is_locally_administered(mac):
            return None
        keys = _merge_keys_of(mac, ev)
        index = self._merge_keys()
        for key in keys:
            group = index.get(key, [])
            if len(group) < 2:
                continue
            # Two universally administered MACs with this key are two devices:
            # ambiguous, so no merge on this key.
            if sum(1 for _, other in group if not vendor.is_locally_administered(other)) > 1:
                continue
            fixed = [other for _, other in group if not vendor.is_locally_administered(other)]
            target = fixed[0] if fixed else group[0][1]
            return None if target == mac else format_mac(target)
        return None

    def use_ha_tables(self, tables: HaTables) -> None:
        """Identify with a running Home Assistant's discovery tables from now on."""
        self._classifier.knowledge = self._classifier.knowledge.with_tables(tables)

    @property
    def knowledge(self) -> Knowledge:
        return self._classifier.knowledge

    # ------------------------------------------------------------ override

    def set_type(self, mac: bytes, type_: str | None) -> None:
        """The user's type for a device (None: back to the evidence); detectors follow it."""
        if type_ is None:
            self._overrides.pop(bytes(mac), None)
            return
        if type_ not in DEVICE_TYPES:
            raise ValueError(f"unknown device type: {type_!r}")
        self._overrides[bytes(mac)] = type_

    def overrides(self) -> dict[bytes, str]:
        return dict(self._overrides)

    def overrides_state(self) -> dict[str, str]:
        return {format_mac(mac): type_ for mac, type_ in self._overrides.items()}

    def restore_overrides(self, saved: dict[str, object]) -> None:
        """Overrides from a state file; entries that do not parse are skipped."""
        for text, type_ in list(saved.items())[:DEFAULT_MAX_MACS]:
            raw = text.replace(":", "") if isinstance(text, str) else ""
            if len(raw) == 12 and isinstance(type_, str) and type_ in DEVICE_TYPES:
                try:
                    self._overrides[bytes.fromhex(raw)] = type_
                except ValueError:
                    continue

    def identity(self, mac: bytes, traffic: TrafficSummary) -> Identity:
        randomized = vendor.is_locally_administered(mac)
        registry = vendor.lookup(mac)
        ev = self._evidence.get(mac)
        names = dict(ev.names) if ev is not None else {}
        model = model_of(ev, MODEL_KEYS)
        tokens = behaviours(ev, traffic)
        decision, ballot = self._classifier.classify(
            format_mac(mac),
            registry,
            ev,
            tokens,
            traffic.protocols,
        )
        type_, reason, source = decision.type, decision.reason, "evidence"
        override = self._overrides.get(mac)
        if override is not None:
            type_, reason, source = override, "set by the user", "user"
        return Identity(
            manufacturer=vendor.short_name(registry),
            randomized=randomized,
            name=best_name(ev, names, NAME_ORDER) or model,
            name_sources={source: names[source] for source in NAME_ORDER if source in names},
            type=type_,
            type_reason=reason,
            domains=list(ev.domains) if ev is not None else [],
            same_device_as=self._merged_into(mac),
            model=model,
            integration=integration_of(ballot, type_),
            type_source=source,
            manufacturer_registry=registry,
        )


def apply_tables_file(identifier: Identifier, path: str | None) -> bool:
    """Use the discovery tables a running Home Assistant wrote (``--ha-tables``); a bad
    file costs one line on stderr and the bundled snapshot stays in use."""
    if not path:
        return False
    try:
        identifier.use_ha_tables(ha_load_file(path))
    except DataFileError as err:
        print(f"warning: Home Assistant tables not used, bundled ones kept: {err}", file=sys.stderr)
        return False
    return True


def _merge_keys_of(mac: bytes, ev: Evidence) -> list[tuple[str, object]]:
    """What may tie this MAC to another: a DHCP client id not made of the MAC
    itself, a DHCPv6 DUID, and a DHCP host name that is not a factory default."""
    keys: list[tuple[str, object]] = []
    if ev.dhcp_client_id is not None and ev.dhcp_client_id[1:] != mac:
        keys.append(("client_id", ev.dhcp_client_id))
    if ev.dhcpv6_duid is not None:
        # A DUID is the client's own, stable across MAC rotation (RFC 8415).
        keys.append(("duid", ev.dhcpv6_duid))
    hostname = ev.names.get("dhcp", "").lower()
    if hostname not in _GENERIC_NAMES:
        keys.append(("hostname", hostname))
    return keys


@dataclass(slots=True)
class Payload:
    """One packet's payload on its way to the handler its ports route it to."""

    ts: float
    src_mac: bytes
    dst_mac: bytes
    src_ip: str
    dst_ip: str
    sport: int
    dport: int
    data: bytes
    calls: list[tuple[str, tuple[object, ...]]]  # callbacks to run once parsing is done


RouteHandler = Callable[[Identifier, Payload], bool]


@dataclass(frozen=True, slots=True)
class Route:
    """The parser a port's payloads go to, and when it applies."""

    rank: int  # when both ports have a route, the lower rank goes first
    handler: RouteHandler
    either: bool  # the source port selects it too, not only the destination port


def _route_table() -> dict[int, dict[int, Route]]:
    """transport -> port -> route: a payload's two lookups are by port alone (a key
    tuple per lookup cost more than the rest of the dispatch)."""
    table: dict[int, dict[int, Route]] = {}
    routes: list[tuple[int, Iterable[int], RouteHandler, bool]] = [
        (_UDP, (67, 68), Identifier._on_dhcp, True),
        (_UDP, (5353,), Identifier._on_mdns, True),
        (_UDP, (53,), Identifier._on_dns, True),
        (_UDP, (5355,), Identifier._on_llmnr, True),
        (_UDP, (1900,), Identifier._on_ssdp, True),
        (_UDP, (137,), Identifier._on_nbns, True),
        (_UDP, (547,), Identifier._on_dhcpv6, False),
        (_UDP, sorted(dissect.FLOW_EXPORT_PORTS), Identifier._on_flow_export, False),
        (_UDP, (6666, 6667), Identifier._on_tuya, False),
        (_UDP, (9999,), Identifier._on_kasa, True),
        (_TCP, (53,), Identifier._on_dns_tcp, True),
    ]
    for rank, (proto, ports, handler, either) in enumerate(routes):
        route = Route(rank, handler, either)
        by_port = table.setdefault(proto, {})
        for port in ports:
            if port in by_port:
                raise ValueError(f"two routes for port {port}")
            by_port[port] = route
    return table


_ROUTES = _route_table()
# Payloads no port route took: TCP's first byte tells a TLS handshake or an HTTP
# request (an upper-case letter: the method).
_TCP_FIRST_BYTE: dict[int, RouteHandler] = {0x16: Identifier._on_tls}
_TCP_FIRST_BYTE.update((letter, Identifier._on_http) for letter in range(0x41, 0x5B))
_FIRST_BYTE: dict[int, dict[int, RouteHandler]] = {_TCP: _TCP_FIRST_BYTE}
