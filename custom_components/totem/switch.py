"""The "Network access" switch of each network device: on = allowed, off = blocked.

Like unifi's and fritz's, the switch is on while the device may use the
network. Its state is the kernel's: the BlockManager reads TOTEM's nftables
table on every coordinator update and after every change, so a rule removed
by hand, or a temporary block that ran out, shows as allowed.

A device that must never be blocked (the gateway, a DHCP or DNS server, a
router or access point, this host, the capture interface) gets no switch;
one that turns out to be such a device loses its switch (unless it is
blocked: then it keeps it, to be let back). Where the backend cannot cut
traffic on this host the switches are unavailable and a repair issue says
why. Only administrators may turn the switch, as only they may call the
block services.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.entity_platform import AddEntitiesCallback

from .blocking import AdminOnly, BlockManager
from .const import DOMAIN
from .coordinator import TotemCoordinator
from .data import TotemConfigEntry
from .entity import TotemDeviceEntity, TotemDeviceEntityDescription, device_unique_id
from .inventory import DeviceView, TotemData

# nft calls are serialised by the BlockManager's lock, not by the platform.
PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class TotemSwitchDescription(SwitchEntityDescription, TotemDeviceEntityDescription):
    """A per-device switch."""


NETWORK_ACCESS = TotemSwitchDescription(
    key="network_access",
    translation_key="network_access",
    entity_category=EntityCategory.CONFIG,
    # The device's MACs: all of them are blocked together.
    value_fn=lambda v: v.macs,
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: TotemConfigEntry,
    async_add_entities: AddEntitiesCallback,
) -> None:
    manager = entry.runtime_data.blocking
    if not manager.enforcing:
        return  # alert only: nothing to switch
    coordinator = entry.runtime_data.coordinator
    known: set[str] = set()

    @callback
    def add_new() -> None:
        data: TotemData | None = coordinator.data
        if data is None:
            return
        new = [mac for mac in data.devices if mac not in known]
        for mac in new:
            if must_not_switch(manager, data.devices[mac]):
                _remove_switch(hass, coordinator.entry_id, mac)
                continue
            known.add(mac)
            async_add_entities(
                [TotemNetworkAccessSwitch(coordinator, NETWORK_ACCESS, mac, manager, known)]
            )

    add_new()
    entry.async_on_unload(coordinator.async_add_listener(add_new))


def must_not_switch(manager: BlockManager, view: DeviceView) -> bool:
    """No switch for a device that must never be blocked, unless it is blocked now."""
    macs = view.macs or (view.mac,)
    if any(manager.is_blocked(mac) for mac in macs):
        return False
    return any(manager.refusal(mac) is not None for mac in macs)


@callback
def _remove_switch(hass: HomeAssistant, entry_id: str, mac: str) -> None:
    registry = er.async_get(hass)
    unique_id = device_unique_id(entry_id, mac, NETWORK_ACCESS.key)
    entity_id = registry.async_get_entity_id("switch", DOMAIN, unique_id)
    if entity_id is not None:
        registry.async_remove(entity_id)


class TotemNetworkAccessSwitch(TotemDeviceEntity, SwitchEntity):
    """Off cuts the device off the network (all its MACs); on lets it back."""

    entity_description: TotemSwitchDescription

    def __init__(
        self,
        coordinator: TotemCoordinator,
        description: TotemSwitchDescription,
        mac: str,
        manager: BlockManager,
        known: set[str],
    ) -> None:
        super().__init__(coordinator, description, mac)
        self._manager = manager
        self._known = known

    @property
    def available(self) -> bool:
        # Blocking does not need the probe: a device stays blockable (and
        # unblockable) while capture is down, not while nftables is unusable.
        data = self.coordinator.data
        return (
            data is not None
            and self._mac in data.devices
            and self._manager.problem is None
            and self._manager.cannot_cut is None
        )

    @property
    def is_on(self) -> bool | None:
        return self._value  # type: ignore[no-any-return]

    def _macs(self) -> tuple[str, ...]:
        data: TotemData | None = self.coordinator.data
        view = data.devices.get(self._mac) if data is not None else None
        return view.macs if view is not None and view.macs else (self._mac,)

    def _compute(self, data: TotemData) -> tuple[Any, dict[str, Any] | None]:
        macs = self._macs()
        blocked = [mac for mac in macs if self._manager.is_blocked(mac)]
        attrs: dict[str, Any] | None = None
        ends = [self._manager.blocked_until(mac) for mac in blocked]
        if blocked and all(end is not None for end in ends):
            # Temporary: say when the device gets its access back.
            attrs = {"blocked_until": max(e for e in ends if e is not None).isoformat()}
        return not blocked, attrs

    async def async_added_to_hass(self) -> None:
        await super().async_added_to_hass()
        self.async_on_remove(self._manager.async_add_listener(self._handle_coordinator_update))

    @callback
    def _handle_coordinator_update(self) -> None:
        data: TotemData | None = self.coordinator.data
        view = data.devices.get(self._mac) if data is not None else None
        if view is not None and must_not_switch(self._manager, view):
            # It turned out to be the gateway, a server or a router: no switch.
            self._known.discard(self._mac)
            if self.registry_entry is not None:
                er.async_get(self.hass).async_remove(self.entity_id)
            else:
                self.hass.async_create_task(self.async_remove())
            return
        super()._handle_coordinator_update()

    async def _async_check_admin(self) -> None:
        user_id = self._context.user_id if self._context is not None else None
        if user_id is None:
            return  # an automation or Home Assistant itself
        user = await self.hass.auth.async_get_user(user_id)
        if user is None or not user.is_admin:
            raise AdminOnly(user_id)

    async def async_turn_off(self, **kwargs: Any) -> None:
        await self._async_check_admin()
        for mac in self._macs():
            await self._manager.async_block(mac)

    async def async_turn_on(self, **kwargs: Any) -> None:
        await self._async_check_admin()
        for mac in self._macs():
            await self._manager.async_unblock(mac)
