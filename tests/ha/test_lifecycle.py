"""Options reload the probe, Home Assistant's stop ends it, odd probe output is survived."""

from __future__ import annotations

import signal
from pathlib import Path
from unittest.mock import patch

import pytest
from homeassistant.const import EVENT_HOMEASSISTANT_STOP, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.totem import probe_process
from custom_components.totem.const import (
    CONF_IGNORED,
    CONF_INTERFACE,
    CONF_PROMISC,
    CONF_SOURCE_TYPE,
    CONF_UPDATE_INTERVAL,
    DEFAULT_OPTIONS,
    DOMAIN,
    SOURCE_INTERFACE,
)
from custom_components.totem.engine.model import EngineStats

from .conftest import find_device, replay_entry, setup_entry, wait_for, write_script
from .messages import exit_with, hang, hello, row, snapshot

PLUG = "50:c7:bf:00:00:01"


def _entity(hass: HomeAssistant, platform: str, unique_id: str) -> str:
    entity_id = er.async_get(hass).async_get_entity_id(platform, DOMAIN, unique_id)
    assert entity_id is not None, unique_id
    return entity_id


async def test_options_change_restarts_probe_and_drops_ignored_device(
    hass: HomeAssistant, tmp_path: Path, fake_probe
) -> None:
    fake_probe(
        write_script(
            tmp_path / "probe.ndjson",
            [hello("ARGV"), snapshot(1, 1010.0, [row(PLUG)]), hang()],
        )
    )
    entry = replay_entry(tmp_path / "x.pcap")
    await setup_entry(hass, entry)
    first = entry.runtime_data.coordinator
    await wait_for(hass, lambda: find_device(hass, mac=PLUG) is not None, what="device")
    assert "--interval 10" in first.hello.source

    hass.config_entries.async_update_entry(
        entry, options={**entry.options, CONF_UPDATE_INTERVAL: 30, CONF_IGNORED: [PLUG]}
    )
    await wait_for(hass, lambda: entry.runtime_data.coordinator is not first, what="reload")
    second = entry.runtime_data.coordinator
    await wait_for(hass, lambda: second.data is not None, what="snapshot after reload")
    assert "--interval 30" in second.hello.source
    assert find_device(hass, mac=PLUG) is None
    assert PLUG not in second.data.devices
    assert not first.probe.running
    await hass.config_entries.async_unload(entry.entry_id)


async def test_home_assistant_stop_ends_the_probe(
    hass: HomeAssistant, tmp_path: Path, fake_probe
) -> None:
    fake_probe(write_script(tmp_path / "probe.ndjson", [hello(), hang()]))
    entry = replay_entry(tmp_path / "x.pcap")
    await setup_entry(hass, entry)
    coordinator = entry.runtime_data.coordinator
    await wait_for(hass, lambda: coordinator.hello is not None, what="hello")
    pid = coordinator.probe.pid
    assert Path(f"/proc/{pid}").exists()
    hass.bus.async_fire(EVENT_HOMEASSISTANT_STOP)
    await wait_for(hass, lambda: not Path(f"/proc/{pid}").exists(), what="probe gone")
    await hass.config_entries.async_unload(entry.entry_id)


async def test_probe_ignoring_sigterm_is_killed(
    hass: HomeAssistant, tmp_path: Path, fake_probe
) -> None:
    fake_probe(write_script(tmp_path / "probe.ndjson", [{"fake": "stubborn"}, hello(), hang()]))
    entry = replay_entry(tmp_path / "x.pcap")
    await setup_entry(hass, entry)
    coordinator = entry.runtime_data.coordinator
    await wait_for(hass, lambda: coordinator.hello is not None, what="hello")
    pid = coordinator.probe.pid
    with patch.object(probe_process, "STOP_GRACE_SECONDS", 0.5):
        assert await hass.config_entries.async_unload(entry.entry_id)
    assert not Path(f"/proc/{pid}").exists()


