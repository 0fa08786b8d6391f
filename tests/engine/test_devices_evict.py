"""Which records a full device table forgets: the policy, checked against its definition."""

from __future__ import annotations

import random

import pytest

from custom_components.totem.engine.devices import DeviceRecord, DeviceTable
from custom_components.totem.engine.model import EngineStats


def policy(records: list[DeviceRecord], count: int) -> list[bytes]:
    """The policy as one stable sort of the whole table: strangers (never answered, no
    DHCP) before known devices, idle before those with a live flow, least recently seen
    first, ties in table order."""
    order = sorted(
        records, key=lambda d: (d.answered or d.sent_dhcp, d.active_flows > 0, d.last_seen)
    )
    return [d.mac for d in order[:count]]


@pytest.mark.parametrize("seed", range(8))
def test_eviction_forgets_the_eighth_the_policy_names_in_its_order(seed: int) -> None:
    rng = random.Random(seed)
    evicted: list[bytes] = []
    stats = EngineStats()
    size = rng.choice([9, 64, 500, 4096])
    table = DeviceTable(size, stats, lambda _ts, _mac: None, evicted.append)
    # Few distinct times, so ties are common; class sizes vary from empty to most of the
    # table, so the eighth ends inside a class or spans several.
    mix = rng.random()
    for i in range(size):
        dev = DeviceRecord(i.to_bytes(2, "big") + rng.randbytes(4))
        dev.answered = rng.random() < mix
        dev.sent_dhcp = rng.random() < 0.1
        dev.active_flows = rng.choice([0, 0, 1, 3])
        dev.last_seen = float(rng.randrange(20))
        table.records[dev.mac] = dev
    before = list(table.records.values())
    expected = policy(before, max(1, size // 8))
    table._evict()
    assert evicted == expected
    assert stats.devices_evicted == len(expected)
    assert list(table.records) == [d.mac for d in before if d.mac not in set(expected)]
