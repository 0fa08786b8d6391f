"""New devices wait for approval (the option "new devices wait for approval").

The first inventory is every device admitted until INITIAL_INVENTORY_SECONDS
after the option was turned on: nothing is quarantined then. A device that
joins later (a new root in the inventory; a rotated private MAC of a known
device is merged into it by the engine, same DHCP client id or host name, and
is no new device) is quarantined in the kernel (DHCP, DNS and ARP only), a
``totem_new_device`` event fires and a repair issue names it, until
``totem.approve_device`` approves it, keeps it blocked, or forgets it.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Final, Protocol

from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import issue_registry as ir

from .compat import remove_entry_from_device
from .const import DOMAIN, EVENT_NEW_DEVICE
from .coordinator import TotemCoordinator
from .inventory import TotemData

_LOGGER = logging.getLogger(__package__)

# How long the first inventory lasts: a quiet IoT device speaks at least once an
# hour (DHCP renewals at half a lease, cloud keep-alives every few minutes).
INITIAL_INVENTORY_SECONDS: float = 3600.0
DECISION_APPROVE: Final = "approve"
DECISION_KEEP_BLOCKED: Final = "keep_blocked"
DECISION_FORGET: Final = "forget"
DECISIONS: Final = (DECISION_APPROVE, DECISION_KEEP_BLOCKED, DECISION_FORGET)
# Why a new device is not held back when the backend cuts nothing (blocking is off).
REASON_NOT_ENFORCING: Final = "blocking_disabled"


def approval_issue_id(entry_id: str, mac: str) -> str:
    return f"new_device_{entry_id}_{mac.replace(':', '')}"


class Holder(Protocol):
    """What approval needs of the BlockManager (blocking.py owns the approval manager)."""

    coordinator: TotemCoordinator
    entry_id: str
    store: Any  # BlockStore: known, inventory_until, waiting, async_save

    async def async_quarantine(self, mac: str) -> bool: ...
    async def async_release(self, mac: str) -> None: ...
    async def async_block(self, mac: str, duration: float | None = None) -> None: ...


class ApprovalManager:
    """Quarantines devices that join after the first inventory; one per entry."""

    def __init__(self, hass: HomeAssistant, blocking: Holder) -> None:
        self.hass = hass
        self.blocking = blocking
        self.store = blocking.store
        self.coordinator = blocking.coordinator
        self.entry_id = blocking.entry_id

    @callback
    def async_on_update(self) -> None:
        data: TotemData | None = self.coordinator.data
        if data is None:
            return
        store, now = self.store, time.time()
        if store.known is None or store.inventory_until is None:
            store.known, store.inventory_until = set(), now + INITIAL_INVENTORY_SECONDS
        if now <= store.inventory_until:
            if not set(data.devices) <= store.known:
                store.known |= set(data.devices)
                self._save()
            return
        for mac, view in data.devices.items():
            if mac in store.known or mac in store.waiting:
                continue
            store.waiting[mac] = now
            self._save()
            self.coordinator.config_entry.async_create_background_task(
                self.hass, self._async_hold(mac, view.name), f"{DOMAIN} quarantine {mac}"
            )

    async def async_restore(self) -> None:
        """At start: the devices still waiting are held again (a reboot of the host
        empties the kernel's sets; adding a MAC that is there changes nothing), and
        the repair issue says whether they are."""
        for mac in list(self.store.waiting):
            reason, detail = await self._async_try_hold(mac)
            self._issue(mac, self._name(mac), reason, detail)

    async def _async_hold(self, mac: str, name: str) -> None:
        """Quarantine MAC and tell the user; when it cannot be held back (a router, DHCP
        or DNS server that joined later, a host where the rules cut nothing) the user is
        told that too, with the reason: a waiting device must never look cut off when
        it is not."""
        reason, detail = await self._async_try_hold(mac)
        # This entry's device (newer Home Assistant deprecates async_get_device: a MAC
        # may belong to devices of several entries).
        device_id = self.coordinator.devices.device_id(mac)
        self.hass.bus.async_fire(
            EVENT_NEW_DEVICE,
            {
                "entry_id": self.entry_id,
                "mac": mac,
                "device_id": device_id,
                "name": name,
                "joined_at": self.store.waiting.get(mac),
                "decisions": list(DECISIONS),
                # Cut off until decided; when not, why (a reason code of the services').
                "held": reason is None,
                "not_held_reason": reason,
            },
        )
        self._issue(mac, name, reason, detail)

    async def _async_try_hold(self, mac: str) -> tuple[str | None, str]:
        """Quarantine MAC: (None, "") when held, else the reason code and its detail."""
        try:
            if not await self.blocking.async_quarantine(mac):
                return REASON_NOT_ENFORCING, ""
        except HomeAssistantError as err:
            reason = err.translation_key or "failed"
            detail = (err.translation_placeholders or {}).get("message", "") or str(err)
        except Exception as err:  # nft itself failed: the user must still be told
            reason, detail = "failed", str(err)
        else:
            return None, ""
        _LOGGER.warning("New device %s is not held back (%s): %s", mac, reason, detail)
        return reason, detail

    @callback
    def _issue(self, mac: str, name: str, reason: str | None, detail: str) -> None:
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            approval_issue_id(self.entry_id, mac),
            is_fixable=False,
            is_persistent=True,
            severity=ir.IssueSeverity.WARNING,
            translation_key="new_device_waiting" if reason is None else "new_device_not_held",
            translation_placeholders={"name": name, "mac": mac}
            if reason is None
            else {"name": name, "mac": mac, "reason": detail or reason},
        )

    def _name(self, mac: str) -> str:
        stored = self.coordinator.inventory.store.devices.get(mac)
        return stored.name if stored is not None and stored.name else mac

    async def async_decide(self, mac: str, decision: str) -> None:
        """Approve MAC, keep it blocked (for good) or forget it (it waits again if it
        comes back)."""
        store = self.store
        if decision == DECISION_KEEP_BLOCKED:
            # Blocked before it is released: a refused block (a DHCP server, a host
            # where rules cut nothing) leaves it waiting as it was, never let go.
            await self.blocking.async_block(mac)
        await self.blocking.async_release(mac)
        store.waiting.pop(mac, None)
        if decision == DECISION_FORGET:
            if store.known is not None:
                store.known.discard(mac)
            self._remove_device(mac)
            self.coordinator.forget_device(mac)
        elif store.known is not None:
            store.known.add(mac)
        ir.async_delete_issue(self.hass, DOMAIN, approval_issue_id(self.entry_id, mac))
        await store.async_save()

    def _remove_device(self, mac: str) -> None:
        """Forgotten, the device leaves Home Assistant too, entities and all: when it
        speaks again it comes back as a new device (new entities, not duplicates of
        the old ones)."""
        device_id = self.coordinator.devices.device_id(mac)
        registry = dr.async_get(self.hass)
        device = None if device_id is None else registry.async_get(device_id)
        if device is not None:
            remove_entry_from_device(registry, device, self.entry_id)

    def _save(self) -> None:
        self.coordinator.config_entry.async_create_background_task(
            self.hass, self.store.async_save(), f"{DOMAIN} save approvals"
        )


async def async_drop_approvals(hass: HomeAssistant, blocking: Holder) -> None:
    """The option is off: the devices still waiting are let go (nothing could approve
    them any more), and the first inventory starts again when it is turned back on."""
    store = blocking.store
    if store.known is None and store.inventory_until is None and not store.waiting:
        return
    for mac in list(store.waiting):
        try:
            await blocking.async_release(mac)
        except HomeAssistantError as err:
            _LOGGER.warning("Could not let waiting device %s go: %s", mac, err)
            continue
        del store.waiting[mac]
        ir.async_delete_issue(hass, DOMAIN, approval_issue_id(blocking.entry_id, mac))
    store.known, store.inventory_until = None, None
    await store.async_save()
