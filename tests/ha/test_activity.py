"""The device activity log on a replayed capture: a camera that uploads, and its power switch.

The real probe replays a small capture written here; an input_boolean linked to
the camera's MAC in the options plays the camera's power switch. The figures
each event carries are checked against the capture itself, over the window the
event says it measured.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from homeassistant.core import Event, HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component

from custom_components.totem.activity import EVENT_DEVICE_ACTIVITY
from custom_components.totem.alerts import EVENT_ANOMALY
from custom_components.totem.const import CONF_ACTIVITY_LINKS, CONF_UPDATE_INTERVAL, DOMAIN
from custom_components.totem.correlation import (
    KIND_BURST,
    KIND_OFF_UPLOAD,
    OFF_UPLOAD_FLOOR,
    WINDOW,
    Correlator,
    Sample,
    off_like,
)
from custom_components.totem.diagnostics import async_get_config_entry_diagnostics
from custom_components.totem.engine.sources import Packet, read_captures
from tests.traffic.synth import dns_query, eth, ipv4, udp

from .captures import ROUTER, ROUTER_IP, mac_bytes, write
from .conftest import find_device, replay_entry, setup_entry, wait_for

CAMERA = "3c:84:6a:00:00:20"
CAMERA_IP = bytes([192, 168, 1, 20])
CLOUD_IP = bytes([203, 0, 113, 10])
SWITCH = "input_boolean.camera_power"
START = 1000.0
UPLOAD_FROM = START + 600.0  # quiet for ten minutes, then streaming
UPLOAD_TO = START + 1200.0
HALF_US = 5e-7
SPEED = 120.0  # two minutes of capture per second


def camera_capture(path: Path) -> tuple[Path, list[Packet], dict[float, str]]:
    """Heartbeats every 5 s; then an upload of ~1.2 MB a minute and a new cloud name
    looked up every 20 s. Returns the file, its packets as read back (the file keeps
    microseconds) and the names looked up by time."""
    cam = mac_bytes(CAMERA)
    packets: list[Packet] = []
    lookups: dict[bytes, str] = {}

    def add(ts: float, frame: bytes) -> None:
        packets.append((ts, len(frame), frame, 1))

    for i in range(int((UPLOAD_TO - START) / 5)):
        ts = START + i * 5 + 0.003  # no two frames share a time: snapshots fall between
        add(ts, eth(ROUTER, cam, 0x0800, ipv4(CAMERA_IP, ROUTER_IP, 17, udp(5000, 9999, b"h"))))
    for i in range(int((UPLOAD_TO - UPLOAD_FROM) * 20)):
        ts = UPLOAD_FROM + i * 0.05
        payload = udp(40000, 443, bytes(1000))
        add(ts, eth(ROUTER, cam, 0x0800, ipv4(CAMERA_IP, CLOUD_IP, 17, payload)))
        if i % 10 == 0:
            ack = udp(443, 40000, b"ok")
            add(ts + 0.01, eth(cam, ROUTER, 0x0800, ipv4(CLOUD_IP, CAMERA_IP, 17, ack)))
        if i % 400 == 0:
            name = f"clip-{i // 400}.camcloud.example"
            query = udp(41000 + i // 400, 53, dns_query(i // 400 + 1, name))
            frame = eth(ROUTER, cam, 0x0800, ipv4(CAMERA_IP, ROUTER_IP, 17, query))
            add(ts + 0.02, frame)
            lookups[frame] = name
    write(path, packets)
    # Times as the file holds them (microseconds), as the probe reads them.
    stored = [
        (ts, wirelen, bytes(frame), link)
        for batch in read_captures([path])
        for ts, wirelen, frame, link in batch
    ]
    at = {frame: ts for ts, _, frame, _ in stored}
    return path, stored, {at[frame]: name for frame, name in lookups.items()}


def sent_between(packets: list[Packet], start: float, end: float) -> tuple[int, int]:
    """Bytes the camera sent and received with start < time <= end (snapshot counters).

    Half a microsecond of slack: the file keeps microseconds, the engine's clock is
    a float sum that may land a hair below the packet's time."""
    cam = mac_bytes(CAMERA)
    start, end = start + HALF_US, end + HALF_US
    up = sum(p[1] for p in packets if start < p[0] <= end and p[2][6:12] == cam)
    down = sum(p[1] for p in packets if start < p[0] <= end and p[2][0:6] == cam)
    return up, down


