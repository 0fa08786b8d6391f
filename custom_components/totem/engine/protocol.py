"""The probe protocol: the commands a probe accepts, and what both directions share.

A probe (``python -m custom_components.totem.engine probe``, local or remote)
talks newline-delimited JSON: one object a line. Home Assistant and the probe
use only these types and those of :mod:`.messages` (the lines a probe sends);
each has ``to_json``/``from_json``, and ``from_json`` validates and bounds
every field (a remote probe's broker and a local probe's stdin are both
untrusted input), raising :class:`ProtocolError` with a code and a one-line
message.

Home Assistant -> probe (``"cmd"``, with an optional ``"id"`` echoed in the ack):
see :data:`COMMANDS`. An unknown or malformed command gets an ``ack`` with
``ok: false``, never silence. Handling a command comes to a :class:`Reply`,
which the probe sends back as a :class:`.messages.Ack`.

The probe's messages have their own module because the engine's other
commands (``analyze``, ``capture``) run the commands' handlers but never send
a message: not importing nine more dataclasses is part of their start-up.
"""

from __future__ import annotations

import ipaddress
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from . import netaddr
from .model import ALERT_KINDS, DEVICE_TYPES

PROTOCOL_VERSION = 2
# A command line longer than this is refused before it is parsed: no command
# needs more, and the reader must not buffer without bound.
MAX_COMMAND_LINE = 64 * 1024
# No command nests deeper than a few levels; a deeper one is an attack on the parser.
MAX_DEPTH = 16
MAX_TEXT = 255
MAX_PATH = 4096
MAX_LIST = 64
# Ten years: the longest snooze or temporary block that means anything.
MAX_SECONDS = 10 * 365 * 86400.0
MAX_NUMBER = 1e12


class ProtocolError(ValueError):
    """A message or command that does not follow the protocol; ``code`` says how."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# -- field validation -------------------------------------------------------------


def _text(
    obj: dict[str, Any], key: str, *, limit: int = MAX_TEXT, required: bool = False
) -> str | None:
    value = obj.get(key)
    if value is None:
        if required:
            raise ProtocolError("malformed_command", f"{key!r} is required")
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise ProtocolError(
            "malformed_command", f"{key!r} must be a string of at most {limit} characters"
        )
    return value


def _number(
    obj: dict[str, Any], key: str, *, low: float = 0.0, high: float = MAX_NUMBER
) -> float | None:
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ProtocolError("malformed_command", f"{key!r} must be a finite number")
    if not low <= value <= high:
        raise ProtocolError("malformed_command", f"{key!r} must be between {low:g} and {high:g}")
    return float(value)


def _mac(obj: dict[str, Any], key: str = "mac", *, required: bool = False) -> str | None:
    text = _text(obj, key, limit=64, required=required)
    if text is None:
        return None
    try:
        raw = netaddr.mac_bytes(text)
    except ValueError:
        raise ProtocolError("invalid_mac", f"{text!r} is not a MAC address") from None
    if not netaddr.is_unicast_mac(raw):
        raise ProtocolError("invalid_mac", f"{text!r} is not a device's MAC address")
    return netaddr.mac_str(raw)


def _names(obj: dict[str, Any], key: str) -> tuple[str, ...]:
    value = obj.get(key, [])
    if value is None:
        return ()
    if (
        not isinstance(value, list)
        or len(value) > MAX_LIST
        or not all(isinstance(v, str) and 0 < len(v) <= 64 for v in value)
    ):
        raise ProtocolError("malformed_command", f"{key!r} must be a list of short names")
    return tuple(value)


def _kind(obj: dict[str, Any]) -> str | None:
    kind = _text(obj, "kind", limit=64)
    if kind is not None and kind != "*" and kind not in ALERT_KINDS:
        raise ProtocolError("malformed_command", f"unknown alert kind {kind!r}")
    return None if kind == "*" else kind


def _drop_none(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if v is not None}


# -- commands -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Command:
    """Base of every command; ``id`` lets the sender match the ack."""

    name: ClassVar[str] = ""
    id: int | None = None

    def to_json(self) -> dict[str, Any]:
        return _drop_none({"cmd": self.name, "id": self.id, **self._fields()})

    def _fields(self) -> dict[str, Any]:
        return {}

    def to_line(self) -> str:
        return json.dumps(self.to_json(), separators=(",", ":"))


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestSnapshot(Command):
    """Send a snapshot now rather than at the next interval."""

    name: ClassVar[str] = "snapshot"


@dataclass(frozen=True, slots=True, kw_only=True)
class ResetBaseline(Command):
    """Forget what a device (None: every device) learned, and learn it again."""

    name: ClassVar[str] = "reset_baseline"
    mac: str | None = None

    def _fields(self) -> dict[str, Any]:
        return {"mac": self.mac}


@dataclass(frozen=True, slots=True, kw_only=True)
class Snooze(Command):
    """Drop a device's alerts of one kind (None: all kinds) for ``seconds`` or until ``until``."""

    name: ClassVar[str] = "snooze"
    mac: str
    kind: str | None = None
    seconds: float | None = None
    until: float | None = None  # packet time

    def _fields(self) -> dict[str, Any]:
        return {"mac": self.mac, "kind": self.kind, "seconds": self.seconds, "until": self.until}


