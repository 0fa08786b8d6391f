"""Soak through Home Assistant: the real probe replaying the demo home in a loop while the
integration is reloaded (the probe restarted) or Home Assistant itself is restarted (this
instance stopped, a new one started on the same config dir and storage), devices blocked
and unblocked, and new devices approved, cycle after cycle. Not collected with the suite
(no ``test_`` prefix): ``scripts/soak-ha`` runs it and prints, per cycle, Home
Assistant's and the probe's RSS, the largest gap between two coordinator updates while
the probe ran, the outage of the reload or restart before it, and per restart what
survived and what the old instance left behind.

It fails when:
- a gap between two updates exceeds GAP_BOUND (two snapshot intervals, see below);
- the probe's RSS grows cycle after cycle;
- a block, an approval, a device, the learned engine state, the alert state or the
  activity log is lost across a reload or a restart;
- an Anomaly event entity fires on a restart without a new alert;
- a stopped instance leaves its probe behind (alive or unreaped) or leaks descriptors
  or threads restart after restart.

TOTEM_SOAK_CYCLES (default 10), TOTEM_SOAK_RESTARTS (default 3, spread over the cycles'
transitions, the others are reloads) and TOTEM_SOAK_CYCLE_SECONDS (default 8) size it.

The kernel is faked at the nft boundary, as in test_switch.py.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
from collections.abc import Iterator
from contextlib import AsyncExitStack
from functools import partial
from itertools import pairwise
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
from homeassistant.core import Event, HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.totem.const import (
    CONF_ACTIVITY_LINKS,
    DOMAIN,
    EVENT_ANOMALY,
    EVENT_NEW_DEVICE,
)
from custom_components.totem.coordinator import engine_state_file
from tests.engine.test_enforce import FakeNft

from .captures import analyze
from .conftest import find_device, replay_entry, restart_home_assistant, setup_entry, wait_for
from .test_block_approval import quarantined
from .test_switch import blocked, fake_kernel

CYCLES = int(os.environ.get("TOTEM_SOAK_CYCLES", "10"))
RESTARTS = int(os.environ.get("TOTEM_SOAK_RESTARTS", "3"))
CYCLE_SECONDS = float(os.environ.get("TOTEM_SOAK_CYCLE_SECONDS", "8"))
# The probe sends a snapshot every interval of wall time. Half a second, not the 10 s
# default, gives a cycle 16 updates to measure; not less, because this Home Assistant
# loop itself stalls for 0.3 s at times on a loaded machine (asyncio's slow-callback
# warnings in the log), which at 0.2 s would be a gap of two intervals with no fault.
UPDATE_INTERVAL = 0.5
# Issue 16's criterion: no snapshot gap above two intervals. One snapshot late by up to a
# whole interval (a busy probe, a busy loop) is tolerated; a gap beyond that means a
# snapshot was lost or Home Assistant stopped listening. The first update after a reload
# or restart is the outage, reported and bounded apart (OUTAGE_BOUND).
GAP_BOUND = 2 * UPDATE_INTERVAL
# A reload or restart starts a new probe that reads its state file and the replay from
# the start; 1.5-4 s here. 30 s means it never came back.
OUTAGE_BOUND = 30.0
# A restarted probe starts from its state file, so a leak shows as growth: the last
# cycles' probe may exceed the first's by at most a fifth (42-44 MB seen over 10 cycles).
PROBE_RSS_GROWTH = 1.2
# An entity the activity log links to the home's busiest talker, switched every cycle:
# the log records each change with the traffic around it (and an alert when the device
# talks on while its power is off), so the log and the alert state have something to keep.
POWER = "input_boolean.soak_power"


async def power_switch(hass: HomeAssistant, on: bool) -> None:
    assert await async_setup_component(
        hass,
        "input_boolean",
        {"input_boolean": {"soak_power": {"name": "Soak power", "initial": on}}},
    )
    await hass.async_block_till_done()


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


def process_state(pid: int) -> str | None:
    """The kernel's state letter of PID (Z: exited, never reaped), None when gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return None
    return next(line.split()[1] for line in status.splitlines() if line.startswith("State:"))


