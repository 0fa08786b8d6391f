"""One config entry as one typed object: where frames come from, and the options.

Built from the entry once per setup with every default applied here (the unifi
``UnifiConfig.from_config_entry`` way), so no other module reads
``entry.data`` or ``entry.options`` by key, and an entry saved before an
option existed reads as that option's default.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import valid_entity_id

from .const import (
    BLOCK_BACKEND_AUTO,
    CONF_ACTIVE_DISCOVERY,
    CONF_ACTIVITY_LINKS,
    CONF_AUTO_ADD,
    CONF_AWAY_TIMEOUT,
    CONF_BLOCK_BACKEND,
    CONF_BLOCKLIST,
    CONF_DEVICE_CAP,
    CONF_DHCP_LEASES,
    CONF_DHCP_SERVERS,
    CONF_FLOW_EXPORTERS,
    CONF_FLOW_PORT,
    CONF_IGNORED,
    CONF_INTERFACE,
    CONF_LEARN_DAYS,
    CONF_LOOP,
    CONF_NEW_DEVICES_WAIT,
    CONF_PANEL_ADMIN_ONLY,
    CONF_PATH,
    CONF_PROBE_NAME,
    CONF_PROBE_SECRET,
    CONF_PROMISC,
    CONF_SOURCE_TYPE,
    CONF_SPEED,
    CONF_STALE_DAYS,
    CONF_UPDATE_INTERVAL,
    DEFAULT_FLOW_PORT,
    DEFAULT_OPTIONS,
    DEFAULT_PANEL_ADMIN_ONLY,
    DEFAULT_SPEED,
    SOURCE_DEMO,
    SOURCE_FLOWS,
    SOURCE_INTERFACE,
    SOURCE_REMOTE,
    SOURCE_REPLAY,
)
from .engine.protocol import dhcp_server_entry

# The demo home ships with the integration; its path is found where the
# integration is installed today, never stored in the entry.
DEMO_CAPTURE: Final = Path(__file__).parent / "demo" / "home.pcap"
DEMO_LABEL: Final = "demo home"

_MAC = re.compile(r"[0-9a-f]{2}(:[0-9a-f]{2}){5}")


# The structured form of the activity links the options flow saves (one item per
# network device): [{"mac": "aa:bb:..", "entities": ["switch.plug", ..]}, ..].
LINK_MAC: Final = "mac"
LINK_ENTITIES: Final = "entities"


def parse_links(raw: Any) -> dict[str, str] | None:
    """The options' activity links {entity_id: MAC}, normalised; None when one is invalid.

    Reads both forms: the list of {mac, entities} the links step saves, and the older
    {entity_id: MAC} mapping typed in a code editor, so links saved before stay linked.
    """
    if raw is None or raw == "":
        return {}
    pairs: list[tuple[Any, Any]] = []
    if isinstance(raw, dict):
        pairs = list(raw.items())
    elif isinstance(raw, list):
        for item in raw:
            if not isinstance(item, dict) or not isinstance(item.get(LINK_ENTITIES), list):
                return None
            pairs += [(entity, item.get(LINK_MAC)) for entity in item[LINK_ENTITIES]]
    else:
        return None
    links: dict[str, str] = {}
    for entity_id, mac in pairs:
        if not isinstance(entity_id, str) or not isinstance(mac, str):
            return None
        entity = entity_id.strip().lower()
        address = mac.strip().lower().replace("-", ":")
        if not valid_entity_id(entity) or not _MAC.fullmatch(address):
            return None
        links[entity] = address
    return dict(sorted(links.items()))


def links_to_options(links: Mapping[str, str]) -> list[dict[str, Any]]:
    """{entity_id: MAC} as the structured form saved in the options, one item per MAC."""
    by_mac: dict[str, list[str]] = {}
    for entity_id, mac in links.items():
        by_mac.setdefault(mac, []).append(entity_id)
    return [
        {LINK_MAC: mac, LINK_ENTITIES: sorted(entities)} for mac, entities in sorted(by_mac.items())
    ]


def normalise_macs(raw: Any) -> list[str]:
    """MACs as the user typed them, lower-case and colon-separated, sorted, once each."""
    return sorted({str(m).strip().lower().replace("-", ":") for m in raw or ()})


def parse_dhcp_servers(raw: Any) -> tuple[str, ...]:
    """The options' DHCP servers, normalised; one that does not parse (a hand-edited
    entry) is left out rather than stop setup: the options form refuses it."""
    out: set[str] = set()
    for item in raw if isinstance(raw, list | tuple) else ():
        try:
            out.add(dhcp_server_entry(str(item)))
        except ValueError:
            continue
    return tuple(sorted(out))


def is_mac(text: str) -> bool:
    return _MAC.fullmatch(text) is not None


# The fastest demo: at 4x the demo's misbehaviours still arrive a few seconds apart,
# slow enough for the panel (5 s updates) to show each.
MAX_DEMO_SPEED: Final = 4.0


@dataclass(frozen=True, slots=True, kw_only=True)
class CaptureSource:
    """Where the probe reads frames: an interface, a capture file, the demo home, or
    the flow records a router exports to a UDP port."""

    kind: str
    interface: str | None = None
    promisc: bool = False
    path: str | None = None
    speed: float = DEFAULT_SPEED
    loop: bool = True
    flow_port: int = DEFAULT_FLOW_PORT
    exporters: tuple[str, ...] = ()
    probe_name: str | None = None
    probe_secret: str | None = None

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> CaptureSource:
        kind = str(data.get(CONF_SOURCE_TYPE, SOURCE_INTERFACE))
        if kind == SOURCE_DEMO:
            # In a loop, in real time unless the entry carries a speed (the config flow
            # never writes one; scripts/develop does for the browser test, so its
            # 4 minutes of learning pass in one): the demo is a live home.
            speed = data.get(CONF_SPEED, DEFAULT_SPEED)
            if not isinstance(speed, int | float) or not 1 <= speed <= MAX_DEMO_SPEED:
                speed = DEFAULT_SPEED
            return cls(kind=kind, path=str(DEMO_CAPTURE), speed=float(speed))
        if kind == SOURCE_REMOTE:
            return cls(
                kind=kind,
                probe_name=str(data.get(CONF_PROBE_NAME, "")),
                probe_secret=str(data.get(CONF_PROBE_SECRET, "")),
            )
        if kind == SOURCE_FLOWS:
            return cls(
                kind=kind,
                flow_port=int(data.get(CONF_FLOW_PORT, DEFAULT_FLOW_PORT)),
                exporters=tuple(str(a) for a in data.get(CONF_FLOW_EXPORTERS, ())),
            )
        if kind == SOURCE_REPLAY:
            return cls(
                kind=kind,
                path=str(data.get(CONF_PATH, "")),
                speed=float(data.get(CONF_SPEED, DEFAULT_SPEED)),
                loop=bool(data.get(CONF_LOOP, True)),
            )
        return cls(
            kind=SOURCE_INTERFACE,
            interface=str(data.get(CONF_INTERFACE, "")),
            promisc=bool(data.get(CONF_PROMISC, False)),
        )

    @property
    def is_replay(self) -> bool:
        """A file is read: "online" is judged on the capture's own clock."""
        return self.kind not in (SOURCE_INTERFACE, SOURCE_FLOWS, SOURCE_REMOTE)

    @property
    def may_finish(self) -> bool:
        """Only a replay without a loop ends on purpose; a live probe is always restarted."""
        return self.is_replay and not self.loop

    @property
    def label(self) -> str:
        """How logs and repair issues name the source."""
        if self.kind == SOURCE_DEMO:
            return DEMO_LABEL
        if self.kind == SOURCE_FLOWS:
            return f"flows on UDP port {self.flow_port}"
        if self.kind == SOURCE_REMOTE:
            return f"remote probe {self.probe_name}"
        return str(self.path if self.kind == SOURCE_REPLAY else self.interface)

    def probe_args(self) -> list[str]:
        if self.kind == SOURCE_FLOWS:
            allow = ["--allow", *self.exporters] if self.exporters else []
            return ["--netflow", str(self.flow_port), *allow]
        if self.is_replay:
            args = ["--replay", str(self.path), "--speed", str(self.speed)]
            return [*args, "--loop"] if self.loop else args
        args = ["--iface", str(self.interface)]
        return [*args, "--promisc"] if self.promisc else args