@dataclass(frozen=True, slots=True, kw_only=True)
class Unsnooze(Command):
    """End a device's snooze of one kind of alert (None: every kind)."""

    name: ClassVar[str] = "unsnooze"
    mac: str
    kind: str | None = None

    def _fields(self) -> dict[str, Any]:
        return {"mac": self.mac, "kind": self.kind}


@dataclass(frozen=True, slots=True, kw_only=True)
class SetThresholds(Command):
    """Per-device (or, without ``mac``, default) detector thresholds; ``values=None``
    with a mac clears that device's overrides. Names are checked by the detectors."""

    name: ClassVar[str] = "thresholds"
    mac: str | None = None
    values: dict[str, float] | None = None

    def _fields(self) -> dict[str, Any]:
        return {"mac": self.mac, "values": self.values}


@dataclass(frozen=True, slots=True, kw_only=True)
class SetPolicy(Command):
    """Edit the device-type protocol table: protocols allowed and denied for a type."""

    name: ClassVar[str] = "policy"
    type: str
    allow: tuple[str, ...] = ()
    deny: tuple[str, ...] = ()

    def _fields(self) -> dict[str, Any]:
        return {"type": self.type, "allow": list(self.allow), "deny": list(self.deny)}


@dataclass(frozen=True, slots=True, kw_only=True)
class LoadBlocklist(Command):
    """Load an offline blocklist file (addresses, networks, domains); None removes it."""

    name: ClassVar[str] = "blocklist"
    path: str | None = None

    def _fields(self) -> dict[str, Any]:
        return {"path": self.path}


@dataclass(frozen=True, slots=True, kw_only=True)
class Discovery(Command):
    """What active discovery (Home Assistant's zeroconf) heard about an address or MAC."""

    name: ClassVar[str] = "discovery"
    mac: str | None = None
    ip: str | None = None
    service_type: str | None = None
    instance: str | None = None
    host: str | None = None
    model: str | None = None

    def _fields(self) -> dict[str, Any]:
        return {
            "mac": self.mac,
            "ip": self.ip,
            "service_type": self.service_type,
            "instance": self.instance,
            "host": self.host,
            "model": self.model,
        }


def _parse_reset(obj: dict[str, Any], ident: int | None) -> Command:
    return ResetBaseline(id=ident, mac=_mac(obj))


def _parse_snooze(obj: dict[str, Any], ident: int | None) -> Command:
    seconds = _number(obj, "seconds", low=0.0, high=MAX_SECONDS)
    until = _number(obj, "until", low=0.0, high=MAX_NUMBER)
    if (seconds is None) == (until is None):
        raise ProtocolError("malformed_command", "snooze needs exactly one of 'seconds' or 'until'")
    mac = _mac(obj, required=True)
    assert mac is not None
    return Snooze(id=ident, mac=mac, kind=_kind(obj), seconds=seconds, until=until)


