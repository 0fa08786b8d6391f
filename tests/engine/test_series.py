"""The per-device traffic series: deltas into minutes and hours, bounds, JSON."""

from __future__ import annotations

import json

from custom_components.totem.engine.series import (
    HOURS_KEPT,
    MINUTES_KEPT,
    TrafficSeries,
)

T0 = 1_700_000_040.0  # a minute boundary


def test_counter_deltas_land_in_their_minute_and_hour() -> None:
    series = TrafficSeries()
    series.add("aa", T0, 1000, 500)  # the first reading is the baseline only
    series.add("aa", T0 + 10, 1600, 700)
    series.add("aa", T0 + 50, 1700, 700)
    series.add("aa", T0 + 70, 2700, 900)
    assert series.minutes("aa") == [[int(T0), 700, 200], [int(T0) + 60, 1000, 200]]
    hour = int(T0 // 3600) * 3600
    assert series.hours("aa") == [[hour, 1700, 400]]
    assert series.minutes("aa", since=T0 + 60) == [[int(T0) + 60, 1000, 200]]


def test_a_counter_reset_is_a_new_baseline_not_negative_traffic() -> None:
    series = TrafficSeries()
    series.add("aa", T0, 5000, 5000)
    series.add("aa", T0 + 60, 100, 100)
    series.add("aa", T0 + 120, 300, 100)
    assert series.minutes("aa") == [[int(T0) + 120, 200, 0]]


def test_quiet_minutes_are_not_stored() -> None:
    series = TrafficSeries()
    for i in range(100):
        series.add("aa", T0 + 60 * i, 10, 10)
    assert series.minutes("aa") == []


def test_bounded_in_minutes_hours_and_devices() -> None:
    series = TrafficSeries(devices_kept=3)
    for i in range(HOURS_KEPT * 60 + 120):
        series.add("aa", T0 + 60 * i, i * 10, 0)
    assert len(series.minutes("aa")) == MINUTES_KEPT
    assert len(series.hours("aa")) == HOURS_KEPT
    assert series.minutes("aa")[-1][0] == int(T0) + 60 * (HOURS_KEPT * 60 + 119)
    for mac in ("bb", "cc", "dd", "ee"):
        series.add(mac, T0, 1, 1)
    assert "cc" in series
    assert "dd" not in series  # a flood of MACs does not grow the table


def test_json_round_trip_and_hostile_documents() -> None:
    series = TrafficSeries()
    series.add("aa", T0, 0, 0)
    series.add("aa", T0 + 60, 10, 20)
    again = TrafficSeries.from_json(json.loads(json.dumps(series.to_json())))
    assert again.minutes("aa") == series.minutes("aa")
    again.add("aa", T0 + 120, 15, 20)  # the baseline survived too
    assert again.minutes("aa")[-1] == [int(T0) + 120, 5, 0]
    for hostile in (None, [], {"aa": 3}, {"aa": {"last": "x"}}, {"aa": {"last": [-1, 2]}}):
        assert "aa" not in TrafficSeries.from_json(hostile)
    mixed = TrafficSeries.from_json(
        {"aa": {"last": [1, 2], "minutes": [[60, 1, 1], ["x"], [0, True, 1], [0, 2, 2]]}}
    )
    assert mixed.minutes("aa") == [[0, 2, 2], [60, 1, 1]]
