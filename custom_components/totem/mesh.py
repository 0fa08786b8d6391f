"""Several capture points, one home: devices and traffic across TOTEM's entries.

One :class:`ProbeMesh` per Home Assistant (``hass.data``) sees every entry's latest
devices (the local probe, remote probes, the router's flows) and answers two things:

- **Who an address-only device is.** A flow source without MACs in its records keys
  a device by a stand-in (``02:00`` + IPv4, ``engine/flow_events.py::address_key``).
  As soon as an address maps to one real MAC, that device is the real one: from
  another probe that saw the MAC use the address (ARP/DHCP on its segment), or from
  Home Assistant's DHCP-fed trackers (a ``device_tracker`` with ``ip`` and ``mac``
  attributes: the router integrations, nmap, the DHCP watcher of the ping/luci
  ones). The coordinator rewrites the stand-in to the real MAC in each snapshot
  (:meth:`ProbeMesh.resolve`), so the device registry joins the entries by that MAC
  connection, and the stand-in's own device is removed. The alias is remembered
  (``.storage/totem.mesh``), so a restart does not bring the stand-in back while the
  other probe has not spoken yet. An address two MACs claim is left alone.
- **How much a device seen by several probes sent and received.** Each probe's
  counters stay on its own sensors and are shown per probe as attributes; the total
  is, per direction, the **largest** of the probes' counters, not their sum. Two
  capture points in one home mostly see the same packets (a phone's traffic crosses
  the access point and then the router; a flow export and a Pi on the same bridge
  see one conversation twice): a sum would double-count every one of them, while the
  largest view is exact whenever one probe sees all of the device's traffic and
  otherwise never counts a packet twice. Where the views are disjoint (a laptop
  roaming between two access points, each with its own probe) the largest would
  undercount: when every probe reports the device's busiest peers and no peer is in
  two probes' lists (:func:`disjoint`), the total is the **sum**. One shared peer
  means the probes see (some of) the same conversations: the largest view again.
  The rule is sticky per device (``ProbeMesh._rule``): the sensors are
  total_increasing, and flipping between the two would read as meter resets.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Final

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.storage import Store

from .const import DOMAIN
from .engine import netaddr
from .engine.flow_events import address_key
from .engine.model import Snapshot
from .inventory import DeviceView, TotemData

_LOGGER = logging.getLogger(__package__)
_KEY: Final = f"{DOMAIN}_mesh"
# The device table holds 4,096 devices; aliases beyond that are not a home's.
MAX_ALIASES: Final = 4096
_SAVE_DELAY: Final = 10.0


def stand_in_ip(mac: str, ips: tuple[str, ...] | list[str]) -> str | None:
    """The address a flow source's stand-in MAC was made from, or None for a real MAC.

    Checked structurally (the key made from one of the device's addresses), so a
    randomized MAC that happens to begin with 02:00 is never taken for a stand-in.
    """
    if not mac.startswith(("02:00:", "02:01:")):
        return None
    for ip in ips:
        try:
            packed = ipaddress.ip_address(ip).packed
        except ValueError:
            continue
        if netaddr.mac_str(address_key(packed)) == mac:
            return ip
    return None


@dataclass(frozen=True, slots=True)
class Seen:
    """One probe's view of a device: counters and where (which entry) it was seen."""

    probe: str
    tx_bytes: int
    rx_bytes: int
    tx_packets: int
    rx_packets: int
    online: bool
    peers: frozenset[str] = frozenset()  # the busiest peers this probe saw it talk to


# How the views of one device combine: see disjoint() and the module's docstring.
RULE_LARGEST: Final = "largest per direction (probes overlap; a sum would double-count)"
RULE_SUM: Final = "sum (the probes saw disjoint peers: separate traffic)"
# Devices whose rule is remembered: a home's shared devices, with room (a few hundred
# devices at most are seen by two probes; 4,096 rules are ~300 KB in the store).
MAX_RULES: Final = 4096


def share_a_peer(seen: list[Seen]) -> bool:
    """Proof of overlap: every probe reported its peers and two reported the same one."""
    if len(seen) < 2 or any(not s.peers for s in seen):
        return False
    return not disjoint(seen)


def disjoint(seen: list[Seen]) -> bool:
    """Whether the probes saw separate traffic of one device: each probe reported the
    peers it saw the device talk to, and no peer is in two probes' lists.

    Two capture points on one path see the same conversations, so they share peers
    (the cloud endpoint, the resolver); a laptop roaming between two access points
    talks to different peers through each only if its conversations differ, and one
    shared peer (the same cloud host from both sides) is enough to fall back to the
    largest view, which never double-counts. Without peer lists: overlap assumed.
    """
    if len(seen) < 2 or any(not s.peers for s in seen):
        return False
    union: set[str] = set()
    for s in seen:
        if union & s.peers:
            return False
        union |= s.peers
    return True


@dataclass(frozen=True, slots=True)
class Totals:
    tx_bytes: int
    rx_bytes: int
    by_probe: tuple[Seen, ...]
    rule: str = RULE_LARGEST

    def attributes(self) -> dict[str, Any]:
        return {
            "probes": [s.probe for s in self.by_probe],
            "per_probe_sent": {s.probe: s.tx_bytes for s in self.by_probe},
            "per_probe_received": {s.probe: s.rx_bytes for s in self.by_probe},
            "total_rule": self.rule,
        }


class ProbeMesh:
    """Every entry's latest devices; aliases of stand-ins; totals across probes."""

    def __init__(self, hass: HomeAssistant) -> None:
        self.hass = hass
        self.views: dict[str, dict[str, DeviceView]] = {}
        self.titles: dict[str, str] = {}
        self.aliases: dict[str, str] = {}  # stand-in MAC -> real MAC
        self.owners: dict[str, str] = {}  # MAC -> the entry that shows its totals
        # MAC -> the entries that see it, and the MACs two entries or more see: kept up
        # to date per snapshot, so the platforms never scan every entry's table.
        self._entries_of: dict[str, set[str]] = {}
        self.shared: set[str] = set()
        # MAC -> the rule its totals follow once evidence chose one (see totals): the
        # all-probes sensors are total_increasing, and a total that flipped from the sum
        # to the largest view and back would read as meter resets in the statistics.
        self.rules: dict[str, str] = {}
        self._store: Store[dict[str, Any]] = Store(hass, 1, f"{DOMAIN}.mesh")
        self._loaded = False
        # Called after any entry's snapshot: the totals depend on every entry's.
        self._listeners: list[Callable[[], None]] = []

    async def async_load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        data = await self._store.async_load()
        rules = data.get("rules") if isinstance(data, dict) else None
        for key, value in list(rules.items())[:MAX_RULES] if isinstance(rules, dict) else ():
            try:
                mac = netaddr.mac_str(netaddr.mac_bytes(str(key)))
            except ValueError:
                continue
            if value in (RULE_SUM, RULE_LARGEST):
                self.rules[mac] = value
        raw = data.get("aliases") if isinstance(data, dict) else None
        if not isinstance(raw, dict):
            return
        for key, value in list(raw.items())[:MAX_ALIASES]:
            try:
                standin = netaddr.mac_str(netaddr.mac_bytes(str(key)))
                real = netaddr.mac_str(netaddr.mac_bytes(str(value)))
            except ValueError:
                _LOGGER.warning("TOTEM ignored a broken alias in totem.mesh: %r", key)
                continue
            self.aliases[standin] = real

    @callback
    def _schedule_save(self) -> None:
        self._store.async_delay_save(
            lambda: {"aliases": dict(self.aliases), "rules": dict(self.rules)}, _SAVE_DELAY
        )

    # -- who an address is ----------------------------------------------------

    def _address_owners(self, entry_id: str) -> dict[str, set[str]]:
        """LAN address -> the real MACs seen using it: other probes, DHCP trackers."""
        owners: dict[str, set[str]] = {}
        for other, views in self.views.items():
            if other == entry_id:
                continue
            for view in views.values():
                if stand_in_ip(view.mac, view.ips) is not None:
                    continue
                for ip in view.ips:
                    owners.setdefault(ip, set()).add(view.mac)
        for state in self.hass.states.async_all("device_tracker"):
            lease_ip, mac = state.attributes.get("ip"), state.attributes.get("mac")
            if not isinstance(lease_ip, str) or not isinstance(mac, str):
                continue
            try:
                canonical = netaddr.mac_str(netaddr.mac_bytes(mac))
            except ValueError:
                continue
            owners.setdefault(lease_ip.strip(), set()).add(canonical)
        return owners

    @callback
    def resolve(self, entry_id: str, snapshot: Snapshot) -> tuple[Snapshot, list[str]]:
        """SNAPSHOT with each resolved stand-in under its real MAC; the stand-ins that
        were resolved just now (their own devices go)."""
        standins = {
            row.mac: ip for row in snapshot.devices if (ip := stand_in_ip(row.mac, row.ips))
        }
        if not standins:
            return snapshot, []
        present = {row.mac for row in snapshot.devices}
        owners: dict[str, set[str]] | None = None
        fresh: list[str] = []
        rows = []
        for row in snapshot.devices:
            ip = standins.get(row.mac)
            real = self.aliases.get(row.mac) if ip else None
            if ip and real is None:
                if owners is None:
                    owners = self._address_owners(entry_id)
                claimed = owners.get(ip, set())
                if len(claimed) == 1 and len(self.aliases) < MAX_ALIASES:
                    real = next(iter(claimed))
                    self.aliases[row.mac] = real
                    fresh.append(row.mac)
                    _LOGGER.info("TOTEM: %s (flows, %s) is %s", row.mac, ip, real)
                    self._schedule_save()
            # The probe itself keyed the real MAC too: keep both rather than merge rows.
            rows.append(replace(row, mac=real) if real and real not in present else row)
        return replace(snapshot, devices=rows), fresh

    def alias(self, mac: str) -> str:
        return self.aliases.get(mac, mac)

    # -- traffic across probes ----------------------------------------------------

    @callback
    def async_add_listener(self, listener: Callable[[], None]) -> Callable[[], None]:
        self._listeners.append(listener)

        @callback
        def remove() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return remove

    @callback
    def note(self, entry_id: str, title: str, data: TotemData) -> None:
        old = self.views.get(entry_id, {})
        self._index(entry_id, gone=old.keys() - data.devices.keys(),
                    new=data.devices.keys() - old.keys())  # fmt: skip
        self.views[entry_id] = data.devices
        self.titles[entry_id] = title
        for listener in list(self._listeners):
            listener()

    def _index(self, entry_id: str, *, gone: set[str], new: set[str]) -> None:
        for mac in gone:
            entries = self._entries_of.get(mac)
            if entries is None:
                continue
            entries.discard(entry_id)
            if len(entries) < 2:
                self.shared.discard(mac)
            if not entries:
                del self._entries_of[mac]
        for mac in new:
            entries = self._entries_of.setdefault(mac, set())
            entries.add(entry_id)
            if len(entries) >= 2:
                self.shared.add(mac)

    @callback
    def forget_entry(self, entry_id: str) -> None:
        self._index(entry_id, gone=set(self.views.get(entry_id, {})), new=set())
        self.views.pop(entry_id, None)
        self.titles.pop(entry_id, None)
        self.owners = {m: e for m, e in self.owners.items() if e != entry_id}

    def seen_by(self, mac: str) -> list[str]:
        return sorted(self._entries_of.get(mac, ()))

    def owner(self, mac: str) -> str | None:
        """The entry that shows MAC's totals: only for a MAC two entries or more see;
        the first to ask keeps it while it is loaded."""
        entries = self.seen_by(mac)
        if len(entries) < 2:
            return None
        current = self.owners.get(mac)
        if current in entries:
            return current
        self.owners[mac] = entries[0]
        return entries[0]

    def totals(self, mac: str) -> Totals | None:
        seen = [
            Seen(
                self.titles.get(entry_id, entry_id),
                view.tx_bytes,
                view.rx_bytes,
                view.tx_packets,
                view.rx_packets,
                view.online,
                frozenset(
                    str(p["peer"]) for p in view.top_peers if isinstance(p, dict) and p.get("peer")
                ),
            )
            for entry_id in self.seen_by(mac)
            if (view := self.views[entry_id][mac]) is not None
        ]
        if not seen:
            return None
        if self._rule(mac, seen) == RULE_SUM:
            return Totals(
                sum(s.tx_bytes for s in seen), sum(s.rx_bytes for s in seen), tuple(seen), RULE_SUM
            )
        return Totals(max(s.tx_bytes for s in seen), max(s.rx_bytes for s in seen), tuple(seen))

    def _rule(self, mac: str, seen: list[Seen]) -> str:
        """The rule a device's totals follow, sticky once evidence chose it.

        A shared peer proves overlap: the largest view from then on, whatever later
        snapshots show (the top-peer lists change; the probes' paths do not). Disjoint
        lists choose the sum, kept while a probe's list is empty for a moment (a snapshot
        before traffic, a restart), given up only for proof of overlap. So a device's
        total switches at most once, from the sum to the largest view. Without either
        evidence: the largest view, which never double-counts.
        """
        if len(seen) < 2:
            return RULE_LARGEST  # one view: sum and largest are the same
        known = self.rules.get(mac)
        if known == RULE_LARGEST:
            return known
        chosen = RULE_LARGEST if share_a_peer(seen) else RULE_SUM if disjoint(seen) else known
        if chosen is None:
            return RULE_LARGEST
        if chosen != known and (known is not None or len(self.rules) < MAX_RULES):
            self.rules[mac] = chosen
            self._schedule_save()
        return chosen


def probe_mesh(hass: HomeAssistant) -> ProbeMesh:
    mesh: ProbeMesh | None = hass.data.get(_KEY)
    if mesh is None:
        mesh = hass.data[_KEY] = ProbeMesh(hass)
    return mesh
