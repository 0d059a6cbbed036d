/**
 * T28 (RELIABILITY.md §F): crash and restart persistence. Every node runs in its own process
 * (test/helpers/node-process.mjs, the built node from dist) on a fixed port of 127.28.0.1 with
 * its LMDB folder in a temporary directory. A burst of PUTs runs through all of them at once;
 * part way through, a seeded half of the processes is killed with SIGKILL. A PUT whose answer
 * line arrived is acknowledged: node.put resolved, so every replica acknowledged after its LMDB
 * commit. The killed nodes' stores are then opened and audited as the crash left them, the nodes
 * are restarted on the same folders and ports WITHOUT a bootstrap list (they must rejoin from the
 * routing snapshot saved every maintenance round), and every key is read back through survivors.
 * CI size: 10 processes, 200 PUTs; SLOW=1: 50 processes, 1,000 PUTs (the spec's size).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blake3 } from '../../src/crypto/index.js';
import type { Key } from '../../src/id/index.js';
import { loadSnapshot } from '../../src/node/snapshot.js';
import { Store } from '../../src/storage/index.js';
import { bytesEqual, SeededRandom } from '../../src/util/index.js';
import { ValueKind } from '../../src/wire/index.js';
import { report } from '../helpers/report.js';
import { THRESHOLDS } from '../thresholds.js';

const SLOW = process.env.SLOW === '1';
const N = SLOW ? 50 : 10;
const PUTS = SLOW ? 1_000 : 200;
/** PUTs in flight per process during the burst: about 60 in all (6 each at CI size, 1 each at 50 processes). */
const IN_FLIGHT = Math.max(1, Math.round(60 / N));
/** The kill comes when this share of the PUTs has been acknowledged: mid-burst. */
const KILL_AFTER = 0.4;
/** Attempts per PUT: one whose writer died or whose holders all timed out goes to another process. */
const ATTEMPTS = 4;
/** Killed processes restarted at once. */
const RESTART_WAVE = 5;
const HOST = '127.28.0.1';
const SEED = 28;
const RUNNER = fileURLToPath(new URL('../helpers/node-process.mjs', import.meta.url));
/**
 * Short timeouts: killed peers must cost seconds, not the 10 s defaults, for the CI run to stay
 * under a minute. A snapshot every 2 s means a killed node's saved table is at most 2 s old.
 */
const TUNING = { maintenanceInterval: 2_000, queryTimeout: 1_000, retries: 1, lookupTimeout: 15_000 };

/** One answer line of node-process.mjs. */
interface Reply { id?: number; ok: boolean; error?: string; [field: string]: unknown }
/** Its `started` line. */
interface Started { port: number; pid: number; joinedWithoutBootstrapList: number; fallbackUsed: boolean; table: number; startMs: number }

const spawned = new Set<ChildProcess>();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

/** A DhtNode in a child process, driven over stdin/stdout JSON lines. */
class NodeProcess {
  readonly child: ChildProcess;
  readonly started: Promise<Started>;
  readonly closed: Promise<void>;
  #next = 1;
  readonly #pending = new Map<number, (reply: Reply) => void>();
  #alive = true;
  #stderr = '';

