"""A TOTEM probe on another machine, reached through Home Assistant's MQTT integration.

:class:`RemoteProbe` stands where :class:`~.probe_process.ProbeProcess` stands for a
local probe: the coordinator gets the same protocol messages (hello, snapshots,
alerts, heartbeats) and sends the same commands, signed with the probe's secret
(:func:`.engine.mqtt_link.sign`) and answered on ``totem/NAME/ack``. Messages are
handled one after another in arrival order (a snapshot before the alerts that name
its devices); a snapshot too large for the event loop is decoded in the executor.

The probe's retained ``status`` says whether it runs: ``offline`` (its last will
too) ends the "run" as a local probe's exit would, so the entities go unavailable
and a repair issue says which probe; ``online`` again and the next snapshot
bring them back.

Several probes that see one MAC: each probe is its own entry and the MAC is one
device (device_registry.py, device_merge.py), with one set of traffic sensors per
probe, each that probe's own view, and one total per direction across them (mesh.py:
summed where the probes saw disjoint peers, else the largest view, so a conversation
two probes saw is not counted twice). Blocks of its devices run on the probe's machine
(remote_blocking.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import voluptuous as vol
from homeassistant.components import mqtt
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.selector import (
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)

from .const import ACK_TIMEOUT, CONF_PROBE_NAME, CONF_PROBE_SECRET, CONF_SOURCE_TYPE, SOURCE_REMOTE
from .engine.messages import Ack, Message, check_version, parse_message
from .engine.mqtt_link import NAME_PATTERN, sign, topic
from .engine.protocol import MAX_DEPTH, Command, ProtocolError, decode_line
from .probe_process import INLINE_PARSE_LIMIT, LINE_LIMIT, ProbeEnded, ProbeNotRunning

_LOGGER = logging.getLogger(__package__)
OFFLINE = "probe_offline"
MAX_BACKLOG = 64  # messages waiting to be handled; past it snapshots are dropped (newer come)
LEAVES = ("status", "hello", "snapshot", "alert", "ack", "heartbeat", "warning", "error")


def _parse(payload: bytes) -> Message | None:
    try:
        obj = decode_line(payload, limit=LINE_LIMIT, max_depth=MAX_DEPTH + 8)
        return parse_message(obj)
    except ProtocolError as err:
        _LOGGER.debug("TOTEM remote probe: ignored a message (%s)", err)
        return None


class RemoteProbe:
    """The probe's messages from the broker; commands back, signed."""

    def __init__(
        self,
        hass: HomeAssistant,
        name: str,
        secret: str,
        on_message: Callable[[Message], None],
        on_exit: Callable[[ProbeEnded], None],
    ) -> None:
        self.hass = hass
        self.name = name
        self._secret = secret.encode()
        self._on_message = on_message
        self._on_exit = on_exit
        self._unsubscribe: list[Callable[[], None]] = []
        self._queue: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._online = False
        self._stopping = False
        self._next_id = 1
        self._waiting: dict[int, asyncio.Future[Ack]] = {}
        self.pid: int | None = None
        self.restarts = 0
        # Called each time the probe comes (back) online: its machine may have rebooted.
        self.online_listeners: list[Callable[[], None]] = []

    @property
    def stopping(self) -> bool:
        return self._stopping

    @property
    def running(self) -> bool:
        return self._online

    def start(self) -> asyncio.Task[None]:
        self._task = asyncio.create_task(self._run(), name=f"totem remote probe {self.name}")
        return self._task

    async def _run(self) -> None:
        if not await mqtt.async_wait_for_mqtt_client(self.hass):
            self._on_exit(ProbeEnded(None, OFFLINE, "MQTT is not set up", False))
            return
        for leaf in LEAVES:
            self._unsubscribe.append(
                await mqtt.async_subscribe(
                    self.hass, topic(self.name, leaf), self._received(leaf), qos=1, encoding=None
                )
            )
        while True:
            leaf, payload = await self._queue.get()
            await self._handle(leaf, payload)

    def _received(self, leaf: str) -> Callable[[mqtt.ReceiveMessage], None]:
        @callback
        def got(msg: mqtt.ReceiveMessage) -> None:
            payload = msg.payload if isinstance(msg.payload, bytes) else str(msg.payload).encode()
            if leaf == "snapshot" and self._queue.qsize() >= MAX_BACKLOG:
                return  # a newer snapshot carries every counter
            self._queue.put_nowait((leaf, payload))

        return got

    async def _handle(self, leaf: str, payload: bytes) -> None:
        if leaf == "status":
            online = payload.strip() == b"online"
            if online != self._online:
                self._online = online
                if not online:
                    self._fail_waiting()
                    self._on_exit(
                        ProbeEnded(None, OFFLINE, f"the probe {self.name} is offline", False)
                    )
                else:
                    for listener in list(self.online_listeners):
                        listener()
            return
        if len(payload) > INLINE_PARSE_LIMIT:
            msg = await self.hass.async_add_executor_job(_parse, payload)
        else:
            msg = _parse(payload)
        if msg is None:
            return
        if isinstance(msg, Ack):
            future = self._waiting.pop(msg.id, None) if msg.id is not None else None
            if future is not None and not future.done():
                future.set_result(msg)
            return
        if leaf == "hello":
            try:
                check_version(msg)  # type: ignore[arg-type]
            except (ProtocolError, AttributeError) as err:
                _LOGGER.warning("TOTEM remote probe %s: %s", self.name, err)
                return
        self._on_message(msg)

    # -- commands ------------------------------------------------------------

    def _publish(self, command: Command) -> int | None:
        if not self._online:
            return None
        ident = self._next_id
        self._next_id += 1
        body: dict[str, Any] = json.loads(replace(command, id=ident).to_line())
        payload = sign(self._secret, self.name, body)
        self.hass.async_create_task(
            mqtt.async_publish(self.hass, topic(self.name, "command"), payload, qos=1)
        )
        return ident

    def send(self, command: Command) -> bool:
        return self._publish(command) is not None

    async def request(self, command: Command, timeout: float = ACK_TIMEOUT) -> Ack:
        ident = self._publish(command)
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

    def _fail_waiting(self) -> None:
        for future in self._waiting.values():
            if not future.done():
                future.set_exception(ProbeNotRunning())
        self._waiting.clear()

    def retry_now(self) -> None:
        return None  # the probe reconnects by itself; nothing to wake here

    async def stop(self) -> None:
        self._stopping = True
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe.clear()
        self._fail_waiting()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


