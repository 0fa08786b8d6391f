"""The panel's websocket API across entries: an entry loaded after a subscription
started reaches it, and who may read (and see the panel) follows the
"panel for administrators only" option."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from homeassistant.components import frontend
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.totem.const import CONF_ACTIVITY_LINKS, CONF_PANEL_ADMIN_ONLY
from custom_components.totem.panel import PANEL_URL_PATH
from tests.engine.test_enforce import FakeNft

from .conftest import replay_entry, setup_entry, wait_for, write_script
from .messages import hang, hello, row, snapshot
from .test_websocket import PLUG, _start, kernel  # noqa: F401 (the fixture)

THERMOSTAT = "18:b4:30:00:00:03"
RELAY = "switch.thermostat_relay"


async def _events_until(client: Any, found: Any, most: int = 50) -> dict[str, Any]:
    """The first pushed table FOUND accepts; at most MOST pushes are read."""
    for _ in range(most):
        message = await client.receive_json()
        if message.get("type") == "event" and found(message["event"]):
            event: dict[str, Any] = message["event"]
            return event
    raise AssertionError(f"no pushed table matched in {most} messages")


async def test_subscription_gets_the_devices_of_an_entry_loaded_after_it(
    hass: HomeAssistant,
    tmp_path: Path,
    fake_probe: Any,
    kernel: FakeNft,  # noqa: F811
    hass_ws_client: WebSocketGenerator,
) -> None:
    first = await _start(hass, tmp_path, fake_probe)
    client = await hass_ws_client(hass)
    await client.send_json_auto_id({"type": "totem/devices/subscribe"})
    assert (await client.receive_json())["success"]
    table = (await client.receive_json())["event"]
    assert [e["entry_id"] for e in table["entries"]] == [first.entry_id]

    second_dir = tmp_path / "second"
    second_dir.mkdir()
    fake_probe(
        write_script(
            second_dir / "probe.ndjson",
            [
                hello(),
                snapshot(1, 1010.0, [row(THERMOSTAT, tx_bytes=900, tx_packets=3)]),
                hang(),
            ],
        )
    )
    second = replay_entry(second_dir / "y.pcap")
    await setup_entry(hass, second)

    def has_thermostat(event: dict[str, Any]) -> bool:
        return any(d["mac"] == THERMOSTAT for d in event["devices"])

    table = await _events_until(client, has_thermostat)
    assert {e["entry_id"] for e in table["entries"]} == {first.entry_id, second.entry_id}
    thermostat = next(d for d in table["devices"] if d["mac"] == THERMOSTAT)
    assert thermostat["entry_id"] == second.entry_id
    assert thermostat["tx_bytes"] == 900
    assert table["summary"]["devices"] == 3

    # Unloaded, the second entry leaves the table of the same subscription.
    assert await hass.config_entries.async_unload(second.entry_id)
    table = await _events_until(client, lambda event: not has_thermostat(event))
    assert [e["entry_id"] for e in table["entries"]] == [first.entry_id]


async def _set_admin_only(hass: HomeAssistant, entry: MockConfigEntry, value: bool) -> None:
    """Through the options flow, as a user would (the entry reloads)."""
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_PANEL_ADMIN_ONLY: value}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY, result
    await hass.async_block_till_done()
    assert entry.options[CONF_PANEL_ADMIN_ONLY] is value
    await wait_for(
        hass,
        lambda: entry.state is ConfigEntryState.LOADED
        and entry.runtime_data.coordinator.data is not None,
        what="the entry reloaded with its devices",
    )


async def test_users_who_are_not_administrators_read_only_entries_opened_to_them(
    hass: HomeAssistant,
    tmp_path: Path,
    fake_probe: Any,
    kernel: FakeNft,  # noqa: F811
    hass_ws_client: WebSocketGenerator,
    hass_read_only_access_token: str,
) -> None:
    entry = await _start(hass, tmp_path, fake_probe)
    user = await hass_ws_client(hass, hass_read_only_access_token)
    base = {"entry_id": entry.entry_id, "mac": PLUG}

    # The default: administrators only, reading included.
    await user.send_json_auto_id({"type": "totem/device/get", **base})
    reply = await user.receive_json()
    assert not reply["success"]
    assert reply["error"]["translation_key"] == "panel_entry_not_found"
    await user.send_json_auto_id({"type": "totem/alerts/list"})
    assert (await user.receive_json())["result"]["alerts"] == []
    watcher = await hass_ws_client(hass, hass_read_only_access_token)
    await watcher.send_json_auto_id({"type": "totem/devices/subscribe"})
    assert (await watcher.receive_json())["success"]
    hidden = (await watcher.receive_json())["event"]
    assert (hidden["entries"], hidden["devices"], hidden["summary"]["devices"]) == ([], [], 0)
    # An administrator reads it all the while.
    admin = await hass_ws_client(hass)
    await admin.send_json_auto_id({"type": "totem/device/get", **base})
    assert (await admin.receive_json())["success"]

    await _set_admin_only(hass, entry, False)
    await user.send_json_auto_id({"type": "totem/device/get", **base})
    reply = await user.receive_json()
    assert reply["success"], reply
    assert reply["result"]["device"]["mac"] == PLUG
    opened = await _events_until(watcher, lambda event: bool(event["devices"]))
    assert {d["mac"] for d in opened["devices"]} >= {PLUG}
    # Commands stay an administrator's.
    await user.send_json_auto_id({"type": "totem/device/block", **base})
    assert (await user.receive_json())["error"]["code"] == "unauthorized"


async def test_panel_registration_follows_the_option(
    hass: HomeAssistant,
    tmp_path: Path,
    fake_probe: Any,
    kernel: FakeNft,  # noqa: F811
) -> None:
    assert await async_setup_component(hass, "frontend", {})
    entry = await _start(hass, tmp_path, fake_probe)
    panels = hass.data[frontend.DATA_PANELS]
    assert panels[PANEL_URL_PATH].require_admin is True
    module_url = panels[PANEL_URL_PATH].config["_panel_custom"]["module_url"]

    await _set_admin_only(hass, entry, False)
    panel = hass.data[frontend.DATA_PANELS][PANEL_URL_PATH]
    assert panel.require_admin is False
    # The same bundle, registered again: only who sees it changed.
    assert panel.config["_panel_custom"]["module_url"] == module_url
    assert panel.config["_panel_custom"]["name"] == "totem-panel"

    await _set_admin_only(hass, entry, True)
    assert hass.data[frontend.DATA_PANELS][PANEL_URL_PATH].require_admin is True


async def test_device_page_carries_the_flow_list_and_top_peers(
    hass: HomeAssistant,
    tmp_path: Path,
    fake_probe: Any,
    hass_ws_client: WebSocketGenerator,
) -> None:
    flow = {"peer": "203.0.113.7", "domain": "a1.tuyaeu.com", "proto": "TCP", "port": 443}
    flow |= {"app": "TLS", "up": 600, "down": 20000, "packets": 21, "last": 1009.0}
    small = {**flow, "peer": "192.0.2.123", "domain": None, "proto": "UDP", "port": 123}
    small |= {"app": "NTP", "up": 48, "down": 48, "packets": 2}
    peer = {"peer": "203.0.113.7", "domain": "a1.tuyaeu.com", "up": 600, "down": 20000}
    peer |= {"conversations": 1}
    hostile = {**flow, "up": -5}  # a remote probe's table is checked on the way in
    fake_probe(
        write_script(
            tmp_path / "probe.ndjson",
            [
                hello(),
                snapshot(
                    1,
                    1010.0,
                    [
                        row(
                            THERMOSTAT,
                            tx_bytes=900,
                            tx_packets=3,
                            top_flows=[small, hostile, flow],
                            top_peers=[peer],
                        )
                    ],
                ),
                hang(),
            ],
        )
    )
    # The relay of the thermostat, from another integration: linked by the user.
    entry = replay_entry(tmp_path / "x.pcap", **{CONF_ACTIVITY_LINKS: {RELAY: THERMOSTAT}})
    await setup_entry(hass, entry)
    await wait_for(
        hass,
        lambda: entry.runtime_data.coordinator.data is not None
        and RELAY in entry.runtime_data.activity.links.entities,
        what="the device and its linked entity",
    )
    client = await hass_ws_client(hass)
    await client.send_json_auto_id(
        {"type": "totem/device/get", "entry_id": entry.entry_id, "mac": THERMOSTAT}
    )
    reply = await client.receive_json()
    assert reply["success"], reply
    device = reply["result"]["device"]
    assert [(f["peer"], f["port"], f["domain"]) for f in device["flows"]] == [
        ("203.0.113.7", 443, "a1.tuyaeu.com"),
        ("192.0.2.123", 123, None),
    ]
    assert device["flows"][0]["down"] == 20000
    assert device["peers"] == [{**peer, "local": False}]
    # The page asks the logbook for these beside the device's own entities.
    assert device["linked_entities"] == [RELAY]
    assert device["device_id"] is not None
