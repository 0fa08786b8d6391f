"""Load of remote probes on Home Assistant: 10 probes x 200 devices at the default interval.

Not a test (a benchmark: ``scripts/bench-remote``). A publisher process plays ten
probes on a real Mosquitto (retained status and hello, a snapshot of 200 busy devices
each every 10 s); Home Assistant's real MQTT integration and ten TOTEM remote-probe
entries take them. Measured after every device is admitted: the CPU time of this
process (Home Assistant's event loop and its executor; the publisher and the broker are
other processes) per wall second, and state writes per minute. Then command round
trips: the publisher answers every command on ``totem/NAME/ack`` as the real probe's
link does (signature checked with the probe's secret, refused ones acked with the
reason), so Home Assistant's ``request`` (sign, publish QoS 1, broker, verify, ack,
match) is timed under the same load: sequential per probe, then all probes at once.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Generator
from pathlib import Path

import pytest
from homeassistant.const import EVENT_STATE_CHANGED
from homeassistant.core import Event, HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.totem.const import (
    CONF_PROBE_NAME,
    CONF_PROBE_SECRET,
    CONF_SOURCE_TYPE,
    DEFAULT_OPTIONS,
    DOMAIN,
    SOURCE_REMOTE,
)
from custom_components.totem.engine.protocol import RequestSnapshot
from tests.mqtt.conftest import ACCOUNTS, ROOT, Broker, run_broker

from .conftest import wait_for

PROBES = int(os.environ.get("TOTEM_BENCH_PROBES", "10"))
DEVICES = int(os.environ.get("TOTEM_BENCH_DEVICES", "200"))
INTERVAL = 10.0  # the default update interval
MEASURE = float(os.environ.get("TOTEM_BENCH_SECONDS", "120"))
ROUND_TRIPS = 20  # sequential requests per probe
SECRET = "0" * 64

PUBLISHER = """
import json, sys, time
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from custom_components.totem.engine.model import DeviceRow, Snapshot
from custom_components.totem.engine.mqtt_link import Verifier
from custom_components.totem.engine.messages import Ack, Hello, SnapshotMessage
from custom_components.totem.engine.protocol import Reply
port, probes, devices = (int(a) for a in sys.argv[1:4])
interval = float(sys.argv[4])
verifiers = {f"p{p}": Verifier(f"p{p}", sys.argv[6].encode()) for p in range(probes)}
def on_command(client, _userdata, message):
    # As the real probe's link (mqtt_link.Link._on_message + the engine's Control):
    # verify, then one ack per command on totem/NAME/ack, QoS 1.
    name = message.topic.split("/")[1]
    verifier = verifiers.get(name)
    if verifier is None:
        return
    got = verifier.check(bytes(message.payload))
    if isinstance(got, Reply):
        ack = Ack(cmd="?", ok=False, error=got.error, message=got.message)
    else:
        ident = got.get("id")
        cmd = str(got.get("cmd"))
        # Home Assistant reads each probe's blocks every update ("blocks"); the probe's
        # enforcer answers with its list (none here), as remote_enforce.blocks_data does.
        data = {"blocks": []} if cmd == "blocks" else None
        ack = Ack(cmd=cmd, id=ident if isinstance(ident, int) else None, data=data)
    client.publish(f"totem/{name}/ack", ack.to_line(), qos=1)
c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-publisher")
c.username_pw_set("sloppy", sys.argv[5])
c.on_message = on_command
c.on_connect = lambda client, *_: client.subscribe("totem/+/command", qos=1)
c.connect("127.0.0.1", port)
c.loop_start()
for p in range(probes):
    c.publish(f"totem/p{p}/status", "online", qos=1, retain=True)
    c.publish(f"totem/p{p}/hello", Hello(source="bench", pid=p).to_line(), qos=1, retain=True)
