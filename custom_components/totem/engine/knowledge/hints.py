"""Small typed tables: OUI maker classes, host-name tokens, DNS-SD services and HomeKit codes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from . import read_tsv
from .globs import glob_match

OUI_CLASSES = "oui_classes.tsv"
HOSTNAME_TOKENS = "hostname_tokens.tsv"
MDNS_SERVICES = "mdns_services.tsv"

OUI_CLASS_NAMES = frozenset(
    {
        "iot_module",
        "laptop_wifi",
        "wifi_card",
        "pc_board",
        "laptop_odm",
        "pc_maker",
        "phone_maker",
        "network_gear",
        "camera_maker",
        "tv_maker",
        "printer_maker",
        "nas_maker",
        "console_maker",
        "smart_home",
    }
)
_SPLIT = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True, slots=True)
class OuiClass:
    """A maker-name pattern and the class of hardware it suggests, with a weight."""

    pattern: re.Pattern[str]
    cls: str
    weight: int
    comment: str


@dataclass(frozen=True, slots=True)
class Hint:
    """One row: a value of some kind -> a TOTEM type (None: no type) with a weight."""

    kind: str
    value: str
    type: str | None
    weight: int
    source: str


@cache
def oui_classes() -> tuple[OuiClass, ...]:
    return tuple(
        OuiClass(
            re.compile(r["pattern"], re.IGNORECASE), r["class"], int(r["weight"]), r["comment"]
        )
        for r in read_tsv(OUI_CLASSES)
    )


def oui_class(vendor: str | None) -> OuiClass | None:
    """The first class whose pattern matches the start of an aiooui vendor name."""
    if not vendor:
        return None
    return next((c for c in oui_classes() if c.pattern.match(vendor)), None)


def _hints(name: str) -> tuple[Hint, ...]:
    return tuple(
        Hint(
            r["kind"],
            r["value"].lower(),
            None if r["type"] == "-" else r["type"],
            int(r["weight"]),
            r["source"],
        )
        for r in read_tsv(name)
    )


@cache
def hostname_hints() -> tuple[Hint, ...]:
    return _hints(HOSTNAME_TOKENS)


@cache
def mdns_hints() -> tuple[Hint, ...]:
    return _hints(MDNS_SERVICES)


def hostname_tokens(hostname: str) -> list[str]:
    """A host name's pieces: split on every character that is not a letter or a digit."""
    return [p for p in _SPLIT.split(hostname.lower()) if p]


def match_hostname(hostname: str) -> list[Hint]:
    """Rows whose token is a piece of the name, or whose pattern matches the whole name."""
    name = hostname.lower()
    pieces = set(hostname_tokens(name))
    return [
        h
        for h in hostname_hints()
        if (h.kind == "token" and h.value in pieces)
        or (h.kind == "pattern" and glob_match(name, h.value))
    ]


def match_service(service_type: str) -> Hint | None:
    key = service_type.lower().removesuffix(".").removesuffix(".local")
    return next((h for h in mdns_hints() if h.kind == "service" and h.value == key), None)


def homekit_category(ci: str | int) -> Hint | None:
    key = str(ci).strip()
    return next((h for h in mdns_hints() if h.kind == "homekit_ci" and h.value == key), None)
