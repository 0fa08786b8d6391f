// One device's page: traffic over hours and days, protocols and destinations, how TOTEM
// identified it, its alerts (snooze, reset the baseline, acknowledge) and its network
// access (block for a chosen time, after a confirmation), whom it talks to (its
// busiest conversations and peers, from the engine's snapshot) and its activity log
// (Home Assistant's logbook for its entities, its linked entities and TOTEM's events).
import { LitElement, html, css } from "lit";
import { bytes, ago, clock, duration, TYPE_ICONS, typeLabel, kindLabel, SEVERITY_COLOR } from "./format.js";
import { dense, trafficChart } from "./charts.js";
import { shared } from "./styles.js";

export const BLOCK_CHOICES = [
  [3600, "1 hour"],
  [8 * 3600, "8 hours"],
  [86400, "1 day"],
  [7 * 86400, "1 week"],
  [0, "until unblocked"],
];
const LOG_SHOWN = 50;
const SNOOZE_CHOICES = [3600, 8 * 3600, 86400, 7 * 86400];
const RANGES = {
  hour: { span: 3600, width: 60, label: "1 hour" },
  hours: { span: 6 * 3600, width: 300, label: "6 hours" },
  days: { span: 7 * 86400, width: 3600, label: "7 days" },
};

export class TotemDeviceView extends LitElement {
  static properties = {
    hass: { attribute: false },
    entryId: { attribute: "entry-id" },
    mac: {},
    refresh: { attribute: false },
    narrow: { type: Boolean, reflect: true },
    compact: { type: Boolean, reflect: true },
    _data: { state: true },
    _error: { state: true },
    _range: { state: true },
    _confirm: { state: true },
    _busy: { state: true },
    _blockFor: { state: true },
    _snoozeFor: { state: true },
    _log: { state: true },
  };

  constructor() {
    super();
    this._range = "hour";
    this._blockFor = 3600;
    this._snoozeFor = 86400;
  }

  updated(changed) {
    if ((changed.has("mac") || changed.has("entryId") || changed.has("refresh")) && this.hass && this.mac) this._load();
    if (changed.has("hass") && !changed.get("hass") && this.hass && this.mac && !this._data) this._load();
  }

  async _load() {
    try {
      const res = await this.hass.callWS({ type: "totem/device/get", entry_id: this.entryId, mac: this.mac });
      this._data = res;
      this._error = undefined;
      if (!this.compact) this._loadLog(res.device);
    } catch (err) {
      this._error = err.message || String(err);
    }
  }

  // The last day of the logbook: the device's entities and TOTEM's events (they carry its
  // device id) and the entities the activity log links to it.
  async _loadLog(d) {
    if (!d.device_id && !(d.linked_entities || []).length) return (this._log = { entries: [] });
    const now = new Date();
    const query = { type: "logbook/get_events", start_time: new Date(now - 86400e3).toISOString(), end_time: now.toISOString() };
    if (d.device_id) query.device_ids = [d.device_id];
    if ((d.linked_entities || []).length) query.entity_ids = d.linked_entities;
    try {
      const entries = await this.hass.callWS(query);
      this._log = { entries: entries.slice(-LOG_SHOWN).reverse() };
    } catch (err) {
      this._log = { error: err.message || String(err) };
    }
  }

  async _command(type, extra = {}) {
    this._busy = true;
    try {
      const res = await this.hass.callWS({ type, entry_id: this.entryId, mac: this.mac, ...extra });
      this._error = undefined;
      if (res && res.device) this._data = { ...this._data, device: res.device };
      // Forgotten (totem/device/approve, decision forget): the page has no device left.
      else if (res && "device" in res) [this._data, this._error] = [undefined, "TOTEM forgot this device; if it comes back, it waits for approval again."];
    } catch (err) {
      this._error = err.message || String(err);
    } finally {
      this._busy = false;
      this._confirm = undefined;
    }
  }

  _askBlock() {
    const d = this._data.device;
    const label = BLOCK_CHOICES.find(([s]) => s === this._blockFor)[1];
    this._confirm = {
      title: `Block ${d.name}?`,
      text: `${d.name} loses its network access for ${label}. Other devices keep theirs.`,
      action: "Block",
      run: () => this._command("totem/device/block", this._blockFor ? { duration: this._blockFor } : {}),
    };
  }

