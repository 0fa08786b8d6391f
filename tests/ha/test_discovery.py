"""Active discovery: zeroconf answers name the devices the capture knows.

Home Assistant's zeroconf is the harness's mock (no multicast leaves the test);
its cache is a real zeroconf DNSCache holding real DNS records, so resolution
and TXT parsing are zeroconf's own. The browser is faked at that network
boundary: the test announces services the way zeroconf's browser would. The
probe is the real engine replaying a capture written by the test.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
from collections.abc import Callable, Generator
from datetime import timedelta
from pathlib import Path
from typing import Any
from unittest.mock import MagicMock, patch

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed
from zeroconf import DNSAddress, DNSService, DNSText, ServiceStateChange, const

from custom_components.totem import discovery
from custom_components.totem.const import CONF_ACTIVE_DISCOVERY, CONF_UPDATE_INTERVAL
from custom_components.totem.discovery import SERVICE_TYPES, ActiveDiscovery, DiscoveryLimits
from custom_components.totem.engine.protocol import Discovery
from tests.conftest import ROOT, require_root, require_tool

from .captures import chat, write
from .conftest import find_device, replay_entry, setup_entry, wait_for, write_script
from .messages import hang, hello, row, snapshot

SPEAKER = "f4:f5:d8:11:22:33"  # a Google OUI
SPEAKER_IP = "192.168.1.23"
CAST = "_googlecast._tcp.local."
UNIQUE_IN = const._CLASS_IN | const._CLASS_UNIQUE


class FakeBrowser:
    """zeroconf's AsyncServiceBrowser at the network boundary: remembers what it
    browses and lets the test announce services to its handlers."""

    def __init__(self, zc: Any, types: list[str], handlers: list[Callable[..., None]]) -> None:
        self.zc = zc
        self.types = types
        self.handlers = handlers
        self.cancelled = False

    async def async_cancel(self) -> None:
        self.cancelled = True

    def announce(self, service_type: str, name: str) -> None:
        for handler in self.handlers:
            handler(
                zeroconf=self.zc,
                service_type=service_type,
                name=name,
                state_change=ServiceStateChange.Added,
            )

    @property
    def discovery(self) -> ActiveDiscovery:
        owner = self.handlers[0].__self__  # type: ignore[attr-defined]
        assert isinstance(owner, ActiveDiscovery)
        return owner


@pytest.fixture
def browsers() -> Generator[list[FakeBrowser]]:
    made: list[FakeBrowser] = []

    def factory(zc: Any, types: list[str], handlers: list[Callable[..., None]]) -> FakeBrowser:
        made.append(FakeBrowser(zc, types, handlers))
        return made[-1]

    with patch.object(discovery, "AsyncServiceBrowser", side_effect=factory):
        yield made


@pytest.fixture
async def zc_cache(hass: HomeAssistant, mock_async_zeroconf: MagicMock) -> Any:
    """Home Assistant's zeroconf integration, loaded, with the mock instance's cache."""
    assert await async_setup_component(hass, "zeroconf", {})
    await settle(hass)
    return mock_async_zeroconf.zeroconf.cache


def _txt(values: dict[str, str]) -> bytes:
    out = b""
    for key, value in values.items():
        item = f"{key}={value}".encode()
        out += bytes([len(item)]) + item
    return out


def add_service(
    cache: Any,
    service_type: str,
    instance: str,
    host: str,
    ip: str,
    txt: dict[str, str] | None = None,
) -> str:
    """Put a service's SRV, TXT and A records in zeroconf's cache, as an answer would."""
    name = f"{instance}.{service_type}"
    cache.async_add_records(
        [
            DNSService(name, const._TYPE_SRV, UNIQUE_IN, 120, 0, 0, 8009, host),
            DNSText(name, const._TYPE_TXT, UNIQUE_IN, 4500, _txt(txt or {})),
            DNSAddress(host, const._TYPE_A, UNIQUE_IN, 120, socket.inet_aton(ip)),
        ]
    )
    return name


async def settle(hass: HomeAssistant) -> None:
    # Discovery's browse and resolve work runs in the entry's background tasks.
    await hass.async_block_till_done(wait_background_tasks=True)


def later(hass: HomeAssistant, seconds: float) -> None:
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=seconds))


def discovery_commands(send: MagicMock) -> list[dict[str, Any]]:
    return [c.args[0].to_json() for c in send.call_args_list if isinstance(c.args[0], Discovery)]


async def _replayed_speaker(hass: HomeAssistant, tmp_path: Path, **options: Any) -> MockConfigEntry:
    # 40 s of packet time at 10x: the looped replay keeps the probe running.
    capture = write(tmp_path / "speaker.pcap", chat(SPEAKER, 23, 1000.0, 80))
    entry = replay_entry(capture, speed=10, loop=True, **{CONF_UPDATE_INTERVAL: 0.2}, **options)
    await setup_entry(hass, entry)
    coordinator = entry.runtime_data.coordinator
    await wait_for(
        hass,
        lambda: coordinator.data is not None
        and SPEAKER in coordinator.data.devices
        and SPEAKER_IP in coordinator.data.devices[SPEAKER].ips,
        what="the speaker and its address in Home Assistant",
    )
    return entry


async def test_announced_service_names_the_device_through_the_real_probe(
    hass: HomeAssistant, tmp_path: Path, zc_cache: Any, browsers: list[FakeBrowser]
) -> None:
    entry = await _replayed_speaker(hass, tmp_path, **{CONF_ACTIVE_DISCOVERY: True})
    before = find_device(hass, mac=SPEAKER)
    assert before is not None
    assert before.name != "Kitchen speaker"
    assert browsers == []  # the first cycle waits for the capture to learn addresses

    later(hass, discovery.DEFAULT_LIMITS.first_delay + 1)
    await settle(hass)
    assert len(browsers) == 1
    browser = browsers[0]
    assert browser.types == list(SERVICE_TYPES)
    assert CAST in browser.types

    name = add_service(
        zc_cache,
        CAST,
        "Google-Home-0123456789abcdef0123456789abcdef",
        "kitchen.local.",
        SPEAKER_IP,
        {"md": "Google Home", "fn": "Kitchen speaker"},
    )
    browser.announce(CAST, name)
    await settle(hass)

    def named() -> bool:
        device = find_device(hass, mac=SPEAKER)
        return device is not None and device.name == "Kitchen speaker"

    await wait_for(hass, named, what="the discovered name on the Home Assistant device")
    device = find_device(hass, mac=SPEAKER)
    # The TXT model reached identification too: it is the registry's model, and a
    # Google Home is a smart speaker.
    assert device.model == "Google Home"
    assert entry.runtime_data.coordinator.data.devices[SPEAKER].type == "smart_speaker"
    stats = browser.discovery.stats
    assert (stats.cycles, stats.resolved, stats.commands) == (1, 1, 1)

    # The browser lives only for its window.
    later(hass, discovery.DEFAULT_LIMITS.first_delay + discovery.DEFAULT_LIMITS.window + 2)
    await settle(hass)
    assert browser.cancelled
    await hass.config_entries.async_unload(entry.entry_id)


async def test_nothing_is_browsed_or_sent_when_the_option_is_off(
    hass: HomeAssistant, tmp_path: Path, zc_cache: Any, browsers: list[FakeBrowser]
) -> None:
    entry = await _replayed_speaker(hass, tmp_path, **{CONF_ACTIVE_DISCOVERY: False})
    coordinator = entry.runtime_data.coordinator
    add_service(zc_cache, CAST, "Kitchen speaker", "kitchen.local.", SPEAKER_IP)
    with patch.object(coordinator.probe, "send", wraps=coordinator.probe.send) as send:
        for seconds in (61, 700, 1400):
            later(hass, seconds)
            await settle(hass)
    assert browsers == []
    assert discovery_commands(send) == []
    assert find_device(hass, mac=SPEAKER).name != "Kitchen speaker"
    await hass.config_entries.async_unload(entry.entry_id)


def _many_devices(count: int) -> list[tuple[str, str]]:
    return [(f"a4:cf:12:00:01:{n:02x}", f"192.168.1.{100 + n}") for n in range(count)]


async def _scripted_home(
    hass: HomeAssistant, tmp_path: Path, fake_probe: Callable[[Path], None], count: int
) -> MockConfigEntry:
    """A probe that reports `count` devices with addresses, then keeps running."""
    rows = [row(mac, ips=[ip]) for mac, ip in _many_devices(count)]
    fake_probe(
        write_script(tmp_path / "probe.ndjson", [hello(), snapshot(1, 1010.0, rows), hang()])
    )
    entry = replay_entry(tmp_path / "x.pcap", **{CONF_ACTIVE_DISCOVERY: True})
    await setup_entry(hass, entry)
    coordinator = entry.runtime_data.coordinator
    await wait_for(
        hass,
        lambda: coordinator.data is not None and len(coordinator.data.devices) == count,
        what="the scripted devices",
    )
    return entry


async def test_resolves_are_rate_limited_and_cycles_spaced(
    hass: HomeAssistant,
    tmp_path: Path,
    zc_cache: Any,
    browsers: list[FakeBrowser],
    fake_probe: Callable[[Path], None],
) -> None:
    limits = discovery.DEFAULT_LIMITS
    extra = 5
    devices = _many_devices(limits.resolves_per_minute + extra)
    entry = await _scripted_home(hass, tmp_path, fake_probe, len(devices))
    coordinator = entry.runtime_data.coordinator
    names = [
        add_service(zc_cache, "_hap._tcp.local.", f"Plug {n}", f"plug-{n}.local.", ip)
        for n, (_mac, ip) in enumerate(devices)
    ]
    with patch.object(coordinator.probe, "send", wraps=coordinator.probe.send) as send:
        later(hass, limits.first_delay + 1)
        await settle(hass)
        browser = browsers[-1]
        for name in names:
            browser.announce("_hap._tcp.local.", name)
        await settle(hass)
        stats = browser.discovery.stats
        # One minute's budget, no more: the rest wait.
        assert stats.resolved == limits.resolves_per_minute
        assert len(discovery_commands(send)) == limits.resolves_per_minute

        # The same announcement again in the same cycle costs nothing.
        browser.announce("_hap._tcp.local.", names[0])
        await settle(hass)
        assert stats.resolved == limits.resolves_per_minute

        later(hass, limits.first_delay + 62)  # the next minute's budget
        await settle(hass)
        assert stats.resolved == len(devices)
        sent = discovery_commands(send)
        assert len(sent) == len(devices)
        assert {c["ip"] for c in sent} == {ip for _mac, ip in devices}
        assert {c["instance"] for c in sent} == {f"Plug {n}" for n in range(len(devices))}

        # One browse per interval (counted from setup): nothing new before it is
        # due, a new cycle after.
        assert len(browsers) == 1
        later(hass, limits.interval - 30)
        await settle(hass)
        assert len(browsers) == 1
        later(hass, limits.interval + 5)
        await settle(hass)
        assert len(browsers) == 2
        assert stats.cycles == 2
    await hass.config_entries.async_unload(entry.entry_id)


async def test_commands_per_cycle_are_capped_and_unknown_addresses_skipped(
    hass: HomeAssistant,
    tmp_path: Path,
    zc_cache: Any,
    browsers: list[FakeBrowser],
    fake_probe: Callable[[Path], None],
) -> None:
    devices = _many_devices(6)
    with patch.object(discovery, "DEFAULT_LIMITS", DiscoveryLimits(commands_per_cycle=4)):
        entry = await _scripted_home(hass, tmp_path, fake_probe, len(devices))
    coordinator = entry.runtime_data.coordinator
    names = [
        add_service(zc_cache, "_hap._tcp.local.", f"Plug {n}", f"plug-{n}.local.", ip)
        for n, (_mac, ip) in enumerate(devices)
    ]
    stranger = add_service(zc_cache, "_ipp._tcp.local.", "Printer", "printer.local.", "10.9.9.9")
    with patch.object(coordinator.probe, "send", wraps=coordinator.probe.send) as send:
        later(hass, discovery.DEFAULT_LIMITS.first_delay + 1)
        await settle(hass)
        browser = browsers[-1]
        browser.announce("_ipp._tcp.local.", stranger)
        for name in names:
            browser.announce("_hap._tcp.local.", name)
        await settle(hass)
    stats = browser.discovery.stats
    assert stats.resolved == len(names) + 1
    sent = discovery_commands(send)
    assert len(sent) == 4
    assert "10.9.9.9" not in {c["ip"] for c in sent}  # the capture never saw it
    assert stats.capped == len(names) - 4
    await hass.config_entries.async_unload(entry.entry_id)


async def test_without_home_assistants_zeroconf_it_stays_idle(
    hass: HomeAssistant,
    tmp_path: Path,
    browsers: list[FakeBrowser],
    fake_probe: Callable[[Path], None],
    caplog: pytest.LogCaptureFixture,
) -> None:
    entry = await _scripted_home(hass, tmp_path, fake_probe, 1)
    with caplog.at_level(logging.WARNING):
        for seconds in (61, 700):
            later(hass, seconds)
            await settle(hass)
    assert browsers == []
    assert caplog.text.count("active discovery needs Home Assistant's zeroconf") == 1
    await hass.config_entries.async_unload(entry.entry_id)


async def test_unload_cancels_a_running_browse(
    hass: HomeAssistant,
    tmp_path: Path,
    zc_cache: Any,
    browsers: list[FakeBrowser],
    fake_probe: Callable[[Path], None],
) -> None:
    entry = await _scripted_home(hass, tmp_path, fake_probe, 1)
    later(hass, discovery.DEFAULT_LIMITS.first_delay + 1)
    await settle(hass)
    assert len(browsers) == 1
    assert not browsers[0].cancelled
    await hass.config_entries.async_unload(entry.entry_id)
    assert browsers[0].cancelled
    assert browsers[0].discovery.stopped


LIVE_SCRIPT = """
import asyncio, json, socket, sys
from zeroconf import IPVersion, ServiceInfo
from zeroconf.asyncio import AsyncServiceBrowser, AsyncZeroconf
from custom_components.totem.discovery import SERVICE_TYPES, async_resolve, service_facts


