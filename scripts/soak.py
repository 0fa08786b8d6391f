"""Soak: 24 hours of packet time of a 60-device home, replayed as fast as possible.

The day has a rhythm (quiet night, a morning peak, a busy evening; cameras stream
all day) and a few attacks (a port scan, an ARP sweep, a SYN flood). It is written
as ``--restarts`` consecutive capture files; the real probe replays each one with
``--state`` and is then stopped, so the day crosses that many probe restarts. Printed:
per simulated hour the probe's RSS, its device and flow table sizes and the alerts so
far; the largest wall-clock gap between two snapshots against ``--interval``; and what
the state file held after each restart (baselines, learning start), which must only
grow. Frames counted by the probes must equal the frames written.
"""

from __future__ import annotations

import argparse
import json
import queue
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from custom_components.totem.engine.sources import Packet, write_pcap  # noqa: E402
from tests.traffic.synth import (  # noqa: E402
    BROADCAST,
    HomeTraffic,
    arp,
    eth,
    ipv4,
    make_home,
    tcp,
)

START = 1_700_000_000.0
DAY = 86400
# Share of the devices' peak activity by hour of the day: a household sleeps, works
# away, comes home; cameras and the fridge do not (they get a floor of 1.0 below).
RHYTHM = [0.1] * 6 + [0.6, 0.9, 0.5] + [0.3] * 8 + [0.7, 1.0, 1.0, 1.0, 0.8, 0.5, 0.2]
ALWAYS_ON = ("camera",)
# After the 6 hours of learning (--learn): nothing is raised inside it.
ATTACK_HOURS = {8: "port_scan", 14: "arp_sweep", 20: "syn_flood"}
LEARN_SECONDS = 6 * 3600


def _minute(home: HomeTraffic, t0: float, hour: int, rnd: random.Random) -> Iterator[Packet]:
    plan = []
    for dev in home.devices:
        level = 1.0 if dev.kind in ALWAYS_ON else RHYTHM[hour]
        if rnd.random() < level * (0.9 if dev.kind in ("camera", "tv", "laptop") else 0.3):
            volume = 100 if dev.kind == "camera" else (60 if dev.kind in ("tv", "laptop") else 4)
            plan.append((rnd.uniform(0, 58), dev, volume))
    plan.sort(key=lambda p: p[0])
    for offset, dev, volume in plan:
        home.t = max(home.t, t0 + offset)
        yield from home.session(dev, volume)


def _attack(home: HomeTraffic, kind: str, t0: float) -> Iterator[Packet]:
    bad, victim = home.devices[3], home.devices[7]
    t = t0
    for i in range(300 if kind == "syn_flood" else 60):
        t += 0.01
        if kind == "arp_sweep":
            target = bytes([192, 168, 1, 100 + i])
            frame = eth(BROADCAST, bad.mac, 0x0806, arp(1, bad.mac, bad.ip, b"\0" * 6, target))
        else:
            port = 1000 + i if kind == "port_scan" else 80
            sport = 40000 + (i if kind == "syn_flood" else 7)
            frame = eth(
                victim.mac,
                bad.mac,
                0x0800,
                ipv4(bad.ip, victim.ip, 6, tcp(sport, port, i, 0, 0x02)),
            )
        yield (t, len(frame), frame, 1)
    home.t = max(home.t, t)


def write_day(folder: Path, devices: int, segments: int, seed: int) -> list[tuple[Path, int]]:
    rnd = random.Random(seed)
    home = HomeTraffic(make_home(devices, seed), seed, START)
    out: list[tuple[Path, int]] = []
    joins = list(home.run(len(home.devices) * 6))
    minutes_per = 24 * 60 // segments
    for seg in range(segments):
        frames: list[Packet] = joins if seg == 0 else []
        for minute in range(seg * minutes_per, (seg + 1) * minutes_per):
            t0 = START + 60.0 + minute * 60.0
            hour = minute // 60
            frames.extend(_minute(home, t0, hour, rnd))
            if minute % 60 == 30 and hour in ATTACK_HOURS:
                frames.extend(_attack(home, ATTACK_HOURS[hour], home.t))
        frames.sort(key=lambda p: p[0])
        path = folder / f"day-{seg:02d}.pcap"
        out.append((path, write_pcap(path, frames)))
    return out


def _rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return -1


