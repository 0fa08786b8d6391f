"""What the Network panel and the dashboard cards show, one view per config entry.

The view subscribes to the coordinator's snapshots and alerts (nothing polls
entities): every snapshot feeds each device's traffic series (engine/series.py,
persisted across restarts) and is pushed to the panel's subscribers as rows of
plain JSON. It also remembers which alerts the user acknowledged.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any, Final

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.storage import Store
from homeassistant.util.hass_dict import HassKey

from .alerts import SCORE_WINDOW, AlertRouter, RoutedAlert
from .blocking import BlockManager
from .const import DOMAIN
from .coordinator import TotemCoordinator
from .engine.messages import AlertMessage
from .engine.series import TrafficSeries
from .inventory import DeviceView, TotemData

VIEWS: HassKey[dict[str, NetworkView]] = HassKey(f"{DOMAIN}_network_views")
# Sent when an entry's view starts or stops: a panel subscribed before an entry was
# loaded listens to it too, and one whose entry went away no longer shows it.
SIGNAL_VIEWS_CHANGED: Final = f"{DOMAIN}_network_views_changed"
SERIES_VERSION: Final = 1
# Saved a minute after a change: a chart losing its last minute to a crash is no loss,
# writing 250 devices' series at every 5 s snapshot would be.
SAVE_DELAY: Final = 60
# A device counts as new during its first week (the summary line's "new this week").
NEW_DEVICE_SECONDS: Final = 7 * 86400
# The sparkline of a table row: the last hour, minute by minute.
SPARK_SECONDS: Final = 3600
# Acknowledged alerts remembered; the router keeps far fewer alerts than that.
ACKS_KEPT: Final = 1000

# Corporate suffixes that make an OUI vendor long without telling more.
_VENDOR_SUFFIX = re.compile(
    r"[,.\s]+(inc|incorporated|ltd|limited|llc|co|corp|corporation|company|gmbh|ag|sa|"
    r"s\.a|bv|b\.v|nv|oy|ab|as|plc|pte|pty|srl|spa|kg|technology|technologies)\.?$",
    re.IGNORECASE,
)

type Listener = Callable[[], None]


def clean_vendor(name: str | None) -> str | None:
    """The vendor without corporate suffixes: 'Espressif Inc.' -> 'Espressif'."""
    if not name:
        return None
    text = " ".join(name.split())
    while True:
        shorter = _VENDOR_SUFFIX.sub("", text).rstrip(" ,.")
        if shorter == text or not shorter:
            return text
        text = shorter


def alert_json(
    record: RoutedAlert, entry_id: str, acked: bool, offset: float = 0.0
) -> dict[str, Any]:
    """OFFSET turns the alert's packet time into today's (a replay's clock is its capture's)."""
    alert = record.alert
    return {
        "entry_id": entry_id,
        "mac": alert.mac,
        "device": record.device_mac,
        "time": alert.time,
        "seen": alert.time + offset,
        "kind": alert.kind,
        "severity": alert.severity,
        "message": alert.message,
        "count": alert.count,
        "acknowledged": acked,
    }


def alert_key(alert: dict[str, Any] | RoutedAlert) -> str:
    if isinstance(alert, RoutedAlert):
        return f"{alert.alert.mac}|{alert.alert.kind}|{alert.alert.time}"
    return f"{alert['mac']}|{alert['kind']}|{alert['time']}"


class NetworkView:
    """One entry's devices, series and alerts as the panel shows them."""

    def __init__(
        self,
        hass: HomeAssistant,
        coordinator: TotemCoordinator,
        alerts: AlertRouter,
        blocking: BlockManager,
    ) -> None:
        self.hass = hass
        self.coordinator = coordinator
        self._alerts = alerts
        self._blocking = blocking
        self.entry_id = coordinator.entry_id
        self.series = TrafficSeries()
        self.acknowledged: dict[str, float] = {}
        self._store: Store[dict[str, Any]] = Store(
            hass, SERIES_VERSION, f"{DOMAIN}.{self.entry_id}.series"
        )
        self._listeners: list[Listener] = []
        self._push_pending = False

    # -- life cycle -------------------------------------------------------

    async def async_start(self) -> CALLBACK_TYPE:
        stored = await self._store.async_load()
        if isinstance(stored, dict):
            self.series = TrafficSeries.from_json(stored.get("series"))
            acks = stored.get("acknowledged")
            if isinstance(acks, dict):
                self.acknowledged = {
                    str(k): float(v) for k, v in list(acks.items())[-ACKS_KEPT:] if _number(v)
                }
        unsubs = [
            self.coordinator.async_subscribe_snapshots(self._on_snapshot),
            self.coordinator.async_subscribe_alerts(self._on_alert),
        ]

        @callback
        def stop() -> None:
            for unsub in unsubs:
                unsub()
            self._listeners.clear()
            self.hass.async_create_task(self._store.async_save(self._stored()))

        return stop

    def _stored(self) -> dict[str, Any]:
        return {"series": self.series.to_json(), "acknowledged": self.acknowledged}

    # -- feeds ----------------------------------------------------------------

    @callback
    def _on_snapshot(self, data: TotemData) -> None:
        wall = time.time()
        for mac, device in data.devices.items():
            self.series.add(mac, wall, device.tx_bytes, device.rx_bytes)
        self._store.async_delay_save(self._stored, SAVE_DELAY)
        # After the entities got the same data: the coordinator hands it on next.
        self._schedule_push()

    @callback
    def _on_alert(self, _message: AlertMessage) -> None:
        self._schedule_push()

    def _schedule_push(self) -> None:
        if not self._push_pending:
            self._push_pending = True
            self.hass.loop.call_soon(self._push)

    @callback
    def _push(self) -> None:
        self._push_pending = False
        for listener in list(self._listeners):
            listener()

    @callback
    def async_listen(self, listener: Listener) -> CALLBACK_TYPE:
        self._listeners.append(listener)

        @callback
        def remove() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return remove

    # -- what the panel reads -------------------------------------------------

    def _now(self) -> float:
        """The alerts' clock: packet time for a replay, like the alert score's."""
        data: TotemData | None = self.coordinator.data
        return data.time if data is not None else time.time()

    def entry_json(self) -> dict[str, Any]:
        entry = self.coordinator.config_entry
        blocking = self._blocking
        return {
            "entry_id": self.entry_id,
            "title": entry.title,
            "source": self.coordinator.source,
            "available": self.coordinator.source_available,
            "enforcing": blocking.enforcing,
            "backend": blocking.backend.name,
        }

    def device_rows(self) -> list[dict[str, Any]]:
        data: TotemData | None = self.coordinator.data
        if data is None:
            return []
        counts = self._alert_counts()
        device_ids = self.coordinator.devices.device_ids()
        return [self._row(d, counts, device_ids) for d in data.devices.values()]

    def _alert_counts(self) -> dict[str, tuple[int, int]]:
        """MAC -> (alerts in the last day, of them not acknowledged)."""
        now = self._now()
        counts: dict[str, tuple[int, int]] = {}
        for record in self._alerts.recent:
            if record.device_mac is None or now - record.alert.time >= SCORE_WINDOW:
                continue
            total, open_ = counts.get(record.device_mac, (0, 0))
            counts[record.device_mac] = (
                total + 1,
                open_ + (alert_key(record) not in self.acknowledged),
            )
        return counts

    def _row(
        self,
        device: DeviceView,
        counts: dict[str, tuple[int, int]],
        device_ids: dict[str, str],
    ) -> dict[str, Any]:
        blocking = self._blocking
        approval = blocking.approval
        until = blocking.blocked_until(device.mac)
        alerts, open_alerts = counts.get(device.mac, (0, 0))
        since = time.time() - SPARK_SECONDS
        return {
            "entry_id": self.entry_id,
            "mac": device.mac,
            "macs": list(device.macs),
            "device_id": device_ids.get(device.mac),
            "name": _short_name(device),
            "vendor": clean_vendor(device.manufacturer),
            "manufacturer": device.manufacturer,
            "type": device.type,
            "type_reason": device.type_reason,
            "type_source": device.type_source,
            "ips": list(device.ips),
            "online": device.online,
            "first_seen": device.first_seen,
            "last_seen": device.last_seen,
            "new": time.time() - device.first_seen < NEW_DEVICE_SECONDS,
            "up_kbps": device.upload_kbps,
            "down_kbps": device.download_kbps,
            "tx_bytes": device.tx_bytes,
            "rx_bytes": device.rx_bytes,
            "alerts_24h": alerts,
            "open_alerts": open_alerts,
            "blocked": blocking.is_blocked(device.mac),
            # Joined after the first inventory and held back until a decision.
            "pending_approval": approval is not None and device.mac in approval.store.waiting,
            "blocked_until": None if until is None else until.timestamp(),
            "spark": [b[1] + b[2] for b in self.series.minutes(device.mac, since)],
            "spark_start": since,
        }

    def device_detail(self, mac: str) -> dict[str, Any] | None:
        data: TotemData | None = self.coordinator.data
        if data is None or mac not in data.devices:
            return None
        device = data.devices[mac]
        row = self._row(device, self._alert_counts(), self.coordinator.devices.device_ids())
        offset = self._clock_offset()
        return {
            **row,
            "protocols": device.protocols,
            "domains": list(device.domains),
            "remote_hosts": device.remote_hosts,
            "active_flows": device.active_flows,
            # Current and recent conversations (last seen in today's terms, as alerts)
            # and the busiest peers, by volume.
            "flows": [{**f, "seen": f["last"] + offset} for f in device.top_flows],
            "peers": list(device.top_peers),
            # The entities whose logbook the page shows beside TOTEM's own events.
            "linked_entities": self._linked_entities(mac),
            "tx_packets": device.tx_packets,
            "rx_packets": device.rx_packets,
            "name_sources": device.name_sources,
            "minutes": self.series.minutes(mac),
            "hours": self.series.hours(mac),
            "alerts": [a for a in self.alerts() if a["device"] == mac],
        }

    def _clock_offset(self) -> float:
        """What turns packet time into today's: a replay's clock is its capture's."""
        return time.time() - self._now() if self.coordinator.is_replay else 0.0

    def _linked_entities(self, mac: str) -> list[str]:
        """Entities the activity log links to the device (its own and the user's links)."""
        runtime = getattr(self.coordinator.config_entry, "runtime_data", None)
        if runtime is None:
            return []
        links: dict[str, str] = runtime.activity.links.entities
        return sorted(entity_id for entity_id, linked in links.items() if linked == mac)

    def alerts(self) -> list[dict[str, Any]]:
        """Every alert the router keeps, newest first."""
        offset = self._clock_offset()
        return [
            alert_json(r, self.entry_id, alert_key(r) in self.acknowledged, offset)
            for r in reversed(self._alerts.recent)
        ]

    def summary(self) -> dict[str, int]:
        rows = self.device_rows()
        return {
            "devices": len(rows),
            "online": sum(1 for r in rows if r["online"]),
            "new_this_week": sum(1 for r in rows if r["new"]),
            "open_alerts": sum(r["open_alerts"] for r in rows),
            "blocked": sum(1 for r in rows if r["blocked"]),
            "waiting": sum(1 for r in rows if r["pending_approval"]),
        }

    def acknowledge(self, key: str) -> bool:
        if not any(alert_key(r) == key for r in self._alerts.recent):
            return False
        self.acknowledged[key] = time.time()
        while len(self.acknowledged) > ACKS_KEPT:
            del self.acknowledged[next(iter(self.acknowledged))]
        self._store.async_delay_save(self._stored, SAVE_DELAY)
        self._schedule_push()
        return True


