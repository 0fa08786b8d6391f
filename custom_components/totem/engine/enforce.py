"""Per-device blocking: cut a MAC off the network with nftables, or only alert.

Every backend keeps its rules in its own nftables table named ``totem`` and
stores blocked devices as elements of nft sets with ``flags timeout``, so a
temporary block expires in the kernel by itself, even if TOTEM is not running.
Each change is one ``nft -j -f -`` transaction that (re)creates the table,
sets, chains and rules and then changes elements: it is atomic, idempotent and
repairs rules deleted by hand. What is blocked is always read back from the
kernel, never remembered.

All calls block on a subprocess; an async caller runs them in an executor.
``NftRunner`` is the single boundary with the kernel, which tests fake.
"""

from __future__ import annotations

import ipaddress
import json
import math
import subprocess
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from .hostinfo import HostInfo, canonical_mac, find_tool, is_group_mac, read_host_info
from .quarantine import QUARANTINE_SET, quarantine_rules
from .safety import REASONS, EnforceError, GatewayMemory, Protection, ReasonCode, Safety

__all__ = ["REASONS", "EnforceError", "Protection", "ReasonCode", "Safety"]

BACKEND_BRIDGE = "nftables-bridge"
BACKEND_INET = "nftables-inet"
BACKEND_NONE = "none"
BACKENDS: tuple[str, ...] = (BACKEND_BRIDGE, BACKEND_INET, BACKEND_NONE)

TABLE = "totem"
MAC_SET = "blocked_macs"
IPV4_SET = "blocked_ipv4"
IPV6_SET = "blocked_ipv6"
# Older kernels keep set timeouts in 32-bit milliseconds (~49 days); a year is
# as long as a "temporary" block needs to be, and longer is permanent.
MAX_DURATION = 365 * 24 * 3600


@dataclass(frozen=True, slots=True)
class Block:
    """One blocked device as the kernel reports it."""

    mac: str
    backend: str
    # The duration asked for and the seconds left; both None for a permanent block.
    timeout: float | None = None
    expires_in: float | None = None
    ips: tuple[str, ...] = ()

    @property
    def permanent(self) -> bool:
        return self.timeout is None

    def to_json(self) -> dict[str, Any]:
        return {
            "mac": self.mac,
            "backend": self.backend,
            "permanent": self.permanent,
            "timeout": self.timeout,
            "expires_in": self.expires_in,
            "ips": list(self.ips),
        }


# --- the kernel boundary -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NftResult:
    returncode: int
    stdout: str
    stderr: str


class NftBoundary(Protocol):
    """Runs ``nft ARGS`` with STDIN; raises FileNotFoundError when nft is absent."""

    def run(self, args: Sequence[str], stdin: str | None = None) -> NftResult: ...


