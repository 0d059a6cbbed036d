/**
 * ZkDhtValue STOREs over real UDP to a real node (docs/zk.md): the replay and forgery matrix, each
 * refusal with its wire code and counted (same nonce, lower nonce, nonce ≥ 2^64, proof moved to
 * another key, to another ciphertext, to another commitment, too large, malformed), a replay never
 * reaching the proof check, BUSY when the ZK pool's queue is full, and T29's net variant: hundreds
 * of hostile proofs over the wire, all refused with INVALID_PROOF and counted, while the node keeps
 * answering PINGs from another process, and a node whose ZK pool ran exits within 1 s of stop().
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Packr } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CryptoPool, kemWrap } from '../../src/crypto/index.js';
import type { Contact, Key } from '../../src/id/index.js';
import { DhtNode } from '../../src/node/index.js';
import { NEUTRAL_SCORE } from '../../src/reputation/index.js';
import { type DhtErrorCode, hour, isDhtError, SeededRandom, WIRE_ERROR_CODES } from '../../src/util/index.js';
import { ValueKind } from '../../src/wire/index.js';
import {
  BASE_MODULUS, buildZkValue, decodeProof, encodePoints, encodeZkValue, fieldToBytes, Groth16Prover, MAX_ZK_DATA_BYTES, randomZkOwner,
  type ZkAccessLevel, type ZkDhtValue, zkKey, type ZkOwner, type ZkWorkers,
} from '../../src/zk/index.js';
import { eachLimited, lightPeer, type LightPeer } from '../helpers/peers.js';
import { percentile, pingFromAnotherProcess } from '../helpers/pinger.js';
import { report } from '../helpers/report.js';
import { THRESHOLDS } from '../thresholds.js';

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const random = new SeededRandom(2929);
const prover = new Groth16Prover();
const workers: ZkWorkers = { wrap: async (pks, k, ad, seeds) => kemWrap(pks, k, ad, seeds), prove: (s) => prover.prove('storage_access', s) };
const quiet = { maintenanceInterval: 24 * hour, repairInterval: 24 * hour, republishInterval: 24 * hour };

/** 'STORED' or the error code the node answered with. */
type Outcome = 'STORED' | DhtErrorCode;
const wireCode = (o: Outcome): number => (o === 'STORED' ? 0 : (WIRE_ERROR_CODES as Record<string, number>)[o] ?? -1);

/** A write token from `target` for `key` (FIND_VALUE). */
async function tokenFor(peer: LightPeer, target: Contact, key: Key): Promise<Uint8Array> {
  const reply = await peer.rpc.request(target, { type: 'FIND_VALUE', key });
  if (reply.type !== 'VALUE') throw new Error(`FIND_VALUE answered ${reply.type}`);
  return reply.token;
}

/** Sends one ZK STORE of `bytes` under `key` and returns what the node answered. */
async function storeZk(peer: LightPeer, target: Contact, key: Key, bytes: Uint8Array, token?: Uint8Array): Promise<Outcome> {
  const t = token ?? await tokenFor(peer, target, key);
  try {
    const reply = await peer.rpc.request(target, { type: 'STORE', key, value: bytes, ttl: 600, token: t, kind: ValueKind.ZK, cas: null, replicas: 3 });
    return reply.type === 'STORED' ? 'STORED' : 'REMOTE_ERROR';
  } catch (err) {
    if (isDhtError(err)) return err.code;
    throw err;
  }
}

/** A proven value of `owner`. */
async function make(owner: ZkOwner, name: string, nonce: bigint, data: string, access: ZkAccessLevel = 'public'): Promise<{ key: Key; value: ZkDhtValue }> {
  return buildZkValue(workers, random, { owner, name: text(name), nonce, accessLevel: access, data: text(data) });
}

/** Packs a value's wire fields with some replaced, past encodeZkValue's checks (what a hostile peer can send). */
function hostile(v: ZkDhtValue, replace: { nonce?: unknown; data?: Uint8Array; proof?: Uint8Array } = {}): Uint8Array {
  return new Packr({ useRecords: false, moreTypes: false }).pack([
    1, 0, v.name, fieldToBytes(v.commitment), replace.nonce ?? v.nonce, replace.proof ?? v.validityProof, [], replace.data ?? v.encryptedData,
  ]);
}

