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
