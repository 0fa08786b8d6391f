"""The probe's messages: every line a probe sends Home Assistant (``"type"``).

- ``hello``      once at start: protocol version (checked), source, pid
- ``status``     the probe's state (``running``, ``stopping``; ``offline`` on MQTT)
- ``snapshot``   every interval: the device table; ``summary`` is the last one
- ``alert``      each new alert once, and count updates of open ones
- ``heartbeat``  with each snapshot: the engine's and kernel's counters
- ``ack``        the answer to a command, ``ok`` or an error code and message
- ``warning``    something the user should know that does not stop the probe
- ``error``      a fatal reason, then the probe exits (2 bad input, 3 transient)

The commands going the other way, the protocol's version and its errors are
in :mod:`.protocol`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from .model import Alert, EngineStats, Snapshot
from .protocol import PROTOCOL_VERSION, ProtocolError, Reply, _drop_none, command_id

ProbeState = Literal["starting", "running", "stopping", "offline"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Message:
    """Base of every line a probe sends."""

    type: ClassVar[str] = ""

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, **self._fields()}

    def _fields(self) -> dict[str, Any]:
        return {}

    def to_line(self) -> str:
        return json.dumps(self.to_json(), separators=(",", ":"))


@dataclass(frozen=True, slots=True, kw_only=True)
class Hello(Message):
    """The probe's first line: its protocol version, what it reads, its pid."""

    type: ClassVar[str] = "hello"
    version: int = PROTOCOL_VERSION
    source: str = ""
    pid: int = 0

    def _fields(self) -> dict[str, Any]:
        return {"version": self.version, "source": self.source, "pid": self.pid}


@dataclass(frozen=True, slots=True, kw_only=True)
class Status(Message):
    """The probe's state, and the packet time its learning period ends."""

    type: ClassVar[str] = "status"
    state: ProbeState = "running"
    wall_time: float = 0.0
    learn_end: float | None = None  # packet time the learning period ends

    def _fields(self) -> dict[str, Any]:
        return {"state": self.state, "wall_time": self.wall_time, "learn_end": self.learn_end}


@dataclass(frozen=True, slots=True, kw_only=True)
class SnapshotMessage(Message):
    """The device table; ``final`` marks the ``summary`` a probe sends last."""

    type: ClassVar[str] = "snapshot"
    seq: int
    wall_time: float | None  # None: the sender's clock is unknown; the receiver's is used
    snapshot: Snapshot
    final: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "type": "summary" if self.final else "snapshot",
            "seq": self.seq,
            "wall_time": self.wall_time,
            "snapshot": self.snapshot.to_json(),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertMessage(Message):
    """One alert: new (announce it) or an update of an open one (its count grew)."""

    type: ClassVar[str] = "alert"
    alert: Alert
    update: bool = False

    def _fields(self) -> dict[str, Any]:
        return {"alert": self.alert.to_json(), "update": self.update}


@dataclass(frozen=True, slots=True, kw_only=True)
class Heartbeat(Message):
    """Sent with each snapshot: the engine's and the kernel's counters."""

    type: ClassVar[str] = "heartbeat"
    wall_time: float
    stats: EngineStats = field(default_factory=EngineStats)

    def _fields(self) -> dict[str, Any]:
        return {"wall_time": self.wall_time, "stats": self.stats.to_json()}


