"""The Network panel in the sidebar and the dashboard cards' code, served by TOTEM.

One bundle (built from frontend/, committed as frontend/totem-panel.js in this
package so a HACS install needs no npm) defines the panel and both cards. It is served as a static
path and loaded on every page (``add_extra_js_url``), so the cards work without
adding a dashboard resource by hand. The URL carries the bundle's hash: a new
version is never answered from a browser's cache.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Final

from homeassistant.components import frontend, panel_custom
from homeassistant.components.http import StaticPathConfig
from homeassistant.core import HomeAssistant

BUNDLE: Final = Path(__file__).parent / "frontend" / "totem-panel.js"
STATIC_URL: Final = "/totem_static/totem-panel.js"
PANEL_URL_PATH: Final = "totem"
PANEL_COMPONENT: Final = "totem-panel"
PANEL_ICON: Final = "mdi:lan"


def _version() -> str:
    return hashlib.sha256(BUNDLE.read_bytes()).hexdigest()[:12]


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
    await panel_custom.async_register_panel(
        hass,
        frontend_url_path=PANEL_URL_PATH,
        webcomponent_name=PANEL_COMPONENT,
        sidebar_title="Network",
        sidebar_icon=PANEL_ICON,
        module_url=url,
        # Blocking a device is an administrator's act; the commands say so too.
        require_admin=True,
        config={"version": version},
    )
    return True
