// The "Network" sidebar panel: the device table, a device's page and the alerts view.
import { LitElement, html, css } from "lit";
import { subscribeDevices } from "./store.js";
import { shared } from "./styles.js";
import "./devices-table.js";
import "./device-view.js";
import "./alerts-view.js";

export class TotemPanel extends LitElement {
  static properties = {
    hass: { attribute: false },
    narrow: { type: Boolean, reflect: true },
    route: { attribute: false },
    panel: { attribute: false },
    _table: { state: true },
    _tab: { state: true },
    _selected: { state: true },
    _filters: { state: true },
  };

  constructor() {
    super();
    this._tab = "devices";
    this._filters = {};
  }

  connectedCallback() {
    super.connectedCallback();
    this._readHash();
    this._onHash = () => this._readHash();
    window.addEventListener("hashchange", this._onHash);
  }

  disconnectedCallback() {
    super.disconnectedCallback();
    window.removeEventListener("hashchange", this._onHash);
    if (this._unsub) this._unsub();
    this._unsub = undefined;
  }

  updated(changed) {
    if (changed.has("hass") && this.hass && !this._unsub) {
      this._unsub = subscribeDevices(this.hass, (table) => {
        this._table = table;
        window.__totemPanelUpdates = (window.__totemPanelUpdates || 0) + 1;
      });
    }
  }

  // The page lives in the URL hash (#device/<entry>/<mac>, #alerts) so Back works.
  _readHash() {
    const [tab, entry, mac] = window.location.hash.replace(/^#/, "").split("/");
    if (tab === "device" && entry && mac) {
      this._tab = "device";
      this._selected = { entry_id: entry, mac: decodeURIComponent(mac) };
    } else {
      this._tab = tab === "alerts" ? "alerts" : "devices";
      this._selected = undefined;
    }
  }

  _go(hash) {
    window.location.hash = hash;
  }

  render() {
    const t = this._table;
    const s = t && t.summary;
    return html`
      <div class="toolbar">
        <ha-menu-button .hass=${this.hass} .narrow=${this.narrow}></ha-menu-button>
        <div class="main-title">Network</div>
        <nav>
          <button class="tab ${this._tab === "devices" ? "on" : ""}" @click=${() => this._go("devices")}>Devices</button>
          <button class="tab ${this._tab === "alerts" ? "on" : ""}" @click=${() => this._go("alerts")}>Alerts${s && s.open_alerts ? html` <span class="badge">${s.open_alerts}</span>` : ""}</button>
        </nav>
      </div>
      <div class="content">
        ${!t
          ? html`<p class="muted">Connecting…</p>`
          : !t.entries.length
            ? html`<ha-card><p class="pad">No TOTEM entry is loaded. Add TOTEM under Settings → Devices &amp; services.</p></ha-card>`
            : this._page(t)}
      </div>`;
  }

  _page(t) {
    if (this._tab === "device" && this._selected) {
      return html`<button class="btn back" @click=${() => this._go("devices")}>← All devices</button>
        <totem-device-view .hass=${this.hass} .entryId=${this._selected.entry_id} .mac=${this._selected.mac}
          .refresh=${t} ?narrow=${this.narrow}></totem-device-view>`;
    }
    if (this._tab === "alerts") {
      return html`<totem-alerts-view .hass=${this.hass} .refresh=${t} @device-selected=${this._select}></totem-alerts-view>`;
    }
    const s = t.summary;
    return html`
      <div class="summary" id="summary">
        <b>${s.online}</b> of ${s.devices} devices online · <b>${s.new_this_week}</b> new this week ·
        <b>${s.open_alerts}</b> open alerts${s.blocked ? html` · <b>${s.blocked}</b> blocked` : ""}${s.waiting ? html` · <b>${s.waiting}</b> waiting for approval` : ""}
        <span class="muted"> · ${t.entries.map((e) => e.title).join(", ")}</span>
      </div>
      <ha-card>
        <totem-devices-table .devices=${t.devices} .filters=${this._filters} ?narrow=${this.narrow}
          @filters-changed=${(e) => (this._filters = e.detail)} @device-selected=${this._select}></totem-devices-table>
      </ha-card>`;
  }

  _select = (e) => {
    const d = e.detail;
    if (d && d.mac) this._go(`device/${d.entry_id}/${encodeURIComponent(d.mac)}`);
  };

  static styles = [
    shared,
    css`
      :host { display: block; min-height: 100vh; background: var(--primary-background-color); }
      .toolbar { display: flex; align-items: center; height: var(--header-height, 56px); padding: 0 12px; gap: 8px;
        background: var(--app-header-background-color, var(--primary-color)); color: var(--app-header-text-color, var(--text-primary-color, #fff));
        border-bottom: var(--app-header-border-bottom, none); position: sticky; top: 0; z-index: 2; }
      .main-title { font-size: 20px; flex: 1; }
      nav { display: flex; gap: 4px; }
      .tab { font: inherit; background: transparent; border: 0; color: inherit; padding: 8px 12px; cursor: pointer; border-bottom: 2px solid transparent; opacity: 0.8; }
      .tab.on { border-bottom-color: currentColor; opacity: 1; }
      .badge { background: var(--error-color, #db4437); color: #fff; border-radius: 9px; padding: 0 6px; font-size: 12px; }
      .content { padding: 16px; max-width: 1400px; margin: 0 auto; }
      :host([narrow]) .content { padding: 8px; }
      .summary { margin: 0 4px 12px; }
      .back { margin-bottom: 12px; }
      .pad { padding: 16px; }
    `,
  ];
}
customElements.get("totem-panel") || customElements.define("totem-panel", TotemPanel);
