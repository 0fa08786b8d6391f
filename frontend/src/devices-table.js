// The device table: ntopng's Mac List inside Home Assistant. Sort on every column,
// filters (type, online, with alerts, blocked, waiting for approval) and a search over name, vendor, MAC, IP.
import { LitElement, html, css } from "lit";
import { bytes, rate, ago, TYPE_ICONS, typeLabel } from "./format.js";
import { sparkline } from "./charts.js";
import { shared } from "./styles.js";

export const COLUMNS = {
  name: { label: "Name", value: (d) => (d.name || "").toLowerCase() },
  vendor: { label: "Vendor", value: (d) => (d.vendor || "").toLowerCase() },
  type: { label: "Type", value: (d) => d.type },
  ips: { label: "IP", value: (d) => ipKey(d.ips[0]) },
  seen: { label: "Online", value: (d) => (d.online ? 2e12 : 0) + (d.last_seen || 0) },
  rate: { label: "Up / down", value: (d) => (d.up_kbps || 0) + (d.down_kbps || 0) },
  traffic: { label: "Traffic", value: (d) => d.tx_bytes + d.rx_bytes },
  alerts: { label: "Alerts 24 h", value: (d) => d.alerts_24h * 1000 + d.open_alerts },
  access: { label: "Access", value: (d) => (d.pending_approval ? 2 : d.blocked ? 1 : 0) },
};
export const DEFAULT_COLUMNS = Object.keys(COLUMNS);

function ipKey(ip) {
  if (!ip) return "~";
  if (!ip.includes(".")) return `1${ip}`;
  return `0${ip.split(".").map((p) => p.padStart(3, "0")).join(".")}`;
}

export function filterDevices(devices, f) {
  const q = (f.search || "").trim().toLowerCase();
  return devices.filter((d) => {
    if (f.type && d.type !== f.type) return false;
    if (f.online === "online" && !d.online) return false;
    if (f.online === "offline" && d.online) return false;
    if (f.alerts && !d.alerts_24h) return false;
    if (f.blocked && !d.blocked) return false;
    if (f.waiting && !d.pending_approval) return false;
    if (!q) return true;
    return [d.name, d.vendor, d.mac, d.type, ...d.ips].some((v) => v && String(v).toLowerCase().includes(q));
  });
}

export function sortDevices(devices, key, desc) {
  const col = COLUMNS[key] || COLUMNS.name;
  const out = [...devices].sort((a, b) => {
    const va = col.value(a);
    const vb = col.value(b);
    // "Device 2" before "Device 10", as a person sorts names.
    const c = typeof va === "string" ? va.localeCompare(vb, undefined, { numeric: true }) : va < vb ? -1 : va > vb ? 1 : 0;
    return c || (a.name || "").localeCompare(b.name || "", undefined, { numeric: true });
  });
  return desc ? out.reverse() : out;
}

export class TotemDevicesTable extends LitElement {
  static properties = {
    devices: { attribute: false },
    columns: { attribute: false },
    narrow: { type: Boolean, reflect: true },
    compact: { type: Boolean, reflect: true },
    filters: { attribute: false },
    showFilters: { type: Boolean, attribute: "show-filters" },
    limit: { type: Number },
    sortKey: { state: true },
    sortDesc: { state: true },
  };

  constructor() {
    super();
    this.devices = [];
    this.columns = DEFAULT_COLUMNS;
    this.filters = {};
    this.showFilters = true;
    this.sortKey = "traffic";
    this.sortDesc = true;
  }

  _sort(key) {
    if (this.sortKey === key) this.sortDesc = !this.sortDesc;
    else {
      this.sortKey = key;
      // Bigger first for the numbers a user looks for; A to Z for the words.
      this.sortDesc = ["rate", "traffic", "alerts", "seen", "access"].includes(key);
    }
  }

  _setFilter(key, value) {
    this.filters = { ...this.filters, [key]: value };
    this.dispatchEvent(new CustomEvent("filters-changed", { detail: this.filters }));
  }

  _open(device) {
    this.dispatchEvent(new CustomEvent("device-selected", { detail: device, bubbles: true, composed: true }));
  }

  _cell(key, d) {
    switch (key) {
      case "name":
        return html`<td class="name"><span class="dot ${d.online ? "on" : ""}"></span>${d.name}${d.new && !this.compact ? html` <span class="chip">new</span>` : ""}</td>`;
      case "vendor":
        return html`<td class="hide-narrow" title=${d.manufacturer || ""}>${d.vendor || html`<span class="muted">—</span>`}</td>`;
      case "type":
        return html`<td title=${d.type_reason || "no evidence yet"}><ha-icon .icon=${TYPE_ICONS[d.type] || TYPE_ICONS.unknown}></ha-icon><span class="hide-narrow"> ${typeLabel(d.type)}</span></td>`;
      case "ips":
        return html`<td class="hide-narrow mono">${d.ips.length ? d.ips[0] : "—"}${d.ips.length > 1 ? html` <span class="muted">+${d.ips.length - 1}</span>` : ""}</td>`;
      case "seen":
        return html`<td>${d.online ? html`<span class="chip ok">online</span>` : html`<span class="muted">${ago(d.last_seen)}</span>`}</td>`;
      case "rate":
        return html`<td class="num"><div class="rate"><span>↑ ${rate(d.up_kbps)}<br />↓ ${rate(d.down_kbps)}</span>${this.compact ? "" : sparkline(d.spark, 64, 22)}</div></td>`;
      case "traffic":
        return html`<td class="num" title="sent ${bytes(d.tx_bytes)}, received ${bytes(d.rx_bytes)}">${bytes(d.tx_bytes + d.rx_bytes)}</td>`;
      case "alerts":
        return html`<td class="num">${d.alerts_24h ? html`<span class="chip ${d.open_alerts ? "warn" : ""}">${d.alerts_24h}</span>` : html`<span class="muted">0</span>`}</td>`;
      case "access":
        if (d.pending_approval) return html`<td><span class="chip warn">waiting</span></td>`;
        return html`<td>${d.blocked ? html`<span class="chip bad">blocked</span>` : html`<span class="muted">allowed</span>`}</td>`;
      default:
        return html`<td></td>`;
    }
  }

