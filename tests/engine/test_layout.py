"""The engine's layout: plain Python, an acyclic import graph, small modules.

The engine must stay relocatable (a PyPI package one day) and readable: it
never imports Home Assistant or the glue above it, its modules import each
other without cycles (counting imports under ``if TYPE_CHECKING:`` and inside
functions, which hide cycles rather than remove them), and no module grows
past ``MAX_LOGIC_LINES`` lines of logic.

Logic lines are the physical lines that hold code, less docstrings and pure
data tables: a module- or class-level assignment whose value is built only
from literals, names and constructor calls on those (``RULES = (TypeRule(...),
...)``, a ``frozenset({...})`` of words). Blank lines and comments hold no
code. A statement split over several lines counts every line it spans, as
the formatter lays it out.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.layout import MAX_LOGIC_LINES, find_cycle, logic_lines

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "custom_components.totem"
ENGINE = f"{PACKAGE}.engine"
ENGINE_DIR = ROOT / "custom_components" / "totem" / "engine"
# The hot loop's module (engine.engine) fits too, so no module is exempt.


def engine_modules() -> dict[str, Path]:
    """Dotted module name -> file, for every module of the engine package."""
    out: dict[str, Path] = {}
    for path in sorted(ENGINE_DIR.rglob("*.py")):
        parts = list(path.relative_to(ENGINE_DIR).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join([ENGINE, *parts])] = path
    return out


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.split(".")
    if not is_package:
        base.pop()
    if node.level > 1:
        base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def imports_of(module: str, path: Path, known: set[str]) -> set[str]:
    """Every module ``module`` imports, at any depth of its code (functions and
    ``if TYPE_CHECKING:`` included), as absolute names; ``from pkg import mod``
    counts as importing ``pkg.mod``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(module, path.name == "__init__.py", node)
            found.add(target)
            names = (f"{target}.{alias.name}" for alias in node.names)
            found.update(name for name in names if name in known)
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", None))
            in ("import_module", "__import__")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.add(node.args[0].value)
    return found


def import_graph() -> dict[str, set[str]]:
    """Engine module -> the engine modules it imports, with the packages that
    importing them initialises (``a.b.c`` runs ``a.b``'s ``__init__`` first)."""
    modules = engine_modules()
    known = set(modules)
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        edges: set[str] = set()
        for imported in imports_of(module, path, known):
            target = imported
            while target.startswith(ENGINE) and target not in known:
                target = target.rpartition(".")[0]  # a name imported from a module
            parts = target.split(".")
            for depth in range(len(ENGINE.split(".")), len(parts) + 1):
                edges.add(".".join(parts[:depth]))
        edges.discard(module)
        # A module's own package is initialised before it: not an edge of its code.
        graph[module] = {e for e in edges if e in known and not module.startswith(e + ".")}
    return graph


def test_engine_never_imports_home_assistant_or_the_glue() -> None:
    modules = engine_modules()
    offenders = []
    for module, path in modules.items():
        for target in sorted(imports_of(module, path, set(modules))):
            top = target.split(".")[0]
            glue = target.startswith(PACKAGE) and not target.startswith(ENGINE)
            if top == "homeassistant" or glue:
                offenders.append(f"{module} imports {target}")
    assert not offenders, "the engine is plain Python:\n" + "\n".join(offenders)


def test_engine_import_graph_is_acyclic() -> None:
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_cycle_check_sees_type_checking_imports() -> None:
    graph = {"a": {"b"}, "b": {"a"}}
    assert find_cycle(graph) == ["a", "b", "a"]
    tree = ast.parse("if TYPE_CHECKING:\n    from .b import X\ndef f():\n    from .c import Y\n")
    found = {
        _resolve(f"{ENGINE}.a", False, node)
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
    }
    assert found == {f"{ENGINE}.b", f"{ENGINE}.c"}


def test_logic_lines_leave_out_docstrings_comments_and_data_tables() -> None:
    source = '''"""Module docstring,
over two lines."""
WORDS = frozenset(
    {
        "a",
        "b",
    }
)


def f(x):
    """Docstring."""
    # a comment
    return [
        y for y in x
    ]
'''
    assert logic_lines(source) == 4  # def, return over three lines


def test_no_engine_module_is_too_large() -> None:
    sizes = {
        module: logic_lines(path.read_text(encoding="utf-8"))
        for module, path in engine_modules().items()
    }
    largest = sorted(sizes.items(), key=lambda item: -item[1])[:5]
    print("largest engine modules (logic lines):", largest)
    too_large = [
        f"{module}: {n} logic lines (limit {MAX_LOGIC_LINES})"
        for module, n in sizes.items()
        if n > MAX_LOGIC_LINES
    ]
    assert not too_large, "split these modules:\n" + "\n".join(too_large)
