// Dashboard cards: custom:totem-devices-card (the device table, compact) and
// custom:totem-device-card (one device: traffic chart, alerts, access), each with a
// small visual editor. Loaded on every page by the integration: no resource to add.
import { LitElement, html, css } from "lit";
import { subscribeDevices } from "./store.js";
import { COLUMNS } from "./devices-table.js";
import { shared } from "./styles.js";
import "./devices-table.js";
import "./device-view.js";

const CARD_COLUMNS = ["name", "type", "seen", "rate", "traffic", "alerts", "access"];

function navigate(path) {
  history.pushState(null, "", path);
  window.dispatchEvent(new CustomEvent("location-changed", { detail: { replace: false } }));
}

class SubscribedCard extends LitElement {
  static properties = { hass: { attribute: false }, _config: { state: true }, _table: { state: true } };

  connectedCallback() {
    super.connectedCallback();
    if (this.hass && !this._unsub) this._subscribe();
  }

  disconnectedCallback() {
    super.disconnectedCallback();
    if (this._unsub) this._unsub();
    this._unsub = undefined;
  }

  updated(changed) {
    if (changed.has("hass") && this.hass && !this._unsub && this.isConnected) this._subscribe();
  }

  _subscribe() {
    this._unsub = subscribeDevices(this.hass, (t) => (this._table = t));
  }
}

export class TotemDevicesCard extends SubscribedCard {
  setConfig(config) {
    if (config.columns && (!Array.isArray(config.columns) || config.columns.some((c) => !COLUMNS[c]))) {
      throw new Error(`columns: choose from ${Object.keys(COLUMNS).join(", ")}`);
    }
    this._config = { title: "Network", columns: CARD_COLUMNS, filter: {}, ...config };
  }

  getCardSize() {
    return 2 + Math.min(this._config?.limit || 8, 12);
  }

  static getConfigElement() {
    return document.createElement("totem-devices-card-editor");
  }

  static getStubConfig() {
    return { title: "Network", limit: 8, filter: { online: "online" } };
  }

  render() {
    if (!this._config) return html``;
    const c = this._config;
    const t = this._table;
    const devices = t ? t.devices : [];
    return html`<ha-card>
      <div class="card-head"><span>${c.title}</span>${t ? html`<span class="muted small">${t.summary.online}/${t.summary.devices} online · ${t.summary.open_alerts} open alerts</span>` : ""}</div>
      ${t
        ? html`<totem-devices-table compact .devices=${devices} .columns=${c.columns} .filters=${c.filter || {}}
            .showFilters=${!!c.show_filters} .limit=${c.limit}
            @device-selected=${(e) => navigate(`/totem#device/${e.detail.entry_id}/${encodeURIComponent(e.detail.mac)}`)}></totem-devices-table>`
        : html`<p class="muted pad">Connecting…</p>`}
    </ha-card>`;
  }

  static styles = [
    shared,
    css`
      .card-head { display: flex; justify-content: space-between; align-items: baseline; padding: 12px 16px 4px; font-size: 18px; }
      .small { font-size: 12px; }
      .pad { padding: 0 16px 16px; }
    `,
  ];
}

export class TotemDeviceCard extends SubscribedCard {
  setConfig(config) {
    if (!config.mac) throw new Error("mac: the MAC address of the device to show");
    this._config = { ...config, mac: String(config.mac).toLowerCase() };
  }

  getCardSize() {
    return 6;
  }

  static getConfigElement() {
    return document.createElement("totem-device-card-editor");
  }

  static getStubConfig() {
    return { mac: "" };
  }

  render() {
    if (!this._config) return html``;
    const t = this._table;
    const mac = this._config.mac;
    const row = t && t.devices.find((d) => d.mac === mac && (!this._config.entry_id || d.entry_id === this._config.entry_id));
    if (!t) return html`<ha-card><p class="muted pad">Connecting…</p></ha-card>`;
    if (!row) return html`<ha-card><p class="pad">TOTEM has no device ${mac}.</p></ha-card>`;
    return html`<totem-device-view compact .hass=${this.hass} .entryId=${row.entry_id} .mac=${row.mac} .refresh=${t}></totem-device-view>`;
  }

