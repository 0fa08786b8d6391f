"""What the recorder stores of TOTEM's entities: the states, not the attributes that
change often or are big (addresses, who a device is, an alert's details).

The real recorder (the harness's SQLite database) records a phone and a plug
reported by the scripted probe, and an alert of the plug; the entities show
every attribute live, and the history read back from the database lacks the
excluded ones.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from homeassistant.components.recorder import get_instance, history
from homeassistant.core import HomeAssistant, State
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

from custom_components.totem.const import DOMAIN
from custom_components.totem.engine.messages import AlertMessage
from custom_components.totem.engine.model import Alert

from .conftest import replay_entry, setup_entry, wait_for, write_script
from .messages import hang, hello, row, snapshot

PHONE = "f0:18:98:00:00:01"
PLUG = "50:c7:bf:00:00:01"


@pytest.fixture
def quiet_sql() -> Iterator[None]:
    """The harness logs every SQL statement at INFO, and the recorder's thread goes on
    writing after the test's capture ends, into the run's output. Set before the
    recorder starts: SQLAlchemy reads the level when it opens a connection."""
    logger = logging.getLogger("sqlalchemy.engine")
    level = logger.level
    logger.setLevel(logging.WARNING)
    yield
    logger.setLevel(level)


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(
    quiet_sql: None, recorder_mock: Any, enable_custom_integrations: None
) -> None:
    """Overrides the package's: the recorder must be set up before hass
    (enable_custom_integrations starts hass)."""


def _entity_id(hass: HomeAssistant, platform: str, unique_id: str) -> str:
    entity_id = er.async_get(hass).async_get_entity_id(platform, DOMAIN, unique_id)
    assert entity_id is not None, unique_id
    return entity_id


def _recorded(hass: HomeAssistant, start: datetime, entity_ids: list[str]) -> dict[str, Any]:
    """Every state the database holds for ENTITY_IDS since START (runs in the
    recorder's executor)."""
    states: dict[str, list[State]] = history.get_significant_states(
        hass, start, None, entity_ids, significant_changes_only=False
    )
    return states


async def test_the_recorder_keeps_states_without_churning_attributes(
    hass: HomeAssistant, tmp_path: Path, fake_probe: Any
) -> None:
    start = dt_util.utcnow()
    phone = {"type": "phone", "name": "Annas-iPhone"}
    alert = Alert(1010.0, PLUG, "port_scan", "warning", "It probed 15 ports.", count=2)
    fake_probe(
        write_script(
            tmp_path / "probe.ndjson",
            [
                hello(),
                snapshot(
                    1,
                    1010.0,
                    [
                        row(
                            PHONE,
                            tx_bytes=500,
                            tx_packets=5,
                            last_seen=1010.0,
                            ips=["192.168.1.23", "fe80::1"],
                            **phone,
                        ),  # fmt: skip
                        row(
                            PLUG,
                            type="smart_plug",
                            model="S26",
                            tx_bytes=90,
                            tx_packets=1,
                            last_seen=1010.0,
                            ips=["192.168.1.40"],
                        ),  # fmt: skip
                    ],
                ),
                AlertMessage(alert=alert).to_json(),
                hang(),
            ],
        )
    )
    entry = replay_entry(tmp_path / "x.pcap")
    await setup_entry(hass, entry)
    coordinator = entry.runtime_data.coordinator
    await wait_for(hass, lambda: coordinator.data is not None and PLUG in coordinator.data.devices)
    entry_id = entry.entry_id
    online = _entity_id(hass, "binary_sensor", f"{entry_id}-{PLUG}-online")
    tracker = _entity_id(hass, "device_tracker", f"{entry_id}-{PHONE}-presence")
    anomaly = _entity_id(hass, "event", f"{entry_id}-{PLUG}-anomaly")
    await wait_for(
        hass,
        lambda: (s := hass.states.get(anomaly)) is not None and s.state != "unknown",
        what="the plug's alert on its Anomaly entity",
    )

    # Live, the entities show everything.
    live = {e: hass.states.get(e) for e in (online, tracker, anomaly)}
    assert live[online].attributes["ip_addresses"] == ["192.168.1.40"]
    assert live[online].attributes["device_type"] == "smart_plug"
    assert live[tracker].attributes["ip"] == "192.168.1.23"
    assert live[tracker].attributes["host_name"] == "Annas-iPhone"
    assert live[anomaly].attributes["message"] == "It probed 15 ports."

    await async_wait_recording_done(hass)
    recorded = await get_instance(hass).async_add_executor_job(
        _recorded, hass, start, [online, tracker, anomaly]
    )
    last = {entity_id: states[-1] for entity_id, states in recorded.items()}
    assert last[online].state == "on"
    assert set(last[online].attributes) == {"device_class", "friendly_name"}
    assert last[tracker].state == "home"
    # Home Assistant 2026 adds its own tracker attributes (in_zones, tracking_type):
    # what matters is that TOTEM's churning ones are gone and the MAC stays.
    tracker_recorded = set(last[tracker].attributes)
    assert {"source_type", "friendly_name", "mac"} <= tracker_recorded
    assert not tracker_recorded & {"ip", "host_name"}
    assert tracker_recorded <= {"source_type", "friendly_name", "mac", "in_zones", "tracking_type"}
    assert last[anomaly].state == live[anomaly].state  # when it alerted
    assert set(last[anomaly].attributes) == {"event_type", "severity", "friendly_name"}
    assert last[anomaly].attributes["event_type"] == "port_scan"
    await hass.config_entries.async_unload(entry.entry_id)
