/**
 * `npm run bench:contracts`: calls/s of the three example contracts (counter `increment`, token
 * `transfer`, registry `register`) in three modes measured side by side: `main-unmetered` (the
 * original wasm on this thread), `main-metered` (the metered wasm on this thread, through the
 * workers' Executor; bench/contracts-thread.ts) and `pool` (ContractEngine: Piscina threads,
 * batches, version-checked LMDB commits in a temporary folder), with the pool's per-call p50/p99.
 * The modes take turns in rounds, so a busy host slows all alike. Each cell stops at `--seconds N`
 * (default 3; `--quick`: 0.5) or `--count N` calls (default 500,000), whichever comes first.
 * Prints a table, or one JSON object per figure with --json. Then the end-to-end network mode
 * (benchNetworkCalls): token transfers through a 10-node loopback testnet, with and without the
 * followers' audit (`--no-audit-comparison` skips the second testnet).
 */
import { existsSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type CodeRecord, ContractEngine, DEFAULT_CONTRACT_BATCH, DEFAULT_GAS_LIMIT, decodeArgs, encodeArgs, type ExampleContract,
  exampleContract, type Receipt,
} from '../src/contracts/index.js';
import type { CallTask } from '../src/contracts/runtime.js';
import { bytesEqual } from '../src/util/index.js';
import { ascending, drive, elapsedSince, type Extra, mark, num, percentile, phaseBounds, type PhaseBounds, type Rate, rate, Report, round, total } from './common.js';
import { ThreadRuntime } from './contracts-thread.js';
import { createTestnet, type DhtNode } from '../src/node/index.js';

/** How the calls run. `network` joins with part 2 (benchNetworkCalls). */
export type Mode = 'main-unmetered' | 'main-metered' | 'pool';
export const MODES: readonly Mode[] = ['main-unmetered', 'main-metered', 'pool'];

const DEFAULTS = { seconds: 3, count: 500_000 };
const QUICK_SECONDS = 0.5;
/** Measurements of a cell alternate between the modes this many times; the figures are the totals. */
const ROUNDS = 3;
/** Calls per Executor batch on the main thread: what a worker gets per task from the engine. */
const BATCH = DEFAULT_CONTRACT_BATCH;
/** Pool calls in flight while measuring throughput: one batch running, one queued behind it. */
const IN_FLIGHT = 2 * DEFAULT_CONTRACT_BATCH;
/** Calls per mode and contract before measuring (JIT, module compile, first LMDB pages). */
const WARMUP = 4 * DEFAULT_CONTRACT_BATCH;
/** Cells per run (3 contracts × (3 modes + the pool one call at a time)): the watchdog's scale. */
const CELLS = 12;
const MAX_CELL_MS = 10 * 60_000;
/** The token's supply: more than any run can move one unit at a time. */
export const TOKEN_SUPPLY = 10n ** 15n;

const account = (n: number): Uint8Array => new Uint8Array(32).fill(n);
/** Who calls, and creates every instance. */
export const ALICE = account(0xa1);
/** Who receives the token transfers. */
export const BOB = account(0xb0);
const TARGET = account(0x7a);
const utf8 = new TextEncoder();

/** A mode's contract instances: created, called in order, read back. */
interface Driver {
  readonly mode: Mode;
  /** A new instance of deployed `codeHash`, created by ALICE. */
  createInstance(codeHash: Uint8Array): Promise<Uint8Array>;
  /**
   * Calls `next()` in order until `bounds` says stop; throws unless every receipt is ok. The pool
   * pushes each call's latency (ms) to `latencies` when given; the main-thread modes run whole
   * batches and time none.
   */
  run(next: () => CallTask, bounds: PhaseBounds, latencies?: number[]): Promise<Rate>;
  /** One call (or query, `readOnly`) and its receipt. */
  single(task: CallTask): Promise<Receipt>;
}

/** One instance of a workload in one mode, and the ok calls made on it after its setup. */
interface Target {
  driver: Driver;
  instance: Uint8Array;
  calls: number;
}

/** What a mode's instance holds after the run, and what in it disagrees with the calls made. */
export interface ModeState {
  mode: Mode;
  contract: ExampleContract;
  calls: number;
  values: Record<string, bigint>;
  problems: string[];
}