async def _switch(hass: HomeAssistant, initial: bool) -> None:
    assert await async_setup_component(
        hass,
        "input_boolean",
        {"input_boolean": {"camera_power": {"name": "Camera power", "initial": initial}}},
    )
    await hass.async_block_till_done()


def _collect(hass: HomeAssistant, event_type: str) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []

    def keep(event: Event) -> None:
        seen.append(dict(event.data))

    hass.bus.async_listen(event_type, keep)
    return seen


async def test_switching_the_uploading_camera_off_logs_traffic_and_raises_mismatch(
    hass: HomeAssistant, tmp_path: Path
) -> None:
    capture, packets, lookups = camera_capture(tmp_path / "camera.pcap")
    await _switch(hass, initial=True)
    activity = _collect(hass, EVENT_DEVICE_ACTIVITY)
    anomalies = _collect(hass, EVENT_ANOMALY)
    entry = replay_entry(
        capture,
        speed=SPEED,
        **{CONF_UPDATE_INTERVAL: 0.1, CONF_ACTIVITY_LINKS: {SWITCH: CAMERA.upper()}},
    )
    await setup_entry(hass, entry)
    coordinator = entry.runtime_data.coordinator

    def data_time() -> float:
        return coordinator.data.time if coordinator.data is not None else 0.0

    # Streaming for a minute already, with the switch on: no contradiction yet.
    await wait_for(hass, lambda: data_time() >= UPLOAD_FROM + 70, what="upload under way")
    assert not [a for a in anomalies if a["kind"] == "activity_mismatch"]
    await hass.services.async_call("input_boolean", "turn_off", {"entity_id": SWITCH}, True)
    await wait_for(hass, lambda: bool(activity), what="activity event")
    await wait_for(
        hass,
        lambda: any(a["kind"] == "activity_mismatch" for a in anomalies),
        what="activity mismatch",
    )

    event = activity[0]
    device = find_device(hass, mac=CAMERA)
    assert event["entity_id"] == SWITCH
    assert (event["old_state"], event["new_state"]) == ("on", "off")
    assert event["mac"] == CAMERA
    assert event["device_id"] == device.id
    # The windows are snapshot times around the change, a minute each at least...
    start, change, end = event["window_start"], event["window_change"], event["window_end"]
    assert UPLOAD_FROM + 60 < change < UPLOAD_TO - WINDOW
    assert change - start >= WINDOW / 2
    assert end - change >= WINDOW
    # ...and the bytes are the capture's own, to the byte.
    assert (event["bytes_up_before"], event["bytes_down_before"]) == sent_between(
        packets, start, change
    )
    assert (event["bytes_up_after"], event["bytes_down_after"]) == sent_between(
        packets, change, end
    )
    assert event["bytes_up_after"] > OFF_UPLOAD_FLOOR
    expected_new = sorted(
        name for ts, name in lookups.items() if change + HALF_US < ts <= end + HALF_US
    )
    assert expected_new
    assert event["new_destinations"] == expected_new

    mismatch = next(a for a in anomalies if a["kind"] == "activity_mismatch")
    assert mismatch["mac"] == CAMERA
    assert mismatch["device_id"] == device.id
    assert mismatch["severity"] == "warning"
    assert "Camera power is off" in mismatch["message"]
    assert " MB " in mismatch["message"]

    # The device page shows the link: the minute after the change, up and down.
    sensor = er.async_get(hass).async_get_entity_id(
        "sensor", DOMAIN, f"{entry.entry_id}-{CAMERA}-traffic_at_last_change"
    )
    assert sensor is not None
    await wait_for(hass, lambda: hass.states.get(sensor).state not in ("unknown", "unavailable"))
    state = hass.states.get(sensor)
    # Shown in kB (the suggested unit).
    assert round(float(state.state) * 1000) == event["bytes_up_after"] + event["bytes_down_after"]
    assert state.attributes["changed_entity"] == SWITCH
    assert state.attributes["new_state"] == "off"
    await wait_for(hass, lambda: coordinator.finished, what="end of replay")

    # Restart: the log comes back from the Store, in diagnostics, redacted.
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    monitor = entry.runtime_data.activity
    assert monitor is not None
    assert [r.to_json()["after"] for r in monitor.log] == [
        {
            "start": change,
            "end": end,
            "bytes_up": event["bytes_up_after"],
            "bytes_down": event["bytes_down_after"],
        }
    ]
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    logged = diagnostics["activity"]["log"]
    assert len(logged) == 1
    assert logged[0]["entity_id"] == SWITCH
    assert logged[0]["mac"] == "**REDACTED**"
    assert logged[0]["after"]["bytes_up"] == event["bytes_up_after"]
    assert CAMERA not in str(diagnostics)
    assert diagnostics["entry"]["options"][CONF_ACTIVITY_LINKS] == "**REDACTED**"
    coordinator = entry.runtime_data.coordinator
    await wait_for(hass, lambda: coordinator.data is not None and coordinator.last_update_success)
    await wait_for(hass, lambda: hass.states.get(sensor).state not in ("unknown", "unavailable"))
    assert round(float(hass.states.get(sensor).state) * 1000) == (
        event["bytes_up_after"] + event["bytes_down_after"]
    )
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_the_same_upload_with_the_switch_on_is_no_mismatch(
    hass: HomeAssistant, tmp_path: Path
) -> None:
    capture, _packets, _lookups = camera_capture(tmp_path / "camera.pcap")
    await _switch(hass, initial=True)
    anomalies = _collect(hass, EVENT_ANOMALY)
    entry = replay_entry(
        capture,
        speed=SPEED,
        **{CONF_UPDATE_INTERVAL: 0.1, CONF_ACTIVITY_LINKS: {SWITCH: CAMERA}},
    )
    await setup_entry(hass, entry)
    coordinator = entry.runtime_data.coordinator
    await wait_for(hass, lambda: coordinator.finished, what="end of replay")

    assert not [a for a in anomalies if a["kind"] == "activity_mismatch"]
    # It did watch the upload: streaming minutes were learned as what "on" looks like.
    stats = entry.runtime_data.activity.correlator.stats[(SWITCH, "on")]
    assert max(stats.values) > OFF_UPLOAD_FLOOR
    assert min(stats.values) < 1000  # and the quiet minutes before it


