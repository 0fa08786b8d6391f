"""Service actions totem.block_device and totem.unblock_device (admin only).

A call names a device (any Home Assistant device with a MAC connection: a
TOTEM device, or the same device as another integration sees it) or a MAC.
Refusals come back as translated errors, one translation key per reason.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Final

import voluptuous as vol
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.service import async_register_admin_service

from .blocking import BlockManager, enforce_error
from .compat import device_config_entries
from .const import DOMAIN
from .data import TotemConfigEntry
from .engine.enforce import EnforceError, parse_mac

SERVICE_BLOCK: Final = "block_device"
SERVICE_UNBLOCK: Final = "unblock_device"
ATTR_DEVICE_ID: Final = "device_id"
ATTR_MAC: Final = "mac"
ATTR_DURATION: Final = "duration"

_TARGET: dict[vol.Marker, Any] = {
    vol.Exclusive(ATTR_DEVICE_ID, "target"): cv.string,
    vol.Exclusive(ATTR_MAC, "target"): cv.string,
}
BLOCK_SCHEMA: Final = vol.All(
    vol.Schema({**_TARGET, vol.Optional(ATTR_DURATION): cv.time_period}),
    cv.has_at_least_one_key(ATTR_DEVICE_ID, ATTR_MAC),
)
UNBLOCK_SCHEMA: Final = vol.All(
    vol.Schema(_TARGET), cv.has_at_least_one_key(ATTR_DEVICE_ID, ATTR_MAC)
)


def async_setup_services(hass: HomeAssistant) -> None:
    """Register the services once; later entries find them in place."""
    if hass.services.has_service(DOMAIN, SERVICE_BLOCK):
        return

    async def block(call: ServiceCall) -> None:
        manager, macs = _resolve(hass, call)
        duration: timedelta | None = call.data.get(ATTR_DURATION)
        seconds = None if duration is None else duration.total_seconds()
        for mac in macs:
            await manager.async_block(mac, seconds)

    async def unblock(call: ServiceCall) -> None:
        manager, macs = _resolve(hass, call)
        for mac in macs:
            await manager.async_unblock(mac)

    async_register_admin_service(hass, DOMAIN, SERVICE_BLOCK, block, BLOCK_SCHEMA)
    async_register_admin_service(hass, DOMAIN, SERVICE_UNBLOCK, unblock, UNBLOCK_SCHEMA)


def _managers(hass: HomeAssistant) -> dict[str, BlockManager]:
    """Loaded entries' BlockManagers, by entry id."""
    found: dict[str, BlockManager] = {}
    entries: list[TotemConfigEntry] = hass.config_entries.async_entries(DOMAIN)
    for entry in entries:
        if entry.state is ConfigEntryState.LOADED and entry.runtime_data.blocking is not None:
            found[entry.entry_id] = entry.runtime_data.blocking
    return found


def _resolve(hass: HomeAssistant, call: ServiceCall) -> tuple[BlockManager, tuple[str, ...]]:
    """The BlockManager to use and the MACs the call means."""
    managers = _managers(hass)
    if not managers:
        raise ServiceValidationError(translation_domain=DOMAIN, translation_key="not_loaded")
    if ATTR_DEVICE_ID in call.data:
        device_id = call.data[ATTR_DEVICE_ID]
        device = dr.async_get(hass).async_get(device_id)
        if device is None:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="device_not_found",
                translation_placeholders={"device_id": device_id},
            )
        macs = tuple(
            sorted(value for kind, value in device.connections if kind == dr.CONNECTION_NETWORK_MAC)
        )
        if not macs:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="device_without_mac",
                translation_placeholders={"device": device.name_by_user or device.name or ""},
            )
        owner = next((managers[e] for e in device_config_entries(device) if e in managers), None)
        return owner or _first(managers, macs), tuple(_canonical(mac) for mac in macs)
    mac = _canonical(call.data[ATTR_MAC])
    return _first(managers, (mac,)), (mac,)


def _first(managers: dict[str, BlockManager], macs: tuple[str, ...]) -> BlockManager:
    """The entry that knows one of MACS (inventory or blocks), else the first entry."""
    for manager in managers.values():
        known = set(manager.entry.runtime_data.coordinator.store.devices) | set(manager.blocked)
        if known & set(macs):
            return manager
    return next(iter(managers.values()))


def _canonical(text: str) -> str:
    try:
        return parse_mac(text)
    except EnforceError as err:
        raise enforce_error(err, text) from None
