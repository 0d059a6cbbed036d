/**
 * The HTTP API against a real 5-node loopback testnet: bearer-token auth, the 4xx paths, the
 * shape of every endpoint, a multi-chunk content upload and download streamed through HTTP,
 * Prometheus text that parses, the live stream, and a fuzz of random paths and bodies that
 * must leave the node up.
 */
import { statSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readToken } from '../../src/api/index.js';
import { blake3 } from '../../src/crypto/index.js';
import { idToHex } from '../../src/id/index.js';
import { useApiTestnet } from '../helpers/api.js';

const t = useApiTestnet(5, {
    prefix: 'zhtp-api-',
    api: { hosts: ['127.0.0.1', '::1'], maxJsonBytes: 64 * 1024, maxUploadBytes: 4 * 1024 * 1024, streamInterval: 200 },
  });

interface Reply { status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }

/** One HTTP request to the API (node:http, so Host and bodies are under the test's control). */
function call(method: string, path: string, o: { token?: string | null; body?: Uint8Array | string; headers?: Record<string, string>; host?: string; fresh?: boolean } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...o.headers };
    const token = o.token === undefined ? t.api.token : o.token;
    if (token !== null) headers.authorization = `Bearer ${token}`;
    // Node's client frames a GET or DELETE body only when told its length.
    if (o.body !== undefined && headers['content-length'] === undefined && headers['transfer-encoding'] === undefined) headers['content-length'] = String(Buffer.byteLength(o.body));
    // `fresh`: a connection of its own (a request that lies about its length spoils the connection).
    const req = request({ host: o.host ?? '127.0.0.1', port: t.api.port, method, path, headers, timeout: 60_000, agent: o.fresh === true ? false : undefined }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end(o.body);
  });
}

/** Hex of any bytes (idToHex takes ids only). */
const hexOf = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const json = (r: Reply): Record<string, unknown> => JSON.parse(r.body.toString('utf8')) as Record<string, unknown>;

describe('auth and refusals', () => {
  it('writes a 64-hex token to <dir>/api-token with mode 0600', () => {
    expect(readToken(t.dir)).toBe(t.api.token);
    expect(statSync(join(t.dir, 'api-token')).mode & 0o777).toBe(0o600);
  });

  it('401 without a token, with a wrong one, or with another scheme; the error is {code, message}', async () => {
    for (const token of [null, 'f'.repeat(64), t.api.token.slice(0, 63)]) {
      const r = await call('GET', '/api/v1/stats', { token });
      expect(r.status).toBe(401);
      expect(json(r)).toEqual({ code: 'unauthorized', message: expect.any(String) });
    }
    const basic = await call('GET', '/metrics', { token: null, headers: { authorization: `Basic ${t.api.token}` } });
    expect(basic.status).toBe(401);
  });

  it('health, readiness and the dashboard page need no token', async () => {
    expect(json(await call('GET', '/healthz', { token: null }))).toEqual({ status: 'ok' });
    const ready = await call('GET', '/readyz', { token: null });
    expect(ready.status).toBe(200);
    expect(json(ready)).toEqual({ ready: true, checks: { running: true, routingTable: expect.any(Number) } });
    const page = await call('GET', '/', { token: null });
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.headers['content-security-policy']).toMatch(/default-src 'self'/);
  });

  it('refuses a non-loopback Host header (DNS rebinding) with 403', async () => {
    const r = await call('GET', '/api/v1/stats', { headers: { host: 'evil.example:80' } });
    expect(r.status).toBe(403);
    expect(json(r).code).toBe('forbidden_host');
  });

  it('answers on ::1 as well as 127.0.0.1', async () => {
    const r = await call('GET', '/healthz', { host: '::1', token: null }).catch(() => null);
    if (r !== null) expect(r.status).toBe(200); // hosts without IPv6 skip ::1 (server.ts)
  });

  it('400 for a malformed key, bad JSON, bad base64, an out-of-range option', async () => {
    expect((await call('GET', '/api/v1/content/xyz')).status).toBe(400);
    const badJson = await call('PUT', '/api/v1/mutable', { body: '{"value":', headers: { 'content-type': 'application/json' } });
    expect([badJson.status, json(badJson).code]).toEqual([400, 'bad_json']);
    const b64 = await call('PUT', '/api/v1/mutable', { body: '{"value":"***"}', headers: { 'content-type': 'application/json' } });
    expect(b64.status).toBe(400);
    const replicas = await call('POST', '/api/v1/content?replicas=99', { body: 'x' });
    expect([replicas.status, json(replicas).code]).toEqual([400, 'bad_request']);
    const type = await call('PUT', '/api/v1/mutable', { body: '{}', headers: { 'content-type': 'text/plain' } });
    expect(type.status).toBe(415);
  });

  it('404 for unknown paths and missing content; 405 for a wrong method', async () => {
    expect((await call('GET', '/api/v1/nope')).status).toBe(404);
    expect((await call('GET', '/nope')).status).toBe(404);
    const missing = await call('GET', `/api/v1/content/${'ab'.repeat(32)}`);
    expect([missing.status, json(missing).code]).toEqual([404, 'not_found']);
    expect((await call('DELETE', '/api/v1/stats')).status).toBe(405);
  });

  it('413 for a JSON body over maxJsonBytes and an upload over maxUploadBytes (declared or streamed)', async () => {
    const big = JSON.stringify({ value: 'A'.repeat(70 * 1024) });
    const j = await call('PUT', '/api/v1/mutable', { body: big, headers: { 'content-type': 'application/json' } });
    expect([j.status, json(j).code]).toEqual([413, 'payload_too_large']);
    // Declared too large: refused from the headers alone, before any byte of the body.
    const declared = await new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: t.api.port, method: 'POST', path: '/api/v1/content', agent: false, headers: { authorization: `Bearer ${t.api.token}`, 'content-length': String(64 * 1024 * 1024) } }, (res) => {
        resolve(res.statusCode ?? 0);
        req.destroy();
      });
      req.on('error', reject);
      req.flushHeaders();
    });
    expect(declared).toBe(413);
    const streamed = await call('POST', '/api/v1/content', { body: new Uint8Array(4 * 1024 * 1024 + 1) });
    expect(streamed.status).toBe(413);
    expect(t.node.running).toBe(true);
  });
});