  render() {
    const cols = (this.columns || DEFAULT_COLUMNS).filter((c) => COLUMNS[c]);
    const types = [...new Set(this.devices.map((d) => d.type))].sort();
    const sorted = sortDevices(filterDevices(this.devices, this.filters), this.sortKey, this.sortDesc);
    const rows = this.limit ? sorted.slice(0, this.limit) : sorted;
    const f = this.filters;
    return html`
      ${this.showFilters
        ? html`<div class="filters">
            <input type="search" placeholder="Search name, vendor, MAC, IP" .value=${f.search || ""}
              @input=${(e) => this._setFilter("search", e.target.value)} />
            <select aria-label="type" @change=${(e) => this._setFilter("type", e.target.value)}>
              <option value="">All types</option>
              ${types.map((t) => html`<option value=${t} ?selected=${f.type === t}>${typeLabel(t)}</option>`)}
            </select>
            <select aria-label="presence" @change=${(e) => this._setFilter("online", e.target.value)}>
              <option value="">Online and offline</option>
              <option value="online" ?selected=${f.online === "online"}>Online</option>
              <option value="offline" ?selected=${f.online === "offline"}>Offline</option>
            </select>
            <label><input type="checkbox" .checked=${!!f.alerts} @change=${(e) => this._setFilter("alerts", e.target.checked)} /> With alerts</label>
            <label><input type="checkbox" .checked=${!!f.blocked} @change=${(e) => this._setFilter("blocked", e.target.checked)} /> Blocked</label>
            <label><input type="checkbox" .checked=${!!f.waiting} @change=${(e) => this._setFilter("waiting", e.target.checked)} /> Waiting for approval</label>
          </div>`
        : ""}
      <div class="scroll">
        <table>
          <thead>
            <tr>
              ${cols.map((c) => html`<th class="${["rate", "traffic", "alerts"].includes(c) ? "num" : ""} ${["vendor", "ips"].includes(c) ? "hide-narrow" : ""}"
                  data-col=${c} @click=${() => this._sort(c)} aria-sort=${this.sortKey === c ? (this.sortDesc ? "descending" : "ascending") : "none"}>
                  ${COLUMNS[c].label}${this.sortKey === c ? (this.sortDesc ? " ▼" : " ▲") : ""}</th>`)}
            </tr>
          </thead>
          <tbody>
            ${rows.map((d) => html`<tr data-mac=${d.mac} @click=${() => this._open(d)}>${cols.map((c) => this._cell(c, d))}</tr>`)}
          </tbody>
        </table>
        ${rows.length ? "" : html`<p class="muted empty">No device matches.</p>`}
      </div>
    `;
  }

  static styles = [
    shared,
    css`
      :host { display: block; }
      .filters { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; padding: 8px 16px; }
      .filters input[type="search"] { flex: 1 1 200px; min-width: 140px; }
      .filters label { display: flex; align-items: center; gap: 4px; white-space: nowrap; }
      .scroll { overflow-x: auto; }
      table { width: 100%; border-collapse: collapse; font-size: 14px; }
      th { text-align: left; font-weight: 500; color: var(--secondary-text-color); cursor: pointer; user-select: none; padding: 8px; border-bottom: 1px solid var(--divider-color); white-space: nowrap; }
      td { padding: 6px 8px; border-bottom: 1px solid var(--divider-color); vertical-align: middle; }
      tbody tr { cursor: pointer; }
      tbody tr:hover { background: var(--secondary-background-color); }
      .num { text-align: right; white-space: nowrap; }
      .name { font-weight: 500; }
      .mono { font-family: var(--code-font-family, monospace); font-size: 13px; }
      .rate { display: flex; gap: 6px; align-items: center; justify-content: flex-end; font-size: 12px; line-height: 15px; }
      ha-icon { --mdc-icon-size: 20px; color: var(--state-icon-color, var(--paper-item-icon-color)); }
      .empty { padding: 16px; }
      :host([narrow]) .hide-narrow, :host([compact]) .hide-narrow { display: none; }
      :host([compact]) td, :host([compact]) th { padding: 4px 6px; }
      :host([compact]) .name { max-width: 140px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
    `,
  ];
}
customElements.get("totem-devices-table") || customElements.define("totem-devices-table", TotemDevicesTable);
