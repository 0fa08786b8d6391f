"""Probe protocol messages for the scripted fake probe."""

from __future__ import annotations

import time as _time
from typing import Any

from custom_components.totem.engine.model import DeviceRow, EngineStats, Snapshot
from custom_components.totem.engine.protocol import PROTOCOL_VERSION

NOW = _time.time()


def hello(source: str = "fake") -> dict[str, Any]:
    return {"type": "hello", "version": PROTOCOL_VERSION, "source": source, "pid": 0}


def row(mac: str, **fields: Any) -> DeviceRow:
    base: dict[str, Any] = {"sent_ip": True, "first_seen": 1000.0, "last_seen": 1000.0}
    return DeviceRow(mac=mac, **{**base, **fields})


def snapshot(
    seq: int,
    time: float,
    devices: list[DeviceRow],
    *,
    kind: str = "snapshot",
    packets: int | None = None,
    stats: EngineStats | None = None,
    wall_time: float | None = None,
) -> dict[str, Any]:
    """A snapshot line; wall time defaults to now plus the packet time offset."""
    total = packets if packets is not None else sum(d.tx_packets for d in devices)
    snap = Snapshot(
        packets=total,
        bytes=sum(d.tx_bytes for d in devices),
        first_time=1000.0,
        last_time=time,
        devices=devices,
        alerts=[],
        stats=stats or EngineStats(),
    )
    wall = wall_time if wall_time is not None else NOW + (time - 1000.0)
    return {"type": kind, "seq": seq, "wall_time": wall, "snapshot": snap.to_json()}


def error(code: str, message: str = "fake failure") -> dict[str, Any]:
    return {"type": "error", "code": code, "message": message}


def exit_with(status: int) -> dict[str, Any]:
    return {"fake": "exit", "status": status}


def hang() -> dict[str, Any]:
    return {"fake": "hang"}
