"""What a detector is: the hooks it may override, what it may ask, how it registers.

A detector subclasses :class:`Detector`, overrides the hooks it needs and
declares the alert ``kinds`` it raises; ``@register(order=...)`` adds it to
the registry the guard builds its detectors from (NFStream's plugins and
Zeek's analysers are the model: one small file per family, no list to edit
elsewhere). A detector asks the guard for everything it needs through
:class:`DetectorContext`, never through the guard's class: detectors import
this module, never the guard.

Hooks run in ascending ``order``. It decides which alert comes first when one
event raises two (an ARP sweep that also claims an address), so it is
explicit rather than the accident of which module was imported first.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from ..blocklist import Blocklist
from ..devices import DeviceRecord
from ..flows import Flow
from ..identify import Identity
from ..model import Severity
from ..protocol import Command, Reply
from .baseline import DeviceBaseline
from .policy import PolicyTable
from .thresholds import Thresholds


@dataclass(slots=True)
class Settled:
    """A flow a few seconds after its first packet (or at its end)."""

    flow: Flow
    # The LAN device that opened it; None when it came in through the router.
    origin: bytes | None
    # The LAN device that answered as a server; None for the router or nobody.
    server: bytes | None
    app: str
    answered: bool
    failed: bool  # no answer, or refused (TCP reset without SYN-ACK)
    half_open: bool  # SYN-ACK came back but the opener never completed the handshake
    probe: bool  # ICMP: a ping counts whether it was answered or not


@dataclass(slots=True)
class Profile:
    """How messages name a device, refreshed every few minutes of packet time."""

    type: str
    label: str  # "Espressif smart plug (ESP_68664A)"
    checked: float


class DetectorContext(Protocol):
    """What the guard offers its detectors: clocks, thresholds, profiles, baselines,
    the alert sink, and a read-only view of the engine's devices and flows."""

    @property
    def now(self) -> float: ...

    @property
    def learn_seconds(self) -> float: ...

    @property
    def learn_end(self) -> float: ...

    @property
    def policy(self) -> PolicyTable: ...

    @property
    def blocklist(self) -> Blocklist | None: ...

    @property
    def devices(self) -> Mapping[bytes, DeviceRecord]: ...

    def live_flows(self) -> list[Flow]: ...

    def learning(self, ts: float) -> bool: ...

    def thresholds(self, mac: bytes | None) -> Thresholds: ...

    def baseline(self, mac: bytes, ts: float) -> DeviceBaseline | None: ...

    def resolved_name(self, mac: bytes, address: bytes, ts: float) -> str | None:
        """The name ``mac`` looked up that a DNS answer gave ``address`` for."""
        ...

    def watched(self, mac: bytes, kind: str, ts: float) -> DeviceBaseline | None: ...

    def profile(self, mac: bytes, ts: float, fresh: bool = False) -> Profile: ...

    def identity(self, mac: bytes) -> Identity: ...

    def general_purpose(self, mac: bytes, ts: float) -> bool: ...

    def is_forwarder(self, mac: bytes) -> bool: ...

    def counted(self, ts: float, mac: bytes, kind: str) -> bool: ...

    def raise_alert(
        self,
        ts: float,
        mac: bytes,
        kind: str,
        severity: Severity,
        message: str,
        details: dict[str, Any] | None = None,
        *,
        direction: str = "outbound",
        src_ip: bytes | None = None,
        since: float | None = None,
    ) -> bool: ...

    def describe(self, mac: bytes, ts: float) -> str: ...

    def alerted_recently(self, mac: bytes, ts: float) -> bool: ...


class Detector:
    """Base class: override the hooks you need."""

    kinds: tuple[str, ...] = ()
    order: int = 0  # set by ``register``

    def __init__(self, ctx: DetectorContext) -> None:
        self.ctx = ctx

    def on_flow_start(self, ts: float, flow: Flow, origin: bytes | None) -> None:
        return None

    def on_settled(self, s: Settled) -> None:
        return None

    def on_arp(
        self,
        ts: float,
        src_mac: bytes,
        op: int,
        sender_mac: bytes,
        sender_ip: bytes,
        target_ip: bytes,
    ) -> None:
        return None

    def on_dns_query(self, ts: float, mac: bytes, qname: str, qtype: int, server: str) -> None:
        return None

    def on_dhcp_server(self, ts: float, mac: bytes, server_ip: str) -> None:
        return None

    def on_new_device(self, ts: float, mac: bytes) -> None:
        return None

    def on_tick(self, ts: float) -> None:
        return None

    def command(self, cmd: Command) -> Reply | None:
        """A control command the guard does not handle itself: the reply, or None
        when it is not this detector's."""
        return None

    def forget(self, mac: bytes | None) -> None:
        """``reset_baseline``: drop what was learned about one device (None: all)."""
        return

    def rekey(self, old: bytes, new: bytes) -> None:
        """The device keyed ``old`` is ``new`` from now on (see
        :meth:`~..engine.EngineObserver.on_rekey`): move its per-device state."""
        return

    def state(self) -> dict[str, Any] | None:
        return None

    def restore(self, state: dict[str, Any]) -> None:
        return None


def move_key[K, V](table: dict[K, V], old: K, new: K) -> None:
    """``table[old]`` becomes ``table[new]``; where ``new`` has its own entry already
    (state since the MAC was learned), that one is kept: it is the fresher."""
    value = table.pop(old, None)
    if value is not None and new not in table:
        table[new] = value


_REGISTRY: dict[str, type[Detector]] = {}


def register[D: type[Detector]](*, order: int) -> Callable[[D], D]:
    """Class decorator: make a detector one the guard builds, at this place in hook order."""

    def add(cls: D) -> D:
        cls.order = order
        _REGISTRY[f"{cls.__module__}.{cls.__qualname__}"] = cls
        return cls

    return add


def registered() -> list[type[Detector]]:
    """Every registered detector class, in hook order."""
    return sorted(_REGISTRY.values(), key=lambda cls: cls.order)
