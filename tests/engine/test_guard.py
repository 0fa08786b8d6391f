"""The guard's contract: dedup, snooze, thresholds, persistence, commands, blocklist."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from custom_components.totem.engine.blocklist import BlocklistError, load_blocklist
from custom_components.totem.engine.detectors.guard import Guard, attach_detectors
from custom_components.totem.engine.engine import Engine, EngineConfig
from custom_components.totem.engine.sources import Packet
from tests.engine.helpers import send_command
from tests.traffic.synth import (
    ROUTER_MAC,
    HomeTraffic,
    eth,
    ipv4,
    make_home,
    tcp,
)

T0 = 1_700_000_000.0
SCANNER = bytes.fromhex("cc50e3000001")


def sweep(start: float, hosts: int = 40, port: int = 23) -> list[Packet]:
    """Unanswered SYNs from one device to many Internet hosts on one port."""
    out: list[Packet] = []
    for i in range(hosts):
        ip = ipv4(
            bytes([192, 168, 1, 50]),
            bytes([45, 1, i // 250, 1 + i % 250]),
            6,
            tcp(40000 + i, port, 1, 0, 0x02),
        )
        frame = eth(ROUTER_MAC, SCANNER, 0x0800, ip)
        out.append((start + i * 0.2, len(frame), frame, 1))
    return out


def engine_with(learn: float = 0.0) -> tuple[Engine, Guard]:
    engine = Engine(EngineConfig(learn_seconds=learn))
    return engine, attach_detectors(engine)


def feed(engine: Engine, packets: list[Packet]) -> None:
    engine.process(sorted(packets, key=lambda p: p[0]))


def test_repeats_count_on_one_alert_within_the_cooldown():
    engine, _ = engine_with()
    feed(engine, sweep(T0) + sweep(T0 + 100) + [sweep(T0 + 200, 1)[0]])
    engine.flush()
    scans = [a for a in engine.alerts if a.kind == "host_scan"]
    assert len(scans) == 1
    assert scans[0].count > 20
    assert scans[0].mac == "cc:50:e3:00:00:01"
    assert scans[0].time == pytest.approx(T0 + 19 * 0.2)  # the 20th host crossed the line


def test_after_the_cooldown_a_new_alert_is_raised():
    engine, guard = engine_with()
    assert send_command(guard, "thresholds", {"values": {"cooldown": 50}}).ok
    feed(engine, sweep(T0) + sweep(T0 + 200))
    engine.flush()
    assert len([a for a in engine.alerts if a.kind == "host_scan"]) == 2


def test_snooze_per_device_and_kind():
    engine, guard = engine_with()
    assert send_command(
        guard, "snooze", {"mac": "cc:50:e3:00:00:01", "kind": "host_scan", "until": T0 + 100}
    ).ok
    feed(engine, sweep(T0))
    engine.flush()
    assert engine.alerts == []
    assert guard.suppressed > 0
    feed(engine, sweep(T0 + 300))
    engine.flush()
    assert [a.kind for a in engine.alerts] == ["host_scan"]


def test_per_device_thresholds():
    engine, guard = engine_with()
    assert send_command(
        guard, "thresholds", {"mac": "cc:50:e3:00:00:01", "values": {"host_scan_hosts": 100}}
    ).ok
    feed(engine, sweep(T0, hosts=60))
    engine.flush()
    assert engine.alerts == []
    assert not send_command(guard, "thresholds", {"values": {"no_such_threshold": 1}}).ok
    assert not send_command(guard, "thresholds", {"values": {"host_scan_hosts": -3}}).ok
    assert not send_command(guard, "snooze", {"mac": "not a mac"}).ok


def home_packets(devices, start: float, count: int, seed: int = 1) -> list[Packet]:
    """A quiet home's frames stretched over two minutes of packet time."""
    frames = list(HomeTraffic(devices, seed, start).run(count))
    scale = 120.0 / (frames[-1][0] - start)
    return [(start + (ts - start) * scale, n, d, lt) for ts, n, d, lt in frames]


