"""The probe persists what the detectors learned in its --state file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import any_pcap
from tests.engine.helpers import run_cli


def probe(capture: Path, state: Path, learn: str) -> list[dict]:
    done = run_cli(
        "probe",
        "--replay",
        str(capture),
        "--speed",
        "0",
        "--learn",
        learn,
        "--state",
        str(state),
        "--interval",
        "60",
    )
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def final(lines: list[dict]) -> dict:
    (summary,) = [line["snapshot"] for line in lines if line["type"] == "summary"]
    return summary


def alerts_of(lines: list[dict]) -> list[dict]:
    """The alerts the probe announced (``alert`` lines that are not count updates)."""
    return [line["alert"] for line in lines if line["type"] == "alert" and not line["update"]]


def test_state_file_keeps_learning_start_and_inventory_across_restarts(tmp_path: Path):
    capture = any_pcap("home_iphone_dhcp_mdns_tls.pcap")
    state = tmp_path / "state.json"
    lines = probe(capture, state, "3600")
    summary = final(lines)
    saved = json.loads(state.read_text())["observers"]["Guard"]
    assert saved["learn_start"] == summary["first_time"]
    inventory = saved["detectors"]["InventoryDetector"]["inventory"]
    senders = {d["mac"] for d in summary["devices"]}
    assert senders
    assert senders <= set(inventory)
    assert set(saved["baselines"]) & senders

    # A restart replays the same file: learning does not start again, nothing is new.
    lines = probe(capture, state, "3600")
    again = json.loads(state.read_text())["observers"]["Guard"]
    assert again["learn_start"] == saved["learn_start"]
    assert alerts_of(lines) == []


def test_probe_streams_the_alert_once_with_its_count(tmp_path: Path):
    lines = probe(any_pcap("attack_nmap_syn_portscan.pcap"), tmp_path / "s.json", "0")
    alerts = alerts_of(lines)
    assert [a["kind"] for a in alerts] == ["port_scan"]
    assert alerts[0]["count"] > 100
    assert alerts[0]["details"]["ports"] >= 15


def test_an_unreadable_blocklist_warns_in_one_line_and_analysis_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("TOTEM_BLOCKLIST", str(tmp_path / "missing.txt"))
    done = run_cli("analyze", "--json", str(any_pcap("attack_syn_flood_synthetic.pcap")))
    assert done.returncode == 0
    assert "Traceback" not in done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("warning:")
    assert "cannot read blocklist" in line
    assert [a["kind"] for a in json.loads(done.stdout)["alerts"]] == ["syn_flood"]


def test_a_blocklist_from_the_environment_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    listed = tmp_path / "block.txt"
    listed.write_text("198.51.100.0/24\n")
    monkeypatch.setenv("TOTEM_BLOCKLIST", str(listed))
    doc = json.loads(
        run_cli("analyze", "--json", str(any_pcap("attack_syn_flood_synthetic.pcap"))).stdout
    )
    assert sorted(a["kind"] for a in doc["alerts"]) == ["blocklisted_host", "syn_flood"]
