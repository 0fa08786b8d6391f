"""Soak through Home Assistant: the real probe replaying the demo home in a loop while the
integration is reloaded (the probe restarted), devices blocked and unblocked, and new
devices approved, cycle after cycle. Not collected with the suite (no ``test_`` prefix):
``scripts/soak-ha`` runs it and prints, per cycle, Home Assistant's and the probe's RSS,
the largest gap between two coordinator updates while the probe ran and the reload's
outage; it fails if a block or an approval is lost across a reload, or the probe's RSS
grows cycle after cycle.

The kernel is faked at the nft boundary, as in test_switch.py.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from functools import partial
from itertools import pairwise
from pathlib import Path
from unittest.mock import patch

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError

from custom_components.totem.const import DOMAIN, EVENT_NEW_DEVICE
from tests.engine.test_enforce import FakeNft

from .conftest import replay_entry, setup_entry, wait_for
from .test_block_approval import quarantined
from .test_switch import blocked, fake_kernel

CYCLES = int(os.environ.get("TOTEM_SOAK_CYCLES", "10"))
CYCLE_SECONDS = float(os.environ.get("TOTEM_SOAK_CYCLE_SECONDS", "8"))
UPDATE_INTERVAL = 0.2


@pytest.fixture
def kernel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeNft]:
    with fake_kernel(tmp_path, monkeypatch) as fake:
        yield fake


def stamp(times: list[float]) -> None:
    times.append(time.monotonic())


def after(moment: float) -> bool:
    return time.monotonic() > moment


def rss_mb(pid: int | None) -> float:
    if pid is None:
        return float("nan")
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def service(hass: HomeAssistant, name: str, mac: str) -> None:
    await hass.services.async_call(DOMAIN, name, {"mac": mac}, blocking=True)


async def block_one(hass: HomeAssistant, candidates: list[str]) -> str:
    """Block the first candidate TOTEM agrees to block (never the gateway, the host...)."""
    for mac in candidates:
        try:
            await service(hass, "block_device", mac)
        except ServiceValidationError:
            continue
        return mac
    raise AssertionError(f"none of {candidates} may be blocked")


async def test_soak_reloads_blocks_and_approvals(hass: HomeAssistant, kernel: FakeNft) -> None:
    from custom_components.totem.options import DEMO_CAPTURE

    waiting: list[str] = []
    hass.bus.async_listen(EVENT_NEW_DEVICE, lambda e: waiting.append(e.data["mac"]))
    entry = replay_entry(
        DEMO_CAPTURE,
        speed=50.0,
        loop=True,
        block_backend="nftables-bridge",
        new_devices_wait=True,
        update_interval=UPDATE_INTERVAL,
    )
    rows = []
    approved: list[str] = []
    toggled: set[str] = set()
    sticky: str | None = None  # blocked in the first cycle, must stay blocked
    with patch("custom_components.totem.approval.INITIAL_INVENTORY_SECONDS", 0.0):
        await setup_entry(hass, entry)
        for cycle in range(CYCLES):
            coordinator = entry.runtime_data.coordinator
            updates: list[float] = []
            remove = coordinator.async_add_listener(partial(stamp, updates))
            began = time.monotonic()
            await wait_for(hass, partial(bool, updates), timeout=60, what="a first update")
            outage = updates[0] - began  # the reload: old probe gone to new data
            macs = sorted(coordinator.data.devices)
            if sticky is None:
                sticky = await block_one(hass, macs)
            # Block and unblock another device every cycle; approve who waits.
            turn = cycle % len(macs)
            others = [m for m in macs[turn:] + macs[:turn] if m != sticky and m not in waiting]
            other = await block_one(hass, others)
            assert other in blocked(kernel)
            await service(hass, "unblock_device", other)
            assert other not in blocked(kernel)
            toggled.add(other)
            await hass.async_block_till_done(wait_background_tasks=True)
            for mac in [m for m in waiting if m not in approved and m in quarantined(kernel)]:
                await service(hass, "approve_device", mac)
                approved.append(mac)
            deadline = began + outage + CYCLE_SECONDS
            await wait_for(hass, partial(after, deadline), timeout=CYCLE_SECONDS + 60)
            remove()
            gaps = [b - a for a, b in pairwise(updates)]
            rows.append(
                (cycle, rss_mb(os.getpid()), rss_mb(coordinator.probe.pid), len(updates),
                 max(gaps, default=0.0), outage, len(coordinator.data.devices))
            )  # fmt: skip
            # Nothing lost: the sticky block and every approval hold.
            assert sticky in blocked(kernel), f"cycle {cycle}: the block of {sticky} was lost"
            assert not set(approved) & quarantined(kernel), f"cycle {cycle}: approval lost"
            assert await hass.config_entries.async_reload(entry.entry_id)
            await hass.async_block_till_done()
    await hass.config_entries.async_unload(entry.entry_id)
    print(f"\n{'cycle':>5} {'HA RSS':>7} {'probe RSS':>9} {'updates':>7} {'max gap':>7}"
          f" {'outage':>6} {'devices':>7}")  # fmt: skip
    for cycle, ha_rss, probe_rss, count, gap, outage, devices in rows:
        print(f"{cycle:>5} {ha_rss:>6.1f}M {probe_rss:>8.1f}M {count:>7} {gap:>6.2f}s"
              f" {outage:>5.2f}s {devices:>7}")  # fmt: skip
    print(
        f"blocked throughout: {sticky}; blocked and unblocked: {len(toggled)} devices;"
        f" approved: {len(approved)} ({', '.join(approved)})"
    )
    probe = [r[2] for r in rows[1:]]
    # Flat: the last cycles' probe no bigger than the first's by more than a fifth (a
    # restarted probe starts from its state file, so a leak would show as growth).
    assert max(probe[-3:]) <= 1.2 * max(probe[:3]), probe
