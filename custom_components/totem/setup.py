"""Config entry setup, unload, migration and removal (the entry points __init__ exports).

Setup builds every part of the runtime data before the entry gets it: the
coordinator (the publisher) and its subscribers, the alert router, the
activity log and blocking; then the probe starts and the platforms load.
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any, Final

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.typing import ConfigType

from .activity import async_remove_activity, async_setup_activity
from .alerts import AlertRouter, async_remove_alerts
from .blocking import async_remove_blocking, async_setup_blocking
from .const import DOMAIN, ENTRY_MINOR_VERSION, ENTRY_VERSION
from .coordinator import TotemCoordinator, engine_state_file
from .data import TotemConfigEntry, TotemRuntimeData
from .device_merge import async_hand_over, async_merge_duplicates
from .discovery import async_setup_discovery
from .ha_tables import async_remove_ha_tables, async_write_ha_tables
from .network_view import async_remove_network_view, async_setup_network_view
from .options import TotemConfig
from .panel import async_setup_panel, async_update_panel
from .services import async_setup_services
from .store import InventoryStore
from .websocket_api import async_setup_websocket_api

_LOGGER = logging.getLogger(__package__)

PLATFORMS: list[Platform] = [
    Platform.BINARY_SENSOR,
    Platform.DEVICE_TRACKER,
    Platform.EVENT,
    Platform.SENSOR,
    Platform.SWITCH,
]

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)

# Before minor version 2 a network device's entities had "<mac>-<key>" unique ids,
# which two entries seeing the same MAC shared.
_UNSCOPED_UNIQUE_ID: Final = re.compile(r"(?:[0-9a-f]{2}:){5}[0-9a-f]{2}-.+")


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Service actions exist from the start, entries loaded or not (they say which)."""
    async_setup_services(hass)
    async_setup_websocket_api(hass)
    await async_setup_panel(hass)
    return True


async def async_migrate_entry(hass: HomeAssistant, entry: TotemConfigEntry) -> bool:
    """Scope per-device unique ids to the entry, keeping every entity id and its history."""
    if entry.version > ENTRY_VERSION:
        return False  # written by a newer TOTEM: nothing here can read it
    if entry.minor_version < 2:
        prefix = f"{entry.entry_id}-"

        @callback
        def scoped(entity: er.RegistryEntry) -> dict[str, Any] | None:
            if not _UNSCOPED_UNIQUE_ID.fullmatch(entity.unique_id):
                return None
            return {"new_unique_id": prefix + entity.unique_id}

        await er.async_migrate_entries(hass, entry.entry_id, scoped)
        hass.config_entries.async_update_entry(entry, minor_version=ENTRY_MINOR_VERSION)
        _LOGGER.debug("TOTEM entry %s: per-device unique ids scoped to it", entry.entry_id)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: TotemConfigEntry) -> bool:
    config = replace(
        TotemConfig.from_config_entry(entry),
        ha_tables_file=await async_write_ha_tables(hass, entry.entry_id),
    )
    store = InventoryStore(hass, entry.entry_id)
    await store.async_load()
    # Before the coordinator registers devices: an earlier TOTEM on Home Assistant
    # 2026 left one device per entry for a MAC several probes see.
    async_merge_duplicates(hass)
    coordinator = TotemCoordinator(hass, entry, config, store)
    alerts = AlertRouter(hass, coordinator)
    await alerts.async_load()
    entry.async_on_unload(alerts.async_flush)
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
    # The Network panel's view of the entry: it too sees every snapshot.
    entry.async_on_unload(await async_setup_network_view(hass, coordinator, alerts, blocking))
    await coordinator.async_start()
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    # Active discovery (off by option) only feeds the probe; nothing depends on it.
    await async_setup_discovery(hass, entry, coordinator)
    entry.async_on_unload(entry.add_update_listener(_async_options_updated))
    # Who sees the panel follows the entries' options (set up again after a change).
    async_update_panel(hass)
    return True


async def async_unload_entry(hass: HomeAssistant, entry: TotemConfigEntry) -> bool:
    unloaded = await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
    await entry.runtime_data.coordinator.async_stop()
    return unloaded


async def async_remove_entry(hass: HomeAssistant, entry: TotemConfigEntry) -> None:
    """Deleting the entry deletes what TOTEM remembered about the home."""
    # First, while its devices are still registered: the ones other entries share stay.
    async_hand_over(hass, entry.entry_id)
    await InventoryStore(hass, entry.entry_id).async_remove()
    await async_remove_blocking(hass, entry)
    await async_remove_activity(hass, entry.entry_id)
    await async_remove_alerts(hass, entry.entry_id)
    await async_remove_network_view(hass, entry.entry_id)
    async_update_panel(hass)
    state = Path(engine_state_file(hass, entry.entry_id))
    await hass.async_add_executor_job(partial(state.unlink, missing_ok=True))
    await async_remove_ha_tables(hass, entry.entry_id)


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