@dataclass(frozen=True, slots=True)
class NftRunner:
    """The real ``nft``, optionally behind a prefix such as ``ip netns exec NS``.

    A bare ``nft`` is also looked for in the sbin directories.
    """

    prefix: tuple[str, ...] = ()
    nft: str = "nft"
    timeout: float = 10.0

    def run(self, args: Sequence[str], stdin: str | None = None) -> NftResult:
        nft = self.nft if "/" in self.nft else find_tool(self.nft)
        try:
            done = subprocess.run(
                [*self.prefix, nft, *args],
                input=stdin,
                capture_output=True,
                text=True,
                timeout=self.timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return NftResult(124, "", f"nft did not answer within {self.timeout:g} s")
        if self.prefix and done.returncode != 0 and _prefix_lost_nft(done.stderr, nft):
            # `ip netns exec` reports a missing nft on stderr instead of raising.
            raise FileNotFoundError(self.nft)
        return NftResult(done.returncode, done.stdout, done.stderr)


def _prefix_lost_nft(stderr: str, nft: str) -> bool:
    return f'exec of "{nft}" failed' in stderr


class Nft:
    """JSON in, JSON out, kernel errors turned into EnforceError."""

    def __init__(self, runner: NftBoundary) -> None:
        self._runner = runner

    def apply(self, commands: list[dict[str, Any]]) -> None:
        """Run COMMANDS as one atomic transaction."""
        self._call(["-j", "-f", "-"], json.dumps({"nftables": commands}))

    def list_table(self, family: str) -> list[dict[str, Any]] | None:
        """The objects of TOTEM's table in FAMILY, or None when it does not exist."""
        try:
            out = self._call(["-j", "list", "table", family, TABLE])
        except _NoSuchObjectError:
            return None
        return _nftables_items(out)

    def list_tables(self) -> list[dict[str, Any]]:
        return _nftables_items(self._call(["-j", "list", "tables"]))

    def _call(self, args: list[str], stdin: str | None = None) -> str:
        try:
            result = self._runner.run(args, stdin)
        except FileNotFoundError:
            raise EnforceError(
                "nft_missing", "nft is not installed (Debian: apt-get install nftables)"
            ) from None
        except OSError as err:
            raise EnforceError("nft_error", f"cannot run nft: {err}") from None
        if result.returncode == 0:
            return result.stdout
        detail = _first_error_line(result.stderr) or f"exit status {result.returncode}"
        if "Operation not permitted" in result.stderr:
            raise EnforceError(
                "permission_denied",
                "nftables needs root or CAP_NET_ADMIN (nft said: Operation not permitted)",
            )
        if "No such file or directory" in result.stderr:
            raise _NoSuchObjectError("nft_error", f"nft failed: {detail}")
        raise EnforceError("nft_error", f"nft failed: {detail}")


class _NoSuchObjectError(EnforceError):
    """The table (or set) asked for does not exist."""


def _first_error_line(stderr: str) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if "Error" in line]
    return (errors or lines or [""])[0]


def _nftables_items(text: str) -> list[dict[str, Any]]:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as err:
        raise EnforceError("nft_error", f"nft printed something that is not JSON: {err}") from None
    items = doc.get("nftables") if isinstance(doc, dict) else None
    if not isinstance(items, list):
        raise EnforceError("nft_error", "nft printed JSON without an 'nftables' list")
    return [item for item in items if isinstance(item, dict)]


# --- input checks --------------------------------------------------------------------------


def parse_mac(text: str) -> str:
    """Canonical MAC, or EnforceError("invalid_mac")."""
    mac = canonical_mac(text)
    if mac is None:
        raise EnforceError("invalid_mac", f"{text!r} is not a MAC address (aa:bb:cc:dd:ee:ff)")
    if is_group_mac(mac):
        raise EnforceError(
            "invalid_mac", f"{mac} is a multicast/broadcast address, not a device's MAC"
        )
    if mac == "00:00:00:00:00:00":
        # Blocking it would match every frame that lacks a real sender: nobody's MAC.
        raise EnforceError("invalid_mac", f"{mac} is the null MAC, not a device's MAC")
    return mac


def parse_ips(ips: Iterable[str]) -> tuple[str, ...]:
    """Canonical IP strings (nft's own spelling), or EnforceError("invalid_ip")."""
    out: list[str] = []
    for text in ips:
        try:
            ip = ipaddress.ip_address(text.strip())
        except ValueError:
            raise EnforceError("invalid_ip", f"{text!r} is not an IP address") from None
        if str(ip) not in out:
            out.append(str(ip))
    return tuple(out)


def parse_duration(value: float | str | None) -> int | None:
    """Whole seconds (rounded up) for a temporary block; None means permanent.

    Strings may end in s, m, h or d ("90", "15m", "2h").
    """
    if value is None:
        return None
    seconds: float
    if isinstance(value, str):
        text = value.strip().lower()
        scale = {"s": 1, "m": 60, "h": 3600, "d": 86400}.get(text[-1:], 0)
        try:
            seconds = float(text[:-1]) * scale if scale else float(text)
        except ValueError:
            raise EnforceError(
                "invalid_duration", f"{value!r} is not a duration (e.g. 90, 15m, 2h, 1d)"
            ) from None
    else:
        seconds = float(value)
    if not math.isfinite(seconds) or seconds <= 0 or seconds > MAX_DURATION:
        raise EnforceError(
            "invalid_duration",
            f"duration must be more than 0 and at most {MAX_DURATION} s (365 days); "
            "leave it out for a permanent block",
        )
    return math.ceil(seconds)


# --- backends ------------------------------------------------------------------------------

