"""Config, options and reconfigure flows: pick the capture source and tune TOTEM."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import voluptuous as vol
from homeassistant.components import mqtt, network
from homeassistant.config_entries import (
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlow,
)
from homeassistant.core import callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.selector import (
    BooleanSelector,
    DeviceSelector,
    DeviceSelectorConfig,
    EntitySelector,
    EntitySelectorConfig,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
)

from .const import (
    BLOCK_BACKENDS,
    CONF_ACTIVE_DISCOVERY,
    CONF_ACTIVITY_LINKS,
    CONF_AUTO_ADD,
    CONF_AWAY_TIMEOUT,
    CONF_BLOCK_BACKEND,
    CONF_BLOCKLIST,
    CONF_DEVICE_CAP,
    CONF_DHCP_LEASES,
    CONF_DHCP_SERVERS,
    CONF_FLOW_PORT,
    CONF_IGNORED,
    CONF_INTERFACE,
    CONF_LEARN_DAYS,
    CONF_LOOP,
    CONF_NEW_DEVICES_WAIT,
    CONF_PANEL_ADMIN_ONLY,
    CONF_PATH,
    CONF_PROBE_NAME,
    CONF_PROMISC,
    CONF_SOURCE_TYPE,
    CONF_SPEED,
    CONF_STALE_DAYS,
    CONF_UPDATE_INTERVAL,
    DEFAULT_OPTIONS,
    DEFAULT_SPEED,
    DOMAIN,
    ENTRY_MINOR_VERSION,
    ENTRY_VERSION,
    SOURCE_DEMO,
    SOURCE_FLOWS,
    SOURCE_INTERFACE,
    SOURCE_REMOTE,
    SOURCE_REPLAY,
)
from .data import TotemConfigEntry
from .engine.protocol import dhcp_server_entry
from .flow_source import FLOWS_SCHEMA, flows_data, port_free
from .options import (
    DEMO_CAPTURE,
    TotemConfig,
    is_mac,
    links_to_options,
    normalise_macs,
    parse_links,
)
from .remote_probe import async_find_probes, remote_data, remote_schema
from .validation import (
    check_blocklist_file,
    check_capture_file,
    check_leases_file,
    interface_exists,
    is_bridge,
    list_interfaces,
)

# The demo home: lively updates, and no firewall rule on the user's machine (its
# devices are not on this network; the user can change both in the options). Blocks
# are pretended (engine/pretend.py) so the switches and the panel's block flow work.
# It learns for the capture's first 4 minutes, after which its misbehaviours begin
# (scripts/make-demo-capture): alerts within minutes, not after a week.
DEMO_LEARN_SECONDS = 240
DEMO_OPTIONS = {
    **DEFAULT_OPTIONS,
    CONF_UPDATE_INTERVAL: 5,
    CONF_BLOCK_BACKEND: "none",
    CONF_LEARN_DAYS: DEMO_LEARN_SECONDS / 86400,
}
# Flows from the router and probes on other machines: this machine is not on the path
# of that traffic, so a rule here would block nothing while the switch said "blocked".
OFF_PATH_OPTIONS = {**DEFAULT_OPTIONS, CONF_BLOCK_BACKEND: "none"}


def _number(low: float, high: float, step: float = 1, unit: str | None = None) -> NumberSelector:
    config = NumberSelectorConfig(min=low, max=high, step=step, mode=NumberSelectorMode.BOX)
    if unit is not None:
        config["unit_of_measurement"] = unit
    return NumberSelector(config)


class TotemConfigFlow(ConfigFlow, domain=DOMAIN):
    """Add TOTEM: a network interface to watch, or a capture file to replay."""

    VERSION = ENTRY_VERSION
    MINOR_VERSION = ENTRY_MINOR_VERSION

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: TotemConfigEntry) -> TotemOptionsFlow:
        return TotemOptionsFlow()

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        return self.async_show_menu(
            step_id="user",
            menu_options=[
                SOURCE_INTERFACE,
                SOURCE_REPLAY,
                SOURCE_FLOWS,
                SOURCE_REMOTE,
                SOURCE_DEMO,
            ],
        )

    async def async_step_remote(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """A probe on another machine, found from its retained status on the MQTT broker."""
        if not await mqtt.async_wait_for_mqtt_client(self.hass):
            return self.async_abort(reason="mqtt_not_configured")
        errors: dict[str, str] = {}
        if user_input is not None:
            data, errors = remote_data(user_input)
            if not errors:
                await self.async_set_unique_id(f"{SOURCE_REMOTE}:{data[CONF_PROBE_NAME]}")
                self._abort_if_unique_id_configured()
                return self.async_create_entry(
                    title=f"TOTEM probe {data[CONF_PROBE_NAME]}",
                    data=data,
                    options=dict(OFF_PATH_OPTIONS),
                )
        found = await async_find_probes(self.hass)
        return self.async_show_form(
            step_id="remote",
            data_schema=self.add_suggested_values_to_schema(remote_schema(found), user_input or {}),
            errors=errors,
            description_placeholders={"found": ", ".join(found) or "none yet"},
        )

    async def async_step_flows(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Flows exported by the home router (NetFlow v5/v9, IPFIX, sFlow) to a UDP port."""
        errors: dict[str, str] = {}
        if user_input is not None:
            data, errors = flows_data(user_input)
            if not errors and not await self.hass.async_add_executor_job(
                port_free, data[CONF_FLOW_PORT]
            ):
                errors[CONF_FLOW_PORT] = "port_in_use"
            if not errors:
                await self.async_set_unique_id(f"{SOURCE_FLOWS}:{data[CONF_FLOW_PORT]}")
                self._abort_if_unique_id_configured()
                return self.async_create_entry(
                    title=f"TOTEM flows on port {data[CONF_FLOW_PORT]}",
                    data=data,
                    options=dict(OFF_PATH_OPTIONS),
                )
        return self.async_show_form(
            step_id="flows",
            data_schema=self.add_suggested_values_to_schema(FLOWS_SCHEMA, user_input or {}),
            errors=errors,
        )

    async def async_step_demo(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """A ready-made home replayed in a loop: devices at once, no network touched."""
        await self.async_set_unique_id(SOURCE_DEMO)
        self._abort_if_unique_id_configured()
        if await self.hass.async_add_executor_job(check_capture_file, str(DEMO_CAPTURE)):
            return self.async_abort(reason="demo_missing")
        if user_input is None:
            return self.async_show_form(step_id="demo", data_schema=vol.Schema({}))
        return self.async_create_entry(
            title="TOTEM demo home",
            data={CONF_SOURCE_TYPE: SOURCE_DEMO},
            options=dict(DEMO_OPTIONS),
        )

    async def async_step_interface(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        errors: dict[str, str] = {}
        if user_input is not None:
            name = user_input[CONF_INTERFACE]
            if await self.hass.async_add_executor_job(interface_exists, name):
                await self.async_set_unique_id(f"{SOURCE_INTERFACE}:{name}")
                self._abort_if_unique_id_configured()
                return self.async_create_entry(
                    title=f"TOTEM {name}",
                    data={CONF_SOURCE_TYPE: SOURCE_INTERFACE, **user_input},
                    options=dict(DEFAULT_OPTIONS),
                )
            errors[CONF_INTERFACE] = "interface_not_found"
        return self.async_show_form(
            step_id="interface",
            data_schema=self.add_suggested_values_to_schema(
                await self._interface_schema(), user_input or {}
            ),
            errors=errors,
        )

    async def async_step_replay(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        errors: dict[str, str] = {}
        if user_input is not None:
            data = _replay_data(user_input)
            error = await self.hass.async_add_executor_job(check_capture_file, data[CONF_PATH])
            if error is None:
                await self.async_set_unique_id(f"{SOURCE_REPLAY}:{data[CONF_PATH]}")
                self._abort_if_unique_id_configured()
                return self.async_create_entry(
                    title=f"TOTEM replay {Path(data[CONF_PATH]).name}",
                    data=data,
                    options=dict(DEFAULT_OPTIONS),
                )
            errors[CONF_PATH] = error
        return self.async_show_form(
            step_id="replay",
            data_schema=self.add_suggested_values_to_schema(_REPLAY_SCHEMA, user_input or {}),
            errors=errors,
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        entry = self._get_reconfigure_entry()
        if entry.data.get(CONF_SOURCE_TYPE) == SOURCE_DEMO:
            return self.async_abort(reason="demo_not_reconfigurable")
        if entry.data.get(CONF_SOURCE_TYPE) == SOURCE_FLOWS:
            return self.async_abort(reason="flows_not_reconfigurable")
        if entry.data.get(CONF_SOURCE_TYPE) == SOURCE_REMOTE:
            return self.async_abort(reason="remote_not_reconfigurable")
        replay = entry.data[CONF_SOURCE_TYPE] == SOURCE_REPLAY
        errors: dict[str, str] = {}
        if user_input is not None:
            if replay:
                data = _replay_data(user_input)
                error = await self.hass.async_add_executor_job(check_capture_file, data[CONF_PATH])
                unique_id = f"{SOURCE_REPLAY}:{data[CONF_PATH]}"
                field = CONF_PATH
            else:
                data = {CONF_SOURCE_TYPE: SOURCE_INTERFACE, **user_input}
                exists = await self.hass.async_add_executor_job(
                    interface_exists, data[CONF_INTERFACE]
                )
                error = None if exists else "interface_not_found"
                unique_id = f"{SOURCE_INTERFACE}:{data[CONF_INTERFACE]}"
                field = CONF_INTERFACE
            if error is None:
                await self.async_set_unique_id(unique_id)
                if unique_id != entry.unique_id:
                    self._abort_if_unique_id_configured()
                return self.async_update_reload_and_abort(entry, unique_id=unique_id, data=data)
            errors[field] = error
        schema = _REPLAY_SCHEMA if replay else await self._interface_schema()
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(schema, user_input or dict(entry.data)),
            errors=errors,
        )

    async def _interface_options(self) -> list[SelectOptionDict]:
        """The machine's interfaces, bridges first, with Home Assistant's adapters as hints."""

        def scan() -> list[tuple[str, bool]]:
            return [(name, is_bridge(name)) for name in list_interfaces()]

        found = await self.hass.async_add_executor_job(scan)
        hints: dict[str, list[str]] = {}
        default = None
        try:
            adapters = await network.async_get_adapters(self.hass)
        except HomeAssistantError:
            adapters = []
        for adapter in adapters:
            notes = hints.setdefault(adapter["name"], [])
            if adapter["default"]:
                default = adapter["name"]
                notes.append("Home Assistant's network")
            notes.extend(str(a["address"]) for a in adapter["ipv4"])
        for name, bridge in found:
            if bridge:
                hints.setdefault(name, []).insert(0, "bridge")
        ordered = sorted(found, key=lambda nb: (not nb[1], nb[0] != default, nb[0]))
        return [
            SelectOptionDict(
                value=name, label=f"{name} ({', '.join(hints[name])})" if hints.get(name) else name
            )
            for name, _bridge in ordered
        ]

    async def _interface_schema(self) -> vol.Schema:
        options = await self._interface_options()
        return vol.Schema(
            {
                vol.Required(CONF_INTERFACE): SelectSelector(
                    SelectSelectorConfig(
                        options=options, custom_value=True, mode=SelectSelectorMode.DROPDOWN
                    )
                ),
                vol.Optional(CONF_PROMISC, default=False): BooleanSelector(),
            }
        )


_REPLAY_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_PATH): TextSelector(),
        vol.Optional(CONF_SPEED, default=DEFAULT_SPEED): _number(0.1, 1000, 0.1, "x"),
        vol.Optional(CONF_LOOP, default=True): BooleanSelector(),
    }
)


