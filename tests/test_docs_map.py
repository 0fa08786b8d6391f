"""The newcomer's map (docs/architecture.md) names only things that exist."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAP = ROOT / "docs" / "architecture.md"
REFERENCE = re.compile(r"`([\w/.]+\.py)::(\w+)`")
PATH = re.compile(r"`(custom_components/[\w/.]+)`")


def _names(path: Path) -> set[str]:
    """Every class, function, method and module-level assignment defined in a module."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(t.id for t in targets if isinstance(t, ast.Name))
    return names


def test_every_reference_in_the_map_exists() -> None:
    text = MAP.read_text()
    references = REFERENCE.findall(text)
    assert len(references) >= 15, "the map lost its one-step answers"
    missing = [
        f"{path}::{name}"
        for path, name in references
        if not (ROOT / path).is_file() or name not in _names(ROOT / path)
    ]
    assert not missing, missing


def test_every_path_in_the_map_exists() -> None:
    paths = PATH.findall(MAP.read_text())
    assert paths
    missing = [p for p in paths if not (ROOT / p.split("::")[0]).exists()]
    assert not missing, missing


def test_the_readme_links_the_map() -> None:
    assert "docs/architecture.md" in (ROOT / "README.md").read_text()