async def test_odd_output_is_survived_and_crash_reason_reported(
    hass: HomeAssistant, tmp_path: Path, fake_probe, caplog: pytest.LogCaptureFixture
) -> None:
    fake_probe(
        write_script(
            tmp_path / "probe.ndjson",
            [
                {"fake": "raw", "text": "this is not JSON"},
                {"fake": "raw", "text": "[1, 2, 3]"},
                hello(),
                {"type": "snapshot", "seq": 1, "wall_time": 1.0, "snapshot": {"devices": []}},
                {"type": "heartbeat", "wall_time": 1.0, "stats": {"kernel_dropped": 7}},
                {"type": "heartbeat", "wall_time": 1.0, "stats": ["not", "a", "mapping"]},
                {"type": "mystery"},
                snapshot(1, 1010.0, [row(PLUG)], wall_time="not a number"),
                {"fake": "stderr", "text": "Traceback: ZeroDivisionError"},
                exit_with(1),
            ],
        )
    )
    entry = replay_entry(tmp_path / "x.pcap")
    await setup_entry(hass, entry)
    coordinator = entry.runtime_data.coordinator
    await wait_for(hass, lambda: coordinator.probe.restarts >= 1, what="probe exit")
    assert coordinator.heartbeat_stats == EngineStats(kernel_dropped=7)
    assert PLUG in coordinator.store.devices  # the good snapshot got through
    warnings = [r.getMessage() for r in caplog.records if "is unavailable" in r.getMessage()]
    assert "probe exited with status 1: Traceback: ZeroDivisionError" in warnings[0]
    await hass.config_entries.async_unload(entry.entry_id)


async def test_probe_that_cannot_start_is_retried(hass: HomeAssistant, tmp_path: Path) -> None:
    entry = replay_entry(tmp_path / "x.pcap")
    with patch.object(probe_process, "probe_argv", return_value=[str(tmp_path / "no-such-python")]):
        await setup_entry(hass, entry)
        coordinator = entry.runtime_data.coordinator
        await wait_for(hass, lambda: coordinator.probe.restarts >= 1, what="failed start")
        assert not coordinator.source_available
        assert "cannot start the probe" in str(coordinator.last_exception)
        coordinator.probe.retry_now()
        await wait_for(hass, lambda: coordinator.probe.restarts >= 2, what="second try")
        await hass.config_entries.async_unload(entry.entry_id)


async def test_limited_visibility_raises_issue_and_sensor(
    hass: HomeAssistant, tmp_path: Path, fake_probe
) -> None:
    own_only = EngineStats(unicast_between_others=3)
    full = EngineStats(unicast_between_others=900)
    fake_probe(
        write_script(
            tmp_path / "probe.ndjson",
            [
                hello("ARGV"),
                snapshot(1, 1010.0, [row(PLUG)], packets=5000, stats=own_only),
                {"fake": "once", "marker": str(tmp_path / "first")},
                hang(),
                {"fake": "run_again"},
                hello(),
                snapshot(1, 1020.0, [row(PLUG)], packets=6000, stats=full),
                hang(),
            ],
        )
    )
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id="interface:br0",
        data={CONF_SOURCE_TYPE: SOURCE_INTERFACE, CONF_INTERFACE: "br0", CONF_PROMISC: True},
        options=dict(DEFAULT_OPTIONS),
    )
    await setup_entry(hass, entry)
    coordinator = entry.runtime_data.coordinator
    issues = ir.async_get(hass)
    await wait_for(hass, lambda: coordinator.hello is not None, what="hello")
    assert coordinator.hello.source.startswith("--iface br0 --promisc --interval 10")
    issue_id = f"limited_visibility_{entry.entry_id}"
    await wait_for(hass, lambda: issues.async_get_issue(DOMAIN, issue_id) is not None)
    sensor = _entity(hass, "sensor", f"{entry.entry_id}-visibility")
    assert hass.states.get(sensor).state == "own_traffic_only"

    # The next probe run sees the home's traffic (say, after moving to a mirror port).
    coordinator.probe._proc.send_signal(signal.SIGKILL)
    await wait_for(hass, lambda: hass.states.get(sensor).state == STATE_UNAVAILABLE)
    await wait_for(hass, lambda: hass.states.get(sensor).state == "full", what="full view")
    assert issues.async_get_issue(DOMAIN, issue_id) is None
    await hass.config_entries.async_unload(entry.entry_id)


