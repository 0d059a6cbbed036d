/**
 * The ZkDhtValue endpoints of the HTTP API against a real 5-node loopback testnet: PUT /zk for each
 * access level, GET /zk/:key decrypting with the API node's keys (or not, `?decrypt=false`), 403 for
 * a value the node may not read, POST /zk/values for a value proven elsewhere (and refusals of
 * tampered ones), the 4xx answers of bad fields, and the ZK series in /metrics.
 */
import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { kemWrap } from '../../src/crypto/index.js';
import { idToHex } from '../../src/id/index.js';
import { SeededRandom } from '../../src/util/index.js';
import {
  buildZkValue, encodeZkValue, fieldToBytes, Groth16Prover, MAX_ZK_DATA_BYTES, ownerCommitment, randomZkOwner, type ZkWorkers,
} from '../../src/zk/index.js';
import { useApiTestnet } from '../helpers/api.js';

const t = useApiTestnet(5, { prefix: 'zhtp-api-zk-' });

interface Reply { status: number; body: Record<string, unknown> }

/** One authorised API call; JSON bodies are sent as application/json, bytes as octet-stream. */
function call(method: string, path: string, body?: Record<string, unknown> | Uint8Array): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : body instanceof Uint8Array ? Buffer.from(body) : Buffer.from(JSON.stringify(body));
    const headers: Record<string, string> = { authorization: `Bearer ${t.api.token}` };
    if (payload !== undefined) {
      headers['content-type'] = body instanceof Uint8Array ? 'application/octet-stream' : 'application/json';
      headers['content-length'] = String(payload.byteLength);
    }
    const req = request({ host: '127.0.0.1', port: t.api.port, method, path, headers, timeout: 60_000 }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => {
        const text = Buffer.concat(parts).toString('utf8');
        resolve({ status: res.statusCode ?? 0, body: text === '' || !text.startsWith('{') ? { text } : JSON.parse(text) as Record<string, unknown> });
      });
    });
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end(payload);
  });
}

const b64 = (s: string): string => Buffer.from(s).toString('base64');
const plain = (r: Reply): string | null => (typeof r.body.data === 'string' ? Buffer.from(r.body.data, 'base64').toString() : null);

describe('PUT /zk and GET /zk/:key', () => {
  it('stores each access level as this node and reads it back decrypted; ?decrypt=false gives the verified value only', async () => {
    for (const access of ['public', 'private', 'restricted'] as const) {
      const readers = access === 'restricted' ? [Buffer.from(t.net.nodes[2]!.identity.kem.publicKey).toString('hex')] : undefined;
      const put = await call('PUT', '/api/v1/zk', { data: b64(`${access} via api`), access, name: b64(`api ${access}`), readers });
      expect(put.status, JSON.stringify(put.body)).toBe(201);
      expect(put.body).toMatchObject({ access, nonce: '0', replicas: 3, readers: access === 'restricted' ? 1 : 0, name: b64(`api ${access}`) });
      expect(put.body.commitment).toBe(Buffer.from(fieldToBytes(ownerCommitment(t.node.zkOwner))).toString('hex'));
      const got = await call('GET', `/api/v1/zk/${put.body.key as string}`);
      expect(got.status).toBe(200);
      expect(plain(got)).toBe(`${access} via api`);
      expect(got.body).toMatchObject({ key: put.body.key, access, nonce: '0', holders: expect.any(Number) });
      const sealed = await call('GET', `/api/v1/zk/${put.body.key as string}?decrypt=false`);
      expect([sealed.status, sealed.body.data]).toEqual([200, null]);
    }
    // A newer version through the API, and an explicit stale nonce refused with 409.
    const next = await call('PUT', '/api/v1/zk', { data: b64('version 1'), access: 'public', name: b64('api public') });
    expect([next.status, next.body.nonce]).toEqual([201, '1']);
    const stale = await call('PUT', '/api/v1/zk', { data: b64('old'), access: 'public', name: b64('api public'), nonce: '1' });
    expect([stale.status, stale.body.code]).toEqual([409, 'stale_nonce']);
  }, 120_000);

  it('answers 403 for a value this node may not read, and 404 for a key nobody holds', async () => {
    const other = t.net.nodes[1]!;
    const r = await other.putZk(new TextEncoder().encode('for node 2 only'), { access: 'restricted', name: new TextEncoder().encode('not for api'), readers: [t.net.nodes[2]!.identity.kem.publicKey] });
    const denied = await call('GET', `/api/v1/zk/${idToHex(r.key)}`);
    expect([denied.status, denied.body.code]).toEqual([403, 'access_denied']);
    expect(denied.body.message).toMatch(/not among the 1 reader/);
    const sealed = await call('GET', `/api/v1/zk/${idToHex(r.key)}?decrypt=false`);
    expect(sealed.body).toMatchObject({ access: 'restricted', readers: 1, data: null });
    const missing = await call('GET', `/api/v1/zk/${'cd'.repeat(32)}`);
    expect([missing.status, missing.body.code]).toEqual([404, 'not_found']);
  }, 60_000);

  it('names the bad field in each 400', async () => {
    const cases: Array<[Record<string, unknown>, RegExp, number]> = [
      [{ access: 'public' }, /'data' is required/, 400],
      [{ data: b64('x'), access: 'secret' }, /'access' must be one of public, private, restricted/, 400],
      [{ data: b64('x'), access: 'restricted', readers: ['abcd'] }, /'readers' must be a list/, 400],
      [{ data: b64('x'), access: 'restricted' }, /options.readers must hold 1..32/, 400],
      [{ data: b64('x'), nonce: 5 }, /'nonce' must be a decimal string/, 400],
      [{ data: b64('x'), nonce: '18446744073709551616' }, /'nonce' must be a decimal string/, 400],
      [{ data: Buffer.alloc(MAX_ZK_DATA_BYTES).toString('base64'), access: 'private' }, /exceeds the limit/, 413],
    ];
    for (const [body, message, status] of cases) {
      const r = await call('PUT', '/api/v1/zk', body);
      expect(r.status, JSON.stringify(r.body)).toBe(status);
      expect(r.body.message).toMatch(message);
    }
    expect((await call('GET', `/api/v1/zk/${'ab'.repeat(32)}?decrypt=maybe`)).status).toBe(400);
    expect((await call('GET', '/api/v1/zk/xyz')).status).toBe(400);
  }, 60_000);
});

