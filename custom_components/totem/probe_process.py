"""Runs the capture probe as a child process and reads its NDJSON stream.

Packet work holds the GIL, so it never runs in Home Assistant's process:
the probe is ``python -m custom_components.totem.engine probe ...`` and this
module only spawns it, reads one JSON object per line without blocking the
event loop, and restarts it with exponential backoff when it dies.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .const import BACKOFF_INITIAL, BACKOFF_MAX, STOP_GRACE_SECONDS
from .engine.model import Snapshot

_LOGGER = logging.getLogger(__name__)

# The folder holding ``custom_components``: the probe imports the engine from it.
PACKAGE_ROOT = Path(__file__).resolve().parents[2]

# A snapshot line carries the whole device table; asyncio's default 64 KiB
# line limit would cut a busy home's table.
LINE_LIMIT = 64 * 1024 * 1024
# Lines above this size are decoded in the executor, not on the event loop.
INLINE_PARSE_LIMIT = 64 * 1024


@dataclass(frozen=True, slots=True)
class ProbeExit:
    """How one run of the probe ended."""

    returncode: int | None
    error_code: str | None
    message: str
    finished: bool  # a replay reached its end and said so: no restart


def probe_argv(args: list[str]) -> list[str]:
    """The command line of the probe process (the one seam tests replace)."""
    return [sys.executable, "-m", "custom_components.totem.engine", "probe", *args]


class ProbeProcess:
    """Supervises one probe: spawn, read, restart with backoff, stop."""

    def __init__(
        self,
        args: list[str],
        on_message: Callable[[dict[str, Any]], None],
        on_exit: Callable[[ProbeExit], None],
        *,
        may_finish: bool = False,
        backoff_initial: float = BACKOFF_INITIAL,
        backoff_max: float = BACKOFF_MAX,
    ) -> None:
        self._args = args
        self._on_message = on_message
        self._on_exit = on_exit
        # Only a replay without --loop ends on purpose; a live probe that
        # stops is always restarted.
        self._may_finish = may_finish
        self._backoff_initial = backoff_initial
        self._backoff_max = backoff_max
        self._proc: asyncio.subprocess.Process | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._wake = asyncio.Event()
        self.pid: int | None = None
        self.restarts = 0

    @property
    def stopping(self) -> bool:
        return self._stopping

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.returncode is None

    def start(self) -> asyncio.Task[None]:
        self._task = asyncio.create_task(self._supervise(), name="totem probe supervisor")
        return self._task

    def send(self, command: dict[str, Any]) -> bool:
        """Write one control command to the running probe; False when none runs."""
        proc = self._proc
        if proc is None or proc.returncode is not None or proc.stdin is None:
            return False
        try:
            proc.stdin.write(json.dumps(command).encode() + b"\n")
        except (BrokenPipeError, ConnectionResetError):
            return False
        return True

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

    async def _run_once(self) -> tuple[bool, ProbeExit]:
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
            return False, ProbeExit(None, "internal", f"cannot start the probe: {err}", False)
        self._proc = proc
        self.pid = proc.pid
        assert proc.stdout is not None
        assert proc.stderr is not None
        stderr_tail: list[str] = []
        stderr_task = asyncio.create_task(_drain_stderr(proc.stderr, stderr_tail))
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
                if len(line) > INLINE_PARSE_LIMIT:
                    # A big device table takes tens of milliseconds to decode: off the loop.
                    msg = await asyncio.get_running_loop().run_in_executor(None, _parse, line)
                else:
                    msg = _parse(line)
                if msg is None:
                    continue
                kind = msg.get("type")
                if kind == "error":
                    error_code = str(msg.get("code", "internal"))
                    error_message = str(msg.get("message", ""))
                elif kind in ("snapshot", "summary"):
                    got_data = True
                    finished = kind == "summary"
                try:
                    self._on_message(msg)
                except Exception:
                    # A bug in one message's handling must not stop the supervision.
                    _LOGGER.exception("Error handling a probe message of type %s", kind)
        finally:
            returncode = await proc.wait()
            await stderr_task
            self._proc = None
        if not error_message:
            tail = stderr_tail[-1] if stderr_tail else ""
            error_message = f"probe exited with status {returncode}" + (f": {tail}" if tail else "")
        return got_data, ProbeExit(
            returncode,
            error_code,
            error_message,
            self._may_finish and finished and returncode == 0,
        )


def _parse(line: bytes) -> dict[str, Any] | None:
    """One protocol line; a snapshot's table comes back as a Snapshot under "parsed"."""
    try:
        msg = json.loads(line)
    except ValueError:
        _LOGGER.debug("Ignoring a probe line that is not JSON: %.200r", line)
        return None
    if not isinstance(msg, dict):
        return None
    if msg.get("type") in ("snapshot", "summary"):
        try:
            msg["parsed"] = Snapshot.from_json(msg["snapshot"])
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            _LOGGER.debug("Ignoring a malformed snapshot: %s", err)
            return None
    return msg


async def _drain_stderr(stream: asyncio.StreamReader, tail: list[str]) -> None:
    # Reading stderr keeps the child from blocking on a full pipe; the last
    # lines explain a crash.
    while line := await stream.readline():
        text = line.decode(errors="replace").rstrip()
        _LOGGER.debug("probe: %s", text)
        if text:
            tail.append(text)
            del tail[:-5]
