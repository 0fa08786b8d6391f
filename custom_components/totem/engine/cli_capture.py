"""``capture --iface IFACE [--duration S] [--bpf EXPR] [--promisc] [--json]``.

The live twin of ``analyze``: frames from an interface instead of a file, the
same device table or JSON document at the end. It stops after ``--duration``
seconds or on SIGINT/SIGTERM. When capture is ready it says so on stderr, so a
script (or a test) knows when to start sending traffic; kernel drops are
reported there too, since the JSON contract has no place for them.
"""

from __future__ import annotations

import argparse
import json
import select
import signal
import sys
import time

from .blocklist import BlocklistError
from .capture import DEFAULT_SNAPLEN, CaptureError, LiveCapture, open_live
from .cli_analyze import add_detector_options, build_engine, non_negative
from .engine import Engine
from .report import render_table
from .signals import StopRequest

EXIT_OK = 0
EXIT_BAD_INPUT = 2
EXIT_SOURCE_LOST = 3  # as the probe: the interface went away mid-capture

# A wakeup per frame costs more than the frame: once awake, read up to this
# many frames at once; the 8 MiB socket buffer absorbs the wait.
BATCH = 4096
POLL_MS = 200


def positive(text: str) -> float:
    value = non_negative(text)
    if value == 0:
        raise argparse.ArgumentTypeError(f"must be > 0: {text!r}")
    return value


def snaplen_arg(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if not 64 <= value <= 262144:
        raise argparse.ArgumentTypeError(f"must be within 64..262144: {text!r}")
    return value


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("capture", help="capture live traffic into a device table")
    parser.add_argument("--iface", required=True, metavar="IFACE", help="interface to capture")
    parser.add_argument(
        "--duration",
        type=positive,
        default=None,
        metavar="SECONDS",
        help="stop after this long (default: until SIGINT/SIGTERM)",
    )
    parser.add_argument(
        "--bpf",
        metavar="EXPR",
        default=None,
        help="kernel filter: a built-in name (all, ip, discovery) or, with libpcap, any"
        " tcpdump expression (default: all)",
    )
    parser.add_argument("--promisc", action="store_true", help="promiscuous mode")
    parser.add_argument(
        "--snaplen",
        type=snaplen_arg,
        default=DEFAULT_SNAPLEN,
        metavar="BYTES",
        help=f"bytes kept of each frame; wire lengths stay exact (default {DEFAULT_SNAPLEN})",
    )
    parser.add_argument("--json", action="store_true", help="one JSON document on stdout")
    add_detector_options(parser)
    parser.set_defaults(func=run)


def capture_into(
    cap: LiveCapture, engine: Engine, duration: float | None, stop: StopRequest
) -> CaptureError | None:
    """Feed ``engine`` until the duration ends or a stop; the error that ended it early."""
    poller = select.poll()
    poller.register(cap.fileno(), select.POLLIN)
    deadline = None if duration is None else time.monotonic() + duration
    while not stop.requested:
        wait_ms = POLL_MS
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            wait_ms = min(POLL_MS, max(1, int(left * 1000)))
        if not poller.poll(wait_ms):
            continue
        try:
            cap.feed(engine, BATCH)
        except CaptureError as err:
            return err
    # Frames already queued when time ran out belong to the capture window,
    # including those still in a ring block the kernel has not handed over.
    time.sleep(cap.drain_delay)
    while True:
        try:
            if not cap.feed(engine, BATCH):
                return None
        except CaptureError as err:
            return err


def run(args: argparse.Namespace) -> int:
    stop = StopRequest()
    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        return _run(args, stop)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _run(args: argparse.Namespace, stop: StopRequest) -> int:
    try:
        cap = open_live(args.iface, bpf=args.bpf, promisc=args.promisc, snaplen=args.snaplen)
    except CaptureError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    with cap:
        try:
            engine = build_engine(
                args.learn,
                args.blocklist,
                own_macs=frozenset({cap.own_mac}),
                dhcp_servers=args.dhcp_server,
            )
        except BlocklistError as err:
            print(f"error: {err}", file=sys.stderr)
            return EXIT_BAD_INPUT
        filter_name = cap.program.name or repr(cap.program.expression)
        print(
            f"capturing on {cap.iface} (filter {filter_name}, snaplen {cap.snaplen},"
            f" promiscuous {'on' if cap.promisc else 'off'}, {cap.method})",
            file=sys.stderr,
            flush=True,
        )
        merging = cap.merging_offloads()
        if merging:
            fix = " ".join(f"{name} off" for name in merging)
            print(
                f"warning: {cap.iface} merges frames before capture ({', '.join(merging)}):"
                f" frame counts run low; for exact counts: ethtool -K {cap.iface} {fix}",
                file=sys.stderr,
            )
        lost = capture_into(cap, engine, args.duration, stop)
        received, dropped = cap.kernel_stats()
    engine.stats.kernel_received = received
    engine.stats.kernel_dropped = dropped
    engine.flush()
    snap = engine.snapshot()
    if args.json:
        json.dump(snap.to_json(contract_only=True), sys.stdout, separators=(",", ":"))
        sys.stdout.write("\n")
    else:
        print(render_table(snap))
    print(
        f"kernel: {received} frames received, {dropped} dropped; engine: {engine.packets} frames",
        file=sys.stderr,
    )
    if lost is not None:
        print(f"error: capture stopped early: {lost}", file=sys.stderr)
        return EXIT_SOURCE_LOST
    return EXIT_OK
