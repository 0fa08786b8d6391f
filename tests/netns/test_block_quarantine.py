"""A device waiting for approval, in the kernel: only DHCP, DNS and ARP get through.

The bridged home of test_block_netns.py; the router answers DNS (a UDP echo
on port 53, enough to see the datagram pass both ways) and anything else is
tested with ping. All inside throwaway namespaces.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from custom_components.totem.engine.enforce import BACKEND_BRIDGE, NftRunner, make_backend
from custom_components.totem.engine.hostinfo import HostInfo

from .test_block_netns import IP, Home, bridged_home, namespaces, pings, pings_soon

pytestmark = pytest.mark.netns
__all__ = ["bridged_home", "namespaces"]  # fixtures used here

_ECHO = (
    "import socket\n"
    "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
    "s.bind(('10.231.0.1', 53))\n"
    "while True:\n"
    "    data, peer = s.recvfrom(512)\n"
    "    s.sendto(data, peer)\n"
)
_ASK = (
    "import socket, sys\n"
    "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
    "s.settimeout(1.0)\n"
    "s.sendto(b'totem', ('10.231.0.1', 53))\n"
    "try:\n"
    "    print(s.recv(512).decode())\n"
    "except OSError:\n"
    "    sys.exit(1)\n"
)


@pytest.fixture
def dns_on_router(bridged_home: Home) -> Iterator[None]:
    server = subprocess.Popen(
        [IP, "netns", "exec", bridged_home.router, sys.executable, "-c", _ECHO]
    )
    time.sleep(0.3)
    try:
        yield
    finally:
        server.kill()
        server.wait(timeout=10)


def asks_dns(ns: str) -> bool:
    done = subprocess.run(
        [IP, "netns", "exec", ns, sys.executable, "-c", _ASK],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
    return done.returncode == 0 and done.stdout.strip() == "totem"


@pytest.mark.usefixtures("dns_on_router")
def test_a_quarantined_device_gets_dns_and_nothing_else_until_released(
    bridged_home: Home,
) -> None:
    home = bridged_home
    assert pings_soon(home.device, home.target), "the test home does not work before"
    assert asks_dns(home.device)
    backend = make_backend(
        BACKEND_BRIDGE,
        runner=NftRunner(prefix=(IP, "netns", "exec", home.middle)),
        host=lambda: HostInfo(bridges=("br0",)),
    )
    # ARP entries learned before must not be what lets DNS through: forget them.
    subprocess.run([IP, "-n", home.device, "neigh", "flush", "all"], check=False)
    backend.quarantine(home.device_mac)
    assert backend.list_quarantined() == [home.device_mac]
    assert not pings(home.device, home.target)
    assert not pings(home.router, "10.231.0.20")
    assert asks_dns(home.device), "DNS (and the ARP it needs) must pass in quarantine"

    assert backend.release(home.device_mac)
    assert pings_soon(home.device, home.target)
    assert backend.list_quarantined() == []
