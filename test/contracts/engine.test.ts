/**
 * The ContractEngine around its pools: option and request validation (errors name the field),
 * unknown instances and methods, the bounded queue (BUSY), close() (DESTROYED for queued calls,
 * prompt even with a call spinning in a worker, and the process exits after it), and optimistic concurrency: a commit against a
 * moved version writes nothing, and the scheduler re-runs such calls, then answers `conflict`.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ContractEngine, DEFAULT_GAS_LIMIT, encodeArgs, exampleContract, genesisStateHash, MAX_CONFLICT_RETRIES, MAX_GAS_LIMIT, MAX_INPUT_BYTES } from '../../src/contracts/index.js';
import type { BatchResult } from '../../src/contracts/execute.js';
import type { CallTask, Receipt } from '../../src/contracts/receipt.js';
import { CallScheduler } from '../../src/contracts/scheduler.js';
import { ContractStore } from '../../src/contracts/state.js';
import { DhtError } from '../../src/util/index.js';
import { ABI_IMPORTS, alice, bob, EngineRegistry, expectStatus, instanceOf, req, wat } from './fixtures.js';

const engines = new EngineRegistry();
afterAll(() => engines.closeAll());

const code = (p: Promise<unknown>): Promise<string> => p.then(() => 'resolved', (e: unknown) => (e instanceof DhtError ? e.code : (e as Error).name));

describe('options and requests', () => {
  let engine: ContractEngine;
  beforeAll(() => {
    engine = engines.open();
  });

  it('names the option in every validation error', () => {
    const cases: Array<[object, string]> = [
      [{ threads: 0 }, 'options.threads must be a positive integer'],
      [{ batchSize: 1.5 }, 'options.batchSize must be a positive integer'],
      [{ maxQueue: 0 }, 'options.maxQueue must be a positive integer'],
      [{ callTimeout: -1 }, 'options.callTimeout must be a positive integer'],
      [{ niceIncrement: 20 }, 'options.niceIncrement must be an integer in 0..19'],
    ];
    for (const [init, message] of cases) expect(() => engines.open(init), JSON.stringify(init)).toThrow(message);
    expect(() => ContractEngine.open({ path: '' })).toThrow('options.path must be a non-empty string');
  });

  it('refuses malformed calls at the boundary, naming the field', async () => {
    const counter = await instanceOf(engine, 'counter');
    expect(() => engine.call({ ...req(counter, 'get'), instance: new Uint8Array(31) })).toThrow('instance must be 32 bytes');
    expect(() => engine.call({ ...req(counter, 'get'), caller: new Uint8Array(0) })).toThrow('caller must be 32 bytes');
    expect(() => engine.call(req(counter, ''))).toThrow('method must be a name of 1..64 characters');
    expect(() => engine.call(req(counter, 'get', new Uint8Array(MAX_INPUT_BYTES + 1)))).toThrow(RangeError);
    expect(() => engine.call(req(counter, 'get', undefined, { gasLimit: MAX_GAS_LIMIT + 1 }))).toThrow(`gasLimit must be an integer in 1..${MAX_GAS_LIMIT}`);
    expect(() => engine.call(req(counter, 'get', undefined, { gasLimit: 0 }))).toThrow(RangeError);
  });

  it('answers not_found for an unknown instance, and NOT_FOUND when instantiating unknown code', async () => {
    const r = await engine.call(req(new Uint8Array(32).fill(1), 'get'));
    expect([r.status, r.gasUsed]).toEqual(['not_found', 0]);
    expect(await code(engine.createInstance(new Uint8Array(32), alice))).toBe('NOT_FOUND');
  });

  it('creates an instance once per code, creator and salt, at version 0 with the genesis state hash', async () => {
    const { codeHash } = await engine.deploy(exampleContract('counter'));
    const first = await engine.createInstance(codeHash, alice, Uint8Array.of(1));
    const again = await engine.createInstance(codeHash, alice, Uint8Array.of(1));
    const other = await engine.createInstance(codeHash, alice, Uint8Array.of(2));
    expect([first.created, again.created, other.created]).toEqual([true, false, true]);
    expect(again.instanceId).toEqual(first.instanceId);
    expect(other.instanceId).not.toEqual(first.instanceId);
    expect(engine.instance(first.instanceId)).toMatchObject({ version: 0, stateHash: genesisStateHash(first.instanceId) });
  });

  it('a lazy engine starts its threads with the first call', async () => {
    const lazy = engines.open({ lazy: true });
    const counter = await instanceOf(lazy, 'counter');
    expect(lazy.stats().threads).toBe(0);
    await expectStatus(lazy.call(req(counter, 'increment')), 'ok');
    expect(lazy.stats().threads).toBe(1);
  });

  it('uses DEFAULT_GAS_LIMIT when a call names none: an infinite loop is charged exactly that', async () => {
    const spin = await instanceOf(engine, wat(`(module ${ABI_IMPORTS} (memory (export "memory") 1) (func (export "spin") (loop $l (br $l))))`));
    expect((await expectStatus(engine.call(req(spin, 'spin')), 'out_of_gas')).gasUsed).toBe(DEFAULT_GAS_LIMIT);
  });
});

describe('queue and shutdown', () => {
  it('rejects BUSY beyond maxQueue waiting calls and counts it', async () => {
    const engine = engines.open({ maxQueue: 4 });
    const counter = await instanceOf(engine, 'counter');
    const outcomes = await Promise.all(Array.from({ length: 10 }, () => code(engine.call(req(counter, 'increment')))));
    expect(outcomes.filter((o) => o === 'resolved')).toHaveLength(4);
    expect(outcomes.filter((o) => o === 'BUSY')).toHaveLength(6);
    expect(engine.stats()).toMatchObject({ busyRejections: 6, peakQueued: 4 });
    expect(engine.instance(counter)?.version).toBe(4);
  });

  it('close() rejects queued calls with DESTROYED and returns promptly while a call spins', async () => {
    const engine = engines.open({ callTimeout: 60_000 });
    const spin = await instanceOf(engine, wat(`(module ${ABI_IMPORTS} (memory (export "memory") 1) (func (export "spin") (loop $l (br $l))))`));
    const counter = await instanceOf(engine, 'counter');
    const running = code(engine.call(req(spin, 'spin', undefined, { gasLimit: MAX_GAS_LIMIT })));
    await new Promise((r) => setTimeout(r, 50));
    const queued = code(engine.call(req(counter, 'increment')));
    const start = performance.now();
    await engine.close();
    expect(performance.now() - start).toBeLessThan(1_000);
    expect([await running, await queued]).toEqual(['DESTROYED', 'DESTROYED']);
    expect(await code(engine.call(req(counter, 'get')))).toBe('DESTROYED');
    await engine.close(); // idempotent
  });
});

describe('process exit', () => {
  it('a process that used the engine exits within 1 s of close()', async () => {
    const root = fileURLToPath(new URL('../..', import.meta.url));
    const dir = mkdtempSync(join(tmpdir(), 'zhtp-contracts-exit-'));
    const script = `
      import * as c from ${JSON.stringify(join(root, 'dist', 'src', 'contracts', 'index.js'))};
      const engine = c.ContractEngine.open({ path: ${JSON.stringify(dir)}, threads: 1 });
      const { codeHash } = await engine.deploy(c.exampleContract('counter'));
      const me = new Uint8Array(32).fill(1);
      const { instanceId } = await engine.createInstance(codeHash, me);
      const r = await engine.call({ instance: instanceId, method: 'increment', caller: me });
      await engine.close();
      process.stdout.write(r.status + ' closed\\n');
    `;
    try {
      const { exitMs, output } = await new Promise<{ exitMs: number; output: string }>((resolve, reject) => {
        const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
        let output = '';
        let closedAt = 0;
        const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
        child.stdout.on('data', (d: Buffer) => {
          output += d.toString();
          if (output.includes('closed')) closedAt ||= performance.now();
        });
        child.stderr.on('data', (d: Buffer) => { output += d.toString(); });
        child.on('exit', (code) => {
          clearTimeout(killer);
          if (code === 0 && closedAt > 0) resolve({ exitMs: performance.now() - closedAt, output });
          else reject(new Error(`child ended with ${code}: ${output}`));
        });
      });
      expect(output).toContain('ok closed');
      expect(exitMs).toBeLessThan(1_000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('optimistic concurrency', () => {
  it('a commit against a moved version writes nothing', async () => {
    const engine = engines.open();
    const token = await instanceOf(engine, 'token');
    await engine.call(req(token, 'init', encodeArgs(['u64'], [10n])));
    await engine.close();
    const store = ContractStore.open(engines.pathOf(engine));
    try {
      const commit = { instanceId: token, baseVersion: 0, version: 1, stateHash: new Uint8Array(32), writes: [{ key: Uint8Array.of(1), value: Uint8Array.of(2) }] };
      expect(await store.commit(commit)).toBe(false);
      expect(store.get(token, Uint8Array.of(1))).toBeNull();
      expect(await store.commit({ ...commit, baseVersion: 1, version: 2 })).toBe(true);
      expect(store.get(token, Uint8Array.of(1))).toEqual(Uint8Array.of(2));
      expect(store.instance(token)?.version).toBe(2);
    } finally {
      await store.close();
    }
  });

  it('the scheduler re-runs calls whose commit lost the race, then answers conflict', async () => {
    const instance = new Uint8Array(32).fill(3);
    const receipt: Receipt = { status: 'ok', gasUsed: 1, returnData: new Uint8Array(0), events: [], writes: [], version: 1, stateHash: new Uint8Array(32) };
    const run = async (commitsLost: number): Promise<{ r: Receipt; runs: number }> => {
      let runs = 0;
      let lost = 0;
      const scheduler = new CallScheduler({
        runBatch: async (calls: CallTask[]): Promise<BatchResult> => {
          runs++;
          return { receipts: calls.map(() => receipt), commits: [{ instanceId: instance, baseVersion: 0, version: 1, stateHash: new Uint8Array(32), writes: [] }] };
        },
        commit: async () => lost++ >= commitsLost,
        current: () => ({ version: 7, stateHash: new Uint8Array(32) }),
      }, { slots: 1, maxQueue: 8, batchSize: 8, callTimeout: 1000 });
      const r = await scheduler.submit({ instance, method: 'm', input: new Uint8Array(0), caller: bob, gasLimit: 1, readOnly: false });
      return { r, runs };
    };
    const won = await run(1);
    expect([won.r.status, won.runs]).toEqual(['ok', 2]);
    const lost = await run(100);
    expect([lost.r.status, lost.r.version, lost.runs]).toEqual(['conflict', 7, MAX_CONFLICT_RETRIES + 1]);
  });
});
