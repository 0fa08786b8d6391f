"""The demo home's blocking backend: blocks are remembered, nothing touches the host.

The demo replays a capture of a home that is not the user's network, so a real
nftables rule would drop nobody (or, worse, a real device that happens to share
a MAC). This backend gives the demo its "Network access" switches and the
Network panel's block flow while keeping everything in memory: a block lasts
until unblocked, its duration runs out, or Home Assistant stops.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from .enforce import Backend, Block, ProtectedReader, nothing_protected, parse_duration, parse_mac
from .safety import GatewayMemory

BACKEND_PRETEND = "demo"


class PretendBackend(Backend):
    """In-memory blocks with the same checks of MACs, IPs and durations as the others."""

    name = BACKEND_PRETEND
    description = "demo: blocks are only pretended, nothing on this host changes"

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        protected: ProtectedReader = nothing_protected,
        memory: GatewayMemory | None = None,
    ) -> None:
        # The same refusals as a real backend (router, DHCP/DNS server, this host), so
        # the demo's panel shows why a device cannot be blocked.
        super().__init__(protected=protected, memory=memory)
        self._clock = clock
        # MAC -> (duration asked, monotonic deadline or None, IPs)
        self._blocks: dict[str, tuple[float | None, float | None, tuple[str, ...]]] = {}

    def available(self) -> str | None:
        return None

    def block(
        self, mac: str, duration: float | str | None = None, ips: Iterable[str] = ()
    ) -> Block | None:
        canonical, addresses = self.check(mac, ips)
        seconds = parse_duration(duration)
        deadline = None if seconds is None else self._clock() + seconds
        self._blocks[canonical] = (seconds, deadline, addresses)
        return self._block(canonical)

    def unblock(self, mac: str) -> bool:
        return self._blocks.pop(parse_mac(mac), None) is not None

    def list_blocks(self) -> list[Block]:
        now = self._clock()
        expired = [
            m for m, (_, end, _ips) in self._blocks.items() if end is not None and end <= now
        ]
        for mac in expired:
            del self._blocks[mac]
        return [b for b in (self._block(m) for m in sorted(self._blocks)) if b is not None]

    def remove_all(self) -> None:
        self._blocks.clear()

    def _block(self, mac: str) -> Block | None:
        entry = self._blocks.get(mac)
        if entry is None:
            return None
        seconds, deadline, ips = entry
        left = None if deadline is None else max(deadline - self._clock(), 0.0)
        return Block(mac, self.name, seconds, left, ips)
