"""Alerts become totem_anomaly events, Anomaly event entities, an alert score,
and totem.reset_baseline reaches the probe."""

from __future__ import annotations

import math
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest
import voluptuous as vol
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError, Unauthorized
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockUser, async_capture_events

from custom_components.totem.alerts import EVENT_ANOMALY, SEVERITY_WEIGHT
from custom_components.totem.const import CONF_LEARN_DAYS, CONF_UPDATE_INTERVAL, DOMAIN
from custom_components.totem.diagnostics import (
    async_get_config_entry_diagnostics,
    async_get_device_diagnostics,
)
from custom_components.totem.engine.messages import Ack, AlertMessage, SnapshotMessage
from custom_components.totem.engine.model import Alert, Snapshot
from tests.conftest import shared_pcap

from .captures import analyze, chat, write
from .conftest import (
    find_device,
    replay_entry,
    restart_home_assistant,
    setup_entry,
    wait_for,
    write_script,
)
from .messages import NOW, hello, row

PCAPS = Path(__file__).parents[1] / "pcaps"
SCANNER = "00:25:b3:bf:91:ee"  # 172.16.0.8, nmap -sS in attack_nmap_syn_portscan.pcap
PLUG = "a4:cf:12:00:00:01"
SPOOFED = "02:11:22:33:44:55"


def _entity_id(hass: HomeAssistant, platform: str, unique_id: str) -> str:
    entity_id = er.async_get(hass).async_get_entity_id(platform, DOMAIN, unique_id)
    assert entity_id is not None, unique_id
    return entity_id


def _alert_snapshot(
    seq: int, time: float, devices: list[Any], alerts: list[Alert], updates: list[Alert] = ()
) -> list[dict]:
    """A snapshot line and the alert lines the probe sends after it."""
    snap = Snapshot(
        packets=sum(d.tx_packets for d in devices),
        bytes=0,
        first_time=1000.0,
        last_time=time,
        devices=devices,
        alerts=[],
    )
    lines = [SnapshotMessage(seq=seq, wall_time=NOW + time - 1000.0, snapshot=snap).to_json()]
    lines += [AlertMessage(alert=a).to_json() for a in alerts]
    lines += [AlertMessage(alert=a, update=True).to_json() for a in updates]
    return lines


async def _plug_anomaly_fired(hass: HomeAssistant, entry: Any) -> tuple[str, str]:
    """The plug's Anomaly event entity once it has fired: its id and the time it fired."""
    registry = er.async_get(hass)
    unique_id = f"{entry.entry_id}-{PLUG}-anomaly"
    await wait_for(
        hass,
        lambda: registry.async_get_entity_id("event", DOMAIN, unique_id) is not None,
        what="the plug's anomaly entity",
    )
    entity_id = _entity_id(hass, "event", unique_id)
    await wait_for(
        hass,
        lambda: getattr(hass.states.get(entity_id), "state", "unknown")
        not in ("unknown", "unavailable"),
        what="the plug's anomaly event",
    )
    return entity_id, hass.states.get(entity_id).state


async def test_real_port_scan_fires_event_for_the_scanner(hass: HomeAssistant) -> None:
    capture = PCAPS / "attack_nmap_syn_portscan.pcap"
    events = async_capture_events(hass, EVENT_ANOMALY)
    entry = replay_entry(capture, speed=0, **{CONF_UPDATE_INTERVAL: 0.2, CONF_LEARN_DAYS: 0})
    await setup_entry(hass, entry)
    coordinator = entry.runtime_data.coordinator
    await wait_for(hass, lambda: coordinator.finished, what="end of replay")

    scans = [e.data for e in events if e.data["kind"] == "port_scan"]
    assert len(scans) == 1, [e.data for e in events]
    scan = scans[0]
    scanner = find_device(hass, mac=SCANNER)
    assert scanner is not None
    assert scan["device_id"] == scanner.id
    assert scan["mac"] == SCANNER
    assert scan["severity"] in SEVERITY_WEIGHT
    assert "port" in scan["message"]
    assert scan["count"] >= 1

    state = hass.states.get(_entity_id(hass, "event", f"{entry.entry_id}-{SCANNER}-anomaly"))
    assert state.attributes["event_type"] == "port_scan"
    assert state.attributes["message"] == scan["message"]
    assert state.attributes["severity"] == scan["severity"]
    assert state.attributes["mac"] == SCANNER
    assert "port_scan" in state.attributes["event_types"]

    score = hass.states.get(_entity_id(hass, "sensor", f"{entry.entry_id}-{SCANNER}-alert_score"))
    assert score.state == str(SEVERITY_WEIGHT[scan["severity"]])
    # Diagnostics list the alerts without what names hosts and addresses.
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    recent = diagnostics["coordinator"]["recent_alerts"]
    assert [a["kind"] for a in recent] == [e.data["kind"] for e in events]
    assert all("message" not in a and a["mac"] == "**REDACTED**" for a in recent)
    device = await async_get_device_diagnostics(hass, entry, scanner)
    assert [a["kind"] for a in device["alerts"]] == [
        e.data["kind"] for e in events if e.data["mac"] == SCANNER
    ]
    # The scanned host did nothing wrong.
    target = next(m for m in analyze(capture) if m != SCANNER)
    assert (
        hass.states.get(_entity_id(hass, "sensor", f"{entry.entry_id}-{target}-alert_score")).state
        == "0"
    )
    assert (
        hass.states.get(_entity_id(hass, "event", f"{entry.entry_id}-{target}-anomaly")).state
        == "unknown"
    )


