"""Per-MAC counters equal tshark's endpoint statistics, exactly, on every real capture."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import SHARED_PCAPS, VENDORED_PCAPS
from tests.engine.helpers import analyze_files, analyze_packets, counters
from tests.engine.tshark_endpoints import tshark_endpoints

EXPECTED = json.loads((VENDORED_PCAPS / "expected_endpoints.json").read_text())
VENDORED = sorted(p for p in VENDORED_PCAPS.glob("*.pcap*"))
SHARED = sorted(SHARED_PCAPS.glob("*.pcap*")) if SHARED_PCAPS.exists() else []


def test_every_vendored_capture_has_expected_values() -> None:
    assert VENDORED, "no vendored captures found"
    assert {p.name for p in VENDORED} == set(EXPECTED)


@pytest.mark.parametrize("path", VENDORED, ids=lambda p: p.name)
def test_counters_match_committed_tshark_values(path: Path) -> None:
    assert counters(analyze_files([path])) == EXPECTED[path.name]


@pytest.mark.parametrize("path", VENDORED + SHARED, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_counters_match_tshark_run_now(path: Path) -> None:
    tshark = shutil.which("tshark")
    if tshark is None:
        pytest.skip("tshark is not installed; scripts/setup installs it as root")
    assert counters(analyze_files([path])) == tshark_endpoints(tshark, path)


@pytest.mark.parametrize("path", VENDORED, ids=lambda p: p.name)
def test_file_path_and_packet_path_agree(path: Path) -> None:
    """Files go straight to the hot loop; live packets are re-framed: same answer."""
    assert analyze_files([path]).to_json() == analyze_packets([path]).to_json()


def test_shared_captures_are_present_or_reported() -> None:
    if not SHARED:
        pytest.skip("../shared/pcaps is absent here; the vendored captures are still checked")
    assert len(SHARED) >= 30
