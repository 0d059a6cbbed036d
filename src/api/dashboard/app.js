/**
 * The node dashboard (docs/api.md): asks once for the API token, then follows the live stream
 * GET /api/v1/events (server-sent events read with fetch, since an EventSource cannot send the
 * Authorization header) and polls /api/v1/routing and /api/v1/peers every few seconds.
 * Plain browser JavaScript, no build step. Under the page's CSP every value goes in with
 * textContent (never innerHTML) and every bar is sized through the CSSOM.
 */

/** sessionStorage key of the token: it lives as long as the tab. */
const TOKEN_KEY = 'zhtp-token';
/** How often the routing table and the peers are fetched again. */
const ROUTING_REFRESH_MS = 3000;
/** Events kept in the list. */
const MAX_EVENTS = 50;
/** Rate samples kept for the sparkline (one per stats event: about a minute). */
const RATE_SAMPLES = 60;
/** Reconnection backoff of the stream: doubles from the first value up to the second. */
const BACKOFF_FIRST_MS = 1000;
const BACKOFF_MAX_MS = 15000;
/** The server sends stats every second: this long without a byte means the stream is dead. */
const STREAM_STALL_MS = 10000;

const SVG_NS = 'http://www.w3.org/2000/svg';

/** Thrown when the API answers 401: the token is wrong, ask for another. */
class Unauthorized extends Error {}

const byId = (id) => document.getElementById(id);

/** An element with an optional class and text (text only: nothing is parsed as HTML). */
function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = String(text);
  return node;
}

function setText(id, text) {
  byId(id).textContent = String(text);
}

/** Sizes a bar's fill to `fraction` (0..1); CSSOM writes are allowed by `style-src 'self'`. */
function setBar(fill, fraction) {
  const clamped = Math.min(1, Math.max(0, Number.isFinite(fraction) ? fraction : 0));
  fill.style.width = `${(clamped * 100).toFixed(1)}%`;
}

const sleep = (ms, signal) => new Promise((resolve) => {
  const timer = setTimeout(resolve, ms);
  signal.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
});

// ---------------------------------------------------------------------------------------------
// Formatting

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

function formatMs(ms) {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  if (ms >= 1000) return `${(ms / 1000).toFixed(ms >= 10000 ? 0 : 1)} s`;
  if (ms >= 10) return `${Math.round(ms)} ms`;
  if (ms === 0) return '0 ms';
  return `${ms.toFixed(ms >= 1 ? 1 : 2)} ms`;
}

function formatBytes(bytes) {
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

function formatPercent(fraction) {
  if (!Number.isFinite(fraction)) return '—';
  return `${(fraction * 100).toFixed(fraction < 0.1 && fraction > 0 ? 1 : 0)} %`;
}

function formatAgo(ms) {
  if (!Number.isFinite(ms)) return '—';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  return `${Math.floor(s / 3600)} h ago`;
}

function formatDuration(seconds) {
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

function formatRate(perSecond) {
  if (!Number.isFinite(perSecond)) return '—';
  return perSecond >= 100 ? integer.format(perSecond) : perSecond.toFixed(1);
}

function formatTime(ms) {
  return new Date(ms).toLocaleTimeString('en-GB', { hour12: false });
}

/** The first hex digits of an id: enough to tell peers apart at a glance. */
const shortId = (hex) => (typeof hex === 'string' ? `${hex.slice(0, 12)}…` : '—');

// ---------------------------------------------------------------------------------------------
// API access

let token = null;

async function api(path, signal) {
  const res = await fetch(path, { headers: { authorization: `Bearer ${token}` }, cache: 'no-store', signal });
  if (res.status === 401) throw new Unauthorized();
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
  return res.json();
}

/**
 * Splits a text/event-stream into events (the WHATWG server-sent events rules that matter here:
 * `event:` and `data:` fields, comments, lines ended by LF or CRLF, a blank line ends an event).
 * Returns a function that takes the next chunk of text.
 */
function sseParser(onEvent) {
  let partial = '';
  let name = '';
  let data = [];
  return (chunk) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop();
    for (let line of lines) {
      if (line.endsWith('\r')) line = line.slice(0, -1);
      if (line === '') {
        if (data.length > 0) onEvent(name || 'message', data.join('\n'));
        name = '';
        data = [];
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'event') name = value;
      else if (field === 'data') data.push(value);
    }
  };
}

/** Reads the live stream until it ends, fails, stalls or `signal` aborts. */
async function readStream(signal, onEvent) {
  const controller = new AbortController();
  const abort = () => controller.abort();
  signal.addEventListener('abort', abort, { once: true });
  let stallTimer = setTimeout(abort, STREAM_STALL_MS);
  try {
    const res = await fetch('/api/v1/events', { headers: { authorization: `Bearer ${token}` }, cache: 'no-store', signal: controller.signal });
    if (res.status === 401) throw new Unauthorized();
    if (!res.ok || res.body === null) throw new Error(`events: HTTP ${res.status}`);
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    const parse = sseParser(onEvent);
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      clearTimeout(stallTimer);
      stallTimer = setTimeout(abort, STREAM_STALL_MS);
      parse(value);
    }
  } finally {
    clearTimeout(stallTimer);
    signal.removeEventListener('abort', abort);
  }
}

