"""Service actions (admin only): block_device, unblock_device, reset_baseline,
snooze_anomaly, set_thresholds, set_device_type.

Every call names a device (any Home Assistant device with a MAC connection: a
TOTEM device, or the same device as another integration shows it) or a MAC,
and one resolver turns it into the config entry that owns it and the MACs it
means. Blocking goes through that entry's BlockManager; the others are probe
commands sent once for every MAC. Refusals are translated errors, one
translation key per reason.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import fields
from datetime import timedelta
from typing import Any, Final

import voluptuous as vol
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.service import async_register_admin_service

from .approval import DECISION_APPROVE, DECISIONS
from .blocking import enforce_error
from .compat import device_config_entries
from .const import DOMAIN
from .data import TotemConfigEntry
from .engine.detectors.thresholds import MAX_THRESHOLD, Thresholds
from .engine.enforce import EnforceError, parse_mac
from .engine.model import ALERT_KINDS, DEVICE_TYPES
from .engine.protocol import (
    Command,
    LoadBlocklist,
    ResetBaseline,
    SetDeviceType,
    SetThresholds,
    Snooze,
)
from .probe_process import ProbeNotRunning

SERVICE_BLOCK: Final = "block_device"
SERVICE_UNBLOCK: Final = "unblock_device"
SERVICE_RESET_BASELINE: Final = "reset_baseline"
SERVICE_SNOOZE: Final = "snooze_anomaly"
SERVICE_THRESHOLDS: Final = "set_thresholds"
SERVICE_DEVICE_TYPE: Final = "set_device_type"
SERVICE_RELOAD_BLOCKLIST: Final = "reload_blocklist"
SERVICE_APPROVE: Final = "approve_device"
ATTR_DECISION: Final = "decision"

ATTR_DEVICE_ID: Final = "device_id"
ATTR_MAC: Final = "mac"
ATTR_DURATION: Final = "duration"
ATTR_KIND: Final = "kind"
ATTR_VALUES: Final = "values"
ATTR_TYPE: Final = "type"
TYPE_AUTOMATIC: Final = "automatic"  # back to what identification says
ATTR_PATH: Final = "path"
THRESHOLD_NAMES: Final = tuple(f.name for f in fields(Thresholds))
DEFAULT_SNOOZE: Final = timedelta(hours=24)

# The translation key of "that device has no MAC", per service family: the text
# says what could not be done.
_BLOCK_WITHOUT_MAC: Final = "device_without_mac"
_BASELINE_WITHOUT_MAC: Final = "baseline_device_without_mac"

_TARGET: dict[vol.Marker, Any] = {
    vol.Exclusive(ATTR_DEVICE_ID, "target"): cv.string,
    vol.Exclusive(ATTR_MAC, "target"): cv.string,
}


def _schema(extra: dict[vol.Marker, Any] | None = None) -> vol.All:
    return vol.All(
        vol.Schema({**_TARGET, **(extra or {})}),
        cv.has_at_least_one_key(ATTR_DEVICE_ID, ATTR_MAC),
    )


BLOCK_SCHEMA: Final = _schema({vol.Optional(ATTR_DURATION): cv.time_period})
RELOAD_BLOCKLIST_SCHEMA: Final = vol.Schema(
    {vol.Optional(ATTR_PATH, default=""): vol.All(cv.string, vol.Length(max=4096))}
)
UNBLOCK_SCHEMA: Final = _schema()
RESET_BASELINE_SCHEMA: Final = _schema()
APPROVE_SCHEMA: Final = _schema(
    {vol.Optional(ATTR_DECISION, default=DECISION_APPROVE): vol.In(DECISIONS)}
)
SNOOZE_SCHEMA: Final = _schema(
    {
        # No kind: every kind of alert for the device.
        vol.Optional(ATTR_KIND): vol.In(ALERT_KINDS),
        vol.Optional(ATTR_DURATION, default=DEFAULT_SNOOZE): vol.All(
            cv.time_period, cv.positive_timedelta
        ),
    }
)


def _finite(value: float) -> float:
    """NaN passes every comparison of vol.Range, inf passes Range(min=0)."""
    if not math.isfinite(value):
        raise vol.Invalid("must be a finite number")
    return value


THRESHOLDS_SCHEMA: Final = _schema(
    {
        # Empty: the device goes back to the defaults.
        vol.Required(ATTR_VALUES): {
            # Finite and bounded: inf passes Range(min=0) and the probe cannot use it.
            vol.In(THRESHOLD_NAMES): vol.All(
                vol.Coerce(float), _finite, vol.Range(min=0, max=MAX_THRESHOLD)
            )
        },
    }
)

DEVICE_TYPE_SCHEMA: Final = _schema(
    {
        vol.Required(ATTR_TYPE): vol.In(
            (TYPE_AUTOMATIC, *(t for t in DEVICE_TYPES if t != "unknown"))
        )
    }
)


def async_setup_services(hass: HomeAssistant) -> None:
    """Register the services once; later entries find them in place."""
    if hass.services.has_service(DOMAIN, SERVICE_BLOCK):
        return

    async def block(call: ServiceCall) -> None:
        entry, macs = resolve_target(hass, call, _BLOCK_WITHOUT_MAC)
        duration: timedelta | None = call.data.get(ATTR_DURATION)
        seconds = None if duration is None else duration.total_seconds()
        for mac in macs:
            await entry.runtime_data.blocking.async_block(mac, seconds)

    async def unblock(call: ServiceCall) -> None:
        entry, macs = resolve_target(hass, call, _BLOCK_WITHOUT_MAC)
        for mac in macs:
            await entry.runtime_data.blocking.async_unblock(mac)

    async def approve(call: ServiceCall) -> None:
        """A new device waits for approval: let it on, keep it blocked, or forget it."""
        entry, macs = resolve_target(hass, call, _BLOCK_WITHOUT_MAC)
        approval = entry.runtime_data.blocking.approval
        waiting = [] if approval is None else [m for m in macs if m in approval.store.waiting]
        if approval is None or not waiting:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="not_waiting",
                translation_placeholders={"mac": ", ".join(macs)},
            )
        for mac in waiting:
            await approval.async_decide(mac, call.data[ATTR_DECISION])

    async def reset_baseline(call: ServiceCall) -> None:
        await _send_each(hass, call, lambda mac: ResetBaseline(mac=mac))

    async def snooze(call: ServiceCall) -> None:
        """Alert noise is users' first complaint: silence a kind for a device for a while."""
        seconds = call.data[ATTR_DURATION].total_seconds()
        kind = call.data.get(ATTR_KIND)
        await _send_each(hass, call, lambda mac: Snooze(mac=mac, kind=kind, seconds=seconds))

    async def set_thresholds(call: ServiceCall) -> None:
        """A device that is noisy by design (a NAS scanning its shares) gets its own bar."""
        values = call.data[ATTR_VALUES] or None
        await _send_each(hass, call, lambda mac: SetThresholds(mac=mac, values=values))

    async def set_device_type(call: ServiceCall) -> None:
        """The user has the last word on what a device is; its detectors follow."""
        chosen = call.data[ATTR_TYPE]
        type_ = None if chosen == TYPE_AUTOMATIC else chosen
        await _send_each(hass, call, lambda mac: SetDeviceType(mac=mac, type=type_))
        entry, macs = resolve_target(hass, call, _BASELINE_WITHOUT_MAC)
        coordinator = entry.runtime_data.coordinator
        if coordinator.store.set_user_type(macs, type_):
            await coordinator.store.async_save()

    async def reload_blocklist(call: ServiceCall) -> None:
        """(Re)load the offline blocklist in every probe; the probe keeps it across
        restarts. An empty path removes it."""
        path = call.data.get(ATTR_PATH) or None
        for entry in _loaded_entries(hass).values():
            try:
                ack = await entry.runtime_data.coordinator.probe.request(LoadBlocklist(path=path))
            except ProbeNotRunning:
                raise HomeAssistantError(
                    translation_domain=DOMAIN, translation_key="probe_not_running"
                ) from None
            if not ack.ok:
                raise HomeAssistantError(
                    translation_domain=DOMAIN,
                    translation_key="blocklist_refused",
                    translation_placeholders={"message": ack.message or ack.error or ""},
                )

    for name, handler, schema in (
        (SERVICE_RELOAD_BLOCKLIST, reload_blocklist, RELOAD_BLOCKLIST_SCHEMA),
        (SERVICE_BLOCK, block, BLOCK_SCHEMA),
        (SERVICE_UNBLOCK, unblock, UNBLOCK_SCHEMA),
        (SERVICE_RESET_BASELINE, reset_baseline, RESET_BASELINE_SCHEMA),
        (SERVICE_SNOOZE, snooze, SNOOZE_SCHEMA),
        (SERVICE_THRESHOLDS, set_thresholds, THRESHOLDS_SCHEMA),
        (SERVICE_DEVICE_TYPE, set_device_type, DEVICE_TYPE_SCHEMA),
        (SERVICE_APPROVE, approve, APPROVE_SCHEMA),
    ):
        async_register_admin_service(hass, DOMAIN, name, handler, schema)


