"""What differs between the Home Assistant versions TOTEM supports (2025.4 to 2026.x).

Home Assistant 2026 gives every config entry its own devices: ``DeviceEntry``
has one ``config_entry_id`` and the multi-entry API (``config_entries``,
``remove_config_entry_id``) is deprecated there, raising in tests. 2025.x
shares a device between integrations by connection. 2026 also makes
``DeviceRegistry.devices`` a collection of entries (its mapping use is
deprecated, breaking in 2027.9), where 2025.x has a mapping by device id.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import cast

from homeassistant.helpers import device_registry as dr

ONE_DEVICE_PER_ENTRY = hasattr(dr.DeviceRegistry, "async_get_device_by_connection")


def device_config_entries(device: dr.DeviceEntry) -> set[str]:
    """The config entries a device belongs to, without the deprecated property on 2026."""
    if ONE_DEVICE_PER_ENTRY:
        entry_id: str | None = getattr(device, "config_entry_id", None)
        return {entry_id} if entry_id else set()
    return set(device.config_entries)


def remove_entry_from_device(
    registry: dr.DeviceRegistry, device: dr.DeviceEntry, entry_id: str
) -> None:
    """Take a device away from one config entry; a device only it had is removed."""
    if device_config_entries(device) <= {entry_id}:
        registry.async_remove_device(device.id)
    else:  # 2025.x: the device stays with the other integration that shares it
        registry.async_update_device(device.id, remove_config_entry_id=entry_id)


def all_devices(registry: dr.DeviceRegistry) -> list[dr.DeviceEntry]:
    """Every device in the registry, without the deprecated mapping use on 2026."""
    # Typed as what the running version's stubs say: the other version's shape is
    # unreachable to mypy, not at run time.
    devices: object = registry.devices
    if isinstance(devices, Mapping):
        return list(devices.values())
    return list(cast("Iterable[dr.DeviceEntry]", devices))
