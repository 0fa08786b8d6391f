"""Active discovery: Home Assistant's zeroconf asks the home who is there.

Passive capture misses devices that stay quiet. Like ntopng's network
discovery, TOTEM browses the common DNS-SD service types, resolves what
answers and hands names, models and service types to the probe as
``discovery`` commands; the engine maps each address to the MAC its capture
saw and adds the facts to that device's identification evidence.

Always through Home Assistant's SHARED zeroconf instance: a second mDNS stack
would fight it for port 5353 and double the multicast traffic. Cheap by
construction: one browse cycle per ten minutes (a browser that lives for a
short window), resolution from zeroconf's cache first (HA's own browsers fill
it), a bounded number of resolves per minute and of commands per cycle, and
only addresses the capture already knows reach the probe.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from homeassistant.components import zeroconf
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.event import async_call_later, async_track_time_interval
from zeroconf import BadTypeInNameException, ServiceStateChange, Zeroconf
from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo

from .coordinator import TotemCoordinator
from .engine.protocol import Discovery
from .inventory import TotemData

_LOGGER = logging.getLogger(__package__)

ZEROCONF_DOMAIN: Final = "zeroconf"

# The service types identification has rules for (engine/type_rules.py), plus
# _device-info, whose TXT model= names Apple hardware. Not _services._dns-sd:
# enumerating every type would resolve services that identify nothing.
SERVICE_TYPES: Final = (
    "_googlecast._tcp.local.",
    "_airplay._tcp.local.",
    "_raop._tcp.local.",
    "_hap._tcp.local.",
    "_hap._udp.local.",
    "_hue._tcp.local.",
    "_ipp._tcp.local.",
    "_ipps._tcp.local.",
    "_printer._tcp.local.",
    "_pdl-datastream._tcp.local.",
    "_uscan._tcp.local.",
    "_spotify-connect._tcp.local.",
    "_sonos._tcp.local.",
    "_androidtvremote2._tcp.local.",
    "_amzn-wplay._tcp.local.",
    "_axis-video._tcp.local.",
    "_rtsp._tcp.local.",
    "_esphomelib._tcp.local.",
    "_shelly._tcp.local.",
    "_matter._tcp.local.",
    "_matterc._udp.local.",
    "_adisk._tcp.local.",
    "_companion-link._tcp.local.",
    "_device-info._tcp.local.",
)

# TXT keys that carry a model, best first: Google Cast md=, AirPlay/device-info
# model=, RAOP am=, IPP printers ty=.
MODEL_KEYS: Final = (b"md", b"model", b"am", b"ty")
# Google Cast's fn= is the name the user gave the device; its instance label is
# a vendor string with a UUID.
FRIENDLY_NAME_KEY: Final = b"fn"
MAX_TEXT: Final = 64


@dataclass(frozen=True, slots=True)
class DiscoveryLimits:
    """How much active discovery may cost (defaults; tests shrink them)."""

    # The first cycle waits for the capture to learn which address is whose.
    first_delay: float = 60.0
    interval: float = 600.0
    # A browser lives this long per cycle: zeroconf asks at 1, 2, 4, 8, 16 s.
    window: float = 30.0
    resolves_per_minute: int = 20
    commands_per_cycle: int = 64
    # Announcements waiting for a resolve; more are dropped until the next cycle.
    max_pending: int = 128
    resolve_timeout_ms: int = 3000


DEFAULT_LIMITS: Final = DiscoveryLimits()


@dataclass(frozen=True, slots=True)
class ServiceFacts:
    """What one resolved DNS-SD service says about the device behind it."""

    service_type: str
    instance: str | None
    host: str | None
    model: str | None
    addresses: tuple[str, ...]

    def command(self, ip: str) -> Discovery:
        """The probe's ``discovery`` command for one address."""
        return Discovery(
            ip=ip,
            service_type=self.service_type,
            instance=self.instance or None,
            host=self.host or None,
            model=self.model or None,
        )