// ---------------------------------------------------------------------------------------------
// Status and sign-in

function setStatus(state, text) {
  const status = byId('status');
  status.dataset.state = state;
  status.textContent = text;
}

function showTokenForm(message) {
  byId('dashboard').hidden = true;
  byId('sign-out').hidden = true;
  byId('token-form').hidden = false;
  const error = byId('token-error');
  error.hidden = !message;
  error.textContent = message || '';
  setStatus('idle', 'not connected');
  byId('token-input').focus();
}

/** Forgets the token and stops the session; `message` says why on the form. */
function signOut(message) {
  sessionStorage.removeItem(TOKEN_KEY);
  token = null;
  stopSession();
  showTokenForm(message);
}

function onTokenSubmit(event) {
  event.preventDefault();
  const input = byId('token-input');
  const value = input.value.trim();
  if (value === '') return;
  input.value = '';
  sessionStorage.setItem(TOKEN_KEY, value);
  startSession(value);
}

// ---------------------------------------------------------------------------------------------
// Session: the stream and the routing poll, stopped together

let session = null;

function startSession(value) {
  stopSession();
  token = value;
  const controller = new AbortController();
  session = controller;
  resetView();
  byId('token-form').hidden = true;
  byId('dashboard').hidden = false;
  byId('sign-out').hidden = false;
  void followStream(controller.signal);
  void pollRouting(controller.signal);
}

function stopSession() {
  if (session !== null) session.abort();
  session = null;
}

/** Runs on an auth failure anywhere: one place decides to ask again. */
function failed(err, signal) {
  if (signal.aborted) return true;
  if (err instanceof Unauthorized) {
    signOut('The node refused this token (401). Enter the token from its api-token file.');
    return true;
  }
  return false;
}

/** Keeps the stream open: reconnects after an error with a doubling, bounded delay. */
async function followStream(signal) {
  let backoff = BACKOFF_FIRST_MS;
  while (!signal.aborted) {
    setStatus('connecting', 'connecting…');
    try {
      await readStream(signal, (name, data) => {
        if (name === 'hello') {
          backoff = BACKOFF_FIRST_MS;
          setStatus('live', 'live');
        }
        onStreamEvent(name, data);
      });
    } catch (err) {
      if (failed(err, signal)) return;
      console.warn('dashboard: stream interrupted:', err);
    }
    if (signal.aborted) return;
    setStatus('offline', `reconnecting in ${Math.round(backoff / 1000)} s`);
    await sleep(backoff, signal);
    backoff = Math.min(BACKOFF_MAX_MS, backoff * 2);
  }
}

