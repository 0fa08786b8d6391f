"""Traffic over time per device: bytes per minute, bounded, JSON round-trip.

Fed with each device's cumulative byte counters (monotonic totals, as the
inventory keeps them across probe restarts); the difference to the previous
reading goes to the minute it was read in. Two resolutions keep memory bounded
whatever the home does: per minute for the last hours (the traffic chart of a
device page, a table's sparkline) and per hour for the last days.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any, Final

MINUTE: Final = 60
HOUR: Final = 3600
# Six hours of minutes and a week of hours: the chart's two ranges. A busy home of
# 250 devices costs at most 250 * (360 + 168) buckets of three numbers.
MINUTES_KEPT: Final = 360
HOURS_KEPT: Final = 168
# One home rarely has more than a few hundred stations; a MAC flood must not grow this.
DEVICES_KEPT: Final = 1024


@dataclass(slots=True)
class _Device:
    last_tx: int
    last_rx: int
    minutes: deque[list[int]]  # [minute start, tx bytes, rx bytes], oldest first
    hours: deque[list[int]]


def _add(buckets: deque[list[int]], start: int, tx: int, rx: int) -> None:
    if buckets and buckets[-1][0] == start:
        buckets[-1][1] += tx
        buckets[-1][2] += rx
    elif not buckets or buckets[-1][0] < start:
        buckets.append([start, tx, rx])
    # An older bucket (the clock went back): added to the newest rather than reordering.
    else:
        buckets[-1][1] += tx
        buckets[-1][2] += rx


class TrafficSeries:
    """Per-device bytes per minute and per hour, from cumulative counters."""

    def __init__(self, devices_kept: int = DEVICES_KEPT) -> None:
        self._devices: dict[str, _Device] = {}
        self._kept = devices_kept

    def __contains__(self, mac: object) -> bool:
        return mac in self._devices

    def add(self, mac: str, when: float, tx_total: int, rx_total: int) -> None:
        """One reading of MAC's counters at WHEN (seconds since the epoch)."""
        device = self._devices.get(mac)
        if device is None:
            if len(self._devices) >= self._kept:
                return
            self._devices[mac] = _Device(
                tx_total, rx_total, deque(maxlen=MINUTES_KEPT), deque(maxlen=HOURS_KEPT)
            )
            return
        # Totals only grow; a smaller one is a reset of the counters: a new baseline.
        tx = max(tx_total - device.last_tx, 0)
        rx = max(rx_total - device.last_rx, 0)
        device.last_tx, device.last_rx = tx_total, rx_total
        if tx == rx == 0:
            return  # sparse: a quiet minute is a missing one
        _add(device.minutes, _start(when, MINUTE), tx, rx)
        _add(device.hours, _start(when, HOUR), tx, rx)

    def forget(self, mac: str) -> None:
        self._devices.pop(mac, None)

    def minutes(self, mac: str, since: float = 0.0) -> list[list[int]]:
        """[minute start, tx bytes, rx bytes] of MAC from SINCE on, oldest first."""
        device = self._devices.get(mac)
        if device is None:
            return []
        return [list(b) for b in device.minutes if b[0] >= since]

    def hours(self, mac: str) -> list[list[int]]:
        device = self._devices.get(mac)
        return [] if device is None else [list(b) for b in device.hours]

    def to_json(self) -> dict[str, Any]:
        return {
            mac: {
                "last": [d.last_tx, d.last_rx],
                "minutes": list(d.minutes),
                "hours": list(d.hours),
            }
            for mac, d in self._devices.items()
        }

    @classmethod
    def from_json(cls, data: object, devices_kept: int = DEVICES_KEPT) -> TrafficSeries:
        """Rebuild from ``to_json``; anything malformed is left out, never raised."""
        series = cls(devices_kept)
        if not isinstance(data, dict):
            return series
        for mac, doc in list(data.items())[:devices_kept]:
            if not isinstance(mac, str) or not isinstance(doc, dict):
                continue
            last = _bucket([0, *doc.get("last", [])])
            if last is None:
                continue
            series._devices[mac] = _Device(
                last[1],
                last[2],
                deque(_buckets(doc.get("minutes")), maxlen=MINUTES_KEPT),
                deque(_buckets(doc.get("hours")), maxlen=HOURS_KEPT),
            )
        return series


def _start(when: float, width: int) -> int:
    return int(when // width) * width


def _bucket(value: object) -> list[int] | None:
    if (
        isinstance(value, list)
        and len(value) == 3
        and all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value)
    ):
        return [int(v) for v in value]
    return None


def _buckets(value: object) -> list[list[int]]:
    if not isinstance(value, list):
        return []
    found = (_bucket(v) for v in value)
    return sorted((b for b in found if b is not None), key=lambda b: b[0])