def _replay_data(user_input: dict[str, Any]) -> dict[str, Any]:
    return {
        CONF_SOURCE_TYPE: SOURCE_REPLAY,
        CONF_PATH: str(Path(user_input[CONF_PATH]).expanduser().resolve()),
        CONF_SPEED: float(user_input.get(CONF_SPEED, DEFAULT_SPEED)),
        CONF_LOOP: bool(user_input.get(CONF_LOOP, True)),
    }


def _dhcp_servers(raw: Any) -> tuple[list[str], bool]:
    """The DHCP servers typed or picked, normalised, and whether one was not a MAC
    or an IP address."""
    servers: set[str] = set()
    for item in raw if isinstance(raw, list) else [raw] if raw else []:
        try:
            servers.add(dhcp_server_entry(str(item)))
        except ValueError:
            return [], True
    return sorted(servers), False


# The options' first form: a box that opens the linked-entities step before saving.
CONF_EDIT_LINKS = "edit_links"
# The linked-entities step: the links kept (one choice per network device), and a
# network device with the entities (of any integration) that belong to it physically.
CONF_KEEP_LINKS = "keep_links"
CONF_LINK_DEVICE = "link_device"
CONF_LINK_ENTITIES = "link_entities"


class TotemOptionsFlow(OptionsFlow):
    """Tune intervals, admission and the devices to ignore; link entities to devices."""

    _pending: dict[str, Any]

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        errors: dict[str, str] = {}
        if user_input is not None:
            options = {**user_input}
            edit_links = bool(options.pop(CONF_EDIT_LINKS, False))
            # The links are edited in their own step: kept as they are (in the structured
            # form, which also moves links typed in the old code editor over).
            options.pop(CONF_ACTIVITY_LINKS, None)
            stored = self.config_entry.options.get(CONF_ACTIVITY_LINKS)
            if (kept := parse_links(stored)) is None:
                options[CONF_ACTIVITY_LINKS] = stored  # hand-edited and unreadable: not lost
            elif kept:
                options[CONF_ACTIVITY_LINKS] = links_to_options(kept)
            # Left empty, the field is absent: nothing is ignored.
            ignored = normalise_macs(options.get(CONF_IGNORED))
            if not all(is_mac(mac) for mac in ignored):
                errors[CONF_IGNORED] = "invalid_mac"
            if blocklist := str(options.get(CONF_BLOCKLIST) or "").strip():
                options[CONF_BLOCKLIST] = str(Path(blocklist).expanduser())
                error = await self.hass.async_add_executor_job(check_blocklist_file, blocklist)
                if error:
                    errors[CONF_BLOCKLIST] = error
            else:
                options.pop(CONF_BLOCKLIST, None)  # left empty: the detector is off
            if leases := str(options.get(CONF_DHCP_LEASES) or "").strip():
                options[CONF_DHCP_LEASES] = str(Path(leases).expanduser())
                error = await self.hass.async_add_executor_job(check_leases_file, leases)
                if error:
                    errors[CONF_DHCP_LEASES] = error
            else:
                options.pop(CONF_DHCP_LEASES, None)  # left empty: address-only devices stay so
            servers, bad = _dhcp_servers(options.pop(CONF_DHCP_SERVERS, None))
            if bad:
                errors[CONF_DHCP_SERVERS] = "invalid_dhcp_server"
            elif servers:
                options[CONF_DHCP_SERVERS] = servers  # left empty: absent
            if not errors:
                options[CONF_IGNORED] = ignored
                for key in (CONF_UPDATE_INTERVAL, CONF_DEVICE_CAP, CONF_AWAY_TIMEOUT):
                    options[key] = int(options[key])
                if edit_links:
                    self._pending = options
                    return await self.async_step_links()
                return self.async_create_entry(data=options)

        config = TotemConfig.from_config_entry(self.config_entry)
        shown = (
            config.as_options()
            | ({CONF_BLOCKLIST: config.blocklist} if config.blocklist else {})
            | ({CONF_DHCP_SERVERS: list(config.dhcp_servers)} if config.dhcp_servers else {})
            | ({CONF_DHCP_LEASES: config.dhcp_leases} if config.dhcp_leases else {})
        )
        # Shown ticked while absent: the panel is for administrators unless chosen.
        current = {
            CONF_PANEL_ADMIN_ONLY: config.panel_admin_only,
            **shown,
            **(user_input or {}),
        }
        choices = [
            SelectOptionDict(
                value=mac, label=f"{record.name or record.manufacturer or 'Device'} ({mac})"
            )
            for mac, record in sorted(self._inventory().items())
        ]
        # Only a flow source names devices by address alone: the lease file is for it.
        leases_field = (
            {vol.Optional(CONF_DHCP_LEASES): TextSelector()}
            if config.source.kind == SOURCE_FLOWS
            else {}
        )
        schema = vol.Schema(
            {
                vol.Optional(CONF_UPDATE_INTERVAL, default=shown[CONF_UPDATE_INTERVAL]): _number(
                    1, 300, 1, "s"
                ),
                vol.Optional(CONF_LEARN_DAYS, default=shown[CONF_LEARN_DAYS]): _number(
                    0, 60, 0.5, "d"
                ),
                vol.Optional(CONF_IGNORED): SelectSelector(
                    SelectSelectorConfig(
                        options=choices,
                        multiple=True,
                        custom_value=True,
                        mode=SelectSelectorMode.DROPDOWN,
                    )
                ),
                vol.Optional(CONF_DEVICE_CAP, default=shown[CONF_DEVICE_CAP]): _number(1, 4096),
                vol.Optional(CONF_AUTO_ADD, default=shown[CONF_AUTO_ADD]): BooleanSelector(),
                vol.Optional(CONF_AWAY_TIMEOUT, default=shown[CONF_AWAY_TIMEOUT]): _number(
                    30, 86400, 1, "s"
                ),
                vol.Optional(CONF_STALE_DAYS, default=shown[CONF_STALE_DAYS]): _number(
                    0, 365, 1, "d"
                ),
                vol.Optional(CONF_BLOCK_BACKEND): SelectSelector(
                    SelectSelectorConfig(
                        options=list(BLOCK_BACKENDS),
                        translation_key=CONF_BLOCK_BACKEND,
                        mode=SelectSelectorMode.DROPDOWN,
                    )
                ),
                vol.Optional(CONF_ACTIVE_DISCOVERY): BooleanSelector(),
                vol.Optional(CONF_BLOCKLIST): TextSelector(),
                vol.Optional(CONF_DHCP_SERVERS): SelectSelector(
                    SelectSelectorConfig(
                        options=choices,
                        multiple=True,
                        custom_value=True,
                        mode=SelectSelectorMode.DROPDOWN,
                    )
                ),
                **leases_field,
                vol.Optional(CONF_NEW_DEVICES_WAIT): BooleanSelector(),
                vol.Optional(CONF_PANEL_ADMIN_ONLY): BooleanSelector(),
                vol.Optional(CONF_EDIT_LINKS, default=False): BooleanSelector(),
            }
        )
        return self.async_show_form(
            step_id="init",
            data_schema=self.add_suggested_values_to_schema(schema, current),
            errors=errors,
        )

    def _inventory(self) -> dict[str, Any]:
        entry: TotemConfigEntry = self.config_entry
        runtime = getattr(entry, "runtime_data", None)
        if runtime is None:
            return {}
        return dict(runtime.coordinator.store.devices)

    def _links(self) -> dict[str, str]:
        """The saved links {entity_id: MAC}, from either stored form."""
        return TotemConfig.from_config_entry(self.config_entry).activity_links

    async def async_step_links(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Pick a network device and the entities that belong with it (a plug's switch)."""
        links = self._links()
        errors: dict[str, str] = {}
        if user_input is not None:
            kept = set(user_input.get(CONF_KEEP_LINKS, ()))
            chosen = {entity: mac for entity, mac in links.items() if mac in kept}
            added, error = _added_links(
                dr.async_get(self.hass),
                user_input.get(CONF_LINK_DEVICE),
                user_input.get(CONF_LINK_ENTITIES) or [],
            )
            if error is None:
                options = dict(self._pending)
                options.pop(CONF_ACTIVITY_LINKS, None)
                if merged := parse_links({**chosen, **added}):
                    options[CONF_ACTIVITY_LINKS] = links_to_options(merged)
                return self.async_create_entry(data=options)
            errors[error[0]] = error[1]
        names = {
            mac: record.name or record.manufacturer for mac, record in self._inventory().items()
        }
        choices = [
            SelectOptionDict(
                value=item["mac"],
                label=f"{names.get(item['mac']) or item['mac']}: {', '.join(item['entities'])}",
            )
            for item in links_to_options(links)
        ]
        fields: dict[Any, Any] = {}
        if choices:
            fields[vol.Optional(CONF_KEEP_LINKS)] = SelectSelector(
                SelectSelectorConfig(options=choices, multiple=True, mode=SelectSelectorMode.LIST)
            )
        fields[vol.Optional(CONF_LINK_DEVICE)] = DeviceSelector(
            DeviceSelectorConfig(integration=DOMAIN)
        )
        fields[vol.Optional(CONF_LINK_ENTITIES)] = EntitySelector(
            EntitySelectorConfig(multiple=True)
        )
        return self.async_show_form(
            step_id="links",
            data_schema=self.add_suggested_values_to_schema(
                vol.Schema(fields),
                user_input or {CONF_KEEP_LINKS: [choice["value"] for choice in choices]},
            ),
            errors=errors,
        )


def _added_links(
    devices: dr.DeviceRegistry, device_id: str | None, entity_ids: list[str]
) -> tuple[dict[str, str], tuple[str, str] | None]:
    """The links a device and its entities add, or the field and error that refuse them."""
    if not device_id and not entity_ids:
        return {}, None
    if not device_id:
        return {}, (CONF_LINK_DEVICE, "link_device_missing")
    if not entity_ids:
        return {}, (CONF_LINK_ENTITIES, "link_entities_missing")
    device = devices.async_get(device_id)
    mac = next(
        (
            value
            for kind, value in (device.connections if device else ())
            if kind == dr.CONNECTION_NETWORK_MAC
        ),
        None,
    )
    if mac is None:
        # TOTEM's own hub device (or a device removed meanwhile) has no network address.
        return {}, (CONF_LINK_DEVICE, "link_device_no_mac")
    links = parse_links(dict.fromkeys(entity_ids, mac))
    if links is None:
        return {}, (CONF_LINK_ENTITIES, "invalid_link")
    return links, None
