"""What the field already knows about devices, kept as data with its provenance.

Each source is a data file in this package (TSV or JSON, a header comment giving its
sources and licences) and a small typed loader. Nothing here decides a device type:
the loaders turn evidence into candidate hints (a Home Assistant integration domain, a
cloud vendor, an OUI class, a host-name token, a DNS-SD service type) that a later
fusion step weighs. The package imports nothing from Home Assistant.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

__all__ = ["DataFileError", "read_header", "read_tsv"]


class DataFileError(ValueError):
    """A knowledge data file is malformed (a bug in the file, caught by the tests)."""


# The data files sit next to this module (the integration is installed as plain files):
# importlib.resources would find the same files but imports tempfile, zipfile and its
# readers first, a tenth of the engine CLI's start-up for a directory lookup.
HERE = Path(__file__).parent


def _text(name: str) -> str:
    return (HERE / name).read_text(encoding="utf-8")


def read_header(name: str) -> str:
    """The leading ``#`` comment block of a data file (its sources and licences)."""
    lines: list[str] = []
    for line in _text(name).splitlines():
        if not line.startswith("#"):
            break
        lines.append(line[1:].strip())
    return "\n".join(lines)


@cache
def read_tsv(name: str) -> tuple[dict[str, str], ...]:
    """Rows of a TSV data file as dicts keyed by its column line.

    ``#`` lines are comments, blank lines are skipped, the first other line names the
    columns. A row with more cells than columns is an error; missing trailing cells are "".
    """
    columns: list[str] | None = None
    rows: list[dict[str, str]] = []
    for number, line in enumerate(_text(name).splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        cells = line.split("\t")
        if columns is None:
            columns = [c.strip() for c in cells]
            continue
        if len(cells) > len(columns):
            raise DataFileError(f"{name}:{number}: {len(cells)} cells, {len(columns)} columns")
        cells += [""] * (len(columns) - len(cells))
        rows.append({c: v.strip() for c, v in zip(columns, cells, strict=True)})
    if columns is None:
        raise DataFileError(f"{name}: no column line")
    return tuple(rows)
