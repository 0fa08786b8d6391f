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
        # Newer Home Assistant: MAC -> another TOTEM entry's device for it, which this
        # entry's entities join instead of making a second device for one MAC.
        self.hosted: dict[str, str] = {}

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
            # Newer Home Assistant keeps one device per config entry and no longer
            # joins entries by a shared connection: two probes seeing one MAC would
            # give two devices. The first TOTEM entry to register the MAC owns the
            # device; a later one attaches its entities to it (host_device).
            own = registry.async_get_device_by_connection(  # type: ignore[attr-defined,unused-ignore]
                (dr.CONNECTION_NETWORK_MAC, view.mac), self.entry_id
            )
            if own is None and (host := self._other_totem_device(connections)) is not None:
                self.hosted[view.mac] = host
                return
            self.hosted.pop(view.mac, None)
            # This one is TOTEM's own, described in full.
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

    def _other_totem_device(self, connections: set[tuple[str, str]]) -> str | None:
        """Another loaded TOTEM entry's device with one of these connections."""
        registry = dr.async_get(self.hass)
        entries = self.hass.config_entries
        for device in registry.async_get_devices(connections=connections):  # type: ignore[attr-defined,unused-ignore]
            entry_id = getattr(device, "config_entry_id", None)
            if entry_id == self.entry_id or entry_id is None:
                continue
            entry = entries.async_get_entry(entry_id)
            if entry is not None and entry.domain == DOMAIN:
                return str(device.id)
        return None

    def host_device(self, mac: str) -> dr.DeviceEntry | None:
        """The other entry's device this entry's entities of MAC join, or None."""
        device_id = self.hosted.get(mac)
        if device_id is None:
            return None
        device = dr.async_get(self.hass).async_get(device_id)
        if device is None:  # the owner removed it: this entry registers its own
            self.hosted.pop(mac, None)
        return device

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
            self.hosted.pop(mac, None)
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
        """Home Assistant device id by the primary MAC of this entry's network devices
        (on newer Home Assistant, the other entry's device a MAC joined included)."""
        return {**self.hosted, **{mac: device.id for mac, device in self.our_devices().items()}}

    def device_id(self, mac: str) -> str | None:
        """The Home Assistant device of this entry with the MAC among its connections."""
        registry = dr.async_get(self.hass)
        for device in dr.async_entries_for_config_entry(registry, self.entry_id):
            if (dr.CONNECTION_NETWORK_MAC, mac) in device.connections:
                return device.id
        return self.hosted.get(mac)

    def primary_mac(self, device: dr.DeviceEntry) -> str | None:
        """The MAC TOTEM keys this device by, or None (the hub, a foreign device)."""
        for kind, mac in device.connections:
            if kind == dr.CONNECTION_NETWORK_MAC and mac in self.store.devices:
                return mac
        return None