HostReader = Callable[[], HostInfo]
# MAC -> why it must never be blocked, from what TOTEM observed (read at every check).
ProtectedReader = Callable[[], Mapping[str, Protection]]


def nothing_protected() -> Mapping[str, Protection]:
    return {}


class Backend(ABC):
    """One way of enforcing blocks. All methods may block; run them in an executor."""

    name: str
    description: str

    def __init__(
        self,
        runner: NftBoundary | None = None,
        host: HostReader = read_host_info,
        capture_mac: str | None = None,
        protected: ProtectedReader = nothing_protected,
        memory: GatewayMemory | None = None,
    ) -> None:
        self._nft = Nft(runner if runner is not None else NftRunner())
        self._host = host
        self._capture_mac = parse_mac(capture_mac) if capture_mac else None
        self._protected = protected
        self._memory = memory if memory is not None else GatewayMemory()

    def check(self, mac: str, ips: Iterable[str] = ()) -> tuple[str, tuple[str, ...]]:
        """Validated (MAC, IPs), or EnforceError saying why they must not be blocked.

        The IPs include those the host's neighbour table maps to MAC right now.
        """
        canonical, addresses = parse_mac(mac), parse_ips(ips)
        # The host is read now, not at start-up: the gateway can change.
        host = self._host()
        self._memory.learn(host)
        addresses = tuple(dict.fromkeys(addresses + host.ips_of(canonical)))
        safety = Safety(host, self._capture_mac, self._protected(), self._memory)
        safety.check(canonical, addresses)
        return canonical, addresses

    @abstractmethod
    def available(self) -> str | None:
        """None when this backend can enforce blocks here, else the reason it cannot."""

    def host_problem(self, host: HostInfo) -> str | None:
        """Why blocks would not cut traffic on HOST (no bridge, no routing); None if they do."""
        return None

    @abstractmethod
    def block(
        self, mac: str, duration: float | str | None = None, ips: Iterable[str] = ()
    ) -> Block | None:
        """Block MAC (and IPs) for DURATION seconds or for good; replaces an earlier block.

        Returns the block as the kernel now reports it; None when nothing is enforced.
        """

    @abstractmethod
    def unblock(self, mac: str) -> bool:
        """Lift the block on MAC; False when it was not blocked."""

    @abstractmethod
    def list_blocks(self) -> list[Block]:
        """Every current block, read from the kernel."""

    @abstractmethod
    def remove_all(self) -> None:
        """Drop everything TOTEM put in the kernel."""


class NoneBackend(Backend):
    """Alert only: checks requests like the others but blocks nothing."""

    name = BACKEND_NONE
    description = "alert only: TOTEM raises alerts but blocks nothing"

    def available(self) -> str | None:
        return None

    def block(
        self, mac: str, duration: float | str | None = None, ips: Iterable[str] = ()
    ) -> Block | None:
        self.check(mac, ips)
        parse_duration(duration)
        return None

    def unblock(self, mac: str) -> bool:
        parse_mac(mac)
        return False

    def list_blocks(self) -> list[Block]:
        return []

    def remove_all(self) -> None:
        return None


@dataclass(frozen=True, slots=True)
class _SetSpec:
    name: str
    type: str


@dataclass(frozen=True, slots=True)
class _Match:
    """``PROTOCOL FIELD @SET drop``."""

    protocol: str
    field: str
    set: str


@dataclass(frozen=True, slots=True)
class _Layout:
    family: str
    priority: int
    sets: tuple[_SetSpec, ...]
    chains: dict[str, tuple[_Match, ...]] = field(default_factory=dict)


# Frames of a blocked MAC are dropped whichever way they go: through the bridge
# (forward) and to or from this host (input/output), so a misbehaving device
# cannot reach Home Assistant either. Capture taps sit before these hooks, so
# TOTEM keeps seeing what a blocked device tries to do.
_BRIDGE = _Layout(
    family="bridge",
    priority=-200,  # the bridge family's "filter" priority
    sets=(_SetSpec(MAC_SET, "ether_addr"), _SetSpec(QUARANTINE_SET, "ether_addr")),
    chains={
        "forward": (_Match("ether", "saddr", MAC_SET), _Match("ether", "daddr", MAC_SET)),
        "input": (_Match("ether", "saddr", MAC_SET),),
        "output": (_Match("ether", "daddr", MAC_SET),),
    },
)