  _askUnblock() {
    const d = this._data.device;
    this._confirm = {
      title: `Unblock ${d.name}?`,
      text: `${d.name} gets its network access back now.`,
      action: "Unblock",
      run: () => this._command("totem/device/unblock"),
    };
  }

  _setType(value) {
    if (value) this._command("totem/device/set_type", { device_type: value });
  }

  _askDecide(decision) {
    const d = this._data.device;
    const texts = {
      approve: [`Approve ${d.name}?`, `${d.name} gets full network access, like every other device.`, "Approve"],
      keep_blocked: [`Keep ${d.name} blocked?`, `${d.name} stays cut off until you unblock it.`, "Keep blocked"],
      forget: [`Forget ${d.name}?`, `TOTEM forgets ${d.name}; if it comes back, it waits for approval again.`, "Forget"],
    };
    const [title, text, action] = texts[decision];
    this._confirm = { title, text, action, run: () => this._command("totem/device/approve", { decision }) };
  }

  _approval(d) {
    if (!d.pending_approval) return "";
    return html`<p><span class="chip bad">waiting for approval</span> <span class="muted">joined after the first inventory; only DHCP and DNS pass</span></p>
      <div class="row">
        <button class="btn primary" id="approve" ?disabled=${this._busy} @click=${() => this._askDecide("approve")}>Approve</button>
        <button class="btn danger" id="keep-blocked" ?disabled=${this._busy} @click=${() => this._askDecide("keep_blocked")}>Keep blocked</button>
        <button class="btn" id="forget" ?disabled=${this._busy} @click=${() => this._askDecide("forget")}>Forget</button>
      </div>`;
  }

  _typeChoice(d) {
    const types = this._data.device_types || [];
    const user = d.type_source === "user";
    return html`<div class="row">
      <select aria-label="device type" id="type" ?disabled=${this._busy} @change=${(e) => this._setType(e.target.value)}>
        <option value="automatic" ?selected=${!user}>Automatic${user ? "" : ` (${typeLabel(d.type)})`}</option>
        ${types.map((t) => html`<option value=${t} ?selected=${user && d.type === t}>${typeLabel(t)}</option>`)}
      </select>
      <span class="muted small">${user ? "set by you" : "from identification"}</span></div>`;
  }

  _askReset() {
    const d = this._data.device;
    this._confirm = {
      title: `Forget what is normal for ${d.name}?`,
      text: "TOTEM learns this device's normal behaviour again from now on; meanwhile it raises fewer alerts for it.",
      action: "Reset baseline",
      run: () => this._command("totem/device/reset_baseline"),
    };
  }

  async _ack(alert) {
    try {
      await this.hass.callWS({ type: "totem/alerts/acknowledge", entry_id: alert.entry_id, mac: alert.mac, kind: alert.kind, time: alert.time });
      this._load();
    } catch (err) {
      this._error = err.message || String(err);
    }
  }

  _chart(d) {
    const r = RANGES[this._range];
    const now = Date.now() / 1000;
    const start = Math.floor((now - r.span) / r.width) * r.width;
    const buckets = this._range === "days" ? d.hours : d.minutes;
    const series = dense(buckets, start, now, r.width);
    const total = series.tx.reduce((a, b) => a + b, 0) + series.rx.reduce((a, b) => a + b, 0);
    return html`
      <div class="head"><h3>Traffic</h3>
        <div class="seg">${Object.entries(RANGES).map(([k, v]) => html`<button class="btn ${this._range === k ? "primary" : ""}" @click=${() => (this._range = k)}>${v.label}</button>`)}</div>
      </div>
      ${trafficChart(series, start, r.width, bytes, 640, 180)}
      <div class="muted small"><span class="legend-tx">■ sent</span> <span class="legend-rx">■ received</span> · ${bytes(total)} in ${r.label} · per ${duration(r.width)}</div>`;
  }

