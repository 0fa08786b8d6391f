"""Per-device blocking, Home Assistant side: the engine's backend behind one lock.

The kernel is the truth: what is blocked is read back from nftables after
every change and on every coordinator update, so a rule deleted by hand shows
as allowed and a temporary block ends by itself. The block store keeps the
blocks this entry made for as long as the kernel has them, so a reboot (which
empties the kernel's tables) is undone on the next start, temporary blocks
with the time they had left.

Every nft call blocks on a subprocess: it runs in the executor, and one
asyncio.Lock keeps two calls from interleaving (the inet backend reads the
table, then writes it).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError, Unauthorized
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import async_call_later
from homeassistant.helpers.storage import STORAGE_DIR
from homeassistant.util import dt as dt_util

from .approval import ApprovalManager, async_drop_approvals
from .const import DOMAIN, SOURCE_DEMO, SOURCE_INTERFACE, SOURCE_REMOTE
from .coordinator import TotemCoordinator
from .engine.enforce import (
    BACKEND_NONE,
    Backend,
    Block,
    EnforceError,
    NftRunner,
    make_backend,
    parse_ips,
    parse_mac,
)
from .engine.hostinfo import HostInfo, read_host_info, read_interfaces
from .engine.pretend import BACKEND_PRETEND, PretendBackend
from .engine.safety import GatewayMemory, Protection, Safety
from .inventory import TotemData
from .options import TotemConfig
from .protection import observed_protection, protection_from_json, protection_to_json
from .remote_blocking import BACKEND_REMOTE, RemoteBackend
from .remote_probe import RemoteProbe
from .store import CheckedStore

_LOGGER = logging.getLogger(__package__)

# nftables unusable: the user has to act; the issue says exactly how.
REPAIRABLE_REASONS: Final = ("nft_missing", "permission_denied")
# Refusals of what was asked (bad input, or a device that must never be blocked).
VALIDATION_REASONS: Final = frozenset(
    {
        "gateway",
        "router",
        "dhcp_server",
        "dns_server",
        "own_host",
        "capture_interface",
        "invalid_mac",
        "invalid_ip",
        "invalid_duration",
        "invalid_backend",
    }
)
# A stored expiry that moved less than this is the same block read again.
_UNTIL_SLACK: Final = 5.0
# Refresh this long after the first temporary block should have expired.
_EXPIRY_MARGIN: Final = 1.0
# The host's routes and neighbours are read again at most this often (seconds):
# a gateway changes when a router is replaced, not between two snapshots.
_HOST_READ_INTERVAL: Final = 60.0
# The backend cannot cut traffic on this host (bridge family without a bridge,
# inet on a host that does not route): the switches are unavailable.
ISSUE_CANNOT_CUT: Final = "cannot_cut"


def blocking_issue_id(reason: str, entry_id: str) -> str:
    return f"blocking_{reason}_{entry_id}"


class AdminOnly(Unauthorized):
    """A non-administrator tried to change a block: the services are admin-only, so is the
    switch (Home Assistant's default policy lets every user turn switches)."""

    def __init__(self, user_id: str | None) -> None:
        super().__init__(user_id=user_id, permission="control")
        self.translation_domain = DOMAIN
        self.translation_key = "admin_only"


def enforce_error(err: EnforceError, mac: str | None = None) -> HomeAssistantError:
    """The engine's refusal as a translated Home Assistant error (key = reason code)."""
    cls = ServiceValidationError if err.reason in VALIDATION_REASONS else HomeAssistantError
    return cls(
        translation_domain=DOMAIN,
        translation_key=err.reason,
        translation_placeholders={"mac": mac or "-", "message": err.message},
    )


@dataclass(frozen=True, slots=True)
class StoredBlock:
    """A block to put back after a reboot; ``until`` is wall-clock, None = permanent."""

    mac: str
    until: float | None = None
    ips: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"mac": self.mac, "until": self.until, "ips": list(self.ips)}

    @classmethod
    def from_json(cls, data: Any) -> StoredBlock:
        """A stored block, or TypeError/ValueError naming what a hand edit broke."""
        if not isinstance(data, dict):
            raise TypeError(f"a {type(data).__name__}, not a block")
        mac, until, ips = data.get("mac"), data.get("until"), data.get("ips", [])
        if not isinstance(mac, str):
            raise TypeError(f"mac is a {type(mac).__name__}")
        if until is not None and (isinstance(until, bool) or not isinstance(until, int | float)):
            raise TypeError(f"until is a {type(until).__name__}")
        if not isinstance(ips, list) or not all(isinstance(ip, str) for ip in ips):
            raise TypeError("ips is not a list of addresses")
        try:
            return cls(mac=parse_mac(mac), until=until, ips=parse_ips(ips))
        except EnforceError as err:
            raise ValueError(err.message) from None


