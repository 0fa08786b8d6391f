"""Traffic sensors per network device, its alert score and the traffic at its linked
entities' last state change; health sensors of the hub."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import EntityCategory, UnitOfDataRate, UnitOfInformation
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddEntitiesCallback

from .activity import ActivityLog
from .alerts import AlertRouter
from .const import COUNTER_MIN_WRITE_SECONDS
from .coordinator import TotemCoordinator
from .data import TotemConfigEntry
from .entity import (
    TotemDeviceEntity,
    TotemDeviceEntityDescription,
    TotemHubEntity,
    TotemHubEntityDescription,
    add_device_entities,
)
from .inventory import (
    VISIBILITY_FULL,
    VISIBILITY_OWN_TRAFFIC,
    VISIBILITY_UNKNOWN,
    DeviceView,
    TotemData,
)
from .mesh import ProbeMesh

PARALLEL_UPDATES = 0
TOP_TALKERS = 5
# "Last seen" of an online device changes every minute; once in 15 is enough
# for a diagnostic, and going offline is written at once (see TotemLastSeenSensor).
LAST_SEEN_MIN_WRITE_SECONDS = 900.0
# Top talker: two streaming devices trade places on every snapshot (their rates
# swing by tens of percent from one interval to the next), so the leader keeps
# the title until another device talks this much more than it ...
TOP_TALKER_MARGIN = 1.5
# ... and passes at most once a minute (a text state: every change is a logbook
# line; the list of the busiest devices is an attribute, kept out of the recorder).
TOP_TALKER_MIN_HOLD_SECONDS = 60.0


@dataclass(frozen=True, kw_only=True)
class TotemDeviceSensorDescription(SensorEntityDescription, TotemDeviceEntityDescription):
    """A per-device sensor."""


@dataclass(frozen=True, kw_only=True)
class TotemHubSensorDescription(SensorEntityDescription, TotemHubEntityDescription):
    """A hub sensor."""


def _minute(ts: float | None) -> datetime | None:
    # Rounded to the minute: "last seen" of a chatty device would otherwise
    # be a new state (and a database row) on every snapshot.
    if ts is None:
        return None
    return datetime.fromtimestamp(int(ts // 60 * 60), UTC)


def _rate_sensor(key: str, value_fn: Callable[[DeviceView], Any]) -> TotemDeviceSensorDescription:
    """Upload/download rate: noisy, so disabled by default (the recorder pays per change)."""
    return TotemDeviceSensorDescription(
        key=key,
        translation_key=key,
        device_class=SensorDeviceClass.DATA_RATE,
        native_unit_of_measurement=UnitOfDataRate.KILOBITS_PER_SECOND,
        suggested_unit_of_measurement=UnitOfDataRate.KILOBITS_PER_SECOND,
        suggested_display_precision=1,
        state_class=SensorStateClass.MEASUREMENT,
        entity_registry_enabled_default=False,
        value_fn=value_fn,
    )


def _counter_sensor(
    key: str, value_fn: Callable[[DeviceView], Any]
) -> TotemDeviceSensorDescription:
    """Data sent/received: total_increasing, written at most once a minute."""
    return TotemDeviceSensorDescription(
        key=key,
        translation_key=key,
        device_class=SensorDeviceClass.DATA_SIZE,
        native_unit_of_measurement=UnitOfInformation.BYTES,
        # In kB: a sensor or a plug sends a few kB an hour, which 0.00 MB hid.
        suggested_unit_of_measurement=UnitOfInformation.KILOBYTES,
        suggested_display_precision=0,
        state_class=SensorStateClass.TOTAL_INCREASING,
        min_interval=COUNTER_MIN_WRITE_SECONDS,
        value_fn=value_fn,
    )


def _engine_counter(key: str) -> TotemHubSensorDescription:
    """A diagnostic counter of the probe's EngineStats (named like the field)."""
    return TotemHubSensorDescription(
        key=key,
        translation_key=key,
        entity_category=EntityCategory.DIAGNOSTIC,
        state_class=SensorStateClass.TOTAL_INCREASING,
        value_fn=lambda d: getattr(d.stats, key),
    )


