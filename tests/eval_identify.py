"""Measure identification against tests/identify_labels.tsv: ``scripts/eval-identify``.

Runs the engine's current identification over every labelled capture (tests/pcaps, then
../shared/pcaps, first found wins) and prints vendor/name/type accuracy for the dev and
heldout splits and all, a confusion table (true type x predicted type) and a
leave-one-vendor-out run: for each IoT vendor, the rules naming that vendor are dropped and
the vendor's devices must still get a sane type (not unknown; the label, or iot for a
smart-home device).
"""

from __future__ import annotations

import argparse
import collections
import sys
from dataclasses import dataclass
from pathlib import Path

from custom_components.totem.engine.engine import Engine
from custom_components.totem.engine.identify import Identifier
from custom_components.totem.engine.sources import read_files
from custom_components.totem.engine.votes import Knowledge, default_knowledge

ROOT = Path(__file__).resolve().parent.parent
LABELS = ROOT / "tests" / "identify_labels.tsv"
CAPTURE_DIRS = (ROOT / "tests" / "pcaps", ROOT.parent / "shared" / "pcaps")
SMART_HOME = frozenset({"smart_plug", "light", "hub", "sensor", "camera", "smart_speaker", "iot"})
# Leave-one-vendor-out: vendor label -> the word a rule names it by.
LOVO_VENDORS: dict[str, str] = {
    "TP-LINK": "tp-?link|kasa|hs1",
    "Philips Lighting BV": "philips|hue",
    "Belkin International": "belkin|wemo",
    "D-Link International": "d-?link|dcs|mydlink",
    "Edimax Technology Co. Ltd.": "edimax",
    "Espressif": "espressif|esp",
    "Fitbit": "fitbit|gainspan",
    "Osram GmbH": "osram|lightify",
    "Withings": "withings",
    "Sonos": "sonos",
    "Tuya Smart": "tuya",
    "Nest Labs": "nest",
    "Google": "google",
}


@dataclass(frozen=True, slots=True)
class Label:
    capture: str
    split: str
    mac: str
    vendor: str
    name: str
    type: str
    note: str = ""  # why a label was changed (the table's last column, may be empty)


def read_labels(path: Path = LABELS) -> list[Label]:
    labels: list[Label] = []
    header = True
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        if header:
            header = False
            continue
        labels.append(Label(*line.split("\t")))
    return labels


def find_capture(name: str) -> Path | None:
    for folder in CAPTURE_DIRS:
        if (folder / name).is_file():
            return folder / name
    return None


def predict(path: Path, knowledge: Knowledge | None = None) -> dict[str, dict[str, str]]:
    engine = Engine()
    engine.identifier = Identifier(knowledge=knowledge or default_knowledge())
    read_files(engine, [path], lambda _message: None)
    engine.flush()
    out: dict[str, dict[str, str]] = {}
    for dev in engine.snapshot().to_json()["devices"]:
        out[dev["mac"]] = {
            "vendor": f"{dev['manufacturer'] or ''} {dev.get('manufacturer_registry') or ''}",
            "name": dev["name"] or "",
            "type": dev["type"],
            "reason": dev["type_reason"],
        }
    return out


def _rows(k: Knowledge) -> int:
    """Rows of every table but Home Assistant's (whose domains are dropped instead)."""
    return len(k.rules) + len(k.clouds) + len(k.oui) + len(k.hostnames) + len(k.mdns)


def _vendor_ok(label: Label, got: dict[str, str]) -> bool:
    if not label.vendor:
        return True
    want = label.vendor.lower()
    return want in got["vendor"].lower() or want in got["name"].lower()


def _pct(num: int, den: int) -> str:
    return f"{num}/{den} ({100 * num / den:.0f}%)" if den else "-"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--no-lovo", action="store_true", help="skip leave-one-vendor-out")
    parser.add_argument("--misses", action="store_true", help="list every wrong type")
    parser.add_argument("--lovo-misses", action="store_true", help="list LOVO misses")
    parser.add_argument("--no-testbed", action="store_true", help="skip the synthetic test-bed")
    args = parser.parse_args(argv)
    labels = [lab for lab in read_labels() if lab.mac != "-"]
    captures = sorted({lab.capture for lab in labels})
    preds: dict[str, dict[str, dict[str, str]]] = {}
    missing: list[str] = []
    for cap in captures:
        path = find_capture(cap)
        if path is None:
            missing.append(cap)
        else:
            preds[cap] = predict(path)
    if missing:
        print(f"captures not found (skipped): {', '.join(missing)}")
    scored = [lab for lab in labels if lab.capture in preds]
    confusion: collections.Counter[tuple[str, str]] = collections.Counter()
    print(f"{'split':8} {'devices':>7} {'vendor':>14} {'name':>14} {'type':>14}")
    for split in ("dev", "heldout", "all"):
        rows = [lab for lab in scored if split in ("all", lab.split)]
        v = n = t = 0
        for lab in rows:
            got = preds[lab.capture].get(lab.mac, {"vendor": "", "name": "", "type": "unknown"})
            v += _vendor_ok(lab, got)
            n += got["name"] == lab.name
            t += got["type"] == lab.type
            if args.misses and split == "all" and got["type"] != lab.type:
                print(
                    f"  MISS {lab.capture} {lab.mac} want {lab.type} got {got['type']}"
                    f" ({got.get('reason', '')})"
                )
            if split == "all":
                confusion[(lab.type, got["type"])] += 1
        print(
            f"{split:8} {len(rows):7} {_pct(v, len(rows)):>14} {_pct(n, len(rows)):>14} "
            f"{_pct(t, len(rows)):>14}"
        )
    print("\nconfusion (rows: true type, columns: predicted type)")
    types = sorted({a for a, _ in confusion} | {b for _, b in confusion})
    print(f"{'':14}" + "".join(f"{t[:9]:>10}" for t in types))
    for true in types:
        print(f"{true[:14]:14}" + "".join(f"{confusion[(true, p)] or '.':>10}" for p in types))
    if not args.no_lovo:
        print("\nleave-one-vendor-out (rules naming the vendor dropped): sane types")
        for vendor, words in LOVO_VENDORS.items():
            full = default_knowledge()
            knowledge = full.without(words)
            mine = [
                lab
                for lab in scored
                if lab.vendor.lower() in vendor.lower() or vendor.lower() in lab.vendor.lower()
            ]
            mine = [lab for lab in mine if lab.vendor and lab.type in SMART_HOME]
            if not mine:
                continue
            cache: dict[str, dict[str, dict[str, str]]] = {}
            sane = 0
            for lab in mine:
                if lab.capture not in cache:
                    path = find_capture(lab.capture)
                    assert path is not None
                    cache[lab.capture] = predict(path, knowledge)
                row = cache[lab.capture].get(lab.mac, {"type": "unknown", "reason": ""})
                got = row["type"]
                sane += got != "unknown" and got in (lab.type, "iot")
                if args.lovo_misses and not (got != "unknown" and got in (lab.type, "iot")):
                    print(
                        f"    miss {lab.capture} {lab.mac} want {lab.type} got {got}"
                        f" ({row['reason']})"
                    )
            dropped = _rows(full) - _rows(knowledge) + len(knowledge.dropped_domains)
            print(f"  {vendor:28} {dropped:3} rows dropped  {_pct(sane, len(mine))}")
    if not args.no_testbed:
        from tests import eval_testbed

        eval_testbed.report()
    return 0


if __name__ == "__main__":
    sys.exit(main())
