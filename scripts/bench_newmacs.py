"""A flood of new source MACs through the engine with every detector attached.

N TCP SYNs, each from a new random (locally administered, unicast) MAC towards one
router, 1 ms apart: every frame starts a flow and a device, and the flows stay live
(idle timeout 120 s), so an evicted device record kept alive by its flow shows in
the count of live DeviceRecord objects at the end.
"""

from __future__ import annotations

import argparse
import gc
import random
import struct
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from custom_components.totem.engine.cli_analyze import build_engine
from custom_components.totem.engine.devices import DeviceRecord

ROUTER = bytes.fromhex("021122334455")
LINKTYPE_ETHERNET = 1


def syn(src_mac: bytes, src_ip: bytes, sport: int) -> bytes:
    """An Ethernet + IPv4 + TCP SYN frame (checksums zero: the engine does not check)."""
    ip = struct.pack(
        "!BBHHHBBH4s4s", 0x45, 0, 40, 0, 0, 64, 6, 0, src_ip, bytes([93, 184, 216, 34])
    )
    tcp = struct.pack("!HHIIBBHHH", sport, 443, 1, 0, 0x50, 0x02, 65535, 0, 0)
    return ROUTER + src_mac + b"\x08\x00" + ip + tcp


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--macs", type=int, default=30_000, help="new MACs (default 30000)")
    parser.add_argument("--max-devices", type=int, default=4_096)
    parser.add_argument("--seed", type=int, default=16)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    packets = []
    for i in range(args.macs):
        mac = bytes([0x02 | (rng.randrange(256) & 0xFC)]) + rng.randbytes(5)
        ip = bytes([10, rng.randrange(256), rng.randrange(256), 1 + rng.randrange(254)])
        frame = syn(mac, ip, 1024 + rng.randrange(60000))
        packets.append((1_700_000_000.0 + i * 0.001, len(frame), frame, LINKTYPE_ETHERNET))
    engine = build_engine(max_devices=args.max_devices)
    start = time.perf_counter()
    for i in range(0, len(packets), 1000):
        engine.process(packets[i : i + 1000])
    elapsed = time.perf_counter() - start
    gc.collect()
    live = sum(1 for o in gc.get_objects() if isinstance(o, DeviceRecord))
    print(
        f"{args.macs} new MACs in {elapsed:.2f} s: {args.macs / elapsed:,.0f} new MACs/s; "
        f"table {len(engine.devices)}/{args.max_devices}, live flows {len(engine.flow_table)}, "
        f"evicted {engine.stats.devices_evicted}, live DeviceRecord objects {live} "
        f"({live / args.max_devices:.2f} x max_devices)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