# A router sees the MAC only on frames the device sends, so traffic towards the
# device is matched by its IPs, kept in their own sets with the MAC as comment.
_INET = _Layout(
    family="inet",
    priority=0,  # the inet family's "filter" priority
    sets=(
        _SetSpec(MAC_SET, "ether_addr"),
        _SetSpec(IPV4_SET, "ipv4_addr"),
        _SetSpec(IPV6_SET, "ipv6_addr"),
        _SetSpec(QUARANTINE_SET, "ether_addr"),
    ),
    chains={
        "forward": (
            _Match("ether", "saddr", MAC_SET),
            _Match("ip", "saddr", IPV4_SET),
            _Match("ip", "daddr", IPV4_SET),
            _Match("ip6", "saddr", IPV6_SET),
            _Match("ip6", "daddr", IPV6_SET),
        ),
        "input": (
            _Match("ether", "saddr", MAC_SET),
            _Match("ip", "saddr", IPV4_SET),
            _Match("ip6", "saddr", IPV6_SET),
        ),
        "output": (_Match("ip", "daddr", IPV4_SET), _Match("ip6", "daddr", IPV6_SET)),
    },
)


class NftablesBackend(Backend):
    """Blocks kept in set elements of TOTEM's own nftables table."""

    layout: _Layout
    stores_ips: bool

    def available(self) -> str | None:
        try:
            self._nft.list_tables()
        except EnforceError as err:
            return err.message
        return self.host_problem(self._host())

    def block(
        self, mac: str, duration: float | str | None = None, ips: Iterable[str] = ()
    ) -> Block | None:
        canonical, addresses = self.check(mac, ips)
        seconds = parse_duration(duration)
        stored = addresses if self.stores_ips else ()
        # A re-block replaces the old one, including IPs the device no longer has.
        known = self._ips_of(canonical)
        commands = self._prelude() + self._forget(canonical, tuple(dict.fromkeys(known + stored)))
        commands.append(self._element("add", MAC_SET, [_elem(canonical, seconds, None)]))
        for set_name, group in _by_set(stored):
            elems = [_elem(ip, seconds, canonical) for ip in group]
            commands.append(self._element("add", set_name, elems))
        self._nft.apply(commands)
        for current in self.list_blocks():
            if current.mac == canonical:
                return current
        # Only a block shorter than the round trip gets here.
        return Block(canonical, self.name, seconds, 0.0, stored)

    def unblock(self, mac: str) -> bool:
        canonical = parse_mac(mac)
        items = self._nft.list_table(self.layout.family)
        if items is None:
            return False  # nothing to undo, and no reason to create the table
        current = next((b for b in self._parse_blocks(items) if b.mac == canonical), None)
        # IPs are forgotten by their comment too: the MAC may have expired before them.
        ips = self._ips_by_owner(items).get(canonical, ())
        self._nft.apply(self._prelude() + self._forget(canonical, tuple(ips)))
        return current is not None

    def list_blocks(self) -> list[Block]:
        items = self._nft.list_table(self.layout.family)
        return [] if items is None else self._parse_blocks(items)

    def quarantine(self, mac: str) -> None:
        """Cut MAC off everything but DHCP, DNS and ARP until released (a new device
        waiting for approval). Refused like a block for what must never be blocked."""
        canonical, _ips = self.check(mac)
        element = self._element("add", QUARANTINE_SET, [canonical])
        self._nft.apply([*self._prelude(), element])

    def release(self, mac: str) -> bool:
        """Let a quarantined MAC back; False when it was not quarantined."""
        canonical = parse_mac(mac)
        if canonical not in self.list_quarantined():
            return False
        self._nft.apply([*self._prelude(), *self._forget_quarantine(canonical)])
        return True

    def list_quarantined(self) -> list[str]:
        return _quarantined(self._nft.list_table(self.layout.family) or [])

    def list_held(self) -> tuple[list[Block], list[str]]:
        """The blocks and the quarantined MACs from one reading of the table (a remote
        probe's read-back after every snapshot: one nft call, not two)."""
        items = self._nft.list_table(self.layout.family)
        if items is None:
            return [], []
        return self._parse_blocks(items), _quarantined(items)

    def _forget_quarantine(self, mac: str) -> list[dict[str, Any]]:
        return [
            self._element("add", QUARANTINE_SET, [mac]),
            self._element("delete", QUARANTINE_SET, [mac]),
        ]

    def _ips_by_owner(self, items: list[dict[str, Any]]) -> dict[str, tuple[str, ...]]:
        """MAC -> its blocked IPs, from the comments of the IP set elements."""
        if not self.stores_ips:
            return {}
        owned: dict[str, list[str]] = {}
        for item in _objects(items, "set"):
            if item.get("name") in (IPV4_SET, IPV6_SET):
                for element in item.get("elem", []):
                    value, _, _, owner = _parse_elem(element)
                    if owner is not None:
                        owned.setdefault(owner, []).append(value)
        # Hash sets list elements in no particular order; IPv4 first, then numerically.
        return {mac: tuple(sorted(values, key=_ip_order)) for mac, values in owned.items()}

    def _parse_blocks(self, items: list[dict[str, Any]]) -> list[Block]:
        ips = self._ips_by_owner(items)
        blocks = []
        for item in _objects(items, "set"):
            if item.get("name") != MAC_SET:
                continue
            for element in item.get("elem", []):
                value, timeout, expires, _ = _parse_elem(element)
                mac = canonical_mac(value) or value
                blocks.append(Block(mac, self.name, timeout, expires, ips.get(mac, ())))
        return sorted(blocks, key=lambda b: b.mac)

    def remove_all(self) -> None:
        family = self.layout.family
        table = {"family": family, "name": TABLE}
        # Adding first makes the delete succeed when the table is already gone.
        self._nft.apply([{"add": {"table": table}}, {"delete": {"table": dict(table)}}])

    # -- transaction pieces --

    def _prelude(self) -> list[dict[str, Any]]:
        """(Re)create table, sets and chains, and rewrite the rules; keeps set elements."""
        family = self.layout.family
        commands: list[dict[str, Any]] = [{"add": {"table": {"family": family, "name": TABLE}}}]
        for spec in self.layout.sets:
            commands.append(
                {
                    "add": {
                        "set": {
                            "family": family,
                            "table": TABLE,
                            "name": spec.name,
                            "type": spec.type,
                            "flags": ["timeout"],
                        }
                    }
                }
            )
        for chain, matches in self.layout.chains.items():
            ref = {"family": family, "table": TABLE, "name": chain}
            commands.append(
                {
                    "add": {
                        "chain": {
                            **ref,
                            "type": "filter",
                            "hook": chain,
                            "prio": self.layout.priority,
                            "policy": "accept",
                        }
                    }
                }
            )
            commands.append({"flush": {"chain": dict(ref)}})
            for match in matches:
                commands.append({"add": {"rule": _drop_rule(family, chain, match)}})
            for rule in quarantine_rules(family, chain):
                commands.append({"add": {"rule": rule}})
        return commands

    def _forget(self, mac: str, ips: Sequence[str]) -> list[dict[str, Any]]:
        """Delete MAC and IPS from the sets whether or not they are there.

        nft refuses to delete a missing element, so each is added first: the pair
        is a no-op for absent elements and a removal for present ones, atomically.
        """
        commands = []
        for set_name, values in [(MAC_SET, [mac]), *_by_set(ips)]:
            commands.append(self._element("add", set_name, list(values)))
            commands.append(self._element("delete", set_name, list(values)))
        return commands

    def _element(self, verb: str, set_name: str, elems: list[Any]) -> dict[str, Any]:
        return {
            verb: {
                "element": {
                    "family": self.layout.family,
                    "table": TABLE,
                    "name": set_name,
                    "elem": elems,
                }
            }
        }

    def _ips_of(self, mac: str) -> tuple[str, ...]:
        if not self.stores_ips:
            return ()
        items = self._nft.list_table(self.layout.family)
        return () if items is None else self._ips_by_owner(items).get(mac, ())