def _short_name(device: DeviceView) -> str:
    """A name made of the vendor and the MAC's tail gets the short vendor."""
    vendor = device.manufacturer
    if vendor and device.name.startswith(vendor) and (short := clean_vendor(vendor)):
        return short + device.name[len(vendor) :]
    return device.name


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


async def async_setup_network_view(
    hass: HomeAssistant, coordinator: TotemCoordinator, alerts: AlertRouter, blocking: BlockManager
) -> CALLBACK_TYPE:
    """Start the entry's view (before the probe: it sees every snapshot)."""
    view = NetworkView(hass, coordinator, alerts, blocking)
    stop = await view.async_start()
    views = hass.data.setdefault(VIEWS, {})
    views[coordinator.entry_id] = view
    async_dispatcher_send(hass, SIGNAL_VIEWS_CHANGED)

    @callback
    def remove() -> None:
        stop()
        if views.get(coordinator.entry_id) is view:
            del views[coordinator.entry_id]
            async_dispatcher_send(hass, SIGNAL_VIEWS_CHANGED)

    return remove


async def async_remove_network_view(hass: HomeAssistant, entry_id: str) -> None:
    await Store[dict[str, Any]](hass, SERIES_VERSION, f"{DOMAIN}.{entry_id}.series").async_remove()