DEVICE_SENSORS: tuple[TotemDeviceSensorDescription, ...] = (
    _rate_sensor("upload_rate", lambda v: v.upload_kbps),
    _rate_sensor("download_rate", lambda v: v.download_kbps),
    _counter_sensor("data_sent", lambda v: v.tx_bytes),
    _counter_sensor("data_received", lambda v: v.rx_bytes),
    TotemDeviceSensorDescription(
        key="remote_hosts",
        translation_key="remote_hosts",
        state_class=SensorStateClass.MEASUREMENT,
        entity_registry_enabled_default=False,
        value_fn=lambda v: v.remote_hosts,
    ),
    TotemDeviceSensorDescription(
        key="active_flows",
        translation_key="active_flows",
        state_class=SensorStateClass.MEASUREMENT,
        entity_registry_enabled_default=False,
        value_fn=lambda v: v.active_flows,
    ),
    TotemDeviceSensorDescription(
        key="last_seen",
        translation_key="last_seen",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        # A timestamp has no unit, so the logbook shows every change: while the
        # device is online its "last seen" is always just now, so it is written at
        # most every LAST_SEEN_MIN_WRITE_SECONDS, and at once when it goes offline
        # (the moment that matters). Presence is the device tracker's job; this
        # diagnostic sensor is off by default.
        entity_registry_enabled_default=False,
        min_interval=LAST_SEEN_MIN_WRITE_SECONDS,
        value_fn=lambda v: _minute(v.last_seen),
    ),
)


def _rate(view: DeviceView) -> float:
    return (view.upload_kbps or 0.0) + (view.download_kbps or 0.0)


def _top(data: TotemData) -> list[DeviceView]:
    busy = [v for v in data.devices.values() if _rate(v) > 0]
    return sorted(busy, key=_rate, reverse=True)[:TOP_TALKERS]


def _top_attrs(data: TotemData) -> dict[str, Any]:
    return {
        "devices": [
            {
                "name": v.name,
                "mac": v.mac,
                "upload_kbps": v.upload_kbps,
                "download_kbps": v.download_kbps,
            }
            for v in _top(data)
        ]
    }


HUB_SENSORS: tuple[TotemHubSensorDescription, ...] = (
    TotemHubSensorDescription(
        key="packets_per_second",
        translation_key="packets_per_second",
        native_unit_of_measurement="packets/s",
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda d: None if d.packets_per_second is None else round(d.packets_per_second),
    ),
    TotemHubSensorDescription(
        key="devices_online",
        translation_key="devices_online",
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda d: d.devices_online,
    ),
    TotemHubSensorDescription(
        key="top_talkers",
        translation_key="top_talkers",
        value_fn=lambda d: top[0].name if (top := _top(d)) else None,
        attrs_fn=_top_attrs,
    ),
    _engine_counter("kernel_dropped"),
    _engine_counter("flows_evicted"),
    _engine_counter("devices_evicted"),
    TotemHubSensorDescription(
        key="devices_not_admitted",
        translation_key="devices_not_admitted",
        entity_category=EntityCategory.DIAGNOSTIC,
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda d: d.not_admitted,
    ),
    TotemHubSensorDescription(
        key="visibility",
        translation_key="visibility",
        device_class=SensorDeviceClass.ENUM,
        options=[VISIBILITY_FULL, VISIBILITY_OWN_TRAFFIC, VISIBILITY_UNKNOWN],
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda d: d.visibility,
    ),
)


# Alert score (alerts.py): severity-weighted alerts of the last day. The Anomaly
# event entity already shows the last alert and its kind; a number ranks devices
# on a dashboard and suits history graphs and numeric_state triggers.
# A device two probes or more see: one total per direction (mesh.py says why the
# largest view, not the sum); the value comes from the mesh, not from one view.
ALL_PROBES_KEY = "all_probes"
ALL_PROBE_SENSORS: tuple[TotemDeviceSensorDescription, ...] = (
    _counter_sensor("data_sent_all_probes", lambda _v: None),
    _counter_sensor("data_received_all_probes", lambda _v: None),
)

ALERT_SCORE = TotemDeviceSensorDescription(
    key="alert_score",
    translation_key="alert_score",
    state_class=SensorStateClass.MEASUREMENT,
    value_fn=lambda _view: None,  # from the alert router: TotemAlertScoreSensor
)

