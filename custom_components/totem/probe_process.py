"""Runs the capture probe as a child process and reads its NDJSON stream.

Packet work holds the GIL, so it never runs in Home Assistant's process:
the probe is ``python -m custom_components.totem.engine probe ...`` and this
module only spawns it, reads one JSON object per line without blocking the
event loop, and restarts it with exponential backoff when it dies.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from .const import (
    ACK_TIMEOUT,
    BACKOFF_INITIAL,
    BACKOFF_MAX,
    SILENCE_MIN_SECONDS,
    SILENCE_STARTUP_SECONDS,
    SILENT_HEARTBEATS,
    STOP_GRACE_SECONDS,
)
from .engine.messages import (
    Ack,
    ErrorMessage,
    Heartbeat,
    Hello,
    Message,
    SnapshotMessage,
    check_version,
    parse_message,
)
from .engine.protocol import Command, ProtocolError, decode_line

_LOGGER = logging.getLogger(__name__)

# The folder holding ``custom_components``: the probe imports the engine from it.
PACKAGE_ROOT = Path(__file__).resolve().parents[2]

# A snapshot line carries the whole device table; asyncio's default 64 KiB
# line limit would cut a busy home's table.
LINE_LIMIT = 64 * 1024 * 1024
# Lines above this size are decoded in the executor, not on the event loop.
INLINE_PARSE_LIMIT = 64 * 1024


@dataclass(frozen=True, slots=True)
class ProbeEnded:
    """How one run of the probe ended."""

    returncode: int | None
    error_code: str | None
    message: str
    finished: bool  # a replay reached its end and said so: no restart


class ProbeNotRunning(Exception):
    """No probe runs to take a command, or it ended before it answered."""


def probe_argv(args: list[str]) -> list[str]:
    """The command line of the probe process (the one seam tests replace)."""
    return [sys.executable, "-m", "custom_components.totem.engine", "probe", *args]


class ProbeProcess:
    """Supervises one probe: spawn, read, restart with backoff, stop."""

    def __init__(
        self,
        args: list[str],
        on_message: Callable[[Message], None],
        on_exit: Callable[[ProbeEnded], None],
        *,
        may_finish: bool = False,
        backoff_initial: float = BACKOFF_INITIAL,
        backoff_max: float = BACKOFF_MAX,
        heartbeat: float | None = None,
    ) -> None:
        self._args = args
        self._on_message = on_message
        self._on_exit = on_exit
        # Only a replay without --loop ends on purpose; a live probe that
        # stops is always restarted.
        self._may_finish = may_finish
        self._backoff_initial = backoff_initial
        self._backoff_max = backoff_max
        # The liveness watchdog: a probe silent this long is killed (None: no watchdog).
        self.silence_limit = (
            None if heartbeat is None else max(SILENT_HEARTBEATS * heartbeat, SILENCE_MIN_SECONDS)
        )
        self._last_line = 0.0
        self._heartbeats = False  # this run proved it sends them: the short limit applies
        self.silenced = 0  # how many runs the watchdog ended
        self._proc: asyncio.subprocess.Process | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._wake = asyncio.Event()
        self.pid: int | None = None
        self.restarts = 0
        self._next_id = 1
        # Commands sent and not yet acknowledged, by id; a run's end fails them.
        self._waiting: dict[int, asyncio.Future[Ack]] = {}

    @property
    def stopping(self) -> bool:
        return self._stopping

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.returncode is None

    def start(self) -> asyncio.Task[None]:
        self._task = asyncio.create_task(self._supervise(), name="totem probe supervisor")
        return self._task

    def send(self, command: Command) -> bool:
        """Write one command to the running probe, not waiting for its ack; False when
        no probe runs."""
        return self._write(command) is not None

    async def request(self, command: Command, timeout: float = ACK_TIMEOUT) -> Ack:
        """Send a command and wait for the probe's ack (``ok`` false says why).

        ProbeNotRunning when no probe runs, or it ended or stayed silent meanwhile.
        """
        ident = self._write(command)
        if ident is None:
            raise ProbeNotRunning
        future: asyncio.Future[Ack] = asyncio.get_running_loop().create_future()
        self._waiting[ident] = future
        try:
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            raise ProbeNotRunning from None
        finally:
            self._waiting.pop(ident, None)

    def _write(self, command: Command) -> int | None:
        proc = self._proc
        if proc is None or proc.returncode is not None or proc.stdin is None:
            return None
        ident = self._next_id
        self._next_id += 1
        try:
            proc.stdin.write(replace(command, id=ident).to_line().encode() + b"\n")
        except (BrokenPipeError, ConnectionResetError):
            return None
        return ident

    async def _watch(self, proc: asyncio.subprocess.Process, limit: float) -> bool:
        """Kill PROC when it stays silent for LIMIT seconds; True when it did."""
        while proc.returncode is None:
            silent = time.monotonic() - self._last_line
            if silent >= (limit if self._heartbeats else max(limit, SILENCE_STARTUP_SECONDS)):
                # SIGKILL also ends a stopped (SIGSTOP) process; SIGTERM would wait.
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                return True
            await asyncio.sleep(1.0)
        return False

    def _acknowledged(self, ack: Ack) -> None:
        future = self._waiting.pop(ack.id, None) if ack.id is not None else None
        if future is not None and not future.done():
            future.set_result(ack)

    def retry_now(self) -> None:
        """Skip the current backoff wait (e.g. after the user fixed something)."""
        self._wake.set()

    async def stop(self) -> None:
        """Terminate the probe (SIGTERM, then SIGKILL after a grace period)."""
        self._stopping = True
        self._wake.set()
        proc = self._proc
        if proc is not None and proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), STOP_GRACE_SECONDS)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _supervise(self) -> None:
        delay = self._backoff_initial
        while not self._stopping:
            got_data, result = await self._run_once()
            if self.stopping:
                return
            self._on_exit(result)
            if result.finished:
                return
            # A run that delivered data proves the set-up works: start the
            # backoff again from the bottom.
            if got_data:
                delay = self._backoff_initial
            self.restarts += 1
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), delay)
            delay = min(delay * 2, self._backoff_max)

    async def _run_once(self) -> tuple[bool, ProbeEnded]:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(PACKAGE_ROOT), env.get("PYTHONPATH", "")) if p
        )
        env["PYTHONUNBUFFERED"] = "1"
        try:
            proc = await asyncio.create_subprocess_exec(
                *probe_argv(self._args),
                # The probe takes control commands on stdin ({"cmd": "snapshot"}, ...).
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                cwd=PACKAGE_ROOT,
                env=env,
                limit=LINE_LIMIT,
            )
        except OSError as err:
            return False, ProbeEnded(None, "internal", f"cannot start the probe: {err}", False)
        self._proc = proc
        self.pid = proc.pid
        assert proc.stdout is not None
        assert proc.stderr is not None
        stderr_tail: list[str] = []
        stderr_task = asyncio.create_task(_drain_stderr(proc.stderr, stderr_tail))
        self._last_line = time.monotonic()
        self._heartbeats = False
        watchdog: asyncio.Task[bool] | None = None
        if self.silence_limit is not None:
            watchdog = asyncio.create_task(self._watch(proc, self.silence_limit))
        error_code: str | None = None
        error_message = ""
        got_data = False
        finished = False
        try:
            while True:
                try:
                    line = await proc.stdout.readline()
                except ValueError:
                    # A line beyond LINE_LIMIT: the stream is no longer in step.
                    error_code, error_message = "internal", "probe line too long"
                    proc.kill()
                    break
                if not line:
                    break
                self._last_line = time.monotonic()
                if len(line) > INLINE_PARSE_LIMIT:
                    # A big device table takes tens of milliseconds to decode: off the loop.
                    msg = await asyncio.get_running_loop().run_in_executor(None, _parse, line)
                else:
                    msg = _parse(line)
                if msg is None:
                    continue
                if isinstance(msg, Hello):
                    try:
                        check_version(msg)
                    except ProtocolError as err:
                        error_code, error_message = err.code, err.message
                        proc.kill()
                        break
                elif isinstance(msg, ErrorMessage):
                    error_code, error_message = msg.code, msg.message
                elif isinstance(msg, SnapshotMessage):
                    got_data = True
                    finished = msg.final
                elif isinstance(msg, Ack):
                    self._acknowledged(msg)
                elif isinstance(msg, Heartbeat):
                    self._heartbeats = True
                try:
                    self._on_message(msg)
                except Exception:
                    # A bug in one message's handling must not stop the supervision.
                    _LOGGER.exception("Error handling a probe message of type %s", msg.type)
                # readline() does not yield while lines are buffered: a burst (a probe
                # restarting with a full table, a batch of alerts) would otherwise be
                # handled in one step of the event loop.
                await asyncio.sleep(0)
        finally:
            # The watchdog returns as soon as it kills, before the pipe's end is read.
            silenced = False
            if watchdog is not None:
                silenced = watchdog.done() and not watchdog.cancelled() and watchdog.result()
                watchdog.cancel()
            if silenced:
                self.silenced += 1
                error_code = "unresponsive"
                error_message = (
                    f"the probe sent nothing for {self.silence_limit:g} s "
                    "(stopped or hung); killed it"
                )
            returncode = await proc.wait()
            await stderr_task
            self._proc = None
            for future in self._waiting.values():
                if not future.done():
                    future.set_exception(ProbeNotRunning())
        if not error_message:
            tail = stderr_tail[-1] if stderr_tail else ""
            error_message = f"probe exited with status {returncode}" + (f": {tail}" if tail else "")
        return got_data, ProbeEnded(
            returncode,
            error_code,
            error_message,
            self._may_finish and finished and returncode == 0,
        )


def _parse(line: bytes) -> Message | None:
    """One protocol line as its message, or None (logged) when it is not one."""
    try:
        # The probe is our own child: its big snapshot lines are not depth-checked.
        return parse_message(decode_line(line, LINE_LIMIT, max_depth=None))
    except ProtocolError as err:
        _LOGGER.debug("Ignoring a probe line (%s): %.200r", err.message, line)
        return None


async def _drain_stderr(stream: asyncio.StreamReader, tail: list[str]) -> None:
    # Reading stderr keeps the child from blocking on a full pipe; the last
    # lines explain a crash.
    while line := await stream.readline():
        text = line.decode(errors="replace").rstrip()
        _LOGGER.debug("probe: %s", text)
        if text:
            tail.append(text)
            del tail[:-5]
