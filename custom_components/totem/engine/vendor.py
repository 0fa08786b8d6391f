"""Manufacturer of a MAC address from its OUI, through aiooui's public API.

aiooui (a Home Assistant dependency) loads its table with a coroutine; the
engine is synchronous, so the table is loaded once, on first use, with a
short-lived event loop (in a worker thread if the caller already runs one).
Only the public functions are used: aiooui 0.1.11 changed its data file from
text to a binary table, and code reading the file itself broke.
"""

from __future__ import annotations

import asyncio
import threading

import aiooui


def _load() -> None:
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


def is_locally_administered(mac: bytes) -> bool:
    """True for randomised / locally administered MACs: their OUI names no vendor."""
    return bool(mac) and bool(mac[0] & 0x02)


def lookup(mac: bytes) -> str | None:
    """The registered vendor of a universally administered MAC, else None."""
    if len(mac) < 3 or is_locally_administered(mac):
        return None
    _load()
    name = aiooui.get_vendor(mac[:3].hex(":"))
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
