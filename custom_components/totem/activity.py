"""The device activity log: state changes of linked entities beside the network traffic.

A TOTEM network device is linked to the entities other integrations have on
the same Home Assistant device (same MAC connection; on newer Home Assistant,
devices sharing the MAC connection), plus the links the user adds in the
options (entity -> MAC) for devices whose integration does not know the MAC.
Each state change of a linked entity becomes, once the minute after it has been
seen, a ``totem_device_activity`` event, a line of the bounded activity log
(kept in its own Store, shown in diagnostics) and the value of the device's
"Traffic at last state change" sensor. correlation.py learns the usual upload
per entity state and reports contradictions as ``activity_mismatch`` alerts.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.event import async_track_state_change_event
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from .compat import all_devices
from .const import DOMAIN, EVENT_DEVICE_ACTIVITY
from .coordinator import TotemCoordinator
from .correlation import (
    KIND_BURST,
    ActivityRecord,
    Correlator,
    Mismatch,
    Sample,
)
from .engine.messages import AlertMessage
from .engine.model import Alert, Severity
from .inventory import TotemData
from .store import CheckedStore

__all__ = ["EVENT_DEVICE_ACTIVITY", "ActivityLog"]

_LOGGER = logging.getLogger(__name__)

KIND_ACTIVITY_MISMATCH = "activity_mismatch"

STORAGE_VERSION = 1
SAVE_DELAY = 30.0
LOG_SIZE = 200
DIAGNOSTICS_LOG = 50

# Entities whose state is a physical activity; a plug's power sensor changes every
# few seconds and would drown the log. Links the user adds are taken as they are.
LINKABLE_DOMAINS = frozenset(
    {
        "alarm_control_panel",
        "binary_sensor",
        "camera",
        "climate",
        "cover",
        "fan",
        "humidifier",
        "input_boolean",
        "lawn_mower",
        "light",
        "lock",
        "media_player",
        "siren",
        "switch",
        "vacuum",
        "valve",
        "water_heater",
    }
)

TO_REDACT = {"mac", "new_destinations", "new_destinations_before"}


def human_size(size: float) -> str:
    for unit in ("bytes", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1000
    raise AssertionError("unreachable")


@dataclass(slots=True)
class _Links:
    entities: dict[str, str]  # entity_id -> the TOTEM device's primary MAC
    macs: frozenset[str]  # TOTEM's devices when the links were computed


class ActivityLog:
    """Links entities to network devices and logs their state changes with traffic.

    A subscriber of the coordinator's snapshots (it sees each one before the
    entities do, so the sensor shows a record in the same update) and a source
    of alerts, which it publishes through the coordinator like the probe's.
    """

    def __init__(
        self, hass: HomeAssistant, entry: ConfigEntry, coordinator: TotemCoordinator
    ) -> None:
        self.hass = hass
        self.entry = entry
        self.coordinator = coordinator
        self.store = CheckedStore(hass, f"{DOMAIN}.{entry.entry_id}.activity", entry.entry_id)
        self.correlator = Correlator(
            hour_of=lambda t: dt_util.as_local(dt_util.utc_from_timestamp(t)).hour
        )
        self.log: deque[ActivityRecord] = deque(maxlen=LOG_SIZE)
        self.last: dict[str, ActivityRecord] = {}
        self.links = _Links({}, frozenset())
        config = coordinator.config
        self.user_links: dict[str, str] = dict(config.activity_links)
        # A replay's data clock runs this many times faster than the wall clock.
        self._speed = config.source.speed if config.source.is_replay else 1.0
        self._unsub_states: Callable[[], None] | None = None
        self._relink_pending = False
        self._stopped = False

    # -- life cycle -------------------------------------------------------

    async def async_load(self) -> None:
        await self.store.async_load_checked(self._parse)

    def _parse(self, data: dict[str, Any]) -> list[str]:
        """One damaged line costs only itself; returns what was dropped."""
        dropped: list[str] = []
        self.log.clear()
        self.last.clear()
        log = data.get("log", [])
        if not isinstance(log, list):
            dropped.append("log (not a list)")
            log = []
        for index, item in enumerate(log):
            try:
                record = ActivityRecord.from_json(item)
            except (AttributeError, KeyError, TypeError, ValueError) as err:
                dropped.append(f"log[{index}] ({err})")
                continue
            self.log.append(record)
            self.last[record.mac] = record
        learned = data.get("learned", {})
        try:
            self.correlator.load_learned(learned if isinstance(learned, dict) else {})
        except (AttributeError, KeyError, TypeError, ValueError) as err:
            self.correlator.load_learned({})
            dropped.append(f"learned ({err})")
        if not isinstance(learned, dict):
            dropped.append("learned (not a mapping)")
        return dropped

    @callback
    def async_start(self) -> None:
        self.entry.async_on_unload(self.coordinator.async_subscribe_snapshots(self.on_snapshot))
        self.entry.async_on_unload(
            self.hass.bus.async_listen(dr.EVENT_DEVICE_REGISTRY_UPDATED, self._schedule_relink)
        )
        self.entry.async_on_unload(
            self.hass.bus.async_listen(er.EVENT_ENTITY_REGISTRY_UPDATED, self._schedule_relink)
        )
        self.relink()

    async def async_stop(self) -> None:
        self._stopped = True
        if self._unsub_states is not None:
            self._unsub_states()
            self._unsub_states = None
        await self.store.async_save(self._data())

    def _data(self) -> dict[str, Any]:
        return {
            "log": [record.to_json() for record in self.log],
            "learned": self.correlator.learned_json(),
        }

    # -- links --------------------------------------------------------------

    @callback
    def _schedule_relink(self, _event: Event[Any]) -> None:
        # Registries change in bursts (a platform adding its entities): link once after.
        if not self._relink_pending:
            self._relink_pending = True
            self.hass.loop.call_soon(self.relink)

    @callback
    def relink(self) -> None:
        self._relink_pending = False
        if self._stopped:
            return  # a relink scheduled just before the unload
        macs = frozenset(self.coordinator.store.devices)
        entities = compute_links(self.hass, self.coordinator, self.user_links)
        changed = entities != self.links.entities
        self.links = _Links(entities, macs)
        if not changed and (self._unsub_states is not None or not entities):
            return
        states = {
            entity_id: state.state
            for entity_id in entities
            if (state := self.hass.states.get(entity_id)) is not None
        }
        self.correlator.set_links(entities, states)
        if self._unsub_states is not None:
            self._unsub_states()
            self._unsub_states = None
        if entities:
            self._unsub_states = async_track_state_change_event(
                self.hass, list(entities), self._on_state
            )

    @property
    def linked_macs(self) -> set[str]:
        return set(self.links.entities.values())

    # -- inputs -------------------------------------------------------------

    @callback
    def _on_state(self, event: Event[EventStateChangedData]) -> None:
        old, new = event.data["old_state"], event.data["new_state"]
        if old is None or new is None:
            return
        self.correlator.state_changed(
            event.data["entity_id"],
            old.state,
            new.state,
            new.last_changed.timestamp(),
            self._speed,
        )

    @callback
    def on_snapshot(self, data: TotemData) -> None:
        """A snapshot, before the entities see it."""
        if frozenset(self.coordinator.store.devices) != self.links.macs:
            self.relink()  # a device was admitted or removed: its links follow
        macs = self.linked_macs
        if not macs:
            return
        samples = {
            mac: Sample(data.time, view.tx_bytes, view.rx_bytes, view.domains)
            for mac in macs
            if (view := data.devices.get(mac)) is not None
        }
        records, mismatches = self.correlator.observe(data.time, time.time(), samples)
        for record in records:
            self.log.append(record)
            self.last[record.mac] = record
            self.hass.bus.async_fire(EVENT_DEVICE_ACTIVITY, self._event_data(record))
        for mismatch in mismatches:
            self._fire_mismatch(mismatch, data)
        # The learned figures change every minute; the write is coalesced.
        self.store.async_delay_save(self._data, SAVE_DELAY)

    # -- outputs ------------------------------------------------------------

    def _event_data(self, record: ActivityRecord) -> dict[str, Any]:
        # Flat fields: easy to use in automation templates and to export.
        return {
            "entity_id": record.entity_id,
            "old_state": record.old_state,
            "new_state": record.new_state,
            "device_id": self.coordinator.devices.device_id(record.mac),
            "mac": record.mac,
            "changed_at": dt_util.utc_from_timestamp(record.changed_at).isoformat(),
            "bytes_up_before": record.before.bytes_up,
            "bytes_down_before": record.before.bytes_down,
            "seconds_before": round(record.before.seconds, 3),
            "bytes_up_after": record.after.bytes_up,
            "bytes_down_after": record.after.bytes_down,
            "seconds_after": round(record.after.seconds, 3),
            "window_start": record.before.start,
            "window_change": record.after.start,
            "window_end": record.after.end,
            "new_destinations": list(record.new_destinations),
            "new_destinations_before": list(record.new_destinations_before),
            "message": describe_record(self.hass, record),
        }

    def _fire_mismatch(self, mismatch: Mismatch, data: TotemData) -> None:
        view = data.devices.get(mismatch.mac)
        name = view.name if view is not None else mismatch.mac
        severity, message = describe_mismatch(self.hass, mismatch, name)
        # The engine alerts' path (alerts.py): the totem_anomaly event, the device's
        # Anomaly event entity and its alert score.
        alert = Alert(
            time=mismatch.time,
            mac=mismatch.mac,
            kind=KIND_ACTIVITY_MISMATCH,
            severity=severity,
            message=message,
            details={
                "reason": mismatch.kind,
                "entity_id": mismatch.entity_id,
                "state": mismatch.state,
                "bytes_up": mismatch.bytes_up,
                "seconds": round(mismatch.seconds, 3),
            },
        )
        self.coordinator.async_publish_alert(AlertMessage(alert=alert))

    def diagnostics(self) -> dict[str, Any]:
        return async_redact_data(
            {
                "linked_entities": sorted(self.links.entities),
                "user_links": len(self.user_links),
                "log_size": len(self.log),
                "log": [record.to_json() for record in list(self.log)[-DIAGNOSTICS_LOG:]],
                "learned_states": len(self.correlator.stats),
                "pending_changes": len(self.correlator.pending),
            },
            TO_REDACT,
        )


def compute_links(
    hass: HomeAssistant, coordinator: TotemCoordinator, user_links: dict[str, str]
) -> dict[str, str]:
    """Entity -> primary MAC of the TOTEM device it belongs with."""
    by_mac = {
        member: primary
        for primary, record in coordinator.store.devices.items()
        for member in {primary, *record.macs}
    }
    devices = dr.async_get(hass)
    entities = er.async_get(hass)
    links: dict[str, str] = {}
    for device in all_devices(devices):
        primary = next(
            (
                by_mac[mac]
                for kind, mac in device.connections
                if kind == dr.CONNECTION_NETWORK_MAC and mac in by_mac
            ),
            None,
        )
        if primary is None:
            continue
        for entity in er.async_entries_for_device(entities, device.id):
            if entity.platform != DOMAIN and entity.domain in LINKABLE_DOMAINS:
                links[entity.entity_id] = primary
    for entity_id, mac in user_links.items():
        if mac in by_mac:
            links[entity_id] = by_mac[mac]
    return links


def _label(hass: HomeAssistant, entity_id: str) -> str:
    state = hass.states.get(entity_id)
    return str(state.attributes.get("friendly_name", entity_id)) if state else entity_id


def describe_record(hass: HomeAssistant, record: ActivityRecord) -> str:
    """The logbook line: what changed and what the network saw around it."""
    before = record.before.bytes_up + record.before.bytes_down
    after = record.after.bytes_up + record.after.bytes_down
    text = (
        f"{_label(hass, record.entity_id)} went from {record.old_state} to "
        f"{record.new_state}: {human_size(after)} of traffic in the minute after, "
        f"{human_size(before)} in the minute before"
    )
    if record.new_destinations:
        text += f"; new destinations: {', '.join(record.new_destinations[:3])}"
    return text


def describe_mismatch(hass: HomeAssistant, mismatch: Mismatch, name: str) -> tuple[Severity, str]:
    """Severity and a sentence a non-expert understands."""
    sent = human_size(mismatch.bytes_up)
    minutes = max(round(mismatch.seconds / 60), 1)
    span = "the last minute" if minutes == 1 else f"the last {minutes} minutes"
    if mismatch.kind == KIND_BURST:
        clock = dt_util.as_local(dt_util.utc_from_timestamp(mismatch.time)).strftime("%H:%M")
        return "info", (
            f"{name} suddenly sent {sent} in {span} around {clock}, a time of day when it "
            "is normally quiet, and none of its linked devices changed state."
        )
    entity_id = mismatch.entity_id or ""
    label = _label(hass, entity_id)
    privacy = mismatch.state == "on" and "privacy" in entity_id
    situation = f"{label} is in privacy mode" if privacy else f"{label} is {mismatch.state}"
    usual = (
        f" While {mismatch.state} it usually sends about {human_size(mismatch.usual)} a minute."
        if mismatch.usual is not None
        else ""
    )
    message = (
        f"{situation}, yet {name} sent {sent} over the network in {span}. "
        f"It may still be recording or streaming to the internet.{usual}"
    )
    return ("critical" if privacy else "warning"), message


async def async_setup_activity(
    hass: HomeAssistant, entry: ConfigEntry, coordinator: TotemCoordinator
) -> ActivityLog:
    """The entry's activity log, loaded and subscribed; saved and stopped on unload."""
    log = ActivityLog(hass, entry, coordinator)
    await log.async_load()
    log.async_start()
    entry.async_on_unload(log.async_stop)
    return log


async def async_remove_activity(hass: HomeAssistant, entry_id: str) -> None:
    store: Store[dict[str, Any]] = Store(
        hass, STORAGE_VERSION, f"{DOMAIN}.{entry_id}.activity", private=True
    )
    await store.async_remove()
