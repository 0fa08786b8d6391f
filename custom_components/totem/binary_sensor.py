"""The "Online" binary sensor of each network device."""

from __future__ import annotations

from dataclasses import dataclass

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddEntitiesCallback

from .data import TotemConfigEntry
from .entity import (
    IDENTITY_ATTRIBUTES,
    TotemDeviceEntity,
    TotemDeviceEntityDescription,
    add_device_entities,
    identity_attributes,
)

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class TotemBinarySensorDescription(BinarySensorEntityDescription, TotemDeviceEntityDescription):
    """A per-device binary sensor."""


BINARY_SENSORS: tuple[TotemBinarySensorDescription, ...] = (
    TotemBinarySensorDescription(
        key="online",
        translation_key="online",
        device_class=BinarySensorDeviceClass.CONNECTIVITY,
        value_fn=lambda v: v.online,
        attrs_fn=lambda v: {"ip_addresses": list(v.ips), **identity_attributes(v)},
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: TotemConfigEntry,
    async_add_entities: AddEntitiesCallback,
) -> None:
    entry.async_on_unload(
        add_device_entities(
            entry.runtime_data.coordinator,
            "binary_sensor",
            BINARY_SENSORS,
            TotemOnlineSensor,
            async_add_entities,
        )
    )


class TotemOnlineSensor(TotemDeviceEntity, BinarySensorEntity):
    """On while the device sent something within the away timeout."""

    entity_description: TotemBinarySensorDescription
    # The recorder keeps the online/offline history only: the addresses change (DHCP
    # leases, IPv6 privacy addresses rotate daily) and who the device is is shown
    # live; neither is worth a database row per change.
    _unrecorded_attributes = frozenset({"ip_addresses", *IDENTITY_ATTRIBUTES})

    @property
    def is_on(self) -> bool | None:
        return self._value  # type: ignore[no-any-return]
