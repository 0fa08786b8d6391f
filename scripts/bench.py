"""Engine throughput against its peers, in one run on one machine.

Generates a synthetic home capture (default 400,000 frames of 60 devices),
then times, as whole commands a user would run:
  - TOTEM   ``python -m custom_components.totem.engine analyze --json FILE``
  - tshark  ``tshark -n -q -z endpoints,eth -r FILE``
  - scapy   full dissection with PcapReader over the first 20,000 frames
  - NFStream with nDPI (statistical + 20-packet dissection), when
            ``pip install nfstream`` works into a throwaway venv
and prints packets/s and the ratios (best of --repeat runs each). The
machines are shared and noisy: ratios from one run are what to compare, and
the whole commands are timed in rounds (each round runs every tool once), so a
burst of load hits all of them rather than one tool's repeats.
``--python PY`` also times TOTEM under another interpreter (repeatable), e.g.
the Python 3.14 that Home Assistant 2026 runs; its ratios are printed apart.
Also runs the million-flow flood and reports its peak RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.traffic.synth import home_capture  # noqa: E402

TARGET_PPS = 250_000
TARGET_VS_TSHARK = 3.0
TARGET_VS_SCAPY = 40.0
TARGET_VS_NFSTREAM = 2.0
SCAPY_PACKETS = 20_000

SCAPY_SNIPPET = """
import sys, time
from scapy.all import PcapReader, Ether
counts = {}
t = time.perf_counter()
n = 0
with PcapReader(sys.argv[1]) as reader:
    for pkt in reader:
        n += 1
        if Ether in pkt:
            src = pkt[Ether].src
            counts[src] = counts.get(src, 0) + len(pkt)
        if n >= int(sys.argv[2]):
            break
print(n, time.perf_counter() - t)
"""

# A whole command, like the others: interpreter start, import and the walk.
NFSTREAM_SNIPPET = """
import sys
from nfstream import NFStreamer
flows = 0
for flow in NFStreamer(source=sys.argv[1], n_dissections=20, statistical_analysis=False):
    flows += 1
print(flows)
"""
# The walk alone, timed inside the process (its import and nDPI's start excluded): how
# the row was measured before, printed beside the whole command for comparison.
NFSTREAM_WALK_SNIPPET = """
import sys, time
from nfstream import NFStreamer
t = time.perf_counter()
flows = 0
for flow in NFStreamer(source=sys.argv[1], n_dissections=20, statistical_analysis=False):
    flows += 1
print(flows, time.perf_counter() - t)
"""


def timed(cmd: list[str], **kwargs: object) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kwargs)  # type: ignore[call-overload]
    return time.perf_counter() - start


def best_in_rounds(
    repeat: int, commands: dict[str, list[str]], **kwargs: object
) -> dict[str, float]:
    """Each command's best wall time over REPEAT rounds; a round runs every command once."""
    best = dict.fromkeys(commands, float("inf"))
    failed: set[str] = set()
    for _ in range(repeat):
        for name, cmd in commands.items():
            if name in failed:
                continue
            try:
                best[name] = min(best[name], timed(cmd, **kwargs))
            except subprocess.CalledProcessError as err:
                tail = (err.stderr or b"").decode(errors="replace").strip().splitlines()[-1:]
                print(f"  {name}: failed ({tail[0][:160] if tail else err.returncode})")
                failed.add(name)
    return {name: s for name, s in best.items() if name not in failed}


