"""What SIGINT and SIGTERM do to the engine's long-running commands: ask them to stop."""

from __future__ import annotations

from types import FrameType


class StopRequest:
    """A signal handler that only records the request: the capture and replay loops
    poll it between short waits and end cleanly (final snapshot, saved state)."""

    def __init__(self) -> None:
        self.requested = False

    def __call__(self, _signum: int, _frame: FrameType | None) -> None:
        self.requested = True
