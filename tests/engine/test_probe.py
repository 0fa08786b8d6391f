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
