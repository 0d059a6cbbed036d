/**
 * The contract endpoints of the HTTP API against a real 4-node loopback testnet: POST /contracts
 * deploys as the API's node, GET /contracts/tags/:tag and the two manifest lookups read verified
 * manifests, POST /contracts/code/:hash fetches code deployed by another node, and instances run
 * calls and queries with arguments given as JSON (`args` + `types`) or raw (`input`). Also the 4xx
 * answers of bad fields, 501 from a node without a contract engine, and the contract series in /metrics.
 */
import { mkdtempSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ApiServer } from '../../src/api/index.js';
import { EXAMPLE_CONTRACTS, encodeArgs, exampleContract } from '../../src/contracts/index.js';
import { idToHex } from '../../src/id/index.js';
import { useApiTestnet } from '../helpers/api.js';

const t = useApiTestnet(4, { prefix: 'zhtp-api-contracts-', testnet: { contracts: { threads: 1 } } });

interface Reply { status: number; body: Record<string, unknown>; text: string }

/** One authorised API call with a JSON body, on `server` (default the node's API). */
function call(method: string, path: string, body?: Record<string, unknown>, server: ApiServer = t.api): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const headers: Record<string, string> = { authorization: `Bearer ${server.token}` };
    if (payload !== undefined) Object.assign(headers, { 'content-type': 'application/json', 'content-length': String(payload.byteLength) });
    const req = request({ host: '127.0.0.1', port: server.port, method, path, headers, timeout: 60_000 }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => {
        const text = Buffer.concat(parts).toString('utf8');
        resolve({ status: res.statusCode ?? 0, body: text.startsWith('{') ? JSON.parse(text) as Record<string, unknown> : {}, text });
      });
    });
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end(payload);
  });
}

const wasm64 = (name: 'counter' | 'token' | 'registry'): string => Buffer.from(exampleContract(name)).toString('base64');
const state: { counterKey?: string; counterCode?: string; tokenCode?: string; tokenMetered?: string } = {};

describe('deploy and discovery', () => {
  it('deploys as the node and finds the contract by tag, by key and by owner and name', async () => {
    const { abi, tags } = EXAMPLE_CONTRACTS.counter;
    const r = await call('POST', '/api/v1/contracts', { wasm: wasm64('counter'), name: 'counter', version: '2.0.0', tags, abi, ttl: 3600, replicas: 3 });
    expect(r.status, r.text).toBe(201);
    expect(r.body).toMatchObject({ name: 'counter', version: '2.0.0', tags, seq: 0, methods: ['increment', 'get'], replicas: { code: 3, manifest: 3 } });
    expect(r.body.tagResults).toEqual(tags.map((tag) => ({ tag, replicas: expect.any(Number) })));
    state.counterKey = r.body.key as string;
    state.counterCode = r.body.codeHash as string;

    const found = await call('GET', '/api/v1/contracts/tags/counter?limit=10');
    expect(found.status).toBe(200);
    expect(found.body).toMatchObject({ tag: 'counter', publishers: 1, dropped: {}, truncated: false });
    const [listing] = found.body.contracts as Array<Record<string, unknown>>;
    expect(listing).toMatchObject({
      key: state.counterKey, name: 'counter', version: '2.0.0', abi, codeHash: state.counterCode, ownerId: idToHex(t.node.id), meterVersion: 1,
      owner: Buffer.from(t.node.identity.dsa.publicKey).toString('hex'),
    });
    const byKey = await call('GET', `/api/v1/contracts/manifests/${state.counterKey}`);
    expect([byKey.status, byKey.body.name, typeof byKey.body.signed]).toEqual([200, 'counter', 'string']);
    const self = await call('GET', '/api/v1/contracts/owners/self/counter');
    expect([self.status, self.body.key]).toEqual([200, state.counterKey]);
    const otherOwner = Buffer.from(t.net.nodes[1]!.identity.dsa.publicKey).toString('hex');
    const missing = await call('GET', `/api/v1/contracts/owners/${otherOwner}/counter`);
    expect([missing.status, missing.body.code]).toEqual([404, 'not_found']);
  }, 60_000);

  it('fetches code another node deployed and meters it to the same bytes', async () => {
    const other = await t.net.nodes[1]!.deployContract({ wasm: exampleContract('token'), name: 'token', version: '1.0.0', tags: ['token'], abi: EXAMPLE_CONTRACTS.token.abi });
    state.tokenCode = Buffer.from(other.codeHash).toString('hex');
    const fetched = await call('POST', `/api/v1/contracts/code/${state.tokenCode}`);
    expect(fetched.status, fetched.text).toBe(200);
    expect(fetched.body).toMatchObject({ codeHash: state.tokenCode, fetched: true, meteredHash: Buffer.from(other.meteredHash).toString('hex') });
    expect((await call('POST', `/api/v1/contracts/code/${state.tokenCode}`)).body.fetched).toBe(false);
  }, 60_000);
});

