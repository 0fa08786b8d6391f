"""A remote probe: the probe's protocol lines through the user's MQTT broker.

``probe ... --mqtt mqtt://USER:PASS@HOST:PORT --name NAME`` (``mqtts://`` with
``--mqtt-ca FILE``) publishes under ``totem/NAME/``:

- ``status``: ``online`` (retained) once connected, ``offline`` (retained) at exit
  and, as the broker's last will, when the probe vanishes;
- ``hello`` (retained): the probe's hello line, protocol version included;
- ``snapshot``: each snapshot line as the probe writes it (compact JSON), QoS 0:
  counters are cumulative, so a snapshot lost while the broker is away is
  replaced by the next one and nothing is lost;
- ``alert``: each alert line once, QoS 1 (queued while disconnected, sent on
  reconnection);
- ``ack``: the answer to each command; ``heartbeat`` with the link's counters.

Commands arrive on ``totem/NAME/command`` as ``{"cmd": {...}, "ts": T, "nonce": N,
"sig": S}`` where ``S`` is HMAC-SHA256 with the probe's secret over
:func:`signed_text`. A command unsigned, forged (signature does not verify),
stale (``ts`` more than :data:`MAX_SKEW` seconds away) or replayed (nonce seen) is
refused with an ``ack`` and never reaches the engine: another client on the
broker cannot block devices even where the ACL lets it publish there. The secret
is read from ``--secret-file`` (created with a fresh random secret, mode 0600,
and announced once on stderr, when missing): the user gives it to Home Assistant
when adding the probe.

paho-mqtt is imported only when ``--mqtt`` is used (Home Assistant ships it; on
another machine ``pip install paho-mqtt``).
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import re
import secrets
import signal
import ssl
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import IO, Any, cast
from urllib.parse import unquote, urlsplit

from .messages import Ack
from .protocol import MAX_COMMAND_LINE, Reply

TOPIC_ROOT = "totem"
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
# A command signed more than this far from the probe's clock is refused: NTP keeps
# home machines within a second; 5 minutes forgives a Pi without a clock battery
# that has not synced yet, and bounds how long nonces are remembered.
MAX_SKEW = 300.0
# Commands come from a person (a few a minute) and from Home Assistant reading the
# probe's blocks after each snapshot (6 a minute at the default 10 s): the nonces of
# the 10-minute window are a few hundred at most.
MAX_NONCES = 4096
CONNECT_WAIT = 10.0  # seconds the probe waits for the broker's first answer
RECONNECT_MIN, RECONNECT_MAX = 1, 30  # backoff between connection attempts (seconds)
MAX_QUEUED = 1000  # QoS 1 alerts held while the broker is away
AUTH_CODES = frozenset({4, 5, 134, 135})  # MQTT 3.1.1 and 5 "bad credentials"/"not authorized"
_TYPE = re.compile(r'^\{"type":"([a-z_]+)"')


class LinkError(Exception):
    """The link cannot start (bad URL, missing paho-mqtt, wrong credentials): one line."""


@dataclass(frozen=True, slots=True)
class BrokerUrl:
    tls: bool
    host: str
    port: int
    username: str | None
    password: str | None


def parse_url(url: str) -> BrokerUrl:
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts"):
        raise LinkError(f"--mqtt {url!r}: use mqtt://USER:PASS@HOST:PORT or mqtts://...")
    try:
        port = parts.port
    except ValueError:
        raise LinkError(f"--mqtt: bad port in {parts.netloc!r}") from None
    if not parts.hostname:
        raise LinkError("--mqtt: no broker host")
    tls = parts.scheme == "mqtts"
    return BrokerUrl(
        tls,
        parts.hostname,
        port or (8883 if tls else 1883),
        unquote(parts.username) if parts.username else None,
        unquote(parts.password) if parts.password else None,
    )


def topic(name: str, leaf: str) -> str:
    return f"{TOPIC_ROOT}/{name}/{leaf}"


def signed_text(name: str, ts: float, nonce: str, cmd: dict[str, Any]) -> bytes:
    """What the signature covers: the probe's name (a command for one probe is
    useless on another), the time, the nonce and the command, canonically."""
    body = json.dumps(cmd, sort_keys=True, separators=(",", ":"))
    return f"{name}\n{ts:.3f}\n{nonce}\n{body}".encode()


def sign(secret: bytes, name: str, cmd: dict[str, Any], ts: float | None = None) -> str:
    """A signed command payload (what Home Assistant publishes; tests use it too)."""
    when = round(time.time() if ts is None else ts, 3)
    nonce = secrets.token_hex(12)
    sig = hmac.new(secret, signed_text(name, when, nonce, cmd), hashlib.sha256).hexdigest()
    return json.dumps({"cmd": cmd, "ts": when, "nonce": nonce, "sig": sig})


def load_secret(path: str) -> bytes:
    """The probe's secret; created (random, mode 0600) and announced when missing."""
    try:
        with open(path, encoding="ascii") as fh:
            text = fh.read().strip()
    except FileNotFoundError:
        text = secrets.token_hex(32)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(text + "\n")
        print(f"totem: new probe secret in {path}: {text}", file=sys.stderr, flush=True)
    except (OSError, UnicodeDecodeError) as err:
        raise LinkError(f"--secret-file {path}: {err}") from None
    if len(text) < 32:
        raise LinkError(f"--secret-file {path}: a secret has at least 32 characters")
    return text.encode()


