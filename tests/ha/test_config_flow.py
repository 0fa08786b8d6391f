"""Every path of the config, reconfigure and options flows."""

from __future__ import annotations

import os
from pathlib import Path
from unittest.mock import AsyncMock, patch

import pytest
from homeassistant import config_entries
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import HomeAssistantError
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.totem import validation
from custom_components.totem.const import (
    CONF_AUTO_ADD,
    CONF_AWAY_TIMEOUT,
    CONF_DEVICE_CAP,
    CONF_IGNORED,
    CONF_INTERFACE,
    CONF_LEARN_DAYS,
    CONF_LOOP,
    CONF_PATH,
    CONF_PROMISC,
    CONF_SOURCE_TYPE,
    CONF_SPEED,
    CONF_STALE_DAYS,
    CONF_UPDATE_INTERVAL,
    DEFAULT_OPTIONS,
    DOMAIN,
    SOURCE_DEMO,
    SOURCE_INTERFACE,
    SOURCE_REPLAY,
)
from custom_components.totem.store import InventoryStore

from .conftest import replay_entry, setup_entry, write_script
from .messages import hang, hello, row, snapshot

PCAP_HEADER = bytes.fromhex("d4c3b2a1020004000000000000000000ffff000001000000")
PCAPNG_HEADER = bytes.fromhex("0a0d0d0a1c0000004d3c2b1a01000000ffffffffffffffff1c000000")


@pytest.fixture
async def no_setup(hass: HomeAssistant):
    """Flow tests check the flow; setting the entry up (and down) is other tests' job."""
    with (
        patch("custom_components.totem.async_setup_entry", return_value=True) as mock,
        patch("custom_components.totem.async_unload_entry", return_value=True),
    ):
        yield mock
        for entry in hass.config_entries.async_entries(DOMAIN):
            await hass.config_entries.async_unload(entry.entry_id)


ADAPTERS = [
    {
        "name": "eth0",
        "default": True,
        "enabled": True,
        "auto": True,
        "ipv4": [{"address": "192.168.1.5", "network_prefix": 24}],
        "ipv6": [],
        "index": 2,
    },
    {
        "name": "wlan0",
        "default": False,
        "enabled": False,
        "auto": False,
        "ipv4": [],
        "ipv6": [],
        "index": 3,
    },
]


@pytest.fixture
def sys_net(tmp_path: Path):
    """A fake /sys/class/net (the kernel is the boundary): a bridge and two NICs, and
    Home Assistant's network integration reporting eth0 as its own."""
    root = tmp_path / "net"
    for name in ("eth0", "wlan0", "br0"):
        (root / name).mkdir(parents=True)
    (root / "br0" / "bridge").mkdir()
    with (
        patch.object(validation, "SYS_CLASS_NET", root),
        patch(
            "homeassistant.components.network.async_get_adapters",
            AsyncMock(return_value=ADAPTERS),
        ),
    ):
        yield root


async def _start(hass: HomeAssistant, step: str):
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"] == [
        SOURCE_INTERFACE,
        SOURCE_REPLAY,
        "flows",
        "remote",
        SOURCE_DEMO,
    ]
    return await hass.config_entries.flow.async_configure(result["flow_id"], {"next_step_id": step})


async def test_interface_flow_lists_interfaces_and_creates_entry(
    hass: HomeAssistant, sys_net: Path, no_setup
) -> None:
    result = await _start(hass, SOURCE_INTERFACE)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == SOURCE_INTERFACE
    selector = result["data_schema"].schema[CONF_INTERFACE]
    # The bridge first (where a Pi bridging the IoT Wi-Fi sees everything), then the
    # adapter Home Assistant itself uses, with its address.
    assert selector.config["options"] == [
        {"value": "br0", "label": "br0 (bridge)"},
        {"value": "eth0", "label": "eth0 (Home Assistant's network, 192.168.1.5)"},
        {"value": "wlan0", "label": "wlan0"},
    ]

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_INTERFACE: "br0", CONF_PROMISC: True}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "TOTEM br0"
    assert result["data"] == {
        CONF_SOURCE_TYPE: SOURCE_INTERFACE,
        CONF_INTERFACE: "br0",
        CONF_PROMISC: True,
    }
    assert result["options"] == DEFAULT_OPTIONS
    assert result["result"].unique_id == "interface:br0"
    assert len(no_setup.mock_calls) == 1


