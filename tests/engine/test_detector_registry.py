"""The detector plugin seam: detectors register themselves; the guard builds them all."""

from __future__ import annotations

import ast
from pathlib import Path

from custom_components.totem.engine.detectors import base
from custom_components.totem.engine.detectors.guard import attach_detectors
from custom_components.totem.engine.engine import Engine
from custom_components.totem.engine.model import ALERT_KINDS

DETECTORS_DIR = Path(base.__file__).parent
# The guard's own infrastructure; every other module is a family of detectors.
NOT_FAMILIES = {"__init__", "base", "guard", "thresholds", "baseline", "policy", "window"}


def test_the_guard_builds_every_registered_detector_in_hook_order() -> None:
    guard = attach_detectors(Engine())
    built = [type(det) for det in guard.detectors]
    assert built == base.registered()
    assert [cls.order for cls in built] == sorted(cls.order for cls in built)
    assert len({cls.order for cls in built}) == len(built)  # no tie left to import order


def test_every_family_module_registers_a_detector() -> None:
    families = {p.stem for p in DETECTORS_DIR.glob("*.py")} - NOT_FAMILIES
    registered = {cls.__module__.rsplit(".", 1)[-1] for cls in base.registered()}
    assert families == registered


def test_detectors_raise_only_known_kinds() -> None:
    kinds = {kind for cls in base.registered() for kind in cls.kinds}
    assert kinds <= set(ALERT_KINDS)
    assert "activity_mismatch" not in kinds  # Home Assistant's glue raises that one


def test_detector_modules_never_import_the_guard() -> None:
    for path in sorted(DETECTORS_DIR.glob("*.py")):
        if path.stem == "guard":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                names = {node.module or ""} | {alias.name for alias in node.names}
                assert "guard" not in names, f"{path.name} imports the guard"
