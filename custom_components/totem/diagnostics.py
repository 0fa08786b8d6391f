"""Diagnostics for the config entry and for one device, with addresses redacted."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr

from .const import CONF_IGNORED, CONF_INTERFACE, CONF_PATH
from .data import TotemConfigEntry

# MACs, IP addresses and names identify a household.
TO_REDACT = {
    "activity_links",  # options: entity -> MAC
    "mac",
    "macs",
    "ips",
    "ip_addresses",
    "name",
    "hostname",  # the name a device gave itself (DHCP, mDNS): often a person's
    "user_name",
    "domains",
    "source",
    CONF_PATH,
    CONF_INTERFACE,
    CONF_IGNORED,
}


def _coordinator_dump(entry: TotemConfigEntry) -> dict[str, Any]:
    coordinator = entry.runtime_data.coordinator
    data = coordinator.data
    return {
        "source_available": coordinator.source_available,
        "probe_pid": coordinator.probe.pid,
        "probe_restarts": coordinator.probe.restarts,
        "last_error": coordinator.last_error.to_json() if coordinator.last_error else None,
        "hello": coordinator.hello.to_json() if coordinator.hello else None,
        "packets": data.packets if data else None,
        "bytes": data.bytes if data else None,
        "visibility": data.visibility if data else None,
        "not_admitted": data.not_admitted if data else None,
        "stats": asdict(data.stats) if data else None,
        # Recent alerts without their messages (alerts.py leaves out what names hosts).
        "recent_alerts": entry.runtime_data.alerts.diagnostics(),
    }


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: TotemConfigEntry
) -> dict[str, Any]:
    coordinator = entry.runtime_data.coordinator
    devices = {
        f"device_{index}": _device_dump(entry, mac)
        for index, mac in enumerate(sorted(coordinator.store.devices))
    }
    return async_redact_data(
        {
            "entry": {"data": dict(entry.data), "options": dict(entry.options)},
            "coordinator": _coordinator_dump(entry),
            "devices": devices,
            # The activity log, redacted by activity.py itself.
            "activity": entry.runtime_data.activity.diagnostics(),
        },
        TO_REDACT,
    )


async def async_get_device_diagnostics(
    hass: HomeAssistant, entry: TotemConfigEntry, device: dr.DeviceEntry
) -> dict[str, Any]:
    mac = entry.runtime_data.coordinator.devices.primary_mac(device)
    if mac is None:  # the hub
        return async_redact_data({"coordinator": _coordinator_dump(entry)}, TO_REDACT)
    return async_redact_data(_device_dump(entry, mac), TO_REDACT)


def _device_dump(entry: TotemConfigEntry, mac: str) -> dict[str, Any]:
    coordinator = entry.runtime_data.coordinator
    record = coordinator.store.devices.get(mac)
    view = coordinator.data.devices.get(mac) if coordinator.data else None
    return {
        "record": record.to_json() if record else None,
        "view": asdict(view) if view else None,
        "alerts": entry.runtime_data.alerts.diagnostics(mac),
    }
