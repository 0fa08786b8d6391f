"""Probe supervision: restarts, unavailable/available, repair issues."""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir

from custom_components.totem.const import CONF_UPDATE_INTERVAL, DOMAIN
from tests.conftest import require_root, require_tool

from .captures import chat, write
from .conftest import replay_entry, setup_entry, wait_for, write_script
from .messages import error, exit_with, hang, hello, row, snapshot

PLUG = "50:c7:bf:00:00:01"


def _online_state(hass: HomeAssistant, mac: str) -> str | None:
    entry_id = hass.config_entries.async_entries(DOMAIN)[0].entry_id
    entity_id = er.async_get(hass).async_get_entity_id(
        "binary_sensor", DOMAIN, f"{entry_id}-{mac}-online"
    )
    state = hass.states.get(entity_id) if entity_id else None
    return state.state if state else None


def _issue(hass: HomeAssistant, kind: str, entry_id: str) -> ir.IssueEntry | None:
    return ir.async_get(hass).async_get_issue(DOMAIN, f"{kind}_{entry_id}")


async def test_permission_error_raises_repair_issue_until_capture_works(
    hass: HomeAssistant, tmp_path: Path, fake_probe
) -> None:
    # First run: no CAP_NET_RAW. Later runs: capture works.
    fake_probe(
        write_script(
            tmp_path / "probe.ndjson",
            [
                {"fake": "once", "marker": str(tmp_path / "ran")},
                hello(),
                error("permission_denied", "eth0: Operation not permitted"),
                exit_with(2),
                {"fake": "run_again"},
                hello(),
                snapshot(1, 1010.0, [row(PLUG, last_seen=1009.0)]),
                hang(),
            ],
        )
    )
    entry = replay_entry(tmp_path / "x.pcap")
    await setup_entry(hass, entry)
    coordinator = entry.runtime_data.coordinator

    await wait_for(
        hass, lambda: _issue(hass, "permission_denied", entry.entry_id) is not None, what="issue"
    )
    issue = _issue(hass, "permission_denied", entry.entry_id)
    assert issue.translation_key == "permission_denied"
    assert issue.severity is ir.IssueSeverity.ERROR
    assert "Operation not permitted" in issue.translation_placeholders["message"]
    assert not coordinator.last_update_success

    await wait_for(hass, lambda: coordinator.source_available, what="recovery")
    assert _issue(hass, "permission_denied", entry.entry_id) is None
    assert _online_state(hass, PLUG) == "on"
    assert coordinator.probe.restarts == 1


async def test_killed_probe_makes_entities_unavailable_then_back(
    hass: HomeAssistant, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    capture = write(tmp_path / "home.pcap", chat("a4:cf:12:00:00:01", 10, 1000.0, 20))
    entry = replay_entry(capture, speed=1, loop=True, **{CONF_UPDATE_INTERVAL: 0.1})
    await setup_entry(hass, entry)
    coordinator = entry.runtime_data.coordinator
    mac = "a4:cf:12:00:00:01"
    await wait_for(hass, lambda: _online_state(hass, mac) == "on", what="device online")
    caplog.set_level(logging.INFO, logger="custom_components.totem")

    first_pid = coordinator.probe.pid
    os.kill(first_pid, signal.SIGKILL)
    await wait_for(hass, lambda: _online_state(hass, mac) == STATE_UNAVAILABLE, what="unavailable")
    await wait_for(hass, lambda: _online_state(hass, mac) == "on", what="available again")
    assert coordinator.probe.pid != first_pid

    unavailable = [r for r in caplog.records if "is unavailable" in r.getMessage()]
    back = [r for r in caplog.records if "working again" in r.getMessage()]
    assert len(unavailable) == 1
    assert len(back) == 1
    await hass.config_entries.async_unload(entry.entry_id)
    assert not Path(f"/proc/{coordinator.probe.pid}").exists()


async def test_a_stopped_probe_is_killed_and_restarted_by_the_watchdog(
    hass: HomeAssistant, tmp_path: Path
) -> None:
    """SIGSTOP: the probe neither exits nor talks. Entities stayed online for good."""
    capture = write(tmp_path / "home.pcap", chat("a4:cf:12:00:00:01", 10, 1000.0, 20))
    entry = replay_entry(capture, speed=1, loop=True, **{CONF_UPDATE_INTERVAL: 0.5})
    await setup_entry(hass, entry)
    coordinator = entry.runtime_data.coordinator
    mac = "a4:cf:12:00:00:01"
    await wait_for(hass, lambda: _online_state(hass, mac) == "on", what="device online")
    stopped = coordinator.probe.pid
    assert stopped is not None
    assert coordinator.probe.silence_limit == 5.0  # three heartbeats, never under 5 s
    os.kill(stopped, signal.SIGSTOP)
    try:
        await wait_for(
            hass, lambda: _online_state(hass, mac) == STATE_UNAVAILABLE, 20, "unavailable"
        )
        assert coordinator.last_update_success is False
        await wait_for(hass, lambda: _online_state(hass, mac) == "on", 30, "available again")
    finally:
        if Path(f"/proc/{stopped}").exists():
            os.kill(stopped, signal.SIGKILL)
    assert coordinator.probe.pid != stopped
    assert coordinator.probe.silenced == 1
    assert not Path(f"/proc/{stopped}").exists()  # killed, not left behind
    await hass.config_entries.async_unload(entry.entry_id)


async def test_vanished_capture_file_raises_issue_and_recovers(
    hass: HomeAssistant, tmp_path: Path
) -> None:
    capture = write(tmp_path / "home.pcap", chat("a4:cf:12:00:00:01", 10, 1000.0, 20))
    entry = replay_entry(capture, speed=1, loop=True, **{CONF_UPDATE_INTERVAL: 0.1})
    await setup_entry(hass, entry)
    coordinator = entry.runtime_data.coordinator
    mac = "a4:cf:12:00:00:01"
    await wait_for(hass, lambda: _online_state(hass, mac) == "on", what="device online")

    hidden = tmp_path / "elsewhere.pcap"
    shutil.move(capture, hidden)
    os.kill(coordinator.probe.pid, signal.SIGKILL)
    await wait_for(
        hass, lambda: _issue(hass, "bad_file", entry.entry_id) is not None, what="bad_file issue"
    )
    assert _online_state(hass, mac) == STATE_UNAVAILABLE

    shutil.move(hidden, capture)
    await wait_for(hass, lambda: _online_state(hass, mac) == "on", what="recovery")
    assert _issue(hass, "bad_file", entry.entry_id) is None
    await hass.config_entries.async_unload(entry.entry_id)


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True)


