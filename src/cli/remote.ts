/**
 * The read commands over a running node's API: `stats`, `peers`, `routing` and `health`. By
 * default they print aligned, readable text; `--json` prints the API's JSON document exactly as
 * it came, for scripts. The API is read defensively: a missing field shows as '-'.
 */
import { API_VERSION } from '../api/index.js';
import { parse, UsageError } from './args.js';
import { ApiClient, apiTarget, CLIENT_OPTIONS, parseJson, readText } from './client.js';
import { envOf, type Io } from './commands.js';
import { EXIT } from './errors.js';
import { formatBytes, formatCount, formatDuration, formatPairs, formatPercent, formatTable } from './format.js';

const API = `/api/${API_VERSION}`;

type Json = Record<string, unknown>;

/** Options and client of a read command (no positional arguments). */
function setUp(name: string, argv: string[], io: Io): { client: ApiClient; json: boolean } {
  const { values, positionals } = parse(argv, CLIENT_OPTIONS);
  if (positionals.length > 0) throw new UsageError(`${name} takes no arguments, only options (see zhtp-dht help ${name})`);
  return { client: new ApiClient(apiTarget(values, envOf(io))), json: values.json === true };
}

/** Writes the API's document as it came, with one final newline. */
function printRaw(io: Io, text: string): void {
  io.out.write(text.endsWith('\n') ? text : `${text}\n`);
}