async def test_interface_flow_unknown_interface_shows_error(
    hass: HomeAssistant, sys_net: Path, no_setup
) -> None:
    result = await _start(hass, SOURCE_INTERFACE)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_INTERFACE: "wlan9"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_INTERFACE: "interface_not_found"}
    # The user fixes the choice in the same form.
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_INTERFACE: "eth0"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_interface_flow_aborts_when_source_already_configured(
    hass: HomeAssistant, sys_net: Path, no_setup
) -> None:
    MockConfigEntry(
        domain=DOMAIN,
        unique_id="interface:br0",
        data={CONF_SOURCE_TYPE: SOURCE_INTERFACE, CONF_INTERFACE: "br0"},
    ).add_to_hass(hass)
    result = await _start(hass, SOURCE_INTERFACE)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_INTERFACE: "br0"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


def test_list_interfaces_of_a_missing_folder_is_empty(tmp_path: Path) -> None:
    assert validation.list_interfaces(tmp_path / "absent") == []
    assert validation.list_interfaces() != []  # this machine has at least lo
    assert not validation.interface_exists("../etc")


async def test_replay_flow_creates_entry_with_resolved_path(
    hass: HomeAssistant, tmp_path: Path, no_setup
) -> None:
    capture = tmp_path / "home.pcapng"
    capture.write_bytes(PCAPNG_HEADER)
    result = await _start(hass, SOURCE_REPLAY)
    assert result["step_id"] == SOURCE_REPLAY
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_PATH: str(tmp_path / "." / "home.pcapng"), CONF_SPEED: 4, CONF_LOOP: False},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "TOTEM replay home.pcapng"
    assert result["data"] == {
        CONF_SOURCE_TYPE: SOURCE_REPLAY,
        CONF_PATH: str(capture),
        CONF_SPEED: 4.0,
        CONF_LOOP: False,
    }
    assert result["result"].unique_id == f"replay:{capture}"


@pytest.mark.parametrize(
    ("content", "mode", "error"),
    [
        (None, 0o644, "file_not_found"),
        (b"GIF89a\x00\x00", 0o644, "unsupported_format"),
        (b"", 0o644, "unsupported_format"),
        (PCAP_HEADER, 0o000, "file_not_readable"),
    ],
)
async def test_replay_flow_rejects_bad_files(
    hass: HomeAssistant, tmp_path: Path, no_setup, content: bytes | None, mode: int, error: str
) -> None:
    path = tmp_path / "capture.pcap"
    if content is not None:
        path.write_bytes(content)
        path.chmod(mode)
    result = await _start(hass, SOURCE_REPLAY)
    with patch("os.access", return_value=mode != 0):  # root reads everything
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_PATH: str(path)}
        )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_PATH: error}


def test_unreadable_file_is_reported_when_open_fails(tmp_path: Path) -> None:
    path = tmp_path / "capture.pcap"
    path.write_bytes(PCAP_HEADER)
    with patch("pathlib.Path.open", side_effect=PermissionError("denied")):
        assert validation.check_capture_file(str(path)) == "file_not_readable"
    assert validation.check_capture_file(str(path)) is None
    assert os.access(path, os.R_OK)


async def test_replay_flow_aborts_on_same_file(
    hass: HomeAssistant, tmp_path: Path, no_setup
) -> None:
    capture = tmp_path / "home.pcap"
    capture.write_bytes(PCAP_HEADER)
    replay_entry(capture).add_to_hass(hass)
    result = await _start(hass, SOURCE_REPLAY)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_PATH: str(capture)}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_reconfigure_replay_changes_file(
    hass: HomeAssistant, tmp_path: Path, no_setup
) -> None:
    old, new = tmp_path / "old.pcap", tmp_path / "new.pcap"
    old.write_bytes(PCAP_HEADER)
    new.write_bytes(PCAP_HEADER)
    entry = replay_entry(old)
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "reconfigure"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_PATH: str(tmp_path / "missing.pcap")}
    )
    assert result["errors"] == {CONF_PATH: "file_not_found"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_PATH: str(new), CONF_SPEED: 2, CONF_LOOP: True}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_PATH] == str(new)
    assert entry.data[CONF_SPEED] == 2.0
    assert entry.unique_id == f"replay:{new}"


