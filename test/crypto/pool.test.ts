/**
 * The crypto worker pool with real worker threads (dist/workers/crypto.js): results equal the
 * single-thread functions, verify() batching, buffer transfer, the bounded queue (BUSY), task
 * failures that leave the pool alive, close() (DESTROYED, no thread left), option validation.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import {
  blake3, CryptoPool, DEFAULT_HASH_THRESHOLD, DEFAULT_MAX_QUEUE, DEFAULT_VERIFY_BATCH, MLDSA65_PUBLIC_KEY_BYTES,
  MLDSA65_SECRET_KEY_BYTES, MLDSA65_SIGNATURE_BYTES, MLKEM768_PUBLIC_KEY_BYTES, MLKEM768_SECRET_KEY_BYTES, mldsaKeygen,
  mldsaSign, mldsaVerify, kemWrap, mlkemKeygen, nodeIdFromPublicKey, type SignatureCheck,
} from '../../src/crypto/index.js';
import { DhtError } from '../../src/util/index.js';
import { dsaKeys, fromHex, loadVector, PoolRegistry, toHex } from './fixtures.js';

const pools = new PoolRegistry();
afterEach(() => pools.closeAll());

/** How a settled promise ended: 'ok', or the DhtError code / 'Error: message' it failed with. */
const outcome = (p: Promise<unknown>): Promise<string> =>
  p.then(() => 'ok', (e: unknown) => (e instanceof DhtError ? e.code : `${(e as Error).name}: ${(e as Error).message}`));

const count = (xs: readonly string[], x: string): number => xs.filter((y) => y === x).length;

// Signature checks: two valid ones and every kind of invalid one, each answered once on this thread.
const k1 = dsaKeys(11);
const k2 = dsaKeys(12);
const m1 = new TextEncoder().encode('zhtp/v1/test message one');
const m2 = new TextEncoder().encode('zhtp/v1/test message two');
const s1 = mldsaSign(k1.secretKey, m1);
const s2 = mldsaSign(k2.secretKey, m2);
const sEmpty = mldsaSign(k1.secretKey, new Uint8Array(0));
const flipped = s1.slice();
flipped[100] = flipped[100]! ^ 0x10;
const VARIANTS: readonly SignatureCheck[] = [
  { publicKey: k1.publicKey, message: m1, signature: s1 }, // valid
  { publicKey: k2.publicKey, message: m2, signature: s2 }, // valid
  { publicKey: k1.publicKey, message: new Uint8Array(0), signature: sEmpty }, // valid, empty message
  { publicKey: k1.publicKey, message: m2, signature: s1 }, // other message
  { publicKey: k2.publicKey, message: m1, signature: s1 }, // other key
  { publicKey: k1.publicKey, message: m1, signature: flipped }, // one bit flipped
  { publicKey: k1.publicKey, message: m1, signature: s1.subarray(1) }, // short signature
  { publicKey: k1.publicKey.subarray(1), message: m1, signature: s1 }, // short key
  { publicKey: k1.publicKey, message: m1, signature: new Uint8Array(MLDSA65_SIGNATURE_BYTES) }, // zeros
];
const EXPECTED = VARIANTS.map((c) => mldsaVerify(c.publicKey, c.message, c.signature));
const VALID = VARIANTS[0]!;

/** OS threads of this process (Linux), or null where /proc is not there. */
function osThreads(): number | null {
  try {
    return Number(/Threads:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]);
  } catch {
    return null; // not Linux: the thread-count check is skipped, stats().threads still checked
  }
}

