"""Worst-case inputs for memory checks: a flood of distinct flows.

``python -m tests.traffic.flood N`` feeds N distinct flows
through an engine and prints the flow-table size and peak RSS as JSON; the
memory test and ``scripts/bench`` both run it in a fresh process.
"""

from __future__ import annotations

import json
import resource
import struct
import sys
from collections.abc import Iterator

from custom_components.totem.engine.engine import Engine, EngineConfig
from custom_components.totem.engine.sources import Packet

from .synth import eth, ipv4, tcp

SRC = bytes.fromhex("02deadbeef01")
DST = bytes.fromhex("02deadbeef02")


def flood_batches(count: int, batch_size: int = 4096) -> Iterator[list[Packet]]:
    """SYNs from one host to ``count`` distinct (address, port) pairs, 10 µs apart."""
    template = eth(DST, SRC, 0x0800, ipv4(b"\xc0\xa8\x01\x02", b"\0\0\0\0", 6, tcp(0, 80, 1, 0, 2)))
    head, tail = template[:30], template[34:]
    sport_at = 34 - 30
    batch: list[Packet] = []
    for i in range(count):
        dst_ip = struct.pack("!I", 0x0A000000 + (i >> 6))
        body = bytearray(tail)
        body[sport_at - 4 : sport_at - 2] = struct.pack("!H", 1024 + (i & 63))
        frame = head + dst_ip + bytes(body)
        batch.append((1_700_000_000 + i * 1e-5, len(frame), frame, 1))
        if len(batch) == batch_size:
            yield batch
            batch = []
    if batch:
        yield batch


def peak_rss_kb() -> int:
    """This process's own peak RSS.

    Not ``getrusage``: Linux keeps ru_maxrss across exec, so a child started by a
    big process (pytest) would report its parent's peak.
    """
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def main(argv: list[str]) -> int:
    count = int(argv[0]) if argv else 1_000_000
    engine = Engine(EngineConfig())
    largest = 0
    for batch in flood_batches(count):
        engine.process(batch)
        largest = max(largest, len(engine.flow_table))
    snap = engine.snapshot()
    peak_kb = peak_rss_kb()
    print(
        json.dumps(
            {
                "flows_total": snap.stats.flows_total,
                "flows_evicted": snap.stats.flows_evicted,
                "largest_flow_table": largest,
                "max_flows": engine.config.max_flows,
                "tx_packets": snap.devices[0].tx_packets if snap.devices else 0,
                "peak_rss_mb": round(peak_kb / 1024, 1),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