interface Workload {
  contract: ExampleContract;
  method: string;
  /** State-changing calls made once on each new instance, before any measured call. */
  setup: Array<{ method: string; input: Uint8Array }>;
  /** Input of call number `n` on an instance (warm-up included), from 0. */
  input(n: number): Uint8Array;
  /** Reads the instance back (queries only). */
  inspect(t: Target): Promise<Pick<ModeState, 'values' | 'problems'>>;
}

const task = (t: Target, method: string, input: Uint8Array, readOnly: boolean): CallTask =>
  ({ instance: t.instance, method, input, caller: ALICE, gasLimit: DEFAULT_GAS_LIMIT, readOnly });
const query = (t: Target, method: string, input: Uint8Array = new Uint8Array(0)): Promise<Receipt> => t.driver.single(task(t, method, input, true));
const u64 = (r: Receipt): bigint => (r.status === 'ok' ? (decodeArgs(['u64'], r.returnData)?.[0] as bigint | undefined) ?? -1n : -1n);
const nameOf = (n: number): Uint8Array => utf8.encode(`bench-${n}`);
const transferOne = encodeArgs(['address', 'u64'], [BOB, 1n]);

const WORKLOADS: readonly Workload[] = [
  {
    contract: 'counter', method: 'increment', setup: [], input: () => new Uint8Array(0),
    inspect: async (t) => {
      const value = u64(await query(t, 'get'));
      return { values: { value }, problems: value === BigInt(t.calls) ? [] : [`counter at ${value} after ${t.calls} increments`] };
    },
  },
  {
    contract: 'token', method: 'transfer', setup: [{ method: 'init', input: encodeArgs(['u64'], [TOKEN_SUPPLY]) }], input: () => transferOne,
    inspect: async (t) => {
      const balance = async (who: Uint8Array) => u64(await query(t, 'balanceOf', encodeArgs(['address'], [who])));
      const values = { totalSupply: u64(await query(t, 'totalSupply')), alice: await balance(ALICE), bob: await balance(BOB) };
      const problems: string[] = [];
      if (values.totalSupply !== TOKEN_SUPPLY || values.alice + values.bob !== TOKEN_SUPPLY) problems.push(`supply not conserved: ${JSON.stringify(values, (_, v: unknown) => String(v))}`);
      if (values.bob !== BigInt(t.calls)) problems.push(`bob holds ${values.bob} after ${t.calls} transfers of 1`);
      return { values, problems };
    },
  },
  {
    contract: 'registry', method: 'register', setup: [], input: (n) => encodeArgs(['bytes', 'bytes'], [nameOf(n), TARGET]),
    inspect: async (t) => {
      // Names bench-0 .. bench-(calls-1) are taken: the last resolves to ALICE, the next is free.
      const last = await query(t, 'resolve', encodeArgs(['bytes'], [nameOf(t.calls - 1)]));
      const next = await query(t, 'resolve', encodeArgs(['bytes'], [nameOf(t.calls)]));
      const owner = last.status === 'ok' ? decodeArgs(['address', 'bytes'], last.returnData)?.[0] : undefined;
      const values = { lastOwnedByAlice: owner instanceof Uint8Array && bytesEqual(owner, ALICE) ? 1n : 0n, nextFree: next.status === 'revert' ? 1n : 0n };
      return { values, problems: values.lastOwnedByAlice === 1n && values.nextFree === 1n ? [] : [`registry after ${t.calls} registrations: ${last.status} / ${next.status}`] };
    },
  },
];

function expectOk(mode: Mode, receipts: readonly Receipt[]): void {
  for (const r of receipts) {
    if (r.status !== 'ok') throw new Error(`contracts bench, ${mode}: a call ended ${r.status}${r.error === undefined ? '' : `: ${r.error}`}`);
  }
}

/** The main-thread modes: the Executor in batches of BATCH, state in memory (bench/contracts-thread.ts). */
class ThreadDriver implements Driver {
  readonly #rt: ThreadRuntime;

  constructor(readonly mode: Mode, code: ReadonlyMap<Uint8Array, CodeRecord>) {
    this.#rt = new ThreadRuntime(mode === 'main-unmetered');
    for (const [codeHash, record] of code) this.#rt.state.putCode(codeHash, record);
  }

