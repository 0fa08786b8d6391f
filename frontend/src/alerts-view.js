// Every alert TOTEM keeps, newest first; filter by kind, severity and device; acknowledge.
import { LitElement, html, css } from "lit";
import { clock, kindLabel, SEVERITY_COLOR } from "./format.js";
import { shared } from "./styles.js";

export class TotemAlertsView extends LitElement {
  static properties = {
    hass: { attribute: false },
    refresh: { attribute: false },
    _alerts: { state: true },
    _kind: { state: true },
    _severity: { state: true },
    _device: { state: true },
    _error: { state: true },
  };

  constructor() {
    super();
    this._kind = this._severity = this._device = "";
  }

  updated(changed) {
    if ((changed.has("refresh") || (changed.has("hass") && !this._alerts)) && this.hass) this._load();
  }

  async _load() {
    try {
      this._alerts = (await this.hass.callWS({ type: "totem/alerts/list" })).alerts;
    } catch (err) {
      this._error = err.message || String(err);
    }
  }

  async _ack(a) {
    try {
      await this.hass.callWS({ type: "totem/alerts/acknowledge", entry_id: a.entry_id, mac: a.mac, kind: a.kind, time: a.time });
      this._load();
    } catch (err) {
      this._error = err.message || String(err);
    }
  }

  render() {
    const all = this._alerts || [];
    const kinds = [...new Set(all.map((a) => a.kind))].sort();
    const devices = [...new Set(all.map((a) => a.device_name || a.mac))].sort();
    const shown = all.filter(
      (a) => (!this._kind || a.kind === this._kind) && (!this._severity || a.severity === this._severity) && (!this._device || (a.device_name || a.mac) === this._device),
    );
    return html`<ha-card>
      <div class="filters">
        <select aria-label="kind" @change=${(e) => (this._kind = e.target.value)}><option value="">All kinds</option>${kinds.map((k) => html`<option value=${k}>${kindLabel(k)}</option>`)}</select>
        <select aria-label="severity" @change=${(e) => (this._severity = e.target.value)}><option value="">All severities</option>${["critical", "warning", "info"].map((s) => html`<option value=${s}>${s}</option>`)}</select>
        <select aria-label="device" @change=${(e) => (this._device = e.target.value)}><option value="">All devices</option>${devices.map((d) => html`<option value=${d}>${d}</option>`)}</select>
        <span class="muted">${shown.length} of ${all.length}</span>
      </div>
      ${this._error ? html`<div class="error">${this._error}</div>` : ""}
      <table>
        <thead><tr><th>When</th><th>Device</th><th>Kind</th><th>Severity</th><th>What</th><th></th></tr></thead>
        <tbody>${shown.map((a) => html`<tr class=${a.acknowledged ? "acked" : ""}>
          <td class="nowrap">${clock(a.seen ?? a.time)}</td>
          <td><a href="#" @click=${(e) => { e.preventDefault(); this.dispatchEvent(new CustomEvent("device-selected", { detail: { entry_id: a.entry_id, mac: a.device }, bubbles: true, composed: true })); }}>${a.device_name || a.mac}</a></td>
          <td>${kindLabel(a.kind)}${a.count > 1 ? html` <span class="muted">×${a.count}</span>` : ""}</td>
          <td><span class="sev" style="background:${SEVERITY_COLOR[a.severity]}"></span>${a.severity}</td>
          <td>${a.message}</td>
          <td>${a.acknowledged ? html`<span class="muted">seen</span>` : html`<button class="btn" @click=${() => this._ack(a)}>Acknowledge</button>`}</td>
        </tr>`)}</tbody>
      </table>
      ${shown.length ? "" : html`<p class="muted pad">No alert${all.length ? " matches" : " yet: TOTEM is learning what is normal"}.</p>`}
    </ha-card>`;
  }

  static styles = [
    shared,
    css`
      .filters { display: flex; gap: 8px; flex-wrap: wrap; align-items: center; padding: 12px 16px; }
      table { width: 100%; border-collapse: collapse; font-size: 14px; }
      th { text-align: left; font-weight: 500; color: var(--secondary-text-color); padding: 8px; border-bottom: 1px solid var(--divider-color); }
      td { padding: 6px 8px; border-bottom: 1px solid var(--divider-color); vertical-align: top; }
      tr.acked { opacity: 0.65; }
      .nowrap { white-space: nowrap; }
      .sev { display: inline-block; width: 8px; height: 8px; border-radius: 50%; margin-right: 6px; }
      a { color: var(--primary-color); text-decoration: none; }
      .pad { padding: 16px; }
      .error { color: var(--error-color); padding: 0 16px; }
    `,
  ];
}
customElements.get("totem-alerts-view") || customElements.define("totem-alerts-view", TotemAlertsView);
