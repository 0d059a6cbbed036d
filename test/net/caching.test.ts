import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { idToHex, type Key } from '../../src/id/index.js';
import type { DhtNode } from '../../src/node/index.js';
import { SeededRandom } from '../../src/util/index.js';
import { createTestnet, type Testnet } from '../helpers/index.js';
import { report } from '../helpers/report.js';

describe('FIND_VALUE caching (Kademlia §2.3)', () => {
  let net: Testnet;
  // Small buckets make tables partial, so lookups pass through nodes that lack the value.
  // Seeded ids keep the topology the same from run to run.
  beforeAll(async () => { net = await createTestnet(24, { k: 4, random: new SeededRandom(2024) }); });
  afterAll(async () => { await net?.destroy(); });

  const holders = (key: Key): number => net.nodes.filter((n) => n.holds(key)).length;

  it('stores a found value at the closest node on the path that lacked it', async () => {
    // Whether a lookup meets a node lacking the value before a holder answers depends on who
    // answers first (timing) unless the reader knows no holder, so up to 3 rounds of 20 gets.
    let cached = 0;
    for (let round = 0; round < 3 && cached === 0; round++) {
      const keys: Key[] = [];
      for (let i = 0; i < 20; i++) keys.push((await net.nodes[i]!.put(new TextEncoder().encode(`cached value ${round}.${i}`))).key);
      const before = keys.map(holders);
      for (const [i, key] of keys.entries()) {
        // Prefer a reader whose table names no holder: its first answers then come from nodes that
        // lack the value, so the lookup path surely holds one to cache at.
        const holderIds = new Set(net.nodes.filter((n) => n.holds(key)).map((n) => idToHex(n.id)));
        const knowsNoHolder = (n: DhtNode): boolean => n.routingTable.entries().every((e) => !holderIds.has(idToHex(e.contact.id)));
        const reader = net.nodes.find((n, j) => j > i && !n.holds(key) && knowsNoHolder(n)) ?? net.nodes.find((n, j) => j > i && !n.holds(key))!;
        const got = await reader.get(key);
        expect(new TextDecoder().decode(got.value)).toBe(`cached value ${round}.${i}`);
      }
      // Cache writes are fire-and-forget: give them a moment (bounded) to commit.
      const deadline = Date.now() + 3000;
      let after = keys.map(holders);
      while (after.every((n, i) => n === before[i]) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        after = keys.map(holders);
      }
      expect(after.every((n, i) => n >= before[i]!)).toBe(true);
      cached = after.reduce((a, n, i) => a + n - before[i]!, 0);
      report({ test: 'core-caching', figure: `cache_copies_round_${round + 1}`, value: cached });
    }
    expect(cached).toBeGreaterThan(0);
  });
});