class Verifier:
    """Signed commands in, engine command objects out; the rest refused with a reason."""

    def __init__(self, name: str, secret: bytes) -> None:
        self.name = name
        self.secret = secret
        self._nonces: OrderedDict[str, float] = OrderedDict()

    def check(self, payload: bytes, now: float | None = None) -> dict[str, Any] | Reply:
        wall = time.time() if now is None else now
        if len(payload) > MAX_COMMAND_LINE:
            return Reply.refused("malformed_command", "command too long")
        try:
            obj = json.loads(payload)
        except ValueError:
            return Reply.refused("malformed_command", "not JSON")
        if not isinstance(obj, dict) or not isinstance(obj.get("cmd"), dict):
            return Reply.refused("malformed_command", "no 'cmd' object")
        sig, ts, nonce = obj.get("sig"), obj.get("ts"), obj.get("nonce")
        if not isinstance(sig, str) or not isinstance(nonce, str) or len(nonce) > 64:
            return Reply.refused("unsigned", "commands must be signed with the probe's secret")
        if not isinstance(ts, int | float) or isinstance(ts, bool):
            return Reply.refused("unsigned", "a signed command carries its time")
        text = signed_text(self.name, float(ts), nonce, obj["cmd"])
        good = hmac.new(self.secret, text, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(good, sig):
            return Reply.refused("bad_signature", "signature does not verify")
        if abs(wall - ts) > MAX_SKEW:
            return Reply.refused("replayed", f"signed {wall - ts:.0f} s away from this clock")
        while self._nonces and next(iter(self._nonces.values())) < wall - 2 * MAX_SKEW:
            self._nonces.popitem(last=False)
        if nonce in self._nonces:
            return Reply.refused("replayed", "this command was already received")
        self._nonces[nonce] = wall
        if len(self._nonces) > MAX_NONCES:
            self._nonces.popitem(last=False)
        cmd: dict[str, Any] = obj["cmd"]
        return cmd


@dataclass(slots=True)
class LinkStats:
    connects: int = 0
    disconnects: int = 0
    published: int = 0
    snapshots_skipped: int = 0  # broker away: the next snapshot carries the counters
    commands_accepted: int = 0
    commands_refused: int = 0


class MqttLink:
    """The probe's output stream and command source, over one MQTT connection."""

    def __init__(self, url: str, name: str, secret: bytes, ca_file: str | None = None) -> None:
        if not NAME_PATTERN.fullmatch(name):
            raise LinkError(f"--name {name!r}: letters, digits, '-' and '_' (at most 64)")
        try:
            import paho.mqtt.client as mqtt  # only remote probes need it
            from paho.mqtt.enums import CallbackAPIVersion
        except ImportError:
            raise LinkError("--mqtt needs paho-mqtt: pip install paho-mqtt") from None
        self._mqtt = mqtt
        self.broker = parse_url(url)
        self.name = name
        self.verifier = Verifier(name, secret)
        self.stats = LinkStats()
        self.fatal: str | None = None
        self._running = False
        self._hello: str | None = None
        self._answered = threading.Event()
        self._connected = False
        read_fd, write_fd = os.pipe()
        # Verified commands, one JSON line each, read by the probe's Control thread.
        self.commands: IO[str] = os.fdopen(read_fd, "r", encoding="utf-8")
        self._command_pipe = os.fdopen(write_fd, "w", encoding="utf-8")
        self._pipe_lock = threading.Lock()
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"totem-probe-{name}",
            protocol=mqtt.MQTTv311,
        )
        if self.broker.username is not None:
            client.username_pw_set(self.broker.username, self.broker.password)
        if self.broker.tls:
            try:
                client.tls_set(ca_certs=ca_file, cert_reqs=ssl.CERT_REQUIRED)
            except (OSError, ssl.SSLError) as err:
                raise LinkError(f"--mqtt-ca {ca_file}: {err}") from None
        client.will_set(topic(name, "status"), "offline", qos=1, retain=True)
        client.reconnect_delay_set(RECONNECT_MIN, RECONNECT_MAX)
        client.max_queued_messages_set(MAX_QUEUED)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        self.client = client

    # -- connection ------------------------------------------------------------------

    def start(self) -> None:
        """Connect (retrying in the background); raises LinkError on wrong credentials."""
        self.client.connect_async(self.broker.host, self.broker.port, keepalive=30)
        self.client.loop_start()
        self._answered.wait(CONNECT_WAIT)
        if self.fatal is not None:
            self.close(clean=False)
            raise LinkError(self.fatal)
        self._running = True

    def _on_connect(
        self, client: Any, _userdata: Any, _flags: Any, reason: Any, _props: Any
    ) -> None:
        if reason.is_failure:
            if reason.value in AUTH_CODES:
                where = f"{self.broker.host}:{self.broker.port}"
                self.fatal = f"MQTT broker {where} refused the login: {reason}"
                client.disconnect()
                if self._running:  # the password changed under a running probe: stop it
                    os.kill(os.getpid(), signal.SIGTERM)
            self._answered.set()
            return
        self._connected = True
        self.stats.connects += 1
        client.subscribe(topic(self.name, "command"), qos=1)
        if self._hello is not None:
            client.publish(topic(self.name, "hello"), self._hello, qos=1, retain=True)
        client.publish(topic(self.name, "status"), "online", qos=1, retain=True)
        self._answered.set()

    def _on_disconnect(
        self, _client: Any, _userdata: Any, _flags: Any, _reason: Any, _props: Any
    ) -> None:
        if self._connected:
            self.stats.disconnects += 1
        self._connected = False

    def close(self, *, clean: bool = True) -> None:
        if clean and self._connected:
            info = self.client.publish(topic(self.name, "status"), "offline", qos=1, retain=True)
            info.wait_for_publish(2.0)
        self.client.disconnect()
        self.client.loop_stop()
        with self._pipe_lock:
            self._command_pipe.close()

    # -- commands in ----------------------------------------------------------------

    def _on_message(self, _client: Any, _userdata: Any, message: Any) -> None:
        got = self.verifier.check(bytes(message.payload))
        if isinstance(got, Reply):
            self.stats.commands_refused += 1
            ident = None
            name = "?"
            try:
                obj = json.loads(message.payload)
                cmd = obj.get("cmd") if isinstance(obj, dict) else None
                if isinstance(cmd, dict):
                    raw_id, raw_name = cmd.get("id"), cmd.get("cmd")
                    ident = raw_id if isinstance(raw_id, int) else None
                    name = raw_name[:64] if isinstance(raw_name, str) else "?"
            except ValueError:
                pass
            self._publish("ack", Ack.of(name, ident, got).to_line(), qos=1)
            return
        self.stats.commands_accepted += 1
        with self._pipe_lock:
            if not self._command_pipe.closed:
                self._command_pipe.write(json.dumps(got, separators=(",", ":")) + "\n")
                self._command_pipe.flush()

    # -- lines out (the probe's Emitter writes here) --------------------------------

    def _publish(self, leaf: str, payload: str, qos: int = 0, retain: bool = False) -> None:
        info = self.client.publish(topic(self.name, leaf), payload, qos=qos, retain=retain)
        if info.rc == self._mqtt.MQTT_ERR_SUCCESS:
            self.stats.published += 1

    def write(self, text: str) -> int:
        for line in text.splitlines():
            self.send_line(line)
        return len(text)

    def flush(self) -> None:
        return None

    def send_line(self, line: str) -> None:
        match = _TYPE.match(line)
        kind = match.group(1) if match else ""
        if kind in ("snapshot", "summary"):  # a summary is the final snapshot
            if not self._connected and kind == "snapshot":
                self.stats.snapshots_skipped += 1
                return
            self._publish("snapshot", line)
        elif kind == "alert":
            self._publish("alert", line, qos=1)
        elif kind == "ack":
            self._publish("ack", line, qos=1)
        elif kind == "hello":
            self._hello = line
            self._publish("hello", line, qos=1, retain=True)
        elif kind == "heartbeat":
            beat = json.loads(line)
            beat["link"] = asdict(self.stats)
            self._publish("heartbeat", json.dumps(beat, separators=(",", ":")))
        else:  # warning, error: the journal hears them too
            print(line, file=sys.stderr, flush=True)
            self._publish(kind or "warning", line, qos=1)