async def async_find_probes(hass: HomeAssistant, wait: float = 1.5) -> dict[str, str]:
    """Probes announced on the broker by their retained status: {name: online/offline}."""
    found: dict[str, str] = {}

    @callback
    def got(msg: mqtt.ReceiveMessage) -> None:
        parts = msg.topic.split("/")
        payload = msg.payload if isinstance(msg.payload, str) else str(msg.payload)
        if len(parts) == 3 and len(found) < 256:
            found[parts[1][:64]] = payload.strip()[:16]

    unsubscribe = await mqtt.async_subscribe(hass, "totem/+/status", got, qos=1)
    try:
        await asyncio.sleep(wait)
    finally:
        unsubscribe()
    return dict(sorted(found.items()))


MIN_SECRET = 32  # what the probe generates is 64 hex digits


def remote_schema(found: dict[str, str]) -> vol.Schema:
    options = [
        SelectOptionDict(value=name, label=f"{name} ({state})") for name, state in found.items()
    ]
    return vol.Schema(
        {
            vol.Required(CONF_PROBE_NAME): SelectSelector(
                SelectSelectorConfig(
                    options=options, custom_value=True, mode=SelectSelectorMode.DROPDOWN
                )
            ),
            vol.Required(CONF_PROBE_SECRET): TextSelector(
                TextSelectorConfig(type=TextSelectorType.PASSWORD)
            ),
        }
    )


def remote_data(user_input: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    errors: dict[str, str] = {}
    name = str(user_input.get(CONF_PROBE_NAME, "")).strip()
    secret = str(user_input.get(CONF_PROBE_SECRET, "")).strip()
    if not NAME_PATTERN.fullmatch(name):
        errors[CONF_PROBE_NAME] = "invalid_probe_name"
    if len(secret) < MIN_SECRET:
        errors[CONF_PROBE_SECRET] = "invalid_secret"
    data = {CONF_SOURCE_TYPE: SOURCE_REMOTE, CONF_PROBE_NAME: name, CONF_PROBE_SECRET: secret}
    return data, errors