def run_segment(
    python: str, pcap: Path, state: Path, interval: float, hours: dict[int, dict[str, float]]
) -> tuple[int, float, int]:
    """Replay one file; returns (frames counted, largest snapshot gap, warnings)."""
    proc = subprocess.Popen(
        [python, "-m", "custom_components.totem.engine", "probe", "--replay", str(pcap),
         "--speed", "0", "--interval", f"{interval:g}", "--state", str(state),
         "--learn", str(LEARN_SECONDS)],
        cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    lines: queue.Queue[str] = queue.Queue()
    stdout = proc.stdout

    def read() -> None:
        for text in stdout:
            lines.put(text)
        lines.put("")

    threading.Thread(target=read, daemon=True).start()
    last_snap: float | None = None
    gap = 0.0
    counted = 0
    warnings = 0
    alerts = int(hours.get(-1, {}).get("alerts", 0))  # raised by the earlier runs
    while line := lines.get(timeout=600):
        msg = json.loads(line)
        kind = msg["type"]
        if kind == "alert" and not msg.get("update"):
            alerts += 1
        if kind == "warning":
            warnings += 1
            print(f"  warning: {msg['message']}", file=sys.stderr)
        if kind not in ("snapshot", "summary"):
            continue
        now = time.monotonic()
        if last_snap is not None:
            gap = max(gap, now - last_snap)
        last_snap = now
        snap = msg["snapshot"]
        counted = snap["packets"]
        if snap.get("last_time") is None:
            continue
        hour = int((snap["last_time"] - START) // 3600)
        if hour not in hours and kind == "snapshot":
            hours[hour] = {
                "rss": _rss_kb(proc.pid) / 1024,
                "devices": len(snap["devices"]),
                "flows": snap.get("stats", {}).get("flows_active", 0),
                "alerts": alerts,
            }
    hours[-1] = {"alerts": alerts}  # the running total, not an hour
    proc.wait(timeout=120)
    if proc.returncode != 0:
        sys.exit(f"the probe ended with {proc.returncode} on {pcap}")
    return counted, gap, warnings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--devices", type=int, default=60)
    parser.add_argument("--restarts", type=int, default=10, help="probe runs across the day")
    parser.add_argument("--interval", type=float, default=0.5, help="snapshot interval, s")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    python = sys.executable
    with tempfile.TemporaryDirectory(prefix="totem-soak-") as tmp:
        folder = Path(tmp)
        t0 = time.monotonic()
        files = write_day(folder, args.devices, args.restarts, args.seed)
        total = sum(n for _p, n in files)
        size = sum(p.stat().st_size for p, _n in files) / 1e6
        print(f"wrote {total:,} frames ({size:.0f} MB) of {args.devices} devices over 24 h "
              f"in {len(files)} files in {time.monotonic() - t0:.0f} s")  # fmt: skip
        state = folder / "engine.json"
        hours: dict[int, dict[str, float]] = {}
        restarts = []
        worst_gap = 0.0
        t1 = time.monotonic()
        for pcap, written in files:
            counted, gap, warnings = run_segment(python, pcap, state, args.interval, hours)
            worst_gap = max(worst_gap, gap)
            guard = json.loads(state.read_text())["observers"]["Guard"]
            learned = sum(len(b.get("domains", [])) + len(b.get("lan_peers", []))
                          for b in guard["baselines"].values())  # fmt: skip
            restarts.append((pcap.name, written, counted, len(guard["baselines"]), learned,
                             guard["learn_start"], warnings))  # fmt: skip
        wall = time.monotonic() - t1
    print(f"replayed in {wall:.0f} s ({total / wall:,.0f} frames/s) across {len(files)} probe runs")
    print(f"\n{'hour':>4} {'RSS MB':>7} {'devices':>7} {'flows':>6} {'alerts':>6}")
    alerts = hours.pop(-1, {}).get("alerts", 0)
    for hour in sorted(hours):
        h = hours[hour]
        print(
            f"{hour:>4} {h['rss']:>7.1f} {h['devices']:>7.0f} {h['flows']:>6.0f}"
            f" {h['alerts']:>6.0f}"
        )
    print(
        f"\n{'file':<12} {'written':>8} {'counted':>8} {'baselines':>9} {'learned':>7}"
        f" {'learn_start':>12} warn"
    )
    ok = True
    prev_baselines, prev_learned, prev_start = 0, 0, None
    for name, written, counted, baselines, learned, start, warnings in restarts:
        print(
            f"{name:<12} {written:>8} {counted:>8} {baselines:>9} {learned:>7}"
            f" {start:>12.0f} {warnings:>4}"
        )
        ok &= counted == written and warnings == 0
        ok &= baselines >= prev_baselines and learned >= prev_learned
        ok &= prev_start is None or start == prev_start
        prev_baselines, prev_learned, prev_start = baselines, learned, start
    gap_ok = worst_gap <= 2 * args.interval
    print(f"\nnew alerts over the day: {alerts:.0f} (attacks injected: {len(ATTACK_HOURS)})")
    print(f"largest snapshot gap {worst_gap:.2f} s (limit {2 * args.interval:.2f} s): "
          f"{'ok' if gap_ok else 'TOO LONG'}")  # fmt: skip
    print(f"state across restarts: {'nothing lost' if ok else 'LOST SOMETHING'}")
    return 0 if ok and gap_ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
