"""Remote probes in Home Assistant: HA's MQTT integration on a real Mosquitto, real probes."""

from __future__ import annotations

import asyncio
from collections.abc import Generator
from pathlib import Path

import pytest
from homeassistant import config_entries
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.totem.const import (
    CONF_PROBE_NAME,
    CONF_PROBE_SECRET,
    CONF_SOURCE_TYPE,
    CONF_UPDATE_INTERVAL,
    DEFAULT_OPTIONS,
    DOMAIN,
    SOURCE_REMOTE,
)
from custom_components.totem.engine.protocol import RequestSnapshot
from custom_components.totem.remote_probe import async_find_probes
from tests.conftest import shared_pcap
from tests.mqtt.conftest import ACCOUNTS, Broker, probe, run_broker

from .captures import analyze
from .conftest import wait_for

SECRET = "5e" * 32


@pytest.fixture
def broker(tmp_path: Path, socket_enabled: None) -> Generator[Broker]:
    with run_broker(tmp_path) as b:
        yield b


async def _mqtt(hass: HomeAssistant, b: Broker) -> MockConfigEntry:
    # The MQTT integration reads its YAML part when its entry is set up.
    config_yaml = Path(hass.config.path("configuration.yaml"))
    config_yaml.parent.mkdir(parents=True, exist_ok=True)
    config_yaml.touch()
    entry = MockConfigEntry(
        domain="mqtt",
        data={"broker": "127.0.0.1", "port": b.port, "username": "ha",
              "password": ACCOUNTS["ha"]},
    )  # fmt: skip
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


def _state(hass: HomeAssistant, unique_id: str) -> str | None:
    entity_id = er.async_get(hass).async_get_entity_id("binary_sensor", DOMAIN, unique_id)
    state = hass.states.get(entity_id) if entity_id else None
    return state.state if state else None


async def test_remote_probes_through_home_assistants_mqtt(
    hass: HomeAssistant,
    broker: Broker,
    tmp_path: Path,
) -> None:
    capture = shared_pcap("iot_tplink_hs100_plug_setup.pcap")
    plug_mac = next(m for m, r in analyze(capture).items() if r.name == "HS100(EU)")
    for name in ("garden", "attic"):
        (tmp_path / f"{name}.secret").write_text(SECRET)
    args = ("--replay", str(capture), "--speed", "5", "--loop", "--interval", "1")
    procs = {n: probe(broker, n, tmp_path / f"{n}.secret", *args) for n in ("garden", "attic")}
    mqtt_entry = await _mqtt(hass, broker)
    try:
        # Both probes connect and retain their status: two processes starting on a
        # loaded machine take seconds, so wait for the retained messages themselves.
        deadline = asyncio.get_running_loop().time() + 60
        while sorted(await async_find_probes(hass, wait=0.5)) != ["attic", "garden"]:
            assert asyncio.get_running_loop().time() < deadline, "probes never retained"
        # Found from their retained status, added through the config flow.
        result = await hass.config_entries.flow.async_init(
            DOMAIN, context={"source": config_entries.SOURCE_USER}
        )
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {"next_step_id": SOURCE_REMOTE}
        )
        assert result["step_id"] == SOURCE_REMOTE
        assert result["description_placeholders"] == {"found": "attic, garden"}
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_PROBE_NAME: "garden", CONF_PROBE_SECRET: SECRET}
        )
        assert result["type"] is FlowResultType.CREATE_ENTRY
        garden = result["result"]
        hass.config_entries.async_update_entry(
            garden, options={**garden.options, CONF_UPDATE_INTERVAL: 1}
        )
        attic = MockConfigEntry(
            domain=DOMAIN,
            title="TOTEM probe attic",
            unique_id="remote:attic",
            data={CONF_SOURCE_TYPE: SOURCE_REMOTE, CONF_PROBE_NAME: "attic",
                  CONF_PROBE_SECRET: SECRET},
            options={**DEFAULT_OPTIONS, CONF_UPDATE_INTERVAL: 1},
        )  # fmt: skip
        attic.add_to_hass(hass)
        assert await hass.config_entries.async_setup(attic.entry_id)
        await hass.async_block_till_done()

        registry = dr.async_get(hass)

        def plug_devices() -> list[dr.DeviceEntry]:
            return [
                d for d in registry.devices.values()
                if (dr.CONNECTION_NETWORK_MAC, plug_mac) in d.connections
            ]  # fmt: skip

        await wait_for(
            hass,
            lambda: len(plug_devices()) == 1
            and {garden.entry_id, attic.entry_id} <= set(plug_devices()[0].config_entries),
            what="one plug device shared by both probes",
        )
        hubs = [d for d in registry.devices.values() if any(i[0] == DOMAIN for i in d.identifiers)]
        assert {i for d in hubs for i in d.identifiers} >= {
            (DOMAIN, garden.entry_id),
            (DOMAIN, attic.entry_id),
        }
        garden_online = f"{garden.entry_id}-{plug_mac}-online"
        # A replay's packets are old: "online" is judged on wall time for a remote probe,
        # so the sensor is off; what matters here is that it is there and available.
        await wait_for(
            hass, lambda: _state(hass, garden_online) in ("on", "off"), what="garden's view"
        )

        # A signed command through Home Assistant's MQTT integration, acknowledged.
        ack = await garden.runtime_data.coordinator.probe.request(RequestSnapshot())
        assert ack.ok

        # The garden probe goes away: its entities are unavailable, a repair issue says so.
        procs["garden"].terminate()
        procs["garden"].wait(20)
        issue = ("totem", f"probe_offline_{garden.entry_id}")
        await wait_for(
            hass, lambda: _state(hass, garden_online) == "unavailable", what="unavailable"
        )
        assert ir.async_get(hass).async_get_issue(*issue) is not None
        assert _state(hass, f"{attic.entry_id}-{plug_mac}-online") in ("on", "off")
        # Back: it resumes, the issue goes.
        procs["garden"] = probe(broker, "garden", tmp_path / "garden.secret", *args)
        await wait_for(
            hass, lambda: _state(hass, garden_online) in ("on", "off"), what="back online"
        )
        assert ir.async_get(hass).async_get_issue(*issue) is None
    finally:
        for proc in procs.values():
            proc.terminate()
            proc.wait(20)
        for entry in hass.config_entries.async_entries(DOMAIN):
            await hass.config_entries.async_unload(entry.entry_id)
        await hass.config_entries.async_unload(mqtt_entry.entry_id)
        await hass.async_block_till_done()
