/**
 * The ZK pool with real worker threads (dist/workers/zk.js): verification and proving in workers,
 * checks made before queueing, the bounded queue (BUSY), the timeout backstop and the pool's
 * recovery from it, close() (DESTROYED; a process exits within 1 s of it), option validation, and
 * the worker's task functions called directly with hostile input.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_ZK_MAX_QUEUE, FIELD_MODULUS, Groth16Prover, Groth16Verifier, type ZkPool, type ZkPoolOutcome, type ZkPoolStats, type ZkProof,
} from '../../src/zk/index.js';
import { DhtError } from '../../src/util/index.js';
import { report } from '../helpers/report.js';
import { exitAfterClose, publicOf, validSignals, ZkPoolRegistry } from './fixtures.js';

const pools = new ZkPoolRegistry();
const shared = new ZkPoolRegistry();
afterEach(() => pools.closeAll());

const signals = validSignals();
let good: ZkProof;
beforeAll(async () => {
  good = await new Groth16Prover().prove('storage_access', signals.storage_access);
}, 60_000);

/** How a settled promise ended: its value, or the DhtError code / error name it failed with. */
const outcome = <T>(p: Promise<T>): Promise<T | string> =>
  p.then((v) => v, (e: unknown) => (e instanceof DhtError ? e.code : (e as Error).name));

describe('ZkPool options', () => {
  it('names the option in every validation error', () => {
    const cases: Array<[object, string]> = [
      [{ threads: 0 }, 'options.threads must be an integer in 1..2'],
      [{ threads: 3 }, 'options.threads must be an integer in 1..2'],
      [{ threads: 1.5 }, 'options.threads must be an integer in 1..2'],
      [{ threads: 1, maxQueue: 0 }, 'options.maxQueue must be a positive integer'],
      [{ threads: 1, verifyTimeout: 0 }, 'options.verifyTimeout must be a positive integer'],
      [{ threads: 1, proveTimeout: Number.NaN }, 'options.proveTimeout must be a positive integer'],
      [{ threads: 1, niceIncrement: 20 }, 'options.niceIncrement must be an integer in 0..19'],
    ];
    for (const [init, message] of cases) {
      expect(() => pools.open(init), JSON.stringify(init)).toThrow(RangeError);
      expect(() => pools.open(init), JSON.stringify(init)).toThrow(message);
    }
  });

  it('uses at most 2 threads and the documented queue bound by default', () => {
    const pool = pools.open();
    expect(pool.threads).toBeLessThanOrEqual(2);
    expect(pool.maxQueue).toBe(DEFAULT_ZK_MAX_QUEUE);
  });

  it('a lazy pool starts no thread until its first task, and closes cleanly either way', async () => {
    const idle = pools.open({ threads: 1, lazy: true });
    expect([idle.started, idle.stats().threads]).toEqual([false, 0]);
    // Answered on this thread: a malformed proof starts nothing.
    expect(await idle.check('storage_access', publicOf('storage_access', signals.storage_access), new Uint8Array(3))).toBe('bad_length');
    expect(idle.started).toBe(false);
    await idle.close();
    // The first task waits for the worker to start and load snarkjs: allow for a loaded machine.
    const used = pools.open({ threads: 1, lazy: true, verifyTimeout: 60_000 });
    expect(await used.check('storage_access', good.publicSignals, good.proof)).toBe('valid');
    expect([used.started, used.stats().threads]).toEqual([true, 1]);
  });
});

