"""The detectors' sliding windows (detectors/window.py) against a plain reference."""

from __future__ import annotations

import random
from collections import OrderedDict

from custom_components.totem.engine.detectors.window import DistinctInWindow


def _reference_add(
    seen: OrderedDict[object, float], key: object, ts: float, window: float, cap: int
) -> int:
    """The window's rule spelled out: re-seen keys move to the back, keys at the front
    older than the window go, then the oldest past the cap."""
    if key in seen:
        seen.move_to_end(key)
    seen[key] = ts
    while seen and next(iter(seen.values())) < ts - window:
        seen.popitem(last=False)
    while len(seen) > cap:
        seen.popitem(last=False)
    return len(seen)


def test_distinct_in_window_counts_like_the_reference() -> None:
    rng = random.Random(11)
    for window, cap in ((0.0, 1), (5.0, 3), (60.0, 81), (2.5, 1000)):
        counted = DistinctInWindow(window, cap)
        reference: OrderedDict[object, float] = OrderedDict()
        ts = 0.0
        for _ in range(3000):
            ts += rng.choice((0.0, 0.01, 0.5, 3.0, 10.0))
            late = ts - rng.choice((0.0, 0.0, 0.0, 1.0, 7.0))  # now and then out of order
            key = rng.randrange(40)
            assert counted.add(key, late) == _reference_add(reference, key, late, window, cap)
            assert counted.keys() == list(reference)
