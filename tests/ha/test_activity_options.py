"""Links between entities and network devices: the options, and devices sharing a MAC.

The fake probe (a process boundary) sends snapshots at chosen packet times, so the
traffic around a state change is known to the byte.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from unittest.mock import MagicMock

import pytest
import voluptuous as vol
from homeassistant.core import Event, HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.totem.activity import EVENT_DEVICE_ACTIVITY
from custom_components.totem.config_flow import (
    CONF_EDIT_LINKS,
    CONF_KEEP_LINKS,
    CONF_LINK_DEVICE,
    CONF_LINK_ENTITIES,
)
from custom_components.totem.const import (
    CONF_ACTIVITY_LINKS,
    CONF_AUTO_ADD,
    CONF_DEVICE_CAP,
    CONF_IGNORED,
    CONF_UPDATE_INTERVAL,
    DEFAULT_OPTIONS,
    DOMAIN,
)
from custom_components.totem.options import TotemConfig, links_to_options, parse_links

from .conftest import find_device, options_form, replay_entry, setup_entry, wait_for, write_script
from .messages import hang, hello, row, snapshot

PLUG = "50:c7:bf:00:00:01"
OPTIONS = options_form(**{CONF_AUTO_ADD: False, CONF_IGNORED: []})


async def _links_step(
    hass: HomeAssistant, entry: MockConfigEntry, extra: dict[str, Any] | None = None
) -> Any:
    """The options' first form saved with the box that opens the links step."""
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    assert CONF_EDIT_LINKS in result["data_schema"].schema
    assert CONF_ACTIVITY_LINKS not in result["data_schema"].schema  # no code editor
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**OPTIONS, **(extra or {}), CONF_EDIT_LINKS: True}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "links"
    return result


def _network_device(hass: HomeAssistant, entry: MockConfigEntry, mac: str) -> str:
    return (
        dr.async_get(hass)
        .async_get_or_create(
            config_entry_id=entry.entry_id, connections={(dr.CONNECTION_NETWORK_MAC, mac)}
        )
        .id
    )


async def test_links_step_saves_a_device_and_its_entities(
    hass: HomeAssistant, tmp_path: Path, no_setup: MagicMock
) -> None:
    entry = replay_entry(tmp_path / "x.pcap")
    entry.add_to_hass(hass)
    plug = _network_device(hass, entry, PLUG)
    result = await _links_step(hass, entry, {CONF_IGNORED: ["AA-BB-CC-DD-EE-FF"]})
    schema = result["data_schema"].schema
    assert CONF_KEEP_LINKS not in schema  # nothing linked yet
    assert schema[CONF_LINK_DEVICE].config["integration"] == DOMAIN
    assert schema[CONF_LINK_ENTITIES].config["multiple"] is True
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {CONF_LINK_DEVICE: plug, CONF_LINK_ENTITIES: ["switch.kitchen_plug", "light.lamp"]},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    # The first form's options are saved with the links, in the structured form.
    assert entry.options[CONF_IGNORED] == ["aa:bb:cc:dd:ee:ff"]
    assert entry.options[CONF_ACTIVITY_LINKS] == [
        {"mac": PLUG, "entities": ["light.lamp", "switch.kitchen_plug"]}
    ]
    assert TotemConfig.from_config_entry(entry).activity_links == {
        "light.lamp": PLUG,
        "switch.kitchen_plug": PLUG,
    }


@pytest.mark.parametrize(
    ("device", "entities", "error"),
    [
        (None, ["switch.camera"], {CONF_LINK_DEVICE: "link_device_missing"}),
        ("plug", [], {CONF_LINK_ENTITIES: "link_entities_missing"}),
        ("hub", ["switch.camera"], {CONF_LINK_DEVICE: "link_device_no_mac"}),
        ("gone", ["switch.camera"], {CONF_LINK_DEVICE: "link_device_no_mac"}),
    ],
)
async def test_links_step_refuses_a_half_link(
    hass: HomeAssistant,
    tmp_path: Path,
    no_setup: MagicMock,
    device: str | None,
    entities: list[str],
    error: dict[str, str],
) -> None:
    entry = replay_entry(tmp_path / "x.pcap")
    entry.add_to_hass(hass)
    ids = {
        "plug": _network_device(hass, entry, PLUG),
        "hub": dr.async_get(hass)
        .async_get_or_create(config_entry_id=entry.entry_id, identifiers={(DOMAIN, "hub")})
        .id,
        "gone": "no-such-device",
    }
    result = await _links_step(hass, entry)
    chosen: dict[str, Any] = {CONF_LINK_ENTITIES: entities}
    if device is not None:
        chosen[CONF_LINK_DEVICE] = ids[device]
    result = await hass.config_entries.options.async_configure(result["flow_id"], chosen)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == error
    assert CONF_ACTIVITY_LINKS not in entry.options  # nothing saved


