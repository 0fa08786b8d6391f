"""Approval of new devices end to end: Home Assistant, the real probe, the real kernel.

Network namespaces stand for the home: three devices on a switch, the switch's
uplink and the router on the Pi's bridge (br0), the router answering DNS (the
echo of tests/netns/test_block_quarantine.py). The real integration runs in
Home Assistant's test harness; its probe captures on the Pi's port towards the
switch and its nft commands run inside the Pi's namespace (the seams of
test_switch.py's real-nft test: the probe's command line and the nft runner get
an ``ip netns exec`` prefix). A device that starts talking after the first
inventory is quarantined in the kernel (pings fail, DNS passes) until
``totem.approve_device`` approves it, keeps it blocked or forgets it. All traffic
stays inside the namespaces the test creates (10.231.0.0/24).
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from unittest.mock import patch

import pytest
from homeassistant.core import Event, HomeAssistant
from homeassistant.helpers import issue_registry as ir
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.totem import probe_process
from custom_components.totem.approval import approval_issue_id
from custom_components.totem.const import (
    CONF_BLOCK_BACKEND,
    CONF_INTERFACE,
    CONF_NEW_DEVICES_WAIT,
    CONF_SOURCE_TYPE,
    CONF_UPDATE_INTERVAL,
    DEFAULT_OPTIONS,
    DOMAIN,
    EVENT_NEW_DEVICE,
    SOURCE_INTERFACE,
)
from custom_components.totem.engine.enforce import BACKEND_BRIDGE, Backend, NftRunner, make_backend
from custom_components.totem.engine.hostinfo import HostInfo
from tests.netns.test_block_netns import (
    IP,
    mac_of,
    make_namespaces,
    namespaces,
    pings,
    pings_soon,
    sh,
    veth,
)
from tests.netns.test_block_quarantine import _ECHO as DNS_ECHO
from tests.netns.test_block_quarantine import asks_dns

from .conftest import find_device, setup_entry, wait_for
from .test_switch import host_that_cuts

pytestmark = pytest.mark.netns
__all__ = ["namespaces"]  # fixtures used here

# A join is seen within one snapshot (1 s here) and the quarantine follows at once;
# a loaded CI runner starts Python processes slowly, hence the generous bound.
JOIN_TIMEOUT = 60.0
T = TypeVar("T")
ROUTER = "10.231.0.1"  # tests/netns/test_block_quarantine.py's DNS echo binds it
BROADCAST = "10.231.0.255"


@dataclass(frozen=True)
class SwitchedHome:
    """Three devices on a switch, its uplink in the Pi's bridge, the router on the other
    port: the Pi sees every device through one port, as behind a real home switch."""

    pi: str
    router: str
    router_mac: str
    devices: tuple[tuple[str, str], ...]  # (namespace, MAC)


def quiet(ns: str) -> None:
    """No IPv6 in NS, its links created later included: link-local addresses, DAD and
    MLD reports would make a device speak before the test lets it join."""
    for key in ("all", "default"):
        sh(IP, "netns", "exec", ns, "sysctl", "-q", "-w", f"net.ipv6.conf.{key}.disable_ipv6=1")


def bridge(ns: str, name: str, *ports: str) -> None:
    # No STP and no forward delay: the ports forward as soon as they are up.
    sh(IP, "-n", ns, "link", "add", name, "type", "bridge", "stp_state", "0",
       "forward_delay", "0")  # fmt: skip
    for port in ports:
        sh(IP, "-n", ns, "link", "set", port, "master", name)
    sh(IP, "-n", ns, "link", "set", name, "up")


@pytest.fixture
def switched_home(namespaces: list[str]) -> SwitchedHome:
    switch, pi, router, *devices = make_namespaces(namespaces, "sw", "pi", "rt", "d1", "d2", "d3")
    for ns in (switch, pi, router, *devices):
        quiet(ns)
    veth(router, "eth0", pi, "port-rt")
    veth(switch, "uplink", pi, "port-lan")
    bridge(pi, "br0", "port-rt", "port-lan")
    ports = []
    for number, ns in enumerate(devices):
        veth(ns, "eth0", switch, f"port-{number}")
        ports.append(f"port-{number}")
        sh(IP, "-n", ns, "addr", "add", f"10.231.0.{20 + number}/24", "dev", "eth0")
    bridge(switch, "sw0", "uplink", *ports)
    sh(IP, "-n", pi, "addr", "add", "10.231.0.2/24", "dev", "br0")
    sh(IP, "-n", router, "addr", "add", f"{ROUTER}/24", "dev", "eth0")
    return SwitchedHome(
        pi, router, mac_of(router, "eth0"), tuple((ns, mac_of(ns, "eth0")) for ns in devices)
    )


@pytest.fixture
def router_serves(switched_home: SwitchedHome) -> Iterator[None]:
    """The router answers DNS, and broadcasts a ping every 0.2 s (flooded to every
    port): the probe sees it from the first snapshot on, so it is the first inventory
    (Linux ignores broadcast pings by default, so the devices stay silent)."""
    router = switched_home.router
    processes = [
        subprocess.Popen([IP, "netns", "exec", router, sys.executable, "-c", DNS_ECHO]),
        subprocess.Popen(
            [IP, "netns", "exec", router, "ping", "-n", "-q", "-b", "-i", "0.2", BROADCAST],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        ),
    ]
    time.sleep(0.3)
    try:
        yield
    finally:
        for process in processes:
            process.kill()
            process.wait(timeout=10)


def in_namespace(ns: str) -> Callable[[list[str]], list[str]]:
    """The probe's real command line, run inside NS (it sees that namespace's links)."""
    real = probe_process.probe_argv

    def argv(args: list[str]) -> list[str]:
        return [IP, "netns", "exec", ns, *real(args)]

    return argv


@pytest.mark.usefixtures("router_serves")
async def test_a_new_device_is_held_in_the_kernel_until_the_user_decides(
    hass: HomeAssistant,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    switched_home: SwitchedHome,
) -> None:
    home = switched_home
    (first, first_mac), (kept, kept_mac), (gone, gone_mac) = home.devices
    in_ns = (IP, "netns", "exec", home.pi)
    # The Pi's namespace bridges (br0): the bridge family cuts traffic there.
    host_that_cuts(tmp_path, monkeypatch)
    kernel: Backend = make_backend(
        BACKEND_BRIDGE,
        runner=NftRunner(prefix=in_ns),
        host=lambda: HostInfo(bridges=("br0",)),
    )

    async def run(job: Callable[..., T], *args: Any) -> T:
        """The test's pings and nft readings block: off the event loop, as TOTEM's own."""
        return await hass.async_add_executor_job(job, *args)

    def held() -> set[str]:
        return set(kernel.list_quarantined())

    def blocked() -> set[str]:
        return {b.mac for b in kernel.list_blocks()}

    events: list[tuple[float, Event]] = []
    hass.bus.async_listen(EVENT_NEW_DEVICE, lambda e: events.append((time.monotonic(), e)))

    def told(mac: str) -> int:
        return sum(1 for _, e in events if e.data["mac"] == mac)

    entry = _interface_entry("port-lan")
    with (
        patch("custom_components.totem.blocking.NftRunner", lambda: NftRunner(prefix=in_ns)),
        patch("custom_components.totem.probe_process.probe_argv", in_namespace(home.pi)),
        # The first inventory: everything seen in the first 3 s of snapshots (an hour
        # in real life); the router broadcasts several times a second.
        patch("custom_components.totem.approval.INITIAL_INVENTORY_SECONDS", 3.0),
    ):
        await setup_entry(hass, entry)
        blocking = entry.runtime_data.blocking
        store = blocking.store
        await wait_for(
            hass,
            lambda: store.inventory_until is not None and time.time() > store.inventory_until,
            timeout=JOIN_TIMEOUT,
            what="the end of the first inventory",
        )
        # The router, and the Pi itself when its bridge spoke in those 3 s (an ARP for
        # the router now and then: one run in three here); never a device that was silent.
        pi_mac = await run(mac_of, home.pi, "br0")
        assert store.known - {pi_mac} == {home.router_mac}, "the first inventory is the router"
        assert await run(held) == set()  # nothing is held back during it
        assert events == []

        # A device joins: it pings the router (the first pings go through).
        joined = time.monotonic()
        await run(pings, first, ROUTER)
        await wait_for(hass, lambda: told(first_mac) == 1, timeout=JOIN_TIMEOUT,
                       what="the totem_new_device event")  # fmt: skip
        await hass.async_block_till_done(wait_background_tasks=True)
        print(f"join (first ping) to notification: {events[0][0] - joined:.2f} s")
        event = events[0][1]
        assert event.data["decisions"] == ["approve", "keep_blocked", "forget"]
        assert await run(held) == {first_mac}
        issues = ir.async_get(hass)
        issue_id = approval_issue_id(entry.entry_id, first_mac)
        assert issues.async_get_issue(DOMAIN, issue_id) is not None
        assert not await run(pings, first, ROUTER), "a waiting device must not reach the router"
        assert not await run(pings, home.router, "10.231.0.20"), "nor be reached"
        assert await run(asks_dns, first), "DNS passes while it waits"

        await hass.services.async_call(
            DOMAIN, "approve_device", {"device_id": event.data["device_id"]}, blocking=True
        )
        assert await run(held) == set()
        assert await run(pings_soon, first, ROUTER), "approved: traffic flows again"
        assert issues.async_get_issue(DOMAIN, issue_id) is None

        # Keep blocked: the wait becomes a block, DNS included.
        await run(pings, kept, ROUTER)
        await wait_for(hass, lambda: told(kept_mac) == 1, timeout=JOIN_TIMEOUT,
                       what="the second device held back")  # fmt: skip
        await hass.async_block_till_done(wait_background_tasks=True)
        assert await run(asks_dns, kept)
        await hass.services.async_call(
            DOMAIN, "approve_device", {"mac": kept_mac, "decision": "keep_blocked"}, blocking=True
        )
        assert await run(held) == set()
        assert await run(blocked) == {kept_mac}
        assert not await run(pings, kept, ROUTER)
        assert not await run(asks_dns, kept), "a blocked device gets nothing, DNS neither"

        # Forget: let go and removed; when it speaks again it waits again.
        await run(pings, gone, ROUTER)
        await wait_for(hass, lambda: told(gone_mac) == 1, timeout=JOIN_TIMEOUT,
                       what="the third device held back")  # fmt: skip
        await hass.async_block_till_done(wait_background_tasks=True)
        assert gone_mac in await run(held)
        await hass.services.async_call(
            DOMAIN, "approve_device", {"mac": gone_mac, "decision": "forget"}, blocking=True
        )
        assert gone_mac not in await run(held)
        assert gone_mac not in store.known
        assert gone_mac not in blocking.coordinator.data.devices
        await hass.async_block_till_done()
        assert find_device(hass, mac=gone_mac) is None, "forgotten, it leaves Home Assistant"
        assert await run(pings_soon, gone, ROUTER), "forgotten, it is let go"
        await wait_for(hass, lambda: told(gone_mac) == 2, timeout=JOIN_TIMEOUT,
                       what="the forgotten device announced again")  # fmt: skip
        await hass.async_block_till_done(wait_background_tasks=True)
        assert gone_mac in await run(held), "back after being forgotten, it waits again"
        assert find_device(hass, mac=gone_mac) is not None, "and is a device again"
        assert not await run(pings, gone, ROUTER)
        assert await run(pings_soon, first, ROUTER), "the approved device is not affected"

        await hass.config_entries.async_remove(entry.entry_id)
        await hass.async_block_till_done()
    assert await run(held) == set(), "removing the entry clears the kernel"
    assert await run(blocked) == set()


def _interface_entry(interface: str) -> MockConfigEntry:
    """A live entry on the Pi's port towards the home's switch."""
    return MockConfigEntry(
        domain=DOMAIN,
        title=f"TOTEM {interface}",
        unique_id=f"{SOURCE_INTERFACE}:{interface}",
        data={CONF_SOURCE_TYPE: SOURCE_INTERFACE, CONF_INTERFACE: interface},
        options={
            **DEFAULT_OPTIONS,
            CONF_BLOCK_BACKEND: BACKEND_BRIDGE,
            CONF_NEW_DEVICES_WAIT: True,
            CONF_UPDATE_INTERVAL: 1.0,
        },
    )