@dataclass(frozen=True, slots=True, kw_only=True)
class TotemConfig:
    """The entry's source and options, defaults applied."""

    source: CaptureSource
    update_interval: float
    learn_days: float
    ignored: frozenset[str]
    device_cap: int
    auto_add: bool
    away_timeout: float
    stale_days: float
    block_backend: str
    active_discovery: bool
    activity_links: dict[str, str] = field(default_factory=dict)
    # The running Home Assistant's discovery tables for identification (ha_tables.py).
    ha_tables_file: str | None = None
    new_devices_wait: bool = False
    # The blocklist file the probe loads at start (None: the detector is off).
    blocklist: str | None = None
    # The router's DHCP lease file a flow probe reads (None: address-only devices stay so).
    dhcp_leases: str | None = None
    # The Network panel and its reads for administrators only (panel.py).
    panel_admin_only: bool = DEFAULT_PANEL_ADMIN_ONLY
    # Legitimate extra DHCP servers (normalised MACs or addresses): never rogue.
    dhcp_servers: tuple[str, ...] = ()

    @classmethod
    def from_config_entry(cls, entry: ConfigEntry) -> TotemConfig:
        options = {**DEFAULT_OPTIONS, **entry.options}
        return cls(
            source=CaptureSource.from_data(entry.data),
            update_interval=float(options[CONF_UPDATE_INTERVAL]),
            learn_days=float(options[CONF_LEARN_DAYS]),
            ignored=frozenset(normalise_macs(options[CONF_IGNORED])),
            device_cap=int(options[CONF_DEVICE_CAP]),
            auto_add=bool(options[CONF_AUTO_ADD]),
            away_timeout=float(options[CONF_AWAY_TIMEOUT]),
            stale_days=float(options[CONF_STALE_DAYS]),
            block_backend=str(options[CONF_BLOCK_BACKEND]),
            active_discovery=bool(options[CONF_ACTIVE_DISCOVERY]),
            # A hand-edited link that does not parse links nothing rather than stop setup.
            activity_links=parse_links(options.get(CONF_ACTIVITY_LINKS)) or {},
            new_devices_wait=bool(options.get(CONF_NEW_DEVICES_WAIT, False)),
            blocklist=str(options.get(CONF_BLOCKLIST) or "") or None,
            dhcp_leases=str(options.get(CONF_DHCP_LEASES) or "") or None,
            panel_admin_only=bool(options.get(CONF_PANEL_ADMIN_ONLY, DEFAULT_PANEL_ADMIN_ONLY)),
            dhcp_servers=parse_dhcp_servers(options.get(CONF_DHCP_SERVERS)),
        )

    @property
    def chosen_backend(self) -> str | None:
        """The blocking backend the user named; None lets the engine choose for this host."""
        return None if self.block_backend == BLOCK_BACKEND_AUTO else self.block_backend

    @property
    def stale_seconds(self) -> float:
        return self.stale_days * 86400

    def as_options(self) -> dict[str, Any]:
        """The options as the options flow's first form shows them (every key, defaults
        filled in; the activity links have their own step)."""
        return {
            CONF_UPDATE_INTERVAL: _number(self.update_interval),
            CONF_LEARN_DAYS: _number(self.learn_days),
            CONF_IGNORED: sorted(self.ignored),
            CONF_DEVICE_CAP: self.device_cap,
            CONF_AUTO_ADD: self.auto_add,
            CONF_AWAY_TIMEOUT: _number(self.away_timeout),
            CONF_STALE_DAYS: _number(self.stale_days),
            CONF_BLOCK_BACKEND: self.block_backend,
            CONF_ACTIVE_DISCOVERY: self.active_discovery,
        }

    def probe_args(self, state_file: str | None = None) -> list[str]:
        """The probe's command line for this source and these options."""
        args = [
            *self.source.probe_args(),
            "--interval",
            f"{self.update_interval:g}",
            "--learn",
            str(int(self.learn_days * 86400)),
        ]
        if state_file:
            # What the engine learned (baselines) survives probe and Home Assistant restarts.
            args += ["--state", state_file]
        if self.ha_tables_file:
            args += ["--ha-tables", self.ha_tables_file]
        if self.blocklist and self.source.kind != SOURCE_REMOTE:
            # A remote probe reads files on its own machine: its blocklist is its own.
            args += ["--blocklist", self.blocklist]
        for server in self.dhcp_servers:
            args += ["--dhcp-server", server]
        if self.dhcp_leases and self.source.kind == SOURCE_FLOWS:
            # The probe reads and re-reads it in its own process, never in HA's loop.
            args += ["--leases", self.dhcp_leases]
        return args


def _number(value: float) -> int | float:
    # Whole numbers read back as the integers the user typed.
    return int(value) if value.is_integer() else value
