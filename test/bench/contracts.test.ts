/**
 * A smoke run of `npm run bench:contracts` (bench/contracts.ts) with tiny budgets: every figure the
 * docs quote comes out, positive, for each contract and mode, the pool engine it opens is closed,
 * and every mode's state agrees with the calls it made (the token conserves its supply).
 */
import { describe, expect, it } from 'vitest';
import { benchContracts, MODES, TOKEN_SUPPLY } from '../../bench/contracts.js';

const CONTRACTS = ['counter', 'token', 'registry'];

describe('bench:contracts', () => {
  it('reports calls/s per mode and contract, the ratios and pool latencies, and leaves each mode\'s state consistent', async () => {
    const { report, states, network } = await benchContracts({ bounds: { count: 400, ms: 300 }, rounds: 1, warmup: 64, network: { nodes: 5 } });
    const values = (figure: string, match: Record<string, string | number> = {}) => report.figures
      .filter((f) => f.figure === figure && Object.entries(match).every(([k, v]) => f.extra[k] === v))
      .map((f) => f.value);
    for (const contract of CONTRACTS) {
      for (const mode of MODES) {
        const [calls] = values('contract_calls_s', { contract, mode });
        expect(calls, `${mode} ${contract}`).toBeGreaterThan(0);
      }
      for (const figure of ['metering_overhead_x', 'pool_vs_main_x']) expect(values(figure, { contract })).toEqual([expect.any(Number)]);
      expect(values('metering_overhead_x', { contract })[0]).toBeGreaterThan(0);
      expect(values('pool_vs_main_x', { contract })[0]).toBeGreaterThan(0);
      for (const inFlight of [128, 1]) {
        const [p50] = values('contract_call_p50_ms', { contract, mode: 'pool', in_flight: inFlight });
        const [p99] = values('contract_call_p99_ms', { contract, mode: 'pool', in_flight: inFlight });
        expect(p50).toBeGreaterThan(0);
        expect(p99).toBeGreaterThanOrEqual(p50!);
      }
    }
    expect(report.figures).toHaveLength(CONTRACTS.length * (MODES.length + 2 + 4) + 3);
    for (const figure of ['contract_network_calls_s', 'contract_network_p50_ms', 'contract_network_p99_ms']) {
      expect(values(figure, { audit: 'on', nodes: 5 })[0], figure).toBeGreaterThan(0);
    }
    // Every network transfer moved one token to bob exactly once; the supply is conserved.
    expect(network).toHaveLength(1);
    const [cell] = network;
    expect([cell!.bob, cell!.alice + cell!.bob, cell!.supply]).toEqual([BigInt(cell!.calls), TOKEN_SUPPLY, TOKEN_SUPPLY]);

    expect(states).toHaveLength(CONTRACTS.length * MODES.length);
    for (const s of states) {
      expect(s.problems, `${s.mode} ${s.contract}`).toEqual([]);
      expect(s.calls).toBeGreaterThan(64); // the warm-up, then measured calls
    }
    for (const s of states.filter((st) => st.contract === 'token')) {
      expect(s.values.totalSupply).toBe(TOKEN_SUPPLY);
      expect(s.values.alice! + s.values.bob!).toBe(TOKEN_SUPPLY);
      expect(s.values.bob).toBe(BigInt(s.calls));
    }
    for (const s of states.filter((st) => st.contract === 'counter')) expect(s.values.value).toBe(BigInt(s.calls));
  });
});
