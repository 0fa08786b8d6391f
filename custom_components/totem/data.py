"""The typed config entry and the runtime data it carries, built complete at setup.

Every part is required: setup builds them all before assigning
``entry.runtime_data`` (the peblar way), so no platform or service meets a
half-set-up entry. Nothing below this module imports it: the parts take the
coordinator, not the entry's runtime data.
"""

from __future__ import annotations

from dataclasses import dataclass

from homeassistant.config_entries import ConfigEntry

from .activity import ActivityLog
from .alerts import AlertRouter
from .blocking import BlockManager
from .coordinator import TotemCoordinator
from .options import TotemConfig


@dataclass(frozen=True, slots=True, kw_only=True)
class TotemRuntimeData:
    config: TotemConfig
    coordinator: TotemCoordinator
    alerts: AlertRouter
    activity: ActivityLog
    blocking: BlockManager


type TotemConfigEntry = ConfigEntry[TotemRuntimeData]
