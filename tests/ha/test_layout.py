"""The glue's layout: no import cycle between its modules, no module too big to read.

Read from the source with ast, so an import inside a function or under
TYPE_CHECKING counts as much as one at the top: a cycle hidden there still
makes the modules one tangle for the reader. The engine (engine/) is a layer
below and is not part of the glue's graph.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.layout import MAX_LOGIC_LINES, find_cycle, logic_lines

GLUE = Path(__file__).resolve().parents[2] / "custom_components" / "totem"
PACKAGE = "custom_components.totem"
BELOW = ("engine",)  # folders that are layers of their own


def glue_modules() -> dict[str, Path]:
    """Dotted name relative to the package ("sensor", "hub.config") -> file."""
    found: dict[str, Path] = {}
    for path in sorted(GLUE.rglob("*.py")):
        parts = path.relative_to(GLUE).with_suffix("").parts
        if parts[0] in BELOW:
            continue
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts) or "__init__"] = path
    return found


def imported(name: str, path: Path, modules: set[str]) -> set[str]:
    """The glue modules NAME imports, wherever in the file the import is."""
    package = name.split(".")[:-1] if path.name != "__init__.py" else name.split(".")
    if name == "__init__":
        package = []
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        candidates: list[str] = []
        if isinstance(node, ast.Import):
            candidates = [
                alias.name.removeprefix(PACKAGE + ".")
                for alias in node.names
                if alias.name.startswith(PACKAGE + ".")
            ]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)] if node.level > 1 else package
                stem = ".".join([*base, *(node.module or "").split(".")]).strip(".")
            elif node.module and node.module.startswith(PACKAGE):
                stem = node.module.removeprefix(PACKAGE).strip(".")
            else:
                continue
            candidates = [stem] if stem else []
            # "from . import x" and "from .pkg import module" name modules too.
            candidates += [f"{stem}.{a.name}".strip(".") for a in node.names]
        for candidate in candidates:
            if candidate in modules and candidate != name:
                targets.add(candidate)
    return targets


def import_graph() -> dict[str, set[str]]:
    modules = glue_modules()
    names = set(modules)
    return {name: imported(name, path, names) for name, path in modules.items()}


def test_the_glue_has_modules_and_sees_its_imports() -> None:
    graph = import_graph()
    assert {"coordinator", "alerts", "activity", "setup", "sensor"} <= set(graph)
    assert "engine" not in graph
    assert "coordinator" in graph["alerts"]
    assert "setup" in graph["__init__"]


def test_the_checks_catch_what_they_look_for() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
    source = (
        '"""Doc\n\nstring."""\n\n# comment\nx = 1\n\n\n'
        'def f():\n    """Doc."""\n    return (\n        x\n    )\n'
    )
    assert logic_lines(source) == 4  # def, return over three lines; x = 1 is data


def test_no_import_cycle_between_glue_modules() -> None:
    cycle = find_cycle(import_graph())
    assert cycle is None, "glue import cycle: " + " -> ".join(cycle or [])


def test_no_glue_module_is_over_600_logic_lines() -> None:
    sizes = {name: logic_lines(path.read_text()) for name, path in glue_modules().items()}
    print("\nglue modules by logic lines:")
    for name, size in sorted(sizes.items(), key=lambda item: -item[1]):
        print(f"  {size:4d}  {name}")
    too_big = {name: size for name, size in sizes.items() if size > MAX_LOGIC_LINES}
    assert not too_big, f"glue modules over {MAX_LOGIC_LINES} logic lines: {too_big}"


def test_no_glue_class_shares_its_name_with_another_class() -> None:
    """Two classes with one name (the glue's and the engine's DeviceRecord, once) make a
    reader open the wrong one; the engine's own names are the engine's business."""
    where: dict[str, list[str]] = {}
    for path in sorted(GLUE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ClassDef):
                where.setdefault(node.name, []).append(str(path.relative_to(GLUE)))
    glue_files = {str(p.relative_to(GLUE)) for p in glue_modules().values()}
    shared = {
        name: files
        for name, files in where.items()
        if len(files) > 1 and any(f in glue_files for f in files)
    }
    assert not shared, f"class names defined more than once: {shared}"
