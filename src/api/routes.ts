/**
 * The API's endpoints (docs/api.md): each handler reads what it needs from the node and answers
 * JSON, or streams bytes for content. Handlers throw ApiError (or whatever the node throws,
 * mapped by toApiError); the server turns that into `{code, message}`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Key, idFromHex, idToHex } from '../id/index.js';
import type { DhtNode } from '../node/index.js';
import { formatAddress, MAX_VALUE_BYTES } from '../util/index.js';
import { CHUNK_BYTES, MAX_MANIFEST_CHUNKS } from '../values/index.js';
import { PROTOCOL_VERSION } from '../wire/index.js';
import { ApiError, b64, base64Field, bodyOf, hex, intField, readJson, sendJson, tooLarge } from './http.js';
import type { NodeMetrics } from './metrics.js';
import { getZk, putZk, storeZkValue } from './zk.js';
import { contractByKey, contractByName, contractReceipt, createInstance, deployContract, fetchCode, findContracts, instanceInfo, runMethod } from './contracts.js';

export const API_VERSION = 'v1';

/** What the handlers share. */
export interface RouteContext {
  node: DhtNode;
  metrics: NodeMetrics;
  /** Largest JSON body, bytes. */
  maxJsonBytes: number;
  /** Largest content upload, bytes. */
  maxUploadBytes: number;
  startedAt: number;
  version: string;
}

export type Handler = (req: IncomingMessage, res: ServerResponse, params: string[], url: URL) => Promise<void> | void;

interface Route { method: string; pattern: RegExp; handler: Handler }

/** The routes under /api/v1 (paths relative to it). */
export function apiRoutes(ctx: RouteContext): Route[] {
  const { node } = ctx;
  const route = (method: string, path: string, handler: Handler): Route =>
    ({ method, pattern: new RegExp(`^${path.replace(/:([a-z]+)/g, '([^/]+)')}$`), handler });
  return [
    route('GET', '/node', (_q, res) => sendJson(res, 200, nodeInfo(ctx))),
    route('GET', '/stats', (_q, res) => sendJson(res, 200, statsBody(ctx))),
    route('GET', '/stats/extended', (_q, res) => sendJson(res, 200, node.extendedStats())),
    route('GET', '/peers', (_q, res) => sendJson(res, 200, { peers: peers(ctx) })),
    route('GET', '/routing', (_q, res) => sendJson(res, 200, routing(ctx))),
    route('GET', '/events/recent', (_q, res) => sendJson(res, 200, { events: node.events.recent() })),
    route('POST', '/content', (q, res, _p, url) => putContent(ctx, q, res, url)),
    route('GET', '/content/:key', (_q, res, [key]) => getContent(ctx, res, keyParam(key!))),
    route('PUT', '/mutable', (q, res) => putMutable(ctx, q, res)),
    route('GET', '/mutable/:pk', (_q, res, [pk], url) => getMutable(ctx, res, pk!, url)),
    route('POST', '/sets/:key', (q, res, [key]) => addToSet(ctx, q, res, keyParam(key!))),
    route('GET', '/sets/:key', (_q, res, [key]) => getSet(ctx, res, keyParam(key!))),
    route('PUT', '/zk', (q, res) => putZk(ctx, q, res)),
    route('POST', '/zk/values', (q, res, _p, url) => storeZkValue(ctx, q, res, url)),
    route('GET', '/zk/:key', (_q, res, [key], url) => getZk(ctx, res, keyParam(key!), url)),
    route('POST', '/contracts', (q, res) => deployContract(ctx, q, res)),
    route('GET', '/contracts/tags/:tag', (_q, res, [tag], url) => findContracts(ctx, res, tag!, url)),
    route('GET', '/contracts/manifests/:key', (_q, res, [key]) => contractByKey(ctx, res, key!)),
    route('GET', '/contracts/owners/:owner/:name', (_q, res, [owner, name]) => contractByName(ctx, res, owner!, name!)),
    route('POST', '/contracts/code/:hash', (_q, res, [hash]) => fetchCode(ctx, res, hash!)),
    route('POST', '/contracts/instances', (q, res) => createInstance(ctx, q, res)),
    route('GET', '/contracts/instances/:id', (_q, res, [id]) => instanceInfo(ctx, res, id!)),
    route('POST', '/contracts/instances/:id/call', (q, res, [id]) => runMethod(ctx, q, res, id!, false)),
    route('POST', '/contracts/instances/:id/query', (q, res, [id]) => runMethod(ctx, q, res, id!, true)),
    route('GET', '/contracts/receipts/:id', (_q, res, [id], url) => contractReceipt(ctx, res, id!, url)),
    route('GET', '/lookup/:id', async (_q, res, [id]) => {
      const contacts = await node.findNode(keyParam(id!));
      sendJson(res, 200, { target: id, closest: contacts.map((c) => ({ id: idToHex(c.id), address: formatAddress(c) })) });
    }),
  ];
}