  _access(d, entry) {
    const waiting = this._approval(d);
    if (waiting) return waiting;
    if (!entry.enforcing) {
      return html`<p class="muted">Blocking is off for ${entry.title}: choose a blocking method in TOTEM's options to cut a device off.</p>`;
    }
    if (d.blocked) {
      return html`<p><span class="chip bad">blocked</span> ${d.blocked_until ? html`until ${clock(d.blocked_until)}` : "until unblocked"}</p>
        <button class="btn primary" id="unblock" ?disabled=${this._busy} @click=${this._askUnblock}>Unblock</button>`;
    }
    return html`<p><span class="chip ok">allowed</span> <span class="muted">via ${entry.backend}</span></p>
      <div class="row">
        <select aria-label="block for" @change=${(e) => (this._blockFor = Number(e.target.value))}>
          ${BLOCK_CHOICES.map(([s, l]) => html`<option value=${s} ?selected=${s === this._blockFor}>${l}</option>`)}
        </select>
        <button class="btn danger" id="block" ?disabled=${this._busy} @click=${this._askBlock}>Block</button>
      </div>`;
  }

  _alerts(d) {
    const alerts = d.alerts || [];
    return html`
      <div class="head"><h3>Alerts</h3>
        <div class="row">
          <select aria-label="snooze for" @change=${(e) => (this._snoozeFor = Number(e.target.value))}>
            ${SNOOZE_CHOICES.map((s) => html`<option value=${s} ?selected=${s === this._snoozeFor}>${duration(s)}</option>`)}
          </select>
          <button class="btn" ?disabled=${this._busy} @click=${() => this._command("totem/device/snooze", { duration: this._snoozeFor })}>Snooze all</button>
          <button class="btn" ?disabled=${this._busy} @click=${this._askReset}>Reset baseline</button>
        </div>
      </div>
      ${alerts.length
        ? html`<ol class="timeline">${alerts.map((a) => html`<li class=${a.acknowledged ? "acked" : ""}>
            <span class="sev" style="background:${SEVERITY_COLOR[a.severity] || SEVERITY_COLOR.info}"></span>
            <div class="what"><b>${kindLabel(a.kind)}</b> <span class="muted">${clock(a.seen ?? a.time)}${a.count > 1 ? ` · ×${a.count}` : ""}</span><br />${a.message}</div>
            <div class="acts">
              <button class="btn" title="no more ${kindLabel(a.kind)} alerts for ${duration(this._snoozeFor)}" ?disabled=${this._busy}
                @click=${() => this._command("totem/device/snooze", { kind: a.kind, duration: this._snoozeFor })}>Snooze</button>
              ${a.acknowledged ? html`<span class="muted">seen</span>` : html`<button class="btn" @click=${() => this._ack(a)}>Acknowledge</button>`}
            </div></li>`)}</ol>`
        : html`<p class="muted">No alert for this device.</p>`}`;
  }

  _flows(d) {
    const flows = d.flows || [];
    if (!flows.length) return html`<p class="muted">No conversation seen yet.</p>`;
    return html`<div class="scroll"><table class="flows">
      <thead><tr><th>Peer</th><th>Protocol</th><th class="num">Sent</th><th class="num">Received</th><th class="num">Packets</th><th>Last seen</th></tr></thead>
      <tbody>${flows.map((f) => html`<tr>
        <td>${f.domain ? html`<b>${f.domain}</b><br /><span class="muted small">${f.peer}</span>` : f.peer}${f.local ? html` <span class="chip">home</span>` : ""}</td>
        <td>${f.app || f.proto}<br /><span class="muted small">${f.proto} ${f.port || ""}</span></td>
        <td class="num">${bytes(f.up)}</td><td class="num">${bytes(f.down)}</td><td class="num">${f.packets}</td>
        <td>${f.live ? html`<span class="chip ok">active</span>` : ago(f.seen ?? f.last)}</td></tr>`)}</tbody></table></div>`;
  }

  _peers(d) {
    const peers = d.peers || [];
    const most = Math.max(1, ...peers.map((p) => p.up + p.down));
    return html`${peers.length
        ? peers.map((p) => html`<div class="bar peer"><span title=${p.peer}>${p.domain || p.peer}</span><div><i style="width:${(100 * (p.up + p.down)) / most}%"></i></div><span class="muted">${bytes(p.up + p.down)}</span></div>`)
        : html`<p class="muted">No address seen yet.</p>`}
      ${d.domains.length ? html`<div class="muted small">Domains asked for${d.domains.length > 8 ? ` (8 of ${d.domains.length})` : ""}:</div>
        <ul class="names small">${d.domains.slice(0, 8).map((n) => html`<li title=${n}>${n}</li>`)}</ul>` : ""}
      <div class="muted small">${d.remote_hosts} remote hosts</div>`;
  }