  static styles = [shared, css`.pad { padding: 16px; }`];
}

class CardEditor extends LitElement {
  static properties = { hass: { attribute: false }, _config: { state: true } };

  setConfig(config) {
    this._config = config;
  }

  _set(key, value) {
    const config = { ...this._config };
    if (value === "" || value == null) delete config[key];
    else config[key] = value;
    this._config = config;
    this.dispatchEvent(new CustomEvent("config-changed", { detail: { config }, bubbles: true, composed: true }));
  }

  static styles = [shared, css`label { display: flex; flex-direction: column; gap: 4px; margin-bottom: 12px; } .cols { display: flex; flex-wrap: wrap; gap: 8px; }`];
}

export class TotemDevicesCardEditor extends CardEditor {
  render() {
    if (!this._config) return html``;
    const c = this._config;
    const cols = c.columns || CARD_COLUMNS;
    const filter = c.filter || {};
    return html`
      <label>Title <input .value=${c.title || ""} @input=${(e) => this._set("title", e.target.value)} /></label>
      <label>Rows (busiest first) <input type="number" min="1" .value=${c.limit || ""} @input=${(e) => this._set("limit", Number(e.target.value) || "")} /></label>
      <div>Columns</div>
      <div class="cols">${Object.entries(COLUMNS).map(([k, v]) => html`<label><span><input type="checkbox" .checked=${cols.includes(k)}
        @change=${(e) => this._set("columns", e.target.checked ? [...cols, k].filter((x, i, a) => a.indexOf(x) === i) : cols.filter((x) => x !== k))} /> ${v.label}</span></label>`)}</div>
      <label>Show <select @change=${(e) => this._set("filter", { ...filter, online: e.target.value || undefined })}>
        <option value="" ?selected=${!filter.online}>online and offline devices</option>
        <option value="online" ?selected=${filter.online === "online"}>online devices</option>
        <option value="offline" ?selected=${filter.online === "offline"}>offline devices</option></select></label>
      <label><span><input type="checkbox" .checked=${!!filter.alerts} @change=${(e) => this._set("filter", { ...filter, alerts: e.target.checked || undefined })} /> Only devices with alerts</span></label>
    `;
  }
}

export class TotemDeviceCardEditor extends CardEditor {
  connectedCallback() {
    super.connectedCallback();
    if (this.hass) this._unsub = subscribeDevices(this.hass, (t) => (this._table = t));
  }

  disconnectedCallback() {
    super.disconnectedCallback();
    if (this._unsub) this._unsub();
  }

  static properties = { ...CardEditor.properties, _table: { state: true } };

  render() {
    if (!this._config) return html``;
    const devices = this._table ? [...this._table.devices].sort((a, b) => a.name.localeCompare(b.name)) : [];
    return html`<label>Device <select @change=${(e) => this._set("mac", e.target.value)}>
      <option value="">choose a device</option>
      ${devices.map((d) => html`<option value=${d.mac} ?selected=${d.mac === this._config.mac}>${d.name} (${d.mac})</option>`)}
    </select></label>`;
  }
}

const define = (name, cls) => customElements.get(name) || customElements.define(name, cls);
define("totem-devices-card", TotemDevicesCard);
define("totem-device-card", TotemDeviceCard);
define("totem-devices-card-editor", TotemDevicesCardEditor);
define("totem-device-card-editor", TotemDeviceCardEditor);

window.customCards = window.customCards || [];
for (const [type, name, description] of [
  ["totem-devices-card", "TOTEM devices", "The home's devices with their traffic, alerts and access."],
  ["totem-device-card", "TOTEM device", "One device: traffic chart, alerts and network access."],
]) {
  if (!window.customCards.some((c) => c.type === type)) window.customCards.push({ type, name, description, preview: false });
}
