"""Anomaly detectors: each a small unit that watches a few hooks and raises alerts.

A detector never sees a packet. The guard (:mod:`..anomaly`) hands it flows
when they start and again when they *settle* (a few seconds later, or when
they end): by then the flow knows whether it was answered, which is what
tells a scan from browsing. ARP frames, DNS queries and DHCP offers come
through the identifier's callbacks. Every structure a detector keeps is
bounded (see :mod:`.window`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..flows import Flow  # noqa: TID252

if TYPE_CHECKING:
    from ..anomaly import Guard  # noqa: TID252


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


class Detector:
    """Base class: override the hooks you need."""

    kinds: tuple[str, ...] = ()

    def __init__(self, guard: Guard) -> None:
        self.guard = guard

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

    def forget(self, mac: bytes | None) -> None:
        """``reset_baseline``: drop what was learned about one device (None: all)."""
        return

    def state(self) -> dict[str, Any] | None:
        return None

    def restore(self, state: dict[str, Any]) -> None:
        return None
