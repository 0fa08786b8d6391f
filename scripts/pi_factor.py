"""This machine's single-core Python speed against a Raspberry Pi 4's: bench-live's CPU quota.

Runs the n-body benchmark (the Computer Language Benchmarks Game's algorithm, in the
structure of its Python 3 program #1) for 5,000,000 steps, the run a published
Raspberry Pi 4 figure exists for, and prints the best CPU time of ``--runs`` runs and
the factor ``this machine / Pi 4``: the share of one core here that does what one Pi 4
core does in Python. The Pi figure: C. Mehta, "Performance Analysis of Languages on
Raspberry Pi", chaitanyamehta.github.io/projects/performance-analysis-of-programming-languages:
Raspberry Pi 4 Model B Rev 1.1, 4 GB, Cortex-A72 at 1.5 GHz (performance governor),
n-body in Python, five million iterations: 158.26 s.

    scripts/pi-factor [--steps 5000000] [--runs 3] [--python PATH]

Not a test: the figure depends on the machine, its load and the interpreter's build
(the default is the venv's, the one the probe runs on in bench-live).
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

PI4_SECONDS = 158.26  # the published Pi 4 time for 5,000,000 steps (see above)
PI4_STEPS = 5_000_000

NBODY = r"""
import sys
from itertools import combinations
PI = 3.14159265358979323
SOLAR_MASS = 4 * PI * PI
DAYS_PER_YEAR = 365.24
BODIES = {
    'sun': ([0.0, 0.0, 0.0], [0.0, 0.0, 0.0], SOLAR_MASS),
    'jupiter': ([4.84143144246472090e+00, -1.16032004402742839e+00, -1.03622044471123109e-01],
                [1.66007664274403694e-03 * DAYS_PER_YEAR,
                    7.69901118419740425e-03 * DAYS_PER_YEAR,
                    -6.90460016972063023e-05 * DAYS_PER_YEAR],
                9.54791938424326609e-04 * SOLAR_MASS),
    'saturn': ([8.34336671824457987e+00, 4.12479856412430479e+00, -4.03523417114321381e-01],
               [-2.76742510726862411e-03 * DAYS_PER_YEAR,
                   4.99852801234917238e-03 * DAYS_PER_YEAR,
                   2.30417297573763929e-05 * DAYS_PER_YEAR],
               2.85885980666130812e-04 * SOLAR_MASS),
    'uranus': ([1.28943695621391310e+01, -1.51111514016986312e+01, -2.23307578892655734e-01],
               [2.96460137564761618e-03 * DAYS_PER_YEAR,
                   2.37847173959480950e-03 * DAYS_PER_YEAR,
                   -2.96589568540237556e-05 * DAYS_PER_YEAR],
               4.36624404335156298e-05 * SOLAR_MASS),
    'neptune': ([1.53796971148509165e+01, -2.59193146099879641e+01, 1.79258772950371181e-01],
                [2.68067772490389322e-03 * DAYS_PER_YEAR,
                    1.62824170038242295e-03 * DAYS_PER_YEAR,
                    -9.51592254519715870e-05 * DAYS_PER_YEAR],
                5.15138902046611451e-05 * SOLAR_MASS)}
SYSTEM = list(BODIES.values())
PAIRS = list(combinations(SYSTEM, 2))
def advance(dt, n, bodies=SYSTEM, pairs=PAIRS):
    for i in range(n):
        for (([x1, y1, z1], v1, m1), ([x2, y2, z2], v2, m2)) in pairs:
            dx = x1 - x2; dy = y1 - y2; dz = z1 - z2
            mag = dt * ((dx * dx + dy * dy + dz * dz) ** (-1.5))
            b1m = m1 * mag; b2m = m2 * mag
            v1[0] -= dx * b2m; v1[1] -= dy * b2m; v1[2] -= dz * b2m
            v2[0] += dx * b1m; v2[1] += dy * b1m; v2[2] += dz * b1m
        for (r, [vx, vy, vz], m) in bodies:
            r[0] += dt * vx; r[1] += dt * vy; r[2] += dt * vz
def report_energy(bodies=SYSTEM, pairs=PAIRS, e=0.0):
    for (((x1, y1, z1), v1, m1), ((x2, y2, z2), v2, m2)) in pairs:
        dx = x1 - x2; dy = y1 - y2; dz = z1 - z2
        e -= (m1 * m2) / ((dx * dx + dy * dy + dz * dz) ** 0.5)
    for (r, [vx, vy, vz], m) in bodies:
        e += m * (vx * vx + vy * vy + vz * vz) / 2.
    print("%.9f" % e)
def offset_momentum(ref, bodies=SYSTEM, px=0.0, py=0.0, pz=0.0):
    for (r, [vx, vy, vz], m) in bodies:
        px -= vx * m; py -= vy * m; pz -= vz * m
    (r, v, m) = ref
    v[0] = px / m; v[1] = py / m; v[2] = pz / m
offset_momentum(BODIES['sun'])
report_energy()
advance(0.01, int(sys.argv[1]))
report_energy()
"""


def cpu_seconds(python: str, script: Path, steps: int) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([python, str(script), str(steps)], check=True, capture_output=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=PI4_STEPS)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--python", default=sys.executable)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="totem-pi-factor-") as tmp:
        script = Path(tmp) / "nbody.py"
        script.write_text(NBODY)
        times = [cpu_seconds(args.python, script, args.steps) for _ in range(args.runs)]
    best = min(times) * PI4_STEPS / args.steps
    print(
        f"n-body {args.steps:,} steps, {args.python}: CPU "
        + ", ".join(f"{t:.2f}" for t in times)
        + f" s; best scaled to {PI4_STEPS:,} steps {best:.2f} s against the Pi 4's"
        f" {PI4_SECONDS} s: factor {best / PI4_SECONDS:.3f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
