/**
 * T22: write tokens (BEP 5) through the network. A real node on 127.0.0.1 and two light peers
 * share one ManualClock, so token rotation is driven exactly. Only a STORE carrying a token that
 * the node issued to the same IP, for the same key, at most two rotations ago is accepted; a
 * token lives between one and two rotation periods (5 to 10 minutes).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blake3, CryptoPool } from '../../src/crypto/index.js';
import type { Contact, Key } from '../../src/id/index.js';
import { DhtNode, TOKEN_ROTATION } from '../../src/node/index.js';
import { type DhtErrorCode, hour, isDhtError, ManualClock, minute, second, WIRE_ERROR_CODES } from '../../src/util/index.js';
import { lightPeer, type LightPeer } from '../helpers/peers.js';
import { report } from '../helpers/report.js';
import { THRESHOLDS } from '../thresholds.js';

/** A start time on a rotation boundary, near today's wall clock (the value itself does not matter). */
const START = Math.floor(1_700_000_000_000 / TOKEN_ROTATION) * TOKEN_ROTATION;
/** Steps of the validity scan. */
const STEP = 30 * second;

const clock = new ManualClock(START);
let pool: CryptoPool;
let node: DhtNode;
let c1: LightPeer;
let c2: LightPeer;
let dir: string;
let target: Contact;

beforeAll(async () => {
  pool = new CryptoPool({ threads: 2 });
  dir = mkdtempSync(join(tmpdir(), 'zhtp-tokens-'));
  // The node's timers fire only when the test advances the clock; maintenance must not run in between.
  node = new DhtNode({ host: '127.0.0.1', port: 0, dataDir: dir, cryptoPool: pool, clock, maintenanceInterval: 24 * hour });
  await node.start();
  c1 = await lightPeer(pool, { host: '127.22.0.1', clock });
  c2 = await lightPeer(pool, { host: '127.22.0.2', clock });
  target = { id: node.id, host: node.address.host, port: node.address.port };
});

afterAll(async () => {
  await c1?.close();
  await c2?.close();
  await node?.stop();
  await pool?.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

/**
 * Rejects after `ms` of real time: RPC deadlines run on the manual clock, which stands still
 * while a request is in flight, so a lost answer would otherwise hang until the test timeout.
 */
function within<T>(promise: Promise<T>, what: string, ms = 10_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms); });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** The write token the node gives `peer` for `key` in a NODES answer. */
async function tokenFor(peer: LightPeer, key: Key): Promise<Uint8Array> {
  const reply = await within(peer.rpc.request(target, { type: 'FIND_NODE', target: key }), 'FIND_NODE');
  if (reply.type !== 'NODES') throw new Error(`FIND_NODE answered ${reply.type}`);
  return reply.token;
}

/** 'STORED', or the error code the node answered with. */
async function tryStore(peer: LightPeer, value: Uint8Array, key: Key, token: Uint8Array): Promise<'STORED' | DhtErrorCode> {
  try {
    const reply = await within(peer.rpc.request(target, { type: 'STORE', key, value, ttl: 60, token }), 'STORE');
    return reply.type === 'STORED' ? 'STORED' : 'REMOTE_ERROR';
  } catch (err) {
    if (isDhtError(err)) return err.code;
    throw err;
  }
}

const content = (label: string): { value: Uint8Array; key: Key } => {
  const value = new TextEncoder().encode(`T22 content ${label}`);
  return { value, key: blake3(value) as Key };
};