let pool: CryptoPool;
let node: DhtNode;
let busyNode: DhtNode;
let reader: DhtNode;
let writer: LightPeer;
let attacker: LightPeer;
const dirs: string[] = [];
const alice = randomZkOwner(random);
const mallory = randomZkOwner(random);

beforeAll(async () => {
  pool = new CryptoPool({ threads: 2 });
  for (let i = 0; i < 3; i++) dirs.push(mkdtempSync(join(tmpdir(), `zhtp-zk-net-${i}-`)));
  node = new DhtNode({ host: '127.0.0.1', port: 0, dataDir: dirs[0]!, cryptoPool: pool, zk: { threads: 1 }, ...quiet });
  await node.start();
  // A ZK pool with room for 2 verifications in flight: a burst must meet BUSY.
  busyNode = new DhtNode({ host: '127.0.0.1', port: 0, dataDir: dirs[1]!, cryptoPool: pool, zk: { threads: 1, maxQueue: 1 }, ...quiet });
  await busyNode.start();
  reader = new DhtNode({ host: '127.0.0.1', port: 0, dataDir: dirs[2]!, cryptoPool: pool, zkPool: node.zkPool, bootstrap: [node.address], ...quiet });
  await reader.start();
  writer = await lightPeer(pool, { host: '127.29.0.1', ephemeral: true });
  attacker = await lightPeer(pool, { host: '127.29.0.2', ephemeral: true });
}, 120_000);