describe('endpoints', () => {
  it('node: id, addresses, record with both public keys', async () => {
    const r = json(await call('GET', '/api/v1/node'));
    expect(r.id).toBe(idToHex(t.node.id));
    expect(r.address).toBe(`127.0.0.1:${t.node.address.port}`);
    expect(r).toMatchObject({ ephemeral: false, protocolVersion: 1, k: 20, replicationFactor: 3 });
    const record = r.record as { publicKeys: { mldsa65: string; mlkem768: string }; seq: number };
    expect(record.publicKeys.mldsa65).toMatch(/^[0-9a-f]{3904}$/); // ML-DSA-65: 1,952 bytes
    expect(record.publicKeys.mlkem768).toMatch(/^[0-9a-f]{2368}$/); // ML-KEM-768: 1,184 bytes
  });

  it('stats: DhtStats plus lookups, pool, event loop, storage', async () => {
    const r = json(await call('GET', '/api/v1/stats'));
    for (const f of ['totalNodes', 'totalConnections', 'totalMessagesSent', 'totalMessagesReceived', 'routingTableSize', 'storageUtilization', 'networkHealth']) {
      expect(typeof r[f], f).toBe('number');
    }
    expect(r.routingTableSize).toBe(4);
    expect(r).toMatchObject({
      lookups: { count: expect.any(Number) }, pool: { threads: expect.any(Number), queueSize: expect.any(Number) },
      eventLoop: { p50: expect.any(Number), p99: expect.any(Number) }, storage: { records: expect.any(Number), capBytes: expect.any(Number) },
    });
    const ext = json(await call('GET', '/api/v1/stats/extended'));
    expect(Object.keys(ext)).toEqual(expect.arrayContaining(['transport', 'sessions', 'rpc', 'routing', 'storage', 'pool', 'eventLoop', 'reputation']));
  });

  it('peers and routing: every contact with bucket, last seen and reputation', async () => {
    const { peers } = json(await call('GET', '/api/v1/peers')) as { peers: Array<Record<string, unknown>> };
    expect(peers).toHaveLength(4);
    const ids = new Set(t.net.nodes.slice(1).map((n) => idToHex(n.id)));
    for (const p of peers) {
      expect(ids.has(p.id as string)).toBe(true);
      expect(p).toMatchObject({ address: expect.stringMatching(/^127\.0\.0\.1:\d+$/), bucket: expect.any(Number), lastSeenMsAgo: expect.any(Number), reputation: { score: expect.any(Number), bad: false } });
    }
    const routing = json(await call('GET', '/api/v1/routing')) as { size: number; k: number; buckets: Array<{ index: number; size: number; contacts: unknown[] }> };
    expect(routing.size).toBe(4);
    expect(routing.buckets.reduce((s, b) => s + b.contacts.length, 0)).toBe(4);
    for (const b of routing.buckets) expect(b.contacts).toHaveLength(b.size);
  });

  it('content: a small value is keyed by its BLAKE3; 600 KiB streams as chunks and comes back byte for byte', async () => {
    const small = new Uint8Array(1000).map((_, i) => i & 0xff);
    const put = await call('POST', '/api/v1/content?replicas=3', { body: small });
    expect(put.status).toBe(201);
    expect(json(put)).toMatchObject({ key: hexOf(blake3(small)), size: 1000, chunks: 0, replicas: 3 });
    const back = await call('GET', `/api/v1/content/${hexOf(blake3(small))}`);
    expect(back.status).toBe(200);
    expect(Buffer.compare(back.body, Buffer.from(small))).toBe(0);

    const large = new Uint8Array(600 * 1024).map((_, i) => (i * 31 + (i >> 9)) & 0xff);
    const bigPut = await call('POST', '/api/v1/content', { body: large, headers: { 'transfer-encoding': 'chunked' } });
    expect(bigPut.status).toBe(201);
    const meta = json(bigPut);
    expect(meta).toMatchObject({ size: large.byteLength, chunks: 3 });
    const bigBack = await call('GET', `/api/v1/content/${meta.key as string}`);
    expect(bigBack.status).toBe(200);
    expect(bigBack.body.byteLength).toBe(large.byteLength);
    expect(hexOf(blake3(bigBack.body))).toBe(hexOf(blake3(large)));
  });

  it('mutable records and sets round-trip through JSON', async () => {
    const value = Buffer.from('hello, mutable').toString('base64');
    const put = await call('PUT', '/api/v1/mutable', { body: JSON.stringify({ value, salt: Buffer.from('s1').toString('base64') }), headers: { 'content-type': 'application/json' } });
    expect(put.status).toBe(201);
    expect(json(put)).toMatchObject({ seq: 0, value });
    const got = json(await call('GET', `/api/v1/mutable/self?salt=${encodeURIComponent(Buffer.from('s1').toString('base64'))}`));
    expect(got).toMatchObject({ seq: 0, value, key: json(put).key });

    const setKey = hexOf(blake3(new TextEncoder().encode('api test set')));
    const add = await call('POST', `/api/v1/sets/${setKey}`, { body: JSON.stringify({ value: Buffer.from('provider').toString('base64') }), headers: { 'content-type': 'application/json' } });
    expect(add.status).toBe(201);
    const set = json(await call('GET', `/api/v1/sets/${setKey}`)) as { entries: Array<{ value: string }> };
    expect(set.entries.map((e) => Buffer.from(e.value, 'base64').toString())).toEqual(['provider']);
  });

  it('lookup: the closest contacts to an id', async () => {
    const target = t.net.nodes[3]!.id;
    const r = json(await call('GET', `/api/v1/lookup/${idToHex(target)}`)) as { closest: Array<{ id: string }> };
    expect(r.closest[0]!.id).toBe(idToHex(target));
  });
});

