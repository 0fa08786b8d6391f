"""The probe process under faults: hostile commands, files changing under it, bad state."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from custom_components.totem.engine.sources import CHUNK
from tests.conftest import any_pcap
from tests.engine.helpers import ROOT
from tests.traffic.synth import home_capture


class Probe:
    """A real probe process; its stdout read by a thread so a hung probe fails the test."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "custom_components.totem.engine", "probe", *args],
            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put("")

    def send(self, obj: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(obj) + "\n")
        self.proc.stdin.flush()

    def until(self, want: Any, limit: float = 60.0) -> list[dict[str, Any]]:
        """Messages read until one satisfies ``want`` (the last one returned)."""
        seen: list[dict[str, Any]] = []
        deadline = time.monotonic() + limit
        while True:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"not seen in {limit} s; last: {seen[-3:]}") from None
            if not line:
                raise AssertionError(f"the probe ended; it said {seen[-3:]}")
            seen.append(json.loads(line))
            if want(seen[-1]):
                return seen

    def rest(self) -> list[dict[str, Any]]:
        """Every message until the probe's stdout closes."""
        out: list[dict[str, Any]] = []
        while line := self.lines.get(timeout=60):
            out.append(json.loads(line))
        return out

    def stop(self, grace: float = 20.0) -> int:
        """SIGTERM; SIGKILL (and a failing return code) when it is not honoured."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return -999


def test_a_blocklist_command_naming_a_fifo_neither_hangs_nor_deafens_the_probe(
    tmp_path: Path,
) -> None:
    """A FIFO blocked open() inside the capture loop: no snapshot, no ack, no SIGTERM."""
    fifo = tmp_path / "blocklist"
    os.mkfifo(fifo)
    probe = Probe(
        "--replay", str(any_pcap("attack_syn_flood_synthetic.pcap")), "--speed", "1", "--loop",
        "--interval", "3600",
    )  # fmt: skip
    probe.send({"cmd": "blocklist", "id": 1, "path": str(fifo)})
    probe.send({"cmd": "snapshot", "id": 2})
    try:
        seen = probe.until(lambda m: m["type"] == "ack" and m.get("id") == 2, 20)
    finally:
        rc = probe.stop()
    acks = [m for m in seen if m["type"] == "ack"]
    assert (acks[0]["id"], acks[0]["ok"]) == (1, False)
    assert "not a regular file" in acks[0]["message"]
    assert rc == 0


def test_a_capture_truncated_under_a_running_replay_is_a_warning_not_sigbus(
    tmp_path: Path,
) -> None:
    """``tcpdump -w`` restarting truncates its file: the mapped reader died of SIGBUS (-7)."""
    path = tmp_path / "home.pcap"
    home_capture(str(path), n_devices=12, n_packets=30_000, span=60.0)
    assert path.stat().st_size > 3 * CHUNK  # the cut lands beyond what was read so far
    probe = Probe("--replay", str(path), "--speed", "15", "--interval", "0.3")
    try:
        probe.until(lambda m: m["type"] == "snapshot")
        with path.open("r+b") as fh:
            fh.truncate(100_000)
        rest = probe.rest()
    finally:
        rc = probe.stop()
    assert rc == 0
    warnings = [m["message"] for m in rest if m["type"] == "warning"]
    assert any("shrank under the reader" in w for w in warnings), warnings
    # The replay ended normally, with what it had read.
    assert [m["type"] for m in rest].count("summary") == 1


def _replay_with_state(state: Path) -> list[dict[str, Any]]:
    probe = Probe(
        "--replay", str(any_pcap("attack_syn_flood_synthetic.pcap")), "--speed", "0",
        "--interval", "3600", "--state", str(state),
    )  # fmt: skip
    try:
        out = probe.rest()
    finally:
        rc = probe.stop()
    assert rc == 0, out[-3:]
    return out


def test_a_state_file_with_wrong_types_is_salvaged_backed_up_and_reported(
    tmp_path: Path,
) -> None:
    """Valid JSON, wrong types: the probe raised at start (restarted forever, no word)."""
    state = tmp_path / "engine.json"
    bad = {
        "version": 1,
        "observers": {"Guard": {"snoozed": 7, "baselines": [1], "learn_start": 1234.0}},
    }
    state.write_text(json.dumps(bad))
    out = _replay_with_state(state)
    assert out[0]["type"] == "hello"
    warnings = [m for m in out if m["type"] == "warning"]
    assert [w["code"] for w in warnings] == ["state_repaired"]
    assert "Guard.snoozed" in warnings[0]["message"]
    assert "Guard.baselines" in warnings[0]["message"]
    assert json.loads((tmp_path / "engine.json.corrupt").read_text()) == bad
    # What was valid is kept and saved again.
    assert json.loads(state.read_text())["observers"]["Guard"]["learn_start"] == 1234.0


def test_an_unreadable_state_file_is_kept_aside_not_overwritten(tmp_path: Path) -> None:
    state = tmp_path / "engine.json"
    state.write_bytes(b'{"version": 1, "observers": {"Guard": {"learn_')  # cut by a crash
    out = _replay_with_state(state)
    assert [m["code"] for m in out if m["type"] == "warning"] == ["state_unreadable"]
    assert (tmp_path / "engine.json.corrupt").read_bytes().startswith(b'{"version": 1')
    assert "Guard" in json.loads(state.read_text())["observers"]  # a fresh state saved


def test_a_failing_save_is_reported_once(tmp_path: Path) -> None:
    out = _replay_with_state(tmp_path / "gone" / "engine.json")
    warnings = [m for m in out if m["type"] == "warning"]
    assert [w["code"] for w in warnings] == ["state_not_saved"]
    assert "cannot save state" in warnings[0]["message"]
