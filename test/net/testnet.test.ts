import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareDistance, type Id, idToHex, keyFromContent } from '../../src/id/index.js';
import { SeededRandom } from '../../src/util/index.js';
import { createTestnet, type Testnet } from '../helpers/index.js';
import { report } from '../helpers/report.js';

const NODES = 30;
const VALUES = 100;
const MAX_SIZE = 200 * 1024;

/** Sizes from 1 B to 200 KiB, spread geometrically so both ends and the middle are covered. */
function sizes(n: number): number[] {
  return Array.from({ length: n }, (_, i) => Math.max(1, Math.round(MAX_SIZE ** (i / (n - 1)))));
}

/** Runs `fn` over `items` with at most `limit` at once. */
async function pool<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

describe('a 30-node loopback testnet', () => {
  let net: Testnet;
  const rnd = new SeededRandom(42);

  beforeAll(async () => {
    net = await createTestnet(NODES);
  });
  afterAll(async () => {
    await net?.destroy();
  });

  it('lookups return the true k closest nodes (recall >= 0.95)', async () => {
    const all = net.nodes.map((n) => n.contact);
    let recall = 0;
    const targets = 40;
    for (let i = 0; i < targets; i++) {
      const target = rnd.bytes(32) as Id;
      const from = net.nodes[rnd.int(NODES)]!;
      const found = await from.findNode(target);
      const truth = all.filter((c) => idToHex(c.id) !== idToHex(from.id))
        .sort((a, b) => compareDistance(target, a.id, b.id)).slice(0, 20).map((c) => idToHex(c.id));
      const got = new Set(found.map((c) => idToHex(c.id)));
      recall += truth.filter((h) => got.has(h)).length / truth.length;
    }
    const mean = recall / targets;
    report({ test: 'T26-net30', figure: 'recall_at_k', value: mean, threshold: 0.95, pass: mean >= 0.95 });
    expect(mean).toBeGreaterThanOrEqual(0.95);
  });

  it('100 values of 1 B .. 200 KiB stored from random nodes are found from every other node', async () => {
    const values = sizes(VALUES).map((size, i) => {
      const v = new Uint8Array(size);
      for (let j = 0; j < size; j++) v[j] = (j * 131 + i * 17) & 0xff;
      return v;
    });
    const writers = values.map(() => rnd.int(NODES));
    const keys: Id[] = new Array(VALUES);
    await pool(values.map((v, i) => i), 4, async (i) => {
      const result = await net.nodes[writers[i]!]!.put(values[i]!);
      expect(result.replicas.length).toBe(3);
      keys[i] = result.key;
    });
    expect(keys.map((k) => idToHex(k))).toEqual(values.map((v) => idToHex(keyFromContent(v))));

    const jobs: Array<[number, number]> = [];
    for (let i = 0; i < VALUES; i++) for (let n = 0; n < NODES; n++) if (n !== writers[i]) jobs.push([i, n]);
    let found = 0;
    let hops = 0;
    await pool(jobs, 8, async ([i, n]) => {
      const got = await net.nodes[n]!.get(keys[i]!);
      expect(Buffer.compare(Buffer.from(got.value), Buffer.from(values[i]!))).toBe(0);
      found++;
      hops += got.hops;
    });
    report({ test: 'core-net30', figure: 'gets_found', value: found, threshold: jobs.length, pass: found === jobs.length });
    report({ test: 'core-net30', figure: 'mean_get_hops', value: hops / found });
    expect(found).toBe(jobs.length);
  }, 240_000);

  it('a get of a key nobody stored rejects with NOT_FOUND', async () => {
    const missing = rnd.bytes(32) as Id;
    await expect(net.nodes[3]!.get(missing)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('DhtStats reflect the network', () => {
    const stats = net.nodes[5]!.stats();
    expect(stats.routingTableSize).toBeGreaterThanOrEqual(NODES / 2);
    expect(stats.totalNodes).toBeGreaterThan(stats.routingTableSize / 2);
    expect(stats.totalMessagesSent).toBeGreaterThan(0);
    expect(stats.totalMessagesReceived).toBeGreaterThan(0);
    expect(stats.totalConnections).toBeGreaterThan(0);
    expect(stats.networkHealth).toBeGreaterThan(0.9);
    expect(stats.storageUtilization).toBeGreaterThanOrEqual(0);
    expect(stats.storageUtilization).toBeLessThan(1);
  });
});
