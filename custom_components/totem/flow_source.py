"""The config flow's "flows exported by your router" source: its form and its checks."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

import voluptuous as vol
from homeassistant.helpers.selector import (
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
)

from .const import (
    CONF_FLOW_EXPORTERS,
    CONF_FLOW_PORT,
    CONF_SOURCE_TYPE,
    DEFAULT_FLOW_PORT,
    SOURCE_FLOWS,
)

MAX_EXPORTERS = 32  # a home has one router, a mesh a handful of access points

FLOWS_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_FLOW_PORT, default=DEFAULT_FLOW_PORT): NumberSelector(
            NumberSelectorConfig(min=1, max=65535, step=1, mode=NumberSelectorMode.BOX)
        ),
        vol.Optional(CONF_FLOW_EXPORTERS, default=[]): SelectSelector(
            SelectSelectorConfig(
                options=[], multiple=True, custom_value=True, mode=SelectSelectorMode.DROPDOWN
            )
        ),
    }
)


def flows_data(user_input: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The entry data for a flows source, or the form's errors."""
    errors: dict[str, str] = {}
    port = int(user_input.get(CONF_FLOW_PORT, DEFAULT_FLOW_PORT))
    if not 1 <= port <= 65535:
        errors[CONF_FLOW_PORT] = "invalid_port"
    exporters: list[str] = []
    for raw in user_input.get(CONF_FLOW_EXPORTERS) or []:
        try:
            exporters.append(str(ipaddress.ip_address(str(raw).strip())))
        except ValueError:
            errors[CONF_FLOW_EXPORTERS] = "invalid_exporter"
    if len(exporters) > MAX_EXPORTERS:
        errors[CONF_FLOW_EXPORTERS] = "invalid_exporter"
    data = {
        CONF_SOURCE_TYPE: SOURCE_FLOWS,
        CONF_FLOW_PORT: port,
        CONF_FLOW_EXPORTERS: sorted(set(exporters)),
    }
    return data, errors


def port_free(port: int) -> bool:
    """Nothing on this machine listens on the UDP port yet (runs in the executor)."""
    sock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    try:
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        sock.bind(("::", port))
    except OSError:
        return False
    finally:
        sock.close()
    return True
