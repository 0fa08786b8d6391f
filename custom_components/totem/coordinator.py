"""The coordinator: supervises the probe process and publishes what it says.

Nothing here touches packets. Each snapshot from the probe is folded into
the inventory (inventory.py), its new devices are registered
(device_registry.py), and it is published twice: first to the snapshot
subscribers (the activity log, which must see it before the entities do),
then as the coordinator's data to the entities. Each alert is published to
the alert subscribers (alerts.py routes them to the bus and the entities).
The coordinator knows its subscribers only as callbacks.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable
from dataclasses import replace
from functools import partial

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import CALLBACK_TYPE, Event, HomeAssistant, callback
from homeassistant.helpers.storage import STORAGE_DIR
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed

from .const import DOMAIN, FIRST_SNAPSHOT_SECONDS, STALE_CHECK_SECONDS
from .device_registry import DeviceRegistryUpdater
from .engine.messages import (
    AlertMessage,
    ErrorMessage,
    Heartbeat,
    Hello,
    Message,
    SnapshotMessage,
    WarningMessage,
)
from .engine.model import EngineStats, Snapshot
from .engine.protocol import AllowDhcpServers, RequestSnapshot, SetDeviceType
from .inventory import VISIBILITY_OWN_TRAFFIC, DeviceInventory, InventoryOptions, TotemData
from .issues import (
    ISSUE_STATE_NOT_SAVED,
    ISSUE_STATE_REPAIRED,
    REPAIRABLE_ERRORS,
    clear_capture_issues,
    raise_capture_issue,
    raise_state_issue,
    set_visibility_issue,
)
from .mesh import probe_mesh
from .options import TotemConfig
from .probe_process import ProbeEnded, ProbeProcess
from .remote_probe import RemoteProbe
from .store import InventoryStore

_LOGGER = logging.getLogger(__package__)

# A snapshot subscriber sees the data before the entities do.
type SnapshotListener = Callable[[TotemData], None]
# An alert subscriber gets each new alert once, and each count update of an open one.
type AlertListener = Callable[[AlertMessage], None]


def engine_state_file(hass: HomeAssistant, entry_id: str) -> str:
    return hass.config.path(STORAGE_DIR, f"{DOMAIN}.{entry_id}.engine.json")


def _subscribe[T](listeners: list[T], listener: T) -> CALLBACK_TYPE:
    listeners.append(listener)

    @callback
    def unsubscribe() -> None:
        if listener in listeners:
            listeners.remove(listener)

    return unsubscribe


class TotemCoordinator(DataUpdateCoordinator[TotemData]):
    """Push coordinator fed by the probe process."""

    config_entry: ConfigEntry

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        config: TotemConfig,
        store: InventoryStore,
    ) -> None:
        super().__init__(hass, _LOGGER, config_entry=entry, name=f"{DOMAIN} {entry.title}")
        self.entry_id = entry.entry_id
        self.config = config
        self.store = store
        self.source = config.source.label
        self.is_replay = config.source.is_replay
        self.inventory = DeviceInventory(
            store,
            InventoryOptions(
                device_cap=config.device_cap,
                auto_add=config.auto_add,
                ignored=config.ignored,
                away_timeout=config.away_timeout,
                use_packet_time=self.is_replay,
            ),
        )
        self.devices = DeviceRegistryUpdater(hass, entry.entry_id, entry.title, store)
        # Devices across entries: stand-ins resolved, traffic totals (mesh.py).
        self.mesh = probe_mesh(hass)
        self.probe: ProbeProcess | RemoteProbe = ProbeProcess(
            config.probe_args(engine_state_file(hass, entry.entry_id)),
            self._on_message,
            self._on_exit,
            may_finish=config.source.may_finish,
            heartbeat=config.update_interval,
        )
        if config.source.probe_name:  # a probe on another machine, through MQTT
            secret = config.source.probe_secret or ""
            self.probe = RemoteProbe(
                hass, config.source.probe_name, secret, self._on_message, self._on_exit
            )
        self.source_available = False
        self.finished = False
        self.hello: Hello | None = None
        self.last_error: ErrorMessage | None = None
        self.heartbeat_stats: EngineStats | None = None
        # Platforms remember which (platform, mac) already have entities.
        self.known: set[tuple[str, str]] = set()
        self._snapshot_listeners: list[SnapshotListener] = []
        self._alert_listeners: list[AlertListener] = []
        self._unavailable_logged = False
        self._alerts_pending_refresh = False
        self._flood_logged = False
        self._first_snapshot_timer: asyncio.TimerHandle | None = None
        self._stopping = False
        self._last_stale_check = 0.0

    @property
    def hub_device_id(self) -> str | None:
        return self.devices.hub_device_id

    # -- subscriptions ----------------------------------------------------

    @callback
    def async_subscribe_snapshots(self, listener: SnapshotListener) -> CALLBACK_TYPE:
        """Call LISTENER with every snapshot's data before the entities get it."""
        return _subscribe(self._snapshot_listeners, listener)

    @callback
    def async_subscribe_alerts(self, listener: AlertListener) -> CALLBACK_TYPE:
        """Call LISTENER with every alert, after the snapshot that admitted its device."""
        return _subscribe(self._alert_listeners, listener)

    @callback
    def async_publish_alert(self, message: AlertMessage) -> None:
        """Hand an alert to the subscribers: the probe's, or one raised in Home Assistant
        (the activity log's mismatches), which take the same way to the user."""
        for listener in list(self._alert_listeners):
            listener(message)
        if not self._alerts_pending_refresh:
            # Alert scores show the new alerts once this batch of lines is read.
            self._alerts_pending_refresh = True
            self.hass.loop.call_soon(self._refresh_after_alerts)

    # -- life cycle -------------------------------------------------------

    async def async_start(self) -> None:
        await self.mesh.async_load()
        self.devices.register_hub()
        self._remove_devices(self.inventory.ignored())
        self._remove_devices(self.inventory.stale(time.time(), self.config.stale_seconds))
        # Restored devices show their stored counters until the probe speaks.
        self._restore_from_store()
        self.config_entry.async_on_unload(
            # Not listen_once: unloading after the stop would remove a listener that
            # already went away and log an error.
            self.hass.bus.async_listen(EVENT_HOMEASSISTANT_STOP, self._on_hass_stop)
        )
        state_dir = os.path.dirname(engine_state_file(self.hass, self.entry_id))
        await self.hass.async_add_executor_job(partial(os.makedirs, state_dir, exist_ok=True))
        self.probe.start()

    async def async_stop(self) -> None:
        self._stopping = True  # a hello still in flight must not arm a timer now
        if self._first_snapshot_timer is not None:
            self._first_snapshot_timer.cancel()
        await self.probe.stop()
        self.mesh.forget_entry(self.entry_id)
        await self.store.async_save()

    async def _on_hass_stop(self, _event: Event) -> None:
        await self.async_stop()

    # -- probe stream -----------------------------------------------------

    @callback
    def _on_message(self, msg: Message) -> None:
        if isinstance(msg, Hello):
            if self._stopping:
                return
            self.hello = msg
            self.inventory.new_session()
            self._resend_user_types()
            if self.config.dhcp_servers:
                # A remote probe's command line is its own: it hears the list here
                # (a local probe has it on its command line too, before any frame).
                self.probe.send(AllowDhcpServers(servers=self.config.dhcp_servers))
            if self._first_snapshot_timer is not None:
                self._first_snapshot_timer.cancel()
            self._first_snapshot_timer = self.hass.loop.call_later(
                FIRST_SNAPSHOT_SECONDS, self.probe.send, RequestSnapshot()
            )
        elif isinstance(msg, SnapshotMessage):
            wall = msg.wall_time if msg.wall_time is not None else time.time()
            self._on_snapshot(msg.snapshot, wall, final=msg.final)
        elif isinstance(msg, AlertMessage):
            # After its snapshot (the probe sends them in that order): the device it
            # names is registered by now (under its real MAC once a stand-in is resolved).
            if (real := self.mesh.alias(msg.alert.mac)) != msg.alert.mac:
                msg = replace(msg, alert=replace(msg.alert, mac=real))
            self.async_publish_alert(msg)
        elif isinstance(msg, Heartbeat):
            self.heartbeat_stats = msg.stats
        elif isinstance(msg, WarningMessage):
            _LOGGER.warning("TOTEM probe on %s: %s", self.source, msg.message)
            self._state_warning(msg)
        elif isinstance(msg, ErrorMessage):
            self.last_error = msg

    def _resend_user_types(self) -> None:
        """The user's device types live in Home Assistant's store: a probe that starts
        without its state file (lost, unreadable) must still judge those devices by
        them, so every start hears them again."""
        for record in self.store.devices.values():
            if record.user_type is not None:
                self.probe.send(SetDeviceType(mac=record.mac, type=record.user_type))

    def _state_warning(self, msg: WarningMessage) -> None:
        """The probe's state file could not be read or saved: a repair issue, not only
        a log line (learning since the last save would be lost unseen)."""
        path = engine_state_file(self.hass, self.entry_id)
        if msg.code in ("state_unreadable", "state_repaired"):
            kind, backup = ISSUE_STATE_REPAIRED, f"{path}.corrupt"
        elif msg.code == "state_not_saved":
            kind, backup = ISSUE_STATE_NOT_SAVED, "-"
        else:
            return
        raise_state_issue(self.hass, self.entry_id, kind, path, msg.message, backup)

    @callback
    def _refresh_after_alerts(self) -> None:
        self._alerts_pending_refresh = False
        if self.data is not None:
            self.async_update_listeners()

    def _on_snapshot(self, snapshot: Snapshot, wall: float, *, final: bool = False) -> None:
        snapshot, resolved = self.mesh.resolve(self.entry_id, snapshot)
        # An address-only device now known by its MAC: its stand-in device goes.
        self._remove_devices([m for m in resolved if m in self.store.devices])
        data, new = self.inventory.apply(snapshot, wall, final=final)
        if data.flood and not self._flood_logged:
            _LOGGER.warning(
                "TOTEM sees a flood of new MAC addresses on %s; only devices that used DHCP "
                "or got an answer are added meanwhile",
                self.source,
            )
        self._flood_logged = data.flood
        for mac in new:
            self.devices.register(data.devices[mac])
        self.devices.sync(data)
        if not self.source_available:
            if self._unavailable_logged:
                _LOGGER.info("TOTEM capture from %s is working again", self.source)
            self._unavailable_logged = False
            self.source_available = True
            self.last_error = None
            clear_capture_issues(self.hass, self.entry_id)
        set_visibility_issue(
            self.hass,
            self.entry_id,
            self.source,
            limited=not self.is_replay and data.visibility == VISIBILITY_OWN_TRAFFIC,
        )
        if wall - self._last_stale_check >= STALE_CHECK_SECONDS:
            self._last_stale_check = wall
            stale = self.inventory.stale(wall, self.config.stale_seconds)
            if stale:
                self._remove_devices(stale)
                # Entities must not be created again for what was just removed.
                kept = {m: v for m, v in data.devices.items() if m in self.store.devices}
                data = replace(data, devices=kept)
        self.mesh.note(self.entry_id, self.config_entry.title, data)
        for listener in list(self._snapshot_listeners):
            listener(data)
        self.async_set_updated_data(data)

    @callback
    def _on_exit(self, result: ProbeEnded) -> None:
        if result.finished:
            self.finished = True
            _LOGGER.info("TOTEM replay of %s reached its end", self.source)
            return
        self.source_available = False
        if result.error_code in REPAIRABLE_ERRORS:
            raise_capture_issue(
                self.hass, self.entry_id, result.error_code, self.source, result.message
            )
        if not self._unavailable_logged:
            # Once per outage: the probe may be restarted many times meanwhile.
            _LOGGER.warning(
                "TOTEM capture from %s is unavailable (%s); retrying in the background",
                self.source,
                result.message,
            )
            self._unavailable_logged = True
        self.last_update_success = False
        self.last_exception = UpdateFailed(result.message)
        self.async_update_listeners()

    # -- devices ------------------------------------------------------------

    def _restore_from_store(self) -> None:
        if not self.store.devices:
            return
        data, _ = self.inventory.apply(Snapshot(0, 0, None, None, [], []))
        self.data = data
        # Not yet heard from the probe: entities stay unavailable until it speaks.
        self.last_update_success = False

    def _remove_devices(self, macs: list[str]) -> None:
        self.devices.remove(macs)
        for mac in macs:
            self.forget_device(mac)

    def forget_device(self, mac: str) -> None:
        """The device leaves the inventory; it comes back only with new traffic."""
        self.inventory.forget(mac)
        self.known = {k for k in self.known if k[1] != mac}
        if self.data is not None and mac in self.data.devices:
            devices = {m: v for m, v in self.data.devices.items() if m != mac}
            self.data = replace(self.data, devices=devices)
        self.store.schedule_save()