def test_a_device_back_after_weeks_is_not_new_and_learning_is_not_restarted(tmp_path: Path):
    devices = make_home(4, seed=3)
    engine, guard = engine_with(learn=30.0)
    packets = home_packets(devices, T0, 400)
    feed(engine, packets)
    engine.flush()
    assert engine.alerts == []
    state = json.loads(json.dumps(engine.export_state()))  # what the probe writes

    later = T0 + 21 * 86400
    stranger = make_home(14, seed=9)[13]  # a MAC the home never saw
    engine2, guard2 = engine_with(learn=30.0)
    engine2.import_state(state)
    assert guard2.learn_start == guard.learn_start
    feed(engine2, home_packets([*devices, stranger], later, 400))
    engine2.flush()
    new = [a for a in engine2.alerts if a.kind == "new_device"]
    assert [a.mac for a in new] == [":".join(f"{b:02x}" for b in stranger.mac)]


def test_reset_baseline_relearns_one_device():
    devices = make_home(4, seed=3)
    engine, guard = engine_with(learn=30.0)
    feed(engine, home_packets(devices, T0, 400))
    mac = devices[0].mac
    assert not guard.baselines[mac].learning(engine.last_time or 0.0)
    assert send_command(guard, "reset_baseline", {"mac": ":".join(f"{b:02x}" for b in mac)}).ok
    assert guard.baselines[mac].learning(engine.last_time or 0.0)
    assert guard.baselines[mac].domains == set()


def test_blocklist_file(tmp_path: Path):
    path = tmp_path / "block.txt"
    path.write_text("# comment\n45.1.0.0/16\n0.0.0.0 evil.example\nnot an entry!\n")
    blocklist = load_blocklist(path)
    assert blocklist.match_ip(bytes([45, 1, 0, 9])) == "45.1.0.0/16"
    assert blocklist.match_ip(bytes([45, 2, 0, 9])) is None
    assert blocklist.match_domain("a.b.evil.example") == "evil.example"
    assert blocklist.match_domain("notevil.example") is None
    assert blocklist.skipped == 1
    engine, guard = engine_with()
    assert send_command(guard, "blocklist", {"path": str(path)}).ok
    feed(engine, sweep(T0, hosts=2))
    engine.flush()
    assert [a.kind for a in engine.alerts] == ["blocklisted_host"]
    assert not send_command(guard, "blocklist", {"path": str(tmp_path / "missing.txt")}).ok
    with pytest.raises(BlocklistError, match="cannot read blocklist"):
        load_blocklist(tmp_path / "missing.txt")


def test_policy_edit_and_state_round_trip():
    engine, guard = engine_with(learn=10.0)
    assert send_command(guard, "policy", {"type": "camera", "allow": ["SSH"]}).ok
    assert guard.policy.allows("camera", "SSH")
    assert not send_command(guard, "policy", {"type": "toaster", "allow": ["SSH"]}).ok
    assert send_command(guard, "snooze", {"mac": "aa:bb:cc:dd:ee:ff", "seconds": 3600}).ok
    state = json.loads(json.dumps(engine.export_state()))
    engine2, guard2 = engine_with(learn=10.0)
    engine2.import_state(state)
    assert guard2.policy.allows("camera", "SSH")
    assert guard2.state() == guard.state()


def test_unknown_command_is_not_handled():
    engine, _ = engine_with()
    assert send_command(engine, "frobnicate", {}).ok is False


def test_a_blocklist_loaded_by_command_survives_a_restart(tmp_path: Path):
    listed = tmp_path / "list.txt"
    listed.write_text("45.1.0.0/16\n", encoding="utf-8")
    _, guard = engine_with()
    assert send_command(guard, "blocklist", {"path": str(listed)}).ok
    state = json.loads(json.dumps(guard.state()))
    engine2, guard2 = engine_with()
    guard2.restore(state)
    feed(engine2, sweep(T0, hosts=2))
    engine2.flush()
    assert "blocklisted_host" in {a.kind for a in engine2.alerts}


def test_a_blocklist_that_is_not_a_regular_file_is_refused(tmp_path: Path):
    import os

    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    _, guard = engine_with()
    reply = send_command(guard, "blocklist", {"path": str(fifo)})
    assert not reply.ok
    assert "not a regular file" in (reply.message or "")
