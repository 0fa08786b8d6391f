// Shared styles: Home Assistant's CSS variables only, so light, dark and custom themes apply.
import { css } from "lit";

export const shared = css`
  :host {
    color: var(--primary-text-color);
    font-family: var(--paper-font-body1_-_font-family, var(--ha-font-family-body, Roboto, sans-serif));
  }
  ha-card {
    display: block;
    background: var(--ha-card-background, var(--card-background-color, #fff));
    border-radius: var(--ha-card-border-radius, 12px);
    border: var(--ha-card-border-width, 1px) solid var(--ha-card-border-color, var(--divider-color, #e0e0e0));
    box-shadow: var(--ha-card-box-shadow, none);
    color: var(--primary-text-color);
  }
  .muted { color: var(--secondary-text-color); }
  .chip {
    display: inline-block;
    padding: 1px 8px;
    border-radius: 10px;
    font-size: 12px;
    line-height: 18px;
    background: var(--secondary-background-color);
    color: var(--primary-text-color);
    white-space: nowrap;
  }
  .chip.warn { background: var(--warning-color, #ffa600); color: var(--text-primary-color, #fff); }
  .chip.bad { background: var(--error-color, #db4437); color: var(--text-primary-color, #fff); }
  .chip.ok { background: var(--success-color, #43a047); color: var(--text-primary-color, #fff); }
  .dot { display: inline-block; width: 8px; height: 8px; border-radius: 50%; margin-right: 6px; background: var(--disabled-text-color, #bdbdbd); }
  .dot.on { background: var(--success-color, #43a047); }
  button.btn {
    font: inherit;
    cursor: pointer;
    border: 1px solid var(--primary-color);
    color: var(--primary-color);
    background: transparent;
    border-radius: 18px;
    padding: 4px 14px;
  }
  button.btn.primary { background: var(--primary-color); color: var(--text-primary-color, #fff); }
  button.btn.danger { border-color: var(--error-color, #db4437); background: var(--error-color, #db4437); color: var(--text-primary-color, #fff); }
  button.btn:disabled { opacity: 0.5; cursor: default; }
  input, select {
    font: inherit;
    color: var(--primary-text-color);
    background: var(--input-fill-color, var(--secondary-background-color));
    border: 1px solid var(--input-idle-line-color, var(--divider-color));
    border-radius: 6px;
    padding: 5px 8px;
  }
  svg.spark polyline, svg.spark line { fill: none; stroke: var(--primary-color); stroke-width: 1.5; }
  svg.chart { width: 100%; height: auto; display: block; }
  svg.chart .grid { stroke: var(--divider-color); stroke-width: 1; }
  svg.chart .axis { fill: var(--secondary-text-color); font-size: 11px; }
  svg.chart .tx { fill: none; stroke: var(--primary-color); stroke-width: 2; }
  svg.chart .rx { fill: none; stroke: var(--accent-color, #ff9800); stroke-width: 2; }
  svg.chart .tx-area { fill: var(--primary-color); opacity: 0.12; }
  svg.chart .rx-area { fill: var(--accent-color, #ff9800); opacity: 0.12; }
  .legend-tx { color: var(--primary-color); }
  .legend-rx { color: var(--accent-color, #ff9800); }
`;