# -- the correlation rules, on the data clock --------------------------------


def _feed(correlator: Correlator, start: float, minutes: int, per_minute: int, tx: int = 0) -> int:
    for minute in range(1, minutes + 1):
        tx += per_minute
        correlator.observe(
            start + minute * 60, 0.0, {CAMERA: Sample(start + minute * 60, tx, 0, ())}
        )
    return tx


def test_a_burst_with_no_state_change_at_a_quiet_hour_is_reported_once() -> None:
    correlator = Correlator(hour_of=lambda _t: 3)
    correlator.set_links({SWITCH: CAMERA}, {SWITCH: "on"})
    tx = _feed(correlator, 0.0, 40, 2_000)  # a quiet 3 o'clock, learned
    tx += 5_000_000
    t = 41 * 60.0
    _, found = correlator.observe(t, 0.0, {CAMERA: Sample(t, tx, 0, ())})
    assert [(m.kind, m.mac) for m in found] == [(KIND_BURST, CAMERA)]
    tx += 5_000_000
    t += 60
    _, again = correlator.observe(t, 0.0, {CAMERA: Sample(t, tx, 0, ())})
    assert again == []  # once per hour


def test_a_burst_right_after_a_state_change_is_activity_not_mismatch() -> None:
    correlator = Correlator(hour_of=lambda _t: 3)
    correlator.set_links({SWITCH: CAMERA}, {SWITCH: "off"})
    tx = _feed(correlator, 0.0, 40, 2_000)
    correlator.state_changed(SWITCH, "off", "on", 0.0, 0.0)
    tx += 5_000_000
    t = 41 * 60.0
    _, found = correlator.observe(t, 0.0, {CAMERA: Sample(t, tx, 0, ())})
    assert found == []