async def test_rates_packets_per_second_and_top_talkers(
    hass: HomeAssistant, tmp_path: Path, fake_probe
) -> None:
    cam, plug = "b0:c5:54:00:00:01", PLUG
    entry = replay_entry(tmp_path / "x.pcap")
    entry.add_to_hass(hass)
    registry = er.async_get(hass)
    # The user enables the rate sensors, which are off by default.
    for mac in (cam, plug):
        for key in ("upload_rate", "download_rate"):
            registry.async_get_or_create(
                "sensor",
                DOMAIN,
                f"{entry.entry_id}-{mac}-{key}",
                config_entry=entry,
                disabled_by=None,
            )
    fake_probe(
        write_script(
            tmp_path / "probe.ndjson",
            [
                hello(),
                snapshot(1, 1010.0, [row(cam, name="Camera"), row(plug, name="Plug")], packets=0),
                snapshot(
                    2,
                    1020.0,
                    [
                        row(cam, name="Camera", tx_bytes=250_000, rx_bytes=5_000),
                        row(plug, name="Plug", tx_bytes=1_250, rx_bytes=2_500),
                    ],
                    packets=1234,
                ),
                hang(),
            ],
        )
    )
    assert await hass.config_entries.async_setup(entry.entry_id)
    coordinator = entry.runtime_data.coordinator
    await wait_for(hass, lambda: coordinator.data is not None and coordinator.data.time == 1020.0)
    await hass.async_block_till_done()

    def state(unique_id: str) -> str:
        return hass.states.get(_entity(hass, "sensor", unique_id)).state

    # 250,000 bytes in 10 s = 200 kbit/s.
    assert state(f"{entry.entry_id}-{cam}-upload_rate") == "200.0"
    assert state(f"{entry.entry_id}-{cam}-download_rate") == "4.0"
    assert state(f"{entry.entry_id}-{plug}-upload_rate") == "1.0"
    assert state(f"{entry.entry_id}-packets_per_second") == "123"
    top = hass.states.get(_entity(hass, "sensor", f"{entry.entry_id}-top_talkers"))
    assert top.state == "Camera"
    assert [d["name"] for d in top.attributes["devices"]] == ["Camera", "Plug"]
    assert state(f"{entry.entry_id}-devices_online") == "2"
    await hass.config_entries.async_unload(entry.entry_id)


async def test_overlong_line_restarts_the_probe(
    hass: HomeAssistant, tmp_path: Path, fake_probe
) -> None:
    fake_probe(
        write_script(
            tmp_path / "probe.ndjson",
            [hello(), {"fake": "raw", "text": "x" * 5000}, hang()],
        )
    )
    entry = replay_entry(tmp_path / "x.pcap")
    with patch.object(probe_process, "LINE_LIMIT", 1024):
        await setup_entry(hass, entry)
        coordinator = entry.runtime_data.coordinator
        await wait_for(hass, lambda: coordinator.probe.restarts >= 1, what="restart")
    assert "probe line too long" in str(coordinator.last_exception)
    await hass.config_entries.async_unload(entry.entry_id)


async def test_identification_improving_renames_own_devices_only(
    hass: HomeAssistant, tmp_path: Path, fake_probe
) -> None:
    esp = "5c:cf:7f:00:00:01"
    fake_probe(
        write_script(
            tmp_path / "probe.ndjson",
            [
                {"fake": "wait_file", "path": str(tmp_path / "go")},
                hello(),
                snapshot(1, 1010.0, [row(esp, manufacturer="Espressif Inc.")]),
                {"fake": "wait_file", "path": str(tmp_path / "more")},
                # DHCP told its name; the type rules made it a smart plug.
                snapshot(
                    2,
                    1020.0,
                    [row(esp, manufacturer="Espressif Inc.", name="ESP_07AEFB", type="smart_plug")],
                ),
                hang(),
            ],
        )
    )
    entry = replay_entry(tmp_path / "x.pcap")
    await setup_entry(hass, entry)
    coordinator = entry.runtime_data.coordinator
    (tmp_path / "go").touch()
    await wait_for(hass, lambda: find_device(hass, mac=esp) is not None, what="device")
    device = find_device(hass, mac=esp)
    assert (device.name, device.model) == ("Espressif Inc. 0001", "Unknown")
    # The user's own name is kept apart by Home Assistant and never touched.
    dr.async_get(hass).async_update_device(device.id, name_by_user="Coffee machine")

    (tmp_path / "more").touch()
    await wait_for(hass, lambda: coordinator.data.time == 1020.0, what="second snapshot")
    device = find_device(hass, mac=esp)
    assert (device.name, device.model) == ("ESP_07AEFB", "Smart plug")
    assert device.name_by_user == "Coffee machine"
    await hass.config_entries.async_unload(entry.entry_id)
