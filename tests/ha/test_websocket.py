"""The Network panel's websocket API: the device subscription, every command, the
administrator check and translated errors, against the scripted fake probe."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.totem.const import CONF_BLOCK_BACKEND
from custom_components.totem.engine.messages import AlertMessage
from custom_components.totem.engine.model import Alert
from custom_components.totem.network_view import VIEWS, clean_vendor
from tests.engine.test_enforce import FakeNft

from .conftest import replay_entry, setup_entry, wait_for, write_script
from .messages import hang, hello, row, snapshot
from .test_block_approval import quarantined
from .test_switch import blocked, fake_kernel

PLUG = "50:c7:bf:00:00:01"
CAMERA = "a4:cf:12:00:00:02"


@pytest.fixture
def kernel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeNft]:
    with fake_kernel(tmp_path, monkeypatch) as fake:
        yield fake


def _script(tmp_path: Path, answers: list[dict[str, Any]]) -> Path:
    def rows(tx: int) -> list[Any]:
        return [
            row(
                PLUG,
                tx_bytes=tx,
                tx_packets=4,
                last_seen=1010.0,
                manufacturer="TP-LINK TECHNOLOGIES CO.,LTD.",
                type="smart_plug",
                type_reason="vendor TP-Link and mDNS _hap._tcp",
                ips=["192.0.2.10"],
            ),
            row(CAMERA, tx_bytes=300, tx_packets=2, last_seen=1010.0),
        ]

    alert = Alert(1005.0, PLUG, "port_scan", "warning", "scanned 40 ports of 192.0.2.20")
    return write_script(
        tmp_path / "probe.ndjson",
        [
            hello(),
            snapshot(1, 1010.0, rows(600)),
            AlertMessage(alert=alert).to_json(),
            {"fake": "wait_file", "path": str(tmp_path / "again")},
            snapshot(2, 1020.0, rows(60600)),
            *answers,
            hang(),
        ],
    )


async def _start(
    hass: HomeAssistant, tmp_path: Path, fake_probe: Any, answers: list[dict[str, Any]] = ()
) -> Any:
    fake_probe(_script(tmp_path, list(answers)))
    entry = replay_entry(tmp_path / "x.pcap", **{CONF_BLOCK_BACKEND: "nftables-bridge"})
    await setup_entry(hass, entry)
    coordinator = entry.runtime_data.coordinator
    await wait_for(
        hass,
        lambda: coordinator.data is not None
        and coordinator.data.time == 1010.0
        and len(entry.runtime_data.alerts.recent) == 1,
        what="the devices and the alert",
    )
    return entry


async def test_subscription_pushes_the_table_after_each_snapshot(
    hass: HomeAssistant,
    tmp_path: Path,
    fake_probe: Any,
    kernel: FakeNft,
    hass_ws_client: WebSocketGenerator,
) -> None:
    entry = await _start(hass, tmp_path, fake_probe)
    client = await hass_ws_client(hass)
    await client.send_json_auto_id({"type": "totem/devices/subscribe"})
    assert (await client.receive_json())["success"]
    first = (await client.receive_json())["event"]
    assert first["entries"][0]["entry_id"] == entry.entry_id
    assert first["entries"][0]["enforcing"] is True
    assert first["summary"] == {
        "devices": 2,
        "online": 2,
        "new_this_week": 2,
        "open_alerts": 1,
        "blocked": 0,
        "waiting": 0,
    }
    plug = next(d for d in first["devices"] if d["mac"] == PLUG)
    assert plug["vendor"] == "TP-LINK"
    assert plug["type"] == "smart_plug"
    assert plug["type_reason"] == "vendor TP-Link and mDNS _hap._tcp"
    assert plug["ips"] == ["192.0.2.10"]
    assert plug["tx_bytes"] == 600
    assert (plug["alerts_24h"], plug["open_alerts"]) == (1, 1)
    assert plug["device_id"] is not None
    assert plug["type_source"] == "evidence"
    assert plug["pending_approval"] is False

    (tmp_path / "again").touch()
    pushed = (await client.receive_json())["event"]
    plug = next(d for d in pushed["devices"] if d["mac"] == PLUG)
    assert plug["tx_bytes"] == 60600
    assert plug["up_kbps"] == pytest.approx(60000 * 8 / 1000 / 10)
    # The minute series got the 60 kB between the two readings.
    assert sum(plug["spark"]) == 60000


async def test_device_page_and_alert_list(
    hass: HomeAssistant,
    tmp_path: Path,
    fake_probe: Any,
    kernel: FakeNft,
    hass_ws_client: WebSocketGenerator,
) -> None:
    entry = await _start(hass, tmp_path, fake_probe)
    client = await hass_ws_client(hass)
    await client.send_json_auto_id(
        {"type": "totem/device/get", "entry_id": entry.entry_id, "mac": PLUG.upper()}
    )
    reply = await client.receive_json()
    assert reply["success"], reply
    device = reply["result"]["device"]
    assert device["mac"] == PLUG
    # The type selector's choices: every known type, "unknown" is no choice.
    assert "camera" in reply["result"]["device_types"]
    assert "unknown" not in reply["result"]["device_types"]
    assert [a["kind"] for a in device["alerts"]] == ["port_scan"]
    assert device["minutes"] == []  # one reading so far: a baseline, no traffic yet

    await client.send_json_auto_id({"type": "totem/alerts/list"})
    alerts = (await client.receive_json())["result"]["alerts"]
    assert len(alerts) == 1
    alert = alerts[0]
    assert (alert["kind"], alert["severity"], alert["acknowledged"]) == (
        "port_scan",
        "warning",
        False,
    )
    assert alert["device_name"] == device["name"]
    # Shown in today's terms: the replay's alert at packet time 1005 is 5 s before the
    # snapshot at 1010, whose wall time is now.
    assert alert["seen"] == pytest.approx(time.time() - 5, abs=30)

    await client.send_json_auto_id(
        {
            "type": "totem/alerts/acknowledge",
            "entry_id": entry.entry_id,
            "mac": PLUG,
            "kind": "port_scan",
            "time": alert["time"],
        }
    )
    assert (await client.receive_json())["success"]
    await client.send_json_auto_id({"type": "totem/alerts/list", "entry_id": entry.entry_id})
    assert (await client.receive_json())["result"]["alerts"][0]["acknowledged"] is True


async def test_block_with_a_duration_and_unblock(
    hass: HomeAssistant,
    tmp_path: Path,
    fake_probe: Any,
    kernel: FakeNft,
    hass_ws_client: WebSocketGenerator,
) -> None:
    entry = await _start(hass, tmp_path, fake_probe)
    client = await hass_ws_client(hass)
    await client.send_json_auto_id(
        {"type": "totem/device/block", "entry_id": entry.entry_id, "mac": PLUG, "duration": 3600}
    )
    reply = await client.receive_json()
    assert reply["success"], reply
    assert reply["result"]["device"]["blocked"] is True
    assert reply["result"]["device"]["blocked_until"] is not None
    assert blocked(kernel) == {PLUG}

    await client.send_json_auto_id(
        {"type": "totem/device/unblock", "entry_id": entry.entry_id, "mac": PLUG}
    )
    reply = await client.receive_json()
    assert reply["success"], reply
    assert reply["result"]["device"]["blocked"] is False
    assert blocked(kernel) == set()


async def test_snooze_and_reset_baseline_reach_the_probe_and_refusals_are_translated(
    hass: HomeAssistant,
    tmp_path: Path,
    fake_probe: Any,
    kernel: FakeNft,
    hass_ws_client: WebSocketGenerator,
) -> None:
    answers = [
        {"fake": "answer", "ok": True},
        {"fake": "answer", "ok": True},
        {"fake": "answer", "ok": False, "error": "unknown_mac", "message": "not seen"},
    ]
    entry = await _start(hass, tmp_path, fake_probe, answers)
    commands: list[str] = []
    probe = entry.runtime_data.coordinator.probe
    original = probe.request

    async def spy(command: Any) -> Any:
        commands.append(command.to_json()["cmd"])
        return await original(command)

    probe.request = spy
    (tmp_path / "again").touch()  # the probe reads commands after its second snapshot
    coordinator = entry.runtime_data.coordinator
    await wait_for(hass, lambda: coordinator.data.time == 1020.0, what="the second snapshot")
    client = await hass_ws_client(hass)
    base = {"entry_id": entry.entry_id, "mac": PLUG}
    await client.send_json_auto_id(
        {"type": "totem/device/snooze", **base, "kind": "port_scan", "duration": 86400}
    )
    assert (await client.receive_json())["success"]
    await client.send_json_auto_id({"type": "totem/device/reset_baseline", **base})
    assert (await client.receive_json())["success"]
    assert commands == ["snooze", "reset_baseline"]

    await client.send_json_auto_id({"type": "totem/device/reset_baseline", **base})
    reply = await client.receive_json()
    assert not reply["success"]
    assert reply["error"]["translation_key"] == "command_refused"
    assert "not seen" in reply["error"]["message"]


async def test_unknown_entry_device_and_duration_are_refused(
    hass: HomeAssistant,
    tmp_path: Path,
    fake_probe: Any,
    kernel: FakeNft,
    hass_ws_client: WebSocketGenerator,
) -> None:
    entry = await _start(hass, tmp_path, fake_probe)
    client = await hass_ws_client(hass)
    cases = [
        ({"type": "totem/device/get", "entry_id": "nope", "mac": PLUG}, "panel_entry_not_found"),
        (
            {"type": "totem/device/block", "entry_id": entry.entry_id, "mac": "00:00:5e:00:53:99"},
            "panel_device_not_found",
        ),
        (
            {
                "type": "totem/alerts/acknowledge",
                "entry_id": entry.entry_id,
                "mac": PLUG,
                "kind": "port_scan",
                "time": 1.0,
            },
            "panel_alert_not_found",
        ),
    ]
    for message, key in cases:
        await client.send_json_auto_id(message)
        reply = await client.receive_json()
        assert not reply["success"], message
        assert reply["error"]["translation_key"] == key
        assert reply["error"]["message"]  # the translated text, not the key
        assert key not in reply["error"]["message"]
    await client.send_json_auto_id(
        {"type": "totem/device/block", "entry_id": entry.entry_id, "mac": PLUG, "duration": 5}
    )
    reply = await client.receive_json()
    assert reply["error"]["code"] == "invalid_format"
    assert blocked(kernel) == set()


async def test_commands_need_an_administrator(
    hass: HomeAssistant,
    tmp_path: Path,
    fake_probe: Any,
    kernel: FakeNft,
    hass_ws_client: WebSocketGenerator,
    hass_read_only_access_token: str,
) -> None:
    entry = await _start(hass, tmp_path, fake_probe)
    client = await hass_ws_client(hass, hass_read_only_access_token)
    base = {"entry_id": entry.entry_id, "mac": PLUG}
    for message in (
        {"type": "totem/device/block", **base},
        {"type": "totem/device/unblock", **base},
        {"type": "totem/device/snooze", **base, "duration": 3600},
        {"type": "totem/device/reset_baseline", **base},
        {"type": "totem/alerts/acknowledge", **base, "kind": "port_scan", "time": 1005.0},
        {"type": "totem/device/set_type", **base, "device_type": "camera"},
        {"type": "totem/device/approve", **base, "decision": "approve"},
    ):
        await client.send_json_auto_id(message)
        reply = await client.receive_json()
        assert reply["error"]["code"] == "unauthorized", message
    assert blocked(kernel) == set()
    assert entry.runtime_data.coordinator.store.devices[PLUG].user_type is None
    # Reading too, while the entry keeps the panel for administrators (the default;
    # test_websocket_entries.py opens it).
    await client.send_json_auto_id({"type": "totem/device/get", **base})
    assert not (await client.receive_json())["success"]


def test_clean_vendor_drops_corporate_suffixes() -> None:
    assert clean_vendor("Espressif Inc.") == "Espressif"
    assert clean_vendor("David Electronics Co., LTD.") == "David Electronics"
    assert clean_vendor("TP-LINK TECHNOLOGIES CO.,LTD.") == "TP-LINK"
    assert clean_vendor("Hon Hai Precision Ind. Co.,Ltd.") == "Hon Hai Precision Ind"
    assert clean_vendor("Sonos, Inc.") == "Sonos"
    assert clean_vendor("Apple") == "Apple"
    assert clean_vendor("") is None
    assert clean_vendor(None) is None


async def test_traffic_series_and_acknowledgements_survive_a_restart(
    hass: HomeAssistant,
    tmp_path: Path,
    fake_probe: Any,
    kernel: FakeNft,
    hass_ws_client: WebSocketGenerator,
) -> None:
    entry = await _start(hass, tmp_path, fake_probe)
    coordinator = entry.runtime_data.coordinator
    (tmp_path / "again").touch()
    await wait_for(hass, lambda: coordinator.data.time == 1020.0, what="the second snapshot")
    alert_time = entry.runtime_data.alerts.recent[0].alert.time
    client = await hass_ws_client(hass)
    await client.send_json_auto_id(
        {
            "type": "totem/alerts/acknowledge",
            "entry_id": entry.entry_id,
            "mac": PLUG,
            "kind": "port_scan",
            "time": alert_time,
        }
    )
    assert (await client.receive_json())["success"]

    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    coordinator = entry.runtime_data.coordinator
    await wait_for(hass, lambda: coordinator.data is not None, what="the restarted entry")
    await client.send_json_auto_id(
        {"type": "totem/device/get", "entry_id": entry.entry_id, "mac": PLUG}
    )
    reply = await client.receive_json()
    assert reply["success"], reply
    # The 60 kB minute from before the restart is still in the chart's series.
    assert sum(b[1] for b in reply["result"]["device"]["minutes"]) == 60000
    view = hass.data[VIEWS][entry.entry_id]
    assert f"{PLUG}|port_scan|{alert_time}" in view.acknowledged


async def test_set_type_reaches_the_store_and_bad_types_are_refused(
    hass: HomeAssistant,
    tmp_path: Path,
    fake_probe: Any,
    kernel: FakeNft,
    hass_ws_client: WebSocketGenerator,
) -> None:
    answers = [{"fake": "answer", "ok": True}, {"fake": "answer", "ok": True}]
    entry = await _start(hass, tmp_path, fake_probe, answers)
    coordinator = entry.runtime_data.coordinator
    (tmp_path / "again").touch()  # the probe reads commands after its second snapshot
    await wait_for(hass, lambda: coordinator.data.time == 1020.0, what="the second snapshot")
    client = await hass_ws_client(hass)
    base = {"type": "totem/device/set_type", "entry_id": entry.entry_id, "mac": PLUG}
    await client.send_json_auto_id({**base, "device_type": "camera"})
    reply = await client.receive_json()
    assert reply["success"], reply
    assert coordinator.store.devices[PLUG].user_type == "camera"
    assert reply["result"]["device"]["mac"] == PLUG

    await client.send_json_auto_id({**base, "device_type": "automatic"})
    assert (await client.receive_json())["success"]
    assert coordinator.store.devices[PLUG].user_type is None

    for bad in ("toaster", "unknown"):
        await client.send_json_auto_id({**base, "device_type": bad})
        reply = await client.receive_json()
        assert reply["error"]["code"] == "invalid_format", bad
    assert coordinator.store.devices[PLUG].user_type is None


async def test_approve_lets_a_waiting_device_on_and_refuses_others(
    hass: HomeAssistant,
    tmp_path: Path,
    fake_probe: Any,
    kernel: FakeNft,
    hass_ws_client: WebSocketGenerator,
) -> None:
    joins = tmp_path / "joins"
    lan: dict[str, Any] = {"tx_bytes": 900, "tx_packets": 6, "rx_packets": 3}
    fake_probe(
        write_script(
            tmp_path / "probe.ndjson",
            [
                hello(),
                snapshot(1, 1010.0, [row(PLUG, last_seen=1010.0, **lan)]),
                {"fake": "wait_file", "path": str(joins)},
                snapshot(
                    2,
                    1020.0,
                    [row(PLUG, last_seen=1020.0, **lan), row(CAMERA, last_seen=1020.0, **lan)],
                ),
                hang(),
            ],
        )
    )
    entry = replay_entry(
        tmp_path / "x.pcap", block_backend="nftables-bridge", new_devices_wait=True
    )
    # The first inventory ends with the first snapshot (an hour in real life).
    with patch("custom_components.totem.approval.INITIAL_INVENTORY_SECONDS", 0.0):
        await setup_entry(hass, entry)
        coordinator = entry.runtime_data.coordinator
        await wait_for(
            hass, lambda: coordinator.data is not None and PLUG in coordinator.data.devices
        )
        await hass.async_block_till_done(wait_background_tasks=True)
        joins.touch()
        approval = entry.runtime_data.blocking.approval
        assert approval is not None
        await wait_for(hass, lambda: CAMERA in approval.store.waiting, what="the camera waiting")
        await hass.async_block_till_done(wait_background_tasks=True)
    assert quarantined(kernel) == {CAMERA}
    client = await hass_ws_client(hass)
    base = {"entry_id": entry.entry_id}
    await client.send_json_auto_id({"type": "totem/devices/subscribe"})
    assert (await client.receive_json())["success"]
    table = (await client.receive_json())["event"]
    waiting = {d["mac"]: d["pending_approval"] for d in table["devices"]}
    assert waiting == {PLUG: False, CAMERA: True}
    assert table["summary"]["waiting"] == 1

    # The plug never waited: refused with the service's translated reason.
    await client.send_json_auto_id({"type": "totem/device/approve", **base, "mac": PLUG})
    reply = await client.receive_json()
    assert not reply["success"]
    assert reply["error"]["translation_key"] == "not_waiting"
    assert PLUG in reply["error"]["message"]
    await client.send_json_auto_id(
        {"type": "totem/device/approve", **base, "mac": CAMERA, "decision": "maybe"}
    )
    assert (await client.receive_json())["error"]["code"] == "invalid_format"
    assert quarantined(kernel) == {CAMERA}

    await client.send_json_auto_id(
        {"type": "totem/device/approve", **base, "mac": CAMERA, "decision": "approve"}
    )
    reply = await client.receive_json()
    assert reply["success"], reply
    assert reply["result"]["device"]["pending_approval"] is False
    assert quarantined(kernel) == set()
    assert blocked(kernel) == set()
    assert CAMERA in approval.store.known
    await hass.config_entries.async_unload(entry.entry_id)
