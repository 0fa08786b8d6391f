"""Memory follows max_devices: a MAC flood with live flows keeps no evicted record alive."""

from __future__ import annotations

import gc
import random
import struct

from custom_components.totem.engine.cli_analyze import build_engine
from custom_components.totem.engine.devices import DeviceRecord

ROUTER = bytes.fromhex("021122334455")


def _syn(src_mac: bytes, src_ip: bytes, sport: int) -> bytes:
    ip = struct.pack(
        "!BBHHHBBH4s4s", 0x45, 0, 40, 0, 0, 64, 6, 0, src_ip, bytes([93, 184, 216, 34])
    )
    tcp = struct.pack("!HHIIBBHHH", sport, 443, 1, 0, 0x50, 0x02, 65535, 0, 0)
    return ROUTER + src_mac + b"\x08\x00" + ip + tcp


def test_a_flood_of_20000_macs_keeps_at_most_max_devices_records_alive() -> None:
    """Each flow held its devices: 20,000 live flows kept ~20,000 records for a 4,096 table."""
    rng = random.Random(11)
    engine = build_engine(max_devices=4096)
    packets = []
    for i in range(20_000):
        mac = bytes([0x02 | (rng.randrange(256) & 0xFC)]) + rng.randbytes(5)
        ip = bytes([10, rng.randrange(256), rng.randrange(256), 1 + rng.randrange(254)])
        frame = _syn(mac, ip, 1024 + rng.randrange(60000))
        packets.append((1_700_000_000.0 + i * 0.001, len(frame), frame, 1))
    for i in range(0, len(packets), 2000):
        engine.process(packets[i : i + 2000])
    assert len(engine.flow_table) == 20_000  # every flow still live (idle timeout 120 s)
    assert engine.stats.devices_evicted > 15_000
    gc.collect()
    live = sum(1 for o in gc.get_objects() if isinstance(o, DeviceRecord))
    # The margin: records a detector holds for the frame it is looking at.
    assert live <= 4096 + 16