def probe_children() -> list[int]:
    """This process's children that are TOTEM probes (alive or unreaped)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            stat = (proc / "stat").read_text()
            cmdline = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == os.getpid() and (b"custom_components.totem.engine" in cmdline or "Z" in stat):
            found.append(int(proc.name))
    return found


def threads_outside_pool() -> list[str]:
    """The threads of this process but the event loop's executor workers.

    Every Home Assistant instance of the harness runs on the test's one event loop and
    its default executor ("SyncWorker_n"), which grows its pool on demand up to its
    maximum: workers are no leak. Any other thread an instance starts and leaves
    running is.
    """
    pool = getattr(asyncio.get_running_loop(), "_default_executor", None)
    workers = set(getattr(pool, "_threads", ()))
    return sorted(t.name for t in threading.enumerate() if t not in workers)


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


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


def event_states(hass: HomeAssistant, entry_id: str) -> dict[str, str]:
    """The Anomaly event entities' states (the time of their last alert)."""
    registry = er.async_get(hass)
    return {
        e.entity_id: state.state
        for e in er.async_entries_for_config_entry(registry, entry_id)
        if e.domain == "event" and (state := hass.states.get(e.entity_id)) is not None
    }


def learned(state_file: str) -> dict[str, Any]:
    """What the probe saved of its engine's observers (baselines, detector state)."""
    return dict(json.loads(Path(state_file).read_text())["observers"])


def lost_keys(before: Any, after: Any, where: str = "") -> list[str]:
    """Dictionary keys (MACs, baselines...) present before and missing after, nested."""
    if not isinstance(before, dict) or not isinstance(after, dict):
        return []
    lost = [f"{where}/{k}" for k in before if k not in after]
    for key in before.keys() & after.keys():
        lost += lost_keys(before[key], after[key], f"{where}/{key}")
    return lost


def relearned(before: Any, after: Any, where: str = "") -> list[str]:
    """Learning periods (``learn_start``, ``learn_until``) that moved: a baseline reset."""
    if not isinstance(before, dict) or not isinstance(after, dict):
        return []
    moved = [
        f"{where}/{k}: {before[k]} -> {after[k]}"
        for k in ("learn_start", "learn_until")
        if k in before and k in after and before[k] != after[k]
    ]
    for key in before.keys() & after.keys():
        moved += relearned(before[key], after[key], f"{where}/{key}")
    return moved


class Watch:
    """The anomaly bus events and event-entity state changes of one instance."""

    def __init__(self, hass: HomeAssistant) -> None:
        self.anomalies: list[dict[str, Any]] = []
        self.changes: list[tuple[str, str, dict[str, Any]]] = []
        hass.bus.async_listen(EVENT_ANOMALY, lambda e: self.anomalies.append(dict(e.data)))
        hass.bus.async_listen("state_changed", self._changed)

    def _changed(self, event: Event) -> None:
        new = event.data.get("new_state")
        if new is not None and new.domain == "event":
            self.changes.append((new.entity_id, new.state, dict(new.attributes)))

    def fired_without_alert(self, before: dict[str, str]) -> list[str]:
        """Entity changes that are neither the restore of BEFORE nor a new alert here."""
        sent = {(a.get("mac"), a.get("time"), a.get("message")) for a in self.anomalies}
        return [
            f"{entity_id} -> {state}"
            for entity_id, state, attrs in self.changes
            if state != before.get(entity_id, state)
            and (attrs.get("mac"), attrs.get("time"), attrs.get("message")) not in sent
        ]


