"""Home Assistant's own discovery tables, handed to the probe.

The engine identifies devices with Home Assistant's DHCP, zeroconf (with HomeKit) and SSDP
matchers (engine/knowledge/ha_discovery.py); a bundled snapshot serves the CLI. Under Home
Assistant the tables of the running version are better: they know the integrations this
installation has. They are read here in an executor (importing the generated modules is
file I/O), written as JSON beside the engine's state file, and the probe is started with
``--ha-tables FILE``. Any failure leaves the probe on its bundled snapshot.
"""

from __future__ import annotations

import json
import logging
import os
from functools import partial
from pathlib import Path
from typing import Any

from homeassistant.const import __version__ as HA_VERSION
from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import STORAGE_DIR

from .const import DOMAIN

_LOGGER = logging.getLogger(__package__)


def ha_tables_file(hass: HomeAssistant, entry_id: str) -> str:
    return hass.config.path(STORAGE_DIR, f"{DOMAIN}.{entry_id}.ha_tables.json")


def _plain(value: Any) -> Any:
    """A JSON-shaped copy (the generated modules hold plain lists and dicts)."""
    return json.loads(json.dumps(value))


def _read_tables() -> dict[str, Any]:
    # Imported here, in the executor: the generated modules are large.
    from homeassistant.generated import dhcp, ssdp, zeroconf

    return {
        "_provenance": {
            "source": "the running Home Assistant's homeassistant.generated tables",
            "home_assistant_version": HA_VERSION,
            "licence": "Apache-2.0 (Home Assistant core)",
        },
        "dhcp": _plain(dhcp.DHCP),
        "zeroconf": _plain(zeroconf.ZEROCONF),
        "homekit": _plain(zeroconf.HOMEKIT),
        "ssdp": _plain(ssdp.SSDP),
    }


def _write(path: str) -> None:
    tables = _read_tables()
    tmp = f"{path}.tmp"
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(tables, fh, ensure_ascii=False)
    os.replace(tmp, path)


async def async_write_ha_tables(hass: HomeAssistant, entry_id: str) -> str | None:
    """The file the probe reads the running Home Assistant's tables from, or None."""
    path = ha_tables_file(hass, entry_id)
    try:
        await hass.async_add_executor_job(_write, path)
    except (ImportError, AttributeError, OSError, TypeError, ValueError) as err:
        _LOGGER.warning("Discovery tables not handed to the probe (bundled ones used): %s", err)
        return None
    return path


async def async_remove_ha_tables(hass: HomeAssistant, entry_id: str) -> None:
    path = Path(ha_tables_file(hass, entry_id))
    await hass.async_add_executor_job(partial(path.unlink, missing_ok=True))