class BlockStore:
    """The blocks of one config entry and the backend that enforced them."""

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        self._store = CheckedStore(hass, f"{DOMAIN}.{entry_id}.blocks", entry_id)
        self.backend: str | None = None
        self.blocks: dict[str, StoredBlock] = {}
        # Devices TOTEM saw serve the network (MAC -> why): never blocked, kept
        # across restarts so a flushed ARP cache or a quiet router changes nothing.
        self.protected: dict[str, Protection] = {}
        # Approval of new devices (approval.py): the MACs of the first inventory
        # (None until it is taken), when it ends, and who waits (MAC -> joined at).
        self.known: set[str] | None = None
        self.inventory_until: float | None = None
        self.waiting: dict[str, float] = {}

    async def async_load(self) -> None:
        await self._store.async_load_checked(self._parse)

    def _parse(self, data: dict[str, Any]) -> list[str]:
        """Every field and block checked on its own: a hand edit costs only what it broke
        (it used to stop the entry's start for good)."""
        dropped: list[str] = []
        backend = data.get("backend")
        if backend is not None and not isinstance(backend, str):
            dropped.append("backend (not a name)")
        self.backend = backend if isinstance(backend, str) else None
        self.blocks = {}
        blocks = data.get("blocks", [])
        if not isinstance(blocks, list):
            dropped.append("blocks (not a list)")
            blocks = []
        for index, item in enumerate(blocks):
            try:
                block = StoredBlock.from_json(item)
            except (TypeError, ValueError) as err:
                dropped.append(f"blocks[{index}] ({err})")
                continue
            self.blocks[block.mac] = block
        self.protected = {}
        stored = data.get("protected", {})
        if not isinstance(stored, dict):
            dropped.append("protected (not a mapping)")
            stored = {}
        for mac, item in stored.items():
            protection = protection_from_json(item)
            if protection is None:
                dropped.append(f"protected.{mac}")
            else:
                self.protected[mac] = protection
        known, until, waiting = data.get("known"), data.get("inventory_until"), data.get("waiting")
        if known is not None and not (
            isinstance(known, list) and all(isinstance(m, str) for m in known)
        ):
            dropped.append("known (not a list of MACs)")
            known = None
        self.known = None if known is None else set(known)
        if until is not None and (isinstance(until, bool) or not isinstance(until, int | float)):
            dropped.append("inventory_until (not a time)")
            until = None
        self.inventory_until = None if until is None else float(until)
        self.waiting = {}
        if waiting is not None and not isinstance(waiting, dict):
            dropped.append("waiting (not a mapping)")
            waiting = {}
        for mac, joined in (waiting or {}).items():
            if isinstance(joined, bool) or not isinstance(joined, int | float):
                dropped.append(f"waiting.{mac} (not a time)")
            else:
                self.waiting[mac] = float(joined)
        return dropped

    async def async_save(self) -> None:
        await self._store.async_save(
            {
                "backend": self.backend,
                "blocks": [b.to_json() for b in sorted(self.blocks.values(), key=_by_mac)],
                "protected": {
                    mac: protection_to_json(p) for mac, p in sorted(self.protected.items())
                },
                "known": None if self.known is None else sorted(self.known),
                "inventory_until": self.inventory_until,
                "waiting": dict(sorted(self.waiting.items())),
            }
        )

    async def async_remove(self) -> None:
        await self._store.async_remove()


def _by_mac(block: StoredBlock) -> str:
    return block.mac


def capture_mac_of(config: TotemConfig) -> str | None:
    """The MAC of the capture interface (blocking it would blind TOTEM). Blocking I/O."""
    source = config.source
    if source.kind != SOURCE_INTERFACE or source.interface is None:
        return None
    return read_interfaces().get(source.interface)


