"""Small helpers shared by the engine tests."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from custom_components.totem.engine.engine import Engine, EngineConfig
from custom_components.totem.engine.model import Snapshot
from custom_components.totem.engine.protocol import ProtocolError, Reply, parse_command
from custom_components.totem.engine.sources import read_captures, read_files

ROOT = Path(__file__).resolve().parents[2]


def analyze_files(paths: Iterable[Path], **config: Any) -> Snapshot:
    """Run the engine over files as ``analyze`` does and return the final snapshot."""
    engine = Engine(EngineConfig(**config))
    read_files(engine, list(paths), lambda _msg: None)
    engine.flush()
    return engine.snapshot()


def analyze_packets(paths: Iterable[Path], **config: Any) -> Snapshot:
    """The same through ``Engine.process`` (the live and multi-file path)."""
    engine = Engine(EngineConfig(**config))
    for batch in read_captures(list(paths)):
        engine.process(batch)
    engine.flush()
    return engine.snapshot()


def counters(snap: Snapshot) -> dict[str, list[int]]:
    return {d.mac: [d.tx_packets, d.tx_bytes, d.rx_packets, d.rx_bytes] for d in snap.devices}


def run_cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "custom_components.totem.engine", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=timeout,
        check=False,
    )


def cli_json(*args: str) -> dict[str, Any]:
    done = run_cli("analyze", "--json", *args)
    assert done.returncode == 0, done.stderr
    doc: dict[str, Any] = json.loads(done.stdout)
    return doc


def send_command(target: Any, name: str, args: dict[str, Any]) -> Reply:
    """A command as the probe receives it (JSON, validated by the protocol), handled by
    an engine or a guard; a protocol refusal comes back as a refused Reply too."""
    try:
        cmd = parse_command(json.loads(json.dumps({"cmd": name, **args})))
    except ProtocolError as err:
        return Reply.refused(err.code, err.message)
    reply = target.command(cmd)
    return reply if reply is not None else Reply.refused("unsupported", name)
