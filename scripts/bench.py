"""Engine throughput against its peers, in one run on one machine.

Generates a synthetic home capture (default 400,000 frames of 60 devices),
then times, as whole commands a user would run:
  - TOTEM   ``python -m custom_components.totem.engine analyze --json FILE``
  - tshark  ``tshark -n -q -z endpoints,eth -r FILE``
  - scapy   full dissection with PcapReader over the first 20,000 frames
  - NFStream with nDPI (statistical + 20-packet dissection), when
            ``pip install nfstream`` works into a throwaway venv
and prints packets/s and the ratios (best of --repeat runs each). The
machines are shared and noisy: ratios from one run are what to compare.
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

NFSTREAM_SNIPPET = """
import sys, time
from nfstream import NFStreamer
t = time.perf_counter()
flows = 0
for flow in NFStreamer(source=sys.argv[1], n_dissections=20, statistical_analysis=False):
    flows += 1
print(flows, time.perf_counter() - t)
"""


def best_of(repeat: int, cmd: list[str], **kwargs: object) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(
            cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kwargs
        )  # type: ignore[call-overload]
        best = min(best, time.perf_counter() - start)
    return best


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
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    capture = args.out / f"home-{args.devices}dev-{args.packets}pkt.pcap"
    if not capture.exists():
        print(f"generating {capture.name} ...", flush=True)
        home_capture(str(capture), args.devices, args.packets, seed=7)
    size_mb = capture.stat().st_size / 1e6
    print(f"capture: {args.packets} frames, {args.devices} devices, {size_mb:.1f} MB")

    env = dict(os.environ, PYTHONPATH=str(ROOT))
    # An installed integration runs from compiled bytecode; where the environment forbids
    # writing .pyc files (PYTHONDONTWRITEBYTECODE), every run would recompile the engine.
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(ROOT / "custom_components")], check=True
    )
    results: dict[str, float] = {}
    totem_s = best_of(
        args.repeat,
        [sys.executable, "-m", "custom_components.totem.engine", "analyze", "--json", str(capture)],
        cwd=ROOT,
        env=env,
    )
    results["TOTEM analyze"] = args.packets / totem_s

    tshark = shutil.which("tshark")
    if tshark:
        tshark_s = best_of(
            args.repeat, [tshark, "-n", "-q", "-z", "endpoints,eth", "-r", str(capture)]
        )
        results["tshark endpoints,eth"] = args.packets / tshark_s
    else:
        print("  tshark: not installed (scripts/setup installs it as root)")

    done = subprocess.run(
        [sys.executable, "-c", SCAPY_SNIPPET, str(capture), str(SCAPY_PACKETS)],
        check=True,
        capture_output=True,
        text=True,
    )
    n, seconds = done.stdout.split()
    results["scapy PcapReader (full dissection)"] = int(n) / float(seconds)

    if not args.no_nfstream:
        python = nfstream_python(args.out)
        if python:
            cmd = [python, "-c", NFSTREAM_SNIPPET, str(capture)]
            done = subprocess.run(cmd, capture_output=True, text=True, check=False)
            if done.returncode == 0:
                _flows, seconds = done.stdout.split()
                results["NFStream + nDPI"] = args.packets / float(seconds)
            else:
                print(f"  NFStream: failed ({done.stderr.strip().splitlines()[-1:]})")

    ours = results["TOTEM analyze"]
    print()
    print(f"{'tool':<38}{'packets/s':>14}{'TOTEM is':>12}")
    for name, pps in results.items():
        ratio = "" if name == "TOTEM analyze" else f"{ours / pps:>10.1f}x"
        print(f"{name:<38}{pps:>14,.0f}{ratio:>12}")
    print()

    def verdict(ok: bool) -> str:
        return "OK" if ok else "BELOW"

    verdicts = [
        f"throughput {ours:,.0f} pps (target >= {TARGET_PPS:,}): {verdict(ours >= TARGET_PPS)}"
    ]
    if "tshark endpoints,eth" in results:
        r = ours / results["tshark endpoints,eth"]
        verdicts.append(
            f"vs tshark {r:.1f}x (target >= {TARGET_VS_TSHARK}x): {verdict(r >= TARGET_VS_TSHARK)}"
        )
    r = ours / results["scapy PcapReader (full dissection)"]
    verdicts.append(
        f"vs scapy {r:.0f}x (target >= {TARGET_VS_SCAPY:.0f}x): {verdict(r >= TARGET_VS_SCAPY)}"
    )
    for line in verdicts:
        print(line)

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