@pytest.mark.parametrize("name", ["home_iphone_dhcp_mdns_tls.pcap", "iot_tplink_hs100_plug_setup"])
async def test_normal_capture_fires_nothing(hass: HomeAssistant, name: str) -> None:
    capture = PCAPS / name if name.endswith(".pcap") else shared_pcap(f"{name}.pcap")
    events = async_capture_events(hass, EVENT_ANOMALY)
    entry = replay_entry(capture, speed=0, **{CONF_UPDATE_INTERVAL: 0.2, CONF_LEARN_DAYS: 0})
    await setup_entry(hass, entry)
    coordinator = entry.runtime_data.coordinator
    await wait_for(hass, lambda: coordinator.finished, what="end of replay")

    assert coordinator.data is not None
    assert coordinator.data.devices
    assert events == []
    for mac in coordinator.data.devices:
        assert (
            hass.states.get(_entity_id(hass, "event", f"{entry.entry_id}-{mac}-anomaly")).state
            == "unknown"
        )
        assert (
            hass.states.get(_entity_id(hass, "sensor", f"{entry.entry_id}-{mac}-alert_score")).state
            == "0"
        )


async def test_alerts_of_unknown_macs_go_to_the_hub(
    hass: HomeAssistant, fake_probe: Any, tmp_path: Path
) -> None:
    flood = Alert(1001.0, SPOOFED, "mac_flood", "critical", "Many new MACs at once")
    scan = Alert(1002.0, PLUG, "host_scan", "warning", "The plug probed 40 hosts", count=3)
    fake_probe(
        write_script(
            tmp_path / "probe.ndjson",
            [
                hello(),
                # The plug is admitted in the same snapshot that carries its alert.
                *_alert_snapshot(1, 1002.0, [row(PLUG, tx_packets=5)], [flood, scan]),
                {"fake": "hang"},
            ],
        )
    )
    events = async_capture_events(hass, EVENT_ANOMALY)
    entry = replay_entry(tmp_path / "unused.pcap")
    await setup_entry(hass, entry)
    await wait_for(hass, lambda: len(events) == 2, what="two anomaly events")

    hub = find_device(hass, identifier=entry.entry_id)
    plug = find_device(hass, mac=PLUG)
    by_kind = {e.data["kind"]: e.data for e in events}
    assert by_kind["mac_flood"]["device_id"] == hub.id
    assert by_kind["mac_flood"]["mac"] == SPOOFED
    assert by_kind["host_scan"]["device_id"] == plug.id
    assert by_kind["host_scan"]["count"] == 3
    assert by_kind["host_scan"]["time"] == 1002.0

    hub_event = hass.states.get(_entity_id(hass, "event", f"{entry.entry_id}-anomaly"))
    assert hub_event.attributes["event_type"] == "mac_flood"
    assert hub_event.attributes["mac"] == SPOOFED
    await wait_for(
        hass,
        lambda: hass.states.get(_entity_id(hass, "event", f"{entry.entry_id}-{PLUG}-anomaly")).state
        != "unknown",
        what="the plug's event entity",
    )
    plug_event = hass.states.get(_entity_id(hass, "event", f"{entry.entry_id}-{PLUG}-anomaly"))
    assert plug_event.attributes["event_type"] == "host_scan"
    assert plug_event.attributes["message"] == "The plug probed 40 hosts"
    assert plug_event.attributes["count"] == 3
    # A spoofed MAC never becomes a device.
    assert find_device(hass, mac=SPOOFED) is None


