"""The "Try TOTEM on a demo home" source: the bundled capture, replayed in a loop."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from unittest.mock import patch

from homeassistant import config_entries
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er

from custom_components.totem.const import (
    CONF_BLOCK_BACKEND,
    CONF_SOURCE_TYPE,
    DOMAIN,
    SOURCE_DEMO,
)
from custom_components.totem.options import DEMO_CAPTURE, CaptureSource, TotemConfig

from .conftest import find_device, wait_for

CAMERA = "b0:c5:54:00:00:39"  # "DCS-935L-0", talking from the capture's first second


async def _demo_flow(hass: HomeAssistant) -> config_entries.ConfigFlowResult:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    assert SOURCE_DEMO in result["menu_options"]
    return await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": SOURCE_DEMO}
    )


def test_the_demo_capture_ships_with_the_integration() -> None:
    assert DEMO_CAPTURE.is_file()
    assert DEMO_CAPTURE.parent.parent == Path(__file__).parents[2] / "custom_components" / "totem"


def _switch(hass: HomeAssistant, entry: Any) -> str | None:
    return next(
        (
            e.entity_id
            for e in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
            if e.domain == "switch" and hass.states.get(e.entity_id) is not None
        ),
        None,
    )


async def test_demo_home_shows_devices_without_touching_the_network(
    hass: HomeAssistant,
) -> None:
    result = await _demo_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == SOURCE_DEMO
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "TOTEM demo home"
    # The path is found where TOTEM is installed at each start, not stored.
    assert result["data"] == {CONF_SOURCE_TYPE: SOURCE_DEMO}
    # No firewall rule for devices that are not on this network.
    assert result["options"][CONF_BLOCK_BACKEND] == "none"
    entry = result["result"]
    await hass.async_block_till_done()

    config = TotemConfig.from_config_entry(entry)
    assert config.source.path == str(DEMO_CAPTURE)
    assert config.source.loop
    assert "--loop" in config.probe_args()
    coordinator = entry.runtime_data.coordinator
    await wait_for(hass, lambda: find_device(hass, mac=CAMERA) is not None, what="the camera")
    assert find_device(hass, mac=CAMERA).name == "DCS-935L-0"
    assert coordinator.source_available
    assert not coordinator.finished  # looping: the demo home stays alive
    # Learning ends with the capture's quiet part, before its misbehaviours.
    assert "--learn" in config.probe_args()
    assert config.probe_args()[config.probe_args().index("--learn") + 1] == "240"
    # Blocks are pretended: the switches exist and nothing reaches nftables.
    await wait_for(hass, lambda: _switch(hass, entry) is not None, what="a switch")
    switch_id = _switch(hass, entry)
    with patch("custom_components.totem.engine.enforce.NftRunner.run") as nft:
        await hass.services.async_call(
            "switch", "turn_off", {"entity_id": switch_id}, blocking=True
        )
        await wait_for(hass, lambda: hass.states.get(switch_id).state == "off", what="blocked")
        await hass.services.async_call("switch", "turn_on", {"entity_id": switch_id}, blocking=True)
        await wait_for(hass, lambda: hass.states.get(switch_id).state == "on", what="unblocked")
    assert nft.call_count == 0

    # One demo home is enough.
    again = await _demo_flow(hass)
    assert again["type"] is FlowResultType.ABORT
    assert again["reason"] == "already_configured"
    # It has no source to change.
    reconfigure = await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": config_entries.SOURCE_RECONFIGURE, "entry_id": entry.entry_id},
    )
    assert reconfigure["type"] is FlowResultType.ABORT
    assert reconfigure["reason"] == "demo_not_reconfigurable"
    await hass.config_entries.async_unload(entry.entry_id)


async def test_an_installation_without_the_demo_capture_says_so(
    hass: HomeAssistant, tmp_path: Path
) -> None:
    with patch("custom_components.totem.config_flow.DEMO_CAPTURE", tmp_path / "absent.pcap"):
        result = await _demo_flow(hass)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "demo_missing"


def test_the_demo_replays_in_real_time_unless_its_entry_carries_a_speed() -> None:
    """The browser test's faster demo (scripts/develop TOTEM_DEV_DEMO_SPEED); nothing the
    config flow writes, and a speed outside 1..4 is real time again."""
    cases = {None: 1.0, 4: 4.0, 2.5: 2.5, 100: 1.0, 0.1: 1.0, "4": 1.0, True: 1.0}
    for given, speed in cases.items():
        data: dict[str, Any] = {"source_type": "demo"}
        if given is not None:
            data["speed"] = given
        source = CaptureSource.from_data(data)
        assert source.speed == speed, given
        args = source.probe_args()
        assert args[args.index("--speed") + 1] == str(speed)
        assert "--loop" in args
