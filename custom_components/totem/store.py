"""What TOTEM remembers across restarts (helpers.storage.Store).

Per admitted device: first seen, last activity, identification, user
overrides and the counter offsets that keep ``total_increasing`` sensors
from going back to zero when the probe or Home Assistant restarts.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store

from .const import DOMAIN
from .issues import ISSUE_STATE_REPAIRED, raise_state_issue

_LOGGER = logging.getLogger(__name__)

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
        """A stored record; TypeError when a field has the wrong type (a hand edit)."""
        known = cls.__dataclass_fields__
        record = cls(**{k: v for k, v in data.items() if k in known})
        for name in ("first_seen", "last_active", "last_seen"):
            value = getattr(record, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise TypeError(f"{name} is not a number")
            setattr(record, name, float(value))
        for name in ("name", "manufacturer", "user_name"):
            if not isinstance(getattr(record, name), str | None):
                raise TypeError(f"{name} is not text")
        if not isinstance(record.mac, str) or not isinstance(record.type, str):
            raise TypeError("mac or type is not text")
        for name in ("ips", "macs"):
            value = getattr(record, name)
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise TypeError(f"{name} is not a list of text")
        return record


def _counters(data: Any) -> MacCounters:
    def part(key: str) -> dict[str, int]:
        values = data[key]
        out = {}
        for name in COUNTERS:
            value = values.get(name, 0)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise TypeError(f"{key}.{name} is not a count")
            out[name] = value
        return out

    return MacCounters(offset=part("offset"), raw=part("raw"))


def _write_backup(path: str, data: Any) -> None:
    """What was read, as it was read: the next save replaces the file itself."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=1)


class CheckedStore(Store[dict[str, Any]]):
    """A Store whose reader validates what it read. What it could not use is kept
    beside the file (``.corrupt``) and said in a repair issue; the reader starts from
    what is valid. (Store itself already moves aside a file that is not JSON.)"""

    def __init__(self, hass: HomeAssistant, key: str, entry_id: str) -> None:
        super().__init__(hass, STORAGE_VERSION, key, private=True)
        self._entry_id = entry_id

    async def async_load_checked(self, parse: Callable[[dict[str, Any]], list[str]]) -> None:
        """Call PARSE with the stored document ({} when none, or when PARSE failed on
        it); PARSE returns what it dropped."""
        data = await self.async_load()
        if data is None:
            parse({})
            return
        try:
            if not isinstance(data, dict):
                raise TypeError(f"a {type(data).__name__}, not a mapping")
            dropped = parse(data)
        except Exception as err:  # any wrong type anywhere: start empty, keep the file
            parse({})
            dropped = [f"the whole file ({type(err).__name__}: {err})"]
        if not dropped:
            return
        backup = f"{self.path}.corrupt"
        try:
            await self.hass.async_add_executor_job(_write_backup, backup, data)
        except (OSError, TypeError, ValueError) as err:
            backup = f"- (no copy: {err})"
        shown = "; ".join(dropped[:5]) + (
            f"; and {len(dropped) - 5} more" if len(dropped) > 5 else ""
        )
        _LOGGER.warning(
            "TOTEM could not read part of %s (%s); a copy is kept as %s", self.path, shown, backup
        )
        raise_state_issue(self.hass, self._entry_id, ISSUE_STATE_REPAIRED, self.path, shown, backup)


def _section[T](
    data: dict[str, Any], key: str, check: Callable[[Any], T], dropped: list[str]
) -> dict[str, T]:
    section = data.get(key, {})
    if not isinstance(section, dict):
        dropped.append(f"{key} (not a mapping)")
        return {}
    out: dict[str, T] = {}
    for mac, value in section.items():
        try:
            out[mac] = check(value)
        except (AttributeError, KeyError, TypeError, ValueError) as err:
            dropped.append(f"{key}.{mac} ({err})")
    return out


def _stamp(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError("not a time")
    return float(value)


class InventoryStore:
    """The per-config-entry store: inventory and counter offsets."""

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        self._store = CheckedStore(hass, f"{DOMAIN}.{entry_id}", entry_id)
        self.devices: dict[str, StoredDevice] = {}
        self.counters: dict[str, MacCounters] = {}
        # Removed devices and the last packet time seen then: they come back
        # only with new traffic, not from the probe's old table.
        self.removed: dict[str, float] = {}

    async def async_load(self) -> None:
        await self._store.async_load_checked(self._parse)

    def _parse(self, data: dict[str, Any]) -> list[str]:
        """Every record checked on its own: a bad one costs only itself."""
        dropped: list[str] = []
        self.devices = _section(data, "devices", StoredDevice.from_json, dropped)
        self.counters = _section(data, "counters", _counters, dropped)
        self.removed = _section(data, "removed", _stamp, dropped)
        return dropped

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