async def test_old_text_links_are_kept_moved_over_and_removable(
    hass: HomeAssistant, tmp_path: Path, no_setup: MagicMock
) -> None:
    # Links typed in the old code editor ({entity_id: MAC}) before the links step existed.
    other = "aa:bb:cc:00:00:02"
    entry = replay_entry(
        tmp_path / "x.pcap",
        **{CONF_ACTIVITY_LINKS: {"switch.camera": PLUG, "light.b": PLUG, "fan.x": other}},
    )
    entry.add_to_hass(hass)
    # Saved without opening the links step: kept, in the structured form.
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(result["flow_id"], OPTIONS)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options[CONF_ACTIVITY_LINKS] == [
        {"mac": PLUG, "entities": ["light.b", "switch.camera"]},
        {"mac": other, "entities": ["fan.x"]},
    ]
    # The links step offers them, all kept; unticking a device removes its links.
    result = await _links_step(hass, entry)
    keep = next(k for k in result["data_schema"].schema if k == CONF_KEEP_LINKS)
    assert keep.description == {"suggested_value": [PLUG, other]}
    labels = [o["label"] for o in result["data_schema"].schema[keep].config["options"]]
    assert labels == [f"{PLUG}: light.b, switch.camera", f"{other}: fan.x"]
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_KEEP_LINKS: [PLUG]}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options[CONF_ACTIVITY_LINKS] == [
        {"mac": PLUG, "entities": ["light.b", "switch.camera"]}
    ]
    # Nothing ticked: no links left, and no empty key either.
    result = await _links_step(hass, entry)
    result = await hass.config_entries.options.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert CONF_ACTIVITY_LINKS not in entry.options


async def test_unreadable_stored_links_survive_a_save(
    hass: HomeAssistant, tmp_path: Path, no_setup: MagicMock
) -> None:
    # Hand-edited into something that does not parse: links nothing, but is not erased.
    broken = {"switch.camera": "not-a-mac"}
    entry = replay_entry(tmp_path / "x.pcap", **{CONF_ACTIVITY_LINKS: broken})
    entry.add_to_hass(hass)
    assert TotemConfig.from_config_entry(entry).activity_links == {}
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(result["flow_id"], OPTIONS)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options[CONF_ACTIVITY_LINKS] == broken


async def test_every_option_may_be_left_empty(
    hass: HomeAssistant, tmp_path: Path, no_setup: MagicMock
) -> None:
    # A user who clears a field or saves straight away is never told a field is required:
    # a cleared field keeps the value it had.
    entry = replay_entry(tmp_path / "x.pcap", **{CONF_UPDATE_INTERVAL: 10})
    entry.add_to_hass(hass)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert not [key for key in result["data_schema"].schema if isinstance(key, vol.Required)]
    result = await hass.config_entries.options.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    config = TotemConfig.from_config_entry(entry)
    assert config.update_interval == 10
    assert config.ignored == frozenset()
    assert config.device_cap == DEFAULT_OPTIONS[CONF_DEVICE_CAP]


def test_no_links_is_an_empty_mapping() -> None:
    assert parse_links(None) == {}
    assert parse_links("") == {}
    assert parse_links({}) == {}
    assert parse_links([]) == {}


def test_both_stored_forms_read_the_same() -> None:
    old = {"Input_Boolean.Camera ": "50-C7-BF-00-00-01", "light.b": PLUG}
    new = [{"mac": "50-C7-BF-00-00-01", "entities": ["light.b", "input_boolean.camera"]}]
    expected = {"input_boolean.camera": PLUG, "light.b": PLUG}
    assert parse_links(old) == parse_links(new) == expected
    assert parse_links(links_to_options(expected)) == expected


@pytest.mark.parametrize(
    "links",
    [
        {"not an entity": PLUG},
        {"switch.camera": "not-a-mac"},
        {"switch.camera": 42},
        ["switch.camera", PLUG],
        [{"mac": PLUG, "entities": "switch.camera"}],
        [{"mac": "nope", "entities": ["switch.camera"]}],
        "switch.camera: " + PLUG,
    ],
)
def test_a_bad_stored_link_is_refused(links: Any) -> None:
    assert parse_links(links) is None


@pytest.mark.parametrize(
    "stored",
    [
        {"input_boolean.camera_power": PLUG},  # the old code editor's form
        [{"mac": PLUG, "entities": ["input_boolean.camera_power"]}],  # the links step's
    ],
)
async def test_the_activity_log_links_either_form(
    hass: HomeAssistant, tmp_path: Path, fake_probe: Any, stored: Any
) -> None:
    fake_probe(
        write_script(
            tmp_path / "probe.ndjson",
            [hello(), snapshot(1, 1000.0, [row(PLUG, tx_bytes=0, rx_bytes=0)]), hang()],
        )
    )
    entry = replay_entry(tmp_path / "x.pcap", speed=0, **{CONF_ACTIVITY_LINKS: stored})
    await setup_entry(hass, entry)
    coordinator = entry.runtime_data.coordinator
    await wait_for(hass, lambda: PLUG in coordinator.store.devices, what="plug admitted")
    monitor = entry.runtime_data.activity
    assert monitor is not None
    # Relinked when the plug is admitted: the entity is tied to it by the saved link alone.
    await wait_for(
        hass,
        lambda: monitor.links.entities == {"input_boolean.camera_power": PLUG},
        what="the user's link",
    )
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


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