/** Finds the handler of `method path`: the handler and its parameters, 'method' when only the method is wrong, or null. */
export function match(routes: Route[], method: string, path: string): { handler: Handler; params: string[] } | 'method' | null {
  let pathMatched = false;
  for (const r of routes) {
    const m = r.pattern.exec(path);
    if (m === null) continue;
    pathMatched = true;
    if (r.method === method || (method === 'HEAD' && r.method === 'GET')) return { handler: r.handler, params: m.slice(1).map(pathParam) };
  }
  return pathMatched ? 'method' : null;
}

/** A path segment, percent-decoded; a malformed escape (`%E0%A4%A`) is the client's error, not a 500. */
function pathParam(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new ApiError(400, 'bad_request', 'the path has a malformed percent-encoding');
  }
}

function keyParam(text: string): Key {
  const key = idFromHex(text) as Key | null;
  if (key === null) throw new ApiError(400, 'bad_key', 'a key or id is 64 hex digits');
  return key;
}

export function nodeInfo(ctx: RouteContext): Record<string, unknown> {
  const { node } = ctx;
  const record = node.record;
  return {
    id: idToHex(node.id),
    address: formatAddress(node.address),
    addresses: record.addresses.map(formatAddress),
    ephemeral: node.options.ephemeral,
    version: ctx.version,
    protocolVersion: PROTOCOL_VERSION,
    startedAt: new Date(ctx.startedAt).toISOString(),
    uptimeSeconds: Math.round((Date.now() - ctx.startedAt) / 1000),
    k: node.options.k,
    replicationFactor: node.options.replicationFactor,
    record: {
      seq: record.seq,
      capabilities: record.capabilities,
      publicKeys: { mldsa65: hex(record.publicKeys.mldsa65), mlkem768: hex(record.publicKeys.mlkem768) },
    },
  };
}

/** DhtStats plus the figures the dashboard plots (lookup latency, pool, event loop, storage). */
export function statsBody(ctx: RouteContext): Record<string, unknown> {
  const { node } = ctx;
  const e = node.extendedStats();
  return {
    ...node.stats(),
    lookups: ctx.metrics.lookupLatency(),
    pool: { threads: e.pool.threads, queueSize: e.pool.queueSize, utilization: e.pool.utilization, completed: e.pool.completed, runTimeP50: e.pool.runTimeP50, runTimeP99: e.pool.runTimeP99 },
    eventLoop: e.eventLoop,
    storage: e.storage === null ? null : { records: e.storage.records, bytes: e.storage.bytes, capBytes: e.storage.capBytes },
    messages: { sent: e.transport.messagesOut, received: e.transport.messagesIn, bytesIn: e.transport.bytesIn, bytesOut: e.transport.bytesOut },
    events: { ...node.events.counts },
    at: Date.now(),
  };
}

function contactRow(ctx: RouteContext, entry: ReturnType<DhtNode['routingTable']['entries']>[number], now: number): Record<string, unknown> {
  const { node } = ctx;
  const rep = node.reputation.get(entry.contact.id, now);
  return {
    id: idToHex(entry.contact.id),
    address: formatAddress(entry.contact),
    bucket: node.routingTable.bucketIndex(entry.contact.id),
    lastSeenMsAgo: Math.max(0, now - entry.lastSeen),
    addedMsAgo: Math.max(0, now - entry.addedAt),
    failures: entry.failures,
    inbound: entry.inbound,
    reputation: { score: Math.round((rep?.score ?? 0.5) * 1000) / 1000, bad: node.reputation.isBad(entry.contact.id, now) },
  };
}