describe('ZkPool.verify and prove', () => {
  // One pool for this block (worker start-up is the slow part); assertions use counter deltas.
  let pool: ZkPool;
  beforeAll(() => {
    pool = shared.open({ threads: 2, maxQueue: 256 });
  });
  afterAll(() => shared.closeAll());
  const delta = (before: ZkPoolStats, key: ZkPoolOutcome): number => pool.stats().verifications[key] - before.verifications[key];

  it('verifies in workers with signals as bigints or decimal strings, and counts outcomes', async () => {
    const before = pool.stats();
    const s = good.publicSignals;
    expect(await pool.verify('storage_access', s, good.proof)).toBe(true);
    expect(await pool.verify('storage_access', s.map(String), good.proof)).toBe(true);
    expect(await pool.check('storage_access', [s[0]!, s[1]!, s[2]! + 1n, s[3]!], good.proof)).toBe('pairing_failed');
    expect(await pool.verify('identity', s, good.proof)).toBe(false);
    expect([delta(before, 'valid'), delta(before, 'pairing_failed'), delta(before, 'timeout'), delta(before, 'task_error')]).toEqual([2, 2, 0, 0]);
    expect(pool.stats().rejectedBeforeQueue).toBe(before.rejectedBeforeQueue);
  }, 60_000);

  it('answers malformed input on the calling thread, without a task', async () => {
    const before = pool.stats();
    const s = good.publicSignals;
    const cases: Array<[unknown, unknown, unknown, ZkPoolOutcome]> = [
      ['nope', s, good.proof, 'unknown_circuit'],
      ['storage_access', s, good.proof.subarray(0, 255), 'bad_length'],
      ['storage_access', s, new Uint8Array(1 << 20), 'bad_length'],
      ['storage_access', s.slice(1), good.proof, 'bad_public_count'],
      ['storage_access', [...s.slice(0, 3), FIELD_MODULUS], good.proof, 'bad_public_value'],
      ['storage_access', [...s.slice(0, 3), '0x1'], good.proof, 'bad_public_value'],
      ['storage_access', [...s.slice(0, 3), '9'.repeat(100_000)], good.proof, 'bad_public_value'],
      ['storage_access', [...s.slice(0, 3), FIELD_MODULUS.toString()], good.proof, 'bad_public_value'],
      ['storage_access', [...s.slice(0, 3), '007'], good.proof, 'bad_public_value'],
    ];
    for (const [circuit, sig, proof, expected] of cases) {
      expect(await pool.check(circuit as 'storage_access', sig as bigint[], proof as Uint8Array)).toBe(expected);
    }
    expect(pool.stats().rejectedBeforeQueue - before.rejectedBeforeQueue).toBe(cases.length);
  });

  it('proves in a worker; the proof verifies on this thread; unsatisfiable signals reject with RangeError', async () => {
    const proofsBefore = pool.stats().proofs;
    const p = await pool.prove('data_integrity', signals.data_integrity);
    const v = await Groth16Verifier.forCircuit('data_integrity');
    expect(v.check(p.publicSignals, p.proof)).toBe('valid');
    const bad = { ...signals.data_integrity, salt: signals.data_integrity.salt + 1n };
    const err: unknown = await pool.prove('data_integrity', bad).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(RangeError); // the error class survives the thread boundary
    expect((err as Error).message).toContain('signals do not satisfy the data_integrity circuit');
    expect(pool.stats().proofs - proofsBefore).toBe(1);
  }, 60_000);

  it('reports pool verification throughput with 2 threads', async () => {
    const n = 200;
    const start = performance.now();
    const results = await Promise.all(Array.from({ length: n }, () => pool.verify('storage_access', good.publicSignals, good.proof)));
    const seconds = (performance.now() - start) / 1000;
    expect(results.every((r) => r)).toBe(true);
    expect(pool.stats().peakQueueSize).toBeLessThanOrEqual(pool.maxQueue);
    report({ test: 'zk', figure: 'pool_verify_per_s_2_threads', value: Math.round(n / seconds) });
  }, 60_000);
});

