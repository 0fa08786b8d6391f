"""The inventory: from probe snapshots to the devices Home Assistant shows.

Groups MACs merged by ``same_device_as``, admits devices (IP or DHCP traffic
seen, not ignored, under the cap), adds the stored counter offsets and turns
counter deltas into rates; says which devices are stale or ignored. No Home
Assistant object is touched here (device_registry.py does that).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from .const import (
    ADMIT_PER_SNAPSHOT,
    FLOOD_CANDIDATES,
    VISIBILITY_MIN_PACKETS,
    VISIBILITY_MIN_SHARE,
)
from .engine.model import DeviceRow, EngineStats, Snapshot
from .engine.talks import SHOWN_FLOWS, SHOWN_PEERS
from .store import InventoryStore, StoredDevice

VISIBILITY_FULL = "full"
VISIBILITY_OWN_TRAFFIC = "own_traffic_only"
VISIBILITY_UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class InventoryOptions:
    """The admission and presence rules, from the entry's options."""

    device_cap: int
    auto_add: bool
    ignored: frozenset[str]
    away_timeout: float
    use_packet_time: bool  # replays judge "online" on the capture's own clock


@dataclass(frozen=True, slots=True)
class DeviceView:
    """One Home Assistant device: an admitted MAC and the MACs merged into it."""

    mac: str
    macs: tuple[str, ...]
    name: str
    manufacturer: str | None
    type: str
    ips: tuple[str, ...]
    first_seen: float
    last_seen: float | None
    tx_bytes: int
    rx_bytes: int
    tx_packets: int
    rx_packets: int
    upload_kbps: float | None
    download_kbps: float | None
    remote_hosts: int
    active_flows: int
    online: bool
    present: bool  # in the probe's current table
    protocols: dict[str, int] = field(default_factory=dict)
    domains: tuple[str, ...] = ()
    model: str | None = None  # the device's own model number (mDNS TXT), if it gave one
    integration: str | None = None  # the Home Assistant integration that supports it
    manufacturer_registry: str | None = None  # the OUI registry string (diagnostics)
    type_source: str = "evidence"  # "user": set with totem.set_device_type
    # What it does for the network as TOTEM observed it (gateway, dhcp_server, dns_server).
    roles: tuple[str, ...] = ()
    # The name the device gave itself or the network gave it (DHCP, mDNS...), if any.
    hostname: str | None = None
    # Why the engine chose the type, and where each part of the name came from.
    type_reason: str = ""
    name_sources: dict[str, str] = field(default_factory=dict)
    # The busiest conversations and peer addresses of its MACs (engine/talks.py).
    top_flows: tuple[dict[str, Any], ...] = ()
    top_peers: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class TotemData:
    """What the coordinator hands the entities after every snapshot."""

    time: float
    packets: int
    bytes: int
    packets_per_second: float | None
    devices: dict[str, DeviceView]
    stats: EngineStats
    visibility: str
    not_admitted: int
    flood: bool = False
    final: bool = False  # the probe's last word (end of a replay): always shown

    @property
    def devices_online(self) -> int:
        return sum(1 for d in self.devices.values() if d.online)


def display_name(name: str | None, manufacturer: str | None, mac: str) -> str:
    """The best name for a device: identification, else vendor + MAC tail."""
    if name:
        return name
    tail = mac.replace(":", "")[-4:].upper()
    return f"{manufacturer or 'Device'} {tail}"


def root_of(mac: str, rows: dict[str, DeviceRow]) -> str:
    """Follow ``same_device_as`` to the MAC that stands for the device."""
    seen = {mac}
    current = mac
    while True:
        row = rows.get(current)
        nxt = row.same_device_as if row else None
        if nxt is None or nxt in seen:
            return current
        seen.add(nxt)
        current = nxt


