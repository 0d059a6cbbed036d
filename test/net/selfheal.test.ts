/**
 * Self-healing after isolation: a node whose routing table has (almost) emptied joins again
 * through its bootstrap peers at its next maintenance tick (REBOOTSTRAP_SHARE), instead of
 * staying alone until someone happens to contact it. Real UDP on loopback, real LMDB.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { hour, REBOOTSTRAP_SHARE } from '../../src/util/index.js';
import { createTestnet, type Testnet } from '../helpers/index.js';

const N = 12;
const TICK = 300;

describe('self-healing', () => {
  let net: Testnet;

  beforeAll(async () => {
    // Quiet otherwise: no repair or republish traffic that would refill the table by chance.
    net = await createTestnet(N, { maintenanceInterval: TICK, repairInterval: 24 * hour, republishInterval: 24 * hour });
  }, 60_000);

  afterAll(async () => {
    await net?.destroy();
  });

  it('a node whose table emptied bootstraps again at its next maintenance tick', async () => {
    const node = net.nodes[N - 1]!;
    const table = node.routingTable;
    const before = node.extendedStats().maintenance.rebootstraps;
    // Empty the table, replacement caches included (remove() promotes a replacement), bounded.
    for (let i = 0; i < 1000 && table.size > 0; i++) {
      for (const e of table.entries()) table.remove(e.contact.id, Date.now());
    }
    expect(table.size).toBe(0);
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline && table.size < REBOOTSTRAP_SHARE * 20) await sleep(100);
    expect(node.extendedStats().maintenance.rebootstraps).toBeGreaterThan(before);
    expect(table.size).toBeGreaterThanOrEqual(Math.min(N - 1, REBOOTSTRAP_SHARE * 20));
    // A healthy table is left alone: no further rebootstraps once it is full again.
    const healed = node.extendedStats().maintenance.rebootstraps;
    await sleep(3 * TICK);
    expect(node.extendedStats().maintenance.rebootstraps).toBe(healed);
  }, 30_000);
});