  _activity(d) {
    const log = this._log;
    const link = d.device_id ? html`<a class="small" href="/config/devices/device/${d.device_id}">Entities</a>` : "";
    const head = html`<div class="head"><h3>Activity (last 24 h)</h3>${link}</div>`;
    if (!log) return html`${head}<p class="muted">Loading…</p>`;
    if (log.error) return html`${head}<p class="muted">The logbook is not available: ${log.error}</p>`;
    if (!log.entries.length) return html`${head}<p class="muted">Nothing logged in the last day.</p>`;
    return html`${head}<ol class="log">${log.entries.map((e) => html`<li>
        <span class="muted small">${clock(e.when)}</span>
        <span><b>${e.name || e.entity_id || ""}</b> ${e.message || (e.state != null ? `changed to ${e.state}` : "")}</span></li>`)}</ol>`;
  }

  render() {
    if (this._error && !this._data) return html`<ha-card><div class="pad error">${this._error}</div></ha-card>`;
    if (!this._data) return html`<ha-card><div class="pad muted">Loading…</div></ha-card>`;
    const { device: d, entry } = this._data;
    const protocols = Object.entries(d.protocols || {}).sort((a, b) => b[1] - a[1]);
    const protoTotal = protocols.reduce((a, [, v]) => a + v, 0) || 1;
    const head = html`<div class="title">
        <ha-icon .icon=${TYPE_ICONS[d.type] || TYPE_ICONS.unknown}></ha-icon>
        <div><h2>${d.name}</h2>
          <div class="muted">${d.vendor || "unknown vendor"} · <span title=${d.type_source === "user" ? "set by you" : d.type_reason || ""}>${typeLabel(d.type)}</span> · ${d.ips.join(", ") || "no IP"} · ${d.mac}</div>
          <div>${d.online ? html`<span class="chip ok">online</span>` : html`<span class="chip">seen ${ago(d.last_seen)}</span>`}
            <span class="muted">↑ ${bytes(d.tx_bytes)} ↓ ${bytes(d.rx_bytes)} · ${d.active_flows} active flows · ${d.remote_hosts} remote hosts</span></div>
        </div></div>`;
    const error = this._error ? html`<div class="error pad">${this._error}</div>` : "";
    const dialog = this._confirm
      ? html`<div class="scrim" @click=${(e) => e.target === e.currentTarget && (this._confirm = undefined)}>
          <div class="dialog" role="dialog" aria-modal="true"><h3>${this._confirm.title}</h3><p>${this._confirm.text}</p>
            <div class="row end"><button class="btn" @click=${() => (this._confirm = undefined)}>Cancel</button>
            <button class="btn danger" id="confirm" ?disabled=${this._busy} @click=${() => this._confirm.run()}>${this._confirm.action}</button></div>
          </div></div>`
      : "";
    if (this.compact) {
      return html`<ha-card><div class="pad">${head}${error}${this._chart(d)}
        <div class="split"><div>${this._alerts(d)}</div><div><h3>Network access</h3>${this._access(d, entry)}</div></div></div>${dialog}</ha-card>`;
    }
    return html`
      ${error}
      <div class="grid">
        <ha-card class="wide"><div class="pad">${head}</div></ha-card>
        <ha-card class="wide"><div class="pad">${this._chart(d)}</div></ha-card>
        <ha-card><div class="pad"><h3>Network access</h3>${this._access(d, entry)}</div></ha-card>
        <ha-card><div class="pad"><h3>Identification</h3>
          <p><b>${typeLabel(d.type)}</b>: ${d.type_source === "user" ? "set by you" : d.type_reason || html`<span class="muted">no evidence yet</span>`}</p>
          ${this._typeChoice(d)}
          ${Object.entries(d.name_sources || {}).map(([k, v]) => html`<div class="muted small">${k}: ${v}</div>`)}
          <div class="muted small">Vendor (OUI): ${d.manufacturer || "unknown"} · MACs: ${d.macs.join(", ")}</div>
        </div></ha-card>
        <ha-card><div class="pad"><h3>Protocols</h3>
          ${protocols.length ? protocols.slice(0, 12).map(([p, n]) => html`<div class="bar"><span>${p}</span><div><i style="width:${(100 * n) / protoTotal}%"></i></div><span class="muted">${n}</span></div>`) : html`<p class="muted">None seen yet.</p>`}
        </div></ha-card>
        <ha-card><div class="pad"><h3>Top destinations</h3>${this._peers(d)}</div></ha-card>
        <ha-card class="wide"><div class="pad"><h3>Flows</h3>${this._flows(d)}</div></ha-card>
        <ha-card class="wide"><div class="pad">${this._alerts(d)}</div></ha-card>
        <ha-card class="wide"><div class="pad">${this._activity(d)}</div></ha-card>
      </div>${dialog}`;
  }

