"""One Home Assistant device per MAC across TOTEM's entries, kept so over upgrades and removals.

Home Assistant 2026 gives each config entry its own devices and no longer joins two
entries' devices by a shared MAC connection. TOTEM now lets the first entry to register
a MAC own its device and the other entries' entities join it
(``device_registry.py::DeviceRegistryUpdater.register``). Two things that design leaves:

- **Duplicates from before.** An earlier TOTEM on 2026 registered a device per entry,
  so a MAC two probes saw has two devices. :func:`async_merge_duplicates` (run at every
  entry's setup, idempotent) keeps one device per MAC connection, the oldest, moves the
  duplicates' entities onto it (with the user's area, name and labels where the kept
  one has none) and removes the then empty duplicates.
- **The owner goes.** Removing the entry that owns a shared device would delete the
  device, and with it the other entries' entities on it (a device removal takes its
  entities). :func:`async_hand_over` (from ``async_remove_entry``, before Home
  Assistant clears the entry from its registries) moves each such device to the next
  TOTEM entry with entities on it, so it stays, with its id, area and history.

On Home Assistant 2025.x one device has any number of config entries: the registry
joins entries by connection and drops a removed entry from a shared device itself, so
duplicates cannot arise there and nothing needs handing over. The merge still runs
(finding nothing) and the hand-over does nothing.
"""

from __future__ import annotations

import logging
from typing import Any

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er

from .compat import ONE_DEVICE_PER_ENTRY, all_devices, device_config_entries
from .const import DOMAIN

_LOGGER = logging.getLogger(__package__)


def _totem_entries(hass: HomeAssistant) -> set[str]:
    return {entry.entry_id for entry in hass.config_entries.async_entries(DOMAIN)}


def _duplicate_groups(devices: list[dr.DeviceEntry], totem: set[str]) -> list[list[dr.DeviceEntry]]:
    """Groups of two or more TOTEM devices sharing a MAC connection (transitively)."""
    by_mac: dict[str, list[dr.DeviceEntry]] = {}
    for device in devices:
        if not device_config_entries(device) & totem:
            continue
        for kind, mac in device.connections:
            if kind == dr.CONNECTION_NETWORK_MAC:
                by_mac.setdefault(mac, []).append(device)
    # A device with two MACs may tie two groups together: union them.
    group_of: dict[str, int] = {}
    groups: list[dict[str, dr.DeviceEntry]] = []
    for mac in sorted(by_mac):
        members = by_mac[mac]
        if len(members) < 2:
            continue
        found = {group_of[d.id] for d in members if d.id in group_of}
        target: dict[str, dr.DeviceEntry] = {}
        for index in sorted(found):
            target.update(groups[index])
            groups[index] = {}
        target.update({d.id: d for d in members})
        groups.append(target)
        for device_id in target:
            group_of[device_id] = len(groups) - 1
    return [list(group.values()) for group in groups if len(group) > 1]


def _keeper(group: list[dr.DeviceEntry], totem: set[str]) -> dr.DeviceEntry:
    """The device that stays: one another integration shares (2025.x: its page is the
    device's), else the oldest, which is the one automations most likely name."""

    def rank(device: dr.DeviceEntry) -> tuple[bool, Any, str]:
        foreign = bool(device_config_entries(device) - totem)
        return (not foreign, device.created_at, device.id)

    return min(group, key=rank)


@callback
def async_merge_duplicates(hass: HomeAssistant) -> int:
    """Merge TOTEM's duplicate devices of one MAC; the number of devices removed."""
    totem = _totem_entries(hass)
    registry = dr.async_get(hass)
    entities = er.async_get(hass)
    removed = 0
    for group in _duplicate_groups(all_devices(registry), totem):
        keeper = _keeper(group, totem)
        for duplicate in group:
            if duplicate.id == keeper.id:
                continue
            _merge_into(hass, registry, entities, keeper.id, duplicate, totem)
            removed += 1
    if removed:
        _LOGGER.info("TOTEM merged %d duplicate devices (one device per MAC)", removed)
    return removed


def _merge_into(
    hass: HomeAssistant,
    registry: dr.DeviceRegistry,
    entities: er.EntityRegistry,
    keeper_id: str,
    duplicate: dr.DeviceEntry,
    totem: set[str],
) -> None:
    keeper = registry.async_get(keeper_id)
    if keeper is None:
        return
    ours = device_config_entries(duplicate) & totem
    if not ONE_DEVICE_PER_ENTRY:
        # 2025.x removes an entity whose config entry its device lacks: the entries
        # come first, then their entities.
        for entry_id in sorted(ours - device_config_entries(keeper)):
            registry.async_update_device(keeper_id, add_config_entry_id=entry_id)
    changes: dict[str, Any] = {}
    if keeper.area_id is None and duplicate.area_id is not None:
        changes["area_id"] = duplicate.area_id
    if keeper.name_by_user is None and duplicate.name_by_user is not None:
        changes["name_by_user"] = duplicate.name_by_user
    if not duplicate.labels <= keeper.labels:
        changes["labels"] = keeper.labels | duplicate.labels
    if changes:
        registry.async_update_device(keeper_id, **changes)
    for entity in er.async_entries_for_device(
        entities, duplicate.id, include_disabled_entities=True
    ):
        if entity.config_entry_id in ours:
            entities.async_update_entity(entity.entity_id, device_id=keeper_id)
    if device_config_entries(duplicate) <= totem:
        registry.async_remove_device(duplicate.id)
    else:  # 2025.x, shared with another integration: it keeps its device
        for entry_id in sorted(ours):
            registry.async_update_device(duplicate.id, remove_config_entry_id=entry_id)


def _hub_id(registry: dr.DeviceRegistry, entry_id: str) -> str | None:
    for device in dr.async_entries_for_config_entry(registry, entry_id):
        if (DOMAIN, entry_id) in device.identifiers:
            return device.id
    return None


@callback
def async_hand_over(hass: HomeAssistant, entry_id: str) -> int:
    """Before ENTRY_ID's devices are cleared: each one another TOTEM entry's entities
    use moves to that entry (2026; 2025.x keeps a shared device by itself)."""
    if not ONE_DEVICE_PER_ENTRY:
        return 0
    registry = dr.async_get(hass)
    entities = er.async_get(hass)
    totem = _totem_entries(hass) - {entry_id}
    moved = 0
    for device in list(dr.async_entries_for_config_entry(registry, entry_id)):
        heirs = sorted(
            {
                entity.config_entry_id
                for entity in er.async_entries_for_device(
                    entities, device.id, include_disabled_entities=True
                )
                if entity.config_entry_id in totem
            }
        )
        if not heirs:
            continue
        heir = heirs[0]
        # 2026's move keeps the device's id, area, name and history; the argument is
        # not in 2025.x's signature, which never comes here.
        move: dict[str, Any] = {"new_config_entry_id": heir}
        registry.async_update_device(device.id, via_device_id=_hub_id(registry, heir), **move)
        moved += 1
    if moved:
        _LOGGER.info("TOTEM handed %d shared devices over to the remaining entries", moved)
    return moved