function onStreamEvent(name, data) {
  let body;
  try {
    body = JSON.parse(data);
  } catch {
    console.warn('dashboard: unreadable stream event', name);
    return;
  }
  if (name === 'hello') {
    renderNode(body.node);
    renderEventList(body.events);
  } else if (name === 'stats') {
    renderStats(body);
  } else if (name === 'node') {
    addEvent(body);
  }
}

async function pollRouting(signal) {
  while (!signal.aborted) {
    try {
      const [routing, peers] = await Promise.all([api('/api/v1/routing', signal), api('/api/v1/peers', signal)]);
      renderRouting(routing);
      renderPeers(peers.peers);
      byId('routing-error').hidden = true;
    } catch (err) {
      if (failed(err, signal)) return;
      const error = byId('routing-error');
      error.hidden = false;
      error.textContent = `Could not refresh: ${err.message}`;
    }
    await sleep(ROUTING_REFRESH_MS, signal);
  }
}

// ---------------------------------------------------------------------------------------------
// Rendering

/** Per-session view state: the previous stats snapshot and the rate history. */
let view = null;

function resetView() {
  view = { previous: null, sent: [], received: [], startedAt: null };
  byId('events').replaceChildren();
  byId('buckets').replaceChildren();
  byId('peers').tBodies[0].replaceChildren();
  buildSparkline();
}

function renderNode(node) {
  setText('node-id', node.id);
  const addresses = [...new Set([node.address, ...(node.addresses || [])])];
  setText('node-addresses', addresses.join('  '));
  setText('node-version', `${node.version} (protocol ${node.protocolVersion})`);
  setText('node-k', `${node.k} / ${node.replicationFactor}`);
  view.startedAt = Date.parse(node.startedAt);
}

function renderStats(s) {
  setText('stat-routing-size', s.routingTableSize);
  setText('stat-total-nodes', s.totalNodes);
  setText('stat-connections', s.totalConnections);
  setText('stat-health', formatPercent(s.networkHealth));
  // Plain integers: the value is the text (tests and scrapers read it).
  setText('stat-messages-sent', s.totalMessagesSent);
  setText('stat-messages-received', s.totalMessagesReceived);
  setText('stat-bytes-out', `${formatBytes(s.messages.bytesOut)} out`);
  setText('stat-bytes-in', `${formatBytes(s.messages.bytesIn)} in`);
  if (Number.isFinite(view.startedAt)) setText('node-uptime', formatDuration((s.at - view.startedAt) / 1000));
  renderRates(s);
  renderLookups(s.lookups);
  renderStorage(s);
  renderPool(s.pool);
  renderEventLoop(s.eventLoop);
}

function renderRates(s) {
  const previous = view.previous;
  view.previous = s;
  if (previous === null || s.at <= previous.at) return;
  const seconds = (s.at - previous.at) / 1000;
  // A counter that went down (a restarted node behind the same API) counts as no traffic.
  const sent = Math.max(0, s.totalMessagesSent - previous.totalMessagesSent) / seconds;
  const received = Math.max(0, s.totalMessagesReceived - previous.totalMessagesReceived) / seconds;
  pushBounded(view.sent, sent, RATE_SAMPLES);
  pushBounded(view.received, received, RATE_SAMPLES);
  setText('rate-sent', formatRate(sent));
  setText('rate-received', formatRate(received));
  drawSparkline();
}

function pushBounded(list, value, max) {
  list.push(value);
  if (list.length > max) list.shift();
}

function renderLookups(l) {
  const none = l.count === 0;
  setText('lookup-p50', none ? '—' : formatMs(l.p50Ms));
  // A null p99 with lookups counted lies above the histogram's last bound (30 s).
  setText('lookup-p99', none ? '—' : l.p99Ms === null ? '> 30 s' : formatMs(l.p99Ms));
  setText('lookup-mean', none ? '—' : formatMs(l.meanMs));
  setText('lookup-count', l.count);
}

