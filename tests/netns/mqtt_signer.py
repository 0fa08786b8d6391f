"""Home Assistant's side of a remote block, run inside a test namespace: publish one signed
command (or replay saved bytes) to a remote probe and print its ack as one JSON line.

``python -m tests.netns.mqtt_signer PORT NAME SECRET (--cmd JSON [--save FILE] | --replay FILE)``
"""

from __future__ import annotations

import argparse
import json
import threading
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from custom_components.totem.engine.mqtt_link import sign, topic
from tests.mqtt.conftest import ACCOUNTS


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("name")
    parser.add_argument("secret_file")
    parser.add_argument("--cmd")
    parser.add_argument("--save")
    parser.add_argument("--replay")
    args = parser.parse_args()
    if args.replay:
        payload = Path(args.replay).read_text()
        ident = json.loads(payload)["cmd"]["id"]
    else:
        cmd = json.loads(args.cmd)
        ident = cmd["id"]
        payload = sign(Path(args.secret_file).read_text().strip().encode(), args.name, cmd)
        if args.save:
            Path(args.save).write_text(payload)
    got: list[dict[str, Any]] = []
    done, online = threading.Event(), threading.Event()

    def on_connect(c: Any, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        assert not reason.is_failure, reason
        c.subscribe([(topic(args.name, "ack"), 1), (topic(args.name, "status"), 1)])

    def on_message(_c: Any, _u: Any, msg: Any) -> None:
        if msg.topic.endswith("/status"):
            if msg.payload == b"online":
                online.set()
            return
        ack = json.loads(msg.payload)
        if ack.get("id") == ident:
            got.append(ack)
            done.set()

    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="test-ha-signer")
    client.username_pw_set("ha", ACCOUNTS["ha"])
    client.on_connect = on_connect
    client.on_message = on_message
    client.connect("127.0.0.1", args.port)
    client.loop_start()
    try:
        if not online.wait(30):
            print(json.dumps({"error": "probe not online"}))
            return 1
        client.publish(topic(args.name, "command"), payload, qos=1).wait_for_publish(10)
        if not done.wait(30):
            print(json.dumps({"error": "no ack"}))
            return 1
        print(json.dumps(got[0]))
        return 0
    finally:
        client.disconnect()
        client.loop_stop()


if __name__ == "__main__":
    raise SystemExit(main())
