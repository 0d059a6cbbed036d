/** The dashboard's views: every value goes in with textContent, every bar through the CSSOM. */

import { byId, el, setText, setBar, formatMs, formatBytes, formatPercent, formatAgo, formatDuration, formatRate, formatTime, shortId } from './dom.js';

/** Events kept in the list. */
const MAX_EVENTS = 50;
/** Rate samples kept for the sparkline (one per stats event: about a minute). */
const RATE_SAMPLES = 60;
const SVG_NS = 'http://www.w3.org/2000/svg';

/** Per-session view state: the previous stats snapshot and the rate history. */
let view = null;

export function resetView() {
  view = { previous: null, sent: [], received: [], startedAt: null };
  byId('events').replaceChildren();
  byId('buckets').replaceChildren();
  byId('peers').tBodies[0].replaceChildren();
  buildSparkline();
}

export function renderNode(node) {
  setText('node-id', node.id);
  const addresses = [...new Set([node.address, ...(node.addresses || [])])];
  setText('node-addresses', addresses.join('  '));
  setText('node-version', `${node.version} (protocol ${node.protocolVersion})`);
  setText('node-k', `${node.k} / ${node.replicationFactor}`);
  view.startedAt = Date.parse(node.startedAt);
}

export function renderStats(s) {
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

export function renderRates(s) {
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

export function pushBounded(list, value, max) {
  list.push(value);
  if (list.length > max) list.shift();
}

export function renderLookups(l) {
  const none = l.count === 0;
  setText('lookup-p50', none ? '—' : formatMs(l.p50Ms));
  // A null p99 with lookups counted lies above the histogram's last bound (30 s).
  setText('lookup-p99', none ? '—' : l.p99Ms === null ? '> 30 s' : formatMs(l.p99Ms));
  setText('lookup-mean', none ? '—' : formatMs(l.meanMs));
  setText('lookup-count', l.count);
}

export function renderStorage(s) {
  setBar(byId('storage-bar'), s.storageUtilization);
  setText('storage-percent', formatPercent(s.storageUtilization));
  setText('storage-records', s.storage === null ? 'none (ephemeral)' : s.storage.records);
  setText('storage-bytes', s.storage === null ? '—' : formatBytes(s.storage.bytes));
  setText('storage-cap', s.storage === null ? '—' : formatBytes(s.storage.capBytes));
}

export function renderPool(p) {
  setBar(byId('pool-bar'), p.utilization);
  setText('pool-utilization', formatPercent(p.utilization));
  setText('pool-queue', p.queueSize);
  setText('pool-threads', p.threads);
  setText('pool-completed', p.completed);
  setText('pool-p50', formatMs(p.runTimeP50));
  setText('pool-p99', formatMs(p.runTimeP99));
}

export function renderEventLoop(e) {
  setText('loop-p50', formatMs(e.p50));
  setText('loop-p99', formatMs(e.p99));
  setText('loop-max', formatMs(e.max));
  setText('loop-mean', formatMs(e.mean));
}

// The sparkline: an SVG in a fixed coordinate box stretched to the card's width.
export const CHART_WIDTH = 600;
export const CHART_HEIGHT = 80;

export function svg(tag, attributes) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  return node;
}

export function buildSparkline() {
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

export function drawSparkline() {
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

export function renderRouting(r) {
  setText('routing-summary', `${r.size} contacts in ${r.buckets.length} buckets, k = ${r.k}`);
  const rows = [...r.buckets].sort((a, b) => b.index - a.index).map((b) => bucketRow(b, r.k));
  byId('buckets').replaceChildren(...rows);
}

export function bucketRow(b, k) {
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

export function renderPeers(peers) {
  // Closest buckets first, then the most recently seen.
  const sorted = [...peers].sort((a, b) => b.bucket - a.bucket || a.lastSeenMsAgo - b.lastSeenMsAgo);
  const bad = sorted.filter((p) => p.reputation.bad).length;
  setText('peers-summary', `${sorted.length}${bad > 0 ? `, ${bad} with bad reputation` : ''}`);
  byId('peers').tBodies[0].replaceChildren(...sorted.map(peerRow));
}

export function peerRow(p) {
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

export function reputationCell(rep) {
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
export function renderEventList(events) {
  const latest = events.slice(-MAX_EVENTS).reverse();
  byId('events').replaceChildren(...latest.map(eventItem));
}

export function addEvent(e) {
  const list = byId('events');
  list.prepend(eventItem(e));
  while (list.children.length > MAX_EVENTS) list.lastElementChild.remove();
}

export function eventItem(e) {
  const item = el('li', `event${e.ok === false ? ' failed' : ''}`);
  item.dataset.type = e.type;
  item.append(el('time', 'event-time', formatTime(e.at)), el('span', `badge badge-${e.type}`, e.type), el('span', 'event-text', describe(e)));
  return item;
}

export function describe(e) {
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