describe('CryptoPool options', () => {
  it('names the option in every validation error', () => {
    const cases: Array<[object, string]> = [
      [{ threads: 0 }, 'options.threads must be a positive integer'],
      [{ threads: -1 }, 'options.threads must be a positive integer'],
      [{ threads: 1.5 }, 'options.threads must be a positive integer'],
      [{ threads: Number.NaN }, 'options.threads must be a positive integer'],
      [{ threads: 1, maxQueue: 0 }, 'options.maxQueue must be a positive integer'],
      [{ threads: 1, maxQueue: 2.5 }, 'options.maxQueue must be a positive integer'],
      [{ threads: 1, batchSize: 0 }, 'options.batchSize must be a positive integer'],
      [{ threads: 1, batchSize: Infinity }, 'options.batchSize must be a positive integer'],
      [{ threads: 1, hashThreshold: -1 }, 'options.hashThreshold must be a non-negative integer'],
      [{ threads: 1, hashThreshold: 0.5 }, 'options.hashThreshold must be a non-negative integer'],
    ];
    for (const [init, message] of cases) {
      expect(() => pools.open(init), JSON.stringify(init)).toThrow(RangeError);
      expect(() => pools.open(init), JSON.stringify(init)).toThrow(message);
    }
  });

  it('uses the documented defaults and accepts hashThreshold 0', async () => {
    const pool = pools.open({ threads: 2 });
    expect([pool.threads, pool.maxQueue, pool.batchSize, pool.hashThreshold])
      .toEqual([2, DEFAULT_MAX_QUEUE, DEFAULT_VERIFY_BATCH, DEFAULT_HASH_THRESHOLD]);
    expect(pool.stats()).toMatchObject({ threads: 2, maxQueue: DEFAULT_MAX_QUEUE, busyRejections: 0, verifyBatches: 0 });
    const everything = pools.open({ threads: 1, hashThreshold: 0 });
    const r = await everything.hash(new Uint8Array([1]));
    expect(toHex(r.digest)).toBe(toHex(blake3(new Uint8Array([1]))));
    expect(everything.stats()).toMatchObject({ hashesInline: 0, hashesInPool: 1 });
  });
});

describe('CryptoPool.hash', () => {
  it('equals single-thread BLAKE3 for random inputs below and above hashThreshold', async () => {
    const pool = pools.open({ threads: 2, hashThreshold: 1024 });
    let inline = 0;
    let pooled = 0;
    const sizes = fc.oneof(fc.uint8Array({ maxLength: 1024 }), fc.uint8Array({ minLength: 1025, maxLength: 8192 }));
    await fc.assert(fc.asyncProperty(sizes, async (data) => {
      const expected = toHex(blake3(data));
      if (data.byteLength <= 1024) inline++;
      else pooled++;
      const r = await pool.hash(data);
      expect(toHex(r.digest)).toBe(expected);
      expect(r.digest.byteLength).toBe(32);
    }), { numRuns: 80 });
    expect(inline).toBeGreaterThan(0);
    expect(pooled).toBeGreaterThan(0);
    expect(pool.stats()).toMatchObject({ hashesInline: inline, hashesInPool: pooled });
  });

  it('hashes exactly hashThreshold bytes inline and one byte more in a worker', async () => {
    const pool = pools.open({ threads: 2 });
    const atLimit = new Uint8Array(DEFAULT_HASH_THRESHOLD).fill(5);
    const r1 = await pool.hash(atLimit);
    expect(r1.data).toBe(atLimit); // inline: the very same view back
    expect(pool.stats()).toMatchObject({ hashesInline: 1, hashesInPool: 0 });
    const over = new Uint8Array(DEFAULT_HASH_THRESHOLD + 1).fill(5);
    const expected = toHex(blake3(over));
    const r2 = await pool.hash(over);
    expect(toHex(r2.digest)).toBe(expected);
    expect(pool.stats()).toMatchObject({ hashesInline: 1, hashesInPool: 1 });
  });

  it('transfers an owned buffer above the threshold: the original is detached, result.data has the bytes', async () => {
    const pool = pools.open({ threads: 2 });
    const data = Uint8Array.from({ length: 100_000 }, (_, i) => i % 251);
    const copy = data.slice();
    const r = await pool.hash(data);
    expect(data.byteLength).toBe(0); // detached: moved to the worker, not copied
    expect(data.buffer.byteLength).toBe(0);
    expect(r.data.byteLength).toBe(copy.byteLength);
    expect(Buffer.from(r.data).equals(Buffer.from(copy))).toBe(true);
    expect(toHex(r.digest)).toBe(toHex(blake3(copy)));
  });

  it('copies a view into a larger buffer: the caller\'s buffer stays attached and unchanged', async () => {
    const pool = pools.open({ threads: 2 });
    const whole = Uint8Array.from({ length: 100_000 }, (_, i) => (i * 13) % 256);
    const view = whole.subarray(10, 90_010);
    const before = toHex(blake3(whole));
    const r = await pool.hash(view);
    expect(view.byteLength).toBe(90_000);
    expect(whole.byteLength).toBe(100_000);
    expect(toHex(blake3(whole))).toBe(before);
    expect(r.data).not.toBe(view);
    expect(Buffer.from(r.data).equals(Buffer.from(view))).toBe(true);
    expect(toHex(r.digest)).toBe(toHex(blake3(view)));
  });

  // BUG (src/crypto/pool.ts hash(), the `owned` test): a view that spans a whole
  // SharedArrayBuffer counts as "owned", its buffer goes into the transferList, and the call
  // rejects with "TypeError: Found invalid object in transferList". It should be copied (or
  // hashed in place). Remove `.fails` when fixed.
  it('hashes a view over a SharedArrayBuffer above the threshold', async () => {
    const pool = pools.open({ threads: 1 });
    const shared = new Uint8Array(new SharedArrayBuffer(DEFAULT_HASH_THRESHOLD + 1)).fill(9);
    const r = await pool.hash(shared);
    expect(toHex(r.digest)).toBe(toHex(blake3(shared)));
  });
});