step = 0
while True:
    now = time.time()
    step += 1
    for p in range(probes):
        rows = [DeviceRow(mac=f"a4:cf:{p:02x}:00:{n // 256:02x}:{n % 256:02x}",
                          name=f"P{p} device {n}",
                          ips=[f"10.{p}.{n // 256}.{n % 256 + 1}"], sent_ip=True,
                          first_seen=now - 600, last_seen=now - 1,
                          tx_bytes=step * 1000 * (n + 1), rx_bytes=step * 3000 * (n + 1),
                          tx_packets=step * 10, rx_packets=step * 20,
                          remote_hosts=1 + step % 5, active_flows=2 + step % 3)
                for n in range(devices)]
        snap = Snapshot(step * 1500 * devices, step * 4000 * devices, now - 600, now, rows, [])
        msg = SnapshotMessage(seq=step, wall_time=now, snapshot=snap)
        c.publish(f"totem/p{p}/snapshot", msg.to_line())
    time.sleep(max(0.0, interval - (time.time() - now)))
"""


@pytest.fixture
def broker(tmp_path: Path, socket_enabled: None) -> Generator[Broker]:
    with run_broker(tmp_path) as b:
        yield b


async def test_load_of_remote_probes(hass: HomeAssistant, broker: Broker) -> None:
    config_yaml = Path(hass.config.path("configuration.yaml"))
    config_yaml.parent.mkdir(parents=True, exist_ok=True)
    config_yaml.touch()
    mqtt_entry = MockConfigEntry(
        domain="mqtt",
        data={"broker": "127.0.0.1", "port": broker.port, "username": "ha",
              "password": ACCOUNTS["ha"]},
    )  # fmt: skip
    mqtt_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mqtt_entry.entry_id)
    publisher = subprocess.Popen(
        [sys.executable, "-c", PUBLISHER, str(broker.port), str(PROBES), str(DEVICES),
         str(INTERVAL), ACCOUNTS["sloppy"], SECRET],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    entries = []
    try:
        for p in range(PROBES):
            entry = MockConfigEntry(
                domain=DOMAIN,
                title=f"TOTEM probe p{p}",
                unique_id=f"remote:p{p}",
                data={CONF_SOURCE_TYPE: SOURCE_REMOTE, CONF_PROBE_NAME: f"p{p}",
                      CONF_PROBE_SECRET: SECRET},
                options=dict(DEFAULT_OPTIONS),
            )  # fmt: skip
            entry.add_to_hass(hass)
            assert await hass.config_entries.async_setup(entry.entry_id)
            entries.append(entry)
        await hass.async_block_till_done()

        def admitted() -> int:
            return sum(len(e.runtime_data.coordinator.store.devices) for e in entries)

        await wait_for(hass, lambda: admitted() == PROBES * DEVICES, timeout=300,
                       what="every device admitted")  # fmt: skip
        await asyncio.sleep(INTERVAL)  # entities of the last admitted devices settle
        writes: list[Event] = []
        unsubscribe = hass.bus.async_listen(EVENT_STATE_CHANGED, writes.append)
        cpu0, wall0 = time.process_time(), time.monotonic()
        await asyncio.sleep(MEASURE)
        cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
        unsubscribe()
        per_minute = len(writes) * 60 / wall
        print(
            f"\n{PROBES} probes x {DEVICES} devices, interval {INTERVAL:g} s,"
            f" {wall:.0f} s measured:"
            f"\n  Home Assistant CPU {100 * cpu / wall:.1f}% of one core"
            f"\n  state writes {per_minute:,.0f}/min"
            f" ({per_minute / (PROBES * DEVICES):.1f} per device per minute)"
        )
        assert writes

        async def round_trip(entry: MockConfigEntry) -> float:
            start = time.monotonic()
            ack = await entry.runtime_data.coordinator.probe.request(RequestSnapshot())
            assert ack.ok, ack  # signed with the right secret: accepted, not refused
            assert ack.cmd == "snapshot"
            return time.monotonic() - start

        sequential = [await round_trip(e) for e in entries for _ in range(ROUND_TRIPS)]
        burst = await asyncio.gather(*(round_trip(e) for e in entries for _ in range(5)))
        for label, times in (("sequential", sequential), ("all at once", list(burst))):
            ms = sorted(1000 * t for t in times)
            print(
                f"  command round trip ({label}, {len(ms)}): median {statistics.median(ms):.1f}"
                f" ms, p95 {ms[int(0.95 * (len(ms) - 1))]:.1f} ms, max {ms[-1]:.1f} ms"
            )
    finally:
        publisher.terminate()
        publisher.wait(10)
        for entry in entries:
            await hass.config_entries.async_unload(entry.entry_id)
        await hass.config_entries.async_unload(mqtt_entry.entry_id)
        await hass.async_block_till_done()
