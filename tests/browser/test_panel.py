"""The Network panel end to end: a real Home Assistant started like scripts/develop (the
demo home), Debian's chromium driven headless by playwright-core (tests/browser/e2e.mjs).

Logs in, opens /totem, sees the demo devices, sorts by traffic, searches, opens the
camera's page and its chart, blocks and unblocks it through the confirmation (the demo's
pretend backend), sets its type and back to automatic, renders both cards on a test
dashboard, waits for the demo's scripted misbehaviours to show up as alerts, and measures
the panel's load with 250 devices.

The demo replays at 4x (TOTEM_DEV_DEMO_SPEED: its 4 minutes of learning pass in one,
the same frames and alerts as at 1x). Run by .ci/run's floor leg, or with
TOTEM_BROWSER_TESTS=1. Screenshots land in TOTEM_SCREENSHOTS (default: the test's tmp).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
SCRIPT = Path(__file__).with_name("e2e.mjs")
USER, PASSWORD = "e2e", "totem-e2e-password"
# Home Assistant's first start on two busy cores: installing nothing, but loading the
# frontend and the demo takes a minute or two.
START_TIMEOUT = 300.0
# The fastest demo options.py allows: packet time (the learning period, the scripted
# misbehaviours) passes four times as fast; nothing the test checks is skipped.
DEMO_SPEED = 4

pytestmark = pytest.mark.skipif(
    os.environ.get("TOTEM_BROWSER_TESTS") != "1",
    reason="browser end-to-end tests run in .ci/run (set TOTEM_BROWSER_TESTS=1)",
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def home_assistant(tmp_path: Path) -> Iterator[str]:
    """scripts/develop on its own config directory and port; stopped afterwards."""
    port = _free_port()
    env = {
        **os.environ,
        "TOTEM_DEV_CONFIG": str(tmp_path / "config"),
        "TOTEM_DEV_PORT": str(port),
        "TOTEM_DEV_USER": USER,
        "TOTEM_DEV_PASSWORD": PASSWORD,
        "TOTEM_DEV_DEMO_SPEED": str(DEMO_SPEED),
    }
    log = (tmp_path / "hass.log").open("wb")
    proc = subprocess.Popen(
        [str(ROOT / "scripts" / "develop")],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if proc.poll() is not None:
                raise AssertionError(
                    f"Home Assistant exited: {(tmp_path / 'hass.log').read_text()[-3000:]}"
                )
            try:
                with urllib.request.urlopen(f"{base}/manifest.json", timeout=5) as res:
                    if res.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("Home Assistant did not answer in time")
            time.sleep(2)
        yield base
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()
        errors = [
            line
            for line in (tmp_path / "hass.log").read_text(errors="replace").splitlines()
            if "ERROR" in line and "totem" in line.lower()
        ]
        assert errors == [], errors


def test_network_panel_in_a_real_browser(home_assistant: str, tmp_path: Path) -> None:
    node = shutil.which("node")
    assert node is not None, "node is missing: apt-get install nodejs (scripts/setup does)"
    assert Path("/usr/bin/chromium").exists(), "chromium is missing: apt-get install chromium"
    assert (ROOT / "frontend" / "node_modules" / "playwright-core").is_dir(), (
        "frontend/node_modules is missing: run scripts/build-frontend (npm ci)"
    )
    shots = Path(os.environ.get("TOTEM_SCREENSHOTS", tmp_path / "shots"))
    run = subprocess.run(
        [node, str(SCRIPT), home_assistant, USER, PASSWORD, str(shots)],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-4000:] + run.stdout[-2000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    print(f"browser e2e: {result}")
    assert result["demo_devices"] >= 10
    assert result["block_unblock"] == "ok"
    assert result["set_type"] == "ok"
    assert result["cards"] == "ok"
    assert result["device_alerts"] >= 1
    assert result["device_flows"] >= 1
    assert result["activity_entries"] >= 1
    assert result["alerts_listed"] >= 1
    assert len(result["load_250_ms"]) == 3
    for name in ("panel.png", "device.png", "card-device.png", "alerts.png"):
        assert (shots / name).stat().st_size > 10_000, name