ACTIVITY_KEY = "traffic_at_last_change"
# Data the device exchanged in the minute after a linked entity last changed
# (activity.py); only devices linked to other entities get one.
TRAFFIC_AT_LAST_CHANGE = TotemDeviceSensorDescription(
    key=ACTIVITY_KEY,
    translation_key=ACTIVITY_KEY,
    device_class=SensorDeviceClass.DATA_SIZE,
    native_unit_of_measurement=UnitOfInformation.BYTES,
    suggested_unit_of_measurement=UnitOfInformation.KILOBYTES,
    suggested_display_precision=1,
    state_class=SensorStateClass.MEASUREMENT,
    value_fn=lambda _view: None,  # from the activity log: TotemActivitySensor
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: TotemConfigEntry,
    async_add_entities: AddEntitiesCallback,
) -> None:
    runtime = entry.runtime_data
    coordinator = runtime.coordinator
    async_add_entities(
        (TotemTopTalkerSensor if d.key == "top_talkers" else TotemHubSensor)(coordinator, d)
        for d in HUB_SENSORS
    )

    def device_sensor(
        coordinator: TotemCoordinator, description: TotemDeviceSensorDescription, mac: str
    ) -> TotemDeviceSensor:
        cls = TotemLastSeenSensor if description.key == "last_seen" else TotemDeviceSensor
        return cls(coordinator, description, mac)

    entry.async_on_unload(
        add_device_entities(
            coordinator, "sensor", DEVICE_SENSORS, device_sensor, async_add_entities
        )
    )

    def alert_score(
        coordinator: TotemCoordinator, description: TotemDeviceSensorDescription, mac: str
    ) -> TotemAlertScoreSensor:
        return TotemAlertScoreSensor(coordinator, description, mac, runtime.alerts)

    entry.async_on_unload(
        add_device_entities(
            coordinator, "alert_score", (ALERT_SCORE,), alert_score, async_add_entities
        )
    )
    entry.async_on_unload(_add_activity_sensors(coordinator, runtime.activity, async_add_entities))
    entry.async_on_unload(_add_all_probe_sensors(coordinator, async_add_entities))


class TotemDeviceSensor(TotemDeviceEntity, SensorEntity):
    """A traffic sensor of one network device."""

    entity_description: TotemDeviceSensorDescription

    @property
    def native_value(self) -> Any:
        return self._value


class TotemLastSeenSensor(TotemDeviceSensor):
    """Throttled like a counter, except that going offline or coming back is written
    at once: that is when "last seen" tells something."""

    _online: bool | None = None

    def _refresh(self) -> bool:
        data: TotemData | None = self.coordinator.data
        view = data.devices.get(self._mac) if data is not None else None
        if view is not None and view.online != self._online:
            self._online = view.online
            self._written_at = None
        return super()._refresh()


class TotemAlertScoreSensor(TotemDeviceSensor):
    """The device's alert score, from the alerts the router saw."""

    def __init__(
        self,
        coordinator: TotemCoordinator,
        description: TotemDeviceSensorDescription,
        mac: str,
        alerts: AlertRouter,
    ) -> None:
        super().__init__(coordinator, description, mac)
        self._alerts = alerts

    def _compute(self, data: TotemData) -> tuple[Any, dict[str, Any] | None]:
        if self._mac not in data.devices:
            return self._value, self._attrs
        return self._alerts.score(self._mac, data.time), None


class TotemActivitySensor(TotemDeviceSensor):
    """Data the device exchanged in the minute after its linked entity last changed."""

    # Which entity changed and how is context: the recorder keeps only the figure.
    _unrecorded_attributes = frozenset(
        {
            "changed_entity",
            "old_state",
            "new_state",
            "changed_at",
            "bytes_up_before",
            "bytes_down_before",
            "bytes_up_after",
            "bytes_down_after",
            "new_destinations",
        }
    )

    def __init__(
        self,
        coordinator: TotemCoordinator,
        description: TotemDeviceSensorDescription,
        mac: str,
        activity: ActivityLog,
    ) -> None:
        super().__init__(coordinator, description, mac)
        self._activity = activity

    def _compute(self, data: TotemData) -> tuple[Any, dict[str, Any] | None]:
        record = self._activity.last.get(self._mac)
        if record is None:
            return None, None
        changed = datetime.fromtimestamp(record.changed_at, UTC)
        return record.after.bytes_up + record.after.bytes_down, {
            # Not "entity_id": Home Assistant reads that attribute as a group's members.
            "changed_entity": record.entity_id,
            "old_state": record.old_state,
            "new_state": record.new_state,
            "changed_at": changed.isoformat(),
            "bytes_up_before": record.before.bytes_up,
            "bytes_down_before": record.before.bytes_down,
            "bytes_up_after": record.after.bytes_up,
            "bytes_down_after": record.after.bytes_down,
            "new_destinations": list(record.new_destinations),
        }


