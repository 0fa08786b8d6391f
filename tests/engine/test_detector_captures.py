"""Every detector on the real attack captures, and silence on the normal ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from custom_components.totem.engine.cli_analyze import build_engine
from custom_components.totem.engine.model import Alert
from custom_components.totem.engine.sources import read_files
from tests.conftest import SHARED_PCAPS, VENDORED_PCAPS, any_pcap
from tests.traffic.evaluate import ATTACKS


def alerts_of(path: Path, learn: float = 0.0) -> list[Alert]:
    engine = build_engine(learn)
    read_files(engine, [path], lambda _msg: None)
    engine.flush()
    return engine.alerts


# capture -> (kind, the attacker's or victim's MAC): one table with scripts/eval-detect.


@pytest.mark.parametrize(("name", "expected"), sorted(ATTACKS.items()))
def test_attack_capture_raises_its_kind_on_the_attacker(name: str, expected: tuple[str, str]):
    kind, mac = expected
    alerts = alerts_of(any_pcap(name))
    assert [(a.kind, a.mac) for a in alerts] == [(kind, mac)], [a.message for a in alerts]
    alert = alerts[0]
    assert alert.severity in ("warning", "critical")
    assert alert.count >= 1
    assert "Your " in alert.message  # written for a person, naming the device


def test_mirai_scan_names_the_device_and_the_telnet_port():
    (alert,) = alerts_of(any_pcap("attack_mirai_like_telnet_scan_home_lan.pcap"))
    assert "black-pearl" in alert.message
    assert "Telnet" in alert.message
    assert "Internet hosts" in alert.message
    assert alert.severity == "critical"
    # The router that forwards the scan is never blamed.
    assert alert.mac != "a6:d1:8c:1f:ce:64"


def _normal_captures() -> list[str]:
    names = {p.name for p in VENDORED_PCAPS.glob("*.pcap*")}
    if SHARED_PCAPS.exists():
        names |= {p.name for p in SHARED_PCAPS.glob("*.pcap*")}
    return sorted(
        n for n in names if n.startswith(("home_", "iot_", "proto_", "phone_", "printer_"))
    )


@pytest.mark.parametrize("name", _normal_captures())
def test_normal_capture_raises_no_rule_alert(name: str):
    alerts = alerts_of(any_pcap(name))
    assert alerts == [], [a.message for a in alerts]


@pytest.mark.parametrize("name", ["attack_nmap_syn_portscan.pcap", "attack_dns_tunnel_iodine.pcap"])
def test_nothing_is_raised_inside_the_learning_period(name: str):
    path = any_pcap(name)
    assert alerts_of(path) != []
    assert alerts_of(path, learn=10_000.0) == []


def test_alert_time_is_a_packet_time_of_the_capture():
    path = any_pcap("attack_syn_flood_synthetic.pcap")
    engine = build_engine(0.0)
    read_files(engine, [path], lambda _msg: None)
    engine.flush()
    (alert,) = engine.alerts
    assert engine.first_time is not None
    assert engine.last_time is not None
    assert engine.first_time <= alert.time <= engine.last_time
    # One alert per device and kind: the other SYNs only count.
    assert alert.count > 1