  createInstance(codeHash: Uint8Array): Promise<Uint8Array> {
    return Promise.resolve(this.#rt.state.createInstance(codeHash, ALICE));
  }

  run(next: () => CallTask, bounds: PhaseBounds): Promise<Rate> {
    const started = mark();
    let done = 0;
    while (done < bounds.count && elapsedSince(started.wall) < bounds.ms) {
      const calls = Array.from({ length: Math.min(BATCH, bounds.count - done) }, next);
      expectOk(this.mode, this.#rt.runBatch(calls));
      done += calls.length;
    }
    return Promise.resolve(rate(done, started));
  }

  single(t: CallTask): Promise<Receipt> {
    return Promise.resolve(this.#rt.runBatch([t])[0]!);
  }
}

/** The pool mode: ContractEngine.call, IN_FLIGHT at a time unless told. */
class PoolDriver implements Driver {
  readonly mode = 'pool';

  constructor(readonly engine: ContractEngine) {}

  async createInstance(codeHash: Uint8Array): Promise<Uint8Array> {
    return (await this.engine.createInstance(codeHash, ALICE)).instanceId;
  }

  run(next: () => CallTask, bounds: PhaseBounds, latencies?: number[], inFlight = IN_FLIGHT): Promise<Rate> {
    return drive(inFlight, bounds, async () => expectOk(this.mode, [await this.engine.call(next())]), latencies);
  }

  single(t: CallTask): Promise<Receipt> {
    return t.readOnly ? this.engine.query(t) : this.engine.call(t);
  }
}

/** Options of benchContracts. */
export interface ContractsBenchOptions {
  /** Bounds of each cell (one mode, one contract), split over the rounds. */
  bounds: PhaseBounds;
  /** Print one JSON object per figure instead of the table. Default false. */
  json?: boolean;
  /** Alternating rounds per cell. Default 3. */
  rounds?: number;
  /** Calls per mode and contract before measuring. Default 256. */
  warmup?: number;
  /**
   * The network cells (benchNetworkCalls): testnet size (default 10), and whether to measure a
   * second testnet whose followers do not audit (default false; `npm run bench:contracts` does).
   */
  network?: { nodes?: number; compareAudit?: boolean };
}

/** The figures (in `report`) and what each mode's instances held afterwards. */
export interface ContractsBenchResult {
  report: Report;
  states: ModeState[];
  /** The network cells: calls made and the token balances the holders ended with. */
  network: NetworkState[];
}

/** Per-workload measurements, for the report. */
interface Measured {
  rates: Map<Mode, Rate>;
  /** Pool latencies (ms, ascending) with IN_FLIGHT calls in flight, and one at a time. */
  loaded: number[];
  serial: number[];
  /** Mean calls per batch the engine sent its workers during the pool's rounds. */
  perBatch: number;
}

/** Runs every workload in every mode; the engine it opens is closed and its folder removed before this returns. */
export async function benchContracts(options: ContractsBenchOptions): Promise<ContractsBenchResult> {
  const rounds = options.rounds ?? ROUNDS;
  const warmup = options.warmup ?? WARMUP;
  if (!Number.isInteger(rounds) || rounds < 1) throw new RangeError('options.rounds must be a positive integer');
  if (!Number.isInteger(warmup) || warmup < 0) throw new RangeError('options.warmup must be a non-negative integer');
  const report = new Report('contracts', options.json === true);
  const dir = mkdtempSync(join(tmpdir(), 'zhtp-bench-contracts-'));
  try {
    const engine = ContractEngine.open({ path: dir });
    try {
      const code = await deployExamples(engine);
      const drivers: Driver[] = [new ThreadDriver('main-unmetered', code.records), new ThreadDriver('main-metered', code.records), new PoolDriver(engine)];
      header(report, options.bounds, rounds, engine.threads);
      const states: ModeState[] = [];
      const latencyRows: string[] = [];
      for (const w of WORKLOADS) {
        const targets = await Promise.all(drivers.map((d) => openTarget(d, w, code.hashes.get(w.contract)!)));
        const measured = await measure(w, targets, options.bounds, rounds, warmup);
        for (const t of targets) states.push({ mode: t.driver.mode, contract: w.contract, calls: t.calls, ...(await w.inspect(t)) });
        latencyRows.push(figures(report, w, measured));
      }
      footer(report, latencyRows, states, engine);
      const network = await benchNetworkCalls(report, options.bounds, options.network);
      return { report, states, network };
    } finally {
      await engine.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Deploys the three examples through the engine (meter pool) and returns their stored code records. */
async function deployExamples(engine: ContractEngine): Promise<{ hashes: Map<ExampleContract, Uint8Array>; records: Map<Uint8Array, CodeRecord> }> {
  const hashes = new Map<ExampleContract, Uint8Array>();
  const records = new Map<Uint8Array, CodeRecord>();
  for (const w of WORKLOADS) {
    const { codeHash } = await engine.deploy(exampleContract(w.contract));
    hashes.set(w.contract, codeHash);
    records.set(codeHash, engine.code(codeHash)!);
  }
  return { hashes, records };
}

async function openTarget(driver: Driver, w: Workload, codeHash: Uint8Array): Promise<Target> {
  const t: Target = { driver, instance: await driver.createInstance(codeHash), calls: 0 };
  for (const s of w.setup) expectOk(driver.mode, [await driver.single(task(t, s.method, s.input, false))]);
  return t;
}

/** Warm-up, then `rounds` rounds in which every mode takes a turn, then the pool one call at a time. */
async function measure(w: Workload, targets: readonly Target[], bounds: PhaseBounds, rounds: number, warmup: number): Promise<Measured> {
  const next = (t: Target) => (): CallTask => task(t, w.method, w.input(t.calls++), false);
  for (const t of targets) if (warmup > 0) await t.driver.run(next(t), { count: warmup, ms: Infinity });
  const perRound: PhaseBounds = { count: Math.ceil(bounds.count / rounds), ms: bounds.ms / rounds };
  const byMode = new Map<Mode, Rate[]>(targets.map((t) => [t.driver.mode, []]));
  const pool = targets.find((t) => t.driver instanceof PoolDriver)!;
  const engine = (pool.driver as PoolDriver).engine;
  const loaded: number[] = [];
  let batches = 0;
  for (let r = 0; r < rounds; r++) {
    // Each round starts with the next mode, so none always runs first (or right after the pool's garbage).
    for (let i = 0; i < targets.length; i++) {
      const t = targets[(r + i) % targets.length]!;
      const before = engine.stats().batches;
      byMode.get(t.driver.mode)!.push(await t.driver.run(next(t), perRound, t === pool ? loaded : undefined));
      if (t === pool) batches += engine.stats().batches - before;
    }
  }
  const serial: number[] = [];
  await (pool.driver as PoolDriver).run(next(pool), bounds, serial, 1);
  const rates = new Map([...byMode].map(([m, rs]) => [m, total(rs)]));
  return { rates, loaded: ascending(loaded), serial: ascending(serial), perBatch: rates.get('pool')!.done / Math.max(1, batches) };
}

function header(report: Report, bounds: PhaseBounds, rounds: number, threads: number): void {
  const load = loadavg().map((l) => l.toFixed(2)).join(' ');
  report.line(`contracts bench: ${availableParallelism()} cores (${cpus()[0]?.model ?? 'unknown cpu'}), node ${process.version}, load average ${load}; ` +
    `cells of at most ${bounds.ms / 1000} s or ${bounds.count} calls, in ${rounds} alternating rounds`);
  report.line('  main-unmetered: original wasm on this thread, the runtime\'s host functions, one instance reused without reset');
  report.line(`  main-metered:   metered wasm on this thread through the workers' Executor, batches of ${BATCH}, state in memory`);
  report.line(`  pool:           ContractEngine, ${threads} threads at nice +19, batches of at most ${BATCH}, ${IN_FLIGHT} calls in flight, LMDB in a temporary folder`);
  report.line('');
  report.line('calls/s (contract_calls_s); metering x = unmetered / metered; pool/main x = pool / metered');
  report.line('  contract  method      unmetered/s  metered/s     pool/s  metering x  pool/main x  pool CPU');
}

/** Adds a workload's figures and table row; returns its latency row for the footer. */
function figures(report: Report, w: Workload, m: Measured): string {
  const [unmetered, metered, pooled] = MODES.map((mode) => m.rates.get(mode)!) as [Rate, Rate, Rate];
  const labels = { contract: w.contract, method: w.method };
  for (const mode of MODES) {
    const r = m.rates.get(mode)!;
    const batching: Extra = mode === 'pool' ? { in_flight: IN_FLIGHT, calls_per_batch: round(m.perBatch) } : { calls_per_batch: BATCH };
    report.add('contract_calls_s', r.perSecond, 'calls/s', { mode, ...labels, calls: r.done, cpu: round(r.cpu), ...batching });
  }
  const overhead = unmetered.perSecond / metered.perSecond;
  const poolVsMain = pooled.perSecond / metered.perSecond;
  report.add('metering_overhead_x', overhead, 'x', labels);
  report.add('pool_vs_main_x', poolVsMain, 'x', { ...labels, vs: 'main-metered' });
  for (const [samples, inFlight] of [[m.loaded, IN_FLIGHT], [m.serial, 1]] as const) {
    const extra = { mode: 'pool', ...labels, in_flight: inFlight, samples: samples.length };
    report.add('contract_call_p50_ms', percentile(samples, 50), 'ms', extra);
    report.add('contract_call_p99_ms', percentile(samples, 99), 'ms', extra);
  }
  report.line(`  ${w.contract.padEnd(9)} ${w.method.padEnd(10)} ${num(unmetered.perSecond, 0, 12)} ${num(metered.perSecond, 0, 10)} ${num(pooled.perSecond, 0, 10)}` +
    ` ${num(overhead, 2, 10)} x ${num(poolVsMain, 2, 10)} x ${num(pooled.cpu, 2, 9)}`);
  const ms = (s: readonly number[]): string => `${num(percentile(s, 50), 2, 7)} / ${num(percentile(s, 99), 2, 7)}`;
  return `  ${w.contract.padEnd(9)} ${w.method.padEnd(10)}   ${ms(m.loaded)}   ${num(m.perBatch, 1, 10)}        ${ms(m.serial)}`;
}

function footer(report: Report, latencyRows: readonly string[], states: readonly ModeState[], engine: ContractEngine): void {
  report.line('');
  report.line('pool latency per call, submit to receipt (contract_call_p50_ms / contract_call_p99_ms)');
  report.line(`  contract  method      ${IN_FLIGHT} in flight p50 / p99 ms   calls/batch   one at a time p50 / p99 ms`);
  for (const row of latencyRows) report.line(row);
  const s = engine.stats();
  report.line(`  engine over the whole run: ${s.calls.ok} ok calls, ${s.batches} batches, queue peak ${s.peakQueued}, busy ${s.busyRejections}, conflict retries ${s.conflictRetries}`);
  report.line('');
  const problems = states.flatMap((st) => st.problems.map((p) => `${st.mode} ${st.contract}: ${p}`));
  report.line(problems.length === 0
    ? 'state after the run, every mode: every call ok; counter = increments made; token supply conserved, bob = transfers made; registry names taken in order'
    : `STATE CHECK FAILED: ${problems.join('; ')}`);
  if (problems.length > 0) throw new Error(`contracts bench: ${problems.join('; ')}`);
}

/** What a network cell left behind: calls made and the balances read back from the holders. */
export interface NetworkState { audit: boolean; calls: number; alice: bigint; bob: bigint; supply: bigint; versions: number[] }

/** Transfers in flight in a network cell (one signing node; the primary orders one instance's calls). */
export const NETWORK_IN_FLIGHT = 4;

/**
 * The end-to-end network mode (docs/contracts.md, "Part 2b"): token transfers signed by one node
 * of a loopback testnet and sent to the instance's holders, where the primary executes each one
 * and replicates it to the followers (which verify the signature and, with the audit on, execute
 * it again) before it answers. NETWORK_IN_FLIGHT calls at a time, bounded by `bounds`. Figures:
 * `contract_network_calls_s`, `contract_network_p50_ms`, `contract_network_p99_ms` (label
 * `audit`). With `compareAudit` a second testnet without the audit measures what it costs.
 */
export async function benchNetworkCalls(report: Report, bounds: PhaseBounds, opts: ContractsBenchOptions['network'] = {}): Promise<NetworkState[]> {
  const nodes = opts.nodes ?? 10;
  report.line('');
  report.line(`network: token transfers on a ${nodes}-node loopback testnet, ${NETWORK_IN_FLIGHT} in flight, signed by one node, r = 3 holders`);
  report.line('  audit   calls/s   p50 ms   p99 ms   calls   (contract_network_calls_s, contract_network_p50_ms, contract_network_p99_ms)');
  const out: NetworkState[] = [];
  for (const audit of opts.compareAudit === true ? [true, false] : [true]) out.push(await networkCell(report, bounds, nodes, audit));
  const [on, off] = out;
  if (on !== undefined && off !== undefined) {
    const rows = report.figures.filter((f) => f.figure === 'contract_network_calls_s');
    const x = (rows[rows.length - 1]!.value ?? NaN) / (rows[rows.length - 2]!.value ?? NaN);
    report.add('contract_audit_cost_x', x, 'x', { vs: 'audit off' });
    report.line(`  the audit (followers execute every call again) costs ${num(x, 2, 0)} x in calls/s (contract_audit_cost_x)`);
  }
  return out;
}

async function networkCell(report: Report, bounds: PhaseBounds, nodes: number, audit: boolean): Promise<NetworkState> {
  const net = await createTestnet(nodes, { contracts: { threads: 1, audit }, queryTimeout: 5000 });
  try {
    const { codeHash } = await net.nodes[0]!.deployContract({ wasm: exampleContract('token'), name: 'token', version: '1.0.0' });
    const created = await net.nodes[1]!.createContractInstance(codeHash, { salt: new TextEncoder().encode('bench') });
    const holders = new Set(created.holders.map((c) => Buffer.from(c.id).toString('hex')));
    const [alice, bob] = net.nodes.filter((n) => !holders.has(Buffer.from(n.id).toString('hex'))) as [DhtNode, DhtNode];
    const transfer = encodeArgs(['address', 'u64'], [bob.id, 1n]);
    expectNetworkOk(await alice.callContract(created.instanceId, 'init', encodeArgs(['u64'], [TOKEN_SUPPLY])));
    for (let i = 0; i < 8; i++) expectNetworkOk(await alice.callContract(created.instanceId, 'transfer', transfer)); // warm-up
    const latencies: number[] = [];
    const r = await drive(NETWORK_IN_FLIGHT, bounds, async () => {
      expectNetworkOk(await alice.callContract(created.instanceId, 'transfer', transfer));
    }, latencies);
    const sorted = ascending(latencies);
    const extra = { audit: audit ? 'on' : 'off', nodes, in_flight: NETWORK_IN_FLIGHT, calls: r.done };
    report.add('contract_network_calls_s', r.perSecond, 'calls/s', extra);
    report.add('contract_network_p50_ms', percentile(sorted, 50), 'ms', extra);
    report.add('contract_network_p99_ms', percentile(sorted, 99), 'ms', extra);
    report.line(`  ${(audit ? 'on' : 'off').padEnd(5)} ${num(r.perSecond, 0, 9)} ${num(percentile(sorted, 50), 2, 8)} ${num(percentile(sorted, 99), 2, 8)} ${num(r.done, 0, 7)}`);
    const read = async (who: Uint8Array): Promise<bigint> =>
      decodeArgs(['u64'], (await alice.queryContract(created.instanceId, 'balanceOf', encodeArgs(['address'], [who]))).returnData)![0] as bigint;
    const supply = decodeArgs(['u64'], (await alice.queryContract(created.instanceId, 'totalSupply')).returnData)![0] as bigint;
    const versions = net.nodes.filter((n) => holders.has(Buffer.from(n.id).toString('hex'))).map((n) => n.contractInstance(created.instanceId)?.version ?? -1);
    return { audit, calls: r.done + 8, alice: await read(alice.id), bob: await read(bob.id), supply, versions };
  } finally {
    await net.destroy();
  }
}

function expectNetworkOk(r: Receipt): void {
  if (r.status !== 'ok') throw new Error(`network call ended ${r.status}: ${r.error ?? ''}`);
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const quick = argv.includes('--quick');
  const bounds = phaseBounds(argv, quick ? { ...DEFAULTS, seconds: QUICK_SECONDS } : DEFAULTS);
  if (bounds.ms > MAX_CELL_MS) throw new RangeError(`--seconds must be at most ${MAX_CELL_MS / 1000}`);
  const deadline = CELLS * 1.5 * bounds.ms + 3 * 60_000;
  const watchdog = setTimeout(() => { console.error('contracts bench: deadline passed'); process.exit(1); }, deadline);
  watchdog.unref();
  const { report } = await benchContracts({ bounds, json: argv.includes('--json'), network: { compareAudit: !argv.includes('--no-audit-comparison') } });
  report.print();
}

// Run only as `node dist/bench/contracts.js`, not when a test imports benchContracts.
const entry = process.argv[1];
if (entry !== undefined && existsSync(entry) && realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url))) await main();
