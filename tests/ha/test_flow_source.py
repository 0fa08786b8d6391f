"""The "flows exported by your router" source: the config flow and a real probe collecting."""

from __future__ import annotations

import asyncio
import random
import sys
from pathlib import Path
from unittest.mock import patch

from homeassistant import config_entries
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.totem.const import (
    CONF_BLOCK_BACKEND,
    CONF_FLOW_EXPORTERS,
    CONF_FLOW_PORT,
    CONF_SOURCE_TYPE,
    CONF_UPDATE_INTERVAL,
    DEFAULT_OPTIONS,
    DOMAIN,
    SOURCE_FLOWS,
)
from custom_components.totem.engine.cli_collect import FlowCollector, replay
from tests.conftest import shared_pcap

from .conftest import setup_entry, wait_for

ROOT = Path(__file__).resolve().parents[2]
# Sends a capture's flow export datagrams to a loopback port, as the router would.
SENDER = """
import socket, sys, time
from custom_components.totem.engine.cli_collect import udp_payloads
port = int(sys.argv[2])
with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
    for _ts, _sender, payload in udp_payloads(sys.argv[1]):
        s.sendto(payload, ("127.0.0.1", port))
        time.sleep(0.01)
"""


def _free_port() -> int:
    # The probe binds it; an ephemeral range number away from the usual 2055 the
    # machine may use (a collision fails the probe's bind loudly, never silently).
    return random.randint(20000, 40000)


async def test_flow_source_in_the_config_flow(hass: HomeAssistant) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    assert SOURCE_FLOWS in result["menu_options"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": SOURCE_FLOWS}
    )
    assert result["step_id"] == SOURCE_FLOWS
    bad = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_FLOW_PORT: 2055, CONF_FLOW_EXPORTERS: ["router"]}
    )
    assert bad["errors"] == {CONF_FLOW_EXPORTERS: "invalid_exporter"}
    with (
        patch("custom_components.totem.config_flow.port_free", return_value=True),
        patch("custom_components.totem.async_setup_entry", return_value=True),
    ):
        done = await hass.config_entries.flow.async_configure(
            bad["flow_id"],
            {CONF_FLOW_PORT: 2055, CONF_FLOW_EXPORTERS: ["192.168.1.1", " 192.168.1.1"]},
        )
    assert done["type"] is FlowResultType.CREATE_ENTRY
    assert done["data"] == {
        CONF_SOURCE_TYPE: SOURCE_FLOWS,
        CONF_FLOW_PORT: 2055,
        CONF_FLOW_EXPORTERS: ["192.168.1.1"],
    }
    assert done["result"].unique_id == "flows:2055"
    # Home Assistant is not on the path of the router's traffic: no firewall rule here.
    assert done["result"].options[CONF_BLOCK_BACKEND] == "none"


async def test_flow_entry_shows_the_devices_of_real_exported_flows(hass: HomeAssistant) -> None:
    capture = shared_pcap("flow_sflow_v5_export.pcap")
    expected = FlowCollector()
    replay(expected, str(capture))
    macs = {row.mac for row in expected.snapshot().devices if row.mac}
    assert macs  # the sample carries the MACs of its sampled frames
    port = _free_port()
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=f"TOTEM flows on port {port}",
        unique_id=f"flows:{port}",
        data={
            CONF_SOURCE_TYPE: SOURCE_FLOWS,
            CONF_FLOW_PORT: port,
            CONF_FLOW_EXPORTERS: ["127.0.0.1"],
        },
        options={**DEFAULT_OPTIONS, CONF_UPDATE_INTERVAL: 1},
    )
    await setup_entry(hass, entry)
    coordinator = entry.runtime_data.coordinator
    await wait_for(hass, lambda: coordinator.data is not None, what="the probe's first snapshot")

    sender = await asyncio.create_subprocess_exec(
        sys.executable, "-c", SENDER, str(capture), str(port), cwd=ROOT
    )
    assert await sender.wait() == 0

    def registered() -> set[str]:
        return {
            mac
            for d in dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
            for kind, mac in d.connections
            if kind == dr.CONNECTION_NETWORK_MAC
        }

    await wait_for(hass, lambda: macs <= registered(), what="the exported devices")
    assert await hass.config_entries.async_unload(entry.entry_id)
