"""Alerts from the probe become Home Assistant events (the glue, no entity here).

The coordinator hands every snapshot's new alerts to :class:`AnomalyHub`
after the snapshot's devices are registered, so each alert can name its Home
Assistant device. The hub then

- fires ``totem_anomaly`` on the bus with the device's ``device_id``: the
  device that raised it when TOTEM admitted it, else the TOTEM hub device
  (a MAC flood's spoofed sources never become devices);
- hands the alert to the device's "Anomaly" event entity (event.py); an
  alert for a device admitted in this very snapshot arrives before its entity
  exists, so the last one waits for the entity to subscribe;
- keeps the recent alerts for the "Alert score" sensor and diagnostics.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr

from .const import DOMAIN
from .engine.model import ALERT_KINDS, Alert

if TYPE_CHECKING:
    from .coordinator import TotemCoordinator

EVENT_ANOMALY: Final = f"{DOMAIN}_anomaly"
EVENT_DEVICE_ACTIVITY: Final = f"{DOMAIN}_device_activity"

# The event entities' types: every kind the engine raises (an event entity
# refuses a type it did not declare).
EVENT_TYPES: Final = list(ALERT_KINDS)

# Alert score: severity weights summed over a day of alerts. A critical alert
# outweighs a handful of informational ones, so sorting devices by score puts
# the one to look at first on top.
SEVERITY_WEIGHT: Final = {"info": 1, "warning": 3, "critical": 10}
SCORE_WINDOW: Final = 86400.0
# Bounds memory whatever the engine sends (its own dedup keeps this far lower).
RECENT_ALERTS: Final = 200

HUB: Final = ""  # the subscriber key of the hub's event entity

type AlertListener = Callable[[dict[str, Any]], None]


@dataclass(frozen=True, slots=True)
class AnomalyRecord:
    """One alert as Home Assistant saw it: who (device) and what (the alert)."""

    alert: Alert
    device_mac: str | None  # the admitted device it belongs to; None = hub

    def event_data(self, device_id: str | None) -> dict[str, Any]:
        alert = self.alert
        return {
            "device_id": device_id,
            "mac": alert.mac,
            "kind": alert.kind,
            "severity": alert.severity,
            "message": alert.message,
            "count": alert.count,
            "time": alert.time,
        }


class AnomalyHub:
    """Routes one config entry's alerts to the bus, the entities and the score."""

    def __init__(self, hass: HomeAssistant, coordinator: TotemCoordinator) -> None:
        self.hass = hass
        self.coordinator = coordinator
        self.recent: deque[AnomalyRecord] = deque(maxlen=RECENT_ALERTS)
        self._listeners: dict[str, AlertListener] = {}
        self._pending: dict[str, dict[str, Any]] = {}

    @callback
    def update_counts(self, updates: list[Alert]) -> None:
        """Repeats inside the engine's cooldown raise a known alert's count; no new event."""
        for update in updates:
            for record in self.recent:
                alert = record.alert
                if (alert.mac, alert.kind, alert.time) == (update.mac, update.kind, update.time):
                    alert.count = update.count
                    alert.details = update.details

    @callback
    def handle(self, alerts: list[Alert]) -> None:
        """The snapshot's new alerts: once each on the bus and on the entities."""
        if not alerts:
            return
        devices = self._device_ids()
        hub_id = self.coordinator.hub_device_id
        for alert in alerts:
            owner = self._owner(alert.mac)
            record = AnomalyRecord(alert, owner)
            self.recent.append(record)
            device_id = devices.get(owner, hub_id) if owner is not None else hub_id
            data = record.event_data(device_id)
            self.hass.bus.async_fire(EVENT_ANOMALY, data)
            self._deliver(owner if owner is not None and owner in devices else HUB, data)

    @callback
    def subscribe(self, mac: str, listener: AlertListener) -> Callable[[], None]:
        """An event entity (``mac``, or HUB) listens; a waiting alert arrives at once."""
        self._listeners[mac] = listener
        pending = self._pending.pop(mac, None)
        if pending is not None:
            listener(pending)

        @callback
        def unsubscribe() -> None:
            if self._listeners.get(mac) is listener:
                del self._listeners[mac]

        return unsubscribe

    def score(self, mac: str, now: float) -> int:
        """Severity-weighted alerts of the device within the last day (alert time)."""
        return sum(
            SEVERITY_WEIGHT.get(r.alert.severity, 1)
            for r in self.recent
            if r.device_mac == mac and now - r.alert.time < SCORE_WINDOW
        )

    def diagnostics(self, mac: str | None = None) -> list[dict[str, Any]]:
        """Recent alerts (of one device's MAC, or all), oldest first, for diagnostics.

        Without message and details: they name hosts, addresses and domains,
        which diagnostics shared in an issue must not reveal.
        """
        return [
            {
                "time": r.alert.time,
                "mac": r.alert.mac,
                "device": "hub" if r.device_mac is None else "device",
                "kind": r.alert.kind,
                "severity": r.alert.severity,
                "count": r.alert.count,
            }
            for r in self.recent
            if mac is None or r.device_mac == mac
        ]

    def _deliver(self, key: str, data: dict[str, Any]) -> None:
        listener = self._listeners.get(key)
        if listener is None:
            # Only the latest counts: the entity shows one event anyway.
            self._pending[key] = data
        else:
            listener(data)

    def _owner(self, mac: str) -> str | None:
        """The admitted device a MAC belongs to (merged MACs count), or None."""
        devices = self.coordinator.store.devices
        if mac in devices:
            return mac
        for primary, record in devices.items():
            if mac in record.macs:
                return primary
        return None

    def _device_ids(self) -> dict[str | None, str]:
        """Home Assistant device id by the primary MAC of this entry's devices."""
        registry = dr.async_get(self.hass)
        entry_id = self.coordinator.config_entry.entry_id
        found: dict[str | None, str] = {}
        for device in dr.async_entries_for_config_entry(registry, entry_id):
            mac = self.coordinator.primary_mac(device)
            if mac is not None:
                found[mac] = device.id
        return found