describe('ZkPool bounds', () => {
  it('rejects with BUSY past maxQueue waiting tasks, counts it, and never queues more', async () => {
    const pool = pools.open({ threads: 1, maxQueue: 2 });
    const results = await Promise.all(Array.from({ length: 12 }, () => outcome(pool.verify('storage_access', good.publicSignals, good.proof))));
    const busy = results.filter((r) => r === 'BUSY').length;
    expect(results.filter((r) => r === true)).toHaveLength(3); // 1 running + 2 waiting
    expect(busy).toBe(9);
    expect(pool.stats()).toMatchObject({ busyRejections: 9, peakQueueSize: 2 });
    expect(await pool.verify('storage_access', good.publicSignals, good.proof)).toBe(true); // the queue drained
  }, 60_000);

  it('a verification past its timeout (waiting or running) is false and counted', async () => {
    const pool = pools.open({ threads: 1, verifyTimeout: 1 });
    expect(await pool.check('storage_access', good.publicSignals, good.proof)).toBe('timeout');
    expect(await pool.verify('storage_access', good.publicSignals, good.proof)).toBe(false);
    expect(pool.stats().verifications).toMatchObject({ timeout: 2, valid: 0 });
  }, 60_000);

  it('a running proof past its timeout rejects with TIMEOUT, its worker is replaced, and the next task runs', async () => {
    const pool = pools.open({ threads: 1, proveTimeout: 300 });
    expect(await pool.verify('storage_access', good.publicSignals, good.proof)).toBe(true); // the worker is up
    expect(await outcome(pool.prove('identity', signals.identity))).toBe('TIMEOUT'); // takes about 1 s
    expect(pool.stats().workersEnded).toBe(1);
    expect(await pool.verify('storage_access', good.publicSignals, good.proof)).toBe(true);
    expect(pool.stats()).toMatchObject({ threads: 1, workerErrors: 0 });
  }, 60_000);
});

describe('ZkPool.close', () => {
  it('rejects running and later calls with DESTROYED, and is idempotent', async () => {
    const pool = pools.open({ threads: 1 });
    const running = outcome(pool.prove('identity', signals.identity));
    const queued = outcome(pool.verify('storage_access', good.publicSignals, good.proof));
    await new Promise((r) => setTimeout(r, 50));
    await pool.close();
    expect(await running).toBe('DESTROYED');
    expect(await queued).toBe('DESTROYED');
    expect(await outcome(pool.verify('storage_access', good.publicSignals, good.proof))).toBe('DESTROYED');
    await pool.close();
  }, 60_000);

  it('lets the process exit within 1 s of close(), after proving and verifying', async () => {
    const s = signals.storage_access;
    const body = `
      const p = await pool.prove('storage_access', { commitment: ${s.commitment}n, keyField: ${s.keyField}n, nonce: ${s.nonce}n,
        valueHash: ${s.valueHash}n, secret: ${s.secret}n, salt: ${s.salt}n });
      if (!(await pool.verify('storage_access', p.publicSignals, p.proof))) throw new Error('not verified');
    `;
    const { exitMs } = await exitAfterClose(body);
    expect(exitMs).toBeLessThanOrEqual(1_000);
  }, 60_000);
});

describe('worker task functions (workers/zk.ts) called directly', () => {
  let worker: typeof import('../../workers/zk.js');
  beforeAll(async () => {
    worker = await import('../../workers/zk.js');
  });

  it('zkVerify answers true for a valid proof and false, never a throw, for hostile tasks', async () => {
    const s = good.publicSignals;
    expect(await worker.zkVerify({ circuit: 'storage_access', publicSignals: s.map(String), proof: good.proof })).toBe(true);
    const hostile = [
      { circuit: 'nope', publicSignals: s, proof: good.proof },
      { circuit: 'storage_access', publicSignals: s, proof: 'x'.repeat(256) },
      { circuit: 'storage_access', publicSignals: s, proof: { pi_a: null } },
      { circuit: 'storage_access', publicSignals: [...s.slice(0, 3), 'abc'], proof: good.proof },
      { circuit: 'storage_access', publicSignals: [...s.slice(0, 3), '1'.repeat(1_000_000)], proof: good.proof },
      { circuit: 'storage_access', publicSignals: [...s.slice(0, 3), [1]], proof: good.proof },
      { circuit: 'storage_access', publicSignals: 'not an array', proof: good.proof },
      { circuit: 'storage_access', publicSignals: null, proof: null },
      { circuit: { toString: () => 'storage_access' }, publicSignals: s, proof: good.proof },
    ];
    for (const task of hostile) expect(await worker.zkVerify(task), JSON.stringify(task, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}` : v)).slice(0, 80)).toBe(false);
    expect(worker.zkStats().verifyThrows).toBe(0);
  });
});