describe('write tokens', () => {
  it('T22 only a token issued to the same IP, for the same key, within two rotations is accepted', async () => {
    const { value, key } = content('matrix');
    const other = content('other key');
    const badTokensBefore = node.extendedStats().badTokens;

    // no token
    const noToken = await tryStore(c1, value, key, new Uint8Array(0));
    // C1's token, spent by C2 (another IP)
    const c1Token = await tokenFor(c1, key);
    expect(c1Token.byteLength).toBe(16);
    const foreignIp = await tryStore(c2, value, key, c1Token);
    // C1's token for another key
    const otherKey = await tryStore(c1, value, key, await tokenFor(c1, other.key));
    // a token older than two rotations
    const old = await tokenFor(c1, key);
    clock.advance(2 * TOKEN_ROTATION + 1 * second);
    const expired = await tryStore(c1, value, key, old);
    expect(node.holds(key)).toBe(false); // nothing refused left a value behind
    // a valid token
    const valid = await tryStore(c1, value, key, await tokenFor(c1, key));

    const outcomes = { noToken, foreignIp, otherKey, expired, valid };
    expect(outcomes).toEqual({ noToken: 'BAD_TOKEN', foreignIp: 'BAD_TOKEN', otherKey: 'BAD_TOKEN', expired: 'BAD_TOKEN', valid: 'STORED' });
    expect(WIRE_ERROR_CODES.BAD_TOKEN).toBe(204); // the code the refusals travelled with
    expect(node.holds(key)).toBe(true);
    expect(node.holds(other.key)).toBe(false);
    expect(node.extendedStats().badTokens - badTokensBefore).toBe(4);

    const accepted = (o: string): number => (o === 'STORED' ? 1 : 0);
    const matrix: Array<[string, number, number]> = [
      ['accepted_no_token', accepted(noToken), 0],
      ['accepted_foreign_ip', accepted(foreignIp), 0],
      ['accepted_other_key', accepted(otherKey), 0],
      ['accepted_expired', accepted(expired), 0],
      ['accepted_valid', accepted(valid), 1],
    ];
    for (const [figure, value, threshold] of matrix) report({ test: 'T22', figure, value, threshold, pass: value === threshold });
    const invalid = accepted(noToken) + accepted(foreignIp) + accepted(otherKey) + accepted(expired);
    report({ test: 'T22', figure: 'invalid_tokens_accepted', value: invalid, threshold: THRESHOLDS.T22.invalid_tokens_accepted, pass: invalid <= THRESHOLDS.T22.invalid_tokens_accepted });
    report({ test: 'T22', figure: 'valid_tokens_accepted', value: accepted(valid), threshold: THRESHOLDS.T22.valid_tokens_accepted, pass: accepted(valid) >= THRESHOLDS.T22.valid_tokens_accepted });
  });

  it('T22 a token lives between one and two rotation periods (5 to 10 minutes), measured through the network', async () => {
    const { value, key } = content('validity');

    /** Issues a token `offset` ms into the next rotation period, then re-stores with it every STEP until refused. */
    async function scan(offset: number): Promise<{ lastAccepted: number; firstRejected: number }> {
      const now = clock.now();
      clock.advance(Math.ceil((now + 1) / TOKEN_ROTATION) * TOKEN_ROTATION - now + offset);
      const token = await tokenFor(c1, key);
      let lastAccepted = -1;
      for (let t = 0; t <= 2 * TOKEN_ROTATION + STEP; t += STEP) {
        if (t > 0) clock.advance(STEP);
        const outcome = await tryStore(c1, value, key, token);
        if (outcome === 'BAD_TOKEN') return { lastAccepted, firstRejected: t };
        expect(outcome).toBe('STORED');
        lastAccepted = t;
      }
      throw new Error(`a token issued ${offset} ms into a period was still accepted ${2 * TOKEN_ROTATION + STEP} ms later`);
    }

    // Issued in the first millisecond of a period: the longest life. In the last: the shortest.
    const longest = await scan(0);
    const shortest = await scan(TOKEN_ROTATION - 1);
    expect(longest).toEqual({ lastAccepted: 2 * TOKEN_ROTATION - STEP, firstRejected: 2 * TOKEN_ROTATION });
    expect(shortest).toEqual({ lastAccepted: TOKEN_ROTATION, firstRejected: TOKEN_ROTATION + STEP });

    // Validity lies in [lastAccepted, firstRejected): ≥ 1 period from the shortest, < 2 from the longest.
    const minS = shortest.lastAccepted / second;
    const maxS = longest.firstRejected / second;
    const rotationS = TOKEN_ROTATION / second;
    const minThreshold = THRESHOLDS.T22.validity_min_rotations * rotationS;
    const maxThreshold = THRESHOLDS.T22.validity_max_rotations * rotationS;
    report({ test: 'T22', figure: 'validity_window_min_s', value: minS, threshold: minThreshold, pass: minS >= minThreshold });
    report({ test: 'T22', figure: 'validity_window_max_s', value: maxS, threshold: maxThreshold, pass: maxS <= maxThreshold });
    expect(minS).toBeGreaterThanOrEqual(5 * minute / second);
    expect(maxS).toBeLessThanOrEqual(10 * minute / second);
    expect(node.holds(key)).toBe(true);
  });
});