async def _send_each(
    hass: HomeAssistant, call: ServiceCall, command_for: Callable[[str], Command]
) -> None:
    """Send the command to the probe once for every MAC of the call's device; a
    refusal comes back as a translated error naming the probe's reason."""
    entry, macs = resolve_target(hass, call, _BASELINE_WITHOUT_MAC)
    probe = entry.runtime_data.coordinator.probe
    for mac in macs:
        try:
            ack = await probe.request(command_for(mac))
        except ProbeNotRunning:
            raise HomeAssistantError(
                translation_domain=DOMAIN, translation_key="probe_not_running"
            ) from None
        if not ack.ok:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="command_refused",
                translation_placeholders={"mac": mac, "message": ack.message or ack.error or ""},
            )


def resolve_target(
    hass: HomeAssistant, call: ServiceCall, without_mac_key: str
) -> tuple[TotemConfigEntry, tuple[str, ...]]:
    """The loaded entry a call's device or MAC belongs to, and the MACs it means.

    A device of a TOTEM entry belongs to that entry; any other device, or a
    bare MAC, to the entry that knows one of its MACs (admitted, merged or
    blocked), else to the first entry (its probe may see it).
    """
    entries = _loaded_entries(hass)
    if not entries:
        raise ServiceValidationError(translation_domain=DOMAIN, translation_key="not_loaded")
    if ATTR_MAC in call.data:
        mac = _canonical(call.data[ATTR_MAC])
        return _knowing(entries, (mac,)), (mac,)
    device_id: str = call.data[ATTR_DEVICE_ID]
    device = dr.async_get(hass).async_get(device_id)
    if device is None:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="device_not_found",
            translation_placeholders={"device_id": device_id},
        )
    macs = tuple(
        sorted(_canonical(v) for kind, v in device.connections if kind == dr.CONNECTION_NETWORK_MAC)
    )
    if not macs:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key=without_mac_key,
            translation_placeholders={"device": device.name_by_user or device.name or ""},
        )
    owner = next((entries[e] for e in device_config_entries(device) if e in entries), None)
    return owner or _knowing(entries, macs), macs


def _loaded_entries(hass: HomeAssistant) -> dict[str, TotemConfigEntry]:
    entries: list[TotemConfigEntry] = hass.config_entries.async_entries(DOMAIN)
    return {e.entry_id: e for e in entries if e.state is ConfigEntryState.LOADED}


def _knowing(entries: dict[str, TotemConfigEntry], macs: tuple[str, ...]) -> TotemConfigEntry:
    wanted = set(macs)
    for entry in entries.values():
        runtime = entry.runtime_data
        if runtime.coordinator.inventory.knows(wanted) or runtime.blocking.holds_any(wanted):
            return entry
    return next(iter(entries.values()))


def _canonical(text: Any) -> str:
    try:
        return parse_mac(str(text))
    except EnforceError as err:
        raise enforce_error(err, str(text)) from None
