"""Manufacturer of a MAC address from its OUI, from aiooui's table.

aiooui (a Home Assistant dependency) loads its table with a coroutine, and importing
it imports asyncio (ssl, logging, concurrent.futures...): about a third of the CLI's
start-up in instructions, for a table ``analyze`` asks a few dozen times. When the
installed aiooui ships a text table (0.1.9's: one ``OUI=Vendor`` line per OUI in
upper-case hex, nothing but a newline between lines; checked when it is read), a
lookup reads that table directly: the line of the OUI, found with one ``rfind`` over
the bytes (the last line wins, as in aiooui's dict), decoded as aiooui decodes it.
Any other data file (aiooui 0.1.11 changed it to a binary table, and code that read the
file blindly broke) goes through aiooui's public API: the table loaded once, on first
use, with a short-lived event loop (in a worker thread if the caller already runs one).
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from typing import Any

# Line breaks other than "\n" that str.splitlines (aiooui's loader) also splits on, as
# UTF-8 bytes: a table holding one is left to aiooui, so a line here is a line there.
_OTHER_BREAKS = (
    b"\r",
    b"\x0b",
    b"\x0c",
    b"\x1c",
    b"\x1d",
    b"\x1e",
    b"\xc2\x85",
    b"\xe2\x80\xa8",
    b"\xe2\x80\xa9",
)
_TEXT_TABLE = re.compile(rb"[0-9A-F]{6}=")

_table: bytes | None = None  # aiooui's text table, when it is one
_api: Any = None  # the aiooui module, when its table is not text
_cache: dict[bytes, str | None] = {}


def _holds(data: bytes, needle: bytes) -> bool:
    """``needle in data``, found from the places of its first byte. ``in`` walks the
    whole table for a needle of two or three bytes, where the C library's memchr finds
    one byte at a fraction of the cost; every occurrence starts at one of those places
    (aiooui 0.1.9's 1.1 MB table holds 81 of the lead bytes). The check of
    _OTHER_BREAKS costs 1.2M instructions so, 11.2M with ``in``."""
    first = needle[:1]
    at = data.find(first)
    while at >= 0:
        if data.startswith(needle, at):
            return True
        at = data.find(first, at + 1)
    return False


def _text_table() -> bytes | None:
    """aiooui's data file when it is the text table described above, else None."""
    spec = importlib.util.find_spec("aiooui")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        try:
            data = (Path(folder) / "oui.data").read_bytes()
        except OSError:
            continue
        if _TEXT_TABLE.match(data) and not any(_holds(data, brk) for brk in _OTHER_BREAKS):
            return data
        return None
    return None


def _load() -> None:
    global _table, _api
    if _table is not None or _api is not None:
        return
    _table = _text_table()
    if _table is not None:
        return
    import asyncio  # only for a table that is not text
    import threading

    import aiooui

    _api = aiooui
    if aiooui.is_loaded():
        return
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(aiooui.async_load())
        return
    # Called from inside an event loop (an embedding application): load aside.
    worker = threading.Thread(target=lambda: asyncio.run(aiooui.async_load()))
    worker.start()
    worker.join()


def _registry_name(oui: bytes) -> str | None:
    """aiooui's vendor string for a 3-byte OUI (None when it has none)."""
    _load()
    if _table is None:
        name: str | None = _api.get_vendor(oui.hex(":"))
        return name
    if oui in _cache:
        return _cache[oui]
    key = oui.hex().upper().encode()
    table = _table
    at = table.rfind(b"\n" + key + b"=")
    if at >= 0:
        start = at + 8
    elif table.startswith(key + b"="):
        start = 7
    else:
        _cache[oui] = None
        return None
    end = table.find(b"\n", start)
    found = table[start : end if end >= 0 else len(table)].decode("utf-8", "replace")
    _cache[oui] = found
    return found


def is_locally_administered(mac: bytes) -> bool:
    """True for randomised / locally administered MACs: their OUI names no vendor."""
    return bool(mac) and bool(mac[0] & 0x02)


def lookup(mac: bytes) -> str | None:
    """The registered vendor of a universally administered MAC, else None."""
    if len(mac) < 3 or is_locally_administered(mac):
        return None
    name = _registry_name(bytes(mac[:3]))
    return name.strip() or None if name else None


# Company-form and filler words that end the brand part of a registry name.
_LEGAL_WORDS = frozenset(
    {
        "co", "co.", "company", "corp", "corp.", "corporation", "inc", "inc.", "incorporated",
        "ltd", "ltd.", "limited", "llc", "gmbh", "ag", "sa", "s.a.", "srl", "bv", "b.v.",
        "nv", "plc", "kg", "ab", "oy", "as", "spa", "pte", "pty", "kk", "technologies",
        "technology", "tech", "electronics", "communications", "international", "trading",
        "systems", "networks", "network", "industries", "industrial", "group", "holdings",
        "manufacturing", "mfg", "semiconductor", "microelectronics", "corporate", "intl",
        "electronic", "(shenzhen)",
    }
)  # fmt: skip
# Places that lead some registry names ("Sichuan AI-Link", "Shenzhen Bilian").
_LEADING_PLACES = frozenset(
    {"shenzhen", "hangzhou", "guangdong", "beijing", "sichuan", "zhejiang", "shanghai", "xiamen"}
)
# Brands whose registry spelling is not how the brand writes itself (public knowledge).
_BRAND_SPELLING: dict[str, str] = {
    "tp-link": "TP-Link",
    "d-link": "D-Link",
    "asustek": "ASUS",
    "hon hai": "Foxconn",
    "lg": "LG",
    "xiaomi": "Xiaomi",
    "huawei": "Huawei",
    "liteon": "Lite-On",
    "ai-link": "AI-Link",
    "espressif": "Espressif",
    "netgear": "NETGEAR",
    "realtek": "Realtek",
    "avm": "AVM",
    "philips lighting": "Philips Hue",
    "signify": "Philips Hue",
    "itead": "ITEAD (Sonoff)",
}


def short_name(registry: str | None) -> str | None:
    """A short, clean vendor name: 'TP-Link' from 'TP-LINK TECHNOLOGIES CO.,LTD.',
    'Espressif' from 'Espressif Inc.'; the registry string stays in diagnostics."""
    if not registry:
        return None
    words: list[str] = []
    head = registry.split("(", 1)[0] if not registry.startswith("(") else registry
    for raw in head.replace(",", " ").split():
        low = raw.lower().strip(".")
        if words and (low in _LEGAL_WORDS or f"{low}." in _LEGAL_WORDS or len(words) == 3):
            break
        if not words and low in _LEADING_PLACES:
            continue
        word = raw.rstrip(".")
        if len(word) >= 4 and word.isalpha() and word.isupper():
            word = word.capitalize()  # "CANON" -> "Canon"; brands spelled so are below
        words.append(word)
    if not words:
        return registry.strip() or None
    brand = " ".join(words)
    for key in (brand.lower(), " ".join(words[:2]).lower(), words[0].lower()):
        if key in _BRAND_SPELLING:
            return _BRAND_SPELLING[key]
    return brand
