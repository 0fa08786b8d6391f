"""Shared fixtures.

The Home Assistant test harness puts its own ``custom_components`` package on
the path; importing ours first makes Home Assistant find the ``totem`` domain.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

import custom_components.totem  # noqa: F401  (must come before the harness's package)

ROOT = Path(__file__).resolve().parent.parent
VENDORED_PCAPS = ROOT / "tests" / "pcaps"
SHARED_PCAPS = ROOT.parent / "shared" / "pcaps"


def shared_pcap(name: str) -> Path:
    """A capture from ../shared/pcaps, or a skip that says why it is missing."""
    path = SHARED_PCAPS / name
    if not path.exists():
        pytest.skip(f"{name} is not vendored (licence) and ../shared/pcaps is absent here")
    return path


def any_pcap(name: str) -> Path:
    """A capture from tests/pcaps if vendored there, else from ../shared/pcaps."""
    path = VENDORED_PCAPS / name
    if path.exists():
        return path
    return shared_pcap(name)


def require_root(what: str) -> None:
    if os.geteuid() != 0:
        pytest.skip(f"{what} needs root (network namespaces); CI runs it as root")


def require_tool(tool: str) -> str:
    found = shutil.which(tool)
    if found is None:
        pytest.skip(f"{tool} is not installed here; scripts/setup installs it on Debian as root")
    return found