describe('instances, calls and queries', () => {
  it('creates an instance and runs calls with JSON arguments; `returns` decodes the return data', async () => {
    const created = await call('POST', '/api/v1/contracts/instances', { codeHash: state.counterCode });
    expect([created.status, created.body.created, created.body.fetched]).toEqual([201, true, false]);
    const id = created.body.instanceId as string;
    expect((await call('POST', '/api/v1/contracts/instances', { codeHash: state.counterCode })).status).toBe(200);
    const inc = await call('POST', `/api/v1/contracts/instances/${id}/call`, { method: 'increment', returns: ['u64'] });
    expect(inc.body).toMatchObject({ status: 'ok', decoded: ['1'], version: 1, writes: [expect.objectContaining({ key: expect.any(String) })] });
    const get = await call('POST', `/api/v1/contracts/instances/${id}/query`, { method: 'get', returns: 'u64' });
    expect(get.body).toMatchObject({ status: 'ok', decoded: ['1'], version: 1 });
    // This node's own copy (kept current only when it is one of the instance's holders).
    expect((await call('GET', `/api/v1/contracts/instances/${id}`)).body).toMatchObject({ instanceId: id, codeHash: state.counterCode, creator: idToHex(t.node.id) });
    expect(inc.body).toMatchObject({ callId: expect.stringMatching(/^[0-9a-f]{64}$/), replicas: expect.any(Number), executor: expect.stringMatching(/^[0-9a-f]{64}$/) });
    const kept = await call('GET', `/api/v1/contracts/receipts/${inc.body.callId as string}?instance=${id}`);
    expect(kept.body).toMatchObject({ status: 'ok', version: 1, callId: inc.body.callId });
    expect((await call('GET', `/api/v1/contracts/receipts/${'ee'.repeat(32)}?instance=${id}`)).status).toBe(404);

    const token = await call('POST', '/api/v1/contracts/instances', { codeHash: state.tokenCode, salt: Buffer.from('api').toString('base64') });
    const tid = token.body.instanceId as string;
    expect((await call('POST', `/api/v1/contracts/instances/${tid}/call`, { method: 'init', args: ['1000'], types: ['u64'] })).body.status).toBe('ok');
    const raw = Buffer.from(encodeArgs(['address'], [t.node.id])).toString('base64');
    const balance = await call('POST', `/api/v1/contracts/instances/${tid}/query`, { method: 'balanceOf', input: raw, returns: ['u64'] });
    expect(balance.body.decoded).toEqual(['1000']);
    const sent = await call('POST', `/api/v1/contracts/instances/${tid}/call`, { method: 'transfer', args: ['ab'.repeat(32), 5000], types: 'address,u64' });
    expect([sent.status, sent.body.status, sent.body.error]).toEqual([200, 'revert', expect.any(String)]);
    const starved = await call('POST', `/api/v1/contracts/instances/${tid}/call`, { method: 'init', args: [1], types: ['u64'], gasLimit: 50, returns: [] });
    expect(starved.body).toMatchObject({ status: 'out_of_gas', gasUsed: 50, decoded: null });
  }, 60_000);

  it('names the bad field in each 4xx', async () => {
    const inst = `/api/v1/contracts/instances/${'cd'.repeat(32)}`;
    const cases: Array<[string, string, Record<string, unknown> | undefined, number, RegExp]> = [
      ['POST', '/api/v1/contracts', { name: 'x', version: '1' }, 400, /'wasm' is required/],
      ['POST', '/api/v1/contracts', { wasm: wasm64('counter'), name: 'Bad', version: '1' }, 400, /name must be 1\.\.55/],
      ['POST', '/api/v1/contracts', { wasm: Buffer.from('junk').toString('base64'), name: 'x', version: '1' }, 400, /invalid contract module \(malformed\)/],
      ['POST', '/api/v1/contracts', { wasm: wasm64('counter'), name: 'x', version: '1', abi: 'all' }, 400, /abi must be a list/],
      ['GET', '/api/v1/contracts/tags/Not%20A%20Tag', undefined, 400, /tag must be/],
      ['GET', '/api/v1/contracts/tags/x?limit=0', undefined, 400, /'limit' must be an integer in 1\.\.256/],
      ['GET', '/api/v1/contracts/manifests/xyz', undefined, 400, /key must be 64 hex digits/],
      ['GET', '/api/v1/contracts/owners/abcd/counter', undefined, 400, /owner must be 'self' or an ML-DSA-65 public key/],
      ['GET', '/api/v1/contracts/tags/%E0%A4%A', undefined, 400, /malformed percent-encoding/],
      ['POST', '/api/v1/contracts/code/12', undefined, 400, /code hash must be 64 hex digits/],
      ['POST', '/api/v1/contracts/instances', {}, 400, /'codeHash' is required/],
      ['GET', inst, undefined, 404, /no instance/],
      ['POST', `${inst}/call`, {}, 400, /'method' is required/],
      ['POST', `${inst}/call`, { method: 'f', args: [1], types: [] }, 400, /0 types but 1 args/],
      ['POST', `${inst}/call`, { method: 'f', args: [1], types: ['u128'] }, 400, /type 0 must be one of u32, u64, address, bytes, string/],
      ['POST', `${inst}/call`, { method: 'f', args: [-1], types: ['u32'] }, 400, /arg 0 \(u32\) must be an integer/],
      ['POST', `${inst}/call`, { method: 'f', args: [], input: 'AA==' }, 400, /give 'input' or 'args', not both/],
      ['POST', `${inst}/call`, { method: 'f', gasLimit: 0 }, 400, /'gasLimit' must be an integer/],
    ];
    for (const [method, path, body, status, message] of cases) {
      const r = await call(method, path, body);
      expect(r.status, `${method} ${path}: ${r.text}`).toBe(status);
      expect(r.body.message, path).toMatch(message);
    }
    // No holder has this instance: the query finds none to answer it.
    expect((await call('POST', `${inst}/query`, { method: 'get' })).status).toBe(404);
    expect((await call('GET', '/api/v1/contracts/receipts/xyz')).status).toBe(400);
  }, 60_000);

  it('answers 501 from a node without a contract engine, and exports the contract series in /metrics', async () => {
    const plain = await t.net.addNode({ contracts: false });
    const plainApi = new ApiServer({ node: plain, port: 0, hosts: ['127.0.0.1'], tokenDir: mkdtempSync(join(t.dir, 'plain-')) });
    await plainApi.start();
    try {
      const r = await call('POST', '/api/v1/contracts', { wasm: wasm64('counter'), name: 'x', version: '1' }, plainApi);
      expect([r.status, r.body.code]).toEqual([501, 'disabled']);
      expect((await call('GET', '/api/v1/contracts/tags/counter', undefined, plainApi)).body).toMatchObject({ contracts: [expect.objectContaining({ name: 'counter' })] });
    } finally {
      await plainApi.stop();
    }
    const metrics = await call('GET', '/metrics');
    expect(metrics.text).toMatch(/^zhtp_contract_deploys_total 1$/m);
    expect(metrics.text).toMatch(/^zhtp_contract_code_fetches_total 1$/m);
    expect(metrics.text).toMatch(/^zhtp_contract_calls_sent_total [4-9]$/m);
    expect(metrics.text).toMatch(/^zhtp_contract_audit_mismatches_total 0$/m);
    expect(metrics.text).toMatch(/^zhtp_contract_threads [01]$/m); // 1 once this node executed a call as a holder
    expect(metrics.text).toMatch(/^zhtp_contract_discovery_drops_total\{reason="bad_signature"\} 0$/m);
  }, 60_000);
});
