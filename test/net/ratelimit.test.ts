import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DhtNode } from '../../src/node/index.js';
import { percentile, pingFromAnotherProcess } from '../helpers/pinger.js';
import { report } from '../helpers/report.js';
import { THRESHOLDS } from '../thresholds.js';

/** The node's per-IP limit in this test (datagrams/s, burst): low enough that A is far over it. */
const PER_IP = { rate: 500, burst: 100 };
const SECONDS = 10;
/** Flooder A: 5,000 PINGs/s (50 per 10 ms tick) from its own /24. */
const FLOOD_RATE = 5_000;
/** Peer B: 20 PINGs/s from another /24. */
const PEER_RATE = 20;
const T = THRESHOLDS.T09;

describe('rate-limit fairness on real UDP (T09)', () => {
  let root: string;
  let node: DhtNode;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'zhtp-t09-'));
    node = new DhtNode({
      host: '127.0.0.1', port: 0, ephemeral: false, dataDir: join(root, 'n'),
      treatLoopbackAsPublic: true, rateLimits: { perIp: PER_IP },
    });
    await node.start();
  });
  afterAll(async () => {
    await node?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('T09 holds a flooder to its per-IP limit while another peer is answered at full speed', async () => {
    const before = node.extendedStats().transport.drops;
    // Attackers are separate processes: they share neither the node's event loop nor each other's.
    const [a, b] = await Promise.all([
      pingFromAnotherProcess(node.address.port, FLOOD_RATE * SECONDS, 1000 / FLOOD_RATE, { bindHost: '127.1.0.1', senderSeed: 1 }),
      pingFromAnotherProcess(node.address.port, PEER_RATE * SECONDS, 1000 / PEER_RATE, { bindHost: '127.2.0.1', senderSeed: 2 }),
    ]);
    const drops = node.extendedStats().transport.drops;
    const rateIp = drops.rate_ip - before.rate_ip;

    const flooderPerSecond = a.rtts.length / (a.sendMs / 1000);
    const flooderCap = PER_IP.rate * T.flooder_answered_ratio;
    const bSuccess = b.rtts.length / b.sent;
    const bP99 = percentile(b.rtts, 99);
    report({ test: 'T09', figure: 'flooder_answered_per_s', value: Math.round(flooderPerSecond), threshold: flooderCap, pass: flooderPerSecond <= flooderCap });
    report({ test: 'T09', figure: 'B_success', value: bSuccess, threshold: T.b_success, pass: bSuccess >= T.b_success });
    report({ test: 'T09', figure: 'B_p99_ms', value: Math.round(bP99 * 100) / 100, threshold: T.b_p99_ms, pass: bP99 <= T.b_p99_ms });
    report({ test: 'T09', figure: 'rate_limited_drops', value: rateIp, threshold: 0, pass: rateIp > 0 });

    expect(a.sent).toBe(FLOOD_RATE * SECONDS);
    expect(flooderPerSecond).toBeLessThanOrEqual(flooderCap);
    expect(flooderPerSecond).toBeGreaterThan(PER_IP.rate * 0.5); // limited, not starved
    expect(bSuccess).toBeGreaterThanOrEqual(T.b_success);
    expect(bP99).toBeLessThanOrEqual(T.b_p99_ms);
    expect(rateIp).toBeGreaterThan(0);
    // A's refused datagrams spent neither its subnet's budget nor the global one.
    expect(drops.rate_subnet - before.rate_subnet).toBe(0);
    expect(drops.rate_global - before.rate_global).toBe(0);
  }, 60_000);
});