  constructor(readonly index: number, config: Record<string, unknown>) {
    this.child = spawn(process.execPath, [RUNNER, JSON.stringify(config)], { stdio: ['pipe', 'pipe', 'pipe'] });
    spawned.add(this.child);
    // A write to a dead child's stdin fails with EPIPE; its requests are answered by 'close' below.
    this.child.stdin!.on('error', () => {});
    this.child.stderr!.on('data', (chunk: Buffer) => { this.#stderr = (this.#stderr + chunk.toString()).slice(-2_000); });
    let onStarted: (s: Started) => void = () => {};
    let onFailed: (e: Error) => void = () => {};
    this.started = new Promise<Started>((resolve, reject) => { onStarted = resolve; onFailed = reject; });
    this.started.catch(() => {}); // observed by whoever awaits it; an unawaited failure must not crash the run
    createInterface({ input: this.child.stdout! }).on('line', (text) => {
      const line = JSON.parse(text) as Reply & { event?: string };
      if (line.event === 'started') onStarted(line as unknown as Started);
      else if (line.event === 'failed') onFailed(new Error(`node ${index} failed to start: ${line.error}`));
      else if (typeof line.id === 'number') this.#settle(line.id, line);
    });
    // 'close' comes after stdout is drained: every answer written before a kill is read first.
    this.closed = new Promise((resolve) => this.child.on('close', () => {
      this.#alive = false;
      onFailed(new Error(`node ${index} exited before starting: ${this.#stderr}`));
      for (const id of [...this.#pending.keys()]) this.#settle(id, { ok: false, error: 'EXITED' });
      resolve();
    }));
  }

  get alive(): boolean { return this.#alive; }

  /** Sends one command; resolves with its answer, or {ok:false} on EXITED / TIMEOUT (never rejects). */
  request(op: string, fields: Record<string, unknown> = {}, timeoutMs = 30_000): Promise<Reply> {
    if (!this.#alive) return Promise.resolve({ ok: false, error: 'EXITED' });
    const id = this.#next++;
    return new Promise<Reply>((resolve) => {
      const timer = setTimeout(() => this.#settle(id, { ok: false, error: 'TIMEOUT' }), timeoutMs);
      this.#pending.set(id, (reply) => { clearTimeout(timer); resolve(reply); });
      this.child.stdin!.write(`${JSON.stringify({ id, op, ...fields })}\n`);
    });
  }

  /** kill -9. */
  kill(): void {
    if (this.#alive) this.child.kill('SIGKILL');
  }

  /** Graceful stop (saves the snapshot, closes LMDB); SIGKILL if it does not exit in 10 s. */
  async stop(): Promise<void> {
    if (!this.#alive) return;
    await this.request('stop', {}, 10_000);
    const timer = setTimeout(() => this.kill(), 10_000);
    await this.closed;
    clearTimeout(timer);
  }

  #settle(id: number, reply: Reply): void {
    const resolve = this.#pending.get(id);
    this.#pending.delete(id);
    resolve?.(reply);
  }
}

/** First of N consecutive UDP ports free on HOST, below the ephemeral range (nothing else gets them by chance). */
async function freePorts(count: number): Promise<number> {
  const free = (port: number) => new Promise<boolean>((resolve) => {
    const socket = createSocket('udp4');
    socket.once('error', () => { socket.close(); resolve(false); });
    socket.bind(port, HOST, () => socket.close(() => resolve(true)));
  });
  for (let attempt = 0; attempt < 20; attempt++) {
    const base = 20_000 + ((process.pid * 131 + attempt * 997) % (12_000 - count));
    let ok = true;
    for (let i = 0; i < count && ok; i++) ok = await free(base + i);
    if (ok) return base;
  }
  throw new Error(`no ${count} consecutive free UDP ports on ${HOST}`);
}

/** What one store holds as opened from disk: records, values not hashing to their key, expected keys missing. */
interface Audit { records: number; corrupt: number; missing: number; snapshotContacts: number }

/** Opens a node's LMDB store (its process must be dead), checks every value against its key. */
async function auditStore(dataDir: string, expected: ReadonlySet<string>): Promise<Audit> {
  const store = Store.open({ path: join(dataDir, 'store') });
  try {
    let records = 0;
    let corrupt = 0;
    for (const entry of store.entries()) {
      records++;
      const stored = store.getCopy(entry.key);
      if (stored === undefined || (stored.kind === ValueKind.IMMUTABLE && !bytesEqual(blake3(stored.value), entry.key))) corrupt++;
    }
    let missing = 0;
    for (const key of expected) if (!store.has(Buffer.from(key, 'hex') as unknown as Key)) missing++;
    return { records, corrupt, missing, snapshotContacts: loadSnapshot(store).length };
  } finally {
    await store.close();
  }
}

describe('T28 crash and restart persistence (kill -9, same LMDB folders)', () => {
  let root: string;
  let basePort: number;
  const procs: NodeProcess[] = [];
  const random = new SeededRandom(SEED);
  const contents = Array.from({ length: PUTS }, (_, i) => Buffer.concat([Buffer.from(`T28 put ${i} `), random.bytes(96)]));
  const keys = contents.map((c) => hex(blake3(c)));

  const config = (i: number, extra: Record<string, unknown>) => ({ host: HOST, port: basePort + i, dataDir: join(root, `node-${i}`), ...TUNING, ...extra });

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'zhtp-t28-'));
    basePort = await freePorts(N);
    procs[0] = new NodeProcess(0, config(0, {}));
    await procs[0].started;
    const bootstrap = [`${HOST}:${basePort}`];
    for (let i = 1; i < N; i += 10) {
      const batch = Array.from({ length: Math.min(10, N - i) }, (_, j) => new NodeProcess(i + j, config(i + j, { bootstrap })));
      procs.push(...batch);
      await Promise.all(batch.map((p) => p.started));
    }
    // Early joiners met few peers: a second self-lookup fills every table (as createTestnet does).
    await Promise.all(procs.map((p) => p.request('refresh')));
    // Let one maintenance round pass everywhere, so every node has a routing snapshot on disk.
    await sleep(TUNING.maintenanceInterval + 500);
  }, SLOW ? 600_000 : 120_000);

  afterAll(async () => {
    for (const child of spawned) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await Promise.all(procs.map((p) => Promise.race([p.closed, sleep(5_000)])));
    if (root !== undefined) rmSync(root, { recursive: true, force: true });
  });

  /** What the burst left: acknowledged PUTs (writer, replica ports), attempts, refusals, the kill point. */
  interface Burst {
    acked: Map<number, { writer: number; replicas: number[] }>;
    attempts: number[];
    failures: Map<string, number>;
    givenUp: number;
    killedAt: number;
    killAtMs: number;
    burstMs: number;
  }

  /**
   * Every PUT through every process, IN_FLIGHT at a time each; when KILL_AFTER of them are
   * acknowledged, SIGKILL the victims. A PUT whose writer died or that failed goes to another
   * writer (ATTEMPTS at most). A PUT is acknowledged when its answer line arrives.
   */
  async function writeBurst(victims: ReadonlySet<number>): Promise<Burst> {
    const b: Burst = { acked: new Map(), attempts: new Array<number>(PUTS).fill(0), failures: new Map(), givenUp: 0, killedAt: -1, killAtMs: -1, burstMs: 0 };
    const queue = contents.map((_, i) => i);
    const started = performance.now();
    const deadline = started + (SLOW ? 300_000 : 60_000);
    const writer = async (p: NodeProcess): Promise<void> => {
      while (p.alive && b.acked.size + b.givenUp < PUTS && performance.now() < deadline) {
        const i = queue.shift();
        if (i === undefined) { await sleep(20); continue; }
        b.attempts[i]!++;
        const reply = await p.request('put', { hex: contents[i]!.toString('hex') });
        if (reply.ok) {
          expect(reply.key).toBe(keys[i]);
          b.acked.set(i, { writer: p.index, replicas: reply.replicas as number[] });
          if (b.acked.size >= KILL_AFTER * PUTS && b.killedAt < 0) {
            b.killedAt = b.acked.size;
            b.killAtMs = performance.now() - started;
            for (const v of victims) procs[v]!.kill();
          }
        } else {
          b.failures.set(reply.error!, (b.failures.get(reply.error!) ?? 0) + 1);
          if (b.attempts[i]! < ATTEMPTS) queue.push(i);
          else b.givenUp++;
        }
      }
    };
    await Promise.all(procs.flatMap((p) => Array.from({ length: IN_FLIGHT }, () => writer(p))));
    b.burstMs = performance.now() - started;
    return b;
  }

  /**
   * Restarts the killed nodes on their folders and ports with no bootstrap list; `fallback` (a
   * survivor) is joined only by a node that found no peer through its snapshot. Restarts go in
   * waves: 25 processes loading at once on two cores starve each other's event loops past the
   * 2 s HELLO timeout, which would measure the machine rather than the snapshot.
   */
  async function restartKilled(victims: ReadonlySet<number>, fallback: string[]): Promise<Started[]> {
    const restarts: Started[] = [];
    const list = [...victims];
    for (let w = 0; w < list.length; w += RESTART_WAVE) {
      const wave = list.slice(w, w + RESTART_WAVE);
      for (const v of wave) procs[v] = new NodeProcess(v, config(v, { fallback }));
      restarts.push(...await Promise.all(wave.map((v) => procs[v]!.started)));
    }
    return restarts;
  }

  /** What reading every key back found. */
  interface ReadBack { found: Set<number>; corruptReads: number; rejectedAnswers: number; servedByRestarted: number; doneAt: number }

  /**
   * Gets every key through a survivor other than its writer, in rounds until all are found or
   * `deadline`; each answer is re-hashed here too (the node already checked it).
   */
  async function readBack(survivors: NodeProcess[], burst: Burst, victims: ReadonlySet<number>, deadline: number): Promise<ReadBack> {
    const r: ReadBack = { found: new Set(), corruptReads: 0, rejectedAnswers: 0, servedByRestarted: 0, doneAt: Number.POSITIVE_INFINITY };
    for (let round = 0; r.found.size < PUTS && performance.now() < deadline; round++) {
      if (round > 0) await sleep(500);
      const todo = keys.map((_, i) => i).filter((i) => !r.found.has(i));
      let next = 0;
      await Promise.all(survivors.flatMap((_, s) => Array.from({ length: 4 }, async () => {
        while (next < todo.length && performance.now() < deadline) {
          const i = todo[next++]!;
          const readers = survivors.filter((p) => p.index !== burst.acked.get(i)?.writer);
          const reply = await readers[(i + s + round) % readers.length]!.request('get', { key: keys[i] }, 20_000);
          if (!reply.ok) continue;
          r.rejectedAnswers += reply.rejected as number;
          const value = Buffer.from(reply.hex as string, 'hex');
          if (!bytesEqual(blake3(value), Buffer.from(keys[i]!, 'hex')) || !value.equals(contents[i]!)) { r.corruptReads++; continue; }
          if (victims.has((reply.from as number) - basePort)) r.servedByRestarted++;
          r.found.add(i);
        }
      })));
      if (r.found.size === PUTS) r.doneAt = performance.now();
    }
    return r;
  }

  it('T28 every acknowledged write survives kill -9 of half the nodes; restarted nodes rejoin from their saved snapshot', async () => {
    const t = THRESHOLDS.T28;
    // Seeded choice of the half to kill.
    const order = procs.map((_, i) => i);
    for (let i = order.length - 1; i > 0; i--) { const j = random.int(i + 1); [order[i], order[j]] = [order[j]!, order[i]!]; }
    const victims = new Set(order.slice(0, Math.floor(N / 2)));
    const survivors = procs.filter((p) => !victims.has(p.index));

    const burst = await writeBurst(victims);
    const { acked, attempts, failures, givenUp, killedAt, killAtMs, burstMs } = burst;
    expect(killedAt).toBeGreaterThan(0);
    await Promise.all([...victims].map((v) => procs[v]!.closed));

    // The durable acknowledgements each killed node gave: keys it acknowledged as a replica.
    const portOf = (i: number) => basePort + i;
    const expectedOn = (i: number) => new Set([...acked].filter(([, a]) => a.replicas.includes(portOf(i))).map(([k]) => keys[k]!));
    // The crash state: open each killed node's store as SIGKILL left it.
    const crashAudits = new Map<number, Audit>();
    for (const v of victims) crashAudits.set(v, await auditStore(join(root, `node-${v}`), expectedOn(v)));

    const recoveryStarted = performance.now();
    const restarts = await restartKilled(victims, [`${HOST}:${portOf(survivors[0]!.index)}`]);
    const { found, corruptReads, rejectedAnswers, servedByRestarted, doneAt } = await readBack(survivors, burst, victims, recoveryStarted + t.recovery_ms);
    const recoveryMs = doneAt - recoveryStarted;

    // Graceful stop, then every store as it is on disk after the restart.
    await Promise.all(procs.map((p) => p.stop()));
    const finalAudits = await Promise.all(procs.map((p) => auditStore(join(root, `node-${p.index}`), victims.has(p.index) ? expectedOn(p.index) : new Set())));

    const crash = [...crashAudits.values()];
    const lostWrites = [...acked.keys()].filter((i) => !found.has(i)).length;
    const lostStores = crash.reduce((a, x) => a + x.missing, 0) + finalAudits.reduce((a, x) => a + x.missing, 0);
    const ackedStoresOnKilled = [...victims].reduce((a, v) => a + expectedOn(v).size, 0);
    const corrupt = crash.reduce((a, x) => a + x.corrupt, 0) + finalAudits.reduce((a, x) => a + x.corrupt, 0) + corruptReads + rejectedAnswers;
    const fromSnapshot = restarts.filter((r) => r.joinedWithoutBootstrapList > 0 && !r.fallbackUsed).length;
    const withSnapshotOnDisk = crash.filter((x) => x.snapshotContacts > 0).length;
    const retrievable = found.size / PUTS;
    const rejoinShare = fromSnapshot / victims.size;

    report({ test: 'T28', figure: 'retrievable', value: retrievable, threshold: t.retrievable, pass: retrievable >= t.retrievable });
    report({ test: 'T28', figure: 'lost_acknowledged_writes', value: lostWrites, threshold: t.lost_acknowledged_writes, pass: lostWrites <= t.lost_acknowledged_writes });
    report({ test: 'T28', figure: 'lost_acknowledged_stores', value: lostStores, threshold: t.lost_acknowledged_stores, pass: lostStores <= t.lost_acknowledged_stores });
    report({ test: 'T28', figure: 'corrupt_records', value: corrupt, threshold: t.corrupt_records, pass: corrupt <= t.corrupt_records });
    report({ test: 'T28', figure: 'recovery_ms', value: Number.isFinite(recoveryMs) ? Math.round(recoveryMs) : -1 /* not all keys found */, threshold: t.recovery_ms, pass: recoveryMs <= t.recovery_ms });
    report({ test: 'T28', figure: 'rejoined_from_snapshot_share', value: rejoinShare, threshold: t.rejoined_from_snapshot_share, pass: rejoinShare >= t.rejoined_from_snapshot_share });
    report({ test: 'T28', figure: 'rejoined_from_snapshot', value: fromSnapshot });
    report({ test: 'T28', figure: 'needed_bootstrap', value: victims.size - fromSnapshot });
    report({ test: 'T28', figure: 'killed_nodes', value: victims.size });
    report({ test: 'T28', figure: 'acknowledged_writes', value: acked.size });
    report({ test: 'T28', figure: 'acknowledged_before_kill', value: killedAt });
    report({ test: 'T28', figure: 'kill_at_ms', value: Math.round(killAtMs) });
    report({ test: 'T28', figure: 'acknowledged_stores_on_killed_nodes', value: ackedStoresOnKilled });
    report({ test: 'T28', figure: 'put_retries', value: attempts.reduce((a, n) => a + Math.max(0, n - 1), 0) });
    report({ test: 'T28', figure: 'gets_served_by_restarted', value: servedByRestarted });
    report({ test: 'T28', figure: 'burst_ms', value: Math.round(burstMs) });
    report({ test: 'T28', figure: 'restart_ms_max', value: Math.max(...restarts.map((r) => r.startMs)) });
    process.stdout.write(`T28 put failures by reason: ${JSON.stringify(Object.fromEntries(failures))}\n`);
    process.stdout.write(`T28 restarts: ${JSON.stringify(restarts.map((r) => ({ port: r.port, fromSnapshot: r.joinedWithoutBootstrapList, fallbackUsed: r.fallbackUsed, table: r.table, startMs: r.startMs })))}\n`);

    expect(acked.size + givenUp).toBe(PUTS);
    expect(ackedStoresOnKilled).toBeGreaterThan(0); // the kill did hit acknowledged replicas
    expect(withSnapshotOnDisk).toBe(victims.size);
    expect(lostStores).toBeLessThanOrEqual(t.lost_acknowledged_stores);
    expect(lostWrites).toBeLessThanOrEqual(t.lost_acknowledged_writes);
    expect(corrupt).toBeLessThanOrEqual(t.corrupt_records);
    expect(retrievable).toBeGreaterThanOrEqual(t.retrievable);
    expect(recoveryMs).toBeLessThanOrEqual(t.recovery_ms);
    expect(rejoinShare).toBeGreaterThanOrEqual(t.rejoined_from_snapshot_share);
    expect(restarts.every((r) => r.table > 0)).toBe(true);
  }, SLOW ? 900_000 : 120_000);
});
