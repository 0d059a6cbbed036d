/**
 * T20 and T25: signed mutable records through the network (RELIABILITY.md §5 E).
 *
 * T20 sends hand-made signed STOREs from light peers to one real node on 127.0.0.1, one per rule
 * of BEP 44 as we apply it (bad signature, seq lower / equal / reused, CAS, salt and value
 * limits, wrong target, replay), and checks the error code of each, that an equal record
 * refreshes the TTL, that reads never go below an acknowledged seq, that refusals are counted
 * and that a forger loses reputation. The node and the writers share a ManualClock, so the TTL
 * refresh is shown exactly: the refreshed record outlives an unrefreshed one stored at the same
 * time with the same TTL.
 *
 * T25 places seq 5 on 15 of the 20 nodes closest to a key and seq 3 on the other 5, then reads
 * with a quorum of 3 from a node outside that set: the read returns seq 5 and its entry
 * correction leaves every stale holder at seq 5.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Packr } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blake3, CryptoPool, mldsaKeygen, mldsaSign, type SigningKeys } from '../../src/crypto/index.js';
import { compareDistance, type Contact, type Key } from '../../src/id/index.js';
import { DhtNode, TOKEN_ROTATION } from '../../src/node/index.js';
import { NEUTRAL_SCORE } from '../../src/reputation/index.js';
import { type DhtErrorCode, hour, isDhtError, ManualClock, SeededRandom, second, WIRE_ERROR_CODES } from '../../src/util/index.js';
import {
  decodeMutable, encodeMutable, MAX_MUTABLE_VALUE_BYTES, MAX_SALT_BYTES, type MutableRecord, mutableKey, mutableSigningPayload, signMutable,
} from '../../src/values/index.js';
import { ValueKind } from '../../src/wire/index.js';
import { createTestnet, type Testnet } from '../helpers/index.js';
import { eachLimited, lightPeer, type LightPeer } from '../helpers/peers.js';
import { report } from '../helpers/report.js';
import { THRESHOLDS } from '../thresholds.js';

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
/** Seeded ML-DSA keys: the same records every run. */
const keysFrom = (label: string): SigningKeys => mldsaKeygen(blake3(text(label)));

/** Packs a record the way a hostile peer could, past encodeMutable's limit checks. */
const rawRecord = (r: MutableRecord): Uint8Array =>
  new Packr({ useRecords: false, moreTypes: false }).pack([1, r.publicKey, r.salt, r.seq, r.value, r.signature]);

/** A record signed by `keys` without signMutable's limit checks (for the oversized cases). */
const signRaw = (keys: SigningKeys, salt: Uint8Array, seq: number, value: Uint8Array): MutableRecord => ({
  publicKey: keys.publicKey, salt, seq, value, signature: mldsaSign(keys.secretKey, mutableSigningPayload(salt, seq, value)),
});

/** 'STORED' or the error code the node answered with. */
type Outcome = 'STORED' | DhtErrorCode;
/** The wire number of an outcome; 0 stands for STORED. */
const wireCode = (o: Outcome): number => (o === 'STORED' ? 0 : (WIRE_ERROR_CODES as Record<string, number>)[o] ?? -1);

/**
 * Rejects after `ms` of real time: RPC deadlines of a peer on a ManualClock never fire while the
 * clock stands still, so a lost answer would otherwise hang until the test timeout.
 */
function within<T>(promise: Promise<T>, what: string, ms = 10_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms); });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** FIND_VALUE from `peer` to `target`: the write token and the mutable record served, if any. */
async function findValue(peer: LightPeer, target: Contact, key: Key): Promise<{ token: Uint8Array; record: MutableRecord | null }> {
  const reply = await within(peer.rpc.request(target, { type: 'FIND_VALUE', key }), 'FIND_VALUE');
  if (reply.type !== 'VALUE') throw new Error(`FIND_VALUE answered ${reply.type}`);
  return { token: reply.token, record: reply.value === null ? null : decodeMutable(reply.value) };
}

