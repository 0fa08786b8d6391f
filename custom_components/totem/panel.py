"""The Network panel in the sidebar and the dashboard cards' code, served by TOTEM.

One bundle (built from frontend/, committed as frontend/totem-panel.js in this
package so a HACS install needs no npm) defines the panel and both cards. It is served as a static
path and loaded on every page (``add_extra_js_url``), so the cards work without
adding a dashboard resource by hand. The URL carries the bundle's hash: a new
version is never answered from a browser's cache.

The panel is for administrators unless an entry's options open it to every
user (``panel_admin_only`` off); it is registered again when that changes.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Final

from homeassistant.components import frontend
from homeassistant.components.http import StaticPathConfig
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback

from .const import CONF_PANEL_ADMIN_ONLY, DEFAULT_PANEL_ADMIN_ONLY, DOMAIN

BUNDLE: Final = Path(__file__).parent / "frontend" / "totem-panel.js"
STATIC_URL: Final = "/totem_static/totem-panel.js"
PANEL_URL_PATH: Final = "totem"
PANEL_COMPONENT: Final = "totem-panel"
PANEL_ICON: Final = "mdi:lan"


def _version() -> str:
    return hashlib.sha256(BUNDLE.read_bytes()).hexdigest()[:12]


def admin_only(entry: ConfigEntry) -> bool:
    """Whether the entry keeps its devices in the panel for administrators."""
    return bool(entry.options.get(CONF_PANEL_ADMIN_ONLY, DEFAULT_PANEL_ADMIN_ONLY))


def panel_require_admin(hass: HomeAssistant) -> bool:
    """Administrators only, unless an enabled entry opened the panel to every user
    (a user who is not one sees only the entries that did: websocket_api.py)."""
    entries = hass.config_entries.async_entries(DOMAIN)
    return all(admin_only(e) for e in entries if e.disabled_by is None)


def _register(hass: HomeAssistant, url: str, version: str, require_admin: bool) -> None:
    panel_custom_config = {
        "name": PANEL_COMPONENT,
        "embed_iframe": False,
        "trust_external": False,
        "module_url": url,
    }
    frontend.async_register_built_in_panel(
        hass,
        component_name="custom",
        sidebar_title="Network",
        sidebar_icon=PANEL_ICON,
        frontend_url_path=PANEL_URL_PATH,
        config={"version": version, "_panel_custom": panel_custom_config},
        require_admin=require_admin,
        update=True,
    )


@callback
def async_update_panel(hass: HomeAssistant) -> None:
    """Register the panel again when who may see it changed (an entry's options)."""
    panel = hass.data.get(frontend.DATA_PANELS, {}).get(PANEL_URL_PATH)
    if panel is None or panel.config is None:
        return
    wanted = panel_require_admin(hass)
    if panel.require_admin != wanted:
        custom = panel.config.get("_panel_custom", {})
        _register(hass, custom["module_url"], panel.config["version"], wanted)


async def async_setup_panel(hass: HomeAssistant) -> bool:
    """Serve the bundle and add the panel; False when Home Assistant has no frontend
    (a headless setup, the test harness)."""
    if hass.http is None or "frontend" not in hass.config.components:
        return False
    if PANEL_URL_PATH in hass.data.get(frontend.DATA_PANELS, {}):
        return True
    version = await hass.async_add_executor_job(_version)
    await hass.http.async_register_static_paths(
        [StaticPathConfig(STATIC_URL, str(BUNDLE), cache_headers=True)]
    )
    url = f"{STATIC_URL}?v={version}"
    frontend.add_extra_js_url(hass, url)
    _register(hass, url, version, panel_require_admin(hass))
    return True
