"""Config entry setup, unload and removal (the entry points __init__ exports).

Setup builds every part of the runtime data before the entry gets it: the
coordinator (the publisher) and its subscribers, the alert router, the
activity log and blocking; then the probe starts and the platforms load.
"""

from __future__ import annotations

import logging
from functools import partial
from pathlib import Path

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.typing import ConfigType

from .activity import async_remove_activity, async_setup_activity
from .alerts import AlertRouter
from .blocking import async_remove_blocking, async_setup_blocking
from .const import DOMAIN
from .coordinator import TotemCoordinator, engine_state_file
from .data import TotemConfigEntry, TotemRuntimeData
from .discovery import async_setup_discovery
from .options import TotemConfig
from .services import async_setup_services
from .store import InventoryStore

_LOGGER = logging.getLogger(__package__)

PLATFORMS: list[Platform] = [
    Platform.BINARY_SENSOR,
    Platform.EVENT,
    Platform.SENSOR,
    Platform.SWITCH,
]

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Service actions exist from the start, entries loaded or not (they say which)."""
    async_setup_services(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: TotemConfigEntry) -> bool:
    config = TotemConfig.from_config_entry(entry)
    store = InventoryStore(hass, entry.entry_id)
    await store.async_load()
    coordinator = TotemCoordinator(hass, entry, config, store)
    alerts = AlertRouter(hass, coordinator)
    entry.async_on_unload(alerts.async_start())
    # Subscribed before the probe starts: the activity log sees every snapshot.
    activity = await async_setup_activity(hass, entry, coordinator)
    # Stored blocks are back in the kernel before the switches show them.
    blocking = await async_setup_blocking(hass, entry, coordinator)
    entry.runtime_data = TotemRuntimeData(
        config=config,
        coordinator=coordinator,
        alerts=alerts,
        activity=activity,
        blocking=blocking,
    )
    await coordinator.async_start()
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    # Active discovery (off by option) only feeds the probe; nothing depends on it.
    await async_setup_discovery(hass, entry, coordinator)
    entry.async_on_unload(entry.add_update_listener(_async_options_updated))
    return True


async def async_unload_entry(hass: HomeAssistant, entry: TotemConfigEntry) -> bool:
    unloaded = await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
    await entry.runtime_data.coordinator.async_stop()
    return unloaded


async def async_remove_entry(hass: HomeAssistant, entry: TotemConfigEntry) -> None:
    """Deleting the entry deletes what TOTEM remembered about the home."""
    await InventoryStore(hass, entry.entry_id).async_remove()
    await async_remove_blocking(hass, entry)
    await async_remove_activity(hass, entry.entry_id)
    state = Path(engine_state_file(hass, entry.entry_id))
    await hass.async_add_executor_job(partial(state.unlink, missing_ok=True))


async def _async_options_updated(hass: HomeAssistant, entry: TotemConfigEntry) -> None:
    # The probe takes its interval and learning period on the command line.
    await hass.config_entries.async_reload(entry.entry_id)


async def async_remove_config_entry_device(
    hass: HomeAssistant, entry: TotemConfigEntry, device: dr.DeviceEntry
) -> bool:
    """Let the user delete a device that is gone; an online one would return at once."""
    coordinator = entry.runtime_data.coordinator
    mac = coordinator.devices.primary_mac(device)
    if mac is None:  # the hub itself
        return False
    data = coordinator.data
    if data is not None and mac in data.devices and data.devices[mac].online:
        return False
    coordinator.forget_device(mac)
    return True
