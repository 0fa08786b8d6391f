"""Blocks of a remote probe's devices, carried out on the probe's machine.

Home Assistant's host is not on the path of a remote probe's devices, so an
nftables rule here would cut nothing. :class:`RemoteBackend` stands where the
nftables backend stands under :class:`~.blocking.BlockManager` (same lock, same
store, same switches and services) and sends each call as a signed command over
MQTT (:meth:`~.remote_probe.RemoteProbe.request`); the probe applies it with its
own backend (``--enforce``, ``engine/remote_enforce.py``) and its host's
refusals, and ``blocks`` reads that machine's kernel back, so the switch shows
what the probe's kernel holds.

The manager calls backends in the executor; each call here waits there for the
probe's ack on Home Assistant's event loop (``run_coroutine_threadsafe``), never
blocking the loop. Refusals Home Assistant knows (gateway, router, servers, bad
input) keep their own translated message; the probe's other reasons (its own
host, no ``--enforce``, nft missing there) become ``remote_refused`` with the
probe's one-line reason.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from typing import Final, cast

from homeassistant.core import HomeAssistant

from .const import ACK_TIMEOUT
from .engine.enforce import (
    Backend,
    Block,
    EnforceError,
    NftResult,
    parse_duration,
    parse_ips,
    parse_mac,
)
from .engine.messages import Ack
from .engine.protocol import Command, ProtocolError
from .engine.remote_enforce import (
    BlockDevice,
    ListBlocks,
    QuarantineDevice,
    ReleaseDevice,
    UnblockDevice,
    parse_blocks,
    parse_quarantined,
)
from .engine.safety import GatewayMemory, ReasonCode
from .probe_process import ProbeNotRunning
from .remote_probe import RemoteProbe

BACKEND_REMOTE: Final = "remote"
# Refusals that mean the same on any machine: their own translated message.
_KNOWN: Final = frozenset(
    {"gateway", "router", "dhcp_server", "dns_server", "invalid_mac", "invalid_ip",
     "invalid_duration"}
)  # fmt: skip
_HOLDS_NONE: Final = frozenset({"blocking_disabled", "unknown_command"})
# The ack comes through the broker; past this the probe is taken as not answering.
_WAIT: Final = ACK_TIMEOUT + 5.0


class _NoKernel:
    """This host's nft is never used for a remote probe's devices."""

    def run(self, args: Sequence[str], stdin: str | None = None) -> NftResult:
        raise AssertionError("a remote probe's blocks never touch this host's nftables")


class RemoteBackend(Backend):
    """Blocks applied by the remote probe; every method blocks: run it in the executor."""

    name = BACKEND_REMOTE
    description = "the probe on the other machine blocks with its own nftables"

    def __init__(self, hass: HomeAssistant, probe: RemoteProbe, memory: GatewayMemory) -> None:
        super().__init__(runner=_NoKernel(), memory=memory)
        self._hass = hass
        self._probe = probe
        # What the last read-back said the probe quarantines; None when it did not
        # say (an older probe): then nothing is compared.
        self.quarantined: frozenset[str] | None = None

    def _request(self, command: Command) -> Ack:
        """The probe's ack, refusals included; probe_not_running when none comes."""
        future = asyncio.run_coroutine_threadsafe(self._probe.request(command), self._hass.loop)
        try:
            return future.result(_WAIT)
        except (ProbeNotRunning, TimeoutError):
            future.cancel()
            raise EnforceError(
                "probe_not_running", f"the probe {self._probe.name} did not answer"
            ) from None

    def _refused(self, ack: Ack) -> EnforceError:
        error = ack.error or "refused"
        reason = cast(ReasonCode, error) if error in _KNOWN else "remote_refused"
        return EnforceError(reason, f"{self._probe.name}: {ack.message or error}")

    def _ask(self, command: Command) -> Ack:
        ack = self._request(command)
        if not ack.ok:
            raise self._refused(ack)
        return ack

    def _blocks(self, ack: Ack) -> list[Block]:
        try:
            return parse_blocks(ack.data, self.name)
        except ProtocolError as err:
            raise EnforceError("remote_refused", f"{self._probe.name}: {err}") from None

    def available(self) -> str | None:
        return None

    def block(
        self, mac: str, duration: float | str | None = None, ips: Iterable[str] = ()
    ) -> Block | None:
        canonical, seconds = parse_mac(mac), parse_duration(duration)
        command = BlockDevice(
            mac=canonical,
            seconds=None if seconds is None else float(seconds),
            ips=parse_ips(ips),
        )
        blocks = self._blocks(self._ask(command))
        return blocks[0] if blocks else None

    def unblock(self, mac: str) -> bool:
        canonical = parse_mac(mac)
        self._ask(UnblockDevice(mac=canonical))
        return True

    def list_blocks(self) -> list[Block]:
        # Read after every snapshot: a probe that does not enforce (no --enforce, or
        # older than remote blocking) holds no block, which is not worth a warning.
        ack = self._request(ListBlocks())
        if not ack.ok:
            self.quarantined = None
            if ack.error in _HOLDS_NONE:
                return []
            raise self._refused(ack)
        blocks = self._blocks(ack)
        self.quarantined = parse_quarantined(ack.data)
        return blocks

    def quarantine(self, mac: str) -> None:
        canonical = parse_mac(mac)
        self._ask(QuarantineDevice(mac=canonical))

    def release(self, mac: str) -> bool:
        canonical = parse_mac(mac)
        self._ask(ReleaseDevice(mac=canonical))
        return True

    def remove_all(self) -> None:
        for block in self.list_blocks():
            self.unblock(block.mac)
