"""Garbage in, counters out: the decoder never raises, whatever the frame."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from custom_components.totem.engine.engine import Engine
from custom_components.totem.engine.sources import (
    LINKTYPE_ETHERNET,
    LINKTYPE_LINUX_SLL,
    LINKTYPE_LINUX_SLL2,
    read_captures,
)
from tests.conftest import VENDORED_PCAPS

MUTATED_FRAMES = 200_000


def seed_frames() -> list[bytes]:
    frames = []
    for path in sorted(VENDORED_PCAPS.glob("*.pcap*")):
        for batch in read_captures([path]):
            frames.extend(p[2] for p in batch[:200])
    return frames


def mutate(rnd: random.Random, frame: bytes) -> bytes:
    data = bytearray(frame)
    for _ in range(rnd.randrange(1, 6)):
        op = rnd.randrange(5)
        if op == 0 and data:  # flip bytes, biased towards the headers
            pos = min(int(rnd.expovariate(1 / 40)), len(data) - 1)
            data[pos] = rnd.randrange(256)
        elif op == 1:  # cut anywhere
            del data[rnd.randrange(len(data) + 1) :]
        elif op == 2:  # insert junk
            pos = rnd.randrange(len(data) + 1)
            data[pos:pos] = rnd.randbytes(rnd.randrange(1, 16))
        elif op == 3 and len(data) > 24:  # bogus IP header length / version
            data[14] = rnd.choice((0x40, 0x4F, 0x60, 0x45, 0x41, 0xF5))
        elif op == 4 and len(data) > 54:  # bogus TCP data offset / IPv6 next header
            data[rnd.choice((20, 46, 54))] = rnd.randrange(256)
    return bytes(data)


def test_200k_mutated_real_frames_never_raise_and_are_all_counted() -> None:
    rnd = random.Random(20261125)
    seeds = seed_frames()
    assert len(seeds) > 1000
    engine = Engine()
    batch = []
    for i in range(MUTATED_FRAMES):
        data = mutate(rnd, rnd.choice(seeds))
        linktype = (
            LINKTYPE_ETHERNET if i % 50 else rnd.choice((LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2))
        )
        batch.append((1_700_000_000 + i * 0.001, len(data), data, linktype))
        if len(batch) == 4096:
            engine.process(batch)
            batch = []
    engine.process(batch)
    snap = engine.snapshot()
    engine.flush()
    assert engine.packets == MUTATED_FRAMES
    assert snap.stats.malformed + snap.stats.truncated > 0  # the corpus really was broken
    assert all(d.tx_packets > 0 for d in snap.devices)


@settings(max_examples=3000, deadline=None)
@given(data=st.binary(max_size=200), linktype=st.sampled_from([1, 113, 276]))
def test_arbitrary_bytes_never_raise(data: bytes, linktype: int) -> None:
    engine = Engine()
    engine.process([(1.0, len(data), data, linktype)])
    engine.process([(2.0, len(data), data, linktype)])
    snap = engine.snapshot()
    assert snap.packets == 2
