// Human units for bytes, rates and moments; one place so the table, the device page
// and the cards read the same.

const UNITS = ["B", "kB", "MB", "GB", "TB"];

/** 532 -> "532 B", 48_213 -> "48.2 kB", 3.1e9 -> "3.10 GB": small IoT devices read in kB. */
export function bytes(value) {
  if (value == null || Number.isNaN(value)) return "—";
  let v = Number(value);
  let unit = 0;
  while (v >= 1000 && unit < UNITS.length - 1) {
    v /= 1000;
    unit += 1;
  }
  if (unit === 0) return `${Math.round(v)} B`;
  const digits = v >= 100 ? 0 : v >= 10 ? 1 : 2;
  return `${v.toFixed(digits)} ${UNITS[unit]}`;
}

/** Kilobits per second from the integration -> "850 bit/s", "12.5 kbit/s", "3.2 Mbit/s". */
export function rate(kbps) {
  if (kbps == null) return "—";
  const bits = kbps * 1000;
  if (bits < 1000) return `${Math.round(bits)} bit/s`;
  if (bits < 1e6) return `${(bits / 1000).toFixed(bits < 1e4 ? 2 : 1)} kbit/s`;
  return `${(bits / 1e6).toFixed(bits < 1e7 ? 2 : 1)} Mbit/s`;
}

/** Seconds since the epoch -> "just now", "5 min ago", "3 h ago", "2 d ago". */
export function ago(seconds, now = Date.now() / 1000) {
  if (seconds == null) return "never";
  const d = Math.max(0, now - seconds);
  if (d < 60) return "just now";
  if (d < 3600) return `${Math.floor(d / 60)} min ago`;
  if (d < 86400) return `${Math.floor(d / 3600)} h ago`;
  return `${Math.floor(d / 86400)} d ago`;
}

export function clock(seconds) {
  if (seconds == null) return "—";
  return new Date(seconds * 1000).toLocaleString([], {
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
  });
}

export function duration(seconds) {
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  if (seconds < 86400) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86400)} d`;
}

export const TYPE_ICONS = {
  router: "mdi:router-network",
  access_point: "mdi:access-point",
  laptop: "mdi:laptop",
  desktop: "mdi:desktop-tower-monitor",
  phone: "mdi:cellphone",
  tablet: "mdi:tablet",
  tv: "mdi:television",
  media_player: "mdi:cast",
  smart_speaker: "mdi:speaker",
  camera: "mdi:cctv",
  printer: "mdi:printer",
  nas: "mdi:nas",
  game_console: "mdi:controller",
  smart_plug: "mdi:power-socket-eu",
  light: "mdi:lightbulb",
  hub: "mdi:hub",
  sensor: "mdi:motion-sensor",
  iot: "mdi:chip",
  unknown: "mdi:help-network",
};

export function typeLabel(type) {
  return (type || "unknown").replace(/_/g, " ");
}

export function kindLabel(kind) {
  return (kind || "").replace(/_/g, " ");
}

export const SEVERITY_COLOR = {
  info: "var(--info-color, #039be5)",
  warning: "var(--warning-color, #ffa600)",
  critical: "var(--error-color, #db4437)",
};