async def restart(
    hass: HomeAssistant, entry: MockConfigEntry, stack: AsyncExitStack
) -> tuple[HomeAssistant, MockConfigEntry, dict[str, Any]]:
    """Stop HASS (every store written, the probe stopped), start a new Home Assistant on
    the same config dir and storage, the entry set up again. Returns what was checked."""
    data = entry.runtime_data
    coordinator = data.coordinator
    pid = coordinator.probe.pid
    assert pid is not None
    devices = set(coordinator.store.devices)
    device_ids = {mac: dev.id for mac in devices if (dev := find_device(hass, mac=mac))}
    blocks = set(data.blocking.store.blocks)
    recent = [r.alert.to_json() for r in data.alerts.recent]
    activity = [repr(r) for r in data.activity.log]
    events = event_states(hass, entry.entry_id)
    state_file = engine_state_file(hass, entry.entry_id)
    power_on = hass.states.get(POWER).state == "on"

    hass2, again = await restart_home_assistant(hass, entry, stack)
    orphan = process_state(pid)
    assert orphan is None, f"the stopped instance's probe {pid} is still there ({orphan})"
    saved = learned(state_file)

    watch = Watch(hass2)
    await power_switch(hass2, power_on)
    again.add_to_hass(hass2)
    assert await hass2.config_entries.async_setup(again.entry_id)
    await hass2.async_block_till_done()
    new = again.runtime_data
    await wait_for(hass2, lambda: new.coordinator.data is not None, what="first update")

    assert devices <= set(new.coordinator.store.devices), "devices lost over the restart"
    for mac, device_id in device_ids.items():
        found = find_device(hass2, mac=mac)
        assert found is not None, f"device {mac} lost over the restart"
        assert found.id == device_id, f"device {mac} has a new id after the restart"
    assert blocks == set(new.blocking.store.blocks), "blocks lost over the restart"
    assert [r.alert.to_json() for r in new.alerts.recent][: len(recent)] == recent
    assert [repr(r) for r in new.activity.log][: len(activity)] == activity
    restored = event_states(hass2, again.entry_id)
    assert set(events) <= set(restored), "Anomaly entities lost over the restart"
    refired = watch.fired_without_alert(events)
    assert not refired, f"fired on restart with no new alert: {refired}"
    unchanged = sum(restored[e] == s for e, s in events.items())
    return (
        hass2,
        again,
        {
            "old probe": pid,
            "probes": len(probe_children()),
            "fds": open_fds(),
            "threads": threading.active_count(),
            "other threads": threads_outside_pool(),
            "devices": len(devices),
            "blocks": len(blocks),
            "alerts": len(recent),
            "activity": len(activity),
            "learned": {name: sorted(part)[:6] for name, part in saved.items()},
            "baselines": sum(len(p.get("baselines", {})) for p in saved.values()),
            "events kept": f"{unchanged}/{len(events)}",
            "new alerts": len(watch.anomalies),
            "saved": saved,
            "state file": state_file,
        },
    )


