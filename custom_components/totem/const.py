"""Constants shared by the Home Assistant side of TOTEM."""

from __future__ import annotations

from typing import Final

DOMAIN: Final = "totem"

# Bus events (user API: automations and the blueprint name them).
EVENT_ANOMALY: Final = f"{DOMAIN}_anomaly"
EVENT_DEVICE_ACTIVITY: Final = f"{DOMAIN}_device_activity"
# A device that joined after the first inventory waits for approval (approval.py).
EVENT_NEW_DEVICE: Final = f"{DOMAIN}_new_device"

# Config entry version: minor 2 scoped per-device unique ids to the entry (setup.py).
ENTRY_VERSION: Final = 1
ENTRY_MINOR_VERSION: Final = 2

# Config entry data: where the probe reads frames from.
CONF_SOURCE_TYPE: Final = "source_type"
SOURCE_INTERFACE: Final = "interface"
SOURCE_REPLAY: Final = "replay"
# The capture bundled in demo/, replayed in a loop: a new user sees devices at once.
SOURCE_DEMO: Final = "demo"
CONF_INTERFACE: Final = "interface"
CONF_PROMISC: Final = "promisc"
CONF_PATH: Final = "path"
CONF_SPEED: Final = "speed"
CONF_LOOP: Final = "loop"
# Flows exported by the home router (NetFlow v5/v9, IPFIX, sFlow) to a UDP port here.
SOURCE_FLOWS: Final = "flows"
CONF_FLOW_PORT: Final = "flow_port"
CONF_FLOW_EXPORTERS: Final = "flow_exporters"
# 2055 is where softflowd, MikroTik and pfSense export NetFlow by default.
DEFAULT_FLOW_PORT: Final = 2055
# A TOTEM probe on another machine, through Home Assistant's MQTT integration.
SOURCE_REMOTE: Final = "remote"
CONF_PROBE_NAME: Final = "probe_name"
CONF_PROBE_SECRET: Final = "probe_secret"

# Options.
CONF_UPDATE_INTERVAL: Final = "update_interval"
CONF_LEARN_DAYS: Final = "learn_days"
CONF_IGNORED: Final = "ignored_devices"
CONF_DEVICE_CAP: Final = "device_cap"
CONF_AUTO_ADD: Final = "auto_add"
CONF_AWAY_TIMEOUT: Final = "away_timeout"
CONF_STALE_DAYS: Final = "stale_days"
# Blocking ("Network access" switches): which nftables family enforces them.
CONF_BLOCK_BACKEND: Final = "block_backend"
BLOCK_BACKEND_AUTO: Final = "auto"
BLOCK_BACKENDS: Final = (BLOCK_BACKEND_AUTO, "nftables-bridge", "nftables-inet", "none")
# Active discovery (discovery.py): DNS-SD browses on Home Assistant's zeroconf.
# Off by default: TOTEM only listens unless the user asks it to query the home
# (ntopng's network discovery is opt-in too).
CONF_ACTIVE_DISCOVERY: Final = "active_discovery"
DEFAULT_ACTIVE_DISCOVERY: Final = False
# New devices wait for approval (Firewalla's quarantine). Off unless chosen.
CONF_NEW_DEVICES_WAIT: Final = "new_devices_wait"
# A local file of addresses/domains the blocklist detector alerts on (the probe loads it).
CONF_BLOCKLIST: Final = "blocklist_file"
# The router's DHCP lease file (flow entries): MACs and names for address-only devices.
CONF_DHCP_LEASES: Final = "dhcp_leases_file"
# The Network panel (and its websocket reads) for administrators only. On unless
# chosen: the panel shows every device's traffic and what it talks to.
CONF_PANEL_ADMIN_ONLY: Final = "panel_admin_only"
DEFAULT_PANEL_ADMIN_ONLY: Final = True
# Legitimate extra DHCP servers (MACs or IP addresses): never flagged as rogue.
CONF_DHCP_SERVERS: Final = "dhcp_servers"

DEFAULT_UPDATE_INTERVAL: Final = 10
DEFAULT_LEARN_DAYS: Final = 7
DEFAULT_DEVICE_CAP: Final = 256
DEFAULT_AUTO_ADD: Final = True
DEFAULT_AWAY_TIMEOUT: Final = 300
DEFAULT_STALE_DAYS: Final = 30
DEFAULT_SPEED: Final = 1.0

DEFAULT_OPTIONS: Final = {
    CONF_UPDATE_INTERVAL: DEFAULT_UPDATE_INTERVAL,
    CONF_LEARN_DAYS: DEFAULT_LEARN_DAYS,
    CONF_IGNORED: [],
    CONF_DEVICE_CAP: DEFAULT_DEVICE_CAP,
    CONF_AUTO_ADD: DEFAULT_AUTO_ADD,
    CONF_AWAY_TIMEOUT: DEFAULT_AWAY_TIMEOUT,
    CONF_STALE_DAYS: DEFAULT_STALE_DAYS,
    CONF_BLOCK_BACKEND: BLOCK_BACKEND_AUTO,
    CONF_ACTIVE_DISCOVERY: DEFAULT_ACTIVE_DISCOVERY,
}

# pcap (both byte orders, micro- and nanosecond) and pcapng section header.
CAPTURE_MAGICS: Final = (
    b"\xd4\xc3\xb2\xa1",
    b"\xa1\xb2\xc3\xd4",
    b"\x4d\x3c\xb2\xa1",
    b"\xa1\xb2\x3c\x4d",
    b"\x0a\x0d\x0d\x0a",
)

# Recorder budget: counters and "last seen" change on every snapshot for a
# busy device; writing them at most this often keeps 50 devices under
# 300 state writes per minute on a Pi's SD card.
COUNTER_MIN_WRITE_SECONDS: Final = 60.0

# Probe supervision.
BACKOFF_INITIAL: Final = 1.0
BACKOFF_MAX: Final = 300.0
STOP_GRACE_SECONDS: Final = 5.0
# The probe writes a snapshot and a heartbeat every update interval: silent for this many
# intervals (a SIGSTOP, a deadlock, a hung disk) it is killed and restarted. Never under
# the floor: a state save or a Pi's big snapshot can take a few seconds.
SILENT_HEARTBEATS: Final = 3
SILENCE_MIN_SECONDS: Final = 5.0
# Until its first heartbeat a probe may be loading a big state file on a slow SD card.
SILENCE_STARTUP_SECONDS: Final = 60.0
# A probe answers a command between two batches of packets, within milliseconds.
ACK_TIMEOUT: Final = 10.0
# Ask for a first snapshot this soon after the probe starts instead of waiting a
# whole update interval: a new user sees devices within seconds.
FIRST_SNAPSHOT_SECONDS: Final = 2.0

# Visibility: on a switched port almost no unicast frame travels between
# two other machines. Judge only after enough frames.
VISIBILITY_MIN_PACKETS: Final = 1000
VISIBILITY_MIN_SHARE: Final = 0.02

# Admission: at most this many new devices per snapshot, busiest first; when
# more candidates than FLOOD_CANDIDATES appear at once it is a MAC flood and
# only MACs that used DHCP or got an answer are admitted.
ADMIT_PER_SNAPSHOT: Final = 32
FLOOD_CANDIDATES: Final = 100

STALE_CHECK_SECONDS: Final = 3600.0

# Activity log (activity.py): entities the user links to a network device by MAC,
# {entity_id: mac}, for devices whose own integration does not know the MAC.
# Absent from older entries: read with .get(..., {}).
CONF_ACTIVITY_LINKS: Final = "activity_links"
