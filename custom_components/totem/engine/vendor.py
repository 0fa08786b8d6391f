"""Manufacturer of a MAC address from its OUI, with aiooui's data file.

aiooui (a Home Assistant dependency) only offers an asyncio loader; the
engine is synchronous, so it reads the same ``oui.data`` file (lines of
``OUI=Vendor``) once, on first use.

The table is kept compact: the file's bytes plus two arrays (OUI, offset),
searched by bisection, about 1.4 MB instead of the 12 MB a dict of 37,000
strings costs. The probe must stay under its memory bound, and lookups only
happen when a snapshot is built.
"""

from __future__ import annotations

import importlib.util
from array import array
from bisect import bisect_left
from dataclasses import dataclass
from pathlib import Path


@dataclass(slots=True)
class _Table:
    blob: bytes
    ouis: array[int]
    offsets: array[int]  # start of the vendor name in ``blob``


_table: _Table | None = None


def _load() -> _Table:
    # Locate the file without importing aiooui: its __init__ imports asyncio,
    # 7 MB of RSS the probe has no use for.
    spec = importlib.util.find_spec("aiooui")
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    blob = b""  # no vendor names rather than no engine
    for location in locations:
        try:
            blob = (Path(location) / "oui.data").read_bytes()
            break
        except OSError:
            continue
    ouis: array[int] = array("I")
    offsets: array[int] = array("I")
    ordered = True
    pos = 0
    while pos < len(blob):
        end = blob.find(b"\n", pos)
        if end < 0:
            end = len(blob)
        if blob[pos + 6 : pos + 7] == b"=":
            try:
                oui = int(blob[pos : pos + 6], 16)
            except ValueError:
                oui = -1
            if oui >= 0:
                ordered = ordered and (not ouis or ouis[-1] <= oui)
                ouis.append(oui)
                offsets.append(pos + 7)
        pos = end + 1
    if not ordered:  # the file is sorted today; bisection must not depend on it
        pairs = sorted(zip(ouis, offsets, strict=True))
        ouis = array("I", (p[0] for p in pairs))
        offsets = array("I", (p[1] for p in pairs))
    return _Table(blob, ouis, offsets)


def is_locally_administered(mac: bytes) -> bool:
    """True for randomised / locally administered MACs: their OUI names no vendor."""
    return bool(mac) and bool(mac[0] & 0x02)


def lookup(mac: bytes) -> str | None:
    """The registered vendor of a universally administered MAC, else None."""
    global _table
    if len(mac) < 3 or is_locally_administered(mac):
        return None
    if _table is None:
        _table = _load()
    oui = mac[0] << 16 | mac[1] << 8 | mac[2]
    i = bisect_left(_table.ouis, oui)
    if i == len(_table.ouis) or _table.ouis[i] != oui:
        return None
    start = _table.offsets[i]
    end = _table.blob.find(b"\n", start)
    name = _table.blob[start : end if end >= 0 else len(_table.blob)]
    return name.decode("utf-8", errors="replace").strip() or None
