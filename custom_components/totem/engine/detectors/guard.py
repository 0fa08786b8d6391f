"""The guard: per-device baselines and alert detectors plugged into the engine.

``attach_detectors(engine)`` adds one :class:`Guard` observer. The guard
owns what every detector shares: thresholds (one place,
:class:`~.thresholds.Thresholds`, overridable per device), the learning
clock, device profiles (type and a name a person recognises), baselines, the
device-type policy table, the blocklist, and the alert sink (dedup,
cooldown, snooze). It builds one of each detector in the registry
(:mod:`.base`) and offers itself to them as their
:class:`~.base.DetectorContext`; the detector modules are imported here,
which is what registers them.

Kinds. Rule kinds work without learning: host_scan, port_scan, syn_flood,
brute_force, insecure_protocol, arp_spoof, rogue_dhcp, dns_tunnel,
blocklisted_host, mac_flood. Baseline kinds need it: new_device,
new_destination, traffic_spike, unexpected_protocol, unexpected_dns_server.
Nothing is raised inside the learning period (``learn_seconds`` from the
first packet, persisted so a restart does not learn again); with
``learn_seconds == 0`` baseline kinds are off.

Control commands (:mod:`..protocol`): ``ResetBaseline``, ``Snooze``,
``Unsnooze``, ``SetThresholds``, ``SetPolicy`` and ``LoadBlocklist`` are the
guard's; each gets a :class:`~..protocol.Reply`, a refusal with its reason.

State (``--state FILE``): learning start, device inventory, baselines,
legitimate DHCP servers, home DNS servers, snoozes, overrides, policy edits.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections import OrderedDict, deque
from collections.abc import Callable, Mapping
from dataclasses import asdict
from typing import Any

from .. import netaddr
from ..blocklist import Blocklist, BlocklistError, load_blocklist
from ..devices import DeviceRecord
from ..engine import Engine, EngineObserver
from ..evidence import TrafficSummary
from ..flows import Flow
from ..identify import Identity
from ..model import Alert, Severity
from ..protocol import (
    OK,
    Command,
    LoadBlocklist,
    Reply,
    ResetBaseline,
    SetDeviceType,
    SetPolicy,
    SetThresholds,
    Snooze,
    Unsnooze,
)
from ..protocols import by_port
from ..snapshot import summary_of
from . import (  # noqa: F401 - importing them registers their detectors
    behaviour,
    destinations,
    dns,
    lan,
    scans,
)
from .base import Detector, Profile, Settled, registered
from .baseline import DeviceBaseline
from .policy import GENERAL_PURPOSE, UNKNOWN_PRIVATE, PolicyTable
from .thresholds import Thresholds

BLOCKLIST_ENV = "TOTEM_BLOCKLIST"
# The engine keeps this many alerts (Home Assistant keeps its own recent ones):
# a week of a troubled home is a few dozen; past the cap the oldest quarter goes.
MAX_ALERTS = 1000
# A storm: this many new alerts of one kind within STORM_WINDOW. A home has a few
# dozen devices, so twenty of them raising the same kind within a minute is one
# event (spoofed sources, a flooding port), told as one alert whose count grows.
STORM_ALERTS = 20
STORM_WINDOW = 60.0
STORM_SOURCES = 8192  # distinct source MACs remembered per storm (counted beyond)
_STORM_WORDS = {
    "arp_spoof": ("ARP spoofing storm", "claims of other devices' addresses"),
    "new_device": ("New device storm", "new devices"),
    "host_scan": ("Scan storm", "scans"),
    "rogue_dhcp": ("Rogue DHCP storm", "DHCP answers"),
}
MAX_BASELINES = 2048
MAX_PENDING_FLOWS = 50_000
MAX_SNOOZES = 4096
PROFILE_REFRESH = 300.0  # seconds of packet time between identity refreshes

_SYN, _RST, _ACK = 0x02, 0x04, 0x10
_LEGAL_WORDS = frozenset(
    {
        "inc",
        "ltd",
        "llc",
        "co",
        "corp",
        "corporation",
        "gmbh",
        "ag",
        "sa",
        "bv",
        "limited",
        "technologies",
        "technology",
        "trading",
        "foundation",
        "electronics",
        "company",
        "z",
        "s",
        "r",
        "o",
        "industries",
        "international",
        "systems",
    }
)
_TYPE_WORDS = {
    "smart_plug": "smart plug",
    "access_point": "access point",
    "media_player": "media player",
    "smart_speaker": "smart speaker",
    "game_console": "game console",
    "nas": "NAS",
    "tv": "TV",
    "iot": "device",
    "unknown": "device",
}


def short_maker(manufacturer: str | None) -> str:
    """'Hewlett Packard' from 'Hewlett Packard', 'Espressif' from 'Espressif Inc.'."""
    words: list[str] = []
    for word in (manufacturer or "").replace(",", " ").replace(".", " ").split():
        if word.lower() in _LEGAL_WORDS or len(words) == 2:
            break
        words.append(word)
    return " ".join(words)


def _parse_mac(value: Any) -> bytes | None:
    if not isinstance(value, str):
        return None
    try:
        return netaddr.mac_bytes(value)
    except ValueError:
        return None


class Guard(EngineObserver):
    """Shared state of the detectors and the alert sink."""

    def __init__(self, engine: Engine, blocklist: Blocklist | None = None) -> None:
        self.engine = engine
        self.defaults = Thresholds()
        self.overrides: dict[bytes, Thresholds] = {}
        self.policy = PolicyTable()
        self.blocklist = blocklist
        self.blocklist_path: str | None = None  # set by the blocklist command
        self.learn_start: float | None = None
        self.baselines: dict[bytes, DeviceBaseline] = {}
        self.suppressed = 0  # alerts dropped by snooze or learning (diagnostics)
        self._profiles: dict[bytes, Profile] = {}
        self._open: dict[tuple[bytes, str], Alert] = {}
        self._kind_times: dict[str, deque[float]] = {}  # new alerts' times, per kind
        self._storms: dict[str, tuple[Alert, set[bytes]]] = {}
        self._snoozed: dict[tuple[bytes, str], float] = {}
        # Insertion-ordered by start time; OrderedDict pops its oldest in O(1).
        self._pending: OrderedDict[bytes, tuple[float, Flow]] = OrderedDict()
        self._now = 0.0
        self.detectors: list[Detector] = [cls(self) for cls in registered()]

        # Per hook, only the detectors that override it: flows are the hot case.
        def using(hook: str) -> list[Detector]:
            base = getattr(Detector, hook)
            return [d for d in self.detectors if getattr(type(d), hook) is not base]

        self._on_start = using("on_flow_start")
        self._on_settled = using("on_settled")
        self._on_arp = using("on_arp")
        self._on_dns = using("on_dns_query")
        self._on_dhcp = using("on_dhcp_server")
        self._on_new = using("on_new_device")
        self._on_tick = using("on_tick")
        self._handlers: dict[type[Command], Callable[[Command], Reply]] = {
            ResetBaseline: self._reset_baseline,
            Snooze: self._snooze,
            Unsnooze: self._unsnooze,
            SetThresholds: self._thresholds,
            SetPolicy: self._policy,
            LoadBlocklist: self._blocklist,
        }
        identifier = engine.identifier
        identifier.on_dns_query = self._on_dns_query
        identifier.on_dhcp_server = self._on_dhcp_server

    # -- clocks ----------------------------------------------------------------------

    @property
    def learn_seconds(self) -> float:
        return self.engine.config.learn_seconds

    @property
    def learn_end(self) -> float:
        start = self.learn_start if self.learn_start is not None else self._now
        return start + self.learn_seconds

    def learning(self, ts: float) -> bool:
        """Inside the global learning period: no alert of any kind."""
        return self.learn_seconds > 0 and ts < self.learn_end

    def _clock(self, ts: float) -> None:
        if self.learn_start is None:
            first = self.engine.first_time
            self.learn_start = first if first is not None and first <= ts else ts
        self._now = max(self._now, ts)

    @property
    def now(self) -> float:
        return self._now

    # -- the engine, read-only ---------------------------------------------------------

    @property
    def devices(self) -> Mapping[bytes, DeviceRecord]:
        return self.engine.devices

    def live_flows(self) -> list[Flow]:
        return self.engine.live_flows()

    def resolved_name(self, mac: bytes, address: bytes, ts: float) -> str | None:
        return self.engine.identifier.resolved_name(mac, address, ts)

    # -- devices -----------------------------------------------------------------------

    def thresholds(self, mac: bytes | None) -> Thresholds:
        if mac is None:
            return self.defaults
        return self.overrides.get(mac, self.defaults)

    def baseline(self, mac: bytes, ts: float) -> DeviceBaseline | None:
        """The device's baseline (created on first use); None when learning is off."""
        if self.learn_seconds <= 0:
            return None
        base = self.baselines.get(mac)
        if base is None:
            if len(self.baselines) >= MAX_BASELINES:
                self._evict_baseline()
            base = self.baselines[mac] = DeviceBaseline(
                learn_until=max(self.learn_end, ts + self.learn_seconds)
            )
        return base

    def _evict_baseline(self) -> None:
        devices = self.engine.devices
        victim = min(
            self.baselines,
            key=lambda m: devices[m].last_seen if m in devices else -1.0,
        )
        del self.baselines[victim]

    def watched(self, mac: bytes, kind: str, ts: float) -> DeviceBaseline | None:
        """The baseline to compare with, when ``kind`` applies to this device now.

        None inside the device's learning, with learning off, or when the
        device's type is not watched for this kind (laptops, phones...).
        """
        base = self.baseline(mac, ts)
        if base is None or base.learning(ts):
            return None
        if not self.policy.watches(self.profile(mac, ts).type, kind):
            return None
        return base

    def profile(self, mac: bytes, ts: float, fresh: bool = False) -> Profile:
        prof = self._profiles.get(mac)
        if prof is not None and not fresh and ts - prof.checked < PROFILE_REFRESH:
            return prof
        dev = self.engine.devices.get(mac)
        ident = self.identity(mac)
        words = _TYPE_WORDS.get(ident.type, ident.type.replace("_", " "))
        brand = short_maker(ident.manufacturer)
        thing = f"{brand} {words}".strip() if words != "device" or brand else "device"
        label = f"{thing} ({ident.name or netaddr.mac_str(mac)})"
        if dev is not None and dev.is_gateway:
            label = f"router ({ident.name or netaddr.mac_str(mac)})"
        kind = ident.type
        if dev is not None and dev.is_gateway:
            kind = "router"
        elif kind == "unknown" and netaddr.is_locally_administered(mac):
            kind = UNKNOWN_PRIVATE  # a randomised MAC: a person's machine (policy.py)
        prof = Profile(kind, label, ts)
        if len(self._profiles) >= self.engine.config.max_devices * 2:
            self._profiles.clear()
        self._profiles[mac] = prof
        return prof

    def identity(self, mac: bytes) -> Identity:
        """What the identifier says about a device now (not free: call it sparingly)."""
        dev = self.engine.devices.get(mac)
        summary = summary_of(dev) if dev is not None else TrafficSummary()
        return self.engine.identifier.identity(mac, summary)

    def general_purpose(self, mac: bytes, ts: float) -> bool:
        return self.profile(mac, ts).type in GENERAL_PURPOSE

    def is_forwarder(self, mac: bytes) -> bool:
        dev = self.engine.devices.get(mac)
        return dev is not None and dev.is_gateway

    # -- alerts -----------------------------------------------------------------------

    def counted(self, ts: float, mac: bytes, kind: str) -> bool:
        """True when an alert of this kind for this device would not be new.

        Learning or a snooze drops it; an open alert within the cooldown only
        counts it (``count`` + 1). Detectors ask first, so a flood of repeats
        never pays for a message or an identity lookup.
        """
        if self.learning(ts):
            self.suppressed += 1
            return True
        snoozed = self._snoozed
        if snoozed:
            for key in ((mac, kind), (mac, "*")):
                until = snoozed.get(key)
                if until is not None and ts < until:
                    self.suppressed += 1
                    return True
        open_alert = self._open.get((mac, kind))
        if open_alert is not None:
            last = float(open_alert.details.get("last_time", open_alert.time))
            if ts - last < self.thresholds(mac).cooldown:
                open_alert.count += 1
                if ts > last:
                    open_alert.details["last_time"] = ts
                return True
        storm = self._storms.get(kind)
        if storm is not None:
            alert, sources = storm
            if ts - float(alert.details["last_time"]) < STORM_WINDOW:
                self._fold(alert, sources, mac, ts)
                return True
            del self._storms[kind]  # a quiet minute: the storm is over
        return False

    def _fold(self, alert: Alert, sources: set[bytes], mac: bytes, ts: float) -> None:
        """One more event of a storm: its count, its sources, its message."""
        alert.count += 1
        info = alert.details
        if mac not in sources:
            info["sources"] += 1
            if len(sources) >= STORM_SOURCES:
                sources.clear()
            sources.add(mac)
        info["last_time"] = max(ts, float(info["last_time"]))
        title, what = _STORM_WORDS.get(
            alert.kind, (f"{alert.kind.replace('_', ' ')} storm", "alerts")
        )
        span = float(info["last_time"]) - alert.time
        alert.message = (
            f"{title}: {alert.count} {what} from {info['sources']} network addresses within "
            f"{span:.0f} seconds. One thing is flooding your network with forged or "
            "misbehaving devices; TOTEM groups them into this one alert. What you can do: "
            "unplug what was connected last, or the port or access point that floods, "
            "and watch whether the count stops growing."
        )

    def _storm_check(self, alert: Alert, mac: bytes, ts: float) -> None:
        times = self._kind_times.get(alert.kind)
        if times is None:
            times = self._kind_times[alert.kind] = deque(maxlen=STORM_ALERTS)
        times.append(ts)
        if len(times) < STORM_ALERTS or ts - times[0] > STORM_WINDOW:
            return
        storm = Alert(
            ts,
            alert.mac,
            alert.kind,
            alert.severity,
            "",
            STORM_ALERTS - 1,
            {"storm": True, "sources": STORM_ALERTS - 1, "last_time": ts},
            alert.direction,
            "doubtful",  # many sources at once: any one of them may be forged
        )
        sources: set[bytes] = set()
        self._fold(storm, sources, mac, ts)
        self._storms[alert.kind] = (storm, sources)
        times.clear()
        self._append(storm)

    def _append(self, alert: Alert) -> None:
        alerts = self.engine.alerts
        alerts.append(alert)
        if len(alerts) > MAX_ALERTS:
            drop = MAX_ALERTS // 4
            gone = {id(a) for a in alerts[:drop]}
            del alerts[:drop]
            self.engine.alerts_trimmed += drop
            self._open = {k: a for k, a in self._open.items() if id(a) not in gone}

    def attribution(self, mac: bytes, ip: bytes | None) -> str:
        """How sure is it that ``mac`` did what was seen from ``ip``?

        Confident when the MAC's own addresses agree: it claimed ``ip`` by ARP,
        or sent from it and from no other home address. Doubtful when the MAC
        speaks from several home addresses (two hosts, one forging the other's
        MAC) or from an address another MAC owns by ARP.
        """
        if ip is None or not netaddr.is_local_ip(ip):
            return "confident"
        dev = self.engine.devices.get(mac)
        if dev is None or dev.is_gateway:
            return "confident"
        if ip in dev.arp_ips:
            return "confident"
        if any(len(a) == len(ip) for a in dev.arp_ips):
            return "doubtful"  # it claims its addresses by ARP, and this is not one
        local = [a for a in dev.source_ips if len(a) == len(ip) and netaddr.is_local_ip(a)]
        if len(local) > 1:
            return "doubtful"
        for other, record in self.engine.devices.items():
            if other != mac and ip in record.arp_ips:
                return "doubtful"
        return "confident"

    def raise_alert(
        self,
        ts: float,
        mac: bytes,
        kind: str,
        severity: Severity,
        message: str,
        details: dict[str, Any] | None = None,
        *,
        direction: str = "outbound",
        src_ip: bytes | None = None,
        since: float | None = None,
    ) -> bool:
        """Append a new alert; False when it was only counted or dropped (see ``counted``).

        ``direction`` is "inbound" when ``mac`` is the victim; ``src_ip`` is the
        address the blamed frames came from, for the attribution. ``since``: when
        what was detected at ``ts`` began (a volume measured over past minutes),
        the alert's time; never before learning ended, which no alert may report
        on. The guard's own clocks (learning, snoozes, cooldown, storms) run on
        ``ts``, the moment of detection, so they never go backwards.
        """
        if self.counted(ts, mac, kind):
            return False
        info = dict(details or {})
        info["last_time"] = ts
        when = ts if since is None else min(ts, max(since, self.learn_end))
        sure = self.attribution(mac, src_ip) if direction == "outbound" else "confident"
        alert = Alert(when, netaddr.mac_str(mac), kind, severity, message, 1, info, direction, sure)
        self._append(alert)
        if len(self._open) > 8 * MAX_SNOOZES:
            self._open.clear()
        self._open[(mac, kind)] = alert
        self._storm_check(alert, mac, ts)
        return True

    def describe(self, mac: bytes, ts: float) -> str:
        """'Your Espressif smart plug (ESP_68664A)' for messages."""
        return f"Your {self.profile(mac, ts, fresh=True).label}"

    def alerted_recently(self, mac: bytes, ts: float) -> bool:
        """Any alert on this device in the last cooldown: its traffic teaches nothing."""
        cooldown = self.thresholds(mac).cooldown
        for (owner, _kind), alert in self._open.items():
            if owner == mac and ts - float(alert.details.get("last_time", alert.time)) < cooldown:
                return True
        return False

    # -- engine hooks -------------------------------------------------------------------

    def origin_of(self, flow: Flow) -> bytes | None:
        """The LAN device that opened a flow; None when the router forwarded it in."""
        src = flow.src_dev
        if src is None or flow.src_mac == netaddr.ZERO_MAC:
            return None  # the null MAC is nobody: never blamed
        if src.is_gateway and not netaddr.is_local_ip(flow.src_ip):
            return None
        return flow.src_mac

    def on_flow_start(self, ts: float, flow: Flow) -> None:
        self._clock(ts)
        origin = self.origin_of(flow)
        for det in self._on_start:
            det.on_flow_start(ts, flow, origin)
        if netaddr.is_multicast_ip(flow.dst_ip) or flow.dst_dev is None:
            return  # group traffic: no answer expected, nothing to judge
        pending = self._pending
        if len(pending) >= MAX_PENDING_FLOWS:
            self._settle(pending.popitem(last=False)[1][1])
        pending[flow.key] = (ts, flow)

    def on_flow_end(self, ts: float, flow: Flow) -> None:
        hit = self._pending.pop(flow.key, None)
        if hit is not None and hit[1] is flow:
            self._settle(flow)

    def _settle(self, flow: Flow) -> None:
        app = flow.app or by_port(flow.proto, flow.sport, flow.dport)
        proto = flow.proto
        answered = flow.rev_pkts > 0
        failed = not answered
        half_open = False
        probe = proto in (1, 58)
        if proto == 6:
            if flow.fwd_flags & _SYN:
                synack = (flow.rev_flags & (_SYN | _ACK)) == (_SYN | _ACK)
                answered = synack
                failed = not synack
                half_open = synack and not flow.fwd_flags & _ACK
            else:  # joined mid-connection: nothing to judge
                failed = False
        server = None
        dst = flow.dst_dev
        if answered and dst is not None and not dst.is_gateway and any(flow.dst_mac):
            server = flow.dst_mac
        settled = Settled(
            flow, self.origin_of(flow), server, app, answered, failed, half_open, probe
        )
        for det in self._on_settled:
            det.on_settled(settled)

    def on_arp(
        self,
        ts: float,
        src_mac: bytes,
        op: int,
        sender_mac: bytes,
        sender_ip: bytes,
        target_ip: bytes,
    ) -> None:
        self._clock(ts)
        for det in self._on_arp:
            det.on_arp(ts, src_mac, op, sender_mac, sender_ip, target_ip)

    def on_new_device(self, ts: float, mac: bytes) -> None:
        self._clock(ts)
        for det in self._on_new:
            det.on_new_device(ts, mac)

    def _on_dns_query(self, ts: float, mac: bytes, qname: str, qtype: int, server: str) -> None:
        self._clock(ts)
        for det in self._on_dns:
            det.on_dns_query(ts, mac, qname, qtype, server)

    def _on_dhcp_server(self, ts: float, mac: bytes, server_ip: str) -> None:
        self._clock(ts)
        for det in self._on_dhcp:
            det.on_dhcp_server(ts, mac, server_ip)

    def on_tick(self, ts: float) -> None:
        self._clock(ts)
        cutoff = ts - self.defaults.settle_seconds
        pending = self._pending
        # One walk from the oldest (insertion order is start order), not a fresh
        # iterator per flow; settling never touches ``_pending``, so the due flows are
        # settled after the walk, in the same order.
        due: list[bytes] = []
        for key, (started, _flow) in pending.items():
            if started > cutoff:
                break
            due.append(key)
        for key in due:
            self._settle(pending.pop(key)[1])
        for det in self._on_tick:
            det.on_tick(ts)

    def on_rekey(self, old: bytes, new: bytes) -> None:
        """Baselines, per-device thresholds, snoozes and open alerts follow the device;
        the detectors move their own state. Alerts already raised keep the old key:
        they were told under it."""
        base = self.baselines.pop(old, None)
        if base is not None:
            into = self.baselines.get(new)
            if into is None:
                self.baselines[new] = base
            else:
                into.absorb(base)
        if old in self.overrides and new not in self.overrides:
            self.overrides[new] = self.overrides.pop(old)
        for _mac, kind in [k for k in self._snoozed if k[0] == old]:
            until = self._snoozed.pop((old, kind))
            self._snoozed[(new, kind)] = max(until, self._snoozed.get((new, kind), until))
        for _mac, kind in [k for k in self._open if k[0] == old]:
            alert = self._open.pop((old, kind))
            self._open.setdefault((new, kind), alert)
        self._profiles.pop(old, None)
        self._profiles.pop(new, None)
        for det in self.detectors:
            det.rekey(old, new)

    # -- control ------------------------------------------------------------------------

    def command(self, cmd: Command) -> Reply | None:
        if isinstance(cmd, SetDeviceType):  # the user's type: detectors follow it at once
            self._profiles.pop(_parse_mac(cmd.mac) or b"", None)
            return None
        handler = self._handlers.get(type(cmd))
        if handler is None:  # perhaps one detector's own (the DHCP servers allowed)
            return next((r for d in self.detectors if (r := d.command(cmd)) is not None), None)
        try:
            return handler(cmd)
        except BlocklistError as err:
            return Reply.refused("bad_file", str(err))
        except ValueError as err:
            return Reply.refused("invalid_value", str(err))

    def _reset_baseline(self, cmd: Command) -> Reply:
        assert isinstance(cmd, ResetBaseline)
        mac = _parse_mac(cmd.mac)
        targets = [mac] if mac is not None else list(self.baselines)
        for target in targets:
            self.baselines.pop(target, None)
            self.baseline(target, self._now)
        for det in self.detectors:
            det.forget(mac)
        return OK

    def _snooze(self, cmd: Command) -> Reply:
        assert isinstance(cmd, Snooze)
        mac = netaddr.mac_bytes(cmd.mac)
        until = self._now + cmd.seconds if cmd.seconds is not None else float(cmd.until or 0.0)
        if len(self._snoozed) >= MAX_SNOOZES:
            self._snoozed = {k: v for k, v in self._snoozed.items() if v > self._now}
            if len(self._snoozed) >= MAX_SNOOZES:
                return Reply.refused("too_many", f"at most {MAX_SNOOZES} snoozes at a time")
        self._snoozed[(mac, cmd.kind or "*")] = until
        return OK

    def _unsnooze(self, cmd: Command) -> Reply:
        assert isinstance(cmd, Unsnooze)
        self._snoozed.pop((netaddr.mac_bytes(cmd.mac), cmd.kind or "*"), None)
        return OK

    def _thresholds(self, cmd: Command) -> Reply:
        assert isinstance(cmd, SetThresholds)
        mac = _parse_mac(cmd.mac)
        if cmd.values is None:
            if mac is not None:
                self.overrides.pop(mac, None)
            return OK
        if mac is None:
            self.defaults = self.defaults.with_values(cmd.values)
        else:
            self.overrides[mac] = self.thresholds(mac).with_values(cmd.values)
        for det in self.detectors:  # windows are sized by thresholds: rebuild them
            det.forget(mac)
        return OK

    def _policy(self, cmd: Command) -> Reply:
        assert isinstance(cmd, SetPolicy)
        self.policy.edit(cmd.type, list(cmd.allow), list(cmd.deny))
        return OK

    def _blocklist(self, cmd: Command) -> Reply:
        assert isinstance(cmd, LoadBlocklist)
        self.blocklist = load_blocklist(cmd.path) if cmd.path else None
        self.blocklist_path = cmd.path or None  # kept in the state: a restart reloads it
        return OK

    # -- persistence --------------------------------------------------------------------

    def state(self) -> dict[str, Any] | None:
        now = self._now
        out: dict[str, Any] = {
            "learn_start": self.learn_start,
            "baselines": {netaddr.mac_str(m): b.to_json() for m, b in self.baselines.items()},
            "snoozed": [
                [netaddr.mac_str(m), kind, until]
                for (m, kind), until in self._snoozed.items()
                if until > now
            ],
            "defaults": asdict(self.defaults),
            "overrides": {netaddr.mac_str(m): asdict(t) for m, t in self.overrides.items()},
            "policy": self.policy.to_json(),
            "blocklist": self.blocklist_path,
            "detectors": {},
        }
        for det in self.detectors:
            saved = det.state()
            if saved is not None:
                out["detectors"][type(det).__name__] = saved
        return out

    def restore(self, state: dict[str, Any]) -> None:
        start = state.get("learn_start")
        if isinstance(start, int | float):
            self.learn_start = float(start)
        for text, data in (state.get("baselines") or {}).items():
            mac = _parse_mac(text)
            if mac is not None and isinstance(data, dict) and len(self.baselines) < MAX_BASELINES:
                self.baselines[mac] = DeviceBaseline.from_json(data)
        for item in state.get("snoozed") or []:
            if isinstance(item, list) and len(item) == 3:
                mac = _parse_mac(item[0])
                if mac is not None and isinstance(item[2], int | float):
                    self._snoozed[(mac, str(item[1]))] = float(item[2])
        defaults = state.get("defaults")
        if isinstance(defaults, dict):
            with contextlib.suppress(ValueError):
                self.defaults = Thresholds().with_values(defaults)
        for text, values in (state.get("overrides") or {}).items():
            mac = _parse_mac(text)
            if mac is not None and isinstance(values, dict):
                try:
                    self.overrides[mac] = Thresholds().with_values(values)
                except ValueError:
                    continue
        policy = state.get("policy")
        if isinstance(policy, dict):
            self.policy.restore(policy)
        path = state.get("blocklist")
        if isinstance(path, str) and path and self.blocklist is None:
            try:
                self.blocklist = load_blocklist(path)
                self.blocklist_path = path
            except BlocklistError as err:  # monitoring goes on without it; say why once
                print(f"warning: {err}", file=sys.stderr)
        saved = state.get("detectors") or {}
        for det in self.detectors:
            data = saved.get(type(det).__name__)
            if isinstance(data, dict):
                det.restore(data)


def attach_detectors(engine: Engine, blocklist: str | None = None) -> Guard:
    """Plug the guard into an engine (``build_engine`` calls this).

    ``blocklist`` (or the ``TOTEM_BLOCKLIST`` environment variable) names an
    offline blocklist file; an unreadable ``blocklist`` raises BlocklistError
    with a one-line message, an unreadable environment file only warns.
    """
    loaded = load_blocklist(blocklist) if blocklist else None
    env_path = os.environ.get(BLOCKLIST_ENV)
    if loaded is None and env_path:
        try:
            loaded = load_blocklist(env_path)
        except BlocklistError as err:  # monitoring goes on without it; say why once
            print(f"warning: {err}", file=sys.stderr)
    guard = Guard(engine, loaded)
    engine.observers.append(guard)
    return guard