class BlockManager:
    """Owns the backend of one config entry; every nft call goes through here."""

    def __init__(
        self,
        hass: HomeAssistant,
        coordinator: TotemCoordinator,
        backend: Backend,
        store: BlockStore,
        *,
        capture_mac: str | None = None,
        memory: GatewayMemory | None = None,
    ) -> None:
        self.hass = hass
        self.coordinator = coordinator
        self.entry_id = coordinator.entry_id
        self.backend = backend
        self.store = store
        self.auto = coordinator.config.chosen_backend is None
        # The last reading of the kernel: MAC -> block.
        self.blocked: dict[str, Block] = {}
        # Why nftables cannot be used right now (nft missing, no permission), if so.
        self.problem: EnforceError | None = None
        self._lock = asyncio.Lock()
        self._listeners: list[CALLBACK_TYPE] = []
        self._expiry_unsub: CALLBACK_TYPE | None = None
        self._refreshing = False
        self._read_again = False
        self.capture_mac = capture_mac
        self.memory = memory if memory is not None else GatewayMemory()
        # The last reading of the host (routes, neighbours, bridges, forwarding).
        self.host: HostInfo | None = None
        self._host_read_at = 0.0
        # Why blocks would not cut traffic on this host, if so (switches unavailable).
        self.cannot_cut: str | None = None
        # New devices wait for approval (the option), else None.
        self.approval: ApprovalManager | None = None
        # MACs this manager has quarantined (a remote probe's read-back is compared
        # with them) and the task putting them back, one at a time.
        self._held_back: set[str] = set()
        self._requarantining: asyncio.Task[None] | None = None

    @property
    def enforcing(self) -> bool:
        return self.backend.name != BACKEND_NONE

    # -- life cycle -------------------------------------------------------

    async def async_start(self) -> None:
        """Move blocks off a backend no longer chosen, put stored blocks back, read the kernel."""
        previous = self.store.backend
        if previous is not None and previous != self.backend.name:
            await self._async_drop_backend(previous)
        self.store.backend = self.backend.name
        if self.enforcing:
            await self._async_reapply()
        await self.async_refresh()
        await self.store.async_save()

    async def async_check_host(self) -> None:
        """Read the host; when the chosen family cannot drop its devices' traffic here, the
        switches go unavailable and a repair issue says what to change."""
        host = await self.hass.async_add_executor_job(self._read_host)
        self._set_host(host)

    def _read_host(self) -> HostInfo:
        """Blocking: the host's routes and neighbours, and the gateway memory from disk."""
        host = read_host_info()
        self.memory.learn(host)
        return host

    @callback
    def _set_host(self, host: HostInfo) -> None:
        self.host = host
        self._host_read_at = time.monotonic()
        reason = self.backend.host_problem(host) if self.enforcing else None
        if reason == self.cannot_cut:
            return
        self.cannot_cut = reason
        if reason is None:
            ir.async_delete_issue(
                self.hass, DOMAIN, blocking_issue_id(ISSUE_CANNOT_CUT, self.entry_id)
            )
            return
        # Like a missing nft: with the automatic choice the user never asked for
        # blocking, so the issue waits until they do (or blocks wait to go back in).
        if not self.auto or self.store.blocks:
            self._raise_cannot_cut(reason)

    @callback
    def _raise_cannot_cut(self, reason: str) -> None:
        _LOGGER.warning("TOTEM's %s blocking cannot cut devices off: %s", self.backend.name, reason)
        issue_id = blocking_issue_id(ISSUE_CANNOT_CUT, self.entry_id)
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            issue_id,
            is_fixable=False,
            is_persistent=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key=f"blocking_{ISSUE_CANNOT_CUT}",
            translation_placeholders={"backend": self.backend.name, "message": reason},
        )

    # -- what must never be blocked --------------------------------------

    @callback
    def async_observe(self) -> None:
        """Protect what this snapshot shows serving the network (kept until forgotten)."""
        data: TotemData | None = self.coordinator.data
        if data is None:
            return
        gateway_ips = [g.ip for g in self.host.gateways] if self.host is not None else []
        changed = False
        for view in data.devices.values():
            protection = observed_protection(view, gateway_ips)
            if protection is None:
                continue
            for mac in view.macs or (view.mac,):
                if mac not in self.store.protected:
                    _LOGGER.info("TOTEM will never block %s: %s", mac, protection.detail)
                    self.store.protected[mac] = protection
                    changed = True
        if changed:
            self.coordinator.config_entry.async_create_background_task(
                self.hass, self.store.async_save(), f"{DOMAIN} save protected devices"
            )

    @callback
    def refusal(self, mac: str) -> EnforceError | None:
        """Why MAC must never be blocked (gateway, server, router, this host, the capture
        interface), from the last readings; None when it may be."""
        if self.host is None:
            protection = self.store.protected.get(mac)
            return None if protection is None else EnforceError(protection.reason, "")
        safety = Safety(self.host, self.capture_mac, self.store.protected, self.memory)
        try:
            safety.check(mac, self.host.ips_of(mac))
        except EnforceError as err:
            return err
        return None

    @callback
    def async_stop(self) -> None:
        if self._expiry_unsub is not None:
            self._expiry_unsub()
            self._expiry_unsub = None
        self._listeners.clear()

    async def _async_drop_backend(self, name: str) -> None:
        try:
            old = make_backend(name, runner=NftRunner())
            await self._call(old.remove_all)
        except EnforceError as err:
            _LOGGER.warning("Could not remove TOTEM's %s rules: %s", name, err.message)

    async def _async_reapply(self) -> bool:
        """Put stored blocks in the kernel; False when nftables is unusable (all kept)."""
        now = time.time()
        for stored in list(self.store.blocks.values()):
            if stored.until is not None and stored.until <= now:
                self.store.blocks.pop(stored.mac, None)  # expired while out of the kernel
                continue
            remaining = None if stored.until is None else stored.until - now
            try:
                await self._call(self.backend.block, stored.mac, remaining, stored.ips)
            except EnforceError as err:
                self._note_problem(err)
                if err.reason in REPAIRABLE_REASONS or err.reason == "probe_not_running":
                    return False  # kept in the store for the next try
                # The device became the gateway, or this host: the safety check wins.
                _LOGGER.warning("Not blocking %s again: %s", stored.mac, err.message)
                self.store.blocks.pop(stored.mac, None)
        return True

    # -- what entities and services call ------------------------------------

    @callback
    def async_add_listener(self, listener: CALLBACK_TYPE) -> CALLBACK_TYPE:
        """Call LISTENER after every reading of the kernel."""
        self._listeners.append(listener)

        @callback
        def remove() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return remove

    def holds_any(self, macs: set[str]) -> bool:
        """Did this entry block one of MACS, or does the kernel hold a block of one?"""
        return bool(macs & (set(self.blocked) | set(self.store.blocks)))

    def is_blocked(self, mac: str) -> bool:
        return mac in self.blocked

    def blocked_until(self, mac: str) -> datetime | None:
        """When a temporary block of MAC ends; None when not blocked or permanent."""
        if mac not in self.blocked:
            return None
        stored = self.store.blocks.get(mac)
        if stored is None or stored.until is None:
            return None
        return dt_util.utc_from_timestamp(stored.until)

    async def async_block(self, mac: str, duration: float | None = None) -> None:
        """Block MAC (for DURATION seconds), or raise a translated error."""
        if not self.enforcing:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="blocking_disabled",
                translation_placeholders={"mac": mac},
            )
        self._refuse_if_cannot_cut(mac)
        try:
            block = await self._call(self.backend.block, mac, duration)
        except EnforceError as err:
            self._note_problem(err, asked=True)
            raise enforce_error(err, mac) from None
        if block is not None:
            until = None if block.expires_in is None else time.time() + block.expires_in
            self.store.blocks[block.mac] = StoredBlock(block.mac, until, block.ips)
            await self.store.async_save()
        await self.async_refresh()

    def _refuse_if_cannot_cut(self, mac: str) -> None:
        """A block or quarantine the kernel holds but no traffic passes through would
        look done: refused, with the repair that says what to change."""
        if self.cannot_cut is None:
            return
        self._raise_cannot_cut(self.cannot_cut)
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key=ISSUE_CANNOT_CUT,
            translation_placeholders={"mac": mac, "message": self.cannot_cut},
        )

    async def async_quarantine(self, mac: str) -> bool:
        """Cut MAC off all but DHCP, DNS and ARP (waiting for approval); False when this
        backend cuts nothing (the user is only told). Refused, with a translated error,
        like a block: what must never be blocked, and a host where it would not cut."""
        quarantine = getattr(self.backend, "quarantine", None)
        if quarantine is None or not self.enforcing:
            return False
        self._refuse_if_cannot_cut(mac)
        try:
            await self._call(quarantine, mac)
        except EnforceError as err:
            # Not held: a read-back must not retry it on every snapshot.
            self._held_back.discard(mac)
            self._note_problem(err, asked=True)
            raise enforce_error(err, mac) from None
        self._held_back.add(mac)
        return True

    async def async_release(self, mac: str) -> None:
        release = getattr(self.backend, "release", None)
        if release is None:
            return
        self._held_back.discard(mac)
        try:
            await self._call(release, mac)
        except EnforceError as err:
            self._note_problem(err, asked=True)
            raise enforce_error(err, mac) from None

    async def async_unblock(self, mac: str) -> None:
        try:
            await self._call(self.backend.unblock, mac)
        except EnforceError as err:
            self._note_problem(err, asked=True)
            raise enforce_error(err, mac) from None
        if self.store.blocks.pop(mac, None) is not None:
            await self.store.async_save()  # the user's unblock: never put back
        await self.async_refresh()

    @callback
    def async_schedule_refresh(self) -> None:
        """Coordinator updates come often: one reading at a time, and one more after it
        when an update arrived during it (that reading may have started too early)."""
        if self._refreshing:
            self._read_again = True
            return
        self._refreshing = True
        self.coordinator.config_entry.async_create_background_task(
            self.hass, self._async_refresh_while_asked(), f"{DOMAIN} read blocks"
        )

    @callback
    def async_probe_online(self) -> None:
        """A remote probe came (back) online: its kernel may be empty after a reboot.
        The read-back puts the stored blocks back; devices waiting for approval are
        quarantined there again."""
        self.async_schedule_refresh()
        self._requarantine()

    @callback
    def _requarantine(self) -> None:
        """Devices waiting for approval are quarantined on the probe again (adding a MAC
        its set holds changes nothing)."""
        if self.approval is None:
            return
        if self._requarantining is not None and not self._requarantining.done():
            return  # the one under way puts back every waiting device
        self._requarantining = self.coordinator.config_entry.async_create_background_task(
            self.hass, self.approval.async_restore(), f"{DOMAIN} quarantine again"
        )

    async def _async_refresh_while_asked(self) -> None:
        try:
            while True:
                self._read_again = False
                await self.async_refresh()
                if not self._read_again:
                    return
        finally:
            self._refreshing = False

    async def async_refresh(self) -> None:
        """Read the blocks from the kernel, mirror them in the store, tell the entities."""
        if time.monotonic() - self._host_read_at >= _HOST_READ_INTERVAL:
            self._set_host(await self.hass.async_add_executor_job(self._read_host))
        try:
            # Blocks that could not be enforced go in as soon as nft works again;
            # until they are in, a reading of the kernel must not drop them.
            pending = self.problem is not None and self.enforcing and bool(self.store.blocks)
            if pending and not await self._async_reapply():
                self._notify()
                return
            blocks = await self._call(self.backend.list_blocks)
            if self._lost_on_reboot(blocks):
                # A remote probe's machine rebooted (its sets are empty): its kernel
                # lost the blocks, Home Assistant did not; put them back there. No
                # offline status need come first (a restart quicker than the broker's
                # keepalive, a firewall reload): its quarantines went with them.
                await self._async_reapply()
                self._requarantine()
                blocks = await self._call(self.backend.list_blocks)
            elif self._lost_quarantine():
                # Quarantines alone lost (a restart with no block stored): the
                # read-back lists them too, so no offline phase need come first.
                self._requarantine()
        except EnforceError as err:
            self._note_problem(err)
            if err.reason not in REPAIRABLE_REASONS:
                _LOGGER.warning("Could not read TOTEM's blocks: %s", err.message)
            self._notify()
            return
        self._clear_problem()
        self.blocked = {block.mac: block for block in blocks}
        if self._mirror(blocks):
            await self.store.async_save()
        self._schedule_expiry(blocks)
        self._notify()

    # -- internals ----------------------------------------------------------

    async def _call[**P, T](self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        async with self._lock:
            return await self.hass.async_add_executor_job(lambda: fn(*args, **kwargs))

    def _lost_on_reboot(self, blocks: list[Block]) -> bool:
        """True when a remote probe's kernel lacks a stored block still in force.

        Only a remote probe: its machine reboots apart from Home Assistant's, and
        Home Assistant's own kernel is re-filled by async_start. A temporary block
        ending within the slack is let go (the kernel's timeout and the store's
        clock differ by the ack's round trip).
        """
        if self.backend.name != BACKEND_REMOTE:
            return False
        held = {block.mac for block in blocks}
        now = time.time()
        return any(
            stored.mac not in held and (stored.until is None or stored.until > now + _UNTIL_SLACK)
            for stored in self.store.blocks.values()
        )

    def _lost_quarantine(self) -> bool:
        """True when a remote probe's last read-back lacks a quarantine this manager
        put there for a device still waiting for approval. A probe that does not list
        its quarantines (older) is never taken to have lost one."""
        if self.approval is None or self.backend.name != BACKEND_REMOTE:
            return False
        reported: frozenset[str] | None = getattr(self.backend, "quarantined", None)
        if reported is None:
            return False
        return bool((self._held_back & self.store.waiting.keys()) - reported)

    def _mirror(self, blocks: list[Block]) -> bool:
        """Keep in the store this entry's blocks the kernel still has; True when it changed.

        Blocks of other entries (the table is shared) and of the command line
        show on the switches but are theirs to put back after a reboot.
        """
        now = time.time()
        mirrored: dict[str, StoredBlock] = {}
        for block in blocks:
            old = self.store.blocks.get(block.mac)
            if old is None:
                continue
            until = None if block.expires_in is None else now + block.expires_in
            if (
                old is not None
                and old.until is not None
                and until is not None
                and abs(old.until - until) < _UNTIL_SLACK
            ):
                until = old.until  # the same block read again, not a new one
            mirrored[block.mac] = StoredBlock(block.mac, until, block.ips)
        if mirrored == self.store.blocks:
            return False
        self.store.blocks = mirrored
        return True

    def _schedule_expiry(self, blocks: list[Block]) -> None:
        """Read again when the first temporary block ends, so its switch turns back on."""
        if self._expiry_unsub is not None:
            self._expiry_unsub()
            self._expiry_unsub = None
        ends = [b.expires_in for b in blocks if b.expires_in is not None]
        if not ends:
            return

        @callback
        def expired(_now: datetime) -> None:
            self._expiry_unsub = None
            self.async_schedule_refresh()

        self._expiry_unsub = async_call_later(self.hass, min(ends) + _EXPIRY_MARGIN, expired)

    def _notify(self) -> None:
        for listener in list(self._listeners):
            listener()

    def _note_problem(self, err: EnforceError, *, asked: bool = False) -> None:
        """Remember why nftables is unusable; a repair issue says how to fix it.

        With the automatic choice and nothing to enforce, the user never asked
        for blocking (Home Assistant OS has no nft): no issue until they do.
        """
        if err.reason not in REPAIRABLE_REASONS:
            return
        self.problem = err
        if not asked and self.auto and not self.store.blocks:
            return
        entry_id = self.entry_id
        for other in REPAIRABLE_REASONS:
            if other != err.reason:
                ir.async_delete_issue(self.hass, DOMAIN, blocking_issue_id(other, entry_id))
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            blocking_issue_id(err.reason, entry_id),
            is_fixable=False,
            is_persistent=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key=f"blocking_{err.reason}",
            translation_placeholders={"backend": self.backend.name, "message": err.message},
        )

    def _clear_problem(self) -> None:
        if self.problem is None:
            return
        self.problem = None
        clear_blocking_issues(self.hass, self.entry_id)


