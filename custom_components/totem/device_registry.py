"""Where a network device becomes a Home Assistant device, and stops being one.

One :class:`DeviceRegistryUpdater` per config entry registers the hub (the
probe) and every admitted network device by its MAC connections (the fritz
way), keeps names, manufacturers and models in step as identification
improves, and removes the devices the coordinator drops (stale, ignored,
deleted by the user). Which devices those are is the inventory's business.
"""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr

from .compat import ONE_DEVICE_PER_ENTRY, device_config_entries, remove_entry_from_device
from .const import DOMAIN
from .inventory import DeviceView, TotemData
from .store import InventoryStore


def model_name(device_type: str) -> str:
    """The registry's model for an engine device type: "smart_plug" -> "Smart plug"."""
    return device_type.replace("_", " ").capitalize()


def device_model(view: DeviceView) -> str:
    """The registry's model: the device's own model number when it announced one
    (mDNS TXT md/model), else its type in words."""
    return view.model or model_name(view.type)


def mac_connections(macs: tuple[str, ...] | list[str]) -> set[tuple[str, str]]:
    return {(dr.CONNECTION_NETWORK_MAC, mac) for mac in macs}


class DeviceRegistryUpdater:
    """Keeps one entry's devices in Home Assistant's device registry in step."""

    def __init__(
        self, hass: HomeAssistant, entry_id: str, title: str, store: InventoryStore
    ) -> None:
        self.hass = hass
        self.entry_id = entry_id
        self.title = title
        self.store = store
        self.hub_device_id: str | None = None

    def register_hub(self) -> str:
        hub = dr.async_get(self.hass).async_get_or_create(
            config_entry_id=self.entry_id,
            identifiers={(DOMAIN, self.entry_id)},
            manufacturer="TOTEM",
            model="Network probe",
            name=self.title,
            entry_type=dr.DeviceEntryType.SERVICE,
        )
        self.hub_device_id = hub.id
        return hub.id

    def register(self, view: DeviceView) -> None:
        registry = dr.async_get(self.hass)
        connections = mac_connections(view.macs)
        if ONE_DEVICE_PER_ENTRY:
            # Newer Home Assistant keeps one device per config entry: this one is
            # TOTEM's own, described in full.
            newer: dict[str, Any] = {"via_device_id": self.hub_device_id}
            registry.async_get_or_create(
                config_entry_id=self.entry_id,
                connections=connections,
                name=view.name,
                manufacturer=view.manufacturer,
                model=device_model(view),
                **newer,
            )
            return
        # Connections only, and defaults rather than values (the fritz way): when another
        # integration already has this MAC (the Kasa plug), TOTEM joins its device page
        # and leaves its name, manufacturer and model alone.
        registry.async_get_or_create(
            config_entry_id=self.entry_id,
            connections=connections,
            default_name=view.name,
            default_manufacturer=view.manufacturer,
            default_model=device_model(view),
            via_device=(DOMAIN, self.entry_id),
        )

    def sync(self, data: TotemData) -> None:
        """Better identification arrives over time: keep the registry in step."""
        registry = dr.async_get(self.hass)
        ours = self.our_devices()
        for view in data.devices.values():
            if not view.present:
                continue
            device = ours.get(view.mac)
            if device is None:
                continue
            connections = mac_connections(view.macs)
            changes: dict[str, Any] = {}
            if not connections <= device.connections:
                # The whole set, the device's own connections kept: merge_connections
                # is deprecated from Home Assistant 2026 and new_connections exists in
                # every version TOTEM supports.
                changes["new_connections"] = device.connections | connections
            if not ONE_DEVICE_PER_ENTRY and device_config_entries(device) != {self.entry_id}:
                # Shared with another integration: its description wins.
                if changes:
                    registry.async_update_device(device.id, **changes)
                continue
            if device.name != view.name:
                changes["name"] = view.name
            if device.manufacturer != view.manufacturer:
                changes["manufacturer"] = view.manufacturer
            if device.model != device_model(view):
                changes["model"] = device_model(view)
            if changes:
                registry.async_update_device(device.id, **changes)

    def remove(self, macs: list[str]) -> None:
        """Take these devices (by primary MAC) off this entry; the inventory forgets them."""
        if not macs:
            return
        registry = dr.async_get(self.hass)
        ours = self.our_devices()
        for mac in macs:
            device = ours.get(mac)
            if device is not None:
                remove_entry_from_device(registry, device, self.entry_id)

    def our_devices(self) -> dict[str, dr.DeviceEntry]:
        """This entry's network devices by primary MAC.

        Looked up through the config entry: newer Home Assistant deprecates
        async_get_device, identifiers and connections being no longer unique.
        """
        registry = dr.async_get(self.hass)
        return {
            mac: device
            for device in dr.async_entries_for_config_entry(registry, self.entry_id)
            if (mac := self.primary_mac(device)) is not None
        }

    def device_ids(self) -> dict[str, str]:
        """Home Assistant device id by the primary MAC of this entry's network devices."""
        return {mac: device.id for mac, device in self.our_devices().items()}

    def device_id(self, mac: str) -> str | None:
        """The Home Assistant device of this entry with the MAC among its connections."""
        registry = dr.async_get(self.hass)
        for device in dr.async_entries_for_config_entry(registry, self.entry_id):
            if (dr.CONNECTION_NETWORK_MAC, mac) in device.connections:
                return device.id
        return None

    def primary_mac(self, device: dr.DeviceEntry) -> str | None:
        """The MAC TOTEM keys this device by, or None (the hub, a foreign device)."""
        for kind, mac in device.connections:
            if kind == dr.CONNECTION_NETWORK_MAC and mac in self.store.devices:
                return mac
        return None
