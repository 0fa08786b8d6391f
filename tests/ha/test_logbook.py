"""Logbook lines for totem_anomaly and totem_device_activity, read back through
the logbook integration's own websocket API."""

from __future__ import annotations

from typing import Any

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

from custom_components.totem.alerts import EVENT_ANOMALY, EVENT_DEVICE_ACTIVITY
from custom_components.totem.const import DOMAIN

MAC = "cc:50:e3:68:66:4a"


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(recorder_mock: Any, enable_custom_integrations: None) -> None:
    """Overrides the package's: the logbook needs the recorder, which must be set
    up before hass (enable_custom_integrations starts hass)."""


@pytest.fixture(autouse=True)
def config_dir_in_tmp() -> None:
    """Overrides the package's for the same reason; these tests write no file."""


@pytest.fixture
def plug(hass: HomeAssistant) -> dr.DeviceEntry:
    entry = MockConfigEntry(domain=DOMAIN, title="TOTEM")
    entry.add_to_hass(hass)
    return dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id,
        connections={(dr.CONNECTION_NETWORK_MAC, MAC)},
        name="Sonoff S26",
    )


async def _logbook(hass: HomeAssistant, hass_ws_client: Any, **query: Any) -> list[dict]:
    await async_wait_recording_done(hass)
    client = await hass_ws_client(hass)
    await client.send_json_auto_id(
        {
            "type": "logbook/get_events",
            "start_time": dt_util.utc_from_timestamp(0).isoformat(),
            **query,
        }
    )
    response = await client.receive_json()
    assert response["success"], response
    return [e for e in response["result"] if e.get("domain") == DOMAIN]


async def test_anomaly_is_described_on_the_device(
    hass: HomeAssistant, hass_ws_client: Any, plug: dr.DeviceEntry
) -> None:
    assert await async_setup_component(hass, "logbook", {})
    await async_setup_component(hass, DOMAIN, {})
    await hass.async_block_till_done()
    hass.bus.async_fire(
        EVENT_ANOMALY,
        {
            "device_id": plug.id,
            "mac": MAC,
            "kind": "port_scan",
            "severity": "warning",
            "message": "It probed 15 ports.",
            "count": 1,
            "time": 1000.0,
        },
    )
    await hass.async_block_till_done()

    entries = await _logbook(hass, hass_ws_client, device_ids=[plug.id])
    assert len(entries) == 1
    assert entries[0]["name"] == "Sonoff S26"
    assert entries[0]["message"] == "raised a port scan alert (warning): It probed 15 ports."


async def test_device_activity_is_described(
    hass: HomeAssistant, hass_ws_client: Any, plug: dr.DeviceEntry
) -> None:
    assert await async_setup_component(hass, "logbook", {})
    await async_setup_component(hass, DOMAIN, {})
    await hass.async_block_till_done()
    hass.bus.async_fire(
        EVENT_DEVICE_ACTIVITY, {"device_id": plug.id, "entity_id": "switch.sonoff_s26"}
    )
    hass.bus.async_fire(EVENT_DEVICE_ACTIVITY, {"device_id": "gone", "message": "sent 2 MB"})
    await hass.async_block_till_done()

    entries = await _logbook(hass, hass_ws_client)
    by_name = {e["name"]: e for e in entries}
    assert by_name["Sonoff S26"]["message"] == (
        "network activity around a change of switch.sonoff_s26"
    )
    assert by_name["Sonoff S26"]["entity_id"] == "switch.sonoff_s26"
    # A device that no longer exists still gets a readable line.
    assert by_name["TOTEM"]["message"] == "sent 2 MB"
