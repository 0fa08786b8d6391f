"""Command line: ``python -m custom_components.totem.engine COMMAND``.

Every command exits 0 on success and 2 with one line on stderr on bad input;
no traceback reaches the user.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from . import cli_analyze, cli_capture, cli_enforce, probe

# Feature modules add their own subcommands; each exposes ``register(subparsers)``.
_REGISTRARS: list[Callable[[argparse._SubParsersAction[argparse.ArgumentParser]], None]] = [
    cli_analyze.register,
    cli_capture.register,
    probe.register,
    cli_enforce.register,
]


class _Parser(argparse.ArgumentParser):
    """argparse, but bad options exit 2 with one line instead of usage spam."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m custom_components.totem.engine",
        description="TOTEM: devices, flows and anomalies from network traffic.",
    )
    sub: argparse._SubParsersAction[argparse.ArgumentParser] = parser.add_subparsers(
        dest="command", required=True, parser_class=_Parser
    )
    for register in _REGISTRARS:
        register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
