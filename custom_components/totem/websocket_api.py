"""The websocket API of the Network panel and the dashboard cards.

Reading: ``totem/devices/subscribe`` (the device table of every loaded entry,
pushed after each snapshot and alert; no entity is polled),
``totem/device/get`` (one device's page) and ``totem/alerts/list``.
Commands (administrators only, as the service actions): block and unblock
(with a duration), snooze, reset baseline, acknowledge an alert, set a
device's type (or back to automatic) and decide on a device waiting for
approval. The commands call the service actions with the caller's context, so
a command and the action it stands for refuse the same things with the same
translated errors.
"""

from __future__ import annotations

from typing import Any, Final

import voluptuous as vol
from homeassistant.components.websocket_api import async_register_command
from homeassistant.components.websocket_api.connection import ActiveConnection
from homeassistant.components.websocket_api.decorators import (
    async_response,
    require_admin,
    websocket_command,
)
from homeassistant.components.websocket_api.messages import event_message
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.dispatcher import async_dispatcher_connect

from .approval import DECISION_APPROVE, DECISIONS
from .const import DOMAIN
from .engine.model import ALERT_KINDS, DEVICE_TYPES
from .inventory import TotemData
from .network_view import SIGNAL_VIEWS_CHANGED, VIEWS, NetworkView
from .panel import admin_only
from .services import (
    ATTR_DECISION,
    ATTR_TYPE,
    SERVICE_APPROVE,
    SERVICE_BLOCK,
    SERVICE_DEVICE_TYPE,
    SERVICE_RESET_BASELINE,
    SERVICE_SNOOZE,
    SERVICE_UNBLOCK,
    TYPE_AUTOMATIC,
)

# The longest block or snooze the panel offers is a week; longer is "until unblocked".
MAX_DURATION: Final = 7 * 86400

_DEVICE: Final[dict[str | vol.Marker, Any]] = {
    vol.Required("entry_id"): cv.string,
    vol.Required("mac"): cv.string,
}
# The types a user may choose for a device ("automatic" gives identification the word back).
SETTABLE_TYPES: Final = [t for t in DEVICE_TYPES if t != "unknown"]
_DURATION: Final = vol.All(vol.Coerce(int), vol.Range(min=60, max=MAX_DURATION))


@callback
def async_setup_websocket_api(hass: HomeAssistant) -> None:
    for handler in (
        ws_subscribe_devices,
        ws_get_device,
        ws_list_alerts,
        ws_block,
        ws_unblock,
        ws_snooze,
        ws_reset_baseline,
        ws_acknowledge,
        ws_set_type,
        ws_approve,
    ):
        async_register_command(hass, handler)


def _views(hass: HomeAssistant, admin: bool = True) -> list[NetworkView]:
    """The loaded entries' views; a user who is not an administrator sees only the
    entries whose options open the panel to every user."""
    views = hass.data.get(VIEWS, {})
    shown = {
        e.entry_id
        for e in hass.config_entries.async_entries(DOMAIN)
        if e.state is ConfigEntryState.LOADED and (admin or not admin_only(e))
    }
    return [v for entry_id, v in views.items() if entry_id in shown]


def _is_admin(connection: ActiveConnection) -> bool:
    return bool(connection.user.is_admin)


def _view(hass: HomeAssistant, entry_id: str, admin: bool = True) -> NetworkView:
    view = next((v for v in _views(hass, admin) if v.entry_id == entry_id), None)
    if view is None:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="panel_entry_not_found",
            translation_placeholders={"entry_id": entry_id},
        )
    return view


def _known_device(view: NetworkView, mac: str) -> str:
    canonical = mac.strip().lower()
    data: TotemData | None = view.coordinator.data
    if data is None or canonical not in data.devices:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="panel_device_not_found",
            translation_placeholders={"mac": mac},
        )
    return canonical


def table(hass: HomeAssistant, admin: bool = True) -> dict[str, Any]:
    """The device table of every loaded entry the user may see, and its summary line."""
    views = _views(hass, admin)
    summary = {"devices": 0, "online": 0, "new_this_week": 0, "open_alerts": 0, "blocked": 0}
    summary |= {"waiting": 0}
    for view in views:
        for key, value in view.summary().items():
            summary[key] += value
    return {
        "entries": [v.entry_json() for v in views],
        "devices": [row for v in views for row in v.device_rows()],
        "summary": summary,
    }


@websocket_command({vol.Required("type"): "totem/devices/subscribe"})
@callback
def ws_subscribe_devices(
    hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]
) -> None:
    """The table now, then again after every snapshot or alert of any entry, entries
    loaded after the subscription included."""
    msg_id = msg["id"]
    listening: dict[str, tuple[NetworkView, CALLBACK_TYPE]] = {}

    @callback
    def push() -> None:
        connection.send_message(event_message(msg_id, table(hass, _is_admin(connection))))

    @callback
    def follow_views() -> None:
        """Listen to every view there is now (not only the loaded ones: an entry
        being set up has its view before it counts as loaded)."""
        views = hass.data.get(VIEWS, {})
        for entry_id in list(listening):
            view, unsub = listening[entry_id]
            if views.get(entry_id) is not view:
                unsub()
                del listening[entry_id]
        for entry_id, view in views.items():
            if entry_id not in listening:
                listening[entry_id] = (view, view.async_listen(push))

    @callback
    def views_changed() -> None:
        follow_views()
        push()

    follow_views()
    unsub_signal = async_dispatcher_connect(hass, SIGNAL_VIEWS_CHANGED, views_changed)

    @callback
    def unsubscribe() -> None:
        unsub_signal()
        for _view, unsub in listening.values():
            unsub()
        listening.clear()

    connection.subscriptions[msg_id] = unsubscribe
    connection.send_result(msg_id)
    push()