def interpreter_label(python: str) -> str:
    done = subprocess.run(
        [python, "-c", "import platform; print(platform.python_version())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return f"TOTEM analyze (Python {done.stdout.strip()})"


def nfstream_python(workdir: Path) -> str | None:
    """A throwaway venv with nfstream, or None (with the reason printed) when it cannot be had."""
    venv = workdir / "nfstream-venv"
    python = venv / "bin" / "python"
    if python.exists():
        probe = subprocess.run(
            [str(python), "-c", "import nfstream"], capture_output=True, check=False
        )
        if probe.returncode == 0:
            return str(python)
    uv = shutil.which("uv") or str(ROOT / ".venv-tools" / "bin" / "uv")
    try:
        subprocess.run(
            [uv, "venv", "-q", "-p", sys.executable, str(venv)],
            check=True,
            capture_output=True,
            timeout=300,
        )
        subprocess.run(
            [uv, "pip", "install", "-q", "-p", str(python), "nfstream"],
            check=True,
            capture_output=True,
            timeout=600,
        )
        subprocess.run(
            [str(python), "-c", "import nfstream"], check=True, capture_output=True, timeout=120
        )
    except (OSError, subprocess.SubprocessError) as err:
        detail = getattr(err, "stderr", b"") or b""
        last = detail.decode(errors="replace").strip().splitlines()[-1:] or [str(err)]
        print(f"  NFStream: not available here ({last[0][:160]})")
        return None
    return str(python)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--packets", type=int, default=400_000)
    parser.add_argument("--devices", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "bench-out")
    parser.add_argument("--no-nfstream", action="store_true")
    parser.add_argument("--no-flood", action="store_true")
    parser.add_argument(
        "--python",
        action="append",
        default=[],
        metavar="PY",
        help="also time TOTEM under this interpreter (repeatable)",
    )
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    capture = args.out / f"home-{args.devices}dev-{args.packets}pkt.pcap"
    if not capture.exists():
        print(f"generating {capture.name} ...", flush=True)
        home_capture(str(capture), args.devices, args.packets, seed=7)
    size_mb = capture.stat().st_size / 1e6
    print(f"capture: {args.packets} frames, {args.devices} devices, {size_mb:.1f} MB")

    env = dict(os.environ, PYTHONPATH=str(ROOT))
    totem_args = ["-m", "custom_components.totem.engine", "analyze", "--json", str(capture)]
    pythons = [sys.executable, *args.python]
    commands: dict[str, list[str]] = {}
    labels: dict[str, str] = {}
    for python in pythons:
        # An installed integration runs from compiled bytecode; where the environment forbids
        # writing .pyc files (PYTHONDONTWRITEBYTECODE), every run would recompile the engine.
        subprocess.run(
            [python, "-m", "compileall", "-q", str(ROOT / "custom_components")],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        label = "TOTEM analyze" if python == sys.executable else interpreter_label(python)
        labels[label] = python
        commands[label] = [python, *totem_args]
    tshark = shutil.which("tshark")
    if tshark:
        commands["tshark endpoints,eth"] = [
            tshark,
            "-n",
            "-q",
            "-z",
            "endpoints,eth",
            "-r",
            str(capture),
        ]
    else:
        print("  tshark: not installed (scripts/setup installs it as root)")
    if not args.no_nfstream:
        python = nfstream_python(args.out)
        if python:
            commands["NFStream + nDPI"] = [python, "-c", NFSTREAM_SNIPPET, str(capture)]
    seconds = best_in_rounds(args.repeat, commands, cwd=ROOT, env=env)
    results = {name: args.packets / s for name, s in seconds.items()}

    done = subprocess.run(
        [sys.executable, "-c", SCAPY_SNIPPET, str(capture), str(SCAPY_PACKETS)],
        check=True,
        capture_output=True,
        text=True,
    )
    n, scapy_s = done.stdout.split()
    results["scapy PcapReader (full dissection)"] = int(n) / float(scapy_s)
    if "NFStream + nDPI" in commands:
        walk = min(
            float(
                subprocess.run(
                    [commands["NFStream + nDPI"][0], "-c", NFSTREAM_WALK_SNIPPET, str(capture)],
                    check=True,
                    capture_output=True,
                    text=True,
                ).stdout.split()[1]
            )
            for _ in range(args.repeat)
        )
        results["NFStream + nDPI (walk only, no start)"] = args.packets / walk

    peers = {name: pps for name, pps in results.items() if name not in labels}
    print()
    print(f"{'tool':<38}{'packets/s':>14}{'TOTEM is':>12}")
    for name in labels:
        if name in results:
            print(f"{name:<38}{results[name]:>14,.0f}")
    ours = results.get("TOTEM analyze")
    for name, pps in peers.items():
        ratio = f"{ours / pps:>10.2f}x" if ours else ""
        print(f"{name:<38}{pps:>14,.0f}{ratio:>12}")
    print()

    def verdict(ok: bool) -> str:
        return "OK" if ok else "BELOW"

    targets = {
        "tshark endpoints,eth": ("tshark", TARGET_VS_TSHARK),
        "scapy PcapReader (full dissection)": ("scapy", TARGET_VS_SCAPY),
        "NFStream + nDPI": ("NFStream", TARGET_VS_NFSTREAM),
        "NFStream + nDPI (walk only, no start)": ("NFStream's walk alone", TARGET_VS_NFSTREAM),
    }
    for label in labels:
        mine = results.get(label)
        if mine is None:
            continue
        print(f"{label}: {mine:,.0f} pps (target >= {TARGET_PPS:,}): {verdict(mine >= TARGET_PPS)}")
        for name, (short, target) in targets.items():
            if name in results:
                r = mine / results[name]
                print(f"  vs {short} {r:.2f}x (target >= {target:g}x): {verdict(r >= target)}")

    if not args.no_flood:
        done = subprocess.run(
            [sys.executable, "-m", "tests.traffic.flood", "1000000"],
            check=True,
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=env,
        )
        flood = json.loads(done.stdout)
        print(
            f"flood of 1,000,000 flows: table peak {flood['largest_flow_table']} "
            f"(bound {flood['max_flows']}), evicted {flood['flows_evicted']}, "
            f"peak RSS {flood['peak_rss_mb']} MB (target < 200 MB)"
        )
    (args.out / "last.json").write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