describe('POST /zk/values', () => {
  it('stores a value proven elsewhere and refuses tampered ones with the holder\'s code', async () => {
    const prover = new Groth16Prover();
    const workers: ZkWorkers = { wrap: async (pks, k, ad, seeds) => kemWrap(pks, k, ad, seeds), prove: (s) => prover.prove('storage_access', s) };
    const random = new SeededRandom(31);
    const owner = randomZkOwner(random);
    const { key, value } = await buildZkValue(workers, random, { owner, name: new TextEncoder().encode('offline'), nonce: 3n, accessLevel: 'public', data: new TextEncoder().encode('proven offline') });
    const stored = await call('POST', '/api/v1/zk/values?replicas=3', encodeZkValue(value));
    expect(stored.status, JSON.stringify(stored.body)).toBe(201);
    expect(stored.body).toMatchObject({ key: idToHex(key), nonce: '3', replicas: 3 });
    expect(plain(await call('GET', `/api/v1/zk/${idToHex(key)}`))).toBe('proven offline');

    const tampered = await call('POST', '/api/v1/zk/values', encodeZkValue({ ...value, nonce: 4n, encryptedData: new TextEncoder().encode('edited') }));
    expect([tampered.status, tampered.body.code]).toEqual([400, 'invalid_proof']);
    // Another commitment keys the value elsewhere, where this proof does not hold.
    const otherCommitment = await call('POST', '/api/v1/zk/values', encodeZkValue({ ...value, commitment: value.commitment + 1n }));
    expect([otherCommitment.status, otherCommitment.body.code]).toEqual([400, 'invalid_proof']);
    const replay = await call('POST', '/api/v1/zk/values', encodeZkValue(value));
    expect([replay.status, replay.body.code]).toEqual([409, 'stale_nonce']);
    const garbage = await call('POST', '/api/v1/zk/values', new Uint8Array([1, 2, 3]));
    expect([garbage.status, garbage.body.code]).toEqual([400, 'bad_request']);
  }, 120_000);

  it('exports ZK verifications and store refusals in /metrics', async () => {
    const r = await new Promise<string>((resolve, reject) => {
      request({ host: '127.0.0.1', port: t.api.port, path: '/metrics', headers: { authorization: `Bearer ${t.api.token}` } }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => { text += c.toString(); });
        res.on('end', () => resolve(text));
      }).on('error', reject).end();
    });
    expect(r).toMatch(/^zhtp_zk_verifications_total\{outcome="valid"\} [1-9]\d*$/m);
    expect(r).toMatch(/^zhtp_zk_proofs_total [1-9]\d*$/m);
    expect(r).toMatch(/^zhtp_zk_threads [12]$/m);
  });
});
