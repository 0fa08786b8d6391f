"""Logbook lines for TOTEM's bus events: alerts (totem_anomaly) and device activity.

The entries name the Home Assistant device the event carries (``device_id``),
so they also show on that device's page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from homeassistant.components.logbook.const import (
    LOGBOOK_ENTRY_ENTITY_ID,
    LOGBOOK_ENTRY_MESSAGE,
    LOGBOOK_ENTRY_NAME,
)
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import device_registry as dr

from .const import DOMAIN, EVENT_ANOMALY, EVENT_DEVICE_ACTIVITY

FALLBACK_NAME = "TOTEM"


def _device_name(hass: HomeAssistant, device_id: Any) -> str:
    if isinstance(device_id, str):
        device = dr.async_get(hass).async_get(device_id)
        if device is not None:
            return device.name_by_user or device.name or FALLBACK_NAME
    return FALLBACK_NAME


def describe_alert(hass: HomeAssistant, data: dict[str, Any]) -> dict[str, str]:
    kind = str(data.get("kind", "anomaly")).replace("_", " ")
    severity = str(data.get("severity", "info"))
    message = f"raised a {kind} alert ({severity})"
    if detail := data.get("message"):
        message += f": {detail}"
    return {
        LOGBOOK_ENTRY_NAME: _device_name(hass, data.get("device_id")),
        LOGBOOK_ENTRY_MESSAGE: message,
    }


def describe_activity(hass: HomeAssistant, data: dict[str, Any]) -> dict[str, str]:
    # Fired by the activity log (another module); described generically so a field
    # added there needs no change here.
    entity_id = data.get("entity_id")
    detail = data.get("message")
    if isinstance(detail, str) and detail:
        message = detail
    elif isinstance(entity_id, str):
        message = f"network activity around a change of {entity_id}"
    else:
        message = "network activity around a state change"
    entry = {
        LOGBOOK_ENTRY_NAME: _device_name(hass, data.get("device_id")),
        LOGBOOK_ENTRY_MESSAGE: message,
    }
    if isinstance(entity_id, str):
        entry[LOGBOOK_ENTRY_ENTITY_ID] = entity_id
    return entry


@callback
def async_describe_events(
    hass: HomeAssistant,
    async_describe_event: Callable[[str, str, Callable[[Event], dict[str, str]]], None],
) -> None:
    """Describe TOTEM's events to the logbook."""

    @callback
    def alert(event: Event) -> dict[str, str]:
        return describe_alert(hass, dict(event.data))

    @callback
    def activity(event: Event) -> dict[str, str]:
        return describe_activity(hass, dict(event.data))

    async_describe_event(DOMAIN, EVENT_ANOMALY, alert)
    async_describe_event(DOMAIN, EVENT_DEVICE_ACTIVITY, activity)
