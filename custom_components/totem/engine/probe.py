"""The capture process: a source feeds the engine, protocol messages go out on stdout.

Home Assistant runs this as a child process (``... engine probe``) so packet
work never holds its event loop or its GIL. It speaks :mod:`.messages`: one
JSON object a line, ``hello`` first, then a ``snapshot`` every
``--interval`` seconds of wall time followed by an ``alert`` line for every
alert raised (or whose count grew) since the previous one, and a
``heartbeat``; ``warning`` for what it survives, ``error`` then exit 2 (bad
input) or 3 (transient: the interface went away; the supervisor retries);
``summary`` on SIGTERM or at the end of a replay without ``--loop``.

Commands arrive on stdin, one JSON object a line; each is answered by an
``ack`` (``ok`` or an error code), malformed and unknown ones included. With
``--state FILE`` what the observers learned (baselines) is loaded at start and
saved every minute and at exit, so a restart forgets nothing.

A replay paces packets by their timestamps divided by ``--speed`` (0 means
as fast as possible) and with ``--loop`` starts again with time shifted
forward, so packet time keeps increasing and counters keep growing.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import queue
import select
import signal
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

from .blocklist import BlocklistError
from .cli_analyze import add_detector_options, build_engine, non_negative
from .cli_collect import add_leases_option, address_arg, open_leases, open_socket, port_arg
from .enforce import EnforceError
from .engine import Engine
from .flow_events import FlowEngine, build_flow_engine, serve
from .identify import apply_tables_file
from .messages import (
    Ack,
    AlertMessage,
    ErrorMessage,
    Heartbeat,
    Hello,
    Message,
    SnapshotMessage,
    WarningMessage,
)
from .mqtt_link import add_link_options, run_remote
from .protocol import (
    MAX_COMMAND_LINE,
    OK,
    Command,
    ProtocolError,
    Reply,
    RequestSnapshot,
    command_id,
    decode_line,
    parse_command,
)
from .remote_enforce import RemoteEnforcer, add_enforce_option, build_enforcer
from .signals import StopRequest
from .sources import CaptureFileError, Packet, read_captures

# A looped replay restarts this long (packet time) after the file's last packet.
LOOP_GAP = 1.0
STATE_SAVE_INTERVAL = 60.0
# Baselines of the 4,096 devices the table holds fit in a few MB; a bigger file is not ours.
MAX_STATE_BYTES = 64 * 1024 * 1024


@dataclass(slots=True)
class ProbeFailure(Exception):
    """Stop the probe with an ``error`` line; transient errors exit 3, the rest 2."""

    code: str
    message: str
    transient: bool = False


class Emitter:
    """Writes protocol messages; remembers which alerts were already sent."""

    def __init__(self, engine: Engine, out: IO[str]) -> None:
        self.engine = engine
        self.out = out
        self.seq = 0
        # The count each alert had when it was last sent, in engine.alerts order.
        self._sent_counts: list[int] = []
        self._trimmed = 0  # engine.alerts_trimmed when last sent

    def send(self, message: Message) -> None:
        self.out.write(message.to_line() + "\n")
        self.out.flush()

    def snapshot(self, *, final: bool = False) -> None:
        """The device table, then each new alert and each open one whose count grew."""
        snap = self.engine.snapshot()
        alerts, snap.alerts = snap.alerts, []
        # The guard trims the oldest alerts (bounded memory): realign with the list.
        dropped = self.engine.alerts_trimmed - self._trimmed
        self._trimmed = self.engine.alerts_trimmed
        sent = self._sent_counts[dropped:] if dropped > 0 else self._sent_counts
        # A repeat inside the cooldown raises an alert's count instead of a new alert:
        # those go out as updates, apart from the new alerts Home Assistant announces.
        updates = [a for a, count in zip(alerts, sent, strict=False) if a.count != count]
        fresh = alerts[len(sent) :]
        self._sent_counts = [a.count for a in alerts]
        self.seq += 1
        now = time.time()
        self.send(SnapshotMessage(seq=self.seq, wall_time=now, snapshot=snap, final=final))
        for alert in fresh:
            self.send(AlertMessage(alert=alert))
        for alert in updates:
            self.send(AlertMessage(alert=alert, update=True))
        self.send(Heartbeat(wall_time=now, stats=snap.stats))

    def warning(self, code: str, message: str) -> None:
        self.send(WarningMessage(code=code, message=message))

    def error(self, err: ProbeFailure) -> int:
        self.send(ErrorMessage(code=err.code, message=err.message))
        return 3 if err.transient else 2


# What the reader thread hands the probe loop: a command, or why a line was refused.
_Queued = Command | tuple[ProtocolError, str, int | None]


class Control:
    """Commands from stdin (a reader thread), applied by the probe loop between batches."""

    def __init__(
        self,
        engine: Engine,
        emitter: Emitter,
        state_file: str | None,
        enforcer: RemoteEnforcer | None = None,
    ) -> None:
        self.engine = engine
        self.emitter = emitter
        self.state_file = state_file
        # Blocks carried out on this machine (a remote probe's --enforce).
        self.enforcer = enforcer if enforcer is not None else RemoteEnforcer(None)
        self._queue: queue.Queue[_Queued] = queue.Queue()
        self._next_save = time.monotonic() + STATE_SAVE_INTERVAL
        self._save_error: str | None = None

    def start_reader(self, stream: IO[str]) -> None:
        threading.Thread(
            target=self._read, args=(stream,), name="totem-probe-control", daemon=True
        ).start()

    def _read(self, stream: IO[str]) -> None:
        """Every line becomes a command or a refusal; none can stop the reader."""
        while True:
            line = stream.readline(MAX_COMMAND_LINE + 1)
            if not line:
                return
            if len(line) > MAX_COMMAND_LINE and not line.endswith("\n"):
                # Too long: refuse it and skip the rest of it, without buffering it.
                while (rest := stream.readline(MAX_COMMAND_LINE)) and not rest.endswith("\n"):
                    pass
                err = ProtocolError("malformed_command", f"line longer than {MAX_COMMAND_LINE}")
                self._queue.put((err, "?", None))
                continue
            if not line.strip():
                continue
            try:
                obj = decode_line(line)
            except ProtocolError as err:
                self._queue.put((err, "?", None))
                continue
            try:
                self._queue.put(parse_command(obj))
            except ProtocolError as err:
                name = obj.get("cmd") if isinstance(obj, dict) else None
                label = name[:64] if isinstance(name, str) else "?"
                self._queue.put((err, label, command_id(obj)))

    def poll(self) -> None:
        """Apply queued commands; save state when it is due."""
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if isinstance(item, tuple):
                err, name, ident = item
                self.emitter.send(Ack.of(name, ident, Reply.refused(err.code, err.message)))
            else:
                self.apply(item)
        if self.state_file and time.monotonic() >= self._next_save:
            self.save()

    def apply(self, cmd: Command) -> None:
        if isinstance(cmd, RequestSnapshot):
            self.emitter.snapshot()
            reply = OK
        elif (enforced := self.enforcer.command(cmd)) is not None:
            reply = enforced
        else:
            try:
                reply = self.engine.command(cmd)
            except Exception as err:  # a command must never kill the probe
                reply = Reply.refused("internal", f"{type(err).__name__}: {err}")
        self.emitter.send(Ack.of(cmd.name, cmd.id, reply))

    def load(self) -> None:
        """Restore the state file. What cannot be read is kept beside it (``.corrupt``),
        said in a warning, and the probe starts from what is valid: never a crash."""
        path = self.state_file
        if not path or not os.path.exists(path):
            return
        try:
            with open(path, "rb") as fh:
                raw = fh.read(MAX_STATE_BYTES + 1)
            if len(raw) > MAX_STATE_BYTES:
                raise ValueError(f"larger than {MAX_STATE_BYTES} bytes")
            state = json.loads(raw)
            if not isinstance(state, dict) or not isinstance(state.get("observers"), dict):
                raise ValueError("not a TOTEM state document")
        except (OSError, ValueError, RecursionError) as err:
            # A damaged state file must not stop monitoring: start fresh, say why.
            kept = self._keep_corrupt(path)
            self.emitter.warning(
                "state_unreadable", f"{path}: unreadable state ({err}); {kept}; starting fresh"
            )
            return
        dropped = self.engine.import_state(state["observers"])
        if dropped:
            kept = self._keep_corrupt(path)
            shown = ", ".join(dropped[:8]) + (
                f" and {len(dropped) - 8} more" if len(dropped) > 8 else ""
            )
            self.emitter.warning(
                "state_repaired",
                f"{path}: {len(dropped)} part(s) of the state had wrong types ({shown}); "
                f"{kept}; the rest is restored",
            )

    @staticmethod
    def _keep_corrupt(path: str) -> str:
        """Move an unreadable state file aside, so the next save cannot overwrite it."""
        backup = f"{path}.corrupt"
        try:
            os.replace(path, backup)
        except OSError as err:
            return f"could not keep a copy ({err.strerror or err})"
        return f"a copy is kept in {backup}"

    def save(self) -> None:
        self._next_save = time.monotonic() + STATE_SAVE_INTERVAL
        if not self.state_file:
            return
        tmp = f"{self.state_file}.tmp"
        doc = {"version": 1, "saved": time.time(), "observers": self.engine.export_state()}
        try:
            with open(tmp, "w", encoding="utf-8") as fh:
                json.dump(doc, fh, separators=(",", ":"))
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.state_file)
        except OSError as err:
            with contextlib.suppress(OSError):
                os.unlink(tmp)  # a half-written file on a full disk helps no one
            message = f"{self.state_file}: cannot save state ({err.strerror or err})"
            if message != self._save_error:  # once per cause, not every minute
                self._save_error = message
                self.emitter.warning("state_not_saved", message)
            return
        self._save_error = None


def _replay_packets(
    files: list[str], loop: bool, stop: StopRequest, emitter: Emitter
) -> Iterator[Packet]:
    said: set[str] = set()

    def warn(message: str) -> None:
        # A file cut off or truncated under the replay: said once, not on every loop.
        if message not in said and len(said) < 64:
            said.add(message)
            emitter.warning("capture_file", message)

    shift = 0.0
    while True:
        first: float | None = None
        last = 0.0
        try:
            for batch in read_captures(files, warn):
                for ts, wirelen, data, linktype in batch:
                    if first is None:
                        first = ts
                    last = ts
                    yield (ts + shift, wirelen, data, linktype)
                if stop.requested:
                    return
        except CaptureFileError as err:
            raise ProbeFailure("bad_file", str(err), transient=shift > 0) from None
        if not loop or first is None:
            return
        shift += last - first + LOOP_GAP


def run_replay(
    args: argparse.Namespace, emitter: Emitter, stop: StopRequest, control: Control
) -> None:
    engine = emitter.engine
    speed: float = args.speed
    interval: float = args.interval
    wall0 = time.monotonic()
    ts0: float | None = None
    next_emit = wall0 + interval
    chunk: list[Packet] = []
    for pkt in _replay_packets(args.replay, args.loop, stop, emitter):
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
                control.poll()
                time.sleep(min(due - now, 0.05, max(next_emit - now, 0.0)))
        chunk.append(pkt)
        if len(chunk) >= 512:
            engine.process(chunk)
            chunk = []
            control.poll()
            if time.monotonic() >= next_emit:
                emitter.snapshot()
                next_emit = time.monotonic() + interval
        if stop.requested:
            break
    if chunk:
        engine.process(chunk)


def run_live(
    args: argparse.Namespace, emitter: Emitter, stop: StopRequest, control: Control
) -> None:
    from .capture import CaptureError, open_live
    from .vendor import lookup

    engine = emitter.engine
    # The OUI table loads on the first lookup, in the first snapshot after the first
    # frames: a file read, or with a binary aiooui table 25 ms of CPU and ~110 ms of
    # wall time here (a short-lived event loop), four times that on a Pi 4, while the
    # ring fills. Load it before capturing.
    lookup(b"\x00\x00\x00")
    try:
        cap = open_live(args.iface, bpf=args.bpf, promisc=args.promisc)
    except CaptureError as err:
        raise ProbeFailure(err.code, err.message, transient=err.code == "interface_down") from None
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
                    cap.feed(engine)
                except CaptureError as err:
                    raise ProbeFailure(err.code, err.message, transient=True) from None
                except OSError as err:
                    raise ProbeFailure(
                        "interface_down", f"{args.iface}: {err.strerror or err}", transient=True
                    ) from None
            control.poll()
            if time.monotonic() >= next_emit:
                received, dropped = cap.kernel_stats()
                engine.stats.kernel_received = received
                engine.stats.kernel_dropped = dropped
                emitter.snapshot()
                next_emit = time.monotonic() + interval
        # Frames still in the kernel ring belong in the summary.
        time.sleep(cap.drain_delay)
        with contextlib.suppress(CaptureError, OSError):
            while cap.feed(engine):
                pass
        engine.stats.kernel_received, engine.stats.kernel_dropped = cap.kernel_stats()
    finally:
        cap.close()


def run_flows(
    args: argparse.Namespace, emitter: Emitter, stop: StopRequest, control: Control
) -> None:
    engine = emitter.engine
    assert isinstance(engine, FlowEngine)
    try:
        sock = open_socket(args.bind, args.netflow)
    except OSError as err:
        where = f"{args.bind or '*'}:{args.netflow}"
        raise ProbeFailure(
            "port_unavailable", f"cannot listen on udp {where}: {err.strerror}", transient=True
        ) from None
    try:
        serve(engine, sock, args.interval, stop, emitter.snapshot, control.poll)
    finally:
        sock.close()


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("probe", help="long-running capture process (NDJSON on stdout)")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--replay", nargs="+", metavar="FILE", help="replay capture files")
    source.add_argument("--iface", metavar="IFACE", help="capture from a network interface")
    source.add_argument("--netflow", type=port_arg, metavar="PORT", help="collect flow export")
    parser.add_argument("--bind", type=address_arg, metavar="ADDR", help="--netflow: listen here")
    parser.add_argument(
        "--allow", type=address_arg, nargs="+", default=[], metavar="ADDR",
        help="--netflow: accept exports only from these exporters",
    )  # fmt: skip
    add_leases_option(parser)
    parser.add_argument("--speed", type=non_negative, default=1.0, help="replay speed factor")
    parser.add_argument("--loop", action="store_true", help="replay forever")
    parser.add_argument("--bpf", metavar="EXPR", help="kernel filter for live capture")
    parser.add_argument("--promisc", action="store_true", help="promiscuous mode")
    parser.add_argument("--interval", type=non_negative, default=10.0, metavar="SECONDS")
    add_detector_options(parser)
    parser.add_argument("--max-devices", type=int, default=4096, metavar="N")
    parser.add_argument("--state", metavar="FILE", help="load and save learned state here")
    parser.add_argument(
        "--ha-tables", metavar="FILE", help="Home Assistant's discovery tables (JSON)"
    )
    add_link_options(parser)
    add_enforce_option(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, out: IO[str] | None = None) -> int:
    if getattr(args, "mqtt", None):
        return run_remote(args, run_local)
    return run_local(args, out)


def run_local(
    args: argparse.Namespace, out: IO[str] | None = None, commands: IO[str] | None = None
) -> int:
    stream = out or sys.stdout
    stop = StopRequest()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if args.max_devices < 1:
        print("error: --max-devices must be >= 1", file=sys.stderr)
        return 2
    try:
        if args.netflow is not None:
            engine: Engine = build_flow_engine(
                args.learn,
                args.blocklist,
                args.max_devices,
                tuple(args.allow),
                open_leases(getattr(args, "leases", None)),
            )
        else:
            engine = build_engine(
                args.learn,
                args.blocklist,
                max_devices=args.max_devices,
                dhcp_servers=getattr(args, "dhcp_server", ()),
            )
    except BlocklistError as err:
        stream.write(ErrorMessage(code="bad_file", message=str(err)).to_line() + "\n")
        return 2
    apply_tables_file(engine.identifier, getattr(args, "ha_tables", None))
    emitter = Emitter(engine, stream)
    try:
        enforcer = build_enforcer(args)
    except EnforceError as err:
        stream.write(ErrorMessage(code=err.reason, message=err.message).to_line() + "\n")
        return 2
    control = Control(engine, emitter, args.state, enforcer)
    source = f"replay:{','.join(args.replay)}" if args.replay else f"iface:{args.iface}"
    if args.netflow is not None:
        source = f"netflow:{args.netflow}"
    emitter.send(Hello(source=source, pid=os.getpid()))
    control.load()
    if commands is not None:
        control.start_reader(commands)
    elif not sys.stdin.isatty():
        control.start_reader(sys.stdin)
    try:
        if args.replay:
            run_replay(args, emitter, stop, control)
        elif args.netflow is not None:
            run_flows(args, emitter, stop, control)
        else:
            run_live(args, emitter, stop, control)
    except ProbeFailure as err:
        control.save()
        return emitter.error(err)
    except Exception as err:  # the supervisor needs one line, not a traceback
        return emitter.error(ProbeFailure("internal", f"{type(err).__name__}: {err}"))
    control.save()
    emitter.snapshot(final=True)
    return 0