async def test_alert_of_a_merged_mac_belongs_to_its_device(
    hass: HomeAssistant, fake_probe: Any, tmp_path: Path
) -> None:
    rotated = "da:00:00:00:00:09"  # a randomised MAC the engine merged into the plug
    alert = Alert(1001.0, rotated, "port_scan", "warning", "scan")
    devices = [row(PLUG, tx_packets=5), row(rotated, tx_packets=2, same_device_as=PLUG)]
    fake_probe(
        write_script(
            tmp_path / "probe.ndjson",
            [hello(), *_alert_snapshot(1, 1001.0, devices, [alert]), {"fake": "hang"}],
        )
    )
    events = async_capture_events(hass, EVENT_ANOMALY)
    entry = replay_entry(tmp_path / "unused.pcap")
    await setup_entry(hass, entry)
    await wait_for(hass, lambda: len(events) == 1, what="the anomaly event")
    assert events[0].data["device_id"] == find_device(hass, mac=PLUG).id
    assert events[0].data["mac"] == rotated


async def _running_replay(hass: HomeAssistant, tmp_path: Path) -> tuple[Any, list[dict]]:
    """A looping replay of the plug (the probe keeps running) and the acks it sends."""
    capture = write(tmp_path / "plug.pcap", chat(PLUG, 10, 1000.0, 20))
    entry = replay_entry(capture, speed=1, loop=True, **{CONF_UPDATE_INTERVAL: 0.2})
    await setup_entry(hass, entry)
    coordinator = entry.runtime_data.coordinator
    acks: list[dict] = []
    original = coordinator.probe._on_message

    def spy(msg: Any) -> None:
        # The acks of the test's commands (not of the first-snapshot request).
        if isinstance(msg, Ack) and msg.cmd != "snapshot":
            acks.append({"type": "ack", "cmd": msg.cmd, "ok": msg.ok})
        original(msg)

    coordinator.probe._on_message = spy
    await wait_for(hass, lambda: find_device(hass, mac=PLUG) is not None, what="the plug")
    return entry, acks


async def test_reset_baseline_by_device_reaches_the_probe(
    hass: HomeAssistant, tmp_path: Path
) -> None:
    _entry, acks = await _running_replay(hass, tmp_path)
    plug = find_device(hass, mac=PLUG)
    await hass.services.async_call(DOMAIN, "reset_baseline", {"device_id": plug.id}, blocking=True)
    await wait_for(hass, lambda: bool(acks), what="the probe's ack")
    assert acks == [{"type": "ack", "cmd": "reset_baseline", "ok": True}]


async def test_reset_baseline_by_mac_reaches_the_probe(hass: HomeAssistant, tmp_path: Path) -> None:
    _entry, acks = await _running_replay(hass, tmp_path)
    await hass.services.async_call(DOMAIN, "reset_baseline", {"mac": PLUG.upper()}, blocking=True)
    await wait_for(hass, lambda: bool(acks), what="the probe's ack")
    assert acks == [{"type": "ack", "cmd": "reset_baseline", "ok": True}]


async def test_reset_baseline_refusals(
    hass: HomeAssistant, tmp_path: Path, hass_read_only_user: MockUser
) -> None:
    entry, _acks = await _running_replay(hass, tmp_path)
    hub = find_device(hass, identifier=entry.entry_id)
    cases = [
        ({"mac": "not-a-mac"}, "invalid_mac"),
        ({"mac": "01:00:5e:00:00:fb"}, "invalid_mac"),
        ({"device_id": "nope"}, "device_not_found"),
        ({"device_id": hub.id}, "baseline_device_without_mac"),
    ]
    for data, key in cases:
        with pytest.raises(ServiceValidationError) as err:
            await hass.services.async_call(DOMAIN, "reset_baseline", data, blocking=True)
        assert err.value.translation_key == key, data

    with pytest.raises(Unauthorized):
        await hass.services.async_call(
            DOMAIN,
            "reset_baseline",
            {"mac": PLUG},
            blocking=True,
            context=Context(user_id=hass_read_only_user.id),
        )

    await entry.runtime_data.coordinator.probe.stop()
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(DOMAIN, "reset_baseline", {"mac": PLUG}, blocking=True)
    assert err.value.translation_key == "probe_not_running"

    await hass.config_entries.async_unload(entry.entry_id)
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(DOMAIN, "reset_baseline", {"mac": PLUG}, blocking=True)
    assert err.value.translation_key == "not_loaded"


