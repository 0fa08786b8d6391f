"""Typed config entry and the runtime data it carries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from homeassistant.config_entries import ConfigEntry

if TYPE_CHECKING:
    from .blocking import BlockManager
    from .coordinator import TotemCoordinator


@dataclass(slots=True)
class TotemRuntimeData:
    coordinator: TotemCoordinator
    # Per-device blocking (blocking.py); set right after the coordinator starts.
    blocking: BlockManager | None = None


type TotemConfigEntry = ConfigEntry[TotemRuntimeData]
