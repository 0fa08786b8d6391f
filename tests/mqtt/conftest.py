"""A real Mosquitto on a loopback port, with a password file and an ACL, per test."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
MOSQUITTO = shutil.which("mosquitto") or shutil.which("mosquitto", path="/usr/sbin:/sbin")
PASSWD = shutil.which("mosquitto_passwd")

# Who may do what: Home Assistant reads every probe and commands them; each probe
# writes its own tree and reads its commands; "neighbour" is another client of the
# broker (a smart plug's account) confined to its own tree; "sloppy" is an account an
# ACL mistake lets publish commands: the signature must still stop it.
ACCOUNTS = {
    "ha": "ha-secret",
    "garden": "garden-secret",
    "attic": "attic-secret",
    "neighbour": "neighbour-secret",
    "sloppy": "sloppy-secret",
}
ACL = """\
user ha
topic read totem/#
topic write totem/+/command

user garden
topic write totem/garden/#
topic read totem/garden/command

user attic
topic write totem/attic/#
topic read totem/attic/command

user neighbour
topic readwrite plug/#

user sloppy
topic readwrite totem/#
"""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Broker:
    port: int
    conf: Path
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        assert MOSQUITTO is not None
        self.proc = subprocess.Popen([MOSQUITTO, "-c", str(self.conf)], stderr=subprocess.PIPE)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("mosquitto did not start listening")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self.proc = None

    def url(self, user: str, password: str | None = None) -> str:
        return f"mqtt://{user}:{password or ACCOUNTS[user]}@127.0.0.1:{self.port}"


@contextlib.contextmanager
def run_broker(tmp_path: Path) -> Generator[Broker]:
    """Mosquitto with the accounts and the ACL above, on a free loopback port."""
    if MOSQUITTO is None or PASSWD is None:
        pytest.skip("mosquitto is not installed (scripts/setup installs it)")
    passwd = tmp_path / "passwd"
    passwd.touch()
    for user, password in ACCOUNTS.items():
        subprocess.run([PASSWD, "-b", str(passwd), user, password], check=True)
    acl = tmp_path / "acl"
    acl.write_text(ACL)
    port = _free_port()
    conf = tmp_path / "mosquitto.conf"
    conf.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous false\npassword_file {passwd}\n"
        f"acl_file {acl}\npersistence false\n" + ("user root\n" if os.geteuid() == 0 else "")
    )
    b = Broker(port, conf)
    b.start()
    try:
        yield b
    finally:
        b.stop()


@pytest.fixture
def broker(tmp_path: Path, socket_enabled: None) -> Generator[Broker]:
    with run_broker(tmp_path) as b:
        yield b


@dataclass
class Watcher:
    """A client of the broker that records what it receives, per topic."""

    client: Any
    got: list[tuple[str, bytes, bool]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def messages(self, topic: str) -> list[bytes]:
        with self.lock:
            return [p for t, p, _r in self.got if t == topic]

    def wait(self, what: str, check: Any, timeout: float = 30.0) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = check()
            if found:
                return found
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}")

    def publish(self, topic: str, payload: str | bytes, qos: int = 1) -> None:
        self.client.publish(topic, payload, qos=qos).wait_for_publish(5)


_WATCHERS: list[Watcher] = []


@pytest.fixture(autouse=True)
def _stop_watchers() -> Generator[None]:
    yield
    while _WATCHERS:
        w = _WATCHERS.pop()
        w.client.disconnect()
        w.client.loop_stop()


def watcher(broker: Broker, user: str, topics: str = "totem/#") -> Watcher:
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"test-{user}-{time.time_ns()}")
    client.username_pw_set(user, ACCOUNTS[user])
    w = Watcher(client)
    _WATCHERS.append(w)
    connected = threading.Event()

    def on_connect(c: Any, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        assert not reason.is_failure, reason
        c.subscribe(topics, qos=1)
        connected.set()

    def on_message(_c: Any, _u: Any, msg: Any) -> None:
        with w.lock:
            w.got.append((msg.topic, bytes(msg.payload), bool(msg.retain)))

    client.on_connect = on_connect
    client.on_message = on_message
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    assert connected.wait(10)
    time.sleep(0.2)  # the subscription is acknowledged
    return w


def probe(
    broker: Broker,
    name: str,
    secret_file: Path,
    *args: str,
    user: str | None = None,
    password: str | None = None,
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "custom_components.totem.engine", "probe", *args,
         "--mqtt", broker.url(user or name, password), "--name", name,
         "--secret-file", str(secret_file)],
        cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
