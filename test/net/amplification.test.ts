/**
 * T05 and T06: before an address is validated the node sends it at most 3× the bytes it got
 * from it (QUIC RFC 9000 §8), and stored values are served only inside sessions, so a node full
 * of large values is no store-and-flood reflector (SF-DRDoS measured 2,400× in Kad).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blake3, CryptoPool } from '../../src/crypto/index.js';
import type { Id, Key } from '../../src/id/index.js';
import { DhtNode } from '../../src/node/index.js';
import { encodeHello, Kind, NONCE_BYTES, PACKET_VERSION } from '../../src/transport/index.js';
import { MAX_VALUE_BYTES, SeededRandom } from '../../src/util/index.js';
import { encode, type Message } from '../../src/wire/index.js';
import { lightPeer, type LightPeer, rawSocket } from '../helpers/peers.js';
import { report } from '../helpers/report.js';
import { THRESHOLDS } from '../thresholds.js';

const rnd = new SeededRandom(5);
const sender = rnd.bytes(32) as Id;
const wait = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const plain = (m: Record<string, unknown>): Uint8Array => encode({ tid: rnd.int(2 ** 31), sender, flags: 0, ...m } as Message);

let pool: CryptoPool;
let node: DhtNode;
let dir: string;

beforeAll(async () => {
  pool = new CryptoPool({ threads: 2 });
  dir = mkdtempSync(join(tmpdir(), 'zhtp-amp-'));
  node = new DhtNode({ host: '127.0.0.1', port: 0, dataDir: dir, cryptoPool: pool });
  await node.start();
});

afterAll(async () => {
  await node?.stop();
  await pool?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Sends `message` once from a fresh socket on `host`; returns [bytes sent, bytes received] on the wire. */
async function exchange(host: string, message: Uint8Array): Promise<{ out: number; back: number; replies: number }> {
  const socket = await rawSocket(host);
  try {
    socket.transport.send(node.address, message);
    await wait(400);
    const c = socket.transport.counters();
    return { out: c.bytesOut, back: c.bytesIn, replies: socket.received.length };
  } finally {
    await socket.close();
  }
}

describe('anti-amplification', () => {
  it('T05 never answers an unvalidated address with more than 3× its bytes, whatever it sends', async () => {
    const big = new Uint8Array(MAX_VALUE_BYTES).map((_, i) => (i * 7) & 0xff);
    const stored = await node.put(big);
    const key = stored.key;
    const shortHello = new Uint8Array(3 + NONCE_BYTES); // asks for the record without paying for it
    shortHello.set([Kind.HELLO, PACKET_VERSION, 1]);
    const sealedJunk = new Uint8Array(80).fill(0xab);
    sealedJunk[0] = Kind.SEALED;
    const forgedHandshake = new Uint8Array(4500 + 6500).fill(7);
    forgedHandshake.set([Kind.HANDSHAKE, PACKET_VERSION]);
    const cases: Array<[string, Uint8Array]> = [
      ['PING', plain({ type: 'PING' })],
      ['FIND_NODE', plain({ type: 'FIND_NODE', target: rnd.bytes(32) })],
      ['FIND_VALUE (max-size value stored)', plain({ type: 'FIND_VALUE', key })],
      ['STORE', plain({ type: 'STORE', key: blake3(new Uint8Array(10)) as Key, value: new Uint8Array(10), ttl: 60, token: new Uint8Array(0) })],
      ['GET_RECORD', plain({ type: 'GET_RECORD', padding: new Uint8Array(2731) })],
      ['HELLO asking for the record, padded', encodeHello(rnd.bytes(NONCE_BYTES), true)],
      ['HELLO asking for the record, unpadded', shortHello],
      ['HELLO (record known)', encodeHello(rnd.bytes(NONCE_BYTES), false)],
      ['HANDSHAKE with a cookie never issued', forgedHandshake],
      ['SEALED of no session', sealedJunk],
    ];
    let worst = 0;
    for (const [i, [name, message]] of cases.entries()) {
      const r = await exchange(`127.5.${i}.1`, message);
      const ratio = r.back / r.out;
      worst = Math.max(worst, ratio);
      report({ test: 'T05', figure: `ratio ${name}`, value: Math.round(ratio * 1000) / 1000, threshold: THRESHOLDS.T05.max_amplification, pass: ratio <= THRESHOLDS.T05.max_amplification });
      expect(ratio, name).toBeLessThanOrEqual(THRESHOLDS.T05.max_amplification);
    }
    const s = node.extendedStats();
    report({ test: 'T05', figure: 'max_amplification', value: Math.round(worst * 1000) / 1000, threshold: THRESHOLDS.T05.max_amplification, pass: worst <= THRESHOLDS.T05.max_amplification });
    // The padded HELLO earned its record; the unpadded one got nothing; plaintext requests other than PING are refused.
    expect(s.sessions.drops.amplification).toBeGreaterThanOrEqual(1);
    expect(s.sessions.drops.bad_cookie).toBe(1);
    expect(s.sessions.whoAreYouSent).toBe(1);
    expect(s.rpc.drops.session_required).toBe(4);
    expect(s.sessions.amplificationPeakRatio).toBeLessThanOrEqual(3);
  });

  it('T06 serves stored values only inside sessions: 1,000 GETs from 10 unvalidated sockets reflect nothing', async () => {
    let client: LightPeer | null = null;
    try {
      client = await lightPeer(pool, { host: '127.6.0.1' });
      const target = { id: node.id, host: node.address.host, port: node.address.port };
      const keys: Key[] = [];
      for (let i = 0; i < 100; i++) {
        const value = new Uint8Array(MAX_VALUE_BYTES).fill(i);
        value[0] = 0xfe;
        const key = blake3(value) as Key;
        const nodes = await client.rpc.request(target, { type: 'FIND_NODE', target: key });
        const token = nodes.type === 'NODES' ? nodes.token : new Uint8Array(0);
        const stored = await client.rpc.request(target, { type: 'STORE', key, value, ttl: 600, token });
        expect(stored.type).toBe('STORED');
        keys.push(key);
      }
      let totalOut = 0;
      let totalBack = 0;
      let worst = 0;
      for (let s = 0; s < 10; s++) {
        const socket = await rawSocket(`127.6.1.${s + 1}`);
        for (const key of keys) socket.transport.send(node.address, plain({ type: 'FIND_VALUE', key }));
        await wait(300);
        const c = socket.transport.counters();
        await socket.close();
        totalOut += c.bytesOut;
        totalBack += c.bytesIn;
        worst = Math.max(worst, c.bytesIn / c.bytesOut);
      }
      report({ test: 'T06', figure: 'amplification_max_per_address', value: worst, threshold: THRESHOLDS.T06.amplification, pass: worst <= THRESHOLDS.T06.amplification });
      report({ test: 'T06', figure: 'amplification_overall', value: totalBack / totalOut, threshold: THRESHOLDS.T06.amplification, pass: totalBack / totalOut <= THRESHOLDS.T06.amplification });
      report({ test: 'T06', figure: 'sf_drdos_kad_reference', value: 2400 });
      expect(worst).toBeLessThanOrEqual(THRESHOLDS.T06.amplification);
      // The validated client still gets every value it asks for.
      const got = await client.rpc.request(target, { type: 'FIND_VALUE', key: keys[42]! });
      expect(got.type === 'VALUE' && got.value?.byteLength).toBe(MAX_VALUE_BYTES);
    } finally {
      await client?.close();
    }
  });
});
