"""Checks of a capture source, shared by the config flow's steps.

They run in the executor: they touch the file system.
"""

from __future__ import annotations

import os
from pathlib import Path

from .const import CAPTURE_MAGICS
from .engine.blocklist import BlocklistError, load_blocklist
from .engine.leases import MAX_FILE_BYTES

SYS_CLASS_NET = Path("/sys/class/net")


def list_interfaces(root: Path | None = None) -> list[str]:
    """Network interfaces of this machine, as the kernel lists them."""
    try:
        return sorted(p.name for p in (root or SYS_CLASS_NET).iterdir())
    except OSError:
        return []


def is_bridge(name: str, root: Path | None = None) -> bool:
    """A Linux bridge: where a Pi bridging the IoT Wi-Fi sees every device's frames."""
    return ((root or SYS_CLASS_NET) / name / "bridge").is_dir()


def interface_exists(name: str, root: Path | None = None) -> bool:
    return bool(name) and "/" not in name and ((root or SYS_CLASS_NET) / name).exists()


def check_blocklist_file(path: str) -> str | None:
    """None when the probe can load the blocklist (a bounded regular file of entries it
    understands), else the options form's error key. Runs in the executor."""
    try:
        load_blocklist(Path(path).expanduser())
    except BlocklistError:
        return "blocklist_unreadable"
    return None


def check_leases_file(path: str) -> str | None:
    """None when the probe can read the DHCP lease file (a readable regular file of at
    most the size it reads), else the options form's error key. Runs in the executor.
    An empty file is fine: a router just restarted has no leases yet."""
    file = Path(path).expanduser()
    try:
        if not file.is_file() or file.stat().st_size > MAX_FILE_BYTES:
            return "leases_unreadable"
        with file.open("rb") as handle:
            handle.read(1)
    except OSError:
        return "leases_unreadable"
    return None


def check_capture_file(path: str) -> str | None:
    """None when the file is a readable pcap/pcapng, else the form's error key."""
    file = Path(path).expanduser()
    if not file.is_file():
        return "file_not_found"
    if not os.access(file, os.R_OK):
        return "file_not_readable"
    try:
        with file.open("rb") as handle:
            magic = handle.read(4)
    except OSError:
        return "file_not_readable"
    if magic not in CAPTURE_MAGICS:
        return "unsupported_format"
    return None