async def main() -> None:
    ip = sys.argv[1]
    speaker = AsyncZeroconf(interfaces=[ip], ip_version=IPVersion.V4Only)
    await speaker.async_register_service(ServiceInfo(
        "_googlecast._tcp.local.", "Google-Home-0123abcd._googlecast._tcp.local.",
        addresses=[socket.inet_aton(ip)], port=8009, server="kitchen.local.",
        properties={"md": "Google Home", "fn": "Kitchen speaker"}))
    # As Home Assistant's instance does: browse with a handler, resolve what answers.
    home = AsyncZeroconf(interfaces=[ip], ip_version=IPVersion.V4Only)
    found = asyncio.Queue()
    browser = AsyncServiceBrowser(
        home.zeroconf, list(SERVICE_TYPES),
        handlers=[lambda **kw: found.put_nowait((kw["service_type"], kw["name"]))])
    service_type, name = await asyncio.wait_for(found.get(), 20)
    browsed = service_facts(await async_resolve(home.zeroconf, service_type, name, 3000))
    # An instance with an empty cache resolves over the network.
    fresh = AsyncZeroconf(interfaces=[ip], ip_version=IPVersion.V4Only)
    asked = service_facts(await async_resolve(fresh.zeroconf, service_type, name, 3000))
    missing = await async_resolve(fresh.zeroconf, service_type, "Nobody." + service_type, 500)
    print(json.dumps([browsed.command(ip).to_json(), asked.command(ip).to_json(), missing is None]))
    await browser.async_cancel()
    for zc in (fresh, home, speaker):
        await zc.async_close()


