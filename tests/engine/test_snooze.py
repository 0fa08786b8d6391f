"""A snoozed kind stays silent for that device; other devices and kinds still alert."""

from __future__ import annotations

from custom_components.totem.engine.detectors.guard import attach_detectors
from custom_components.totem.engine.engine import Engine
from custom_components.totem.engine.sources import read_files
from tests.conftest import VENDORED_PCAPS
from tests.engine.helpers import send_command

SCAN = VENDORED_PCAPS / "attack_nmap_syn_portscan.pcap"
SCANNER = "00:25:b3:bf:91:ee"


def _alerts(*commands: tuple[str, dict[str, object]]) -> list[tuple[str, str]]:
    engine = Engine()
    attach_detectors(engine)
    for name, args in commands:
        assert send_command(engine, name, args).ok
    read_files(engine, [SCAN], lambda _m: None)
    return [(a.mac, a.kind) for a in engine.alerts]


def test_the_scan_alerts_without_a_snooze() -> None:
    assert _alerts() == [(SCANNER, "port_scan")]


def test_a_snoozed_kind_is_silent() -> None:
    until = 4e9  # packet time, far beyond the capture
    assert _alerts(("snooze", {"mac": SCANNER, "kind": "port_scan", "until": until})) == []


def test_a_snooze_of_another_kind_changes_nothing() -> None:
    snooze = ("snooze", {"mac": SCANNER, "kind": "host_scan", "until": 4e9})
    assert _alerts(snooze) == [(SCANNER, "port_scan")]


def test_a_raised_threshold_keeps_the_scan_quiet() -> None:
    values = {"port_scan_ports": 100_000}
    assert _alerts(("thresholds", {"mac": SCANNER, "values": values})) == []