def clear_blocking_issues(hass: HomeAssistant, entry_id: str) -> None:
    for reason in REPAIRABLE_REASONS:
        ir.async_delete_issue(hass, DOMAIN, blocking_issue_id(reason, entry_id))


def clear_all_blocking_issues(hass: HomeAssistant, entry_id: str) -> None:
    clear_blocking_issues(hass, entry_id)
    ir.async_delete_issue(hass, DOMAIN, blocking_issue_id(ISSUE_CANNOT_CUT, entry_id))


async def async_setup_blocking(
    hass: HomeAssistant, entry: ConfigEntry, coordinator: TotemCoordinator
) -> BlockManager:
    """The entry's BlockManager, started: stored blocks are back in the kernel, and it
    reads the kernel again after every coordinator update."""
    config = coordinator.config
    store = BlockStore(hass, entry.entry_id)
    await store.async_load()
    name = config.chosen_backend
    capture_mac = await hass.async_add_executor_job(capture_mac_of, config)
    # What the host resolved as its gateway, ever: shared by every entry of this host.
    memory = GatewayMemory(Path(hass.config.path(STORAGE_DIR, f"{DOMAIN}.gateways.json")))

    def protected() -> dict[str, Protection]:
        return store.protected

    # Choosing "auto" reads the host (bridges), which runs `ip`: executor.
    try:
        backend = await hass.async_add_executor_job(
            lambda: make_backend(
                name,
                runner=NftRunner(),
                capture_mac=capture_mac,
                protected=protected,
                memory=memory,
            )
        )
    except EnforceError as err:
        # Only a hand-edited options file names an unknown backend.
        _LOGGER.error("TOTEM blocks nothing: %s", err.message)
        backend = make_backend(BACKEND_NONE, protected=protected, memory=memory)
    if config.source.kind == SOURCE_DEMO:
        # The demo home is not this network: blocks are pretended, refusals are real.
        backend = PretendBackend(protected=protected, memory=memory)
    remote = coordinator.probe
    # The probe's machine is on its devices' path, not this host; alert-only stays so.
    if (
        config.source.kind == SOURCE_REMOTE
        and isinstance(remote, RemoteProbe)
        and name != BACKEND_NONE
    ):
        backend = RemoteBackend(hass, remote, memory)
    manager = BlockManager(
        hass, coordinator, backend, store, capture_mac=capture_mac, memory=memory
    )
    await manager.async_check_host()
    await manager.async_start()
    if not manager.enforcing:
        _remove_switches(hass, entry.entry_id)
    # Protections first: a switch must never offer to block what the snapshot showed.
    entry.async_on_unload(coordinator.async_add_listener(manager.async_observe))
    if config.new_devices_wait:
        manager.approval = ApprovalManager(hass, manager)
        await manager.approval.async_restore()
        entry.async_on_unload(coordinator.async_add_listener(manager.approval.async_on_update))
    else:
        await async_drop_approvals(hass, manager)
    entry.async_on_unload(coordinator.async_add_listener(manager.async_schedule_refresh))
    if isinstance(backend, RemoteBackend) and isinstance(remote, RemoteProbe):
        # Back online after a reboot: the read-back finds the lost blocks and puts them back.
        remote.online_listeners.append(manager.async_probe_online)
        entry.async_on_unload(lambda: remote.online_listeners.remove(manager.async_probe_online))
    entry.async_on_unload(manager.async_stop)
    return manager