def test_heavy_upload_while_off_is_flagged_once_and_not_learned_as_normal() -> None:
    correlator = Correlator(hour_of=lambda _t: 12)
    correlator.set_links({"switch.plug": CAMERA}, {"switch.plug": "off"})
    _, found = correlator.observe(60.0, 0.0, {CAMERA: Sample(60.0, 0, 0, ())})
    tx = 600_000
    _, found = correlator.observe(120.0, 0.0, {CAMERA: Sample(120.0, tx, 0, ())})
    assert [m.kind for m in found] == [KIND_OFF_UPLOAD]
    assert ("switch.plug", "off") not in correlator.stats
    _, found = correlator.observe(180.0, 0.0, {CAMERA: Sample(180.0, 2 * tx, 0, ())})
    assert found == []  # one report per time the plug was switched off


def test_privacy_mode_on_means_quiet() -> None:
    assert off_like("switch.camera_privacy_mode", "on")
    assert not off_like("switch.camera_privacy_mode", "off")
    assert off_like("switch.camera_power", "off")
    assert not off_like("switch.camera_power", "on")


def test_an_off_state_that_is_known_to_be_busy_is_judged_by_its_own_level() -> None:
    correlator = Correlator(hour_of=lambda _t: 12)
    # Learned: this entity's "off" (a relay; the plug itself stays online) sends ~2 MB a
    # minute. The same again is no contradiction; ten times more is.
    correlator.load_learned(
        {"stats": [{"entity_id": "switch.plug", "state": "off", "values": [2e6] * 10}]}
    )
    correlator.set_links({"switch.plug": CAMERA}, {"switch.plug": "off"})
    correlator.observe(60.0, 0.0, {CAMERA: Sample(60.0, 0, 0, ())})
    _, found = correlator.observe(120.0, 0.0, {CAMERA: Sample(120.0, 2_100_000, 0, ())})
    assert found == []
    _, found = correlator.observe(180.0, 0.0, {CAMERA: Sample(180.0, 22_100_000, 0, ())})
    assert [(m.kind, m.usual) for m in found] == [(KIND_OFF_UPLOAD, 2e6)]


async def test_a_mismatch_reported_before_a_restart_is_not_reported_again(
    hass: HomeAssistant, tmp_path: Path
) -> None:
    """The camera uploads while its switch is off; Home Assistant restarts (a reload)
    and the replay shows the same upload again with the switch still off: the same
    episode, already reported, so no second mismatch."""
    capture, _packets, _lookups = camera_capture(tmp_path / "camera.pcap")
    await _switch(hass, initial=False)
    anomalies = _collect(hass, EVENT_ANOMALY)
    entry = replay_entry(
        capture,
        speed=SPEED,
        **{CONF_UPDATE_INTERVAL: 0.1, CONF_ACTIVITY_LINKS: {SWITCH: CAMERA}},
    )
    await setup_entry(hass, entry)

    def mismatches() -> list[dict[str, Any]]:
        return [a for a in anomalies if a["kind"] == "activity_mismatch"]

    coordinator = entry.runtime_data.coordinator
    await wait_for(hass, lambda: coordinator.finished, what="end of the first replay")
    assert len(mismatches()) == 1
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    coordinator = entry.runtime_data.coordinator
    await wait_for(hass, lambda: coordinator.finished, what="end of the replay after reload")
    assert len(mismatches()) == 1
    # Switched on and off again: a new episode, reported on its own.
    await hass.services.async_call("input_boolean", "turn_on", {"entity_id": SWITCH}, True)
    await hass.services.async_call("input_boolean", "turn_off", {"entity_id": SWITCH}, True)
    correlator = entry.runtime_data.activity.correlator
    assert SWITCH not in correlator.learned_json()["reported"]["episodes"]
    assert await hass.config_entries.async_unload(entry.entry_id)


