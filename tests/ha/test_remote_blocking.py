"""Blocking a remote probe's device from Home Assistant: the block happens on the probe.

Home Assistant's real MQTT integration on a real Mosquitto; the probe's side is a
broker client in this test that does what ``probe --mqtt --enforce`` does (the
probe's own Verifier and RemoteEnforcer) over a fake nft, so what its "kernel"
holds can be read. The real probe with real nftables in a network namespace is
``tests/netns/test_remote_block_netns.py``.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.totem.const import (
    CONF_PROBE_NAME,
    CONF_PROBE_SECRET,
    CONF_SOURCE_TYPE,
    DEFAULT_OPTIONS,
    DOMAIN,
    SOURCE_REMOTE,
)
from custom_components.totem.engine.enforce import BACKEND_BRIDGE, make_backend
from custom_components.totem.engine.messages import Ack, Hello, SnapshotMessage
from custom_components.totem.engine.model import Snapshot
from custom_components.totem.engine.mqtt_link import Verifier, topic
from custom_components.totem.engine.protocol import Reply, parse_command
from custom_components.totem.engine.remote_enforce import RemoteEnforcer
from custom_components.totem.remote_blocking import BACKEND_REMOTE
from tests.engine.test_enforce import CAPTURE_MAC, DEVICE, GATEWAY_MAC, HOST_MAC, FakeNft, host
from tests.mqtt.conftest import ACCOUNTS, Broker, run_broker

from .conftest import wait_for
from .test_remote_probe import _mqtt

SECRET = "7a" * 32


@pytest.fixture
def broker(tmp_path: Path, socket_enabled: None) -> Generator[Broker]:
    with run_broker(tmp_path) as b:
        yield b


class FakeRemoteProbe:
    """The probe's MQTT side with a fake kernel: verify, enforce, acknowledge."""

    def __init__(self, broker: Broker, name: str, enforce: bool = True) -> None:
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        self.name = name
        self.kernel = FakeNft()
        backend = make_backend(
            BACKEND_BRIDGE, runner=self.kernel, host=host, capture_mac=CAPTURE_MAC
        )
        self.enforcer = RemoteEnforcer(backend if enforce else None)
        self.verifier = Verifier(name, SECRET.encode())
        self.commands: list[bytes] = []  # every payload heard on the command topic
        self.lock = threading.Lock()
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"fake-{name}")
        client.username_pw_set(name, ACCOUNTS[name])
        client.will_set(topic(name, "status"), "offline", qos=1, retain=True)
        ready = threading.Event()

        def on_connect(c: Any, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
            assert not reason.is_failure, reason
            c.subscribe(topic(name, "command"), qos=1)
            c.publish(topic(name, "hello"), Hello(source="fake").to_line(), qos=1, retain=True)
            c.publish(topic(name, "status"), "online", qos=1, retain=True)
            ready.set()

        client.on_connect = on_connect
        client.on_message = self._on_message
        client.connect("127.0.0.1", broker.port)
        client.loop_start()
        assert ready.wait(10)
        self.client = client

    def _on_message(self, _c: Any, _u: Any, msg: Any) -> None:
        payload = bytes(msg.payload)
        with self.lock:
            self.commands.append(payload)
        got = self.verifier.check(payload)
        if isinstance(got, Reply):
            cmd = json.loads(payload).get("cmd", {})
            ack = Ack.of(str(cmd.get("cmd", "?")), cmd.get("id"), got)
        else:
            command = parse_command(got)
            reply = self.enforcer.command(command)
            if reply is None:
                # Not an enforcement command: Home Assistant's snapshot request a few
                # seconds after the hello, which the test's own snapshots answer.
                assert command.name == "snapshot", command
                return
            ack = Ack.of(command.name, command.id, reply)
        self.client.publish(topic(self.name, "ack"), ack.to_line(), qos=1)

    def stop(self) -> None:
        self.client.publish(topic(self.name, "status"), "offline", qos=1, retain=True)
        time.sleep(0.2)
        self.client.disconnect()
        self.client.loop_stop()


async def _remote_entry(hass: HomeAssistant, name: str, **options: Any) -> MockConfigEntry:
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=f"TOTEM probe {name}",
        unique_id=f"remote:{name}",
        data={CONF_SOURCE_TYPE: SOURCE_REMOTE, CONF_PROBE_NAME: name, CONF_PROBE_SECRET: SECRET},
        options={**DEFAULT_OPTIONS, **options},
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    await wait_for(hass, lambda: entry.runtime_data.coordinator.probe.running, what="online")
    return entry


async def _unload(hass: HomeAssistant, *entries: MockConfigEntry) -> None:
    for entry in entries:
        await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


async def test_a_block_from_home_assistant_is_applied_by_the_remote_probe(
    hass: HomeAssistant, broker: Broker
) -> None:
    fake = FakeRemoteProbe(broker, "garden")
    mqtt_entry = await _mqtt(hass, broker)
    entry = await _remote_entry(hass, "garden")
    try:
        manager = entry.runtime_data.blocking
        assert manager.backend.name == BACKEND_REMOTE
        await manager.async_block(DEVICE, 600)
        # The probe's kernel holds it, and Home Assistant read it back from there.
        assert fake.kernel.elements("bridge", "blocked_macs").keys() == {DEVICE}
        assert manager.is_blocked(DEVICE)
        assert manager.blocked_until(DEVICE) is not None
        applied = len(fake.kernel.transactions)

        # The same signed bytes again (a replay by anyone on the broker): refused.
        block_payload = next(p for p in fake.commands if b'"cmd": "block"' in p)
        fake.client.publish(topic("garden", "command"), block_payload, qos=1).wait_for_publish(5)
        await wait_for(hass, lambda: len(fake.commands) >= 3, what="the replay heard")
        await asyncio.sleep(0.3)
        assert len(fake.kernel.transactions) == applied

        # Refusals are the probe's host's: its gateway, its own MAC.
        with pytest.raises(ServiceValidationError) as gateway:
            await manager.async_block(GATEWAY_MAC)
        assert gateway.value.translation_key == "gateway"
        with pytest.raises(HomeAssistantError) as own:
            await manager.async_block(HOST_MAC)
        assert own.value.translation_key == "remote_refused"
        assert "garden" in str(own.value.translation_placeholders)
        assert set(manager.blocked) == {DEVICE}

        await manager.async_unblock(DEVICE)
        assert fake.kernel.elements("bridge", "blocked_macs") == {}
        assert not manager.is_blocked(DEVICE)
        assert manager.store.blocks == {}
    finally:
        await _unload(hass, entry, mqtt_entry)
        fake.stop()


async def test_quarantine_and_release_on_the_remote_probe(
    hass: HomeAssistant, broker: Broker
) -> None:
    fake = FakeRemoteProbe(broker, "garden")
    mqtt_entry = await _mqtt(hass, broker)
    entry = await _remote_entry(hass, "garden")
    try:
        manager = entry.runtime_data.blocking
        await manager.async_quarantine(DEVICE)
        assert DEVICE in fake.kernel.elements("bridge", "quarantined_macs")
        await manager.async_release(DEVICE)
        assert DEVICE not in fake.kernel.elements("bridge", "quarantined_macs")
    finally:
        await _unload(hass, entry, mqtt_entry)
        fake.stop()


async def test_a_probe_without_enforce_and_an_offline_probe_say_so(
    hass: HomeAssistant, broker: Broker
) -> None:
    fake = FakeRemoteProbe(broker, "garden", enforce=False)
    mqtt_entry = await _mqtt(hass, broker)
    entry = await _remote_entry(hass, "garden")
    try:
        manager = entry.runtime_data.blocking
        with pytest.raises(HomeAssistantError) as disabled:
            await manager.async_block(DEVICE)
        assert disabled.value.translation_key == "remote_refused"
        assert "--enforce" in str(disabled.value.translation_placeholders)
        # Read after every snapshot: a probe that blocks nothing holds no block, quietly.
        assert await hass.async_add_executor_job(manager.backend.list_blocks) == []
        fake.stop()
        await wait_for(
            hass, lambda: not entry.runtime_data.coordinator.probe.running, what="offline"
        )
        with pytest.raises(HomeAssistantError) as offline:
            await manager.async_block(DEVICE)
        assert offline.value.translation_key == "probe_not_running"
        assert manager.store.blocks == {}
    finally:
        await _unload(hass, entry, mqtt_entry)


def _held(fake: FakeRemoteProbe) -> set[str]:
    """The MACs the fake probe's kernel blocks; none before its table exists."""
    try:
        return set(fake.kernel.elements("bridge", "blocked_macs"))
    except KeyError:
        return set()


async def test_blocks_come_back_after_the_remote_machine_reboots(
    hass: HomeAssistant, broker: Broker
) -> None:
    other = "aa:bb:cc:00:00:99"
    fake = FakeRemoteProbe(broker, "garden")
    mqtt_entry = await _mqtt(hass, broker)
    entry = await _remote_entry(hass, "garden")
    try:
        manager = entry.runtime_data.blocking
        probe = entry.runtime_data.coordinator.probe
        await manager.async_block(DEVICE)
        await manager.async_block(other, 600)
        await manager.async_unblock(other)  # the user's unblock: it must stay unblocked
        assert fake.kernel.elements("bridge", "blocked_macs").keys() == {DEVICE}

        # The probe's machine reboots: offline, then a new process with empty sets.
        fake.stop()
        await wait_for(hass, lambda: not probe.running, what="offline")
        fake = FakeRemoteProbe(broker, "garden")
        assert _held(fake) == set()  # no table yet
        await wait_for(
            hass,
            lambda: _held(fake) == {DEVICE},
            what="the block put back on the rebooted probe",
        )
        await wait_for(hass, lambda: manager.is_blocked(DEVICE), what="the switch read back")
        assert set(manager.store.blocks) == {DEVICE}
        assert not manager.is_blocked(other)

    finally:
        await _unload(hass, entry, mqtt_entry)
        fake.stop()


async def test_blocks_come_back_when_the_probe_restarts_without_going_offline(
    hass: HomeAssistant, broker: Broker
) -> None:
    """A probe process restarted faster than the broker noticed (systemd's restart, a
    session takeover) or a firewall reload on its machine: Home Assistant never sees an
    ``offline`` status, only the next snapshot. The read-back after it finds the stored
    block missing from the probe's kernel and puts it back, once, and quarantines the
    device waiting for approval there again."""
    waiting = "aa:bb:cc:00:00:77"
    fake = FakeRemoteProbe(broker, "garden")
    mqtt_entry = await _mqtt(hass, broker)
    entry = await _remote_entry(hass, "garden", new_devices_wait=True)
    try:
        manager = entry.runtime_data.blocking
        probe = entry.runtime_data.coordinator.probe
        await manager.async_block(DEVICE)
        assert _held(fake) == {DEVICE}
        # A device that joined after the first inventory, held until approved.
        manager.store.waiting[waiting] = time.time()
        assert await manager.async_quarantine(waiting)
        assert waiting in fake.kernel.elements("bridge", "quarantined_macs")
        went_offline: list[bool] = []
        probe.online_listeners.append(lambda: went_offline.append(True))

        # Same connection, empty kernel: what a restart with no offline phase leaves.
        fake.kernel = FakeNft()
        backend = make_backend(
            BACKEND_BRIDGE, runner=fake.kernel, host=host, capture_mac=CAPTURE_MAC
        )
        fake.enforcer = RemoteEnforcer(backend)
        assert _held(fake) == set()
        fake.client.publish(topic("garden", "status"), "online", qos=1, retain=True)
        snapshot = SnapshotMessage(
            seq=1, wall_time=time.time(), snapshot=Snapshot(0, 0, None, None, [], [])
        )
        fake.client.publish(topic("garden", "snapshot"), snapshot.to_line(), qos=0)
        await wait_for(hass, lambda: _held(fake) == {DEVICE}, what="the block put back")
        await wait_for(hass, lambda: manager.is_blocked(DEVICE), what="the switch read back")
        await wait_for(
            hass,
            lambda: waiting in fake.kernel.elements("bridge", "quarantined_macs"),
            what="the waiting device quarantined again",
        )
        assert probe.running
        assert went_offline == []  # no online transition: the read-back alone did it
        assert set(manager.store.blocks) == {DEVICE}
        await hass.async_block_till_done()
        with fake.lock:
            blocks_sent = [p for p in fake.commands if b'"cmd": "block"' in p]
        assert len(blocks_sent) == 2  # the user's block, and the one re-apply

        # The user's unblock right after: not put back by a later read-back.
        await manager.async_unblock(DEVICE)
        fake.client.publish(topic("garden", "snapshot"), snapshot.to_line(), qos=0)
        await asyncio.sleep(1.0)
        await hass.async_block_till_done()
        assert _held(fake) == set()
        assert manager.store.blocks == {}
    finally:
        await _unload(hass, entry, mqtt_entry)
        fake.stop()


def _quarantined(fake: FakeRemoteProbe) -> set[str]:
    try:
        return set(fake.kernel.elements("bridge", "quarantined_macs"))
    except KeyError:
        return set()


def _restart_in_place(fake: FakeRemoteProbe, *, lists_quarantines: bool = True) -> None:
    """Same connection, empty kernel: a probe restarted with no offline phase. An older
    probe's read-back does not list its quarantines."""
    fake.kernel = FakeNft()
    backend = make_backend(BACKEND_BRIDGE, runner=fake.kernel, host=host, capture_mac=CAPTURE_MAC)
    if not lists_quarantines:
        backend.list_held = None  # type: ignore[attr-defined]  # getattr finds none
    fake.enforcer = RemoteEnforcer(backend)


def _quarantines_sent(fake: FakeRemoteProbe) -> int:
    with fake.lock:
        return sum(b'"cmd": "quarantine"' in p for p in fake.commands)


async def test_a_lost_quarantine_alone_is_put_back_at_the_next_snapshot(
    hass: HomeAssistant, broker: Broker
) -> None:
    """No block stored, so the blocks' read-back finds nothing missing: the quarantines
    it lists are compared too, and a waiting device the probe forgot is held again
    after its next snapshot, with no online transition."""
    waiting = "aa:bb:cc:00:00:77"
    refused = GATEWAY_MAC  # waiting, but the probe never held it: not retried
    fake = FakeRemoteProbe(broker, "garden")
    mqtt_entry = await _mqtt(hass, broker)
    entry = await _remote_entry(hass, "garden", new_devices_wait=True)
    try:
        manager = entry.runtime_data.blocking
        probe = entry.runtime_data.coordinator.probe
        now = time.time()
        manager.store.waiting.update({waiting: now, refused: now})
        assert await manager.async_quarantine(waiting)
        with pytest.raises(HomeAssistantError):
            await manager.async_quarantine(refused)
        assert _quarantined(fake) == {waiting}
        assert manager.store.blocks == {}
        went_online: list[bool] = []
        probe.online_listeners.append(lambda: went_online.append(True))
        snapshot = SnapshotMessage(
            seq=1, wall_time=time.time(), snapshot=Snapshot(0, 0, None, None, [], [])
        )
        sent = _quarantines_sent(fake)

        _restart_in_place(fake)
        assert _quarantined(fake) == set()
        fake.client.publish(topic("garden", "snapshot"), snapshot.to_line(), qos=0)
        await wait_for(
            hass, lambda: _quarantined(fake) == {waiting}, what="the quarantine put back"
        )
        assert went_online == []  # the read-back alone did it
        await hass.async_block_till_done()
        # Every waiting device asked once (as after an online transition); the next
        # snapshot asks nothing: the refused device is not retried at every one.
        await wait_for(hass, lambda: _quarantines_sent(fake) - sent >= 2, what="both asked")
        fake.client.publish(topic("garden", "snapshot"), snapshot.to_line(), qos=0)
        await asyncio.sleep(1.0)
        await hass.async_block_till_done()
        assert _quarantines_sent(fake) - sent == 2

        # Released (approved): a later loss is none of Home Assistant's business.
        await manager.async_release(waiting)
        del manager.store.waiting[waiting]
        fake.client.publish(topic("garden", "snapshot"), snapshot.to_line(), qos=0)
        await asyncio.sleep(1.0)
        await hass.async_block_till_done()
        assert _quarantined(fake) == set()

        # An older probe does not list its quarantines: nothing is compared (no
        # quarantine sent on every snapshot), the online transition still restores.
        manager.store.waiting[waiting] = time.time()
        assert await manager.async_quarantine(waiting)
        _restart_in_place(fake, lists_quarantines=False)
        sent = _quarantines_sent(fake)
        fake.client.publish(topic("garden", "snapshot"), snapshot.to_line(), qos=0)
        await asyncio.sleep(1.0)
        await hass.async_block_till_done()
        assert _quarantines_sent(fake) == sent
        assert _quarantined(fake) == set()
    finally:
        await _unload(hass, entry, mqtt_entry)
        fake.stop()