async def test_repeat_counts_reach_home_assistant_without_new_events(
    hass: HomeAssistant, fake_probe: Any, tmp_path: Path
) -> None:
    """A repeat inside the engine's cooldown raises the known alert's count; no new event."""
    alert = Alert(1001.0, PLUG, "port_scan", "warning", "scan")
    repeat = Alert(1001.0, PLUG, "port_scan", "warning", "scan", count=4)
    devices = [row(PLUG, tx_packets=5)]
    second = _alert_snapshot(2, 1070.0, devices, [], [repeat])
    fake_probe(
        write_script(
            tmp_path / "probe.ndjson",
            [hello(), *_alert_snapshot(1, 1001.0, devices, [alert]), *second, {"fake": "hang"}],
        )
    )
    events = async_capture_events(hass, EVENT_ANOMALY)
    entry = replay_entry(tmp_path / "unused.pcap")
    await setup_entry(hass, entry)
    anomalies = entry.runtime_data.alerts
    await wait_for(
        hass,
        lambda: bool(anomalies.recent) and anomalies.recent[-1].alert.count == 4,
        what="the repeat count",
    )
    assert len(events) == 1
    assert events[0].data["count"] == 1


async def test_snooze_reaches_the_probe(hass: HomeAssistant, tmp_path: Path) -> None:
    _entry, acks = await _running_replay(hass, tmp_path)
    await hass.services.async_call(
        DOMAIN,
        "snooze_anomaly",
        {"mac": PLUG, "kind": "host_scan", "duration": {"hours": 2}},
        blocking=True,
    )
    await wait_for(hass, lambda: bool(acks), what="the probe's ack")
    assert acks == [{"type": "ack", "cmd": "snooze", "ok": True}]
    with pytest.raises(vol.Invalid):
        await hass.services.async_call(
            DOMAIN, "snooze_anomaly", {"mac": PLUG, "kind": "not_a_kind"}, blocking=True
        )


async def test_thresholds_reach_the_probe(hass: HomeAssistant, tmp_path: Path) -> None:
    _entry, acks = await _running_replay(hass, tmp_path)
    await hass.services.async_call(
        DOMAIN,
        "set_thresholds",
        {"mac": PLUG, "values": {"host_scan_hosts": 60, "port_scan_ports": 40}},
        blocking=True,
    )
    await hass.services.async_call(
        DOMAIN, "set_thresholds", {"mac": PLUG, "values": {}}, blocking=True
    )
    await wait_for(hass, lambda: len(acks) == 2, what="the probe's acks")
    assert acks == [{"type": "ack", "cmd": "thresholds", "ok": True}] * 2
    with pytest.raises(vol.Invalid):
        await hass.services.async_call(
            DOMAIN, "set_thresholds", {"mac": PLUG, "values": {"no_such": 1}}, blocking=True
        )
    # inf passed the schema and then killed the probe in int(inf) (issue 16, item 5).
    for value in (math.inf, math.nan, -1.0, 1e13):
        with pytest.raises(vol.Invalid):
            await hass.services.async_call(
                DOMAIN,
                "set_thresholds",
                {"mac": PLUG, "values": {"cooldown": value}},
                blocking=True,
            )
    assert len(acks) == 2  # nothing reached the probe


async def test_a_refusal_from_the_probe_reaches_the_caller(
    hass: HomeAssistant, fake_probe: Any, tmp_path: Path
) -> None:
    """The probe's ``ok: false`` ack becomes a translated error with the probe's reason."""
    devices = [row(PLUG, tx_packets=5)]
    fake_probe(
        write_script(
            tmp_path / "probe.ndjson",
            [
                hello(),
                *_alert_snapshot(1, 1001.0, devices, []),
                {"fake": "answer", "ok": False, "error": "too_many", "message": "too many"},
                {"fake": "hang"},
            ],
        )
    )
    entry = replay_entry(tmp_path / "unused.pcap")
    await setup_entry(hass, entry)
    await wait_for(hass, lambda: find_device(hass, mac=PLUG) is not None, what="the plug")
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(
            DOMAIN, "snooze_anomaly", {"mac": PLUG, "duration": {"hours": 1}}, blocking=True
        )
    assert err.value.translation_key == "command_refused"
    assert err.value.translation_placeholders == {"mac": PLUG, "message": "too many"}
    await hass.config_entries.async_unload(entry.entry_id)