def test_reported_episodes_and_bursts_survive_a_restart_until_the_state_changes() -> None:
    correlator = Correlator(hour_of=lambda _t: 12)
    correlator.set_links({"switch.plug": CAMERA}, {"switch.plug": "off"})
    correlator.observe(60.0, 0.0, {CAMERA: Sample(60.0, 0, 0, ())})
    _, found = correlator.observe(120.0, 0.0, {CAMERA: Sample(120.0, 600_000, 0, ())})
    assert [m.kind for m in found] == [KIND_OFF_UPLOAD]
    saved = correlator.learned_json()
    assert saved["reported"]["episodes"] == [{"entity_id": "switch.plug", "state": "off"}]

    # Restarted with the plug still off: the same episode, silent.
    again = Correlator(hour_of=lambda _t: 12)
    again.load_learned(saved)
    again.set_links({"switch.plug": CAMERA}, {"switch.plug": "off"})
    again.observe(1000.0, 0.0, {CAMERA: Sample(1000.0, 0, 0, ())})
    _, found = again.observe(1060.0, 0.0, {CAMERA: Sample(1060.0, 600_000, 0, ())})
    assert found == []
    # Still carried into the next save, until the plug changes state.
    assert again.learned_json()["reported"]["episodes"] == saved["reported"]["episodes"]

    # Restarted after the plug came on and went off again: a new episode, reported.
    fresh = Correlator(hour_of=lambda _t: 12)
    fresh.load_learned(saved)
    fresh.set_links({"switch.plug": CAMERA}, {"switch.plug": "on"})
    fresh.observe(1000.0, 0.0, {CAMERA: Sample(1000.0, 0, 0, ())})
    fresh.state_changed("switch.plug", "on", "off", 0.0, 1.0)
    _, found = fresh.observe(1060.0, 0.0, {CAMERA: Sample(1060.0, 0, 0, ())})
    _, found = fresh.observe(1120.0, 0.0, {CAMERA: Sample(1120.0, 600_000, 0, ())})
    assert [m.kind for m in found] == [KIND_OFF_UPLOAD]


def test_a_burst_reported_this_hour_is_not_reported_again_after_a_restart() -> None:
    correlator = Correlator(hour_of=lambda _t: 3)
    correlator.set_links({SWITCH: CAMERA}, {SWITCH: "on"})
    tx = _feed(correlator, 0.0, 40, 2_000)
    tx += 5_000_000
    _, found = correlator.observe(41 * 60.0, 0.0, {CAMERA: Sample(41 * 60.0, tx, 0, ())})
    assert [m.kind for m in found] == [KIND_BURST]
    again = Correlator(hour_of=lambda _t: 3)
    again.load_learned(correlator.learned_json())
    again.set_links({SWITCH: CAMERA}, {SWITCH: "on"})
    again.observe(42 * 60.0, 0.0, {CAMERA: Sample(42 * 60.0, 0, 0, ())})
    _, found = again.observe(43 * 60.0, 0.0, {CAMERA: Sample(43 * 60.0, 5_000_000, 0, ())})
    assert found == []  # the same hour of the same day


def test_a_damaged_list_of_reports_loses_only_itself() -> None:
    correlator = Correlator(hour_of=lambda _t: 12)
    correlator.load_learned(
        {
            "stats": [{"entity_id": "switch.plug", "state": "off", "values": [2e6] * 10}],
            "reported": {"episodes": [{"entity_id": "switch.plug"}], "bursts": {"x": 3}},
        }
    )
    assert correlator.stats[("switch.plug", "off")].learned
    assert correlator.learned_json()["reported"] == {"episodes": [], "bursts": {}}
