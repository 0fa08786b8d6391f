"""The base entities: one for a network device, one for the TOTEM hub."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from homeassistant.core import callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.entity_platform import AddEntitiesCallback
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .const import DOMAIN
from .coordinator import TotemCoordinator
from .inventory import DeviceView, TotemData


def device_unique_id(entry_id: str, mac: str, key: str) -> str:
    """The unique id of a network device's entity (the hub's are "<entry_id>-<key>")."""
    return f"{entry_id}-{mac}-{key}"


@dataclass(frozen=True, kw_only=True)
class TotemDeviceEntityDescription(EntityDescription):
    """What one per-device entity shows, as small functions (the unifi way)."""

    value_fn: Callable[[DeviceView], Any]
    attrs_fn: Callable[[DeviceView], dict[str, Any]] | None = None
    # Seconds of data time between two state writes (recorder budget).
    min_interval: float = 0.0


@dataclass(frozen=True, kw_only=True)
class TotemHubEntityDescription(EntityDescription):
    value_fn: Callable[[TotemData], Any]
    attrs_fn: Callable[[TotemData], dict[str, Any]] | None = None
    min_interval: float = 0.0


class _Throttled(CoordinatorEntity[TotemCoordinator]):
    """Writes state only when the shown value changes, at most every min_interval."""

    _attr_has_entity_name = True
    _min_interval: float = 0.0

    def __init__(self, coordinator: TotemCoordinator) -> None:
        super().__init__(coordinator)
        self._value: Any = None
        self._attrs: dict[str, Any] | None = None
        self._written_at: float | None = None
        self._written_available: bool | None = None

    def _compute(self, data: TotemData) -> tuple[Any, dict[str, Any] | None]:
        raise NotImplementedError

    def _refresh(self) -> bool:
        """Take the coordinator's data; True when the state should be written."""
        data: TotemData | None = self.coordinator.data
        available = self.available
        if data is None:
            return available != self._written_available
        value, attrs = self._compute(data)
        if (value, attrs) == (self._value, self._attrs):
            return available != self._written_available
        if (
            self._min_interval
            and not data.final
            and self._written_at is not None
            and available == self._written_available
            and 0 <= data.time - self._written_at < self._min_interval
        ):
            return False
        self._value, self._attrs = value, attrs
        self._written_at = data.time
        return True

    async def async_added_to_hass(self) -> None:
        await super().async_added_to_hass()
        self._refresh()
        self._written_available = self.available

    @callback
    def _handle_coordinator_update(self) -> None:
        if self._refresh():
            self._written_available = self.available
            self.async_write_ha_state()

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        return self._attrs


class TotemDeviceEntity(_Throttled):
    """An entity of one network device (a Home Assistant device per MAC)."""

    entity_description: TotemDeviceEntityDescription

    def __init__(
        self,
        coordinator: TotemCoordinator,
        description: TotemDeviceEntityDescription,
        mac: str,
    ) -> None:
        super().__init__(coordinator)
        self.entity_description = description
        self._min_interval = description.min_interval
        self._mac = mac
        # Scoped to the entry: two entries (two probes) may see the same MAC.
        self._attr_unique_id = device_unique_id(coordinator.entry_id, mac, description.key)
        self._attr_device_info = DeviceInfo(connections={(dr.CONNECTION_NETWORK_MAC, mac)})
        if (host := coordinator.devices.host_device(mac)) is not None:
            # Newer Home Assistant, another probe's entry owns this MAC's device: join
            # it (the platform takes device_entry when there is no device_info).
            self._attr_device_info = None
            self.device_entry = host

    @property
    def available(self) -> bool:
        data = self.coordinator.data
        return super().available and data is not None and self._mac in data.devices

    def _compute(self, data: TotemData) -> tuple[Any, dict[str, Any] | None]:
        view = data.devices.get(self._mac)
        if view is None:
            return self._value, self._attrs
        desc = self.entity_description
        return desc.value_fn(view), desc.attrs_fn(view) if desc.attrs_fn else None


class TotemHubEntity(_Throttled):
    """An entity of the TOTEM hub device (the probe itself)."""

    entity_description: TotemHubEntityDescription

    def __init__(
        self, coordinator: TotemCoordinator, description: TotemHubEntityDescription
    ) -> None:
        super().__init__(coordinator)
        self.entity_description = description
        self._min_interval = description.min_interval
        entry_id = coordinator.entry_id
        self._attr_unique_id = f"{entry_id}-{description.key}"
        self._attr_device_info = DeviceInfo(identifiers={(DOMAIN, entry_id)})

    def _compute(self, data: TotemData) -> tuple[Any, dict[str, Any] | None]:
        desc = self.entity_description
        return desc.value_fn(data), desc.attrs_fn(data) if desc.attrs_fn else None


def add_device_entities(
    coordinator: TotemCoordinator,
    platform: str,
    descriptions: tuple[TotemDeviceEntityDescription, ...],
    factory: Callable[[TotemCoordinator, Any, str], TotemDeviceEntity],
    async_add_entities: AddEntitiesCallback,
) -> Callable[[], None]:
    """Entities for every admitted device now and for each one admitted later.

    The unifi/fritz "known" pattern: a listener compares the admitted devices
    with the ones that already got entities, so no reload is needed.
    """

    @callback
    def add_new() -> None:
        data: TotemData | None = coordinator.data
        if data is None:
            return
        new = [mac for mac in data.devices if (platform, mac) not in coordinator.known]
        if not new:
            return
        for mac in new:
            coordinator.known.add((platform, mac))
        async_add_entities(
            factory(coordinator, description, mac) for mac in new for description in descriptions
        )

    add_new()
    return coordinator.async_add_listener(add_new)


# Who the device is, on its Online sensor: shown live, kept by TOTEM's own inventory,
# and no history worth a database row (see TotemOnlineSensor).
IDENTITY_ATTRIBUTES: Final = frozenset(
    {"device_type", "type_source", "model", "integration", "manufacturer_registry"}
)


def identity_attributes(view: DeviceView) -> dict[str, Any]:
    """Who the device is (they change rarely): its type and who set it, its model, and
    the integration that supports it ("Home Assistant can control this with").

    On the Online sensor, which every device has and is enabled by default: Last
    seen, which held them once, is a disabled diagnostic sensor now."""
    return {
        "device_type": view.type,
        "type_source": view.type_source,
        "model": view.model,
        "integration": view.integration,
        "manufacturer_registry": view.manufacturer_registry,
    }
