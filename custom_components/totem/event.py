"""The "Anomaly" event entity of each network device and of the TOTEM hub.

Event types are the alert kinds; every alert the device raises fires its
entity with the alert's severity, message and count. The hub's entity takes
the alerts of MACs that are not Home Assistant devices (a MAC flood's
spoofed sources). alerts.py routes the alerts; this module only shows them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from homeassistant.components.event import EventEntity, EventEntityDescription
from homeassistant.const import ATTR_RESTORED
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddEntitiesCallback

from .alerts import EVENT_TYPES, HUB_KEY, AlertRouter
from .coordinator import TotemCoordinator
from .data import TotemConfigEntry
from .entity import (
    TotemDeviceEntity,
    TotemDeviceEntityDescription,
    TotemHubEntity,
    TotemHubEntityDescription,
    add_device_entities,
)

# Events are pushed by the alert router's callback; nothing to serialise.
PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class TotemEventDescription(EventEntityDescription, TotemDeviceEntityDescription):
    """The alert event of a device (no state of its own to compute)."""


@dataclass(frozen=True, kw_only=True)
class TotemHubEventDescription(EventEntityDescription, TotemHubEntityDescription):
    """The alert event of the hub."""


# "anomaly" is the user's word (entity name, unique id): it stays.
DEVICE_ALERTS = TotemEventDescription(
    key="anomaly",
    translation_key="anomaly",
    event_types=EVENT_TYPES,
    value_fn=lambda _view: None,
)
HUB_ALERTS = TotemHubEventDescription(
    key="anomaly",
    translation_key="anomaly",
    event_types=EVENT_TYPES,
    value_fn=lambda _data: None,
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: TotemConfigEntry,
    async_add_entities: AddEntitiesCallback,
) -> None:
    coordinator = entry.runtime_data.coordinator
    alerts = entry.runtime_data.alerts
    async_add_entities([TotemHubAlertEvent(coordinator, HUB_ALERTS, alerts)])

    def factory(
        coordinator: TotemCoordinator, description: TotemEventDescription, mac: str
    ) -> TotemDeviceAlertEvent:
        return TotemDeviceAlertEvent(coordinator, description, mac, alerts)

    entry.async_on_unload(
        add_device_entities(coordinator, "event", (DEVICE_ALERTS,), factory, async_add_entities)
    )


class _AlertEvent(EventEntity):
    """Shows the alerts the router sends to its key (a device's MAC, or HUB_KEY).

    Its state is the time of its last alert, restored over a reload or restart;
    only a new alert may change it. The logbook shows any change between two
    states as "detected an event", so the entity is always available (a probe
    outage or a device missing from the first snapshot does not change when it
    last alerted) and drops the "unavailable" placeholder Home Assistant writes
    for an unloaded entity before it writes its restored state (a placeholder
    then the restored time would read as a new event on every reload).
    """

    _alerts: AlertRouter
    _alert_key: str
    # The recorder keeps when it alerted, the kind (event_type) and the severity; the
    # details (the message, counts, the device's own MAC...) are in the totem_anomaly
    # event and TOTEM's alert log, and would give every alert its own attributes row.
    _unrecorded_attributes = frozenset(
        {"mac", "message", "count", "time", "direction", "attribution"}
    )

    async def async_added_to_hass(self) -> None:
        await super().async_added_to_hass()
        placeholder = self.hass.states.get(self.entity_id)
        if placeholder is not None and placeholder.attributes.get(ATTR_RESTORED):
            self.hass.states.async_remove(self.entity_id)
        self.async_on_remove(self._alerts.subscribe(self._alert_key, self._on_alert))

    @callback
    def _on_alert(self, data: dict[str, Any]) -> None:
        # The bus event's fields except the kind, which is the event type itself.
        attributes = {k: v for k, v in data.items() if k not in ("kind", "device_id")}
        self._trigger_event(data["kind"], attributes)
        self.async_write_ha_state()


class TotemDeviceAlertEvent(TotemDeviceEntity, _AlertEvent):
    """Fires when the device raises an alert."""

    entity_description: TotemEventDescription

    def __init__(
        self,
        coordinator: TotemCoordinator,
        description: TotemEventDescription,
        mac: str,
        alerts: AlertRouter,
    ) -> None:
        super().__init__(coordinator, description, mac)
        self._alerts = alerts
        self._alert_key = mac

    @property
    def available(self) -> bool:
        return True  # see _AlertEvent


class TotemHubAlertEvent(TotemHubEntity, _AlertEvent):
    """Fires for alerts of MACs TOTEM did not make devices (spoofed sources)."""

    entity_description: TotemHubEventDescription
    _alert_key = HUB_KEY

    def __init__(
        self,
        coordinator: TotemCoordinator,
        description: TotemHubEventDescription,
        alerts: AlertRouter,
    ) -> None:
        super().__init__(coordinator, description)
        self._alerts = alerts

    @property
    def available(self) -> bool:
        return True  # see _AlertEvent
