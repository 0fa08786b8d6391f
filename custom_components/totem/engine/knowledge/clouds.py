"""Cloud and service domains -> vendor and device types, by suffix at a label boundary."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from . import read_tsv

DATA = "clouds.tsv"
GENERAL = "general"  # general web: a browsing computer or phone
NTP = "ntp"  # a time service: says nothing about the device


@dataclass(frozen=True, slots=True)
class Cloud:
    """A cloud's domain suffix: whose service it is and which device types use it."""

    suffix: str
    vendor: str
    types: tuple[str, ...]
    source: str


@cache
def table() -> dict[str, Cloud]:
    """Suffix -> row."""
    out: dict[str, Cloud] = {}
    for row in read_tsv(DATA):
        suffix = row["suffix"].lower().strip(".")
        types = tuple(t.strip() for t in row["types"].split(",") if t.strip())
        out[suffix] = Cloud(suffix, row["vendor"], types, row["source"])
    return out


def match(domain: str) -> Cloud | None:
    """The longest suffix row covering ``domain`` ("bridge.meethue.com" -> meethue.com)."""
    rows = table()
    labels = domain.lower().rstrip(".").split(".")
    for start in range(len(labels) - 1):
        hit = rows.get(".".join(labels[start:]))
        if hit is not None:
            return hit
    return None