describe('CryptoPool.verify and verifyBatch', () => {
  it('batches the verify() calls of one turn into ceil(n / batchSize) tasks, with main-thread results', async () => {
    const pool = pools.open({ threads: 2 });
    const n = 100;
    const checks = Array.from({ length: n }, (_, i) => VARIANTS[i % VARIANTS.length]!);
    const results = await Promise.all(checks.map((c) => pool.verify(c)));
    expect(results).toEqual(checks.map((_, i) => EXPECTED[i % VARIANTS.length]));
    const s = pool.stats();
    expect(s.verifyBatches).toBe(Math.ceil(n / DEFAULT_VERIFY_BATCH));
    expect(s.verifyBatches).toBeLessThan(n);
    expect(s.verifications).toBe(n);
  });

  it('gives main-thread answers for random mixes of valid and invalid signatures', async () => {
    const pool = pools.open({ threads: 2, batchSize: 7 });
    let checked = 0;
    await fc.assert(fc.asyncProperty(fc.array(fc.nat({ max: VARIANTS.length - 1 }), { minLength: 1, maxLength: 40 }), async (picks) => {
      const results = await Promise.all(picks.map((i) => pool.verify(VARIANTS[i]!)));
      expect(results).toEqual(picks.map((i) => EXPECTED[i]));
      checked += picks.length;
    }), { numRuns: 6 });
    expect(pool.stats().verifications).toBe(checked);
    expect(pool.stats().verifyBatches).toBeLessThan(checked);
  });

  it('the invalid variants really are invalid, and the valid ones valid', () => {
    expect(EXPECTED).toEqual([true, true, true, false, false, false, false, false, false]);
  });

  it('verify() calls awaited one by one each get their own batch', async () => {
    const pool = pools.open({ threads: 2 });
    for (let i = 0; i < 3; i++) expect(await pool.verify(VALID)).toBe(true);
    expect(pool.stats()).toMatchObject({ verifyBatches: 3, verifications: 3 });
  });

  it('verifyBatch answers in order, in one task, and an empty batch is []', async () => {
    const pool = pools.open({ threads: 2 });
    const checks = [...VARIANTS, ...VARIANTS.slice().reverse()];
    const completed = pool.stats().completed;
    expect(await pool.verifyBatch(checks)).toEqual([...EXPECTED, ...EXPECTED.slice().reverse()]);
    expect(pool.stats().completed).toBe(completed + 1);
    expect(await pool.verifyBatch([])).toEqual([]);
    expect(pool.stats()).toMatchObject({ verifyBatches: 2, verifications: checks.length });
  });
});