class DeviceInventory:
    """Keeps the admitted devices and the state between two snapshots."""

    def __init__(self, store: InventoryStore, options: InventoryOptions) -> None:
        self.store = store
        self.options = options
        self._previous: dict[str, tuple[float, int, int]] = {}
        self._prev_packets: tuple[float, int] | None = None
        # MAC -> the latest packet-clock "last seen" of this probe session.
        self._seen: dict[str, float] = {}

    @property
    def admitted(self) -> set[str]:
        return set(self.store.devices)

    def new_session(self) -> None:
        """A (re)started probe: its counters begin at zero again."""
        self.store.new_session()
        self._previous.clear()
        self._prev_packets = None
        self._seen.clear()

    def apply(
        self, snapshot: Snapshot, wall_time: float | None = None, *, final: bool = False
    ) -> tuple[TotemData, list[str]]:
        """Fold one snapshot in; returns the data and the newly admitted MACs."""
        wall = time.time() if wall_time is None else wall_time
        now = (
            snapshot.last_time
            if self.options.use_packet_time and snapshot.last_time is not None
            else wall
        )
        # The null MAC's frames are counted by the engine but it is no device.
        stations = [row for row in snapshot.devices if row.station]
        rows = {row.mac: row for row in stations}
        groups: dict[str, list[DeviceRow]] = {}
        for row in stations:
            groups.setdefault(root_of(row.mac, rows), []).append(row)

        candidates = [
            (root, members)
            for root, members in groups.items()
            if root not in self.store.devices and self._admissible(root, members, wall - now)
        ]
        flood = len(candidates) > FLOOD_CANDIDATES
        if flood:
            # Spoofed MACs neither ask DHCP for an address nor get answers.
            candidates = [
                (root, members)
                for root, members in candidates
                if any(m.sent_dhcp or m.rx_packets > 0 for m in members)
            ]
        candidates.sort(key=lambda c: _evidence(c[1]), reverse=True)
        room = max(0, self.options.device_cap - len(self.store.devices))
        new: list[str] = []
        for root, _members in candidates[: min(room, ADMIT_PER_SNAPSHOT)]:
            self.store.add_device(root, wall)
            new.append(root)
        not_admitted = len(groups) - sum(1 for root in groups if root in self.store.devices)

        views: dict[str, DeviceView] = {}
        for mac, record in self.store.devices.items():
            members = groups.get(mac, [])
            views[mac] = self._view(record, members, now, wall)
        self.store.schedule_save()

        pps: float | None = None
        if self._prev_packets is not None:
            prev_time, prev_packets = self._prev_packets
            if now > prev_time and snapshot.packets >= prev_packets:
                pps = round((snapshot.packets - prev_packets) / (now - prev_time), 1)
        self._prev_packets = (now, snapshot.packets)

        data = TotemData(
            time=now,
            packets=snapshot.packets,
            bytes=snapshot.bytes,
            packets_per_second=pps,
            devices=views,
            stats=snapshot.stats,
            visibility=visibility(
                snapshot.packets, snapshot.stats, replay=self.options.use_packet_time
            ),
            not_admitted=not_admitted,
            flood=flood,
            final=final,
        )
        return data, new

    def forget(self, mac: str) -> None:
        self.store.remove_device(mac)
        self._previous.pop(mac, None)
        self._seen.pop(mac, None)

    def owner(self, mac: str) -> str | None:
        """The admitted device a MAC belongs to (merged MACs count), or None."""
        devices = self.store.devices
        if mac in devices:
            return mac
        return next((primary for primary, rec in devices.items() if mac in rec.macs), None)

    def knows(self, macs: set[str]) -> bool:
        """Is one of MACS an admitted device or merged into one?"""
        return any(self.owner(mac) is not None for mac in macs)

    def stale(self, now: float, stale_seconds: float) -> list[str]:
        """Devices not active for STALE_SECONDS (0 = kept forever)."""
        if stale_seconds <= 0:
            return []
        return [
            mac
            for mac, record in self.store.devices.items()
            if now - record.last_active > stale_seconds
        ]

    def ignored(self) -> list[str]:
        """Admitted devices the user has since chosen to ignore (any of their MACs)."""
        return [
            mac
            for mac, record in self.store.devices.items()
            if {mac, *record.macs} & self.options.ignored
        ]

    def _admissible(self, root: str, members: list[DeviceRow], to_wall: float) -> bool:
        """TO_WALL turns the snapshot's clock into the wall clock records are kept on."""
        opts = self.options
        if not opts.auto_add:
            return False
        if any(m.mac in opts.ignored for m in members) or root in opts.ignored:
            return False
        removed_at = self.store.removed.get(root)
        if removed_at is not None:
            if max(m.last_seen for m in members) + to_wall <= removed_at:
                return False
            del self.store.removed[root]
        # A spoofed source MAC costs an attacker nothing; one that speaks IP
        # or DHCP at least took part in the network.
        return any(m.sent_ip or m.sent_dhcp for m in members)

    def _view(
        self, record: StoredDevice, members: list[DeviceRow], now: float, wall: float
    ) -> DeviceView:
        totals = dict.fromkeys(("tx_bytes", "rx_bytes", "tx_packets", "rx_packets"), 0)
        member_macs = set(record.macs) | {m.mac for m in members}
        for member in members:
            counters = self.store.counters_for(member.mac)
            for key in totals:
                counters.update(key, int(getattr(member, key)))
        for mac in member_macs:
            counters = self.store.counters_for(mac)
            for key in totals:
                totals[key] += counters.total(key)

        primary = next((m for m in members if m.mac == record.mac), None)
        best = primary or (members[0] if members else None)
        if best is not None:
            record.name = best.name or next((m.name for m in members if m.name), record.name)
            record.manufacturer = best.manufacturer or record.manufacturer
            if best.type != "unknown" or record.type == "unknown":
                record.type = best.type
            ips = sorted({ip for m in members for ip in m.ips})
            record.ips = ips or record.ips
            # Stored on the wall clock: a replay's packet clock starts again with
            # every loop and restart, and a live one is the wall clock already. The
            # moment is as long before now as it was before the capture's "now".
            last_seen = max(m.last_seen for m in members)
            if last_seen > self._seen.get(record.mac, float("-inf")):
                self._seen[record.mac] = last_seen
                record.last_seen = min(wall, wall - (now - last_seen))
                record.last_active = wall
        # Stored by an older version on a replay's clock: never shown ahead of now.
        record.last_seen = min(record.last_seen, wall)
        record.macs = sorted(member_macs)

        upload = download = None
        previous = self._previous.get(record.mac)
        if previous is not None:
            prev_time, prev_tx, prev_rx = previous
            if now > prev_time:
                span = now - prev_time
                upload = round(max(totals["tx_bytes"] - prev_tx, 0) * 8 / 1000 / span, 1)
                download = round(max(totals["rx_bytes"] - prev_rx, 0) * 8 / 1000 / span, 1)
        self._previous[record.mac] = (now, totals["tx_bytes"], totals["rx_bytes"])

        protocols: dict[str, int] = {}
        for member in members:
            for proto, count in member.protocols.items():
                protocols[proto] = protocols.get(proto, 0) + count
        last_seen_value = record.last_seen or None
        seen = self._seen.get(record.mac)
        # Judged on the capture's clock (a replay at 10x is online for a tenth as long).
        online = bool(members) and seen is not None and now - seen <= self.options.away_timeout
        return DeviceView(
            mac=record.mac,
            macs=tuple(record.macs),
            name=display_name(record.name, record.manufacturer, record.mac),
            manufacturer=record.manufacturer,
            type=record.user_type or record.type,
            ips=tuple(record.ips),
            first_seen=record.first_seen,
            last_seen=last_seen_value,
            tx_bytes=totals["tx_bytes"],
            rx_bytes=totals["rx_bytes"],
            tx_packets=totals["tx_packets"],
            rx_packets=totals["rx_packets"],
            upload_kbps=upload if members else 0.0 if previous else None,
            download_kbps=download if members else 0.0 if previous else None,
            remote_hosts=sum(m.remote_hosts for m in members),
            active_flows=sum(m.active_flows for m in members),
            online=online,
            present=bool(members),
            protocols=protocols,
            domains=tuple(sorted({d for m in members for d in m.domains})),
            model=best.model if best is not None else None,
            integration=best.integration if best is not None else None,
            manufacturer_registry=best.manufacturer_registry if best is not None else None,
            type_source="user"
            if record.user_type
            else (best.type_source if best is not None else "evidence"),
            roles=tuple(sorted({r for m in members for r in m.roles})),
            hostname=record.name or None,
            type_reason=best.type_reason if best is not None else "",
            name_sources=dict(best.name_sources) if best is not None else {},
            top_flows=_busiest([f for m in members for f in m.top_flows], SHOWN_FLOWS),
            top_peers=_busiest([p for m in members for p in m.top_peers], SHOWN_PEERS),
        )