def add_link_options(parser: Any) -> None:
    parser.add_argument("--mqtt", metavar="URL", help="remote probe: mqtt://USER:PASS@HOST:PORT")
    parser.add_argument("--name", metavar="NAME", help="--mqtt: this probe's name (topics)")
    parser.add_argument("--mqtt-ca", metavar="FILE", help="--mqtt mqtts://: CA certificate")
    parser.add_argument(
        "--secret-file", metavar="FILE", help="--mqtt: the command-signing secret (created)"
    )


LocalRun = Callable[[argparse.Namespace, IO[str], IO[str]], int]


def run_remote(args: argparse.Namespace, run_local: LocalRun) -> int:
    """The probe with its lines on the broker; exit 2 with one line when it cannot start."""
    try:
        if not args.name:
            raise LinkError("--mqtt needs --name NAME")
        secret_file = args.secret_file or f"totem-probe-{args.name}.secret"
        link = MqttLink(args.mqtt, args.name, load_secret(secret_file), args.mqtt_ca)
        link.start()
    except LinkError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    try:
        code = run_local(args, cast(IO[str], link), link.commands)
    finally:
        link.close(clean=link.fatal is None)
    if link.fatal is not None:
        print(f"error: {link.fatal}", file=sys.stderr)
        return 2
    return code
