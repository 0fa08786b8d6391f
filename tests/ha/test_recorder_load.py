"""Recorder load: 50 busy devices for 10 simulated minutes with default options."""

from __future__ import annotations

from pathlib import Path

from homeassistant.const import EVENT_STATE_CHANGED
from homeassistant.core import Event, HomeAssistant

from .conftest import replay_entry, setup_entry, wait_for, write_script
from .messages import hang, hello, row, snapshot

DEVICES = 50
INTERVAL = 10.0  # the default update interval
MINUTES = 10


def _busy_home(step: int) -> list:
    t = 1000.0 + step * INTERVAL
    return [
        row(
            f"a4:cf:12:00:{n // 256:02x}:{n % 256:02x}",
            name=f"Device {n}",
            # Every device sends and receives on every snapshot, at different rates.
            tx_bytes=step * 1000 * (n + 1),
            rx_bytes=step * 3000 * (n + 1),
            tx_packets=step * 10,
            rx_packets=step * 20,
            remote_hosts=1 + step % 5,
            active_flows=2 + step % 3,
            last_seen=t - 0.5,
            ips=[f"192.168.1.{n + 10}"],
        )
        for n in range(DEVICES)
    ]


async def test_fifty_devices_cost_at_most_300_state_writes_per_minute(
    hass: HomeAssistant, tmp_path: Path, fake_probe
) -> None:
    steps = int(MINUTES * 60 / INTERVAL)
    messages = [hello()]
    for step in range(steps + 1):
        devices = _busy_home(step)
        messages.append(
            snapshot(step + 1, 1000.0 + step * INTERVAL, devices, packets=step * 1500 * DEVICES)
        )
    messages.append(hang())
    fake_probe(write_script(tmp_path / "probe.ndjson", messages))

    writes: list[Event] = []
    entry = replay_entry(tmp_path / "x.pcap")  # default options
    hass.bus.async_listen(EVENT_STATE_CHANGED, writes.append)
    await setup_entry(hass, entry)
    coordinator = entry.runtime_data.coordinator
    await wait_for(
        hass,
        lambda: coordinator.data is not None and coordinator.data.time >= 1000 + steps * INTERVAL,
        what="ten simulated minutes",
    )
    assert len(coordinator.data.devices) == DEVICES
    # Steady state: leave out the writes that created the entities.
    created = [e for e in writes if e.data["old_state"] is None]
    changes = len(writes) - len(created)
    per_minute = changes / MINUTES
    print(
        f"\nstate writes: {changes} in {MINUTES} simulated minutes = {per_minute:.0f}/min "
        f"for {DEVICES} devices ({len(created)} entity creations)"
    )
    assert per_minute <= 300
    # The budget must not come from showing nothing: counters did move.
    assert changes > DEVICES * 2 * (MINUTES - 1)
    await hass.config_entries.async_unload(entry.entry_id)
