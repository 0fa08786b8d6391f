"""Links between entities and network devices: the options, and devices sharing a MAC.

The fake probe (a process boundary) sends snapshots at chosen packet times, so the
traffic around a state change is known to the byte.
"""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path
from typing import Any
from unittest.mock import MagicMock, patch

import pytest
from homeassistant.core import Event, HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.totem.activity import EVENT_DEVICE_ACTIVITY
from custom_components.totem.const import (
    CONF_ACTIVITY_LINKS,
    CONF_AUTO_ADD,
    CONF_AWAY_TIMEOUT,
    CONF_DEVICE_CAP,
    CONF_IGNORED,
    CONF_LEARN_DAYS,
    CONF_STALE_DAYS,
    CONF_UPDATE_INTERVAL,
    DOMAIN,
)
from custom_components.totem.options import parse_links

from .conftest import find_device, replay_entry, setup_entry, wait_for, write_script
from .messages import hang, hello, row, snapshot

PLUG = "50:c7:bf:00:00:01"
OPTIONS = {
    CONF_UPDATE_INTERVAL: 30.0,
    CONF_LEARN_DAYS: 2.5,
    CONF_DEVICE_CAP: 64.0,
    CONF_AUTO_ADD: False,
    CONF_AWAY_TIMEOUT: 600.0,
    CONF_STALE_DAYS: 7,
    CONF_IGNORED: [],
}


@pytest.fixture
def no_setup() -> Generator[MagicMock]:
    """The flow alone: setting the entry up is other tests' job."""
    with (
        patch("custom_components.totem.async_setup_entry", return_value=True) as mock,
        patch("custom_components.totem.async_unload_entry", return_value=True),
    ):
        yield mock


async def _submit(hass: HomeAssistant, entry: MockConfigEntry, extra: dict[str, Any]) -> Any:
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    assert CONF_ACTIVITY_LINKS in result["data_schema"].schema
    return await hass.config_entries.options.async_configure(
        result["flow_id"], {**OPTIONS, **extra}
    )


@pytest.mark.parametrize(
    "links",
    [
        {"not an entity": PLUG},
        {"switch.camera": "not-a-mac"},
        {"switch.camera": 42},
        ["switch.camera", PLUG],
    ],
)
async def test_options_refuse_a_bad_link(
    hass: HomeAssistant, tmp_path: Path, no_setup: MagicMock, links: Any
) -> None:
    entry = replay_entry(tmp_path / "x.pcap")
    entry.add_to_hass(hass)
    result = await _submit(hass, entry, {CONF_ACTIVITY_LINKS: links})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_ACTIVITY_LINKS: "invalid_link"}


async def test_options_report_a_bad_link_and_a_bad_mac_together(
    hass: HomeAssistant, tmp_path: Path, no_setup: MagicMock
) -> None:
    entry = replay_entry(tmp_path / "x.pcap")
    entry.add_to_hass(hass)
    result = await _submit(
        hass, entry, {CONF_ACTIVITY_LINKS: {"bad": PLUG}, CONF_IGNORED: ["nope"]}
    )
    assert result["errors"] == {CONF_ACTIVITY_LINKS: "invalid_link", CONF_IGNORED: "invalid_mac"}


async def test_options_save_links_normalised(
    hass: HomeAssistant, tmp_path: Path, no_setup: MagicMock
) -> None:
    entry = replay_entry(tmp_path / "x.pcap")
    entry.add_to_hass(hass)
    result = await _submit(
        hass,
        entry,
        {CONF_ACTIVITY_LINKS: {"Input_Boolean.Camera ": "50-C7-BF-00-00-01", "light.b": PLUG}},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options[CONF_ACTIVITY_LINKS] == {
        "input_boolean.camera": PLUG,
        "light.b": PLUG,
    }


def test_no_links_is_an_empty_mapping() -> None:
    assert parse_links(None) == {}
    assert parse_links("") == {}
    assert parse_links({}) == {}


async def test_entities_of_a_device_sharing_the_mac_are_linked(
    hass: HomeAssistant, tmp_path: Path, fake_probe: Any
) -> None:
    # Another integration (a smart plug's) knows the MAC: its switch is linked, its
    # power sensor (changing every few seconds) is not.
    other = MockConfigEntry(domain="kasa_like", title="Plug")
    other.add_to_hass(hass)
    plug_device = dr.async_get(hass).async_get_or_create(
        config_entry_id=other.entry_id,
        connections={(dr.CONNECTION_NETWORK_MAC, PLUG)},
        name="Kitchen plug",
    )
    entities = er.async_get(hass)
    switch = entities.async_get_or_create(
        "switch", "kasa_like", "plug-relay", device_id=plug_device.id, config_entry=other
    ).entity_id
    power = entities.async_get_or_create(
        "sensor", "kasa_like", "plug-power", device_id=plug_device.id, config_entry=other
    ).entity_id
    hass.states.async_set(switch, "on")
    hass.states.async_set(power, "12.5")

    go = tmp_path / "go"
    fake_probe(
        write_script(
            tmp_path / "probe.ndjson",
            [
                hello(),
                snapshot(1, 1000.0, [row(PLUG, tx_bytes=0, rx_bytes=0)]),
                snapshot(2, 1030.0, [row(PLUG, tx_bytes=3_000, rx_bytes=1_000)]),
                snapshot(3, 1060.0, [row(PLUG, tx_bytes=6_000, rx_bytes=2_000)]),
                {"fake": "wait_file", "path": str(go)},
                snapshot(4, 1090.0, [row(PLUG, tx_bytes=56_000, rx_bytes=9_000)]),
                snapshot(
                    5,
                    1120.0,
                    [row(PLUG, tx_bytes=106_000, rx_bytes=16_000, domains=["ota.example.com"])],
                ),
                hang(),
            ],
        )
    )
    seen: list[dict[str, Any]] = []

    def keep(event: Event) -> None:
        seen.append(dict(event.data))

    hass.bus.async_listen(EVENT_DEVICE_ACTIVITY, keep)
    # Replay speed 0: the change happens at the last snapshot's packet time.
    entry = replay_entry(tmp_path / "x.pcap", speed=0)
    await setup_entry(hass, entry)
    coordinator = entry.runtime_data.coordinator
    await wait_for(
        hass,
        lambda: coordinator.data is not None and coordinator.data.time == 1060.0,
        what="third snapshot",
    )
    monitor = entry.runtime_data.activity
    assert monitor is not None
    assert monitor.links.entities == {switch: PLUG}

    hass.states.async_set(power, "3.1")  # not linked: no event
    hass.states.async_set(switch, "off")
    await hass.async_block_till_done()
    go.touch()
    await wait_for(hass, lambda: bool(seen), what="activity event")

    assert len(seen) == 1
    event = seen[0]
    assert event["entity_id"] == switch
    assert (event["old_state"], event["new_state"]) == ("on", "off")
    assert event["device_id"] == find_device(hass, mac=PLUG).id
    assert (event["window_start"], event["window_change"], event["window_end"]) == (
        1000.0,
        1060.0,
        1120.0,
    )
    assert (event["bytes_up_before"], event["bytes_down_before"]) == (6_000, 2_000)
    assert (event["bytes_up_after"], event["bytes_down_after"]) == (100_000, 14_000)
    assert event["new_destinations"] == ["ota.example.com"]
    assert "went from on to off" in event["message"]
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert DOMAIN in hass.config.components