/** A number at `path` in `body`, or null. */
function num(body: Json, ...path: string[]): number | null {
  let v: unknown = body;
  for (const p of path) v = typeof v === 'object' && v !== null ? (v as Json)[p] : undefined;
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function show(n: number | null, as: (n: number) => string = formatCount): string {
  return n === null ? '-' : as(n);
}

/** `zhtp-dht stats`: who the node is and its figures (DhtStats and what the dashboard plots). */
export async function stats(argv: string[], io: Io): Promise<number> {
  const { client, json } = setUp('stats', argv, io);
  const text = await client.getText(`${API}/stats`);
  if (json) {
    printRaw(io, text);
    return EXIT.ok;
  }
  const node = parseJson(await client.getText(`${API}/node`), 'node');
  const s = parseJson(text, 'stats');
  const ms = (n: number): string => formatDuration(n);
  const storage = s.storage === null
    ? 'none (ephemeral client)'
    : `${show(num(s, 'storage', 'bytes'), formatBytes)} of ${show(num(s, 'storage', 'capBytes'), formatBytes)} (${show(num(s, 'storageUtilization'), formatPercent)}), ${show(num(s, 'storage', 'records'))} records`;
  io.out.write(formatPairs([
    ['id', String(node.id ?? '-')],
    ['address', String(node.address ?? '-')],
    ['version', `${String(node.version ?? '-')} (protocol ${String(node.protocolVersion ?? '-')})`],
    ['uptime', show(num(node, 'uptimeSeconds'), (n) => formatDuration(n * 1000))],
    ['network size', `${show(num(s, 'totalNodes'))} nodes (estimate)`],
    ['connections', `${show(num(s, 'totalConnections'))} peers in the last 5 min`],
    ['routing table', `${show(num(s, 'routingTableSize'))} contacts`],
    ['network health', show(num(s, 'networkHealth'), (n) => n.toFixed(3))],
    ['messages', `${show(num(s, 'totalMessagesSent'))} sent, ${show(num(s, 'totalMessagesReceived'))} received`],
    ['traffic', `${show(num(s, 'messages', 'bytesOut'), formatBytes)} out, ${show(num(s, 'messages', 'bytesIn'), formatBytes)} in`],
    ['storage', storage],
    ['lookups', `${show(num(s, 'lookups', 'count'))} (p50 ${show(num(s, 'lookups', 'p50Ms'), ms)}, p99 ${show(num(s, 'lookups', 'p99Ms'), ms)})`],
    ['crypto pool', `${show(num(s, 'pool', 'threads'))} threads, ${show(num(s, 'pool', 'queueSize'))} queued, ${show(num(s, 'pool', 'utilization'), formatPercent)} busy`],
    ['event loop delay', `p50 ${show(num(s, 'eventLoop', 'p50'), ms)}, p99 ${show(num(s, 'eventLoop', 'p99'), ms)}`],
  ]));
  return EXIT.ok;
}

/** A contact's id cut to 16 hex digits: enough to tell peers apart in a table. */
function shortId(id: unknown): string {
  return typeof id === 'string' ? `${id.slice(0, 16)}…` : '-';
}

/** `zhtp-dht peers`: the routing table's contacts, one line each. */
export async function peers(argv: string[], io: Io): Promise<number> {
  const { client, json } = setUp('peers', argv, io);
  const text = await client.getText(`${API}/peers`);
  if (json) {
    printRaw(io, text);
    return EXIT.ok;
  }
  const list = parseJson(text, 'peers').peers;
  const rows = (Array.isArray(list) ? list as Json[] : []).map((p) => [
    shortId(p.id), String(p.address ?? '-'), show(num(p, 'bucket')), show(num(p, 'lastSeenMsAgo'), (n) => `${formatDuration(n)} ago`),
    show(num(p, 'failures')), p.inbound === true ? 'in' : 'out', show(num(p, 'reputation', 'score'), (n) => n.toFixed(3)),
    (p.reputation as Json | undefined)?.bad === true ? 'bad' : '',
  ]);
  io.out.write(formatTable(['ID', 'ADDRESS', 'BUCKET', 'LAST SEEN', 'FAILURES', 'DIR', 'SCORE', ''], rows, ['left', 'left', 'right', 'right', 'right', 'left', 'right']));
  io.out.write(`${rows.length} peer(s)\n`);
  return EXIT.ok;
}

/** `zhtp-dht routing`: the k-buckets that hold contacts or replacements. */
export async function routing(argv: string[], io: Io): Promise<number> {
  const { client, json } = setUp('routing', argv, io);
  const text = await client.getText(`${API}/routing`);
  if (json) {
    printRaw(io, text);
    return EXIT.ok;
  }
  const r = parseJson(text, 'routing');
  const buckets = Array.isArray(r.buckets) ? r.buckets as Json[] : [];
  io.out.write(formatPairs([['self', String(r.self ?? '-')], ['k', show(num(r, 'k'))], ['contacts', show(num(r, 'size'))]]));
  io.out.write('\n');
  const rows = buckets.map((b) => [
    show(num(b, 'index')), show(num(b, 'size')), show(num(b, 'replacements')), show(num(b, 'lastChangedMsAgo'), (n) => `${formatDuration(n)} ago`),
  ]);
  io.out.write(formatTable(['BUCKET', 'CONTACTS', 'REPLACEMENTS', 'LAST CHANGED'], rows, ['right', 'right', 'right', 'right']));
  io.out.write(`${rows.length} non-empty bucket(s); bucket i holds ids sharing i leading bits with self\n`);
  return EXIT.ok;
}

/** `zhtp-dht health`: /readyz with both of its checks; exit 0 when ready, 1 when not. */
export async function health(argv: string[], io: Io): Promise<number> {
  const { client, json } = setUp('health', argv, io);
  const res = await client.send('GET', '/readyz', undefined, false);
  const text = (await readText(res)).toString('utf8');
  const ready = res.statusCode === 200;
  if (json) {
    printRaw(io, text);
    return ready ? EXIT.ok : EXIT.failed;
  }
  const body = parseJson(text, 'readyz');
  const running = (body.checks as Json | undefined)?.running === true;
  const contacts = num(body, 'checks', 'routingTable');
  io.out.write(formatPairs([
    ['ready', ready ? 'yes' : 'no'],
    ['running', running ? 'yes' : 'no'],
    ['routing table', `${show(contacts)} contacts${contacts === 0 ? ' (a node needs at least one to be ready)' : ''}`],
  ]));
  return ready ? EXIT.ok : EXIT.failed;
}
