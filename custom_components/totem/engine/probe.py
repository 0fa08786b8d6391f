"""The capture process: a source feeds the engine, snapshots go out as NDJSON.

Home Assistant runs this as a child process (``... engine probe``) so packet
work never holds its event loop or its GIL. One JSON object per line:

- ``hello``      once: protocol version, source, pid
- ``snapshot``   every ``--interval`` seconds of wall time: the full device
                 table and the alerts raised since the previous snapshot
- ``heartbeat``  with each snapshot: engine and kernel counters
- ``error``      a one-line reason, then exit 2 (bad input) or 3 (transient:
                 the interface went away; the supervisor retries)
- ``summary``    on SIGTERM or at the end of a replay without ``--loop``

A replay paces packets by their timestamps divided by ``--speed`` (0 means
as fast as possible) and with ``--loop`` starts again with time shifted
forward, so packet time keeps increasing and counters keep growing.
"""

from __future__ import annotations

import argparse
import json
import os
import select
import signal
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

from .cli_analyze import build_engine, non_negative
from .engine import Engine
from .sources import CaptureFileError, Packet, read_captures

PROTOCOL_VERSION = 1
# A looped replay restarts this long (packet time) after the file's last packet.
LOOP_GAP = 1.0


@dataclass(slots=True)
class ProbeExit(Exception):
    """Stop the probe with an ``error`` line; transient errors exit 3, the rest 2."""

    code: str
    message: str
    transient: bool = False


class Emitter:
    """Writes protocol lines; remembers which alerts were already sent."""

    def __init__(self, engine: Engine, out: IO[str]) -> None:
        self.engine = engine
        self.out = out
        self.seq = 0
        self._alerts_sent = 0

    def line(self, obj: dict[str, Any]) -> None:
        self.out.write(json.dumps(obj, separators=(",", ":")) + "\n")
        self.out.flush()

    def snapshot(self, kind: str = "snapshot") -> None:
        snap = self.engine.snapshot()
        snap.alerts = snap.alerts[self._alerts_sent :]
        self._alerts_sent += len(snap.alerts)
        self.seq += 1
        self.line(
            {"type": kind, "seq": self.seq, "wall_time": time.time(), "snapshot": snap.to_json()}
        )
        self.line({"type": "heartbeat", "wall_time": time.time(), "stats": snap.stats.to_json()})

    def error(self, err: ProbeExit) -> int:
        self.line({"type": "error", "code": err.code, "message": err.message})
        return 3 if err.transient else 2


class _Stop:
    """Set by SIGTERM/SIGINT; the loops poll it between short waits."""

    def __init__(self) -> None:
        self.requested = False

    def __call__(self, _signum: int, _frame: object) -> None:
        self.requested = True


def _replay_packets(files: list[str], loop: bool, stop: _Stop) -> Iterator[Packet]:
    shift = 0.0
    while True:
        first: float | None = None
        last = 0.0
        try:
            for batch in read_captures(files, lambda _msg: None):
                for ts, wirelen, data, linktype in batch:
                    if first is None:
                        first = ts
                    last = ts
                    yield (ts + shift, wirelen, data, linktype)
                if stop.requested:
                    return
        except CaptureFileError as err:
            raise ProbeExit("bad_file", str(err), transient=shift > 0) from None
        if not loop or first is None:
            return
        shift += last - first + LOOP_GAP


def run_replay(args: argparse.Namespace, emitter: Emitter, stop: _Stop) -> None:
    engine = emitter.engine
    speed: float = args.speed
    interval: float = args.interval
    wall0 = time.monotonic()
    ts0: float | None = None
    next_emit = wall0 + interval
    chunk: list[Packet] = []
    for pkt in _replay_packets(args.replay, args.loop, stop):
        if ts0 is None:
            ts0 = pkt[0]
        if speed > 0:
            due = wall0 + (pkt[0] - ts0) / speed
            while True:
                now = time.monotonic()
                if now >= due or stop.requested:
                    break
                if chunk:
                    engine.process(chunk)
                    chunk = []
                if now >= next_emit:
                    emitter.snapshot()
                    next_emit = now + interval
                time.sleep(min(due - now, 0.05, max(next_emit - now, 0.0)))
        chunk.append(pkt)
        if len(chunk) >= 512:
            engine.process(chunk)
            chunk = []
            if time.monotonic() >= next_emit:
                emitter.snapshot()
                next_emit = time.monotonic() + interval
        if stop.requested:
            break
    if chunk:
        engine.process(chunk)


def run_live(args: argparse.Namespace, emitter: Emitter, stop: _Stop) -> None:
    from .capture import CaptureError, open_live

    engine = emitter.engine
    try:
        cap = open_live(args.iface, bpf=args.bpf, promisc=args.promisc)
    except CaptureError as err:
        raise ProbeExit(err.code, err.message, transient=err.code == "interface_down") from None
    engine.config.own_macs = frozenset({cap.own_mac})
    interval: float = args.interval
    next_emit = time.monotonic() + interval
    try:
        while not stop.requested:
            timeout = max(0.0, min(0.2, next_emit - time.monotonic()))
            try:
                ready, _, _ = select.select([cap.fileno()], [], [], timeout)
            except InterruptedError:
                ready = []
            if ready:
                try:
                    batch = cap.read_batch()
                except CaptureError as err:
                    raise ProbeExit(err.code, err.message, transient=True) from None
                except OSError as err:
                    raise ProbeExit(
                        "interface_down", f"{args.iface}: {err.strerror or err}", transient=True
                    ) from None
                if batch:
                    engine.process(batch)
            if time.monotonic() >= next_emit:
                received, dropped = cap.kernel_stats()
                engine.stats.kernel_received = received
                engine.stats.kernel_dropped = dropped
                emitter.snapshot()
                next_emit = time.monotonic() + interval
    finally:
        cap.close()


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("probe", help="long-running capture process (NDJSON on stdout)")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--replay", nargs="+", metavar="FILE", help="replay capture files")
    source.add_argument("--iface", metavar="IFACE", help="capture from a network interface")
    parser.add_argument("--speed", type=non_negative, default=1.0, help="replay speed factor")
    parser.add_argument("--loop", action="store_true", help="replay forever")
    parser.add_argument("--bpf", metavar="EXPR", help="kernel filter for live capture")
    parser.add_argument("--promisc", action="store_true", help="promiscuous mode")
    parser.add_argument("--interval", type=non_negative, default=10.0, metavar="SECONDS")
    parser.add_argument("--learn", type=non_negative, default=0.0, metavar="SECONDS")
    parser.add_argument("--max-devices", type=int, default=4096, metavar="N")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, out: IO[str] | None = None) -> int:
    stream = out or sys.stdout
    stop = _Stop()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if args.max_devices < 1:
        print("error: --max-devices must be >= 1", file=sys.stderr)
        return 2
    engine = build_engine(args.learn, max_devices=args.max_devices)
    emitter = Emitter(engine, stream)
    source = f"replay:{','.join(args.replay)}" if args.replay else f"iface:{args.iface}"
    emitter.line(
        {"type": "hello", "version": PROTOCOL_VERSION, "source": source, "pid": os.getpid()}
    )
    try:
        if args.replay:
            run_replay(args, emitter, stop)
        else:
            run_live(args, emitter, stop)
    except ProbeExit as err:
        return emitter.error(err)
    except Exception as err:
        return emitter.error(ProbeExit("internal", f"{type(err).__name__}: {err}"))
    emitter.snapshot("summary")
    return 0