describe('CryptoPool bounded queue', () => {
  it('rejects with BUSY when the queue is full, counts it, and never queues past maxQueue', async () => {
    const pool = pools.open({ threads: 1, maxQueue: 1 });
    const batch = Array.from({ length: 64 }, () => VALID);
    const calls: Array<Promise<boolean[]>> = [];
    const queueSizes: number[] = [];
    for (let i = 0; i < 10; i++) {
      calls.push(pool.verifyBatch(batch));
      queueSizes.push(pool.stats().queueSize);
    }
    const settled = await Promise.allSettled(calls);
    const busy = settled.filter((s) => s.status === 'rejected');
    expect(busy.length).toBeGreaterThan(0);
    for (const b of busy) {
      const err = (b as PromiseRejectedResult).reason as unknown;
      expect(err).toBeInstanceOf(DhtError);
      expect((err as DhtError).code).toBe('BUSY');
    }
    for (const s of settled) if (s.status === 'fulfilled') expect(s.value.every((ok) => ok)).toBe(true);
    const stats = pool.stats();
    expect(stats.busyRejections).toBe(busy.length);
    expect(stats.peakQueueSize).toBeGreaterThan(0);
    expect(stats.peakQueueSize).toBeLessThanOrEqual(pool.maxQueue);
    expect(Math.max(...queueSizes, stats.queueSize)).toBeLessThanOrEqual(pool.maxQueue);
    // The pool serves again once the flood is over.
    expect(await pool.verifyBatch([VALID])).toEqual([true]);
  });

  it('a BUSY batch of verify() calls rejects each of its calls; busyRejections counts tasks', async () => {
    const pool = pools.open({ threads: 1, maxQueue: 1, batchSize: 8 });
    const outs = await Promise.all(Array.from({ length: 96 }, () => outcome(pool.verify(VALID))));
    const busyCalls = count(outs, 'BUSY');
    expect(busyCalls).toBeGreaterThan(0);
    expect(count(outs, 'ok') + busyCalls).toBe(96);
    expect(busyCalls).toBe(pool.stats().busyRejections * 8); // 96 = 12 full batches of 8
    expect(pool.stats().peakQueueSize).toBeLessThanOrEqual(1);
  });

  // BUG (src/crypto/pool.ts verifyBatch() lines 120-121, hash() line 100): verifyBatches,
  // verifications and hashesInPool are counted before the task is accepted, so work refused
  // with BUSY (or DESTROYED) shows up in the extended stats as work done: a flood of 10 x 64
  // checks of which 2 x 64 ran reports 640 verifications. Remove `.fails` when fixed.
  it('stats count only verifications that ran, not batches refused with BUSY', async () => {
    const pool = pools.open({ threads: 1, maxQueue: 1 });
    const batch = Array.from({ length: 64 }, () => VALID);
    const outs = await Promise.all(Array.from({ length: 10 }, () => outcome(pool.verifyBatch(batch))));
    expect(count(outs, 'BUSY')).toBeGreaterThan(0);
    expect(pool.stats().verifyBatches).toBe(count(outs, 'ok'));
    expect(pool.stats().verifications).toBe(count(outs, 'ok') * 64);
  });

  it('a hash refused with BUSY leaves the caller\'s buffer attached and intact', async () => {
    const pool = pools.open({ threads: 1, maxQueue: 1 });
    const buffers = Array.from({ length: 6 }, (_, i) => new Uint8Array(1 << 20).fill(i + 1));
    const outs = await Promise.all(buffers.map((b) => outcome(pool.hash(b))));
    expect(count(outs, 'BUSY')).toBeGreaterThan(0);
    outs.forEach((o, i) => {
      if (o === 'ok') expect(buffers[i]!.byteLength).toBe(0); // transferred
      else expect(buffers[i]!.every((x) => x === i + 1)).toBe(true);
    });
    expect(pool.stats().busyRejections).toBe(count(outs, 'BUSY'));
  });
});