@dataclass(slots=True)
class DiscoveryStats:
    """Counters for diagnostics and tests: what discovery cost and gave."""

    cycles: int = 0
    announced: int = 0
    resolved: int = 0
    unresolved: int = 0
    commands: int = 0
    dropped: int = 0  # announcements beyond max_pending
    capped: int = 0  # commands beyond commands_per_cycle


def _text(value: bytes | None) -> str | None:
    if not value:
        return None
    try:
        text = value.decode("utf-8").strip()
    except UnicodeDecodeError:
        return None
    return text[:MAX_TEXT] or None


def instance_label(name: str, service_type: str) -> str | None:
    """'Kitchen speaker._googlecast._tcp.local.' -> 'Kitchen speaker'."""
    suffix = "." + service_type
    if not name.endswith(suffix):
        return None
    return name[: -len(suffix)][:MAX_TEXT] or None


def service_facts(info: AsyncServiceInfo) -> ServiceFacts:
    """The identification facts of a resolved service."""
    props = info.properties
    model = next((m for key in MODEL_KEYS if (m := _text(props.get(key)))), None)
    instance = _text(props.get(FRIENDLY_NAME_KEY)) or instance_label(info.name, info.type)
    return ServiceFacts(
        service_type=info.type,
        instance=instance,
        host=info.server[:MAX_TEXT] if info.server else None,
        model=model,
        addresses=tuple(info.parsed_addresses()),
    )


async def async_resolve(
    zc: Zeroconf, service_type: str, name: str, timeout_ms: int
) -> AsyncServiceInfo | None:
    """A service's SRV, TXT and addresses, or None when it does not answer in time."""
    if instance_label(name, service_type) is None:
        return None  # not an instance of that type: nothing to ask
    try:
        info = AsyncServiceInfo(service_type, name)
    except BadTypeInNameException:
        return None
    # The cache first: Home Assistant's own browsers keep it full, at no cost.
    if info.load_from_cache(zc):
        return info
    if await info.async_request(zc, timeout_ms):
        return info
    return None