@dataclass(frozen=True, slots=True, kw_only=True)
class Ack(Message):
    """The answer to a command: ``ok``, or an error code and a one-line message."""

    type: ClassVar[str] = "ack"
    cmd: str
    id: int | None = None
    ok: bool = True
    error: str | None = None
    message: str | None = None
    data: dict[str, Any] | None = None

    @classmethod
    def of(cls, cmd: str, ident: int | None, reply: Reply) -> Ack:
        return cls(
            cmd=cmd,
            id=ident,
            ok=reply.ok,
            error=reply.error,
            message=reply.message,
            data=reply.data,
        )

    def _fields(self) -> dict[str, Any]:
        return _drop_none(
            {
                "cmd": self.cmd,
                "id": self.id,
                "ok": self.ok,
                "error": self.error,
                "message": self.message,
                "data": self.data,
            }
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class WarningMessage(Message):
    """A problem the probe survives (state not saved, blocklist unreadable...)."""

    type: ClassVar[str] = "warning"
    code: str
    message: str

    def _fields(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message}


@dataclass(frozen=True, slots=True, kw_only=True)
class ErrorMessage(Message):
    """Fatal: the probe exits after it (``transient`` ones are retried)."""

    type: ClassVar[str] = "error"
    code: str
    message: str

    def _fields(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message}


def _req(obj: dict[str, Any], key: str, kind: type | tuple[type, ...]) -> Any:
    value = obj.get(key)
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise ProtocolError("malformed_message", f"{obj.get('type')!r} message: bad {key!r}")
    return value


def _message_text(obj: dict[str, Any], key: str, limit: int = 4096) -> str:
    return str(_req(obj, key, str))[:limit]


def parse_message(obj: Any, *, snapshot: Snapshot | None = None) -> Message:
    """A probe message from its JSON object; ProtocolError when it is not one.

    ``snapshot`` is the already decoded table of a snapshot line (decoding a
    big home's table is worth doing off Home Assistant's event loop).
    """
    if not isinstance(obj, dict) or not isinstance(obj.get("type"), str):
        raise ProtocolError("malformed_message", "a message is an object with a 'type'")
    kind = obj["type"]
    try:
        if kind == "hello":
            return Hello(
                version=_req(obj, "version", int),
                source=_message_text(obj, "source", 1024),
                pid=int(obj.get("pid") or 0),
            )
        if kind == "status":
            state = obj.get("state")
            if state not in ("starting", "running", "stopping", "offline"):
                raise ProtocolError("malformed_message", f"unknown probe state {state!r}")
            learn_end = obj.get("learn_end")
            return Status(
                state=state,
                wall_time=float(obj.get("wall_time") or 0.0),
                learn_end=float(learn_end) if isinstance(learn_end, int | float) else None,
            )
        if kind in ("snapshot", "summary"):
            snap = (
                snapshot
                if snapshot is not None
                else Snapshot.from_json(_req(obj, "snapshot", dict))
            )
            wall = obj.get("wall_time")
            return SnapshotMessage(
                seq=int(obj.get("seq") or 0),
                wall_time=float(wall)
                if isinstance(wall, int | float)
                and not isinstance(wall, bool)
                and math.isfinite(wall)
                else None,
                snapshot=snap,
                final=kind == "summary",
            )
        if kind == "alert":
            return AlertMessage(
                alert=Alert.from_json(_req(obj, "alert", dict)), update=bool(obj.get("update"))
            )
        if kind == "heartbeat":
            return Heartbeat(
                wall_time=float(_req(obj, "wall_time", (int, float))),
                stats=EngineStats.from_json(_req(obj, "stats", dict)),
            )
        if kind == "ack":
            error = obj.get("error")
            message = obj.get("message")
            return Ack(
                cmd=_message_text(obj, "cmd", 64),
                id=command_id(obj),
                ok=bool(obj.get("ok")),
                error=str(error)[:64] if error is not None else None,
                message=str(message)[:1024] if message is not None else None,
                # Checked by whoever asked for it (the line's size and depth are bounded).
                data=obj["data"] if isinstance(obj.get("data"), dict) else None,
            )
        if kind == "warning":
            return WarningMessage(
                code=_message_text(obj, "code", 64), message=_message_text(obj, "message")
            )
        if kind == "error":
            return ErrorMessage(
                code=_message_text(obj, "code", 64), message=_message_text(obj, "message")
            )
    except (TypeError, ValueError, KeyError) as err:
        if isinstance(err, ProtocolError):
            raise
        raise ProtocolError("malformed_message", f"{kind!r} message: {err}") from None
    raise ProtocolError("unknown_message", f"unknown message type {kind[:64]!r}")


def check_version(hello: Hello) -> None:
    """A probe of another protocol version cannot be understood: say so, once."""
    if hello.version != PROTOCOL_VERSION:
        raise ProtocolError(
            "version_mismatch",
            f"probe speaks protocol {hello.version}, this TOTEM speaks {PROTOCOL_VERSION}",
        )
