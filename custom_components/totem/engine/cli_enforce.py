"""CLI subcommands for blocking: ``block``, ``unblock`` and ``blocks``.

``register`` adds them to the engine's argparse parser; each sets ``func``.
Refusals and failures print one line on stderr and exit with status 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence

from .enforce import BACKENDS, Backend, Block, EnforceError, make_backend, parse_mac
from .safety import GatewayMemory, default_memory_path

_Action = Callable[[Backend], None]

EXIT_OK = 0
EXIT_BAD_INPUT = 2

_BACKEND_HELP = (
    f"one of {', '.join(BACKENDS)}; default: nftables-bridge when this host has a "
    "Linux bridge, else nftables-inet"
)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``block``, ``unblock`` and ``blocks`` to SUBPARSERS."""
    block = subparsers.add_parser(
        "block",
        help="cut a device off the network",
        description="Block a device by MAC in TOTEM's own nftables table.",
    )
    block.add_argument("mac", help="the device's MAC address")
    block.add_argument("--backend", metavar="B", help=_BACKEND_HELP)
    block.add_argument(
        "--duration",
        metavar="S",
        help="seconds (or 15m, 2h, 1d) before the block lifts itself; default: permanent",
    )
    block.add_argument(
        "--ip",
        action="append",
        default=[],
        metavar="IP",
        help="an IP of the device (nftables-inet matches traffic towards it by IP); repeatable",
    )
    block.add_argument(
        "--capture-mac",
        metavar="MAC",
        help="MAC of the interface TOTEM captures on, which must never be blocked",
    )
    block.set_defaults(func=run_block)

    unblock = subparsers.add_parser(
        "unblock",
        help="give a blocked device its network back",
        description="Lift the block on a MAC, or with --all drop TOTEM's table.",
    )
    unblock.add_argument("mac", nargs="?", help="the device's MAC address")
    unblock.add_argument(
        "--all", action="store_true", help="remove every block (drops TOTEM's nftables table)"
    )
    unblock.add_argument("--backend", metavar="B", help=_BACKEND_HELP)
    unblock.set_defaults(func=run_unblock)

    blocks = subparsers.add_parser(
        "blocks",
        help="list blocked devices",
        description="List the blocks as the kernel reports them.",
    )
    blocks.add_argument("--json", action="store_true", help="print one JSON document")
    blocks.add_argument("--backend", metavar="B", help=_BACKEND_HELP)
    blocks.set_defaults(func=run_blocks)


def run_block(args: argparse.Namespace) -> int:
    def act(backend: Backend) -> None:
        done = backend.block(args.mac, duration=args.duration, ips=args.ip)
        if done is None:
            print(f"{backend.name} is alert-only ({backend.description}): nothing was blocked")
        else:
            extent = "permanently" if done.permanent else f"for {done.timeout:.0f} s"
            ips = f" (IPs: {', '.join(done.ips)})" if done.ips else ""
            print(f"blocked {done.mac} {extent} with {done.backend}{ips}")

    return _guarded(args, act, capture_mac=args.capture_mac)


def run_unblock(args: argparse.Namespace) -> int:
    if args.all == (args.mac is not None):
        print("error: give either a MAC or --all", file=sys.stderr)
        return EXIT_BAD_INPUT

    def act(backend: Backend) -> None:
        if args.all:
            backend.remove_all()
            print(f"removed every block ({backend.name})")
            return
        mac = parse_mac(args.mac)
        if backend.unblock(mac):
            print(f"unblocked {mac}")
        else:
            print(f"{mac} was not blocked ({backend.name})")

    return _guarded(args, act)


def run_blocks(args: argparse.Namespace) -> int:
    def act(backend: Backend) -> None:
        current = backend.list_blocks()
        if args.json:
            doc = {"backend": backend.name, "blocks": [b.to_json() for b in current]}
            print(json.dumps(doc, indent=2))
        elif not current:
            print(f"no device is blocked ({backend.name})")
        else:
            print(_table(current))

    return _guarded(args, act)


def _guarded(args: argparse.Namespace, act: _Action, capture_mac: str | None = None) -> int:
    try:
        # Every gateway the neighbour cache ever resolved stays protected after a flush.
        memory = GatewayMemory(default_memory_path())
        act(make_backend(args.backend, capture_mac=capture_mac, memory=memory))
    except EnforceError as err:
        print(f"error: {err.message}", file=sys.stderr)
        return EXIT_BAD_INPUT
    return EXIT_OK


def _table(blocks: Sequence[Block]) -> str:
    rows = [("MAC", "BACKEND", "EXPIRES IN", "IPS")]
    for b in blocks:
        left = "never" if b.expires_in is None else f"{b.expires_in:.0f} s"
        rows.append((b.mac, b.backend, left, ", ".join(b.ips) or "-"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows)
    return "\n".join(line.rstrip() for line in lines)