/** Sends a signed mutable STORE (with a fresh token) and returns what the node answered. */
async function storeMutable(peer: LightPeer, target: Contact, key: Key, bytes: Uint8Array, opts: { cas?: number; ttlS?: number } = {}): Promise<Outcome> {
  const { token } = await findValue(peer, target, key);
  try {
    const reply = await within(peer.rpc.request(target, {
      type: 'STORE', key, value: bytes, ttl: opts.ttlS ?? 600, token, kind: ValueKind.MUTABLE, cas: opts.cas ?? null, replicas: 3,
    }), 'STORE');
    return reply.type === 'STORED' ? 'STORED' : 'REMOTE_ERROR';
  } catch (err) {
    if (isDhtError(err)) return err.code;
    throw err;
  }
}

describe('T20 mutable-record rule matrix (net)', () => {
  /** A start time on a token-rotation boundary near today's wall clock. */
  const START = Math.floor(1_700_000_000_000 / TOKEN_ROTATION) * TOKEN_ROTATION;
  const clock = new ManualClock(START);
  let pool: CryptoPool;
  let node: DhtNode;
  /** A second node (system clock) that reads with getMutable, as any client would. */
  let reader: DhtNode;
  let writer: LightPeer;
  let forger: LightPeer;
  let dirs: string[] = [];
  let target: Contact;

  beforeAll(async () => {
    pool = new CryptoPool({ threads: 2 });
    dirs = [mkdtempSync(join(tmpdir(), 'zhtp-t20-a-')), mkdtempSync(join(tmpdir(), 'zhtp-t20-b-'))];
    // Timers fire only when the test advances the clock: no maintenance or repair round in between.
    const quiet = { maintenanceInterval: 24 * hour, repairInterval: 24 * hour, republishInterval: 24 * hour };
    node = new DhtNode({ host: '127.0.0.1', port: 0, dataDir: dirs[0]!, cryptoPool: pool, clock, ...quiet });
    await node.start();
    target = node.contact;
    reader = new DhtNode({ host: '127.0.0.1', port: 0, dataDir: dirs[1]!, cryptoPool: pool, bootstrap: [node.address], ...quiet });
    await reader.start();
    writer = await lightPeer(pool, { host: '127.20.0.1', clock, ephemeral: true });
    forger = await lightPeer(pool, { host: '127.20.0.2', clock, ephemeral: true });
  });

  afterAll(async () => {
    await writer?.close();
    await forger?.close();
    await reader?.stop();
    await node?.stop();
    await pool?.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('T20 each BEP 44 rule answers its code, an equal record refreshes the TTL, and reads never go below an acknowledged seq', async () => {
    const alice = keysFrom('T20 alice');
    const salt = text('T20 main');
    const key = mutableKey(alice.publicKey, salt);
    const sign = (seq: number, value: string, s = salt): MutableRecord => signMutable(alice.secretKey, alice.publicKey, s, seq, text(value));
    const v5 = sign(5, 'value at seq 5');
    const statsBefore = node.extendedStats();
    const now = (): number => clock.now();

    // Reads after every step: the writer's FIND_VALUE and the reader node's quorum GET.
    let acked = -1;
    let reads = 0;
    let readsBelowAcked = 0;
    const observe = async (): Promise<void> => {
      const direct = (await findValue(writer, target, key)).record;
      const got = await reader.getMutable(alice.publicKey, { salt, quorum: 1 });
      for (const seq of [direct?.seq ?? -1, got.seq]) {
        reads++;
        if (seq < acked) readsBelowAcked++;
      }
    };
    const rows: Array<{ name: string; figure: keyof typeof THRESHOLDS.T20; outcome: Outcome }> = [];
    const step = async (name: string, figure: keyof typeof THRESHOLDS.T20, outcome: Outcome, seqIfStored: number | null): Promise<void> => {
      rows.push({ name, figure, outcome });
      if (outcome === 'STORED' && seqIfStored !== null) acked = Math.max(acked, seqIfStored);
      await observe();
    };

    // Baseline at t0: seq 5 under the main key, and a control record with the same TTL (600 s).
    const control = sign(0, 'control', text('T20 control'));
    const controlKey = mutableKey(alice.publicKey, control.salt);
    expect(await storeMutable(writer, target, key, encodeMutable(v5))).toBe('STORED');
    expect(await storeMutable(writer, target, controlKey, encodeMutable(control))).toBe('STORED');
    acked = 5;
    await observe();

    // Bad signature (from the forger): a valid seq-6 record with one signature byte flipped.
    const forgedRecord = sign(6, 'forged at seq 6');
    forgedRecord.signature[100] = forgedRecord.signature[100]! ^ 0x01;
    const forgerScoreBefore = node.reputation.score(forger.id, now());
    await step('bad signature', 'case_bad_signature_code', await storeMutable(forger, target, key, encodeMutable(forgedRecord)), 6);
    const forgerScoreAfter = node.reputation.score(forger.id, now());
    // seq below the stored one.
    await step('seq < stored', 'case_seq_lower_code', await storeMutable(writer, target, key, encodeMutable(sign(4, 'value at seq 4'))), 4);
    // Same seq, another value.
    await step('seq = stored, other value', 'case_seq_reused_code', await storeMutable(writer, target, key, encodeMutable(sign(5, 'another value at seq 5'))), null);

    // Same seq, same value, 400 s later: accepted and the TTL restarts (expiry t0 + 1,000 s instead of t0 + 600 s).
    clock.advance(400 * second);
    await step('seq = stored, same value', 'case_seq_equal_same_value_code', await storeMutable(writer, target, key, encodeMutable(v5)), 5);
    clock.advance(400 * second); // t0 + 800 s: past the first TTL, inside the refreshed one
    const mainAlive = node.holds(key);
    const controlAlive = node.holds(controlKey);
    const refreshed = mainAlive && !controlAlive ? 1 : 0;

    // CAS that is not the stored seq, then the same write with the right CAS (the newer record).
    const v6 = sign(6, 'value at seq 6');
    await step('cas != stored', 'case_cas_mismatch_code', await storeMutable(writer, target, key, encodeMutable(v6), { cas: 4 }), 6);
    await step('cas = stored (newer record)', 'case_cas_match_code', await storeMutable(writer, target, key, encodeMutable(v6), { cas: 5 }), 6);
    // CAS on a key that holds nothing: BEP 44 says it SHOULD be ignored.
    const fresh = sign(0, 'first write', text('T20 cas on a missing key'));
    const freshKey = mutableKey(alice.publicKey, fresh.salt);
    await step('cas on a missing key', 'case_cas_missing_key_code', await storeMutable(writer, target, freshKey, encodeMutable(fresh), { cas: 7 }), null);
    // Salt over 64 B: validly signed, stored under its own correct key, packed by hand.
    const bigSalt = new Uint8Array(MAX_SALT_BYTES + 1).fill(0x53);
    const saltRecord = signRaw(alice, bigSalt, 0, text('salt too big'));
    expect(() => encodeMutable(saltRecord)).toThrow(RangeError);
    const saltKey = mutableKey(alice.publicKey, bigSalt);
    await step('salt > 64 B', 'case_salt_too_big_code', await storeMutable(writer, target, saltKey, rawRecord(saltRecord)), null);
    // Value over 64 KiB inside the record: validly signed, under the main key, packed by hand.
    const bigValue = new Uint8Array(MAX_MUTABLE_VALUE_BYTES + 1).fill(0x56);
    const valueRecord = signRaw(alice, salt, 7, bigValue);
    await step('value > 64 KiB', 'case_value_too_big_code', await storeMutable(writer, target, key, rawRecord(valueRecord)), 7);
    // A valid record sent under a key that is not BLAKE3(pk ‖ salt).
    const wrongKey = mutableKey(alice.publicKey, text('T20 some other salt'));
    await step('target != BLAKE3(pk ‖ salt)', 'case_wrong_target_code', await storeMutable(writer, target, wrongKey, encodeMutable(sign(8, 'misplaced'))), null);
    // Replay of the old valid seq-5 record after seq 6.
    await step('replay of an older record', 'case_replay_old_code', await storeMutable(writer, target, key, encodeMutable(v5)), 5);

    const final = (await findValue(writer, target, key)).record;
    const statsAfter = node.extendedStats();
    const errorsSent = statsAfter.rpc.sent.ERROR - statsBefore.rpc.sent.ERROR;
    const invalidStores = statsAfter.invalidStores - statsBefore.invalidStores;
    const refusals = rows.filter((r) => r.outcome !== 'STORED').length;

    // Human table, then one JSON line per case.
    const pad = (s: string, n: number): string => s.padEnd(n);
    process.stdout.write(`\n${pad('T20 case', 30)}${pad('expected', 10)}${pad('answered', 26)}pass\n`);
    for (const r of rows) {
      const expected = THRESHOLDS.T20[r.figure];
      process.stdout.write(`${pad(r.name, 30)}${pad(String(expected), 10)}${pad(`${wireCode(r.outcome)} ${r.outcome}`, 26)}${wireCode(r.outcome) === expected}\n`);
    }
    process.stdout.write(`ttl refreshed: ${refreshed === 1} (main alive ${mainAlive}, control alive ${controlAlive}); reads ${reads}, below acked ${readsBelowAcked}; `
      + `errors sent ${errorsSent}, invalid stores ${invalidStores}; forger score ${forgerScoreBefore.toFixed(3)} -> ${forgerScoreAfter.toFixed(3)}\n\n`);
    for (const r of rows) {
      const value = wireCode(r.outcome);
      report({ test: 'T20', figure: r.figure, value, threshold: THRESHOLDS.T20[r.figure], pass: value === THRESHOLDS.T20[r.figure] });
    }
    report({ test: 'T20', figure: 'ttl_refreshed', value: refreshed, threshold: THRESHOLDS.T20.ttl_refreshed, pass: refreshed === THRESHOLDS.T20.ttl_refreshed });
    report({ test: 'T20', figure: 'refusals_answered_as_error', value: errorsSent });
    report({ test: 'T20', figure: 'forger_score_after', value: Math.round(forgerScoreAfter * 1000) / 1000 });
    report({ test: 'T20', figure: 'reads_below_acked_seq', value: readsBelowAcked, threshold: THRESHOLDS.T20.reads_below_acked_seq, pass: readsBelowAcked <= THRESHOLDS.T20.reads_below_acked_seq });

    for (const r of rows) expect(`${r.name}: ${wireCode(r.outcome)}`).toBe(`${r.name}: ${THRESHOLDS.T20[r.figure]}`);
    expect({ mainAlive, controlAlive }).toEqual({ mainAlive: true, controlAlive: false });
    expect(readsBelowAcked).toBe(0);
    expect(reads).toBe(2 * (rows.length + 1));
    expect(final?.seq).toBe(6);
    expect(final?.value).toEqual(v6.value);
    // Nothing refused left a record behind.
    expect([node.holds(saltKey), node.holds(wrongKey), node.holds(freshKey)]).toEqual([false, false, true]);
    // Every refusal went out as an ERROR; the four that fail a record check are counted as invalid stores.
    expect(refusals).toBe(8);
    expect(errorsSent).toBe(refusals);
    expect(invalidStores).toBe(4);
    // A forged signature is evidence of malice: the forger drops below neutral; rule refusals are not.
    expect(forgerScoreBefore).toBe(NEUTRAL_SCORE);
    expect(forgerScoreAfter).toBeLessThan(NEUTRAL_SCORE);
    expect(node.reputation.score(writer.id, now())).toBeGreaterThanOrEqual(NEUTRAL_SCORE);
  });
});

describe('T25 quorum read and entry correction (net)', () => {
  const N = 22;
  let net: Testnet;
  let peer: LightPeer;

  beforeAll(async () => {
    // Seeded ids keep the topology the same from run to run; no repair round runs during the test.
    net = await createTestnet(N, { random: new SeededRandom(2525), repairInterval: 24 * hour, republishInterval: 24 * hour });
    peer = await lightPeer(net.nodes[0]!.cryptoPool, { host: '127.25.0.1', ephemeral: true });
  });

  afterAll(async () => {
    await peer?.close();
    await net?.destroy();
  });

  it('T25 a quorum read returns seq 5 and brings the 5 stale holders of the 20 closest to seq 5', async () => {
    const keys = keysFrom('T25 owner');
    const salt = text('T25');
    const key = mutableKey(keys.publicKey, salt);
    const v5 = encodeMutable(signMutable(keys.secretKey, keys.publicKey, salt, 5, text('value at seq 5')));
    const v3 = encodeMutable(signMutable(keys.secretKey, keys.publicKey, salt, 3, text('value at seq 3')));

    const sorted = [...net.nodes].sort((a, b) => compareDistance(key, a.id, b.id));
    const closest = sorted.slice(0, 20);
    // Spread the stale holders over the ranks, the closest one included.
    const staleRanks = new Set([0, 4, 8, 12, 16]);
    const stale = closest.filter((_, i) => staleRanks.has(i));
    const fresh = closest.filter((_, i) => !staleRanks.has(i));
    const readerNode = sorted[sorted.length - 1]!;
    expect(closest).not.toContain(readerNode);

    const outcomes: Outcome[] = [];
    await eachLimited([...fresh.map((n) => [n, v5] as const), ...stale.map((n) => [n, v3] as const)], 4, async ([n, bytes]) => {
      outcomes.push(await storeMutable(peer, n.contact, key, bytes, { ttlS: 3600 }));
    });
    expect(outcomes.filter((o) => o === 'STORED').length).toBe(20);

    const seqAt = async (n: DhtNode): Promise<number> => (await findValue(peer, n.contact, key)).record?.seq ?? -1;
    const staleBefore = (await Promise.all(closest.map(seqAt))).filter((s) => s < 5).length;
    expect(staleBefore).toBe(5);

    const storesBefore = readerNode.extendedStats().rpc.sent.STORE;
    const got = await readerNode.getMutable(keys.publicKey, { salt, quorum: 3 });
    const putsSent = readerNode.extendedStats().rpc.sent.STORE - storesBefore;
    // getMutable awaits its corrections: no waiting needed before reading the holders again.
    const staleSeqsAfter = await Promise.all(stale.map(seqAt));
    const staleAfter = (await Promise.all(closest.map(seqAt))).filter((s) => s < 5).length;

    process.stdout.write(`\nT25: ${N} nodes; read seq ${got.seq}, agreeing ${got.agreeing}, quorumMet ${got.quorumMet}, stale seen ${got.stale}, `
      + `corrected ${got.corrected}, STOREs sent ${putsSent}, hops ${got.hops}; stale holders ${staleBefore} -> ${staleAfter}\n\n`);
    const t = THRESHOLDS.T25;
    report({ test: 'T25', figure: 'returned_seq', value: got.seq, threshold: t.returned_seq, pass: got.seq === t.returned_seq });
    report({ test: 'T25', figure: 'stale_holders_before', value: staleBefore });
    report({ test: 'T25', figure: 'stale_holders_after', value: staleAfter, threshold: t.stale_holders_after, pass: staleAfter <= t.stale_holders_after });
    report({ test: 'T25', figure: 'corrected', value: got.corrected });
    report({ test: 'T25', figure: 'extra_puts_sent', value: putsSent });

    expect(got.seq).toBe(5);
    expect(got.quorumMet).toBe(true);
    expect(got.agreeing).toBeGreaterThanOrEqual(3);
    expect(got.stale).toBe(5);
    expect(got.rejected).toBe(0);
    expect(staleSeqsAfter).toEqual([5, 5, 5, 5, 5]);
    expect(staleAfter).toBe(0);
    // Entry correction reached every stale holder, and each correction is one STORE.
    expect(got.corrected).toBeGreaterThanOrEqual(5);
    expect(putsSent).toBe(got.corrected);
  });
});