def _parse_unsnooze(obj: dict[str, Any], ident: int | None) -> Command:
    mac = _mac(obj, required=True)
    assert mac is not None
    return Unsnooze(id=ident, mac=mac, kind=_kind(obj))


def _parse_thresholds(obj: dict[str, Any], ident: int | None) -> Command:
    mac = _mac(obj)
    raw = obj.get("values")
    if raw is None:
        if mac is None:
            raise ProtocolError("malformed_command", "default thresholds need 'values'")
        return SetThresholds(id=ident, mac=mac, values=None)
    if not isinstance(raw, dict) or len(raw) > MAX_LIST:
        raise ProtocolError("malformed_command", "'values' must be an object of threshold names")
    values: dict[str, float] = {}
    for key in raw:
        if not isinstance(key, str) or not 0 < len(key) <= 64:
            raise ProtocolError("malformed_command", "threshold names are short strings")
        number = _number(raw, key)
        assert number is not None or raw[key] is None
        if number is None:
            raise ProtocolError("malformed_command", f"threshold {key!r} needs a number")
        values[key] = number
    return SetThresholds(id=ident, mac=mac, values=values)


def _parse_policy(obj: dict[str, Any], ident: int | None) -> Command:
    type_ = _text(obj, "type", limit=64, required=True)
    if type_ not in DEVICE_TYPES:
        raise ProtocolError("malformed_command", f"unknown device type {type_!r}")
    return SetPolicy(id=ident, type=type_, allow=_names(obj, "allow"), deny=_names(obj, "deny"))


def _parse_blocklist(obj: dict[str, Any], ident: int | None) -> Command:
    return LoadBlocklist(id=ident, path=_text(obj, "path", limit=MAX_PATH) or None)


