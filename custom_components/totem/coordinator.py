"""The coordinator: supervises the probe process and pushes its snapshots.

Nothing here touches packets. The probe child process sends NDJSON; each
snapshot is folded into the device table (tracker.py), new devices are
registered, and ``async_set_updated_data`` pushes the result to the entities.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING, Any

from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.storage import STORAGE_DIR
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed

from .anomalies import AnomalyHub
from .compat import ONE_DEVICE_PER_ENTRY, device_config_entries, remove_entry_from_device
from .const import (
    CONF_AUTO_ADD,
    CONF_AWAY_TIMEOUT,
    CONF_DEVICE_CAP,
    CONF_IGNORED,
    CONF_INTERFACE,
    CONF_LEARN_DAYS,
    CONF_LOOP,
    CONF_PATH,
    CONF_PROMISC,
    CONF_SOURCE_TYPE,
    CONF_SPEED,
    CONF_STALE_DAYS,
    CONF_UPDATE_INTERVAL,
    DEFAULT_OPTIONS,
    DEFAULT_SPEED,
    DOMAIN,
    FIRST_SNAPSHOT_SECONDS,
    SOURCE_REPLAY,
    STALE_CHECK_SECONDS,
)
from .data import TotemConfigEntry
from .engine.model import EngineStats, Snapshot
from .engine.protocol import (
    AlertMessage,
    ErrorMessage,
    Heartbeat,
    Hello,
    Message,
    RequestSnapshot,
    SnapshotMessage,
    WarningMessage,
)
from .issues import (
    REPAIRABLE_ERRORS,
    clear_capture_issues,
    raise_capture_issue,
    set_visibility_issue,
)
from .probe_process import ProbeEnded, ProbeProcess
from .store import TotemStore
from .tracker import VISIBILITY_OWN_TRAFFIC, DeviceTracker, DeviceView, TotemData, TrackerOptions

if TYPE_CHECKING:
    from .activity import ActivityMonitor

_LOGGER = logging.getLogger(__package__)


def entry_options(entry: TotemConfigEntry) -> dict[str, Any]:
    return {**DEFAULT_OPTIONS, **entry.options}


def source_label(data: dict[str, Any]) -> str:
    if data[CONF_SOURCE_TYPE] == SOURCE_REPLAY:
        return str(data[CONF_PATH])
    return str(data[CONF_INTERFACE])


def probe_args(
    data: dict[str, Any], options: dict[str, Any], state_file: str | None = None
) -> list[str]:
    """The probe's arguments for this entry's source and options."""
    if data[CONF_SOURCE_TYPE] == SOURCE_REPLAY:
        args = [
            "--replay",
            str(data[CONF_PATH]),
            "--speed",
            str(data.get(CONF_SPEED, DEFAULT_SPEED)),
        ]
        if data.get(CONF_LOOP, True):
            args.append("--loop")
    else:
        args = ["--iface", str(data[CONF_INTERFACE])]
        if data.get(CONF_PROMISC, False):
            args.append("--promisc")
    args += [
        "--interval",
        str(options[CONF_UPDATE_INTERVAL]),
        "--learn",
        str(int(options[CONF_LEARN_DAYS] * 86400)),
    ]
    if state_file:
        # What the engine learned (baselines) survives probe and Home Assistant restarts.
        args += ["--state", state_file]
    return args


def engine_state_file(hass: HomeAssistant, entry_id: str) -> str:
    return hass.config.path(STORAGE_DIR, f"{DOMAIN}.{entry_id}.engine.json")


class TotemCoordinator(DataUpdateCoordinator[TotemData]):
    """Push coordinator fed by the probe process."""

    config_entry: TotemConfigEntry

    def __init__(self, hass: HomeAssistant, entry: TotemConfigEntry, store: TotemStore) -> None:
        super().__init__(hass, _LOGGER, config_entry=entry, name=f"{DOMAIN} {entry.title}")
        options = entry_options(entry)
        self.store = store
        self.source = source_label(dict(entry.data))
        self.is_replay = entry.data[CONF_SOURCE_TYPE] == SOURCE_REPLAY
        self.tracker = DeviceTracker(
            store,
            TrackerOptions(
                device_cap=int(options[CONF_DEVICE_CAP]),
                auto_add=bool(options[CONF_AUTO_ADD]),
                ignored=frozenset(m.lower() for m in options[CONF_IGNORED]),
                away_timeout=float(options[CONF_AWAY_TIMEOUT]),
                use_packet_time=self.is_replay,
            ),
        )
        self.stale_seconds = float(options[CONF_STALE_DAYS]) * 86400
        self.probe = ProbeProcess(
            probe_args(dict(entry.data), options, engine_state_file(hass, entry.entry_id)),
            self._on_message,
            self._on_exit,
            may_finish=self.is_replay and not entry.data.get(CONF_LOOP, True),
        )
        self.hub_device_id: str | None = None
        self.source_available = False
        self.finished = False
        self.hello: Hello | None = None
        self.last_error: ErrorMessage | None = None
        self.heartbeat_stats: EngineStats | None = None
        # Platforms remember which (platform, mac) already have entities.
        self.known: set[tuple[str, str]] = set()
        # Alerts become totem_anomaly events and event entity triggers (anomalies.py).
        self.anomalies = AnomalyHub(hass, self)
        # State changes of linked entities beside the traffic (activity.py, set at setup).
        self.activity: ActivityMonitor | None = None
        self._unavailable_logged = False
        self._alerts_pending_refresh = False
        self._flood_logged = False
        self._first_snapshot_timer: asyncio.TimerHandle | None = None
        self._stopping = False
        self._last_stale_check = 0.0

    # -- life cycle -------------------------------------------------------

    async def async_start(self) -> None:
        entry = self.config_entry
        hub = dr.async_get(self.hass).async_get_or_create(
            config_entry_id=entry.entry_id,
            identifiers={(DOMAIN, entry.entry_id)},
            manufacturer="TOTEM",
            model="Network probe",
            name=entry.title,
            entry_type=dr.DeviceEntryType.SERVICE,
        )
        self.hub_device_id = hub.id
        self.remove_ignored_devices()
        self.remove_stale_devices()
        # Restored devices show their stored counters until the probe speaks.
        self._restore_from_store()
        entry.async_on_unload(
            # Not listen_once: unloading after the stop would remove a listener that
            # already went away and log an error.
            self.hass.bus.async_listen(EVENT_HOMEASSISTANT_STOP, self._on_hass_stop)
        )
        state_dir = os.path.dirname(engine_state_file(self.hass, entry.entry_id))
        await self.hass.async_add_executor_job(partial(os.makedirs, state_dir, exist_ok=True))
        self.probe.start()

    async def async_stop(self) -> None:
        self._stopping = True  # a hello still in flight must not arm a timer now
        if self._first_snapshot_timer is not None:
            self._first_snapshot_timer.cancel()
        await self.probe.stop()
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
            self.tracker.new_session()
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
            # names is registered by now.
            if msg.update:
                self.anomalies.update_counts([msg.alert])
            else:
                self.anomalies.handle([msg.alert])
            if not self._alerts_pending_refresh:
                # Alert scores show the new alerts once this batch of lines is read.
                self._alerts_pending_refresh = True
                self.hass.loop.call_soon(self._refresh_after_alerts)
        elif isinstance(msg, Heartbeat):
            self.heartbeat_stats = msg.stats
        elif isinstance(msg, WarningMessage):
            _LOGGER.warning("TOTEM probe on %s: %s", self.source, msg.message)
        elif isinstance(msg, ErrorMessage):
            self.last_error = msg

    @callback
    def _refresh_after_alerts(self) -> None:
        self._alerts_pending_refresh = False
        if self.data is not None:
            self.async_update_listeners()

    def _on_snapshot(self, snapshot: Snapshot, wall: float, *, final: bool = False) -> None:
        data, new = self.tracker.apply(snapshot, wall, final=final)
        if data.flood and not self._flood_logged:
            _LOGGER.warning(
                "TOTEM sees a flood of new MAC addresses on %s; only devices that used DHCP "
                "or got an answer are added meanwhile",
                self.source,
            )
        self._flood_logged = data.flood
        for mac in new:
            self._register_device(data.devices[mac])
        self._sync_device_info(data)
        if not self.source_available:
            if self._unavailable_logged:
                _LOGGER.info("TOTEM capture from %s is working again", self.source)
            self._unavailable_logged = False
            self.source_available = True
            self.last_error = None
            clear_capture_issues(self.hass, self.config_entry.entry_id)
        set_visibility_issue(
            self.hass,
            self.config_entry.entry_id,
            self.source,
            limited=not self.is_replay and data.visibility == VISIBILITY_OWN_TRAFFIC,
        )
        if wall - self._last_stale_check >= STALE_CHECK_SECONDS:
            self._last_stale_check = wall
            if self.remove_stale_devices(wall):
                # Entities must not be created again for what was just removed.
                kept = {m: v for m, v in data.devices.items() if m in self.store.devices}
                data = replace(data, devices=kept)
        if self.activity is not None:
            self.activity.on_snapshot(data)
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
                self.hass,
                self.config_entry.entry_id,
                result.error_code,
                self.source,
                result.message,
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

    # -- device registry --------------------------------------------------

    def _restore_from_store(self) -> None:
        if not self.store.devices:
            return
        snapshot = Snapshot(0, 0, None, None, [], [])
        data, _ = self.tracker.apply(snapshot)
        self.data = data
        # Not yet heard from the probe: entities stay unavailable until it speaks.
        self.last_update_success = False

    def _register_device(self, view: DeviceView) -> None:
        registry = dr.async_get(self.hass)
        connections = {(dr.CONNECTION_NETWORK_MAC, mac) for mac in view.macs}
        if ONE_DEVICE_PER_ENTRY:
            # Newer Home Assistant keeps one device per config entry: this one is
            # TOTEM's own, described in full.
            newer: dict[str, Any] = {"via_device_id": self.hub_device_id}
            registry.async_get_or_create(
                config_entry_id=self.config_entry.entry_id,
                connections=connections,
                name=view.name,
                manufacturer=view.manufacturer,
                model=model_name(view.type),
                **newer,
            )
            return
        # Connections only, and defaults rather than values (the fritz way): when another
        # integration already has this MAC (the Kasa plug), TOTEM joins its device page
        # and leaves its name, manufacturer and model alone.
        registry.async_get_or_create(
            config_entry_id=self.config_entry.entry_id,
            connections=connections,
            default_name=view.name,
            default_manufacturer=view.manufacturer,
            default_model=model_name(view.type),
            via_device=(DOMAIN, self.config_entry.entry_id),
        )

    def _sync_device_info(self, data: TotemData) -> None:
        """Better identification arrives over time: keep the registry in step."""
        registry = dr.async_get(self.hass)
        ours = self._our_devices()
        for view in data.devices.values():
            if not view.present:
                continue
            device = ours.get(view.mac)
            if device is None:
                continue
            connections = {(dr.CONNECTION_NETWORK_MAC, mac) for mac in view.macs}
            changes: dict[str, Any] = {}
            if not connections <= device.connections:
                changes["merge_connections"] = connections
            if not ONE_DEVICE_PER_ENTRY and device_config_entries(device) != {
                self.config_entry.entry_id
            }:
                # Shared with another integration: its description wins.
                if changes:
                    registry.async_update_device(device.id, **changes)
                continue
            if device.name != view.name:
                changes["name"] = view.name
            if device.manufacturer != view.manufacturer:
                changes["manufacturer"] = view.manufacturer
            if device.model != model_name(view.type):
                changes["model"] = model_name(view.type)
            if changes:
                registry.async_update_device(device.id, **changes)

    def _our_devices(self) -> dict[str, dr.DeviceEntry]:
        """This entry's network devices by primary MAC.

        Looked up through the config entry: newer Home Assistant deprecates
        async_get_device, identifiers and connections being no longer unique.
        """
        registry = dr.async_get(self.hass)
        return {
            mac: device
            for device in dr.async_entries_for_config_entry(registry, self.config_entry.entry_id)
            if (mac := self.primary_mac(device)) is not None
        }

    def primary_mac(self, device: dr.DeviceEntry) -> str | None:
        """The MAC TOTEM keys this device by, or None (the hub, a foreign device)."""
        for kind, mac in device.connections:
            if kind == dr.CONNECTION_NETWORK_MAC and mac in self.store.devices:
                return mac
        return None

    def remove_stale_devices(self, now: float | None = None) -> list[str]:
        """Forget devices not seen for the configured time (0 = never)."""
        if self.stale_seconds <= 0:
            return []
        stamp = time.time() if now is None else now
        stale = [
            mac
            for mac, record in self.store.devices.items()
            if stamp - record.last_active > self.stale_seconds
        ]
        self._remove_devices(stale)
        return stale

    def remove_ignored_devices(self) -> list[str]:
        """Devices the user chose to ignore leave Home Assistant."""
        ignored = [
            mac
            for mac, record in self.store.devices.items()
            if {mac, *record.macs} & self.tracker.options.ignored
        ]
        self._remove_devices(ignored)
        return ignored

    def _remove_devices(self, macs: list[str]) -> None:
        if not macs:
            return
        registry = dr.async_get(self.hass)
        ours = self._our_devices()
        for mac in macs:
            device = ours.get(mac)
            if device is not None:
                remove_entry_from_device(registry, device, self.config_entry.entry_id)
            self.forget_device(mac)

    def forget_device(self, mac: str) -> None:
        self.tracker.forget(mac)
        self.known = {k for k in self.known if k[1] != mac}
        if self.data is not None and mac in self.data.devices:
            devices = {m: v for m, v in self.data.devices.items() if m != mac}
            self.data = _replace_devices(self.data, devices)
        self.store.schedule_save()


def model_name(device_type: str) -> str:
    return device_type.replace("_", " ").capitalize()


def _replace_devices(data: TotemData, devices: dict[str, DeviceView]) -> TotemData:
    return replace(data, devices=devices)
