/**
 * The three example contracts (assembly/contracts) deployed on a real engine (meter worker,
 * execution worker, LMDB): counter, token (with a fast-check property: random transfers,
 * approvals and transferFroms never create or destroy tokens, and balances match a model), and
 * the name registry. Also the figures docs/contracts.md quotes: gas of the example calls.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ContractEngine, decodeArgs, encodeArgs, EXAMPLE_CONTRACTS, exampleContract } from '../../src/contracts/index.js';
import { account, alice, bob, EngineRegistry, expectStatus, instanceOf, req } from './fixtures.js';

const engines = new EngineRegistry();
let engine: ContractEngine;
beforeAll(() => {
  engine = engines.open();
});
afterAll(() => engines.closeAll());

const u64 = (r: { returnData: Uint8Array }): bigint => decodeArgs(['u64'], r.returnData)![0] as bigint;

describe('counter', () => {
  it('increments from zero, returns the new value, and get reads it without changing the version', async () => {
    const counter = await instanceOf(engine, 'counter');
    for (let i = 1n; i <= 3n; i++) expect(u64(await expectStatus(engine.call(req(counter, 'increment')), 'ok'))).toBe(i);
    const got = await expectStatus(engine.query(req(counter, 'get')), 'ok');
    expect([u64(got), got.version]).toEqual([3n, 3]);
    expect(engine.instance(counter)?.version).toBe(3);
  });

  it('reverts on unexpected input and leaves the state alone', async () => {
    const counter = await instanceOf(engine, 'counter', account(3));
    const r = await expectStatus(engine.call(req(counter, 'increment', Uint8Array.of(1))), 'revert');
    expect(r.error).toBe('unexpected trailing input');
    expect([r.writes, r.events, r.version]).toEqual([[], [], 0]);
    expect(u64(await engine.query(req(counter, 'get')))).toBe(0n);
  });

  it('answers no_method for a method the code does not export', async () => {
    const counter = await instanceOf(engine, 'counter', account(4));
    const r = await engine.call(req(counter, 'decrement'));
    expect([r.status, r.gasUsed]).toEqual(['no_method', 0]);
  });
});

describe('token', () => {
  const transfer = (to: Uint8Array, amount: bigint) => encodeArgs(['address', 'u64'], [to, amount]);

  it('credits the supply to the creator once, transfers, and emits Transfer events', async () => {
    const token = await instanceOf(engine, 'token');
    const init = await expectStatus(engine.call(req(token, 'init', encodeArgs(['u64'], [1000n]))), 'ok');
    expect(new TextDecoder().decode(init.events[0]!.topic)).toBe('Transfer');
    expect((await engine.call(req(token, 'init', encodeArgs(['u64'], [5n])))).error).toBe('already initialised');
    const sent = await expectStatus(engine.call(req(token, 'transfer', transfer(bob, 250n))), 'ok');
    expect(decodeArgs(['address', 'address', 'u64'], sent.events[0]!.data)).toEqual([alice, bob, 250n]);
    const balance = (who: Uint8Array) => engine.query(req(token, 'balanceOf', encodeArgs(['address'], [who]))).then(u64);
    expect([await balance(alice), await balance(bob)]).toEqual([750n, 250n]);
    expect((await engine.call(req(token, 'transfer', transfer(alice, 251n), { caller: bob }))).error).toBe('insufficient balance');
  });

  it('spends allowances with transferFrom and refuses beyond them', async () => {
    const token = await instanceOf(engine, 'token', account(5));
    await expectStatus(engine.call(req(token, 'init', encodeArgs(['u64'], [100n]), { caller: account(5) })), 'ok');
    await expectStatus(engine.call(req(token, 'approve', encodeArgs(['address', 'u64'], [bob, 40n]), { caller: account(5) })), 'ok');
    const allowance = () => engine.query(req(token, 'allowance', encodeArgs(['address', 'address'], [account(5), bob]))).then(u64);
    expect(await allowance()).toBe(40n);
    const from = (amount: bigint) => engine.call(req(token, 'transferFrom', encodeArgs(['address', 'address', 'u64'], [account(5), alice, amount]), { caller: bob }));
    await expectStatus(from(30n), 'ok');
    expect((await from(11n)).error).toBe('allowance exceeded');
    expect(await allowance()).toBe(10n);
  });

  it('conserves the supply and matches a model under random transfers, approvals and transferFroms', async () => {
    const holders = [1, 2, 3, 4].map(account);
    const op = fc.record({
      kind: fc.constantFrom('transfer', 'approve', 'transferFrom'),
      from: fc.nat(3), to: fc.nat(3), spender: fc.nat(3), amount: fc.bigInt(0n, 400n),
    });
    let run = 0;
    await fc.assert(fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 30 }), async (ops) => {
      const token = await instanceOf(engine, 'token', account(100 + (run++ % 100)));
      await engine.call(req(token, 'init', encodeArgs(['u64'], [1000n]), { caller: holders[0] }));
      const balances = [1000n, 0n, 0n, 0n];
      const allowances = new Map<string, bigint>();
      // Submitted together: the engine keeps their order on the instance and batches them.
      const receipts = await Promise.all(ops.map((o) => {
        if (o.kind === 'transfer') return engine.call(req(token, 'transfer', transfer(holders[o.to]!, o.amount), { caller: holders[o.from] }));
        if (o.kind === 'approve') return engine.call(req(token, 'approve', encodeArgs(['address', 'u64'], [holders[o.spender]!, o.amount]), { caller: holders[o.from] }));
        return engine.call(req(token, 'transferFrom', encodeArgs(['address', 'address', 'u64'], [holders[o.from]!, holders[o.to]!, o.amount]), { caller: holders[o.spender] }));
      }));
      ops.forEach((o, i) => {
        const key = `${o.from}:${o.spender}`;
        const allowed = allowances.get(key) ?? 0n;
        const ok = o.kind === 'approve' || (balances[o.from]! >= o.amount && (o.kind === 'transfer' || allowed >= o.amount));
        expect(receipts[i]!.status).toBe(ok ? 'ok' : 'revert');
        if (!ok) return;
        if (o.kind === 'approve') allowances.set(key, o.amount);
        else {
          if (o.kind === 'transferFrom') allowances.set(key, allowed - o.amount);
          balances[o.from] = balances[o.from]! - o.amount;
          balances[o.to] = balances[o.to]! + o.amount;
        }
      });
      const onChain = await Promise.all(holders.map((h) => engine.query(req(token, 'balanceOf', encodeArgs(['address'], [h]))).then(u64)));
      expect(onChain).toEqual(balances);
      expect(onChain.reduce((a, b) => a + b, 0n)).toBe(1000n);
      expect(u64(await engine.query(req(token, 'totalSupply')))).toBe(1000n);
    }), { numRuns: 25, seed: 10 });
  });
});

describe('registry', () => {
  const name = (n: string) => encodeArgs(['string'], [n]);

  it('registers a name once, resolves it, and lets only its owner transfer it', async () => {
    const registry = await instanceOf(engine, 'registry');
    await expectStatus(engine.call(req(registry, 'register', encodeArgs(['string', 'bytes'], ['zhtp', Uint8Array.of(1, 2, 3)]))), 'ok');
    expect((await engine.call(req(registry, 'register', encodeArgs(['string', 'bytes'], ['zhtp', new Uint8Array(0)]), { caller: bob }))).error).toBe('name taken');
    const resolved = await expectStatus(engine.query(req(registry, 'resolve', name('zhtp'))), 'ok');
    expect(decodeArgs(['address', 'bytes'], resolved.returnData)).toEqual([alice, Uint8Array.of(1, 2, 3)]);
    const move = encodeArgs(['string', 'address'], ['zhtp', bob]);
    expect((await engine.call(req(registry, 'transfer', move, { caller: bob }))).error).toBe('not the owner');
    await expectStatus(engine.call(req(registry, 'transfer', move)), 'ok');
    const after = await engine.query(req(registry, 'resolve', name('zhtp')));
    expect(decodeArgs(['address', 'bytes'], after.returnData)).toEqual([bob, Uint8Array.of(1, 2, 3)]);
    expect((await engine.query(req(registry, 'resolve', name('nobody')))).error).toBe('name not registered');
    expect((await engine.call(req(registry, 'register', encodeArgs(['string', 'bytes'], ['x'.repeat(65), new Uint8Array(0)])))).error).toBe('name must be 1..64 bytes');
  });
});

describe('example artefacts', () => {
  it('every example exports exactly the methods its ABI description lists', async () => {
    for (const name of ['counter', 'token', 'registry'] as const) {
      const deployed = await engine.deploy(exampleContract(name));
      expect([...deployed.methods].sort()).toEqual(EXAMPLE_CONTRACTS[name].abi.map((m) => m.name).sort());
      expect(deployed.memory.initial).toBeLessThanOrEqual(2);
    }
  });

  it('reports the gas of the example calls (docs/contracts.md quotes these)', async () => {
    const counter = await instanceOf(engine, 'counter', account(9));
    const token = await instanceOf(engine, 'token', account(9));
    const registry = await instanceOf(engine, 'registry', account(9));
    const as9 = { caller: account(9) };
    const gas = {
      counter_increment_first: (await engine.call(req(counter, 'increment', undefined, as9))).gasUsed,
      counter_increment: (await engine.call(req(counter, 'increment', undefined, as9))).gasUsed,
      counter_get: (await engine.query(req(counter, 'get', undefined, as9))).gasUsed,
      token_init: (await engine.call(req(token, 'init', encodeArgs(['u64'], [10n ** 6n]), as9))).gasUsed,
      token_transfer: (await engine.call(req(token, 'transfer', encodeArgs(['address', 'u64'], [bob, 5n]), as9))).gasUsed,
      token_balanceOf: (await engine.query(req(token, 'balanceOf', encodeArgs(['address'], [bob]), as9))).gasUsed,
      registry_register: (await engine.call(req(registry, 'register', encodeArgs(['string', 'bytes'], ['n', Uint8Array.of(1)]), as9))).gasUsed,
      registry_resolve: (await engine.query(req(registry, 'resolve', encodeArgs(['string'], ['n']), as9))).gasUsed,
    };
    process.stdout.write(`${JSON.stringify({ test: 'contracts', figure: 'example_gas', value: gas })}\n`);
    for (const used of Object.values(gas)) expect(used).toBeGreaterThan(1000);
    expect(gas.token_transfer).toBeLessThan(100_000);
  });
});