async def test_an_alert_storm_is_rate_limited_towards_home_assistant(
    hass: HomeAssistant, fake_probe: Any, tmp_path: Path
) -> None:
    """Hundreds of alerts in one snapshot: a bounded number of events, the rest kept
    (score, diagnostics) and counted; direction and attribution reach the event."""
    from custom_components.totem.alerts import RATE_LIMIT

    storm = [
        Alert(
            1001.0 + i * 0.01,
            f"02:00:00:00:{i >> 8:02x}:{i & 0xFF:02x}",
            "arp_spoof",
            "warning",
            "claim",
            direction="outbound",
            attribution="doubtful",
        )
        for i in range(300)
    ]
    fake_probe(
        write_script(
            tmp_path / "probe.ndjson",
            [
                hello(),
                *_alert_snapshot(1, 1004.0, [row(PLUG, tx_packets=5)], storm),
                {"fake": "hang"},
            ],
        )
    )
    events = async_capture_events(hass, EVENT_ANOMALY)
    entry = replay_entry(tmp_path / "unused.pcap")
    await setup_entry(hass, entry)
    router = entry.runtime_data.alerts
    await wait_for(hass, lambda: router.rate_limited == 300 - RATE_LIMIT, what="the storm's alerts")
    await hass.async_block_till_done()
    assert len(events) == RATE_LIMIT
    assert len(router.recent) == 200  # kept, bounded
    assert events[0].data["attribution"] == "doubtful"
    assert events[0].data["direction"] == "outbound"


async def test_reload_blocklist_reaches_the_probe_and_refusals_say_why(
    hass: HomeAssistant, tmp_path: Path
) -> None:
    listed = tmp_path / "blocklist.txt"
    listed.write_text("evil-tracker.example\n198.51.100.0/24\n", encoding="utf-8")
    _entry, acks = await _running_replay(hass, tmp_path)
    await hass.services.async_call(DOMAIN, "reload_blocklist", {"path": str(listed)}, blocking=True)
    await wait_for(hass, lambda: bool(acks), what="the probe's ack")
    assert acks == [{"type": "ack", "cmd": "blocklist", "ok": True}]
    with pytest.raises(HomeAssistantError, match="could not load the blocklist"):
        await hass.services.async_call(
            DOMAIN, "reload_blocklist", {"path": str(tmp_path / "missing.txt")}, blocking=True
        )


async def test_a_reload_fires_no_anomaly_event(
    hass: HomeAssistant, fake_probe: Any, tmp_path: Path
) -> None:
    """The Anomaly entity keeps its last event over a reload (and the probe's restart
    it brings): same timestamp, and no state change the logbook would show as
    "detected an event" (it lists a change whose old and new states both exist
    and differ; a change to an event time reads "detected an event"). Home
    Assistant itself marks every entity of an unloaded entry "unavailable"
    ("became unavailable"): that one line is core's, not an event."""
    alert = Alert(1001.0, PLUG, "port_scan", "warning", "scan")
    devices = [row(PLUG, tx_packets=5)]
    fake_probe(
        write_script(
            tmp_path / "first.ndjson",
            [hello(), *_alert_snapshot(1, 1001.0, devices, [alert]), {"fake": "hang"}],
        )
    )
    entry = replay_entry(tmp_path / "unused.pcap")
    await setup_entry(hass, entry)
    entity_id, fired_at = await _plug_anomaly_fired(hass, entry)

    # The restarted probe has no memory of alerts it sent: it sends only new ones.
    fake_probe(
        write_script(
            tmp_path / "second.ndjson",
            [hello(), *_alert_snapshot(1, 1070.0, devices, []), {"fake": "hang"}],
        )
    )
    changes = async_capture_events(hass, "state_changed")
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    reloaded = entry.runtime_data.coordinator
    await wait_for(hass, lambda: reloaded.data is not None, what="the first snapshot after reload")
    await hass.async_block_till_done()

    assert hass.states.get(entity_id).state == fired_at
    shown = [
        (e.data["old_state"].state, e.data["new_state"].state)
        for e in changes
        if e.data["entity_id"] == entity_id
        and e.data["old_state"] is not None
        and e.data["new_state"] is not None
        and e.data["old_state"].state != e.data["new_state"].state
        and e.data["new_state"].state != "unavailable"
    ]
    assert shown == []