class ActiveDiscovery:
    """Periodic DNS-SD browse on the shared zeroconf instance, feeding the probe."""

    def __init__(
        self,
        hass: HomeAssistant,
        coordinator: TotemCoordinator,
        limits: DiscoveryLimits | None = None,
    ) -> None:
        self.hass = hass
        self.coordinator = coordinator
        # Tasks belong to the entry: unloading it cancels a resolve in flight.
        self._entry = coordinator.config_entry
        self.limits = limits = limits or DEFAULT_LIMITS
        self.stats = DiscoveryStats()
        self._zc: Zeroconf | None = None
        self._browser: AsyncServiceBrowser | None = None
        # Insertion-ordered: the oldest announcement is resolved first.
        self._pending: dict[tuple[str, str], None] = {}
        self._resolved: set[tuple[str, str]] = set()
        self._sent: set[tuple[str, ServiceFacts]] = set()
        self._budget = limits.resolves_per_minute
        self._commands_left = limits.commands_per_cycle
        self._working = False
        self._unsubs: list[Callable[[], None]] = []
        self._window_end: Callable[[], None] | None = None
        self._missing_logged = False
        self._stopped = False

    @property
    def stopped(self) -> bool:
        return self._stopped

    async def async_start(self) -> None:
        self._unsubs += [
            async_call_later(self.hass, self.limits.first_delay, self._async_cycle_due),
            async_track_time_interval(
                self.hass, self._async_cycle_due, timedelta(seconds=self.limits.interval)
            ),
            async_track_time_interval(self.hass, self._async_refill, timedelta(minutes=1)),
        ]

    async def async_stop(self) -> None:
        self._stopped = True
        for unsub in self._unsubs:
            unsub()
        self._unsubs.clear()
        self._pending.clear()
        await self._async_end_window()

    # -- browse cycle -----------------------------------------------------

    @callback
    def _async_cycle_due(self, _now: datetime | None = None) -> None:
        self._entry.async_create_background_task(
            self.hass, self._async_cycle(), "totem active discovery"
        )

    async def _async_cycle(self) -> None:
        if self._stopped or self._browser is not None:
            return
        if ZEROCONF_DOMAIN not in self.hass.config.components:
            # Never a second mDNS stack: without Home Assistant's there is none to use.
            if not self._missing_logged:
                _LOGGER.warning(
                    "TOTEM active discovery needs Home Assistant's zeroconf integration "
                    "(part of default_config); it stays idle until zeroconf is loaded"
                )
                self._missing_logged = True
            return
        aiozc = await zeroconf.async_get_async_instance(self.hass)
        if self.stopped:  # unloaded while waiting
            return
        self._zc = aiozc.zeroconf
        # Each cycle may tell the probe everything again (it may have restarted),
        # once per fact.
        self._resolved.clear()
        self._sent.clear()
        self._commands_left = self.limits.commands_per_cycle
        self.stats.cycles += 1
        self._browser = AsyncServiceBrowser(
            self._zc, list(SERVICE_TYPES), handlers=[self._on_service_state_change]
        )
        self._window_end = async_call_later(self.hass, self.limits.window, self._async_window_over)

    @callback
    def _async_window_over(self, _now: datetime) -> None:
        self._window_end = None
        self._entry.async_create_background_task(
            self.hass, self._async_end_window(), "totem discovery end"
        )

    async def _async_end_window(self) -> None:
        if self._window_end is not None:
            self._window_end()
            self._window_end = None
        browser, self._browser = self._browser, None
        if browser is not None:
            await browser.async_cancel()

    # -- announcements and resolves ---------------------------------------

    def _on_service_state_change(
        self,
        zeroconf: Zeroconf,
        service_type: str,
        name: str,
        state_change: ServiceStateChange,
    ) -> None:
        # zeroconf's asyncio browser calls its handlers in the event loop.
        if state_change is ServiceStateChange.Removed or self._stopped:
            return
        key = (service_type, name)
        if key in self._resolved or key in self._pending:
            return
        self.stats.announced += 1
        if len(self._pending) >= self.limits.max_pending:
            self.stats.dropped += 1
            return
        self._pending[key] = None
        self._async_drain()

    @callback
    def _async_refill(self, _now: datetime) -> None:
        self._budget = self.limits.resolves_per_minute
        self._async_drain()

    @callback
    def _async_drain(self) -> None:
        if self._working or not self._pending or self._budget <= 0 or self._stopped:
            return
        self._working = True
        self._entry.async_create_background_task(
            self.hass, self._async_work(), "totem discovery resolve"
        )

    async def _async_work(self) -> None:
        try:
            while self._pending and self._budget > 0 and not self._stopped:
                key = next(iter(self._pending))
                del self._pending[key]
                self._budget -= 1
                self._resolved.add(key)
                info = await self._async_resolve(*key)
                if info is None:
                    self.stats.unresolved += 1
                    continue
                self.stats.resolved += 1
                self._send(service_facts(info))
        finally:
            self._working = False

    async def _async_resolve(self, service_type: str, name: str) -> AsyncServiceInfo | None:
        if self._zc is None:
            return None
        return await async_resolve(self._zc, service_type, name, self.limits.resolve_timeout_ms)

    def _known_addresses(self) -> set[str]:
        # None until the probe's first snapshot, whatever the coordinator's typing says.
        data: TotemData | None = self.coordinator.data
        if data is None:
            return set()
        return {ip for view in data.devices.values() for ip in view.ips}

    def _send(self, facts: ServiceFacts) -> None:
        known = self._known_addresses()
        for ip in facts.addresses:
            if ip not in known or (ip, facts) in self._sent:
                continue
            if self._commands_left <= 0:
                self.stats.capped += 1
                continue
            if self.coordinator.probe.send(facts.command(ip)):
                self._commands_left -= 1
                self.stats.commands += 1
                self._sent.add((ip, facts))


async def async_setup_discovery(
    hass: HomeAssistant, entry: ConfigEntry, coordinator: TotemCoordinator
) -> ActiveDiscovery | None:
    """Start active discovery when the entry's option asks for it; stopped on unload."""
    if not coordinator.config.active_discovery:
        return None
    discovery = ActiveDiscovery(hass, coordinator)
    await discovery.async_start()
    entry.async_on_unload(discovery.async_stop)
    return discovery
