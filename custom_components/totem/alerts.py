"""Alerts become Home Assistant events: the router, one per config entry.

The router subscribes to the coordinator's alerts (the probe's, and the
activity log's mismatches), each published after the snapshot that admitted
its device, so each alert can name its Home Assistant device. It then

- fires ``totem_anomaly`` on the bus with the device's ``device_id``: the
  device that raised it when TOTEM admitted it, else the TOTEM hub device
  (a MAC flood's spoofed sources never become devices);
- hands the alert to the device's "Anomaly" event entity (event.py); an
  alert for a device admitted in this very snapshot arrives before its entity
  exists, so the last one waits for the entity to subscribe;
- keeps the recent alerts for the "Alert score" sensor and diagnostics, in a
  Home Assistant store too, so the score survives a reload or restart (the
  probe does not send old alerts again).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.storage import Store

from .const import DOMAIN, EVENT_ANOMALY, EVENT_DEVICE_ACTIVITY
from .coordinator import TotemCoordinator
from .engine.messages import AlertMessage
from .engine.model import ALERT_KINDS, Alert

__all__ = ["EVENT_ANOMALY", "EVENT_DEVICE_ACTIVITY", "EVENT_TYPES", "AlertRouter"]

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
# At most this many new alerts a minute reach the bus and the event entities; past
# it they are kept (score, diagnostics) and counted in ``rate_limited``. A real
# incident is a handful of alerts; more is a storm, which the engine folds into one
# counted alert, and Home Assistant must not write thousands of states for it.
RATE_LIMIT: Final = 20
RATE_WINDOW: Final = 60.0

HUB_KEY: Final = ""  # the subscriber key of the hub's event entity

STORE_VERSION: Final = 1
# Alerts are rare (the engine folds repeats), so a write every few seconds at most
# costs nothing, and a crash loses at most that much of the score.
STORE_SAVE_DELAY: Final = 5.0


def _alert_store(hass: HomeAssistant, entry_id: str) -> Store[dict[str, Any]]:
    return Store(hass, STORE_VERSION, f"{DOMAIN}.{entry_id}.alerts")


async def async_remove_alerts(hass: HomeAssistant, entry_id: str) -> None:
    """Deleting the entry deletes its remembered alerts."""
    await _alert_store(hass, entry_id).async_remove()


type EventListener = Callable[[dict[str, Any]], None]


@dataclass(frozen=True, slots=True)
class RoutedAlert:
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
            "direction": alert.direction,
            "attribution": alert.attribution,
        }


class AlertRouter:
    """Routes one config entry's alerts to the bus, the entities and the score."""

    def __init__(self, hass: HomeAssistant, coordinator: TotemCoordinator) -> None:
        self.hass = hass
        self.coordinator = coordinator
        self.recent: deque[RoutedAlert] = deque(maxlen=RECENT_ALERTS)
        self._listeners: dict[str, EventListener] = {}
        self._pending: dict[str, dict[str, Any]] = {}
        self._fired: deque[float] = deque(maxlen=RATE_LIMIT)  # monotonic times
        self.rate_limited = 0  # alerts kept but not fired (diagnostics)
        self._store = _alert_store(hass, coordinator.entry_id)

    async def async_load(self) -> None:
        """The alerts kept before the reload or restart (none fires again).

        A damaged entry is skipped, never a failed setup: the score only loses it.
        """
        data = await self._store.async_load()
        rows = data.get("recent") if isinstance(data, dict) else None
        for row in rows if isinstance(rows, list) else []:
            try:
                alert = Alert.from_json(row["alert"])
                owner = row["device_mac"]
                if not isinstance(owner, str | None) or not isinstance(alert.time, float | int):
                    continue
            except (KeyError, TypeError, ValueError):
                continue
            self.recent.append(RoutedAlert(alert, owner))

    async def async_flush(self) -> None:
        """Write what a delayed save still holds (on unload: the reloaded entry reads it)."""
        await self._store.async_save(self._stored())

    def _save(self) -> None:
        self._store.async_delay_save(self._stored, STORE_SAVE_DELAY)

    def _stored(self) -> dict[str, Any]:
        return {
            "recent": [
                {"alert": r.alert.to_json(), "device_mac": r.device_mac} for r in self.recent
            ]
        }

    @callback
    def async_start(self) -> CALLBACK_TYPE:
        """Subscribe to the coordinator's alerts; the returned callback unsubscribes."""
        return self.coordinator.async_subscribe_alerts(self._on_alert)

    @callback
    def _on_alert(self, message: AlertMessage) -> None:
        if message.update:
            self._update_count(message.alert)
        else:
            self._route(message.alert)

    def _update_count(self, update: Alert) -> None:
        """Repeats inside the engine's cooldown raise a known alert's count; no new event."""
        for record in self.recent:
            alert = record.alert
            if (alert.mac, alert.kind, alert.time) == (update.mac, update.kind, update.time):
                alert.count = update.count
                alert.details = update.details
                alert.message = update.message  # a storm's message tells its count
                self._save()

    def _route(self, alert: Alert) -> None:
        """A new alert: once on the bus and once on its event entity."""
        owner = self.coordinator.inventory.owner(alert.mac)
        record = RoutedAlert(alert, owner)
        self.recent.append(record)
        self._save()
        devices = self.coordinator.devices.device_ids()
        hub_id = self.coordinator.hub_device_id
        device_id = devices.get(owner, hub_id) if owner is not None else hub_id
        data = record.event_data(device_id)
        now = time.monotonic()
        fired = self._fired
        if len(fired) == RATE_LIMIT and now - fired[0] < RATE_WINDOW:
            self.rate_limited += 1
            return
        fired.append(now)
        self.hass.bus.async_fire(EVENT_ANOMALY, data)
        self._deliver(owner if owner is not None and owner in devices else HUB_KEY, data)

    @callback
    def subscribe(self, key: str, listener: EventListener) -> CALLBACK_TYPE:
        """An event entity (a device's MAC, or HUB_KEY) listens; a waiting alert
        arrives at once."""
        self._listeners[key] = listener
        pending = self._pending.pop(key, None)
        if pending is not None:
            listener(pending)

        @callback
        def unsubscribe() -> None:
            if self._listeners.get(key) is listener:
                del self._listeners[key]

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