async def test_the_alert_score_survives_a_reload(
    hass: HomeAssistant, fake_probe: Any, tmp_path: Path
) -> None:
    """The restarted probe does not send its old alerts again: the score is kept by
    Home Assistant (its store), the same before and after the reload."""
    alert = Alert(1001.0, PLUG, "port_scan", "warning", "scan")
    devices = [row(PLUG, tx_packets=5)]
    fake_probe(
        write_script(
            tmp_path / "first.ndjson",
            [hello(), *_alert_snapshot(1, 1001.0, devices, [alert]), {"fake": "hang"}],
        )
    )
    entry = replay_entry(tmp_path / "unused.pcap")
    await setup_entry(hass, entry)
    registry = er.async_get(hass)
    unique_id = f"{entry.entry_id}-{PLUG}-alert_score"
    await wait_for(
        hass,
        lambda: registry.async_get_entity_id("sensor", DOMAIN, unique_id) is not None,
        what="the plug's alert score sensor",
    )
    score_id = _entity_id(hass, "sensor", unique_id)
    weight = str(SEVERITY_WEIGHT["warning"])
    await wait_for(
        hass,
        lambda: getattr(hass.states.get(score_id), "state", None) == weight,
        what="the plug's alert score",
    )

    fake_probe(
        write_script(
            tmp_path / "second.ndjson",
            [hello(), *_alert_snapshot(1, 1070.0, devices, []), {"fake": "hang"}],
        )
    )
    assert await hass.config_entries.async_reload(entry.entry_id)
    reloaded = entry.runtime_data.coordinator
    await wait_for(hass, lambda: reloaded.data is not None, what="the first snapshot after reload")
    await hass.async_block_till_done()
    assert entry.runtime_data.alerts.score(PLUG, 1070.0) == SEVERITY_WEIGHT["warning"]
    await wait_for(
        hass,
        lambda: getattr(hass.states.get(score_id), "state", None) == weight,
        what="the plug's alert score after the reload",
    )


# The stopped instance's registries leave their daily clean-up timers behind.
@pytest.mark.parametrize("expected_lingering_timers", [True])
async def test_a_home_assistant_restart_fires_no_anomaly_event_and_reaps_the_probe(
    hass: HomeAssistant, hass_storage: dict[str, Any], fake_probe: Any, tmp_path: Path
) -> None:
    """A full restart (this Home Assistant stops, a new one starts on the same storage):
    the old probe is gone and reaped, the Anomaly entity comes back with the time of its
    last alert and never changes without a new one, and the alert score is kept."""
    alert = Alert(1001.0, PLUG, "port_scan", "warning", "scan")
    devices = [row(PLUG, tx_packets=5)]
    fake_probe(
        write_script(
            tmp_path / "first.ndjson",
            [hello(), *_alert_snapshot(1, 1001.0, devices, [alert]), {"fake": "hang"}],
        )
    )
    entry = replay_entry(tmp_path / "unused.pcap")
    await setup_entry(hass, entry)
    entity_id, fired_at = await _plug_anomaly_fired(hass, entry)
    unique_id = f"{entry.entry_id}-{PLUG}-anomaly"
    pid = entry.runtime_data.coordinator.probe.pid
    assert pid is not None

    # The new instance's probe has no memory of the alert: it sends none.
    fake_probe(
        write_script(
            tmp_path / "second.ndjson",
            [hello(), *_alert_snapshot(1, 1070.0, devices, []), {"fake": "hang"}],
        )
    )
    async with AsyncExitStack() as stack:
        hass2, again = await restart_home_assistant(hass, entry, stack)
        # Stopped and reaped: no process, not even a zombie, is left of the old probe.
        assert not Path(f"/proc/{pid}").exists()
        changes = async_capture_events(hass2, "state_changed")
        anomalies = async_capture_events(hass2, EVENT_ANOMALY)
        again.add_to_hass(hass2)
        assert await hass2.config_entries.async_setup(again.entry_id)
        await hass2.async_block_till_done()
        coordinator = again.runtime_data.coordinator
        await wait_for(hass2, lambda: coordinator.data is not None, what="the new snapshot")
        await hass2.async_block_till_done()

        assert er.async_get(hass2).async_get_entity_id("event", DOMAIN, unique_id) == entity_id
        assert hass2.states.get(entity_id).state == fired_at
        assert [e.data["new_state"].state for e in changes if e.data["entity_id"] == entity_id
                and e.data["new_state"] is not None] == [fired_at]  # fmt: skip
        assert anomalies == []
        assert again.runtime_data.alerts.score(PLUG, 1070.0) == SEVERITY_WEIGHT["warning"]
        await hass2.config_entries.async_unload(again.entry_id)
        await hass2.async_stop()
