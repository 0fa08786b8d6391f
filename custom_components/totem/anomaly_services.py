"""Service actions totem.reset_baseline, totem.snooze_anomaly and totem.set_thresholds
(admin only).

A call names a device (a TOTEM device, or the same device as another
integration shows it) or a MAC; every MAC of the device gets the probe's
``reset_baseline`` command, so the engine forgets what it learned and learns
the device again for the learning period. Refusals are translated errors.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from datetime import timedelta
from typing import Any, Final

import voluptuous as vol
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.service import async_register_admin_service

from .compat import device_config_entries
from .const import DOMAIN
from .coordinator import TotemCoordinator
from .data import TotemConfigEntry
from .engine.anomaly import Thresholds
from .engine.enforce import EnforceError, parse_mac
from .engine.model import ALERT_KINDS
from .engine.protocol import Command, ResetBaseline, SetThresholds, Snooze
from .probe_process import ProbeNotRunning

SERVICE_RESET_BASELINE: Final = "reset_baseline"
SERVICE_SNOOZE: Final = "snooze_anomaly"
SERVICE_THRESHOLDS: Final = "set_thresholds"
ATTR_VALUES: Final = "values"
THRESHOLD_NAMES: Final = tuple(f.name for f in fields(Thresholds))
ATTR_DEVICE_ID: Final = "device_id"
ATTR_MAC: Final = "mac"
ATTR_KIND: Final = "kind"
ATTR_DURATION: Final = "duration"
DEFAULT_SNOOZE = timedelta(hours=24)

RESET_BASELINE_SCHEMA: Final = vol.All(
    vol.Schema(
        {
            vol.Exclusive(ATTR_DEVICE_ID, "target"): cv.string,
            vol.Exclusive(ATTR_MAC, "target"): cv.string,
        }
    ),
    cv.has_at_least_one_key(ATTR_DEVICE_ID, ATTR_MAC),
)


SNOOZE_SCHEMA: Final = vol.All(
    vol.Schema(
        {
            vol.Exclusive(ATTR_DEVICE_ID, "target"): cv.string,
            vol.Exclusive(ATTR_MAC, "target"): cv.string,
            # No kind: every kind of alert for the device.
            vol.Optional(ATTR_KIND): vol.In(ALERT_KINDS),
            vol.Optional(ATTR_DURATION, default=DEFAULT_SNOOZE): vol.All(
                cv.time_period, cv.positive_timedelta
            ),
        }
    ),
    cv.has_at_least_one_key(ATTR_DEVICE_ID, ATTR_MAC),
)


THRESHOLDS_SCHEMA: Final = vol.All(
    vol.Schema(
        {
            vol.Exclusive(ATTR_DEVICE_ID, "target"): cv.string,
            vol.Exclusive(ATTR_MAC, "target"): cv.string,
            # Empty: the device goes back to the defaults.
            vol.Required(ATTR_VALUES): {
                vol.In(THRESHOLD_NAMES): vol.All(vol.Coerce(float), vol.Range(min=0))
            },
        }
    ),
    cv.has_at_least_one_key(ATTR_DEVICE_ID, ATTR_MAC),
)


def async_setup_anomaly_services(hass: HomeAssistant) -> None:
    """Register the service once; later entries find it in place."""
    if hass.services.has_service(DOMAIN, SERVICE_RESET_BASELINE):
        return

    async def reset_baseline(call: ServiceCall) -> None:
        await _send_each(hass, call, lambda mac: ResetBaseline(mac=mac))

    async def snooze(call: ServiceCall) -> None:
        """Alert noise is users' first complaint: silence a kind for a device for a while."""
        seconds = call.data[ATTR_DURATION].total_seconds()
        kind = call.data.get(ATTR_KIND)
        await _send_each(hass, call, lambda mac: Snooze(mac=mac, kind=kind, seconds=seconds))

    async def set_thresholds(call: ServiceCall) -> None:
        """A device that is noisy by design (a NAS scanning its shares) gets its own bar."""
        values = call.data[ATTR_VALUES] or None
        await _send_each(hass, call, lambda mac: SetThresholds(mac=mac, values=values))

    async_register_admin_service(
        hass, DOMAIN, SERVICE_RESET_BASELINE, reset_baseline, RESET_BASELINE_SCHEMA
    )
    async_register_admin_service(hass, DOMAIN, SERVICE_SNOOZE, snooze, SNOOZE_SCHEMA)
    async_register_admin_service(
        hass, DOMAIN, SERVICE_THRESHOLDS, set_thresholds, THRESHOLDS_SCHEMA
    )


async def _send_each(
    hass: HomeAssistant, call: ServiceCall, command_for: Callable[[str], Command]
) -> None:
    """Send the command to the probe once for every MAC of the call's device; a
    refusal comes back as a translated error naming the probe's reason."""
    coordinator, macs = _resolve(hass, call)
    for mac in macs:
        try:
            ack = await coordinator.probe.request(command_for(mac))
        except ProbeNotRunning:
            raise HomeAssistantError(
                translation_domain=DOMAIN, translation_key="probe_not_running"
            ) from None
        if not ack.ok:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="command_refused",
                translation_placeholders={"mac": mac, "message": ack.message or ack.error or ""},
            )


def _coordinators(hass: HomeAssistant) -> dict[str, TotemCoordinator]:
    entries: list[TotemConfigEntry] = hass.config_entries.async_entries(DOMAIN)
    return {
        entry.entry_id: entry.runtime_data.coordinator
        for entry in entries
        if entry.state is ConfigEntryState.LOADED
    }


def _resolve(hass: HomeAssistant, call: ServiceCall) -> tuple[TotemCoordinator, tuple[str, ...]]:
    """The coordinator whose probe learns the device, and the device's MACs."""
    coordinators = _coordinators(hass)
    if not coordinators:
        raise ServiceValidationError(translation_domain=DOMAIN, translation_key="not_loaded")
    if ATTR_MAC in call.data:
        mac = _canonical(call.data[ATTR_MAC])
        return _knowing(coordinators, (mac,)), (mac,)
    device_id: str = call.data[ATTR_DEVICE_ID]
    device = dr.async_get(hass).async_get(device_id)
    if device is None:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="device_not_found",
            translation_placeholders={"device_id": device_id},
        )
    macs = tuple(
        sorted(_canonical(v) for kind, v in device.connections if kind == dr.CONNECTION_NETWORK_MAC)
    )
    if not macs:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="baseline_device_without_mac",
            translation_placeholders={"device": device.name_by_user or device.name or ""},
        )
    owner = next(
        (coordinators[e] for e in device_config_entries(device) if e in coordinators), None
    )
    return owner or _knowing(coordinators, macs), macs


def _knowing(coordinators: dict[str, TotemCoordinator], macs: tuple[str, ...]) -> TotemCoordinator:
    """The entry that knows one of MACS, else the first one (its probe may see it)."""
    for coordinator in coordinators.values():
        known = {m for record in coordinator.store.devices.values() for m in record.macs}
        if known.union(coordinator.store.devices) & set(macs):
            return coordinator
    return next(iter(coordinators.values()))


def _canonical(text: Any) -> str:
    try:
        return parse_mac(str(text))
    except EnforceError as err:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="invalid_mac",
            translation_placeholders={"mac": str(text), "message": err.message},
        ) from None