class BridgeBackend(NftablesBackend):
    """The host bridges the devices' network: drop every frame from or to the MAC."""

    name = BACKEND_BRIDGE
    description = "drops frames from and to the device in the Linux bridge (bridge family)"
    layout = _BRIDGE
    stores_ips = False  # the MAC is on every bridged frame of the device

    def host_problem(self, host: HostInfo) -> str | None:
        if not host.bridges:
            return (
                "this host has no Linux bridge, so the bridge family sees no device traffic; "
                f"use {BACKEND_INET}"
            )
        return None


class InetBackend(NftablesBackend):
    """The host routes the devices' network: drop routed traffic of the MAC and its IPs."""

    name = BACKEND_INET
    description = "drops traffic the host routes from and to the device (inet family)"
    layout = _INET
    stores_ips = True

    def host_problem(self, host: HostInfo) -> str | None:
        if not host.ip_forward:
            return (
                "this host does not route (net.ipv4.ip_forward is 0), so it only sees "
                f"its own traffic; use {BACKEND_BRIDGE} on a bridge"
            )
        return None


_CLASSES: dict[str, type[Backend]] = {
    BACKEND_BRIDGE: BridgeBackend,
    BACKEND_INET: InetBackend,
    BACKEND_NONE: NoneBackend,
}