async def test_reconfigure_interface_keeps_or_changes_interface(
    hass: HomeAssistant, sys_net: Path, no_setup
) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id="interface:br0",
        data={CONF_SOURCE_TYPE: SOURCE_INTERFACE, CONF_INTERFACE: "br0", CONF_PROMISC: False},
    )
    entry.add_to_hass(hass)
    MockConfigEntry(
        domain=DOMAIN,
        unique_id="interface:eth0",
        data={CONF_SOURCE_TYPE: SOURCE_INTERFACE, CONF_INTERFACE: "eth0"},
    ).add_to_hass(hass)

    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_INTERFACE: "wlan9"}
    )
    assert result["errors"] == {CONF_INTERFACE: "interface_not_found"}
    # Another entry already watches eth0.
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_INTERFACE: "eth0"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"

    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_INTERFACE: "br0", CONF_PROMISC: True}
    )
    assert result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_PROMISC] is True
    assert entry.unique_id == "interface:br0"


OPTIONS = {
    CONF_UPDATE_INTERVAL: 30.0,
    CONF_LEARN_DAYS: 2.5,
    CONF_DEVICE_CAP: 64.0,
    CONF_AUTO_ADD: False,
    CONF_AWAY_TIMEOUT: 600.0,
    CONF_STALE_DAYS: 7,
}


async def test_options_flow_validates_macs_and_saves(
    hass: HomeAssistant, tmp_path: Path, no_setup
) -> None:
    entry = replay_entry(tmp_path / "x.pcap")
    entry.add_to_hass(hass)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    # Not set up: no inventory to choose from, free text still accepted.
    assert result["data_schema"].schema[CONF_IGNORED].config["options"] == []

    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**OPTIONS, CONF_IGNORED: ["not-a-mac"]}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_IGNORED: "invalid_mac"}

    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**OPTIONS, CONF_IGNORED: ["AA-BB-CC-DD-EE-FF", "aa:bb:cc:dd:ee:ff"]}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options == {
        **OPTIONS,
        CONF_UPDATE_INTERVAL: 30,
        CONF_DEVICE_CAP: 64,
        CONF_AWAY_TIMEOUT: 600,
        CONF_IGNORED: ["aa:bb:cc:dd:ee:ff"],
    }


async def test_options_flow_offers_known_devices(
    hass: HomeAssistant, tmp_path: Path, fake_probe
) -> None:
    mac = "50:c7:bf:00:00:01"
    fake_probe(
        write_script(
            tmp_path / "probe.ndjson",
            [hello(), snapshot(1, 1010.0, [row(mac, name="HS100(EU)")]), hang()],
        )
    )
    entry = replay_entry(tmp_path / "x.pcap")
    await setup_entry(hass, entry)
    store: InventoryStore = entry.runtime_data.coordinator.store
    from .conftest import wait_for

    await wait_for(hass, lambda: mac in store.devices, what="device admitted")
    result = await hass.config_entries.options.async_init(entry.entry_id)
    options = result["data_schema"].schema[CONF_IGNORED].config["options"]
    assert options == [{"value": mac, "label": f"HS100(EU) ({mac})"}]
    await hass.config_entries.async_unload(entry.entry_id)


async def test_interface_list_without_the_network_integration(
    hass: HomeAssistant, sys_net: Path
) -> None:
    """Hints are a bonus: without Home Assistant's adapters the kernel's list remains."""
    with patch(
        "homeassistant.components.network.async_get_adapters",
        AsyncMock(side_effect=HomeAssistantError("network not loaded")),
    ):
        result = await _start(hass, SOURCE_INTERFACE)
    options = result["data_schema"].schema[CONF_INTERFACE].config["options"]
    assert [o["label"] for o in options] == ["br0 (bridge)", "eth0", "wlan0"]
