"""Per-MAC counters as tshark's ``-z endpoints,eth`` reports them: the reference."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

_ROW = re.compile(r"^([0-9a-f]{2}(?::[0-9a-f]{2}){5})\s+" + r"\s+".join([r"(\d+)"] * 6))


def tshark_endpoints(tshark: str, path: Path) -> dict[str, list[int]]:
    """Unicast MACs that sent at least one frame -> [tx_packets, tx_bytes, rx_packets, rx_bytes]."""
    out = subprocess.run(
        [tshark, "-n", "-r", str(path), "-q", "-z", "endpoints,eth"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    table: dict[str, list[int]] = {}
    for line in out.splitlines():
        m = _ROW.match(line.strip())
        if not m:
            continue
        mac = m.group(1)
        _pk, _by, tx_p, tx_b, rx_p, rx_b = (int(g) for g in m.groups()[1:])
        if int(mac[:2], 16) & 1 or tx_p == 0:
            continue
        table[mac] = [tx_p, tx_b, rx_p, rx_b]
    return table
