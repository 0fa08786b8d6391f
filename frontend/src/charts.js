// Small SVG charts: no chart library, so the bundle stays small.
import { svg } from "lit";

/** A sparkline of VALUES (one per minute, gaps already zero), W x H pixels. */
export function sparkline(values, w = 80, h = 20) {
  if (!values || values.length < 2) {
    return svg`<svg class="spark" width=${w} height=${h}><line x1="0" y1=${h - 1} x2=${w} y2=${h - 1} /></svg>`;
  }
  const max = Math.max(...values, 1);
  const step = w / (values.length - 1);
  const points = values.map((v, i) => `${(i * step).toFixed(1)},${(h - 1 - (v / max) * (h - 2)).toFixed(1)}`);
  return svg`<svg class="spark" width=${w} height=${h} viewBox="0 0 ${w} ${h}"><polyline points=${points.join(" ")} /></svg>`;
}

/** Buckets [start, tx, rx] (sparse) -> one value pair per WIDTH seconds from START to END. */
export function dense(buckets, start, end, width) {
  const n = Math.max(1, Math.ceil((end - start) / width));
  const tx = new Array(n).fill(0);
  const rx = new Array(n).fill(0);
  for (const [t, up, down] of buckets || []) {
    const i = Math.floor((t - start) / width);
    if (i >= 0 && i < n) {
      tx[i] += up;
      rx[i] += down;
    }
  }
  return { tx, rx };
}

/** The device page's traffic chart: sent and received per bucket, with an axis. */
export function trafficChart({ tx, rx }, start, width, fmt, w = 640, h = 180) {
  const pad = { l: 56, r: 8, t: 8, b: 22 };
  const iw = w - pad.l - pad.r;
  const ih = h - pad.t - pad.b;
  const n = tx.length;
  const max = Math.max(...tx, ...rx, 1);
  const x = (i) => pad.l + (n <= 1 ? 0 : (i / (n - 1)) * iw);
  const y = (v) => pad.t + ih - (v / max) * ih;
  const line = (vals) => vals.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
  const area = (vals) => `${pad.l},${pad.t + ih} ${line(vals)} ${x(n - 1).toFixed(1)},${pad.t + ih}`;
  const ticks = (max >= 10 ? [0, 0.5, 1] : [0, 1]).map((f) => ({ v: max * f, y: y(max * f) }));
  const labels = [0, Math.floor((n - 1) / 2), n - 1].map((i, k) => ({
    x: x(i),
    anchor: ["start", "middle", "end"][k],
    text: new Date((start + i * width) * 1000).toLocaleString([], width >= 3600 ? { weekday: "short", hour: "2-digit" } : { hour: "2-digit", minute: "2-digit" }),
  }));
  return svg`<svg class="chart" viewBox="0 0 ${w} ${h}" role="img" aria-label="traffic chart">
    ${ticks.map((t) => svg`<line class="grid" x1=${pad.l} x2=${w - pad.r} y1=${t.y} y2=${t.y} /><text class="axis" x=${pad.l - 4} y=${t.y + 4} text-anchor="end">${fmt(t.v)}</text>`)}
    ${labels.map((l) => svg`<text class="axis" x=${l.x} y=${h - 6} text-anchor=${l.anchor}>${l.text}</text>`)}
    <polygon class="rx-area" points=${area(rx)} />
    <polyline class="rx" points=${line(rx)} />
    <polygon class="tx-area" points=${area(tx)} />
    <polyline class="tx" points=${line(tx)} />
  </svg>`;
}
