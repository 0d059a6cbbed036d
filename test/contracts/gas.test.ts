/**
 * Gas determinism: the same call on the same state costs the same gas and gives the same receipt
 * on every run, on a fresh instance or a reused one (including after a trap and after the memory
 * grew), and on two separate engines (separate threads, separate LMDB environments), whose state
 * hashes then agree. The executor runs here in the test thread for the fresh/reuse comparison.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { encodeArgs, exampleContract, nextStateHash, type Receipt } from '../../src/contracts/index.js';
import { CodeCache } from '../../src/contracts/instance.js';
import { Executor } from '../../src/contracts/execute.js';
import type { CallTask } from '../../src/contracts/receipt.js';
import { StateReader } from '../../src/contracts/state.js';
import { ABI_IMPORTS, account, alice, bob, EngineRegistry, instanceOf, req, wat } from './fixtures.js';

const engines = new EngineRegistry();
afterAll(() => engines.closeAll());

/** Everything of a receipt that must agree across nodes (not the human-readable error). */
const agreed = (r: Receipt) => ({ status: r.status, gasUsed: r.gasUsed, returnData: r.returnData, events: r.events, writes: r.writes, version: r.version, stateHash: r.stateHash });

const GROWER = wat(`(module ${ABI_IMPORTS} (memory (export "memory") 1)
  (global $calls (mut i32) (i32.const 0))
  (func (export "grow") (drop (memory.grow (i32.const 2))) (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
    (i32.store (i32.const 0) (i32.add (memory.size) (global.get $calls))) (call $return_data (i32.const 0) (i32.const 4)))
  (func (export "trap") (i32.store (i32.const 100) (i32.const 9)) (global.set $calls (i32.const 50)) (unreachable))
  (func (export "peek") (i32.store (i32.const 0) (i32.add (i32.load (i32.const 100)) (global.get $calls))) (call $return_data (i32.const 0) (i32.const 4)))
)`);

describe('fresh and reused instances', () => {
  it('give identical receipts for the same batch, also after traps and after memory growth', async () => {
    const engine = engines.open();
    const token = await instanceOf(engine, 'token');
    const counter = await instanceOf(engine, 'counter');
    const grower = await instanceOf(engine, GROWER);
    await engine.call(req(token, 'init', encodeArgs(['u64'], [1000n])));
    await engine.close();
    const call = (instance: Uint8Array, method: string, input: Uint8Array = new Uint8Array(0), readOnly = false): CallTask =>
      ({ instance, method, input, caller: alice, gasLimit: 10_000_000, readOnly });
    const batch: CallTask[] = [
      call(token, 'transfer', encodeArgs(['address', 'u64'], [bob, 7n])),
      call(token, 'transfer', encodeArgs(['address', 'u64'], [bob, 5000n])), // reverts
      call(counter, 'increment'), call(counter, 'increment'),
      call(grower, 'peek'), call(grower, 'trap'), call(grower, 'peek'), // the trap left no trace
      call(grower, 'grow'), call(grower, 'grow'), call(grower, 'peek'), // growth dropped the instance
      call(token, 'balanceOf', encodeArgs(['address'], [bob]), true),
    ];
    const reader = new StateReader(engines.pathOf(engine));
    try {
      const reused = new Executor(reader);
      const once = reused.runBatch(batch).receipts.map(agreed);
      const again = reused.runBatch(batch).receipts.map(agreed);
      const fresh = new Executor(reader).runBatch(batch, true).receipts.map(agreed);
      expect(again).toEqual(once);
      expect(fresh).toEqual(once);
      expect(once.map((r) => r.status)).toEqual(['ok', 'revert', 'ok', 'ok', 'ok', 'trap', 'ok', 'ok', 'ok', 'ok', 'ok']);
      const word = (r: { returnData: Uint8Array }) => new DataView(r.returnData.buffer, r.returnData.byteOffset).getUint32(0, true);
      expect([word(once[4]!), word(once[6]!), word(once[7]!), word(once[8]!)]).toEqual([0, 0, 4, 4]);
      expect(reused.cache.totals().reused).toBeGreaterThan(0);
    } finally {
      await reader.close();
    }
  });
});

describe('the per-thread code cache', () => {
  it('evicts the least recently used contract by count and by the bytes of idle instances', async () => {
    const engine = engines.open();
    const records = await Promise.all((['counter', 'token', 'registry'] as const).map(async (name) => {
      const { codeHash } = await engine.deploy(exampleContract(name));
      return engine.code(codeHash)!;
    }));
    const loads: number[] = [];
    const get = (cache: CodeCache, i: number) => cache.get(String(i), () => {
      loads.push(i);
      return records[i]!;
    });
    const byCount = new CodeCache(2);
    for (const i of [0, 1, 0, 2, 0, 1]) get(byCount, i);
    expect(loads).toEqual([0, 1, 2, 1]); // 1 was least recently used when 2 came in
    loads.length = 0;
    const footprint = get(new CodeCache(), 0)!.footprint;
    expect(footprint).toBe(2 * records[0]!.memory.initial * 65536);
    const byBytes = new CodeCache(64, 2 * footprint);
    for (const i of [0, 1, 2, 0]) get(byBytes, i);
    expect(loads).toEqual([0, 0, 1, 2, 0]);
  });
});

describe('two engines', () => {
  it('agree on every receipt and state hash for the same calls', async () => {
    const run = async () => {
      const engine = engines.open();
      const token = await instanceOf(engine, 'token');
      const receipts: Receipt[] = [await engine.call(req(token, 'init', encodeArgs(['u64'], [500n])))];
      for (let i = 0; i < 20; i++) {
        const to = account(1 + (i % 3));
        receipts.push(await engine.call(req(token, 'transfer', encodeArgs(['address', 'u64'], [to, BigInt(i * 7)]))));
      }
      receipts.push(await engine.query(req(token, 'balanceOf', encodeArgs(['address'], [account(2)]))));
      return { receipts: receipts.map(agreed), meta: engine.instance(token) };
    };
    const [a, b] = await Promise.all([run(), run()]);
    expect(b.receipts).toEqual(a.receipts);
    expect(b.meta).toEqual(a.meta);
    // One version per successful state-changing call; the later transfers run out of balance.
    const calls = a.receipts.slice(0, 21);
    expect(a.meta?.version).toBe(calls.filter((r) => r.status === 'ok').length);
    expect(new Set(calls.map((r) => r.status))).toEqual(new Set(['ok', 'revert']));
  });

  it('the state hash commits to the writes, not to their order in the call', () => {
    const prev = new Uint8Array(32);
    const w1 = { key: Uint8Array.of(1), value: Uint8Array.of(9) };
    const w2 = { key: Uint8Array.of(2), value: null };
    expect(nextStateHash(prev, 1, [w1, w2])).toEqual(nextStateHash(prev, 1, [w2, w1]));
    expect(nextStateHash(prev, 1, [w1])).not.toEqual(nextStateHash(prev, 2, [w1]));
    expect(nextStateHash(prev, 1, [w1])).not.toEqual(nextStateHash(prev, 1, [{ key: w1.key, value: Uint8Array.of(8) }]));
  });
});
