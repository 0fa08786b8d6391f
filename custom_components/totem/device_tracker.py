"""Presence: a router-style tracker per network device, for Person and zones.

Like nmap_tracker, UniFi and FRITZ!Box Tools, each device TOTEM admitted has
a ``ScannerEntity`` (source type router) that is home while the device is
online by the same rule as everywhere else in TOTEM (traffic within the away
timeout), with its IP, MAC and host name. Only the devices people carry
(phones, tablets, laptops) have it enabled by default: a plug or a camera is
always home, and an enabled tracker per IoT device would only fill the
recorder. Home Assistant attaches it to the device by its MAC.
"""

from __future__ import annotations

from typing import Final

from homeassistant.components.device_tracker.config_entry import ScannerEntity
from homeassistant.components.device_tracker.const import ATTR_HOST_NAME, ATTR_IP, SourceType
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddEntitiesCallback
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .coordinator import TotemCoordinator
from .data import TotemConfigEntry
from .entity import device_unique_id
from .inventory import DeviceView, TotemData

PARALLEL_UPDATES = 0
TRACKER_KEY: Final = "presence"
# The device types people carry in and out of the home.
CARRIED_TYPES: Final = frozenset({"phone", "tablet", "laptop"})


async def async_setup_entry(
    hass: HomeAssistant,
    entry: TotemConfigEntry,
    async_add_entities: AddEntitiesCallback,
) -> None:
    coordinator = entry.runtime_data.coordinator
    platform = "device_tracker"

    @callback
    def add_new() -> None:
        data: TotemData | None = coordinator.data
        if data is None:
            return
        new = [mac for mac in data.devices if (platform, mac) not in coordinator.known]
        for mac in new:
            coordinator.known.add((platform, mac))
        if new:
            async_add_entities(TotemTracker(coordinator, data.devices[mac]) for mac in new)

    add_new()
    entry.async_on_unload(coordinator.async_add_listener(add_new))


class TotemTracker(CoordinatorEntity[TotemCoordinator], ScannerEntity):
    """Home while the device is online; writes state only when something shown changes."""

    # Named after the device, as nmap_tracker, UniFi and FRITZ!Box name theirs: a
    # tracker has no device info of its own (Home Assistant attaches it by MAC), so
    # an entity name would not take the device's name.
    _attr_has_entity_name = False
    _attr_source_type = SourceType.ROUTER
    # Presence history is home/away: the address follows DHCP leases and the host
    # name what the device last announced, both shown live on the entity.
    _unrecorded_attributes = frozenset({ATTR_IP, ATTR_HOST_NAME})

    def __init__(self, coordinator: TotemCoordinator, view: DeviceView) -> None:
        super().__init__(coordinator)
        self._mac = view.mac
        self._attr_mac_address = view.mac
        self._attr_name = view.name
        self._tracker_unique_id = device_unique_id(coordinator.entry_id, view.mac, TRACKER_KEY)
        self._carried = view.type in CARRIED_TYPES
        self._shown: tuple[bool, str | None, str | None] | None = None
        self._written_available = True
        self._take(view)

    @property
    def unique_id(self) -> str:
        # Scoped to the entry like every TOTEM entity (two probes may see one MAC).
        return self._tracker_unique_id

    @property
    def entity_registry_enabled_default(self) -> bool:
        return self._carried

    @property
    def available(self) -> bool:
        data: TotemData | None = self.coordinator.data
        return super().available and data is not None and self._mac in data.devices

    @property
    def is_connected(self) -> bool:
        return bool(self._shown and self._shown[0])

    def _take(self, view: DeviceView) -> bool:
        """Copy what the tracker shows from VIEW; True when it changed."""
        # IPv4 first: it is the address people and other integrations know a device by.
        ips = sorted(view.ips, key=lambda ip: ":" in ip)
        shown = (view.online, ips[0] if ips else None, view.hostname)
        if shown == self._shown:
            return False
        self._shown = shown
        self._attr_ip_address, self._attr_hostname = shown[1], shown[2]
        return True

    @callback
    def _handle_coordinator_update(self) -> None:
        data: TotemData | None = self.coordinator.data
        view = data.devices.get(self._mac) if data is not None else None
        available = self.available
        changed = view is not None and self._take(view)
        if changed or available != self._written_available:
            self._written_available = available
            self.async_write_ha_state()
