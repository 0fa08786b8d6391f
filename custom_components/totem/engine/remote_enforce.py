"""Blocks carried out by the probe itself: a remote probe enforces on its own machine.

A probe on another machine (``probe ... --mqtt ... --enforce [BACKEND]``) sees
devices Home Assistant's host is not on the path of. When such a device is
blocked from Home Assistant, the command travels signed over MQTT
(:mod:`.mqtt_link` verifies it, replays refused), and this module applies it
with the probe's own backend (:mod:`.enforce`, nftables on that machine): the
refusals of :class:`.safety.Safety` are the probe's host's (its gateway, its own
MACs, its capture interface). Every answer is an ``ack``; ``blocks`` returns
what the probe's kernel holds, so Home Assistant shows the kernel's truth.

Commands (``"cmd"``): ``block`` (``mac``, ``seconds``, ``ips``), ``unblock``,
``blocks``, ``quarantine`` and ``release`` (``mac``). A probe started without
``--enforce`` refuses them all with ``blocking_disabled``.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any, ClassVar

from .enforce import (
    BACKEND_NONE,
    BACKENDS,
    Backend,
    Block,
    EnforceError,
    make_backend,
    parse_ips,
    parse_mac,
)
from .hostinfo import read_interfaces
from .protocol import (
    MAX_LIST,
    MAX_SECONDS,
    OK,
    Command,
    ProtocolError,
    Reply,
    _mac,
    _number,
    register_command,
)
from .safety import GatewayMemory, default_memory_path

# Blocks a probe reports in one ack: a home blocks a handful of devices; the
# device table holds 4,096, and an ack line must stay far below the line limit.
MAX_REPORTED_BLOCKS = 512


@dataclass(frozen=True, slots=True, kw_only=True)
class BlockDevice(Command):
    name: ClassVar[str] = "block"
    mac: str
    seconds: float | None = None  # None: permanent
    ips: tuple[str, ...] = ()

    def _fields(self) -> dict[str, Any]:
        return {"mac": self.mac, "seconds": self.seconds, "ips": list(self.ips) or None}


@dataclass(frozen=True, slots=True, kw_only=True)
class UnblockDevice(Command):
    name: ClassVar[str] = "unblock"
    mac: str

    def _fields(self) -> dict[str, Any]:
        return {"mac": self.mac}


@dataclass(frozen=True, slots=True, kw_only=True)
class ListBlocks(Command):
    name: ClassVar[str] = "blocks"


@dataclass(frozen=True, slots=True, kw_only=True)
class QuarantineDevice(Command):
    name: ClassVar[str] = "quarantine"
    mac: str

    def _fields(self) -> dict[str, Any]:
        return {"mac": self.mac}


@dataclass(frozen=True, slots=True, kw_only=True)
class ReleaseDevice(Command):
    name: ClassVar[str] = "release"
    mac: str

    def _fields(self) -> dict[str, Any]:
        return {"mac": self.mac}


def _required_mac(obj: dict[str, Any]) -> str:
    mac = _mac(obj, required=True)
    assert mac is not None
    return mac


def _parse_block(obj: dict[str, Any], ident: int | None) -> Command:
    raw_ips = obj.get("ips") or []
    if not isinstance(raw_ips, list) or len(raw_ips) > MAX_LIST:
        raise ProtocolError("malformed_command", f"'ips' is a list of at most {MAX_LIST}")
    try:
        ips = parse_ips(str(ip)[:64] for ip in raw_ips)
    except EnforceError as err:
        raise ProtocolError("invalid_ip", err.message) from None
    seconds = _number(obj, "seconds", low=1.0, high=MAX_SECONDS)
    return BlockDevice(id=ident, mac=_required_mac(obj), seconds=seconds, ips=ips)


register_command(BlockDevice.name, _parse_block)
register_command(UnblockDevice.name, lambda o, i: UnblockDevice(id=i, mac=_required_mac(o)))
register_command(ListBlocks.name, lambda _o, i: ListBlocks(id=i))
register_command(QuarantineDevice.name, lambda o, i: QuarantineDevice(id=i, mac=_required_mac(o)))
register_command(ReleaseDevice.name, lambda o, i: ReleaseDevice(id=i, mac=_required_mac(o)))

ENFORCE_COMMANDS = (BlockDevice, UnblockDevice, ListBlocks, QuarantineDevice, ReleaseDevice)


def blocks_data(blocks: list[Block], quarantined: list[str] | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"blocks": [b.to_json() for b in blocks[:MAX_REPORTED_BLOCKS]]}
    if quarantined is not None:
        data["quarantined"] = quarantined[:MAX_REPORTED_BLOCKS]
    return data


def parse_quarantined(data: dict[str, Any] | None) -> frozenset[str] | None:
    """The MACs a ``blocks`` ack says the probe's kernel quarantines; None when it does
    not say (a probe older than this list, or a backend without quarantine). The probe
    is untrusted: what is not a MAC is dropped."""
    raw = data.get("quarantined") if data is not None else None
    if not isinstance(raw, list):
        return None
    found: set[str] = set()
    for item in raw[:MAX_REPORTED_BLOCKS]:
        if not isinstance(item, str):
            continue
        try:
            found.add(parse_mac(item[:32]))
        except EnforceError:
            continue
    return frozenset(found)


def parse_blocks(data: dict[str, Any] | None, backend: str) -> list[Block]:
    """The blocks of an ack's ``data``: the probe is untrusted, so each is checked and
    the ones that are not a block are dropped (a malformed list is no list)."""
    raw = data.get("blocks") if data is not None else None
    if not isinstance(raw, list):
        raise ProtocolError("malformed_message", "the ack carries no 'blocks' list")
    found: list[Block] = []
    for item in raw[:MAX_REPORTED_BLOCKS]:
        if not isinstance(item, dict):
            continue
        try:
            mac = _required_mac(item)
            timeout = _number(item, "timeout", low=0.0, high=MAX_SECONDS)
            left = _number(item, "expires_in", low=0.0, high=MAX_SECONDS)
            ips = item.get("ips") or []
            if not isinstance(ips, list) or len(ips) > MAX_LIST:
                continue
            addresses = parse_ips(str(ip)[:64] for ip in ips)
        except (ProtocolError, EnforceError):
            continue
        found.append(Block(mac, backend, timeout, left, addresses))
    return found


class RemoteEnforcer:
    """Applies the enforcement commands with this machine's backend (None: refuses them)."""

    def __init__(self, backend: Backend | None) -> None:
        self.backend = backend

    def command(self, cmd: Command) -> Reply | None:
        """The reply to an enforcement command; None for every other command."""
        if not isinstance(cmd, ENFORCE_COMMANDS):
            return None
        backend = self.backend
        if backend is None:
            return Reply.refused(
                "blocking_disabled", "this probe was started without --enforce: it blocks nothing"
            )
        try:
            return self._apply(backend, cmd)
        except EnforceError as err:
            return Reply.refused(err.reason, err.message)

    @staticmethod
    def _apply(backend: Backend, cmd: Command) -> Reply:
        if isinstance(cmd, BlockDevice):
            block = backend.block(cmd.mac, cmd.seconds, cmd.ips)
            return Reply(True, data=blocks_data([block] if block is not None else []))
        if isinstance(cmd, UnblockDevice):
            backend.unblock(cmd.mac)
            return OK
        if isinstance(cmd, ListBlocks):
            # The quarantines too: Home Assistant compares them on every read-back, so a
            # probe restarted without going offline gets its waiting devices held again.
            list_held = getattr(backend, "list_held", None)
            if list_held is None:
                return Reply(True, data=blocks_data(backend.list_blocks()))
            blocks, quarantined = list_held()
            return Reply(True, data=blocks_data(blocks, quarantined))
        assert isinstance(cmd, QuarantineDevice | ReleaseDevice)
        verb = "quarantine" if isinstance(cmd, QuarantineDevice) else "release"
        action = getattr(backend, verb, None)
        if action is None:
            return Reply.refused("unsupported", f"the {backend.name} backend cannot {verb}")
        action(cmd.mac)
        return OK


def add_enforce_option(parser: Any) -> None:
    parser.add_argument(
        "--enforce",
        nargs="?",
        const="auto",
        metavar="BACKEND",
        choices=("auto", *BACKENDS),
        help="remote probe: carry out blocks from Home Assistant on this machine "
        "(auto: nftables-bridge with a Linux bridge, else nftables-inet)",
    )


def build_enforcer(args: argparse.Namespace) -> RemoteEnforcer:
    """The probe's enforcer; EnforceError when the named backend does not exist."""
    name: str | None = getattr(args, "enforce", None)
    if name is None or name == BACKEND_NONE:
        return RemoteEnforcer(None)
    iface: str | None = getattr(args, "iface", None)
    capture_mac = read_interfaces().get(iface) if iface else None
    backend = make_backend(
        None if name == "auto" else name,
        capture_mac=capture_mac,
        memory=GatewayMemory(default_memory_path()),
    )
    return RemoteEnforcer(backend)