def restart_points(cycles: int, restarts: int) -> set[int]:
    """The transitions (after cycle i) that are Home Assistant restarts, spread evenly."""
    transitions = cycles - 1
    count = min(restarts, transitions)
    return {(k + 1) * transitions // (count + 1) for k in range(count)} if count else set()


# The stopped instances' registries leave their daily clean-up timer behind.
@pytest.mark.parametrize("expected_lingering_timers", [True])
async def test_soak_reloads_restarts_blocks_and_approvals(
    hass: HomeAssistant, hass_storage: dict[str, Any], kernel: FakeNft
) -> None:
    from custom_components.totem.options import DEMO_CAPTURE

    waiting: list[str] = []

    def listen(instance: HomeAssistant) -> None:
        instance.bus.async_listen(EVENT_NEW_DEVICE, lambda e: waiting.append(e.data["mac"]))

    listen(hass)
    home = analyze(DEMO_CAPTURE)
    linked = max(home, key=lambda mac: home[mac].tx_bytes)
    await power_switch(hass, True)
    entry = replay_entry(
        DEMO_CAPTURE,
        speed=50.0,
        loop=True,
        block_backend="nftables-bridge",
        new_devices_wait=True,
        update_interval=UPDATE_INTERVAL,
        **{CONF_ACTIVITY_LINKS: {POWER: linked.upper()}},
    )
    restarts_at = restart_points(CYCLES, RESTARTS)
    rows = []
    restarts: list[dict[str, Any]] = []
    approved: list[str] = []
    toggled: set[str] = set()
    sticky: str | None = None  # blocked in the first cycle, must stay blocked
    failures: list[str] = []
    async with AsyncExitStack() as stack:
        with patch("custom_components.totem.approval.INITIAL_INVENTORY_SECONDS", 0.0):
            transition = time.monotonic()
            kind = "setup"
            await setup_entry(hass, entry)
            for cycle in range(CYCLES):
                coordinator = entry.runtime_data.coordinator
                updates: list[float] = []
                remove = coordinator.async_add_listener(partial(stamp, updates))
                began = time.monotonic()
                await wait_for(hass, partial(bool, updates), timeout=60, what="a first update")
                outage = updates[0] - transition  # old probe gone (or none) to new data
                macs = sorted(coordinator.data.devices)
                if sticky is None:
                    sticky = await block_one(hass, [m for m in macs if m != linked])
                # Block and unblock another device every cycle; approve who waits.
                turn = cycle % len(macs)
                others = [
                    m
                    for m in macs[turn:] + macs[:turn]
                    if m not in (sticky, linked) and m not in waiting
                ]
                other = await block_one(hass, others)
                assert other in blocked(kernel)
                await service(hass, "unblock_device", other)
                assert other not in blocked(kernel)
                toggled.add(other)
                await hass.async_block_till_done(wait_background_tasks=True)
                for mac in [m for m in waiting if m not in approved and m in quarantined(kernel)]:
                    await service(hass, "approve_device", mac)
                    approved.append(mac)
                toggle = "turn_off" if cycle % 2 == 0 else "turn_on"
                await hass.services.async_call("input_boolean", toggle, {"entity_id": POWER}, True)
                deadline = began + CYCLE_SECONDS
                await wait_for(hass, partial(after, deadline), timeout=CYCLE_SECONDS + 60)
                remove()
                gaps = [b - a for a, b in pairwise(updates)]
                gap = max(gaps, default=0.0)
                rows.append(
                    (cycle, kind, rss_mb(os.getpid()), rss_mb(coordinator.probe.pid),
                     len(updates), gap, outage, len(coordinator.data.devices))
                )  # fmt: skip
                if gap > GAP_BOUND:
                    failures.append(f"cycle {cycle}: update gap {gap:.2f} s > {GAP_BOUND} s")
                if outage > OUTAGE_BOUND:
                    failures.append(f"cycle {cycle}: outage {outage:.1f} s > {OUTAGE_BOUND} s")
                # Nothing lost: the sticky block and every approval hold.
                assert sticky in blocked(kernel), f"cycle {cycle}: the block of {sticky} was lost"
                assert not set(approved) & quarantined(kernel), f"cycle {cycle}: approval lost"
                if cycle == CYCLES - 1:
                    break
                transition = time.monotonic()
                if cycle in restarts_at:
                    kind = "restart"
                    previous = restarts[-1]["saved"] if restarts else None
                    hass, entry, report = await restart(hass, entry, stack)
                    listen(hass)
                    if previous is not None:
                        report["learned lost"] = lost_keys(previous, report["saved"])
                        report["relearned"] = relearned(previous, report["saved"])
                    restarts.append(report)
                else:
                    kind = "reload"
                    assert await hass.config_entries.async_reload(entry.entry_id)
                    await hass.async_block_till_done()
            await hass.config_entries.async_unload(entry.entry_id)
            await hass.async_block_till_done()
            final = learned(engine_state_file(hass, entry.entry_id))
            await hass.async_stop()
    print(f"\nupdate interval {UPDATE_INTERVAL} s, gap bound {GAP_BOUND} s (2 intervals)")
    print(f"{'cycle':>5} {'after':>7} {'HA RSS':>7} {'probe RSS':>9} {'updates':>7}"
          f" {'max gap':>7} {'outage':>6} {'devices':>7}")  # fmt: skip
    for cycle, kind, ha_rss, probe_rss, count, gap, outage, devices in rows:
        print(f"{cycle:>5} {kind:>7} {ha_rss:>6.1f}M {probe_rss:>8.1f}M {count:>7}"
              f" {gap:>6.2f}s {outage:>5.2f}s {devices:>7}")  # fmt: skip
    for number, report in enumerate(restarts, 1):
        shown = {k: v for k, v in report.items() if k not in ("saved", "state file")}
        print(f"restart {number}: {shown}")
    print(
        f"blocked throughout: {sticky}; blocked and unblocked: {len(toggled)} devices;"
        f" approved: {len(approved)} ({', '.join(approved)}); {POWER} linked to {linked}"
    )
    # The engine's learned state: nothing the probe had saved before the first restart
    # is missing at the end (baselines are never reset by a restart).
    if restarts:
        lost = lost_keys(restarts[0]["saved"], final)
        assert not lost, f"learned state lost across restarts: {lost[:10]}"
        moved = relearned(restarts[0]["saved"], final)
        assert not moved, f"baselines reset across restarts: {moved[:10]}"
        for report in restarts[1:]:
            assert not report["learned lost"], report["learned lost"][:10]
            assert not report["relearned"], report["relearned"][:10]
        # One probe at a time, the old one gone; descriptors and threads do not grow
        # restart after restart (each restart's count no higher than after the first).
        assert all(r["probes"] == 1 for r in restarts), [r["probes"] for r in restarts]
        fds = [r["fds"] for r in restarts]
        others = [r["other threads"] for r in restarts]
        assert max(fds) <= fds[0], f"descriptors grow over restarts: {fds}"
        assert all(o == others[0] for o in others), f"threads left behind: {others}"
    assert not failures, failures
    probe = [r[3] for r in rows[1:]] or [r[3] for r in rows]
    assert max(probe[-3:]) <= PROBE_RSS_GROWTH * max(probe[:3]), probe