asyncio.run(main())
"""


def test_real_zeroconf_announcement_becomes_a_discovery_command(tmp_path: Path) -> None:
    """Real multicast DNS, confined to a network namespace and veth pair the test makes."""
    require_root("a real mDNS exchange")
    ip_tool = require_tool("ip")
    namespace = f"totemzc{os.getpid()}"
    script = tmp_path / "live.py"
    script.write_text(LIVE_SCRIPT)
    setup = [
        ["netns", "add", namespace],
        ["-n", namespace, "link", "set", "lo", "up"],
        ["-n", namespace, "link", "add", "v0", "type", "veth", "peer", "name", "v1"],
        ["-n", namespace, "addr", "add", "10.77.0.1/24", "dev", "v0"],
        ["-n", namespace, "link", "set", "v1", "up"],
        ["-n", namespace, "link", "set", "v0", "up", "multicast", "on"],
        ["-n", namespace, "route", "add", "224.0.0.0/4", "dev", "v0"],
    ]
    try:
        for args in setup:
            subprocess.run([ip_tool, *args], check=True, capture_output=True)
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        result = subprocess.run(
            [ip_tool, "netns", "exec", namespace, sys.executable, str(script), "10.77.0.1"],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
            check=False,
        )
    finally:
        subprocess.run([ip_tool, "netns", "del", namespace], check=False, capture_output=True)
    assert result.returncode == 0, result.stderr[-2000:]
    browsed, asked, missing = json.loads(result.stdout.strip().splitlines()[-1])
    expected = {
        "cmd": "discovery",
        "ip": "10.77.0.1",
        "service_type": CAST,
        "instance": "Kitchen speaker",
        "host": "kitchen.local.",
        "model": "Google Home",
    }
    assert browsed == expected
    assert asked == expected
    assert missing is True


@pytest.mark.parametrize(
    ("service_type", "instance", "properties", "expected_instance", "expected_model"),
    [
        # Google Cast: fn= is the user's name, md= the model; the label is a UUID.
        (
            CAST,
            "Google-Home-0123",
            {"fn": "Kitchen", "md": "Google Home"},
            "Kitchen",
            "Google Home",
        ),
        # AirPlay's model= comes before RAOP's am=.
        (
            "_airplay._tcp.local.",
            "Living TV",
            {"model": "AppleTV6,2", "am": "x"},
            "Living TV",
            "AppleTV6,2",
        ),
        (
            "_raop._tcp.local.",
            "5C:AA@HomePod",
            {"am": "AudioAccessory5,1"},
            "5C:AA@HomePod",
            "AudioAccessory5,1",
        ),
        # Printers name their model in ty=; undecodable or empty values are no model.
        ("_ipp._tcp.local.", "Office", {"ty": "HP LaserJet M110"}, "Office", "HP LaserJet M110"),
        ("_hap._tcp.local.", "Plug", {"md": b"\xff\xfe", "model": ""}, "Plug", None),
    ],
)
def test_service_facts_read_names_and_models_from_txt(
    service_type: str,
    instance: str,
    properties: dict[str, Any],
    expected_instance: str,
    expected_model: str | None,
) -> None:
    info = discovery.AsyncServiceInfo(
        service_type,
        f"{instance}.{service_type}",
        addresses=[socket.inet_aton(SPEAKER_IP)],
        port=80,
        properties=properties,
        server="device.local.",
    )
    facts = discovery.service_facts(info)
    assert facts.instance == expected_instance
    assert facts.model == expected_model
    assert facts.addresses == (SPEAKER_IP,)
    command = facts.command(SPEAKER_IP).to_json()
    assert command["service_type"] == service_type
    assert command["host"] == "device.local."
    assert ("model" in command) is (expected_model is not None)


async def test_a_flood_of_announcements_is_bounded_and_removals_ignored(
    hass: HomeAssistant,
    tmp_path: Path,
    zc_cache: Any,
    browsers: list[FakeBrowser],
    fake_probe: Callable[[Path], None],
) -> None:
    devices = _many_devices(5)
    limits = DiscoveryLimits(resolves_per_minute=1, max_pending=2)
    with patch.object(discovery, "DEFAULT_LIMITS", limits):
        entry = await _scripted_home(hass, tmp_path, fake_probe, len(devices))
    names = [
        add_service(zc_cache, "_hap._tcp.local.", f"Plug {n}", f"plug-{n}.local.", ip)
        for n, (_mac, ip) in enumerate(devices)
    ]
    later(hass, limits.first_delay + 1)
    await settle(hass)
    browser = browsers[-1]
    for handler in browser.handlers:
        handler(
            zeroconf=browser.zc,
            service_type="_hap._tcp.local.",
            name=names[0],
            state_change=ServiceStateChange.Removed,
        )
    stats = browser.discovery.stats
    assert stats.announced == 0  # a service going away names nobody

    # A name that does not belong to its type cannot be resolved.
    browser.announce("_hap._tcp.local.", "bogus.local.")
    for name in names:
        browser.announce("_hap._tcp.local.", name)
    await settle(hass)
    # One resolve this minute, two waiting, the rest dropped until the next cycle.
    assert (stats.announced, stats.unresolved, stats.resolved) == (6, 1, 0)
    assert stats.dropped == 3
    later(hass, limits.first_delay + 62)
    await settle(hass)
    assert stats.resolved == 1
    later(hass, limits.first_delay + 122)
    await settle(hass)
    assert stats.resolved == 2
    await hass.config_entries.async_unload(entry.entry_id)