def auto_backend_name(host: HostInfo) -> str:
    """The bridge family when the host has a Linux bridge, else the inet family."""
    return BACKEND_BRIDGE if host.bridges else BACKEND_INET


def make_backend(
    name: str | None = None,
    runner: NftBoundary | None = None,
    host: HostReader = read_host_info,
    capture_mac: str | None = None,
    protected: ProtectedReader = nothing_protected,
    memory: GatewayMemory | None = None,
) -> Backend:
    """The backend called NAME, or the automatic choice for this host when NAME is None."""
    chosen = auto_backend_name(host()) if name is None else name
    cls = _CLASSES.get(chosen)
    if cls is None:
        raise EnforceError(
            "invalid_backend", f"unknown backend {chosen!r}; choose one of {', '.join(BACKENDS)}"
        )
    return cls(
        runner=runner, host=host, capture_mac=capture_mac, protected=protected, memory=memory
    )


# --- JSON helpers --------------------------------------------------------------------------


def _drop_rule(family: str, chain: str, match: _Match) -> dict[str, Any]:
    left = {"payload": {"protocol": match.protocol, "field": match.field}}
    return {
        "family": family,
        "table": TABLE,
        "chain": chain,
        "expr": [
            {"match": {"op": "==", "left": left, "right": f"@{match.set}"}},
            {"drop": None},
        ],
    }


def _elem(value: str, timeout: int | None, comment: str | None) -> Any:
    if timeout is None and comment is None:
        return value
    body: dict[str, Any] = {"val": value}
    if timeout is not None:
        body["timeout"] = timeout
    if comment is not None:
        body["comment"] = comment
    return {"elem": body}


def _parse_elem(element: Any) -> tuple[str, float | None, float | None, str | None]:
    """(value, timeout, expires, comment) of a set element in nft's JSON."""
    if isinstance(element, dict) and isinstance(element.get("elem"), dict):
        body = element["elem"]
        timeout, expires, comment = body.get("timeout"), body.get("expires"), body.get("comment")
        return (
            str(body.get("val")),
            float(timeout) if isinstance(timeout, int | float) else None,
            float(expires) if isinstance(expires, int | float) else None,
            comment if isinstance(comment, str) else None,
        )
    return str(element), None, None, None


def _ip_order(text: str) -> tuple[int, int]:
    ip = ipaddress.ip_address(text)
    return ip.version, int(ip)


def _by_set(ips: Iterable[str]) -> list[tuple[str, list[str]]]:
    v4 = [ip for ip in ips if ":" not in ip]
    v6 = [ip for ip in ips if ":" in ip]
    return [(name, group) for name, group in ((IPV4_SET, v4), (IPV6_SET, v6)) if group]


def _quarantined(items: list[dict[str, Any]]) -> list[str]:
    found: list[str] = []
    for item in _objects(items, "set"):
        if item.get("name") == QUARANTINE_SET:
            for element in item.get("elem", []):
                value = _parse_elem(element)[0]
                found.append(canonical_mac(value) or value)
    return sorted(found)


def _objects(items: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [item[kind] for item in items if isinstance(item.get(kind), dict)]
