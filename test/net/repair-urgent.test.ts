/**
 * Repair when a holder is seen to leave (docs/replication.md, "urgent rounds"): a 12-node loopback
 * testnet whose replication timers are set to a day, so no full round runs during the test. A
 * value is stored at r = 3 and one of its holders stops. The survivors notice through their own
 * lookups (two timeouts remove a contact), queue the key, and check it in an urgent round 5 s
 * later: the value is back on three live nodes with no full round and no `replicate()` call.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Key } from '../../src/id/index.js';
import type { DhtNode } from '../../src/node/index.js';
import { hour, SeededRandom } from '../../src/util/index.js';
import { createTestnet, type Testnet } from '../helpers/index.js';
import { report } from '../helpers/report.js';

const N = 12;
const R = 3;
/** Bounds of the waits below: lookups that remove the departed holder, then the repair. */
const MAX_LOOKUP_ROUNDS = 6;
const REPAIR_DEADLINE_MS = 30_000;

let net: Testnet;

beforeAll(async () => {
  net = await createTestnet(N, {
    random: new SeededRandom(4242), repairInterval: 24 * hour, republishInterval: 24 * hour,
    queryTimeout: 1000, lookupTimeout: 10_000,
  });
  for (const n of net.nodes) if (n.routingTable.size === 0) await n.bootstrap();
}, 120_000);

afterAll(() => net?.destroy());

const live = (): DhtNode[] => net.nodes.filter((n) => n.running);
const holdersOf = (key: Key): DhtNode[] => live().filter((n) => n.holds(key));
const urgentRounds = (): number => live().reduce((a, n) => a + (n.extendedStats().replication?.urgentRounds ?? 0), 0);
const fullRounds = (): number => live().reduce((a, n) => a + (n.extendedStats().replication?.rounds ?? 0), 0);

describe('repair when a holder leaves', () => {
  it('restores r live holders within seconds of the departure being noticed, without a full round', async () => {
    const publisher = net.nodes[0]!;
    const { key } = await publisher.put(new TextEncoder().encode('kept at three holders'), { replicationFactor: R });
    const before = holdersOf(key);
    expect(before.length).toBeGreaterThanOrEqual(R);
    // Stop a holder other than the publisher (which also keeps its own copy as a holder).
    const gone = before.find((n) => n !== publisher)!;
    const survivors = before.filter((n) => n !== gone);
    const goneId = gone.id;
    const urgentBefore = urgentRounds();
    await gone.stop();
    const t0 = performance.now();

    // Survivors look the key up until the departed node has left their tables (two timeouts each).
    for (let i = 0; i < MAX_LOOKUP_ROUNDS && survivors.some((n) => n.routingTable.has(goneId)); i++) {
      await Promise.all(survivors.map((n) => n.lookup(key).catch(() => null)));
    }
    expect(survivors.filter((n) => n.routingTable.has(goneId))).toHaveLength(0);
    const noticedMs = performance.now() - t0;

    const deadline = performance.now() + REPAIR_DEADLINE_MS;
    while (holdersOf(key).length < before.length && performance.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    const repairedMs = performance.now() - t0;
    const after = holdersOf(key);
    report({ test: 'repair-urgent', figure: 'noticed_ms', value: Math.round(noticedMs) });
    report({ test: 'repair-urgent', figure: 'restored_ms', value: Math.round(repairedMs), threshold: REPAIR_DEADLINE_MS, pass: after.length >= before.length });
    expect(after.length).toBeGreaterThanOrEqual(before.length);
    expect(after.some((n) => !before.includes(n))).toBe(true); // a new holder, not only the survivors
    expect(urgentRounds()).toBeGreaterThan(urgentBefore);
    expect(fullRounds()).toBe(0);
  }, 90_000);
});