@websocket_command({vol.Required("type"): "totem/device/get", **_DEVICE})
@callback
def ws_get_device(hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    try:
        view = _view(hass, msg["entry_id"], _is_admin(connection))
        detail = view.device_detail(_known_device(view, msg["mac"]))
    except HomeAssistantError as err:
        connection.async_handle_exception(msg, err)
        return
    connection.send_result(
        msg["id"], {"entry": view.entry_json(), "device": detail, "device_types": SETTABLE_TYPES}
    )


@websocket_command({vol.Required("type"): "totem/alerts/list", vol.Optional("entry_id"): cv.string})
@callback
def ws_list_alerts(hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    try:
        admin = _is_admin(connection)
        views = [_view(hass, msg["entry_id"], admin)] if "entry_id" in msg else _views(hass, admin)
    except HomeAssistantError as err:
        connection.async_handle_exception(msg, err)
        return
    alerts = sorted((a for v in views for a in v.alerts()), key=lambda a: -a["time"])
    names = {(v.entry_id, r["mac"]): r["name"] for v in views for r in v.device_rows()}
    for alert in alerts:
        alert["device_name"] = names.get((alert["entry_id"], alert["device"]))
    connection.send_result(msg["id"], {"alerts": alerts})


async def _service(
    hass: HomeAssistant,
    connection: ActiveConnection,
    msg: dict[str, Any],
    service: str,
    extra: dict[str, Any] | None = None,
) -> None:
    view = _view(hass, msg["entry_id"])
    mac = _known_device(view, msg["mac"])
    await hass.services.async_call(
        DOMAIN,
        service,
        {"mac": mac, **(extra or {})},
        blocking=True,
        context=connection.context(msg),
    )
    connection.send_result(msg["id"], {"device": view.device_detail(mac)})


@websocket_command(
    {vol.Required("type"): "totem/device/block", **_DEVICE, vol.Optional("duration"): _DURATION}
)
@require_admin
@async_response
async def ws_block(hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """Block for DURATION seconds, or until unblocked without one."""
    extra = {"duration": msg["duration"]} if "duration" in msg else None
    await _service(hass, connection, msg, SERVICE_BLOCK, extra)


@websocket_command({vol.Required("type"): "totem/device/unblock", **_DEVICE})
@require_admin
@async_response
async def ws_unblock(
    hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]
) -> None:
    await _service(hass, connection, msg, SERVICE_UNBLOCK)


@websocket_command(
    {
        vol.Required("type"): "totem/device/snooze",
        **_DEVICE,
        vol.Optional("kind"): vol.In(ALERT_KINDS),
        vol.Required("duration"): _DURATION,
    }
)
@require_admin
@async_response
async def ws_snooze(hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    extra: dict[str, Any] = {"duration": msg["duration"]}
    if "kind" in msg:
        extra["kind"] = msg["kind"]
    await _service(hass, connection, msg, SERVICE_SNOOZE, extra)


@websocket_command({vol.Required("type"): "totem/device/reset_baseline", **_DEVICE})
@require_admin
@async_response
async def ws_reset_baseline(
    hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]
) -> None:
    await _service(hass, connection, msg, SERVICE_RESET_BASELINE)


@websocket_command(
    {
        vol.Required("type"): "totem/alerts/acknowledge",
        vol.Required("entry_id"): cv.string,
        vol.Required("mac"): cv.string,
        vol.Required("kind"): vol.In(ALERT_KINDS),
        vol.Required("time"): vol.Coerce(float),
    }
)
@require_admin
@callback
def ws_acknowledge(hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    try:
        view = _view(hass, msg["entry_id"])
        if not view.acknowledge(f"{msg['mac']}|{msg['kind']}|{msg['time']}"):
            raise HomeAssistantError(
                translation_domain=DOMAIN, translation_key="panel_alert_not_found"
            )
    except HomeAssistantError as err:
        connection.async_handle_exception(msg, err)
        return
    connection.send_result(msg["id"])


@websocket_command(
    {
        vol.Required("type"): "totem/device/set_type",
        **_DEVICE,
        vol.Required("device_type"): vol.In((TYPE_AUTOMATIC, *SETTABLE_TYPES)),
    }
)
@require_admin
@async_response
async def ws_set_type(
    hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]
) -> None:
    """The user's type for a device, or "automatic" (back to identification)."""
    await _service(hass, connection, msg, SERVICE_DEVICE_TYPE, {ATTR_TYPE: msg["device_type"]})


@websocket_command(
    {
        vol.Required("type"): "totem/device/approve",
        **_DEVICE,
        vol.Optional("decision", default=DECISION_APPROVE): vol.In(DECISIONS),
    }
)
@require_admin
@async_response
async def ws_approve(
    hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]
) -> None:
    """Approve a device waiting for approval, keep it blocked, or forget it."""
    await _service(hass, connection, msg, SERVICE_APPROVE, {ATTR_DECISION: msg["decision"]})
