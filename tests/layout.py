"""Layout checks shared by the engine's and the glue's layout tests.

One definition of a logic line and of an import cycle for both layers, so
the 600-line limit and the cycle rule mean the same thing everywhere.

Logic lines are the physical lines that hold code, less docstrings and pure
data tables: a module- or class-level assignment whose value is built only
from literals, names and constructor calls on those (``RULES = (TypeRule(...),
...)``, a ``frozenset({...})`` of words). Blank lines and comments hold no
code. A statement split over several lines counts every line it spans, as
the formatter lays it out.
"""

from __future__ import annotations

import ast
import io
import tokenize
from collections.abc import Iterator

MAX_LOGIC_LINES = 600

_CODE_FREE_TOKENS = {
    tokenize.COMMENT,
    tokenize.NL,
    tokenize.NEWLINE,
    tokenize.INDENT,
    tokenize.DEDENT,
    tokenize.ENCODING,
    tokenize.ENDMARKER,
}
_DATA_NODES = (
    ast.Constant,
    ast.Tuple,
    ast.List,
    ast.Set,
    ast.Dict,
    ast.Name,
    ast.Attribute,
    ast.Starred,
    ast.UnaryOp,
    ast.BinOp,
    ast.Call,
    ast.keyword,
    ast.Load,
    ast.operator,
    ast.unaryop,
)


def _is_data(node: ast.AST) -> bool:
    return all(isinstance(n, _DATA_NODES) for n in ast.walk(node))


def _excluded_spans(tree: ast.Module) -> Iterator[tuple[int, int]]:
    """Line spans of docstrings and pure data tables."""
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if not isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        assert isinstance(body, list)
        first = body[0] if body else None
        if (
            isinstance(first, ast.Expr)
            and isinstance(first.value, ast.Constant)
            and isinstance(first.value.value, str)
        ):
            yield first.lineno, first.end_lineno or first.lineno
        if isinstance(node, ast.Module | ast.ClassDef):
            for stmt in body:
                value = stmt.value if isinstance(stmt, ast.Assign | ast.AnnAssign) else None
                if value is not None and _is_data(value):
                    yield stmt.lineno, stmt.end_lineno or stmt.lineno


def logic_lines(source: str) -> int:
    """Lines of logic in a module's source (see the module docstring)."""
    code: set[int] = set()
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type not in _CODE_FREE_TOKENS:
            code.update(range(tok.start[0], tok.end[0] + 1))
    for start, end in _excluded_spans(ast.parse(source)):
        code.difference_update(range(start, end + 1))
    return len(code)


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as [a, b, ..., a], or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)) is not None:
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)) is not None:
            return cycle
    return None
