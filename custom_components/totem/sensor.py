"""Traffic sensors per network device and health sensors of the hub."""

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
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddEntitiesCallback

from .activity import add_activity_sensors
from .const import COUNTER_MIN_WRITE_SECONDS
from .data import TotemConfigEntry
from .entity import (
    TotemDeviceEntity,
    TotemDeviceEntityDescription,
    TotemHubEntity,
    TotemHubEntityDescription,
    add_device_entities,
)
from .tracker import (
    VISIBILITY_FULL,
    VISIBILITY_OWN_TRAFFIC,
    VISIBILITY_UNKNOWN,
    DeviceView,
    TotemData,
)

PARALLEL_UPDATES = 0
TOP_TALKERS = 5


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
        suggested_unit_of_measurement=UnitOfInformation.MEGABYTES,
        suggested_display_precision=2,
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


async def async_setup_entry(
    hass: HomeAssistant,
    entry: TotemConfigEntry,
    async_add_entities: AddEntitiesCallback,
) -> None:
    coordinator = entry.runtime_data.coordinator
    async_add_entities(TotemHubSensor(coordinator, d) for d in HUB_SENSORS)
    entry.async_on_unload(
        add_device_entities(
            coordinator, "sensor", DEVICE_SENSORS, TotemDeviceSensor, async_add_entities
        )
    )
    entry.async_on_unload(
        add_device_entities(
            coordinator, "alert_score", (ALERT_SCORE,), TotemAlertScoreSensor, async_add_entities
        )
    )
    # "Traffic at last state change", only for devices linked to other entities.
    entry.async_on_unload(add_activity_sensors(coordinator, async_add_entities))


class TotemDeviceSensor(TotemDeviceEntity, SensorEntity):
    """A traffic sensor of one network device."""

    entity_description: TotemDeviceSensorDescription

    @property
    def native_value(self) -> Any:
        return self._value


# Alert score (anomalies.py): severity-weighted alerts of the last day. The Anomaly
# event entity already shows the last anomaly and its kind; a number ranks devices
# on a dashboard and suits history graphs and numeric_state triggers.
ALERT_SCORE = TotemDeviceSensorDescription(
    key="alert_score",
    translation_key="alert_score",
    state_class=SensorStateClass.MEASUREMENT,
    value_fn=lambda _view: None,  # from the alerts: TotemAlertScoreSensor
)


class TotemAlertScoreSensor(TotemDeviceSensor):
    """The device's alert score, from the alerts the coordinator received."""

    def _compute(self, data: TotemData) -> tuple[Any, dict[str, Any] | None]:
        if self._mac not in data.devices:
            return self._value, self._attrs
        return self.coordinator.anomalies.score(self._mac, data.time), None


class TotemHubSensor(TotemHubEntity, SensorEntity):
    """A sensor of the TOTEM hub."""

    entity_description: TotemHubSensorDescription
    # The busiest devices change on every snapshot: keep them out of the database.
    _unrecorded_attributes = frozenset({"devices"})

    @property
    def native_value(self) -> Any:
        return self._value
