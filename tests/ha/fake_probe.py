"""A stand-in for the probe process, for the cases the real one cannot stage.

It speaks the probe protocol (engine/messages.py) from a script: an NDJSON file
whose lines are printed as they are, except directives:
  {"fake": "exit", "status": N}         exit with status N
  {"fake": "hang"}                      wait until SIGTERM, then exit 0
  {"fake": "once", "marker": PATH}      skip up to "run_again" when PATH exists, else
                                        create it (the first run differs from restarts)
  {"fake": "run_again"}                 end of the part "once" skips
  {"fake": "stderr", "text": T}         a line on stderr
  {"fake": "raw", "text": T}            a line on stdout as it is (not JSON, say)
  {"fake": "stubborn"}                  ignore SIGTERM from now on
  {"fake": "wait_file", "path": P}      wait until the test creates P
  {"fake": "answer", "ok": B, ...}      read one command (not "snapshot") and ack it with ok B
                                        (and the directive's "error" and "message")
A hello whose source is "ARGV" reports the probe's arguments instead.
Used only at the process boundary: Home Assistant still spawns a real child
process and reads its stdout.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path


def main() -> int:
    script = Path(sys.argv[1])
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    lines = script.read_text().splitlines()
    skipping = False
    for line in lines:
        msg = json.loads(line)
        directive = msg.get("fake")
        if directive == "once":
            marker = Path(msg["marker"])
            if marker.exists():
                skipping = True
            else:
                marker.touch()
            continue
        if directive == "run_again":
            skipping = False
            continue
        if skipping:
            continue
        if directive == "exit":
            sys.stdout.flush()
            return int(msg["status"])
        if directive == "hang":
            sys.stdout.flush()
            while True:
                time.sleep(3600)
        if "pid" in msg:
            msg["pid"] = os.getpid()
        if msg.get("source") == "ARGV":
            # Tells the test the arguments Home Assistant started the probe with.
            msg["source"] = " ".join(sys.argv[2:])
        if directive == "stderr":
            sys.stderr.write(msg["text"] + "\n")
            sys.stderr.flush()
            continue
        if directive == "raw":
            sys.stdout.write(msg["text"] + "\n")
            continue
        if directive == "wait_file":
            while not Path(msg["path"]).exists():
                time.sleep(0.02)
            continue
        if directive == "answer":
            sys.stdout.flush()
            command = json.loads(sys.stdin.readline())
            while command["cmd"] == "snapshot":  # the coordinator's early request, not the test's
                command = json.loads(sys.stdin.readline())
            ack = {"type": "ack", "cmd": command["cmd"], "id": command.get("id"), "ok": msg["ok"]}
            ack.update({k: msg[k] for k in ("error", "message") if k in msg})
            sys.stdout.write(json.dumps(ack) + "\n")
            continue
        if directive == "stubborn":
            # Ignores SIGTERM: the supervisor has to kill it.
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            continue
        sys.stdout.write(json.dumps(msg) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
