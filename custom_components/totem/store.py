"""What TOTEM remembers across restarts (helpers.storage.Store).

Per admitted device: first seen, last activity, identification, user
overrides and the counter offsets that keep ``total_increasing`` sensors
from going back to zero when the probe or Home Assistant restarts.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store

from .const import DOMAIN

STORAGE_VERSION = 1
SAVE_DELAY = 30.0

COUNTERS = ("tx_bytes", "rx_bytes", "tx_packets", "rx_packets")


@dataclass(slots=True)
class MacCounters:
    """Counters of one MAC: total = offset + the probe's current raw value."""

    offset: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTERS, 0))
    raw: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTERS, 0))

    def new_session(self) -> None:
        """A new probe process counts from zero: bank what the old one counted."""
        for key in COUNTERS:
            self.offset[key] += self.raw[key]
            self.raw[key] = 0

    def update(self, key: str, value: int) -> int:
        if value < self.raw[key]:
            # The probe's counter went back (a looping replay restarted):
            # bank the old value instead of reporting a drop.
            self.offset[key] += self.raw[key]
        self.raw[key] = value
        return self.offset[key] + value

    def total(self, key: str) -> int:
        return self.offset[key] + self.raw[key]


@dataclass(slots=True)
class StoredDevice:
    """One admitted network device (keyed by its primary MAC)."""

    mac: str
    first_seen: float
    last_active: float
    name: str | None = None
    manufacturer: str | None = None
    type: str = "unknown"
    ips: list[str] = field(default_factory=list)
    last_seen: float = 0.0
    macs: list[str] = field(default_factory=list)
    user_name: str | None = None
    user_type: str | None = None  # set with totem.set_device_type: wins over identification

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StoredDevice:
        known = cls.__dataclass_fields__
        return cls(**{k: v for k, v in data.items() if k in known})


class InventoryStore:
    """The per-config-entry store: inventory and counter offsets."""

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        self._store: Store[dict[str, Any]] = Store(
            hass, STORAGE_VERSION, f"{DOMAIN}.{entry_id}", private=True
        )
        self.devices: dict[str, StoredDevice] = {}
        self.counters: dict[str, MacCounters] = {}
        # Removed devices and the last packet time seen then: they come back
        # only with new traffic, not from the probe's old table.
        self.removed: dict[str, float] = {}

    async def async_load(self) -> None:
        data = await self._store.async_load() or {}
        self.devices = {
            mac: StoredDevice.from_json(rec) for mac, rec in data.get("devices", {}).items()
        }
        self.counters = {
            mac: MacCounters(offset=dict(c["offset"]), raw=dict(c["raw"]))
            for mac, c in data.get("counters", {}).items()
        }
        self.removed = dict(data.get("removed", {}))

    def add_device(self, mac: str, now: float | None = None) -> StoredDevice:
        stamp = time.time() if now is None else now
        record = StoredDevice(mac=mac, first_seen=stamp, last_active=stamp, macs=[mac])
        self.devices[mac] = record
        return record

    def remove_device(self, mac: str) -> None:
        record = self.devices.pop(mac, None)
        self.removed[mac] = record.last_seen if record else 0.0
        for member in record.macs if record else [mac]:
            self.counters.pop(member, None)

    def counters_for(self, mac: str) -> MacCounters:
        counters = self.counters.get(mac)
        if counters is None:
            counters = self.counters[mac] = MacCounters()
        return counters

    def new_session(self) -> None:
        for counters in self.counters.values():
            counters.new_session()

    def _data(self) -> dict[str, Any]:
        return {
            "devices": {mac: rec.to_json() for mac, rec in self.devices.items()},
            "counters": {
                mac: {"offset": c.offset, "raw": c.raw} for mac, c in self.counters.items()
            },
            "removed": self.removed,
        }

    def set_user_type(self, macs: tuple[str, ...], type_: str | None) -> bool:
        """The user's type for the stored device that has one of these MACs."""
        wanted = set(macs)
        changed = False
        for record in self.devices.values():
            if record.mac in wanted or wanted & set(record.macs):
                record.user_type = type_
                changed = True
        return changed

    def schedule_save(self) -> None:
        self._store.async_delay_save(self._data, SAVE_DELAY)

    async def async_save(self) -> None:
        await self._store.async_save(self._data())

    async def async_remove(self) -> None:
        await self._store.async_remove()