def _busiest(items: list[dict[str, Any]], count: int) -> tuple[dict[str, Any], ...]:
    """The merged MACs' lists as one, busiest first."""
    if len(items) > 1:
        items = sorted(items, key=lambda i: -(i.get("up", 0) + i.get("down", 0)))
    return tuple(items[:count])


def _evidence(members: list[DeviceRow]) -> tuple[bool, bool, int]:
    return (
        any(m.sent_dhcp for m in members),
        any(m.rx_packets > 0 for m in members),
        sum(m.tx_packets for m in members),
    )


def visibility(packets: int, stats: EngineStats, *, replay: bool = False) -> str:
    """Does the capture see the home's traffic or only its own and broadcasts?

    A live probe knows its own MACs and counts unicast between others. A file
    has no "own" host (the probe did not capture it), so every unicast frame
    between two devices counts: a file of one host's traffic is what the user
    chose to replay, not a blind spot to fix by mirroring a port.
    """
    if packets < VISIBILITY_MIN_PACKETS:
        return VISIBILITY_UNKNOWN
    seen = stats.unicast_between_others
    if replay:
        seen = max(seen, stats.unicast_frames)
    share = seen / packets
    return VISIBILITY_FULL if share >= VISIBILITY_MIN_SHARE else VISIBILITY_OWN_TRAFFIC
