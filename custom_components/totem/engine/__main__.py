"""Command line: ``python -m custom_components.totem.engine COMMAND``.

Every command exits 0 on success and 2 with one line on stderr on bad input;
no traceback reaches the user.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import sys
from collections.abc import Callable, Sequence

# Feature modules add their own subcommands; each exposes ``register(subparsers)``.
# Only the module of the command asked for is imported: the others pull in code
# (nftables, capture sockets) that ``analyze`` never needs, and start-up is part of
# every command's cost.
_MODULES: dict[str, str] = {
    "analyze": "cli_analyze",
    "capture": "cli_capture",
    "collect": "cli_collect",
    "probe": "probe",
    "block": "cli_enforce",
    "unblock": "cli_enforce",
    "blocks": "cli_enforce",
}

Registrar = Callable[["argparse._SubParsersAction[argparse.ArgumentParser]"], None]


def _registrars(argv: Sequence[str]) -> list[Registrar]:
    wanted = _MODULES.get(argv[0]) if argv else None
    names = [wanted] if wanted else list(dict.fromkeys(_MODULES.values()))
    return [importlib.import_module(f"{__package__}.{name}").register for name in names]


class _Parser(argparse.ArgumentParser):
    """argparse, but bad options exit 2 with one line instead of usage spam."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    """The parser for ``argv``'s command (every command when there is none or it is unknown)."""
    parser = _Parser(
        prog="python -m custom_components.totem.engine",
        description="TOTEM: devices, flows and anomalies from network traffic.",
    )
    sub: argparse._SubParsersAction[argparse.ArgumentParser] = parser.add_subparsers(
        dest="command", required=True, parser_class=_Parser
    )
    for register in _registrars(argv):
        register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    # Start-up: importing the command's modules allocates tens of thousands of
    # objects that live until exit and makes no cyclic garbage, so the collector
    # has nothing to find while it runs, and after it every full collection (and
    # the one at exit) would walk them all again. Frozen, they are out of its
    # sight for good: 2% of a 100k-frame analyze's instructions.
    gc.disable()
    try:
        parser = build_parser(args_list)
    finally:
        gc.enable()
    gc.freeze()
    args = parser.parse_args(args_list)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
