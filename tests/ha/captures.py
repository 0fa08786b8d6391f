"""Captures written by the tests, and the engine's own reading of a capture."""

from __future__ import annotations

import random
from pathlib import Path

from custom_components.totem.engine.cli_analyze import build_engine
from custom_components.totem.engine.model import DeviceRow
from custom_components.totem.engine.sources import Packet, read_captures, write_pcap
from tests.traffic.synth import eth, ipv4, udp

ROUTER = bytes.fromhex("00b56d0608ba")
ROUTER_IP = bytes([192, 168, 1, 1])


def analyze(path: Path) -> dict[str, DeviceRow]:
    """The device table the engine builds from the file, to compare Home Assistant with."""
    engine = build_engine()
    for batch in read_captures([path]):
        engine.process(batch)
    return {row.mac: row for row in engine.snapshot().devices}


def mac_bytes(mac: str) -> bytes:
    return bytes.fromhex(mac.replace(":", ""))


def chat(mac: str, ip: int, start: float, count: int, step: float = 0.5) -> list[Packet]:
    """A device asking the router's DNS, each query from a new port, and the answers."""
    src = mac_bytes(mac)
    addr = bytes([192, 168, 1, ip])
    packets: list[Packet] = []
    for i in range(count):
        ts = start + i * step
        port = 40000 + i
        up = eth(ROUTER, src, 0x0800, ipv4(addr, ROUTER_IP, 17, udp(port, 53, b"q" * 40)))
        down = eth(src, ROUTER, 0x0800, ipv4(ROUTER_IP, addr, 17, udp(53, port, b"a" * 80)))
        packets += [(ts, len(up), up, 1), (ts + 0.01, len(down), down, 1)]
    return packets


def write(path: Path, packets: list[Packet]) -> Path:
    write_pcap(path, sorted(packets, key=lambda p: p[0]))
    return path


def mac_flood(path: Path, spoofed: int, real: list[str], seed: int = 7) -> Path:
    """macof-style: each spoofed MAC sends one IPv4 frame from a random address."""
    rng = random.Random(seed)
    packets: list[Packet] = []
    for n, mac in enumerate(real):
        # Real devices keep talking during and after the flood, as they do.
        packets += chat(mac, 10 + n, 1000.0, 20)
    for i in range(spoofed):
        src = bytes([0x02, *rng.randbytes(5)])
        dst = bytes([0x02, *rng.randbytes(5)])
        frame = eth(dst, src, 0x0800, ipv4(rng.randbytes(4), rng.randbytes(4), 6, b"\x00" * 20))
        packets.append((1001.0 + i * 0.0001, len(frame), frame, 1))
    return write(path, packets)
