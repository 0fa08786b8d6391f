"""End to end: the engine's CLI cuts a device off a real Linux bridge, and lets it back.

Three network namespaces stand for the home: a device, the Pi in the middle
bridging two veths with br0 (where TOTEM runs), and the router. A second
layout makes the middle namespace a router, for the inet backend. All traffic
stays inside these namespaces (10.231.x.y), which are removed even on failure.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.conftest import ROOT, require_root, require_tool

pytestmark = pytest.mark.netns

CLI = (sys.executable, "-m", "custom_components.totem.engine")
IP = shutil.which("ip") or "ip"


@dataclass(frozen=True)
class Home:
    device: str  # namespace names
    middle: str
    router: str
    device_mac: str
    router_mac: str
    target: str  # the address the device pings


def sh(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, check=True, timeout=30)


def mac_of(ns: str, dev: str) -> str:
    link = json.loads(sh(IP, "-n", ns, "-j", "link", "show", "dev", dev).stdout)
    return str(link[0]["address"])


def pings(ns: str, address: str) -> bool:
    """One echo request with a one-second wait."""
    done = subprocess.run(
        [IP, "netns", "exec", ns, "ping", "-n", "-c", "1", "-W", "1", address],
        capture_output=True,
        check=False,
        timeout=30,
    )
    return done.returncode == 0


def pings_soon(ns: str, address: str, attempts: int = 10) -> bool:
    """Whether a ping gets through within ATTEMPTS tries (links take a moment to come up)."""
    return any(pings(ns, address) for _ in range(attempts))


def totem(ns: str, *args: str) -> subprocess.CompletedProcess[str]:
    """The engine's CLI inside NS, which sees that namespace's /sys, routes and nftables."""
    return subprocess.run(
        [IP, "netns", "exec", ns, *CLI, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
        timeout=120,
    )


def blocked_macs(ns: str, *backend: str) -> list[str]:
    done = totem(ns, "blocks", "--json", *backend)
    assert done.returncode == 0, done.stderr
    return [b["mac"] for b in json.loads(done.stdout)["blocks"]]


@pytest.fixture
def namespaces() -> Iterator[list[str]]:
    require_root("the network-namespace blocking test")
    require_tool("nft")
    require_tool("ping")
    created: list[str] = []
    try:
        yield created
    finally:
        for ns in created:
            subprocess.run([IP, "netns", "del", ns], check=False)


def make_namespaces(created: list[str], *roles: str) -> list[str]:
    tag = uuid.uuid4().hex[:6]
    names = [f"totem-{role}-{tag}" for role in roles]
    for name in names:
        sh(IP, "netns", "add", name)
        created.append(name)
        sh(IP, "-n", name, "link", "set", "lo", "up")
    return names


def veth(a_ns: str, a: str, b_ns: str, b: str) -> None:
    sh(IP, "-n", a_ns, "link", "add", a, "type", "veth", "peer", "name", b, "netns", b_ns)
    sh(IP, "-n", a_ns, "link", "set", a, "up")
    sh(IP, "-n", b_ns, "link", "set", b, "up")


@pytest.fixture
def bridged_home(namespaces: list[str]) -> Home:
    device, middle, router = make_namespaces(namespaces, "dev", "br", "rt")
    veth(device, "eth0", middle, "port-dev")
    veth(router, "eth0", middle, "port-rt")
    # No STP and no forward delay: the ports forward as soon as they are up.
    sh(IP, "-n", middle, "link", "add", "br0", "type", "bridge", "stp_state", "0",
       "forward_delay", "0")  # fmt: skip
    for port in ("port-dev", "port-rt"):
        sh(IP, "-n", middle, "link", "set", port, "master", "br0")
    sh(IP, "-n", middle, "link", "set", "br0", "up")
    sh(IP, "-n", device, "addr", "add", "10.231.0.20/24", "dev", "eth0")
    sh(IP, "-n", middle, "addr", "add", "10.231.0.2/24", "dev", "br0")
    sh(IP, "-n", router, "addr", "add", "10.231.0.1/24", "dev", "eth0")
    for ns in (device, middle):
        sh(IP, "-n", ns, "route", "add", "default", "via", "10.231.0.1")
    return Home(device, middle, router, mac_of(device, "eth0"), mac_of(router, "eth0"),
                target="10.231.0.1")  # fmt: skip


@pytest.fixture
def routed_home(namespaces: list[str]) -> Home:
    """device --- middle (routes between 10.231.1.0/24 and 10.231.2.0/24) --- server."""
    device, middle, server = make_namespaces(namespaces, "dev", "gw", "srv")
    veth(device, "eth0", middle, "lan0")
    veth(server, "eth0", middle, "wan0")
    sh(IP, "-n", device, "addr", "add", "10.231.1.20/24", "dev", "eth0")
    sh(IP, "-n", middle, "addr", "add", "10.231.1.1/24", "dev", "lan0")
    sh(IP, "-n", middle, "addr", "add", "10.231.2.1/24", "dev", "wan0")
    sh(IP, "-n", server, "addr", "add", "10.231.2.30/24", "dev", "eth0")
    sh(IP, "-n", device, "route", "add", "default", "via", "10.231.1.1")
    sh(IP, "-n", server, "route", "add", "default", "via", "10.231.2.1")
    sh(IP, "netns", "exec", middle, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1")
    return Home(device, middle, server, mac_of(device, "eth0"), mac_of(server, "eth0"),
                target="10.231.2.30")  # fmt: skip


def test_block_and_unblock_a_device_on_the_bridge(bridged_home: Home) -> None:
    home = bridged_home
    assert pings_soon(home.device, home.target), "the test home does not work before blocking"

    done = totem(home.middle, "block", home.device_mac)
    assert done.returncode == 0, done.stderr
    assert "with nftables-bridge" in done.stdout  # chosen because br0 exists
    assert not pings(home.device, home.target)
    assert not pings(home.router, "10.231.0.20")  # nor can anyone reach the device
    assert blocked_macs(home.middle) == [home.device_mac]

    done = totem(home.middle, "unblock", home.device_mac)
    assert done.returncode == 0, done.stderr
    assert pings_soon(home.device, home.target)
    assert blocked_macs(home.middle) == []


def test_a_temporary_block_expires_by_itself(bridged_home: Home) -> None:
    home = bridged_home
    assert pings_soon(home.device, home.target)
    done = totem(home.middle, "block", home.device_mac, "--duration", "3")
    assert done.returncode == 0, done.stderr
    assert not pings(home.device, home.target)
    # No unblock: the kernel drops the set element when its timeout runs out.
    deadline = time.monotonic() + 30
    while blocked_macs(home.middle) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert blocked_macs(home.middle) == []
    assert pings_soon(home.device, home.target)


def test_blocking_the_gateway_is_refused(bridged_home: Home) -> None:
    home = bridged_home
    # The Pi talks to its router, so its neighbour table knows the router's MAC.
    assert pings_soon(home.middle, "10.231.0.1")
    done = totem(home.middle, "block", home.router_mac)
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"error: refusing to block {home.router_mac}: it is the default gateway "
        "(10.231.0.1 on br0); the whole network would lose its way out"
    )
    assert blocked_macs(home.middle) == []
    assert pings(home.device, home.target)


def test_the_inet_backend_cuts_a_device_off_a_router(routed_home: Home) -> None:
    home = routed_home
    assert pings_soon(home.device, home.target)
    # The router has talked to the device, so the device's IP is found by its MAC.
    done = totem(home.middle, "block", home.device_mac)
    assert done.returncode == 0, done.stderr
    assert "with nftables-inet (IPs: 10.231.1.20)" in done.stdout  # no bridge here
    assert not pings(home.device, home.target)
    assert not pings(home.router, "10.231.1.20")  # towards the device: matched by IP
    assert blocked_macs(home.middle) == [home.device_mac]

    assert totem(home.middle, "unblock", home.device_mac).returncode == 0
    assert pings_soon(home.device, home.target)
    assert pings_soon(home.router, "10.231.1.20")