function peers(ctx: RouteContext): Record<string, unknown>[] {
  const now = ctx.node.options.clock.now();
  return ctx.node.routingTable.entries().map((e) => contactRow(ctx, e, now));
}

function routing(ctx: RouteContext): Record<string, unknown> {
  const { node } = ctx;
  const table = node.routingTable;
  const now = node.options.clock.now();
  const byBucket = new Map<number, Record<string, unknown>[]>();
  for (const e of table.entries()) {
    const i = table.bucketIndex(e.contact.id);
    const list = byBucket.get(i) ?? [];
    list.push(contactRow(ctx, e, now));
    byBucket.set(i, list);
  }
  return {
    self: idToHex(node.id), k: node.options.k, size: table.size,
    buckets: table.buckets().map((b) => ({
      index: b.index, size: b.size, replacements: b.replacements, lastChangedMsAgo: Math.max(0, now - b.lastChanged), contacts: byBucket.get(b.index) ?? [],
    })),
  };
}

/**
 * Stores the request body. Up to MAX_VALUE_BYTES it is one value keyed by its BLAKE3; above, the
 * body streams into 256 KiB chunks and a manifest (node.putStream), with memory bounded by the
 * chunks in flight. The answer names the key GET /content/:key takes either way.
 */
async function putContent(ctx: RouteContext, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const replicationFactor = intField(url.searchParams.get('replicas'), 'replicas', 3, 12);
  const ttlSeconds = intField(url.searchParams.get('ttl'), 'ttl', 1, 7 * 24 * 3600);
  const ttl = ttlSeconds === undefined ? undefined : ttlSeconds * 1000;
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > ctx.maxUploadBytes) throw tooLarge(ctx.maxUploadBytes);
  const reader = bodyOf(req);
  // Buffer the head: content that fits one value is stored as one.
  const head: Buffer[] = [];
  let headBytes = 0;
  let ended = false;
  while (headBytes <= MAX_VALUE_BYTES) {
    const chunk = await reader.next();
    if (chunk === null) { ended = true; break; }
    head.push(chunk);
    headBytes += chunk.byteLength;
  }
  if (ended) {
    const content = new Uint8Array(Buffer.concat(head, headBytes));
    const r = await ctx.node.put(content, { replicationFactor, ttl });
    sendJson(res, 201, { key: idToHex(r.key), size: content.byteLength, chunks: 0, replicas: r.replicas.length, durationMs: r.durationMs });
    return;
  }
  let size = 0;
  const limit = ctx.maxUploadBytes;
  async function* body(): AsyncGenerator<Uint8Array> {
    for (const part of head) {
      size += part.byteLength;
      yield part;
    }
    for (;;) {
      const chunk = await reader.next();
      if (chunk === null) return;
      size += chunk.byteLength;
      if (size > limit) throw tooLarge(limit);
      yield chunk;
    }
  }
  const r = await ctx.node.putStream(body(), { replicationFactor, ttl });
  sendJson(res, 201, { key: idToHex(r.key), size: r.size, chunks: r.chunks, replicas: null, durationMs: r.durationMs });
}

/** Streams the content under `key` (a plain value or a manifest's chunks), each piece verified. */
async function getContent(ctx: RouteContext, res: ServerResponse, key: Key): Promise<void> {
  const pieces = ctx.node.getStream(key);
  const first = await pieces.next(); // NOT_FOUND and a bad manifest surface here, before any header
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'cache-control': 'no-store', 'x-content-key': idToHex(key) });
  if (first.done !== true) await write(res, first.value);
  for await (const piece of pieces) await write(res, piece);
  res.end();
}