afterAll(async () => {
  await writer?.close();
  await attacker?.close();
  await reader?.stop();
  await busyNode?.stop();
  await node?.stop();
  await pool?.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('ZkDhtValue STORE rules (net)', () => {
  it('refuses every replay and forgery with its wire code, checks nonces before proofs, and counts each refusal', async () => {
    const target = node.contact;
    const v5 = await make(alice, 'profile', 5n, 'version 5');
    const key = v5.key;
    const verificationsBefore = (): number => Object.values(node.extendedStats().zk.verifications).reduce((a, b) => a + b, 0);
    const before = node.extendedStats();
    const rows: Array<[string, Outcome, DhtErrorCode | 'STORED']> = [];
    const step = async (name: string, outcome: Promise<Outcome>, expected: DhtErrorCode | 'STORED'): Promise<void> => {
      rows.push([name, await outcome, expected]);
    };

    await step('first write, nonce 5', storeZk(writer, target, key, encodeZkValue(v5.value)), 'STORED');
    await step('exact replay, nonce 5', storeZk(attacker, target, key, encodeZkValue(v5.value)), 'STALE_NONCE');
    const other5 = await make(alice, 'profile', 5n, 'another value at nonce 5');
    await step('same nonce, other value (owner-made)', storeZk(writer, target, key, encodeZkValue(other5.value)), 'STALE_NONCE');
    const v4 = await make(alice, 'profile', 4n, 'version 4');
    await step('lower nonce (owner-made)', storeZk(writer, target, key, encodeZkValue(v4.value)), 'STALE_NONCE');
    // A stale nonce with garbage for a proof: refused as stale, and no verification ran.
    const verified = verificationsBefore();
    await step('stale nonce, garbage proof', storeZk(attacker, target, key, hostile(v5.value, { proof: random.bytes(256) })), 'STALE_NONCE');
    const verificationsForStale = verificationsBefore() - verified;
    await step('nonce 2^64', storeZk(attacker, target, key, hostile(v5.value, { nonce: 2 ** 64 })), 'NONCE_OUT_OF_RANGE');
    await step('nonce -1', storeZk(attacker, target, key, hostile(v5.value, { nonce: -1 })), 'NONCE_OUT_OF_RANGE');
    const v6 = await make(alice, 'profile', 6n, 'version 6');
    // v6's proof under another of alice's keys (same commitment, other name): the key field differs.
    const moved = { ...v6.value, name: text('other name') };
    const movedKey = zkKey(v6.value.commitment, moved.name);
    await step('proof moved to another key', storeZk(attacker, target, movedKey, encodeZkValue(moved)), 'INVALID_PROOF');
    await step('proof moved to another ciphertext', storeZk(attacker, target, key, hostile(v6.value, { data: text('version 6, edited') })), 'INVALID_PROOF');
    const squat = await make(mallory, 'profile', 6n, 'mallory was here');
    await step('another commitment under this key', storeZk(attacker, target, key, encodeZkValue(squat.value)), 'COMMITMENT_MISMATCH');
    await step('another commitment\'s proof with this commitment', storeZk(attacker, target, key, encodeZkValue({ ...squat.value, commitment: v6.value.commitment })), 'INVALID_PROOF');
    await step('data over 64 KiB', storeZk(attacker, target, key, hostile(v6.value, { data: new Uint8Array(MAX_ZK_DATA_BYTES + 1) })), 'VALUE_TOO_BIG');
    await step('proof of 200 bytes', storeZk(attacker, target, key, hostile(v6.value, { proof: new Uint8Array(200) })), 'INVALID_PROOF');
    await step('not a ZkDhtValue', storeZk(attacker, target, key, text('hello')), 'BAD_REQUEST');
    await step('next version, nonce 6', storeZk(writer, target, key, encodeZkValue(v6.value)), 'STORED');
    await step('replay of nonce 5 after 6', storeZk(attacker, target, key, encodeZkValue(v5.value)), 'STALE_NONCE');

    const after = node.extendedStats();
    const delta = (code: string): number => (after.storeRefusals[code] ?? 0) - (before.storeRefusals[code] ?? 0);
    process.stdout.write(`\n${'ZK STORE case'.padEnd(48)}${'expected'.padEnd(30)}answered\n`);
    for (const [name, got, expected] of rows) process.stdout.write(`${name.padEnd(48)}${`${wireCode(expected)} ${expected}`.padEnd(30)}${wireCode(got)} ${got}\n`);
    for (const [name, got, expected] of rows) report({ test: 'ZK_store_rules', figure: name.replace(/\W+/g, '_'), value: wireCode(got), threshold: wireCode(expected), pass: got === expected });

    for (const [name, got, expected] of rows) expect(`${name}: ${wireCode(got)}`).toBe(`${name}: ${wireCode(expected)}`);
    expect(verificationsForStale).toBe(0);
    expect([delta('STALE_NONCE'), delta('NONCE_OUT_OF_RANGE'), delta('INVALID_PROOF'), delta('COMMITMENT_MISMATCH'), delta('VALUE_TOO_BIG'), delta('BAD_REQUEST')])
      .toEqual([5, 2, 4, 1, 1, 1]);
    expect(after.invalidStores - before.invalidStores).toBe(14);
    expect(after.rpc.sent.ERROR - before.rpc.sent.ERROR).toBe(14);
    // Forgeries penalise the sender; replays and limits do not touch an honest writer.
    const now = node.options.clock.now();
    expect(node.reputation.score(attacker.id, now)).toBeLessThan(NEUTRAL_SCORE);
    expect(node.reputation.score(writer.id, now)).toBeGreaterThanOrEqual(NEUTRAL_SCORE);
    // Only nonce 6 is held, and a reader elsewhere gets it, verified.
    const got = await reader.getZk(key, { decrypt: true });
    expect(got.value.nonce).toBe(6n);
    expect(got.data).toEqual(text('version 6'));
    expect(node.holds(movedKey)).toBe(false);
    expect((await node.ping(writer.address)).id).toEqual(writer.id);
  }, 120_000);

  it('answers BUSY (3) when the ZK pool is full, counts it without blame, and serves again afterwards', async () => {
    const target = busyNode.contact;
    const base = await make(alice, 'busy 0', 0n, 'burst');
    // Full pairings (about 8 ms each): base's proof under 24 other names of alice, nonce 0 each.
    const names = Array.from({ length: 24 }, (_, i) => `busy ${i + 1}`);
    const keys = names.map((n) => zkKey(base.value.commitment, text(n)));
    const tokens = await Promise.all(keys.map((k) => tokenFor(attacker, target, k)));
    const outcomes = await Promise.all(keys.map((k, i) => storeZk(attacker, target, k, encodeZkValue({ ...base.value, name: text(names[i]!) }), tokens[i])));
    const busy = outcomes.filter((o) => o === 'BUSY').length;
    const invalid = outcomes.filter((o) => o === 'INVALID_PROOF').length;
    report({ test: 'ZK_busy', figure: 'busy_answers', value: busy });
    report({ test: 'ZK_busy', figure: 'checked_answers', value: invalid });
    expect(busy + invalid).toBe(keys.length);
    expect(busy).toBeGreaterThan(0);
    expect(invalid).toBeGreaterThan(0);
    const stats = busyNode.extendedStats();
    expect(stats.storeRefusals.BUSY).toBe(busy);
    expect(stats.invalidStores).toBe(invalid);
    expect(stats.zk.busyRejections).toBe(busy);
    expect(await storeZk(writer, target, base.key, encodeZkValue(base.value))).toBe('STORED');
    expect(busyNode.holds(base.key)).toBe(true);
  }, 120_000);
});

describe('T29 hostile ZK proofs over the wire (net)', () => {
  it('T29 refuses every hostile proof with INVALID_PROOF, counts it, and keeps answering PINGs', async () => {
    const target = node.contact;
    const base = await make(alice, 'T29', 1n, 'T29 base');
    expect(await storeZk(writer, target, base.key, encodeZkValue(base.value))).toBe('STORED');
    const other = await make(alice, 'T29 other', 1n, 'another key');
    const good = decodeProof(base.value.validityProof)!;
    const coordinates = [good.a[0], good.a[1], good.b[0][1], good.b[0][0], good.b[1][1], good.b[1][0], good.c[0], good.c[1]];
    const pick = <T>(xs: readonly T[]): T => xs[random.int(xs.length)]!;
    const flipBit = (b: Uint8Array): Uint8Array => { const c = b.slice(); const at = random.int(256); c[at] = c[at]! ^ (1 << random.int(8)); return c; };
    const proofs: Array<{ kind: string; proof: Uint8Array }> = [];
    const add = (kind: string, n: number, make: () => Uint8Array): void => { for (let i = 0; i < n; i++) proofs.push({ kind, proof: make() }); };
    add('random_bytes', 60, () => random.bytes(256));
    add('infinity', 10, () => new Uint8Array(256));
    add('non_canonical', 30, () => withCoordinate(base.value.validityProof, random.int(8), coordinates[random.int(8)]! + BASE_MODULUS));
    add('off_curve', 30, () => encodePoints({ ...good, a: [good.a[0], (good.a[1] + 1n + BigInt(random.int(1000))) % BASE_MODULUS] }));
    add('bit_flip', 40, () => flipBit(base.value.validityProof));
    add('valid_proof_wrong_nonce', 20, () => base.value.validityProof); // sent with a higher nonce: the signals differ
    add('valid_proof_other_key', 10, () => other.value.validityProof);
    const pings = pingFromAnotherProcess(node.address.port, 200, 20, { bindHost: '127.29.0.9' });
    const token = await tokenFor(attacker, target, base.key);
    const before = node.extendedStats();
    const outcomes: Outcome[] = [];
    const started = performance.now();
    await eachLimited(proofs, 8, async (p, i) => {
      const nonce = base.value.nonce + 1n + BigInt(i); // above the stored nonce: every one reaches the proof check
      outcomes[i] = await storeZk(attacker, target, base.key, hostile({ ...base.value, nonce }, { proof: p.proof }), token);
    });
    const attackMs = performance.now() - started;
    const ping = await pings;
    const after = node.extendedStats();
    const falseAccepts = outcomes.filter((o) => o === 'STORED').length;
    const wrongCodes = outcomes.filter((o) => o !== 'INVALID_PROOF').length;
    const counted = (after.storeRefusals.INVALID_PROOF ?? 0) - (before.storeRefusals.INVALID_PROOF ?? 0);
    const answered = ping.rtts.length / ping.sent;
    const T = THRESHOLDS.T29_net;
    report({ test: 'T29_net', figure: 'hostile_proofs', value: proofs.length });
    report({ test: 'T29_net', figure: 'false_accepts', value: falseAccepts, threshold: T.false_accepts, pass: falseAccepts <= T.false_accepts });
    report({ test: 'T29_net', figure: 'wrong_codes', value: wrongCodes, threshold: T.wrong_codes, pass: wrongCodes <= T.wrong_codes });
    report({ test: 'T29_net', figure: 'pings_answered', value: answered, threshold: T.pings_answered, pass: answered >= T.pings_answered });
    report({ test: 'T29_net', figure: 'ping_p99_ms', value: Math.round(percentile(ping.rtts, 99) * 10) / 10 });
    report({ test: 'T29_net', figure: 'attack_ms', value: Math.round(attackMs) });
    const byKind = new Map<string, number>();
    proofs.forEach((p, i) => { if (outcomes[i] !== 'INVALID_PROOF') byKind.set(p.kind, (byKind.get(p.kind) ?? 0) + 1); });

    expect(Object.fromEntries(byKind)).toEqual({});
    expect(falseAccepts).toBe(T.false_accepts);
    expect(counted).toBe(proofs.length);
    expect(after.zk.workerErrors).toBe(0);
    expect(answered).toBeGreaterThanOrEqual(T.pings_answered);
    // Still the value stored before the attack, and still answering.
    expect((await reader.getZk(base.key)).value.nonce).toBe(base.value.nonce);
    expect((await attacker.rpc.request(target, { type: 'PING' })).type).toBe('PONG');
  }, 120_000);

  it('T29 a node whose ZK pool ran exits within 1 s of stop()', async () => {
    const ms = await exitAfterStop();
    report({ test: 'T29_net', figure: 'shutdown_ms', value: Math.round(ms), threshold: THRESHOLDS.T29.shutdown_ms, pass: ms <= THRESHOLDS.T29.shutdown_ms });
    expect(ms).toBeLessThanOrEqual(THRESHOLDS.T29.shutdown_ms);
  }, 60_000);
});

/**
 * Starts an ephemeral node in a child process, runs a verification in its ZK pool (so its worker
 * threads exist), stops the node and resolves with the ms from stop() resolving to the child's
 * exit; rejects when the child fails or is still alive after `limitMs` (it is then killed).
 */
function exitAfterStop(limitMs = 5_000): Promise<number> {
  const entry = join(import.meta.dirname, '../../dist/src/node/index.js');
  const script = `
    const { DhtNode } = await import(${JSON.stringify(entry)});
    const node = new DhtNode({ ephemeral: true, host: '127.0.0.1', port: 0, crypto: { threads: 1 }, zk: { threads: 1 } });
    await node.start();
    const outcome = await node.zkPool.check('storage_access', [1n, 2n, 3n, 4n], new Uint8Array(256).fill(7));
    if (!node.zkPool.started || outcome === 'valid') process.exit(3);
    await node.stop();
    process.stdout.write('stopped\\n');
  `;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stoppedAt: number | undefined;
    let output = '';
    const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
      if (stoppedAt === undefined && output.includes('stopped')) {
        stoppedAt = performance.now();
        setTimeout(() => child.kill('SIGKILL'), limitMs).unref();
      }
    });
    child.stderr.on('data', (d: Buffer) => { output += d.toString(); });
    child.on('exit', (code, signal) => {
      clearTimeout(killer);
      if (stoppedAt === undefined || code !== 0) reject(new Error(`child ended with ${code ?? signal}${stoppedAt === undefined ? ' before stopping' : ' (killed: alive after stop)'}:\n${output}`));
      else resolve(performance.now() - stoppedAt);
    });
  });
}

/** `bytes` with coordinate i (0..7, wire order) replaced by `value` (any number below 2^256). */
function withCoordinate(bytes: Uint8Array, i: number, value: bigint): Uint8Array {
  const out = bytes.slice();
  out.set(Buffer.from(value.toString(16).padStart(64, '0'), 'hex'), i * 32);
  return out;
}
