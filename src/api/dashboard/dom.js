/** DOM and formatting helpers of the dashboard: text only (never HTML), bars sized through the CSSOM. */

export const byId = (id) => document.getElementById(id);

/** An element with an optional class and text (text only: nothing is parsed as HTML). */
export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = String(text);
  return node;
}

export function setText(id, text) {
  byId(id).textContent = String(text);
}

/** Sizes a bar's fill to `fraction` (0..1); CSSOM writes are allowed by `style-src 'self'`. */
export function setBar(fill, fraction) {
  const clamped = Math.min(1, Math.max(0, Number.isFinite(fraction) ? fraction : 0));
  fill.style.width = `${(clamped * 100).toFixed(1)}%`;
}

export const sleep = (ms, signal) => new Promise((resolve) => {
  const timer = setTimeout(resolve, ms);
  signal.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
});

// ---------------------------------------------------------------------------------------------
// Formatting

export const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

export function formatMs(ms) {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  if (ms >= 1000) return `${(ms / 1000).toFixed(ms >= 10000 ? 0 : 1)} s`;
  if (ms >= 10) return `${Math.round(ms)} ms`;
  if (ms === 0) return '0 ms';
  return `${ms.toFixed(ms >= 1 ? 1 : 2)} ms`;
}

export function formatBytes(bytes) {
  if (!Number.isFinite(bytes)) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(value >= 100 ? 0 : 1)} ${units[unit]}`;
}

export function formatPercent(fraction) {
  if (!Number.isFinite(fraction)) return '—';
  return `${(fraction * 100).toFixed(fraction < 0.1 && fraction > 0 ? 1 : 0)} %`;
}

export function formatAgo(ms) {
  if (!Number.isFinite(ms)) return '—';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  return `${Math.floor(s / 3600)} h ago`;
}

export function formatDuration(seconds) {
  if (!Number.isFinite(seconds) || seconds < 0) return '—';
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = Math.floor(seconds % 60);
  if (d > 0) return `${d} d ${h} h`;
  if (h > 0) return `${h} h ${m} min`;
  if (m > 0) return `${m} min ${s} s`;
  return `${s} s`;
}

export function formatRate(perSecond) {
  if (!Number.isFinite(perSecond)) return '—';
  return perSecond >= 100 ? integer.format(perSecond) : perSecond.toFixed(1);
}

export function formatTime(ms) {
  return new Date(ms).toLocaleTimeString('en-GB', { hour12: false });
}

/** The first hex digits of an id: enough to tell peers apart at a glance. */
export const shortId = (hex) => (typeof hex === 'string' ? `${hex.slice(0, 12)}…` : '—');