describe('CryptoPool task failures', () => {
  it('a task that throws rejects only itself: later tasks succeed on the same threads', async () => {
    const pool = pools.open({ threads: 2 });
    await expect(pool.sign(new Uint8Array(3), new Uint8Array(1))).rejects.toThrow(/secretKey/);
    const failures = await Promise.all(Array.from({ length: 4 }, () => outcome(pool.sign(new Uint8Array(3), m1))));
    expect(failures.every((f) => f !== 'ok')).toBe(true);
    const signature = await pool.sign(k1.secretKey, m1);
    expect(signature.byteLength).toBe(MLDSA65_SIGNATURE_BYTES);
    expect(mldsaVerify(k1.publicKey, m1, signature)).toBe(true);
    expect(await pool.verify(VALID)).toBe(true);
    expect(pool.stats().threads).toBe(2);
  });

  it('keygen makes key pairs of the ML-DSA-65 and ML-KEM-768 sizes, different each time', async () => {
    const pool = pools.open({ threads: 2 });
    const [a, b] = await Promise.all([pool.keygen(), pool.keygen()]);
    expect([a.dsa.publicKey.byteLength, a.dsa.secretKey.byteLength, a.kem.publicKey.byteLength, a.kem.secretKey.byteLength])
      .toEqual([MLDSA65_PUBLIC_KEY_BYTES, MLDSA65_SECRET_KEY_BYTES, MLKEM768_PUBLIC_KEY_BYTES, MLKEM768_SECRET_KEY_BYTES]);
    expect(toHex(a.dsa.publicKey)).not.toBe(toHex(b.dsa.publicKey));
  });

  it('keygen(seed) is deterministic: ML-DSA from seed[0..32], ML-KEM from seed[32..96], as on the main thread', async () => {
    const pool = pools.open({ threads: 2 });
    const { vectors } = loadVector<{ vectors: Array<{ seed_hex: string; node_id_hex: string }> }>('node-ids.json');
    const v = vectors[2]!;
    const seed = Buffer.concat([fromHex(v.seed_hex), new Uint8Array(64).fill(0xa5)]);
    const [a, b] = await Promise.all([pool.keygen(seed), pool.keygen(seed)]);
    expect(toHex(a.dsa.secretKey)).toBe(toHex(b.dsa.secretKey));
    expect(toHex(a.kem.secretKey)).toBe(toHex(b.kem.secretKey));
    expect(toHex(nodeIdFromPublicKey(a.dsa.publicKey))).toBe(v.node_id_hex); // the golden NodeId vector
    expect(toHex(a.dsa.publicKey)).toBe(toHex(mldsaKeygen(seed.subarray(0, 32)).publicKey));
    expect(toHex(a.kem.publicKey)).toBe(toHex(mlkemKeygen(seed.subarray(32)).publicKey));
    expect(seed.subarray(32).every((x) => x === 0xa5)).toBe(true); // the caller's seed is not wiped
  });

  it('keygen rejects a seed that is not 96 bytes, and the pool keeps serving', async () => {
    const pool = pools.open({ threads: 2 });
    for (const n of [0, 32, 95, 97]) await expect(pool.keygen(new Uint8Array(n))).rejects.toThrow('keygen seed must be 96 bytes');
    expect((await pool.keygen()).dsa.publicKey.byteLength).toBe(MLDSA65_PUBLIC_KEY_BYTES);
    expect(pool.stats().threads).toBe(2);
  });
});

