"""TOTEM IoT Network Guard: one Home Assistant device per network device.

Home Assistant finds the integration's entry points here; they live in
setup.py. The packet engine (engine/) runs as its own process, ``python -m
custom_components.totem.engine``, which imports this package first: that
process must neither load nor need Home Assistant, so the entry points are
imported only where Home Assistant is running.
"""

from __future__ import annotations

import sys

if "homeassistant.core" in sys.modules:
    from .setup import (
        CONFIG_SCHEMA,
        PLATFORMS,
        async_migrate_entry,
        async_remove_config_entry_device,
        async_remove_entry,
        async_setup,
        async_setup_entry,
        async_unload_entry,
    )

    __all__ = [
        "CONFIG_SCHEMA",
        "PLATFORMS",
        "async_migrate_entry",
        "async_remove_config_entry_device",
        "async_remove_entry",
        "async_setup",
        "async_setup_entry",
        "async_unload_entry",
    ]