def _remove_switches(hass: HomeAssistant, entry_id: str) -> None:
    """Alert-only mode has no "Network access" switch: drop the ones from before."""
    registry = er.async_get(hass)
    for entity in er.async_entries_for_config_entry(registry, entry_id):
        if entity.domain == "switch" and entity.unique_id.endswith("-network_access"):
            registry.async_remove(entity.entity_id)


async def async_remove_blocking(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """The entry is deleted: its blocks leave the kernel, its block store the disk.

    TOTEM's table is shared by every entry on this host; while another entry
    remains, only this entry's blocks are lifted.
    """
    store = BlockStore(hass, entry.entry_id)
    await store.async_load()
    others = [e for e in hass.config_entries.async_entries(DOMAIN) if e.entry_id != entry.entry_id]
    name = store.backend or TotemConfig.from_config_entry(entry).chosen_backend

    def lift() -> None:
        backend = make_backend(name, runner=NftRunner())
        if others:
            for mac in store.blocks:
                backend.unblock(mac)
        else:
            backend.remove_all()

    # A remote probe's blocks live on its machine, which may be gone for good.
    if name not in (BACKEND_NONE, BACKEND_PRETEND, BACKEND_REMOTE):
        try:
            await hass.async_add_executor_job(lift)
        except EnforceError as err:
            _LOGGER.warning("Could not remove TOTEM's blocks from nftables: %s", err.message)
    clear_all_blocking_issues(hass, entry.entry_id)
    await store.async_remove()
