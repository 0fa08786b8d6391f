"""Entities a user can trust: no logbook churn, "Last seen" never in the future.

The logbook shows a state change when the state itself changed and the
entity is not continuous (no unit of measurement, no state class): Home
Assistant's own rule, ``logbook.helpers._is_state_filtered``, decides here.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from homeassistant.components.logbook.helpers import _is_state_filtered
from homeassistant.const import EVENT_STATE_CHANGED
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util

from custom_components.totem.const import DOMAIN
from custom_components.totem.engine.model import DeviceRow
from custom_components.totem.options import DEMO_CAPTURE

from .conftest import replay_entry, setup_entry, wait_for, write_script
from .messages import hang, hello, row, snapshot

T0 = 1000.0
STEP = 10.0  # the default snapshot interval
MINUTES = 10


def logbook_counter(hass: HomeAssistant) -> Counter[str]:
    """Logbook lines of TOTEM's entities, by entity key (the unique id's last part)."""
    lines: Counter[str] = Counter()
    registry = er.async_get(hass)

    @callback
    def changed(event: Event) -> None:
        old, new = event.data["old_state"], event.data["new_state"]
        if old is None or new is None or _is_state_filtered(new, old):
            return
        if old.state == "unknown":
            return  # an entity's first value (when it comes depends on timing), not churn
        entry = registry.async_get(new.entity_id)
        if entry is not None and entry.platform == DOMAIN:
            lines[entry.unique_id.rsplit("-", 1)[-1]] += 1

    hass.bus.async_listen(EVENT_STATE_CHANGED, changed)
    return lines


def _home(step: int) -> list[DeviceRow]:
    """Six devices that talk on every snapshot; two of them stream at similar rates that
    swing by 15% from one snapshot to the next (which one leads changes every time)."""
    t = T0 + step * STEP
    # Per 10 s: 1.15 MB then 0.85 MB for the TV, the other way round for the laptop.
    tv = 1_000_000 * step + (150_000 if step % 2 else 0)
    laptop = 1_000_000 * step + (0 if step % 2 else 150_000)
    devices = [
        row("a4:cf:12:00:00:01", type="tv", name="TV", tx_bytes=int(tv), tx_packets=step + 1),
        row(
            "3c:22:fb:00:00:02",
            type="laptop",
            name="Laptop",
            tx_bytes=int(laptop),
            tx_packets=step + 1,
        ),
    ]
    for n in range(4):
        devices.append(row(f"50:c7:bf:00:00:1{n}", tx_bytes=100 * (step + 1), tx_packets=step + 1))
    for device in devices:
        device.last_seen = t
    return devices


async def test_no_logbook_churn_over_ten_minutes(
    hass: HomeAssistant, tmp_path: Path, fake_probe: Any
) -> None:
    steps = MINUTES * 60 // int(STEP)
    lines = [hello()] + [snapshot(s + 1, T0 + s * STEP, _home(s)) for s in range(steps + 1)]
    fake_probe(write_script(tmp_path / "probe.ndjson", [*lines, hang()]))
    counted = logbook_counter(hass)
    entry = replay_entry(tmp_path / "x.pcap")
    await setup_entry(hass, entry)
    coordinator = entry.runtime_data.coordinator
    end = T0 + steps * STEP
    await wait_for(hass, lambda: coordinator.data is not None and coordinator.data.time == end)
    await hass.async_block_till_done()
    # The entities exist and did update: the rates changed on every snapshot.
    assert hass.states.get("sensor.totem_replay_x_pcap_top_talker") is not None
    # Nothing went offline or came back, no alert, no block: nothing to tell.
    # (Before: 60 "Last seen" lines, one per device and minute, and the Top talker
    # flipping on every snapshot, 60 more.)
    assert sum(counted.values()) == 0, counted
    await hass.config_entries.async_unload(entry.entry_id)


async def test_last_seen_is_never_ahead_of_now_after_a_restart(
    hass: HomeAssistant, tmp_path: Path, fake_probe: Any
) -> None:
    """A looping replay restarts its clock: a device seen late in the first run must not
    show as seen in the future once the probe starts over at the capture's beginning."""
    mac = "50:c7:bf:00:00:01"
    first = [hello(), snapshot(1, 1290.0, [row(mac, last_seen=1290.0, tx_packets=3)]), hang()]
    fake_probe(write_script(tmp_path / "first.ndjson", first))
    entry = replay_entry(tmp_path / "x.pcap")
    await setup_entry(hass, entry)
    coordinator = entry.runtime_data.coordinator
    await wait_for(hass, lambda: coordinator.data is not None and mac in coordinator.data.devices)
    await hass.config_entries.async_unload(entry.entry_id)

    # The probe starts again at the capture's first second; the device has not spoken yet.
    again = [hello(), snapshot(1, 1005.0, [row("a4:cf:12:00:00:02", last_seen=1005.0)]), hang()]
    fake_probe(write_script(tmp_path / "again.ndjson", again))
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    coordinator = entry.runtime_data.coordinator
    await wait_for(hass, lambda: coordinator.data is not None and coordinator.data.time == 1005.0)
    view = coordinator.data.devices[mac]
    assert view.last_seen is not None
    assert view.last_seen <= dt_util.utcnow().timestamp()
    assert not view.online
    await hass.config_entries.async_unload(entry.entry_id)


async def test_demo_logbook_lines_per_hour(hass: HomeAssistant) -> None:
    """The demo home (its 5-minute capture looped) for one hour of its clock, through the
    real probe, 50 times faster than real time; snapshots every 10 s of the capture's
    clock as in the demo. Prints the logbook lines per entity kind."""
    speed = 50.0
    entry = replay_entry(DEMO_CAPTURE, speed=speed, loop=True, update_interval=STEP / speed)
    counted = logbook_counter(hass)
    await setup_entry(hass, entry)
    coordinator = entry.runtime_data.coordinator
    await wait_for(hass, lambda: coordinator.data is not None, timeout=60)
    start = coordinator.data.time
    await wait_for(hass, lambda: coordinator.data.time - start >= 3600, timeout=400, what="an hour")
    total = sum(counted.values())
    print(f"demo logbook lines in one hour: {total} {dict(counted)}")
    await hass.config_entries.async_unload(entry.entry_id)
    # The demo has one scripted event an hour or so (a device joining, an alert);
    # devices going offline and back are real news. Per-minute churn is not.
    assert counted["last_seen"] == 0
    assert counted["top_talkers"] <= 60