  static styles = [
    shared,
    css`
      :host { display: block; }
      .grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(300px, 1fr)); gap: 12px; }
      .wide { grid-column: 1 / -1; }
      .pad { padding: 12px 16px; }
      h2 { margin: 0; font-size: 20px; font-weight: 500; }
      h3 { margin: 4px 0 8px; font-size: 16px; font-weight: 500; }
      .title { display: flex; gap: 12px; align-items: flex-start; }
      .title ha-icon { --mdc-icon-size: 40px; color: var(--state-icon-color, var(--primary-color)); }
      .title > div > div { margin-top: 4px; }
      .head { display: flex; justify-content: space-between; align-items: center; flex-wrap: wrap; gap: 8px; }
      .row { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; }
      .row.end { justify-content: flex-end; }
      .seg { display: flex; gap: 4px; }
      .small { font-size: 12px; }
      .error { color: var(--error-color, #db4437); }
      .bar { display: grid; grid-template-columns: 90px 1fr 50px; gap: 8px; align-items: center; font-size: 13px; margin: 3px 0; }
      .bar div { background: var(--secondary-background-color); height: 8px; border-radius: 4px; overflow: hidden; }
      .bar i { display: block; height: 100%; background: var(--primary-color); }
      .bar.peer { grid-template-columns: minmax(90px, 40%) 1fr 64px; }
      .bar.peer span:first-child { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
      .scroll { overflow-x: auto; }
      .names { margin: 2px 0 6px; padding-left: 16px; color: var(--secondary-text-color); }
      .names li { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
      table.flows { width: 100%; border-collapse: collapse; font-size: 13px; }
      table.flows th { text-align: left; font-weight: 500; color: var(--secondary-text-color); border-bottom: 1px solid var(--divider-color); padding: 4px 6px; }
      table.flows td { padding: 5px 6px; border-bottom: 1px solid var(--divider-color); vertical-align: top; word-break: break-all; }
      table.flows .num { text-align: right; white-space: nowrap; }
      .log { list-style: none; margin: 0; padding: 0; font-size: 13px; max-height: 320px; overflow-y: auto; }
      .log li { display: grid; grid-template-columns: 110px 1fr; gap: 8px; padding: 4px 0; border-bottom: 1px solid var(--divider-color); }
      .timeline { list-style: none; margin: 0; padding: 0; }
      .timeline li { display: flex; gap: 10px; padding: 8px 0; border-bottom: 1px solid var(--divider-color); align-items: flex-start; }
      .timeline li.acked { opacity: 0.65; }
      .sev { width: 4px; align-self: stretch; border-radius: 2px; }
      .what { flex: 1; font-size: 14px; }
      .acts { display: flex; gap: 6px; align-items: center; }
      .split { display: grid; grid-template-columns: 2fr 1fr; gap: 16px; }
      .scrim { position: fixed; inset: 0; background: rgba(0, 0, 0, 0.45); display: flex; align-items: center; justify-content: center; z-index: 10; }
      .dialog { background: var(--card-background-color, #fff); color: var(--primary-text-color); border-radius: 12px; padding: 16px 20px; max-width: 420px; width: calc(100% - 48px); box-shadow: 0 8px 24px rgba(0, 0, 0, 0.3); }
      :host([narrow]) .timeline li { flex-wrap: wrap; }
      :host([narrow]) .split { grid-template-columns: 1fr; }
      :host([narrow]) .log li { grid-template-columns: 1fr; gap: 0; }
    `,
  ];
}
customElements.get("totem-device-view") || customElements.define("totem-device-view", TotemDeviceView);