function renderStorage(s) {
  setBar(byId('storage-bar'), s.storageUtilization);
  setText('storage-percent', formatPercent(s.storageUtilization));
  setText('storage-records', s.storage === null ? 'none (ephemeral)' : s.storage.records);
  setText('storage-bytes', s.storage === null ? '—' : formatBytes(s.storage.bytes));
  setText('storage-cap', s.storage === null ? '—' : formatBytes(s.storage.capBytes));
}

function renderPool(p) {
  setBar(byId('pool-bar'), p.utilization);
  setText('pool-utilization', formatPercent(p.utilization));
  setText('pool-queue', p.queueSize);
  setText('pool-threads', p.threads);
  setText('pool-completed', p.completed);
  setText('pool-p50', formatMs(p.runTimeP50));
  setText('pool-p99', formatMs(p.runTimeP99));
}

function renderEventLoop(e) {
  setText('loop-p50', formatMs(e.p50));
  setText('loop-p99', formatMs(e.p99));
  setText('loop-max', formatMs(e.max));
  setText('loop-mean', formatMs(e.mean));
}

// The sparkline: an SVG in a fixed coordinate box stretched to the card's width.
const CHART_WIDTH = 600;
const CHART_HEIGHT = 80;

function svg(tag, attributes) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  return node;
}

function buildSparkline() {
  const chart = svg('svg', { viewBox: `0 0 ${CHART_WIDTH} ${CHART_HEIGHT}`, preserveAspectRatio: 'none', role: 'img', 'aria-label': 'messages per second' });
  for (const y of [0.5, CHART_HEIGHT / 2, CHART_HEIGHT - 0.5]) {
    chart.append(svg('line', { x1: 0, x2: CHART_WIDTH, y1: y, y2: y, class: 'grid', 'vector-effect': 'non-scaling-stroke' }));
  }
  chart.append(svg('polygon', { id: 'spark-sent-area', class: 'area-sent', points: '' }));
  chart.append(svg('polyline', { id: 'spark-received', class: 'line-received', points: '', 'vector-effect': 'non-scaling-stroke' }));
  chart.append(svg('polyline', { id: 'spark-sent', class: 'line-sent', points: '', 'vector-effect': 'non-scaling-stroke' }));
  byId('rate-chart').replaceChildren(chart);
  setText('rate-sent', '—');
  setText('rate-received', '—');
  setText('rate-peak', '');
}

function drawSparkline() {
  const peak = Math.max(1, ...view.sent, ...view.received);
  // Newest sample at the right edge; the line grows leftwards as samples arrive.
  const x = (i, length) => CHART_WIDTH - (length - 1 - i) * (CHART_WIDTH / (RATE_SAMPLES - 1));
  const points = (values) => values.map((v, i) => {
    const y = CHART_HEIGHT - 2 - (v / peak) * (CHART_HEIGHT - 4);
    return `${x(i, values.length).toFixed(1)},${y.toFixed(1)}`;
  }).join(' ');
  const sent = points(view.sent);
  byId('spark-sent').setAttribute('points', sent);
  byId('spark-received').setAttribute('points', points(view.received));
  // The area under the sent line: the line closed along the bottom edge.
  const left = x(0, view.sent.length).toFixed(1);
  byId('spark-sent-area').setAttribute('points', `${left},${CHART_HEIGHT} ${sent} ${CHART_WIDTH},${CHART_HEIGHT}`);
  setText('rate-peak', `scale 0–${formatRate(peak)}/s`);
}

function renderRouting(r) {
  setText('routing-summary', `${r.size} contacts in ${r.buckets.length} buckets, k = ${r.k}`);
  const rows = [...r.buckets].sort((a, b) => b.index - a.index).map((b) => bucketRow(b, r.k));
  byId('buckets').replaceChildren(...rows);
}

