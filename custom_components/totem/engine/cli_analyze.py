"""``analyze FILE... [--json] [--learn S]``: capture files in, device table out."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from .blocklist import BlocklistError
from .detectors.guard import attach_detectors
from .engine import Engine, EngineConfig
from .protocol import AllowDhcpServers, dhcp_server_entry
from .report import render_table
from .sources import CaptureFileError, check_capture, read_files


def non_negative(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value >= 0:  # also rejects NaN
        raise argparse.ArgumentTypeError(f"must be >= 0: {text!r}")
    return value


def dhcp_server_arg(text: str) -> str:
    try:
        return dhcp_server_entry(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def build_engine(
    learn_seconds: float = 0.0,
    blocklist: str | None = None,
    *,
    dhcp_servers: Sequence[str] = (),
    **config: Any,
) -> Engine:
    """An engine with every detector attached, configured like the CLI's.

    Raises ``BlocklistError`` (one line) when ``blocklist`` cannot be read.
    """
    engine = Engine(EngineConfig(learn_seconds=learn_seconds, **config))
    attach_detectors(engine, blocklist)
    if dhcp_servers:
        # Before the first frame: a listed server's first offer is never flagged.
        engine.command(AllowDhcpServers(servers=tuple(dhcp_servers)))
    return engine


def add_detector_options(parser: argparse.ArgumentParser) -> None:
    """Options every command that runs detectors takes."""
    parser.add_argument(
        "--learn",
        type=non_negative,
        default=0.0,
        metavar="SECONDS",
        help="packet time that builds baselines before any alert (default 0)",
    )
    parser.add_argument(
        "--blocklist",
        metavar="FILE",
        help="offline blocklist: IP addresses, CIDR ranges, domains or hosts-file lines",
    )
    parser.add_argument(
        "--dhcp-server",
        action="append",
        default=[],
        type=dhcp_server_arg,
        metavar="MAC|IP",
        help="a legitimate extra DHCP server (mesh node, Pi-hole); repeat for more",
    )


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("analyze", help="analyse capture files into a device table")
    parser.add_argument("files", nargs="+", metavar="FILE", help="pcap or pcapng files")
    parser.add_argument("--json", action="store_true", help="one JSON document on stdout")
    add_detector_options(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    def warn(message: str) -> None:
        print(f"warning: {message}", file=sys.stderr)

    try:
        engine = build_engine(args.learn, args.blocklist, dhcp_servers=args.dhcp_server)
        for path in args.files:
            check_capture(path)  # every file is checked before any is analysed
        read_files(engine, args.files, warn)
    except (CaptureFileError, BlocklistError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if engine.packets == 0:
        names = ", ".join(args.files)
        print(f"error: {names}: no packets in the capture", file=sys.stderr)
        return 2
    engine.flush()
    # Neither the JSON contract nor the table shows a device's conversations: not ranked.
    snap = engine.snapshot(with_talks=False)
    if args.json:
        json.dump(snap.to_json(contract_only=True), sys.stdout, separators=(",", ":"))
        sys.stdout.write("\n")
    else:
        print(render_table(snap))
    return 0
