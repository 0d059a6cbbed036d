import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mldsaKeygen, mldsaSign } from '../../src/crypto/index.js';
import { DhtNode } from '../../src/node/index.js';
import { isDhtError, SeededRandom } from '../../src/util/index.js';
import { percentile, pingFromAnotherProcess } from '../helpers/pinger.js';
import { report } from '../helpers/report.js';
import { THRESHOLDS } from '../thresholds.js';

const CHECKS = 10_000;
const MAX_QUEUE = 16;

describe('crypto-pool backpressure', () => {
  let root: string;
  let node: DhtNode;
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'zhtp-t10-'));
    node = new DhtNode({ host: '127.0.0.1', port: 0, dataDir: join(root, 'n'), crypto: { maxQueue: MAX_QUEUE } });
    await node.start();
  });
  afterAll(async () => {
    await node?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('T10 bounds the queue, answers BUSY, keeps answering PINGs and accepts no bad signature', async () => {
    const rnd = new SeededRandom(10);
    const keys = Array.from({ length: 8 }, () => mldsaKeygen(rnd.bytes(32)));
    const message = rnd.bytes(64);
    const signatures = keys.map((k) => mldsaSign(k.secretKey, message));
    const pool = node.cryptoPool;
    const loop = monitorEventLoopDelay({ resolution: 1 });
    const rssBefore = process.memoryUsage().rss;
    loop.enable();
    const pings = pingFromAnotherProcess(node.address.port, 300, 10);
    const started = performance.now();
    let valid = 0;
    let rejectedValid = 0;
    let acceptedBad = 0;
    let busy = 0;
    // Offer all checks as fast as the event loop allows, in bursts of 500, for at least the ping run.
    const outcomes: Array<Promise<void>> = [];
    for (let i = 0; i < CHECKS; i++) {
      const k = i % keys.length;
      const good = i % 2 === 0;
      const signature = good ? signatures[k]! : signatures[(k + 1) % keys.length]!;
      outcomes.push(pool.verify({ publicKey: keys[k]!.publicKey, message, signature }).then(
        (ok) => { if (ok && !good) acceptedBad++; if (ok && good) valid++; if (!ok && good) rejectedValid++; },
        (err: unknown) => { if (isDhtError(err, 'BUSY')) busy++; else throw err; },
      ));
      if (i % 500 === 499) await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await Promise.all(outcomes);
    const seconds = (performance.now() - started) / 1000;
    const { rtts, lost } = await pings;
    loop.disable();
    const stats = pool.stats();
    const answered = rtts.length / (rtts.length + lost);
    const loopP99 = loop.percentile(99) / 1e6;
    const verified = CHECKS - busy;
    const T10 = THRESHOLDS.T10;
    report({ test: 'T10', figure: 'verifies_per_s', value: Math.round(verified / seconds) });
    report({ test: 'T10', figure: 'queue_peak', value: stats.peakQueueSize, threshold: MAX_QUEUE, pass: stats.peakQueueSize <= MAX_QUEUE });
    report({ test: 'T10', figure: 'busy_rejections', value: busy });
    report({ test: 'T10', figure: 'eventloop_p99_ms', value: loopP99, threshold: T10.eventloop_p99_ms, pass: loopP99 <= T10.eventloop_p99_ms });
    report({ test: 'T10', figure: 'pings_answered', value: answered, threshold: T10.pings_answered, pass: answered >= T10.pings_answered });
    report({ test: 'T10', figure: 'ping_p99_ms', value: percentile(rtts, 99) });
    report({ test: 'T10', figure: 'bad_signatures_accepted', value: acceptedBad, threshold: T10.bad_signatures_accepted, pass: acceptedBad <= T10.bad_signatures_accepted });
    report({ test: 'T10', figure: 'rss_growth_mib', value: (process.memoryUsage().rss - rssBefore) / 2 ** 20 });

    expect(acceptedBad).toBeLessThanOrEqual(T10.bad_signatures_accepted);
    expect(rejectedValid).toBe(0);
    expect(stats.peakQueueSize).toBeLessThanOrEqual(MAX_QUEUE);
    expect(busy).toBeGreaterThan(0);
    expect(stats.busyRejections).toBeGreaterThan(0);
    expect(valid).toBeGreaterThan(0);
    expect(loopP99).toBeLessThanOrEqual(T10.eventloop_p99_ms);
    expect(answered).toBeGreaterThanOrEqual(T10.pings_answered);
  }, 120_000);
});
