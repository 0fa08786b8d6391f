"""The labelled scenario: recall on injected anomalies, silence on normal devices."""

from __future__ import annotations

import pytest

from custom_components.totem.engine.blocklist import Blocklist
from custom_components.totem.engine.detectors.guard import Guard, attach_detectors
from custom_components.totem.engine.engine import Engine, EngineConfig
from tests.traffic.scenario import Scenario, build_scenario, score

MIN_RECALL = 0.9


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return build_scenario()


def run(scenario: Scenario, learn: float) -> tuple[Engine, Guard]:
    engine = Engine(EngineConfig(learn_seconds=learn))
    guard = attach_detectors(engine)
    guard.blocklist = Blocklist()
    for entry in scenario.blocklist:
        guard.blocklist.add(entry)
    packets = scenario.packets
    for start in range(0, len(packets), 512):
        engine.process(packets[start : start + 512])
    engine.flush()
    return engine, guard


def test_scenario_recall_and_false_alerts(scenario: Scenario):
    engine, _ = run(scenario, scenario.learn_seconds)
    result = score(scenario, engine.alerts)
    print(
        f"\nscenario: {len(scenario.injections)} injections, recall {result.recall:.2f}, "
        f"false alerts {len(result.false_alerts)} "
        f"(on normal devices {len(result.on_normal_devices)})"
    )
    assert result.recall >= MIN_RECALL, [i.label for i in result.missed]
    assert result.on_normal_devices == [], [a.message for a in result.on_normal_devices]
    assert result.false_alerts == [], [a.message for a in result.false_alerts]


def test_busy_laptops_and_phones_stay_silent(scenario: Scenario):
    engine, guard = run(scenario, scenario.learn_seconds)
    roaming = {
        ":".join(f"{b:02x}" for b in d.mac)
        for d in scenario.devices
        if d.kind in ("laptop", "phone")
    }
    assert roaming <= scenario.normal_macs
    assert [a for a in engine.alerts if a.mac in roaming] == []
    # They did roam: dozens of new domains after learning, none of them learned as normal.
    laptop = next(d.mac for d in scenario.devices if d.kind == "laptop")
    assert len(guard.identity(laptop).domains) > 20


def test_no_alert_inside_learning_and_baseline_kinds_off_without_it(scenario: Scenario):
    engine, _ = run(scenario, scenario.learn_seconds)
    start = scenario.packets[0][0]
    assert all(a.time >= start + scenario.learn_seconds for a in engine.alerts)
    engine0, _ = run(scenario, 0.0)
    kinds = {a.kind for a in engine0.alerts}
    baseline_kinds = {
        "new_device",
        "new_destination",
        "traffic_spike",
        "unexpected_protocol",
        "unexpected_dns_server",
    }
    assert kinds & baseline_kinds == set()
    # Rule kinds still work without learning.
    assert {"host_scan", "dns_tunnel", "syn_flood", "arp_spoof", "mac_flood"} <= kinds