function bucketRow(b, k) {
  const row = el('div', 'bucket');
  row.dataset.index = String(b.index);
  row.dataset.size = String(b.size);
  if (b.size >= k) row.classList.add('full');
  const bar = el('div', 'bar');
  const fill = el('div', 'bar-fill');
  setBar(fill, b.size / k);
  bar.append(fill);
  row.append(
    el('span', 'bucket-index', `#${b.index}`),
    bar,
    el('span', 'bucket-size', `${b.size} / ${k}`),
    el('span', 'bucket-repl muted', b.replacements > 0 ? `+${b.replacements} waiting` : ''),
    el('span', 'bucket-changed muted', `changed ${formatAgo(b.lastChangedMsAgo)}`),
  );
  return row;
}

function renderPeers(peers) {
  // Closest buckets first, then the most recently seen.
  const sorted = [...peers].sort((a, b) => b.bucket - a.bucket || a.lastSeenMsAgo - b.lastSeenMsAgo);
  const bad = sorted.filter((p) => p.reputation.bad).length;
  setText('peers-summary', `${sorted.length}${bad > 0 ? `, ${bad} with bad reputation` : ''}`);
  byId('peers').tBodies[0].replaceChildren(...sorted.map(peerRow));
}

function peerRow(p) {
  const row = el('tr');
  if (p.reputation.bad) row.classList.add('bad');
  const id = el('td', 'mono', shortId(p.id));
  id.title = p.id;
  row.append(
    id,
    el('td', 'mono', p.address),
    el('td', 'num', p.bucket),
    el('td', 'num', formatAgo(p.lastSeenMsAgo)),
    el('td', `num${p.failures > 0 ? ' warn' : ''}`, p.failures),
    el('td', '', p.inbound ? 'inbound' : 'outbound'),
    reputationCell(p.reputation),
  );
  return row;
}

function reputationCell(rep) {
  // The flex layout goes on an inner box: a flex <td> would leave the table's row layout.
  const box = el('div', 'reputation');
  const bar = el('div', 'bar small-bar');
  const fill = el('div', 'bar-fill');
  setBar(fill, rep.score);
  bar.append(fill);
  box.append(bar, el('span', 'rep-score', rep.score.toFixed(2)));
  if (rep.bad) box.append(el('span', 'badge badge-bad', 'bad'));
  const cell = el('td');
  cell.append(box);
  return cell;
}

/** Replaces the list with `events` (oldest first, as the API sends them), newest on top. */
function renderEventList(events) {
  const latest = events.slice(-MAX_EVENTS).reverse();
  byId('events').replaceChildren(...latest.map(eventItem));
}

function addEvent(e) {
  const list = byId('events');
  list.prepend(eventItem(e));
  while (list.children.length > MAX_EVENTS) list.lastElementChild.remove();
}

function eventItem(e) {
  const item = el('li', `event${e.ok === false ? ' failed' : ''}`);
  item.dataset.type = e.type;
  item.append(el('time', 'event-time', formatTime(e.at)), el('span', `badge badge-${e.type}`, e.type), el('span', 'event-text', describe(e)));
  return item;
}

function describe(e) {
  switch (e.type) {
    case 'lookup':
      return `${e.kind === 'value' ? 'FIND_VALUE' : 'FIND_NODE'} ${e.ok ? 'done' : 'failed'} in ${formatMs(e.ms)}, ${e.hops} hops`;
    case 'peer':
      return `${e.change} ${shortId(e.id)} ${e.address}${e.reason ? ` (${e.reason})` : ''}`;
    case 'put':
    case 'get': {
      const key = e.key === null ? '' : `${shortId(e.key)} `;
      if (!e.ok) return `${key}failed: ${e.error || 'error'} after ${formatMs(e.ms)}`;
      return `${key}${formatBytes(e.bytes)} in ${formatMs(e.ms)}`;
    }
    default:
      return JSON.stringify(e);
  }
}

// ---------------------------------------------------------------------------------------------
// Start

byId('token-form').addEventListener('submit', onTokenSubmit);
byId('sign-out').addEventListener('click', () => signOut(''));
const saved = sessionStorage.getItem(TOKEN_KEY);
if (saved) startSession(saved);
else showTokenForm('');
