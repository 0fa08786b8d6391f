"""A flood of a million distinct flows stays inside the flow table's bound."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.engine.helpers import ROOT

FLOWS = 1_000_000
RSS_TARGET_MB = 200  # DESIGN.md: the probe stays under 200 MB RSS in this flood


def test_million_flow_flood_is_bounded_counted_and_exact() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tests.traffic.flood", str(FLOWS)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
        check=True,
    )
    result = json.loads(done.stdout)
    assert result["flows_total"] == FLOWS
    assert result["largest_flow_table"] <= result["max_flows"]
    # Every flow that left the table was either evicted (counted) or is still there.
    assert result["flows_evicted"] >= FLOWS - result["max_flows"]
    assert result["tx_packets"] == FLOWS  # eviction folds counters; nothing is lost
    assert result["peak_rss_mb"] < RSS_TARGET_MB
