/**
 * The PING part of `npm run bench:zk`: a real DhtNode on UDP 127.0.0.1 (LMDB in a temporary
 * folder) pinged from another process, first with its ZK pool idle, then while valid Groth16
 * verifications of all four circuits keep that pool's queue full. The load is submitted to the
 * node's own pool from this process, as bench:crypto saturates the crypto pool, so the figure
 * isolates what verification in the workers costs the coordinator; hostile ZK STOREs arriving
 * over UDP are T29's net test (test/net/zk.test.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { DhtNode } from '../src/node/index.js';
import { isDhtError } from '../src/util/index.js';
import type { ZkPool, ZkPoolStats, ZkProof } from '../src/zk/index.js';
import { pingFromAnotherProcess, type PingResult } from '../test/helpers/pinger.js';
import { ascending, elapsedSince, mark, num, percentile, type PhaseBounds, type Rate, rate, round, type Report } from './common.js';

const PING_INTERVAL_MS = 10;
/** Fewest PINGs per state, whatever the bounds: a p99 needs some samples. */
const MIN_PINGS = 50;
/** While saturating, a verification refused with BUSY is re-issued after this pause. */
const BUSY_RETRY_MS = 5;
/** Lanes beyond the pool's capacity, knocking and getting BUSY as a flood of ZK STOREs would. */
const EXTRA_LANES = 4;
/** How long to wait for the queue to fill before the loaded PINGs start anyway. */
const FILL_WAIT_MS = 2_000;

interface PingMeasure { result: PingResult; rtts: number[]; loopP99: number }
interface Load { rate: Rate; failed: number }

/** `count` PINGs from another process, with this process's event-loop delay recorded meanwhile (1 ms resolution). */
async function measurePings(port: number, count: number): Promise<PingMeasure> {
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  const result = await pingFromAnotherProcess(port, count, PING_INTERVAL_MS);
  loop.disable();
  return { result, rtts: ascending(result.rtts), loopP99: loop.percentile(99) / 1e6 };
}

/**
 * Keeps the pool's queue full with `work` (valid proofs, cycled): one lane per running and queued
 * task and EXTRA_LANES more. Stops when told, or after `capMs` whatever happens, then drains.
 */
function saturate(pool: ZkPool, work: readonly ZkProof[], capMs: number): { stop(): Promise<Load> } {
  let running = true;
  let verified = 0;
  let failed = 0;
  const started = mark();
  const lanes = pool.threads + pool.maxQueue + EXTRA_LANES;
  const lane = async (first: number): Promise<void> => {
    for (let i = first; running && elapsedSince(started.wall) < capMs; i += lanes) {
      const p = work[i % work.length]!;
      try {
        if ((await pool.check(p.circuit, p.publicSignals, p.proof)) === 'valid') verified++;
        else failed++; // a timeout under this load, reported with the figures
      } catch (err) {
        if (!isDhtError(err, 'BUSY')) throw err;
        await sleep(BUSY_RETRY_MS); // counted by the pool: stats().busyRejections
      }
    }
  };
  const all = Promise.all(Array.from({ length: lanes }, (_, k) => lane(k)));
  all.catch(() => undefined); // not lost: stop() awaits `all` and rethrows; this only keeps it from being "unhandled" until then
  return {
    stop: async () => {
      running = false;
      await all;
      return { rate: rate(verified, started), failed };
    },
  };
}

/** PING p50/p99 of a node with its ZK pool idle, then saturated; see the module comment. */
export async function benchPing(report: Report, bounds: PhaseBounds, work: readonly ZkProof[]): Promise<void> {
  const pings = Math.max(MIN_PINGS, Math.min(bounds.count, Math.round(bounds.ms / PING_INTERVAL_MS)));
  const root = mkdtempSync(join(tmpdir(), 'zhtp-bench-zk-'));
  const node = new DhtNode({ host: '127.0.0.1', port: 0, dataDir: join(root, 'node') });
  try {
    await node.start();
    const pool = node.zkPool;
    // Threads up and a prepared verifier for each circuit in them, before any measurement.
    const circuits = [...new Map(work.map((p) => [p.circuit, p])).values()];
    await Promise.all(circuits.flatMap((p) => Array.from({ length: pool.threads }, () => pool.check(p.circuit, p.publicSignals, p.proof))));
    const idle = await measurePings(node.address.port, pings);
    const load = saturate(pool, work, pings * PING_INTERVAL_MS + 60_000);
    const filling = performance.now();
    while (pool.stats().queueSize < pool.maxQueue && elapsedSince(filling) < FILL_WAIT_MS) await sleep(10);
    const busy = await measurePings(node.address.port, pings);
    const stats = pool.stats();
    reportPings(report, idle, busy, stats, await load.stop());
  } finally {
    await node.stop();
    rmSync(root, { recursive: true, force: true });
  }
}

function reportPings(report: Report, idle: PingMeasure, busy: PingMeasure, stats: ZkPoolStats, load: Load): void {
  const lost = (m: PingMeasure): number => m.result.sent - m.rtts.length;
  const row = (name: string, m: PingMeasure): string => {
    const r = m.rtts;
    return `  ${name.padEnd(10)} ${num(percentile(r, 50), 2, 6)} ${num(percentile(r, 99), 2, 6)} ${num(r[r.length - 1] ?? NaN, 2, 6)} ${num(m.loopP99, 2, 13)} ${String(lost(m)).padStart(6)}`;
  };
  report.add('ping_p50_idle_ms', percentile(idle.rtts, 50), 'ms');
  report.add('ping_p99_idle_ms', percentile(idle.rtts, 99), 'ms', { lost: lost(idle) });
  report.add('ping_p50_zk_load_ms', percentile(busy.rtts, 50), 'ms');
  report.add('ping_p99_zk_load_ms', percentile(busy.rtts, 99), 'ms', { lost: lost(busy) });
  report.add('eventloop_p99_idle_ms', idle.loopP99, 'ms');
  report.add('eventloop_p99_zk_load_ms', busy.loopP99, 'ms');
  report.add('zk_load_verify_s', load.rate.perSecond, 'verif/s', {
    threads: stats.threads, queue_peak: stats.peakQueueSize, busy: stats.busyRejections, failed: load.failed, cpu: round(load.rate.cpu),
  });
  report.line('');
  report.line(`Coordinator PING latency (a DhtNode on UDP 127.0.0.1, LMDB in a temporary folder; ${idle.result.sent} PINGs from another process, ${PING_INTERVAL_MS} ms apart, per state)`);
  report.line('  ZK pool      p50 ms p99 ms max ms  loop p99 ms*   lost');
  report.line(row('idle', idle));
  report.line(row('saturated', busy));
  report.line('  * event-loop delay of the node\'s process at 1 ms resolution (a sample includes the 1 ms interval itself)');
  report.line(`  ZK pool while saturated: ${stats.threads} threads, queue peak ${stats.peakQueueSize}/${stats.maxQueue}, BUSY ${stats.busyRejections}; ` +
    `${load.rate.done} valid proofs verified, ${load.rate.perSecond.toFixed(0)}/s, ${load.failed} failed; process CPU ${load.rate.cpu.toFixed(2)} cores`);
}