describe('CryptoPool.kemWrap and kemUnwrap', () => {
  it('wraps a key to readers in a worker exactly as on this thread, and unwraps it only for them', async () => {
    const pool = pools.open({ threads: 2 });
    const [a, b, c] = [mlkemKeygen(new Uint8Array(64).fill(1)), mlkemKeygen(new Uint8Array(64).fill(2)), mlkemKeygen(new Uint8Array(64).fill(3))];
    const key = new Uint8Array(32).fill(0x4b);
    const ad = new TextEncoder().encode('zhtp/v1/test wrap');
    const seeds = [new Uint8Array(32).fill(5), new Uint8Array(32).fill(6)];
    const stanzas = await pool.kemWrap([a.publicKey, b.publicKey], key, ad, seeds);
    expect(stanzas).toEqual(kemWrap([a.publicKey, b.publicKey], key, ad, seeds));
    expect(await pool.kemUnwrap(stanzas, b.secretKey, ad)).toEqual(key);
    expect(await pool.kemUnwrap(stanzas, c.secretKey, ad)).toBeNull();
    expect(() => pool.kemWrap([a.publicKey.subarray(1)], key, ad, [seeds[0]!])).toThrow('reader key 0 must be 1184 bytes');
    expect(() => pool.kemWrap([a.publicKey], key, ad, [])).toThrow(RangeError);
    expect(await outcome(pool.kemUnwrap(stanzas, a.publicKey, ad))).toMatch(/secretKey must be 2400 bytes/);
    expect(await pool.kemUnwrap(stanzas, a.secretKey, ad)).toEqual(key); // the failed task left the pool serving
  });
});

describe('CryptoPool.close', () => {
  it('rejects verify() calls still waiting for their batch with DESTROYED', async () => {
    const pool = pools.open({ threads: 2 });
    const waiting = Array.from({ length: 5 }, () => outcome(pool.verify(VALID))); // < batchSize: not sent yet
    await pool.close();
    expect(await Promise.all(waiting)).toEqual(Array.from({ length: 5 }, () => 'DESTROYED'));
  });

  it('after close every call rejects with DESTROYED, close() is idempotent, and no worker thread is left', async () => {
    const before = osThreads();
    const pool = pools.open({ threads: 2 });
    expect(await pool.verify(VALID)).toBe(true); // threads are up and have run a task
    const during = osThreads();
    expect(pool.stats().threads).toBe(2);
    await pool.close();
    await pool.close();
    expect(pool.stats().threads).toBe(0);
    const after = osThreads();
    if (before !== null && during !== null && after !== null) {
      expect(during).toBeGreaterThanOrEqual(before + 2);
      expect(after).toBeLessThanOrEqual(during - 2); // both worker threads have exited
    }
    const big = new Uint8Array(DEFAULT_HASH_THRESHOLD + 1);
    const outs = await Promise.all([
      outcome(pool.verify(VALID)), outcome(pool.verifyBatch([VALID])), outcome(pool.sign(k1.secretKey, m1)),
      outcome(pool.keygen()), outcome(pool.verifyRecord(new Uint8Array(10))), outcome(pool.hash(big)),
    ]);
    expect(outs).toEqual(Array.from({ length: 6 }, () => 'DESTROYED'));
    expect(big.byteLength).toBe(DEFAULT_HASH_THRESHOLD + 1); // not transferred to a dead pool
  });

  // BUG (src/crypto/pool.ts close(), lines 153-159): only checks still waiting in the pool's own
  // batch get DESTROYED. Batches already handed to Piscina are not awaited as the TSDoc says
  // ("waits for running tasks"): piscina.destroy() fails them with a plain
  // "Error: Terminating worker thread", so the callers see an error that is not a DhtError.
  // Remove `.fails` when fixed.
  it('verify() calls already sent to the workers either finish or reject with DESTROYED', async () => {
    const pool = pools.open({ threads: 2 });
    const pending = Array.from({ length: 100 }, () => outcome(pool.verify(VALID))); // 3 batches sent at once
    await pool.close();
    const outs = await Promise.all(pending);
    expect(outs.filter((o) => o !== 'ok' && o !== 'DESTROYED')).toEqual([]);
  });
});