def _parse_discovery(obj: dict[str, Any], ident: int | None) -> Command:
    mac, ip = _mac(obj), _text(obj, "ip", limit=64)
    if mac is None and ip is None:
        raise ProtocolError("malformed_command", "discovery names a 'mac' or an 'ip'")
    return Discovery(
        id=ident,
        mac=mac,
        ip=ip,
        service_type=_text(obj, "service_type"),
        instance=_text(obj, "instance"),
        host=_text(obj, "host"),
        model=_text(obj, "model"),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class SetDeviceType(Command):
    """The user's type for a device (None: back to what the evidence says); the
    detectors that apply follow it."""

    name: ClassVar[str] = "device_type"
    mac: str
    type: str | None = None

    def _fields(self) -> dict[str, Any]:
        return {"mac": self.mac, "type": self.type}


def _parse_device_type(obj: dict[str, Any], ident: int | None) -> Command:
    mac = _mac(obj, required=True)
    assert mac is not None
    type_ = _text(obj, "type", limit=64)
    if type_ is not None and type_ not in DEVICE_TYPES:
        raise ProtocolError("malformed_command", f"unknown device type {type_!r}")
    return SetDeviceType(id=ident, mac=mac, type=type_ or None)


def dhcp_server_entry(text: str) -> str:
    """A legitimate DHCP server as the user names it: a device's MAC, or an IP
    address, normalised; ValueError (one line) otherwise."""
    text = text.strip()
    try:  # first: "192.168.100.200" also reads as twelve hex digits
        return str(ipaddress.ip_address(text))
    except ValueError:
        pass
    try:
        raw = netaddr.mac_bytes(text)
    except ValueError:
        raise ValueError(f"{text!r} is neither a MAC address nor an IP address") from None
    if not netaddr.is_unicast_mac(raw):
        raise ValueError(f"{text!r} is not a device's MAC address")
    return netaddr.mac_str(raw)


@dataclass(frozen=True, slots=True, kw_only=True)
class AllowDhcpServers(Command):
    """The DHCP servers the user vouches for besides the one TOTEM learned (a mesh
    node, a Pi-hole): MACs or IP addresses, never flagged as rogue. Replaces the list."""

    name: ClassVar[str] = "dhcp_servers"
    servers: tuple[str, ...] = ()

    def _fields(self) -> dict[str, Any]:
        return {"servers": list(self.servers)}


def _parse_dhcp_servers(obj: dict[str, Any], ident: int | None) -> Command:
    raw = obj.get("servers", [])
    if not isinstance(raw, list) or len(raw) > MAX_LIST:
        raise ProtocolError("malformed_command", f"'servers' must be a list of at most {MAX_LIST}")
    servers: list[str] = []
    for item in raw:
        if not isinstance(item, str) or len(item) > 64:
            raise ProtocolError("malformed_command", "'servers' holds MACs or IP addresses")
        try:
            servers.append(dhcp_server_entry(item))
        except ValueError as err:
            raise ProtocolError("invalid_value", str(err)) from None
    return AllowDhcpServers(id=ident, servers=tuple(sorted(set(servers))))


CommandParser = Callable[[dict[str, Any], int | None], Command]

# Every command a probe accepts, by its "cmd" name.
COMMANDS: dict[str, CommandParser] = {
    RequestSnapshot.name: lambda _obj, ident: RequestSnapshot(id=ident),
    ResetBaseline.name: _parse_reset,
    Snooze.name: _parse_snooze,
    Unsnooze.name: _parse_unsnooze,
    SetThresholds.name: _parse_thresholds,
    SetPolicy.name: _parse_policy,
    LoadBlocklist.name: _parse_blocklist,
    Discovery.name: _parse_discovery,
    SetDeviceType.name: _parse_device_type,
    AllowDhcpServers.name: _parse_dhcp_servers,
}


def register_command(name: str, parser: CommandParser) -> None:
    """Teach the protocol a command (a feature module adds its own)."""
    COMMANDS[name] = parser


def command_id(obj: Any) -> int | None:
    """The ``id`` of a command object, when it has a usable one."""
    if isinstance(obj, dict):
        ident = obj.get("id")
        if isinstance(ident, int) and not isinstance(ident, bool) and 0 <= ident < 2**53:
            return ident
    return None


def parse_command(obj: Any) -> Command:
    """A command from its JSON object; ProtocolError when unknown or malformed."""
    if not isinstance(obj, dict) or not isinstance(obj.get("cmd"), str):
        raise ProtocolError("malformed_command", "a command is an object with a 'cmd' string")
    parser = COMMANDS.get(obj["cmd"])
    if parser is None:
        raise ProtocolError("unknown_command", f"unknown command {obj['cmd'][:64]!r}")
    return parser(obj, command_id(obj))


def _nesting(text: str) -> int:
    """How deep arrays and objects nest in a JSON text (strings skipped)."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def decode_line(
    line: str | bytes, limit: int = MAX_COMMAND_LINE, max_depth: int | None = MAX_DEPTH
) -> Any:
    """One JSON line, bounded: too long, too deep or not JSON is a ProtocolError.

    Commands are small and shallow (the defaults); a snapshot of a big home is
    neither, and its reader passes its own bounds. The depth is checked before
    parsing because what a deep document does to the parser differs between
    Python versions (RecursionError on 3.13, none on 3.14).
    """
    if len(line) > limit:
        raise ProtocolError("malformed_command", f"line longer than {limit} bytes")
    if max_depth is not None:
        text = line.decode(errors="replace") if isinstance(line, bytes) else line
        if _nesting(text) > max_depth:
            raise ProtocolError("malformed_command", "JSON nested too deeply")
    try:
        return json.loads(line)
    except RecursionError:
        raise ProtocolError("malformed_command", "JSON nested too deeply") from None
    except ValueError as err:
        raise ProtocolError("malformed_command", f"not JSON: {err}") from None


def parse_command_line(line: str | bytes) -> Command:
    return parse_command(decode_line(line))


# -- replies ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Reply:
    """What handling a command came to: ok, or an error code and a one-line message."""

    ok: bool
    error: str | None = None
    message: str | None = None
    data: dict[str, Any] | None = None  # a result the command returns (the probe's blocks)

    @classmethod
    def refused(cls, error: str, message: str) -> Reply:
        return cls(False, error, message)


OK = Reply(True)