/** Parses Prometheus text format 0.0.4 strictly enough to catch malformed lines; returns samples by name. */
function parseProm(text: string): Map<string, Array<{ labels: Record<string, string>; value: number }>> {
  const out = new Map<string, Array<{ labels: Record<string, string>; value: number }>>();
  const typed = new Set<string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('# HELP ')) continue;
    const t = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (t !== null) {
      expect(typed.has(t[1]!), `TYPE ${t[1]} twice`).toBe(false);
      typed.add(t[1]!);
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (-?[0-9.e+-]+|NaN|\+Inf|-Inf)$/.exec(line);
    expect(m, `malformed line: ${line}`).not.toBeNull();
    const labels: Record<string, string> = {};
    for (const l of (m![3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    const family = m![1]!.replace(/_(bucket|sum|count)$/, '');
    expect(typed.has(m![1]!) || typed.has(family), `sample before its TYPE: ${line}`).toBe(true);
    const list = out.get(m![1]!) ?? [];
    list.push({ labels, value: Number(m![4]) });
    out.set(m![1]!, list);
  }
  return out;
}

describe('metrics', () => {
  it('/metrics parses as Prometheus text with message, drop, lookup, storage, pool and event-loop series', async () => {
    await t.net.nodes[0]!.findNode(t.net.nodes[2]!.id); // at least one lookup observed
    const r = await call('GET', '/metrics');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const m = parseProm(r.body.toString('utf8'));
    const sent = m.get('zhtp_messages_sent_total')!;
    expect(sent.find((s) => s.labels.type === 'FIND_NODE')!.value).toBeGreaterThan(0);
    expect(m.get('zhtp_drops_total')!.some((s) => s.labels.layer === 'rpc')).toBe(true);
    const buckets = m.get('zhtp_lookup_duration_seconds_bucket')!.filter((s) => s.labels.kind === 'node');
    expect(buckets.at(-1)!.labels.le).toBe('+Inf');
    for (let i = 1; i < buckets.length; i++) expect(buckets[i]!.value).toBeGreaterThanOrEqual(buckets[i - 1]!.value);
    expect(m.get('zhtp_lookup_duration_seconds_count')!.find((s) => s.labels.kind === 'node')!.value).toBeGreaterThan(0);
    for (const name of ['zhtp_storage_bytes', 'zhtp_storage_records', 'zhtp_pool_queue_depth', 'zhtp_event_loop_delay_seconds', 'zhtp_routing_table_contacts']) {
      expect(m.has(name), name).toBe(true);
    }
  });
});

describe('live stream', () => {
  it('sends hello, then stats snapshots and node events as they happen', async () => {
    const controller = new AbortController();
    const res = await fetch(`${t.api.url}/api/v1/events`, { headers: { authorization: `Bearer ${t.api.token}` }, signal: controller.signal });
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const reader = res.body!.getReader();
    const seen = new Map<string, unknown[]>();
    let text = '';
    const deadline = Date.now() + 30_000;
    let triggered = false;
    try {
      while (Date.now() < deadline && !((seen.get('stats')?.length ?? 0) >= 2 && seen.has('node'))) {
        const { value, done } = await reader.read();
        if (done === true) break;
        text += new TextDecoder().decode(value);
        let end: number;
        while ((end = text.indexOf('\n\n')) >= 0) {
          const block = text.slice(0, end);
          text = text.slice(end + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1] ?? 'message';
          const data = JSON.parse(/^data: (.*)$/m.exec(block)![1]!) as unknown;
          seen.set(event, [...(seen.get(event) ?? []), data]);
        }
        if (!triggered && seen.has('hello')) {
          triggered = true;
          void t.node.put(new TextEncoder().encode(`stream event ${Date.now()}`));
        }
      }
    } finally {
      controller.abort();
    }
    expect((seen.get('hello')![0] as { node: { id: string } }).node.id).toBe(idToHex(t.node.id));
    expect(seen.get('stats')!.length).toBeGreaterThanOrEqual(2);
    expect((seen.get('node') as Array<{ type: string }>).some((e) => e.type === 'put' || e.type === 'lookup')).toBe(true);
  });
});

describe('fuzz', () => {
  it('random methods, paths, headers and bodies get 4xx answers and leave the node up', async () => {
    const paths = ['/api/v1/', '/api/v1/content/', '/api/v1/mutable/', '/api/v1/sets/', '/api/v1/lookup/', '/metrics', '/api/v1/stats', '/'];
    await fc.assert(fc.asyncProperty(
      fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH'),
      fc.constantFrom(...paths), fc.string({ maxLength: 80 }),
      fc.oneof(fc.json(), fc.string({ maxLength: 200 }), fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b).toString('latin1'))),
      fc.boolean(),
      async (method, base, tail, body, asJson) => {
        const path = base + encodeURIComponent(tail).slice(0, 120);
        const r = await call(method, path, { body, headers: asJson ? { 'content-type': 'application/json' } : {} });
        expect(r.status, `${method} ${path}`).toBeLessThan(500);
        if (r.status >= 400 && r.headers['content-type']?.toString().startsWith('application/json')) {
          expect(json(r)).toEqual({ code: expect.any(String), message: expect.any(String) });
        }
      },
    ), { numRuns: 150, seed: 7 });
    expect(t.node.running).toBe(true);
    expect((await call('GET', '/healthz', { token: null })).status).toBe(200);
  });
});