def _add_activity_sensors(
    coordinator: TotemCoordinator, activity: ActivityLog, async_add_entities: AddEntitiesCallback
) -> Callable[[], None]:
    """A sensor for each linked device, now and when a link appears (the known-set way)."""

    @callback
    def add_new() -> None:
        # None until the probe's first snapshot, whatever the coordinator's typing says.
        data: TotemData | None = coordinator.data
        if data is None:
            return
        new = [
            mac
            for mac in sorted(activity.linked_macs | set(activity.last))
            if mac in data.devices and (ACTIVITY_KEY, mac) not in coordinator.known
        ]
        for mac in new:
            coordinator.known.add((ACTIVITY_KEY, mac))
        if new:
            async_add_entities(
                TotemActivitySensor(coordinator, TRAFFIC_AT_LAST_CHANGE, mac, activity)
                for mac in new
            )

    add_new()
    return coordinator.async_add_listener(add_new)


class TotemAllProbesSensor(TotemDeviceSensor):
    """What a device sent or received as the probes that see it saw it (mesh.py)."""

    _unrecorded_attributes = frozenset(
        {"probes", "per_probe_sent", "per_probe_received", "total_rule"}
    )

    def __init__(
        self,
        coordinator: TotemCoordinator,
        description: TotemDeviceSensorDescription,
        mac: str,
        mesh: ProbeMesh,
    ) -> None:
        super().__init__(coordinator, description, mac)
        self._mesh = mesh

    async def async_added_to_hass(self) -> None:
        await super().async_added_to_hass()
        # Another probe's snapshot changes the total too.
        self.async_on_remove(self._mesh.async_add_listener(self._handle_coordinator_update))

    def _compute(self, data: TotemData) -> tuple[Any, dict[str, Any] | None]:
        totals = self._mesh.totals(self._mac)
        if totals is None:
            return self._value, self._attrs
        sent = self.entity_description.key == "data_sent_all_probes"
        return (totals.tx_bytes if sent else totals.rx_bytes), totals.attributes()


def _add_all_probe_sensors(
    coordinator: TotemCoordinator, async_add_entities: AddEntitiesCallback
) -> Callable[[], None]:
    """Totals for each device this entry shares with another, from the entry that owns
    them (one pair per device, not one per probe)."""
    mesh = coordinator.mesh

    @callback
    def add_new() -> None:
        data: TotemData | None = coordinator.data
        if data is None:
            return
        new = [
            mac
            for mac in sorted(mesh.shared.intersection(data.devices))
            if (ALL_PROBES_KEY, mac) not in coordinator.known
            and mesh.owner(mac) == coordinator.entry_id
        ]
        for mac in new:
            coordinator.known.add((ALL_PROBES_KEY, mac))
        if new:
            async_add_entities(
                TotemAllProbesSensor(coordinator, description, mac, mesh)
                for mac in new
                for description in ALL_PROBE_SENSORS
            )

    add_new()
    unsubscribe = (coordinator.async_add_listener(add_new), mesh.async_add_listener(add_new))

    def remove() -> None:
        for unsub in unsubscribe:
            unsub()

    return remove


class TotemHubSensor(TotemHubEntity, SensorEntity):
    """A sensor of the TOTEM hub."""

    entity_description: TotemHubSensorDescription
    # The busiest devices change on every snapshot: keep them out of the database.
    _unrecorded_attributes = frozenset({"devices"})

    @property
    def native_value(self) -> Any:
        return self._value


class TotemTopTalkerSensor(TotemHubSensor):
    """The busiest device, with hysteresis: the leader stays until another device talks
    TOP_TALKER_MARGIN times more, or it falls out of the busy list."""

    _leader: str | None = None
    _since: float = 0.0

    def _compute(self, data: TotemData) -> tuple[Any, dict[str, Any] | None]:
        top = _top(data)
        attrs = _top_attrs(data)
        if not top:
            self._leader = None
            return None, attrs
        leader = next((v for v in top if v.mac == self._leader), None)
        held = leader is not None and 0 <= data.time - self._since < TOP_TALKER_MIN_HOLD_SECONDS
        if leader is None or (not held and _rate(top[0]) > TOP_TALKER_MARGIN * _rate(leader)):
            leader = top[0]
        if leader.mac != self._leader:
            self._leader, self._since = leader.mac, data.time
        return leader.name, attrs