@pytest.fixture
def veth() -> str:
    """A veth pair created (and removed) by the test; no traffic is sent on it."""
    require_root("creating a veth pair")
    require_tool("ip")
    name = "totemha0"
    subprocess.run(["ip", "link", "del", name], capture_output=True, check=False)
    _ip("link", "add", name, "type", "veth", "peer", "name", "totemha1")
    _ip("link", "set", name, "up")
    _ip("link", "set", "totemha1", "up")
    yield name
    subprocess.run(["ip", "link", "del", name], capture_output=True, check=False)


async def test_interface_deleted_and_recreated_recovers_without_restart(
    hass: HomeAssistant, veth: str
) -> None:
    from pytest_homeassistant_custom_component.common import MockConfigEntry

    from custom_components.totem.const import (
        CONF_INTERFACE,
        CONF_SOURCE_TYPE,
        DEFAULT_OPTIONS,
        SOURCE_INTERFACE,
    )

    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=f"interface:{veth}",
        data={CONF_SOURCE_TYPE: SOURCE_INTERFACE, CONF_INTERFACE: veth},
        options={**DEFAULT_OPTIONS, CONF_UPDATE_INTERVAL: 0.2},
    )
    await setup_entry(hass, entry)
    coordinator = entry.runtime_data.coordinator
    hub_sensor = er.async_get(hass).async_get_entity_id(
        "sensor", DOMAIN, f"{entry.entry_id}-visibility"
    )
    await wait_for(hass, lambda: coordinator.source_available, what="capture running")
    assert hass.states.get(hub_sensor).state == "unknown"  # no traffic: nothing to judge

    _ip("link", "del", veth)
    await wait_for(hass, lambda: not coordinator.source_available, what="source down")
    assert hass.states.get(hub_sensor).state == STATE_UNAVAILABLE
    await wait_for(
        hass,
        lambda: any(
            _issue(hass, kind, entry.entry_id) is not None
            for kind in ("interface_not_found", "interface_down")
        ),
        what="repair issue",
    )

    _ip("link", "add", veth, "type", "veth", "peer", "name", "totemha1")
    _ip("link", "set", veth, "up")
    _ip("link", "set", "totemha1", "up")
    await wait_for(hass, lambda: coordinator.source_available, what="capture back")
    assert hass.states.get(hub_sensor).state == "unknown"
    assert _issue(hass, "interface_not_found", entry.entry_id) is None
    assert _issue(hass, "interface_down", entry.entry_id) is None
    await hass.config_entries.async_unload(entry.entry_id)
