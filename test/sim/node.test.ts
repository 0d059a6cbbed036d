/**
 * The simulated node's lookup over a churned table (issue 7 diagnosis): when every one of the k
 * table entries nearest the target has left, the lookup goes on from the next entries
 * (LOOKUP_SEED_FACTOR) instead of ending with nothing.
 */
import { describe, expect, it } from 'vitest';
import { blake3 } from '../../src/crypto/index.js';
import type { Key } from '../../src/id/index.js';
import { SimWorld } from '../../src/sim/world.js';
import { hour, LOOKUP_SEED_FACTOR, SeededRandom } from '../../src/util/index.js';
import { ValueKind } from '../../src/wire/index.js';

describe('SimNode lookups', () => {
  it('find a value although the k table entries nearest the key have all left', async () => {
    expect(LOOKUP_SEED_FACTOR).toBeGreaterThan(1);
    const world = new SimWorld({ seed: 7 });
    try {
      for (let i = 0; i < 400; i++) world.addNode();
      world.oracleJoin();
      const random = new SeededRandom(99);
      let checked = 0;
      for (let attempt = 0; attempt < 20 && checked < 5; attempt++) {
        const from = world.pick();
        const value = random.bytes(32);
        const key = blake3(value) as Key;
        // The k entries of `from`'s table nearest the key leave the network...
        const gone = new Set(from.table.closest(key, world.k).map((c) => c.host));
        const leaving = world.nodes.filter((n) => gone.has(n.contact.host));
        for (const n of leaving) world.removeNode(n);
        // ...and the key lives at the true closest live nodes, as repair would have put it.
        for (const holder of world.trueClosest(key, 5)) {
          holder.records.put(key, value, { expiresAt: world.clock.now() + hour, size: value.byteLength, origin: 'test', kind: ValueKind.IMMUTABLE, replicas: 5 });
        }
        if (world.trueClosest(key, 5).includes(from)) continue;
        const { result } = await world.clock.waitFor(from.findValue(key), hour);
        expect(result.value).not.toBeNull();
        checked++;
      }
      expect(checked).toBe(5);
    } finally {
      world.stop();
    }
  }, 60_000);
});
