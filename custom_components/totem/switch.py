"""The "Network access" switch of each network device: on = allowed, off = blocked.

Like unifi's and fritz's, the switch is on while the device may use the
network. Its state is the kernel's: the BlockManager reads TOTEM's nftables
table on every coordinator update and after every change, so a rule removed
by hand, or a temporary block that ran out, shows as allowed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddEntitiesCallback

from .blocking import BlockManager
from .coordinator import TotemCoordinator
from .data import TotemConfigEntry
from .entity import TotemDeviceEntity, TotemDeviceEntityDescription, add_device_entities
from .inventory import TotemData

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

    def factory(
        coordinator: TotemCoordinator, description: TotemSwitchDescription, mac: str
    ) -> TotemNetworkAccessSwitch:
        return TotemNetworkAccessSwitch(coordinator, description, mac, manager)

    entry.async_on_unload(
        add_device_entities(
            entry.runtime_data.coordinator,
            "switch",
            (NETWORK_ACCESS,),
            factory,
            async_add_entities,
        )
    )


class TotemNetworkAccessSwitch(TotemDeviceEntity, SwitchEntity):
    """Off cuts the device off the network (all its MACs); on lets it back."""

    entity_description: TotemSwitchDescription

    def __init__(
        self,
        coordinator: TotemCoordinator,
        description: TotemSwitchDescription,
        mac: str,
        manager: BlockManager,
    ) -> None:
        super().__init__(coordinator, description, mac)
        self._manager = manager

    @property
    def available(self) -> bool:
        # Blocking does not need the probe: a device stays blockable (and
        # unblockable) while capture is down, not while nftables is unusable.
        data = self.coordinator.data
        return data is not None and self._mac in data.devices and self._manager.problem is None

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

    async def async_turn_off(self, **kwargs: Any) -> None:
        for mac in self._macs():
            await self._manager.async_block(mac)

    async def async_turn_on(self, **kwargs: Any) -> None:
        for mac in self._macs():
            await self._manager.async_unblock(mac)
