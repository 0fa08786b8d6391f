"""The scenario family itself: its split is clean and its homes are what they claim."""

from __future__ import annotations

from custom_components.totem.engine.netaddr import is_locally_administered, mac_bytes
from tests.traffic.evaluate import (
    FAMILY_TUNING_SEEDS,
    HELD_BACK_SEEDS,
    HELD_BACK_SHAPES,
    TUNING_SHAPES,
)
from tests.traffic.family import GRO, SHAPES, build_family


def test_tuning_and_held_back_share_no_shape_and_no_seed() -> None:
    assert not set(TUNING_SHAPES) & set(HELD_BACK_SHAPES)
    assert set(TUNING_SHAPES) | set(HELD_BACK_SHAPES) == set(SHAPES)
    assert not set(FAMILY_TUNING_SEEDS) & set(HELD_BACK_SEEDS)
    assert len(HELD_BACK_SEEDS) >= 20


def test_a_home_of_the_family_is_labelled_anonymised_and_holds_its_traps() -> None:
    shape = SHAPES["few-devices"]
    scenario = build_family(3, shape)
    macs = {d.mac for d in scenario.devices}
    times = [p[0] for p in scenario.packets]
    assert times == sorted(times)
    # Every labelled device is in the capture (the rogue DHCP server joins in it).
    sources = {p[2][6:12] for p in scenario.packets}
    for inj in scenario.injections:
        assert inj.mac is None or mac_bytes(inj.mac) in sources, inj.label
        assert scenario.learn_seconds < inj.start - scenario.packets[0][0]
    # The anonymised share: people's machines on random MACs, nobody named.
    nameless = [d for d in scenario.devices if not d.hostname]
    assert nameless
    for dev in nameless:
        if dev.kind in ("phone", "laptop"):
            assert is_locally_administered(dev.mac)
    # The phone's backup is there, as GRO records of a bulk upload.
    phone = next(d for d in scenario.devices if d.kind == "phone")
    upload = sum(p[1] for p in scenario.packets if p[1] == GRO and p[2][6:12] == phone.mac)
    assert upload > 300_000_000
    assert macs <= sources