/** Writes with backpressure: waits for 'drain' when the socket buffer is full. */
function write(res: ServerResponse, chunk: Uint8Array): Promise<void> {
  if (res.write(chunk)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const done = (err?: Error): void => {
      res.off('drain', ok);
      res.off('close', closed);
      if (err === undefined) resolve();
      else reject(err);
    };
    const ok = (): void => done();
    const closed = (): void => done(new ApiError(499, 'client_closed', 'the client went away'));
    res.once('drain', ok);
    res.once('close', closed);
  });
}

function mutableBody(r: { key: Key; record: { publicKey: Uint8Array; salt: Uint8Array; seq: number; value: Uint8Array } }): Record<string, unknown> {
  return { key: idToHex(r.key), publicKey: hex(r.record.publicKey), salt: b64(r.record.salt), seq: r.record.seq, value: b64(r.record.value) };
}

/** Signs and stores a mutable record with this node's keys: `{value, salt?, seq?, cas?, ttl?, replicas?}`. */
async function putMutable(ctx: RouteContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await readJson(req, ctx.maxJsonBytes);
  const value = base64Field(body, 'value', true)!;
  const ttl = intField(body.ttl, 'ttl', 1, 7 * 24 * 3600);
  const r = await ctx.node.putMutable(value, {
    salt: base64Field(body, 'salt', false), seq: intField(body.seq, 'seq', 0, Number.MAX_SAFE_INTEGER), cas: intField(body.cas, 'cas', 0, Number.MAX_SAFE_INTEGER),
    ttl: ttl === undefined ? undefined : ttl * 1000, replicationFactor: intField(body.replicas, 'replicas', 3, 12),
  });
  sendJson(res, 201, { ...mutableBody(r), replicas: r.replicas.length, durationMs: r.durationMs });
}

/** Reads the best mutable record of a public key (`self` = this node's) and salt (`?salt=` base64). */
async function getMutable(ctx: RouteContext, res: ServerResponse, pk: string, url: URL): Promise<void> {
  const publicKey = pk === 'self' ? ctx.node.identity.dsa.publicKey : hexBytes(pk, 'public key');
  const saltText = url.searchParams.get('salt');
  const salt = saltText === null ? undefined : base64Field({ salt: saltText }, 'salt', false);
  const quorum = intField(url.searchParams.get('quorum'), 'quorum', 1, 20);
  const r = await ctx.node.getMutable(publicKey, { salt, quorum });
  sendJson(res, 200, { ...mutableBody(r), agreeing: r.agreeing, quorumMet: r.quorumMet });
}

/** Adds this node's signed entry to the set at `key`: `{value, ttl?, replicas?}`. */
async function addToSet(ctx: RouteContext, req: IncomingMessage, res: ServerResponse, key: Key): Promise<void> {
  const body = await readJson(req, ctx.maxJsonBytes);
  const value = base64Field(body, 'value', true)!;
  const ttl = intField(body.ttl, 'ttl', 1, 7 * 24 * 3600);
  const r = await ctx.node.addToSet(key, value, { ttl: ttl === undefined ? undefined : ttl * 1000, replicationFactor: intField(body.replicas, 'replicas', 3, 12) });
  sendJson(res, 201, { key: idToHex(key), publicKey: hex(r.entry.publicKey), seq: r.entry.seq, expiresAt: new Date(r.entry.expiresAt).toISOString(), replicas: r.replicas.length, durationMs: r.durationMs });
}

async function getSet(ctx: RouteContext, res: ServerResponse, key: Key): Promise<void> {
  const r = await ctx.node.getSet(key);
  sendJson(res, 200, {
    key: idToHex(key), holders: r.holders, rejected: r.rejected,
    entries: r.entries.map((e) => ({ publicKey: hex(e.publicKey), seq: e.seq, expiresAt: new Date(e.expiresAt).toISOString(), value: b64(e.value) })),
  });
}

function hexBytes(text: string, what: string): Uint8Array {
  if (!/^([0-9a-f]{2})+$/i.test(text)) throw new ApiError(400, 'bad_request', `the ${what} must be hex`);
  return new Uint8Array(Buffer.from(text, 'hex'));
}

/** Largest upload: the most a manifest can name. */
export const MAX_UPLOAD_BYTES = MAX_MANIFEST_CHUNKS * CHUNK_BYTES;
