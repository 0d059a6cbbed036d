/**
 * Self-healing after isolation: a node whose routing table has (almost) emptied joins again
 * through its bootstrap peers at its next maintenance tick (REBOOTSTRAP_SHARE), instead of
 * staying alone until someone happens to contact it. Real UDP on loopback, real LMDB.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { hour, REBOOTSTRAP_SHARE } from '../../src/util/index.js';
import { Rebootstrap } from '../../src/node/index.js';
import { createTestnet, type Testnet } from '../helpers/index.js';

/** Large enough that every joined table holds k/2 contacts: no other node re-bootstraps and refills ours. */
const N = 24;
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
    // Empty the table, replacement caches included (remove() promotes a replacement), bounded.
    for (let i = 0; i < 1000 && table.size > 0; i++) {
      for (const e of table.entries()) table.remove(e.contact.id, Date.now());
    }
    expect(table.size).toBe(0);
    const before = node.extendedStats().maintenance.rebootstraps;
    const deadline = Date.now() + 15_000;
    const healed = (): boolean => node.extendedStats().maintenance.rebootstraps > before && table.size >= REBOOTSTRAP_SHARE * 20;
    while (Date.now() < deadline && !healed()) await sleep(100);
    expect(node.extendedStats().maintenance.rebootstraps).toBeGreaterThan(before);
    expect(table.size).toBeGreaterThanOrEqual(REBOOTSTRAP_SHARE * 20);
    // A healthy table is left alone: no further rebootstraps once it is full again.
    const count = node.extendedStats().maintenance.rebootstraps;
    await sleep(3 * TICK);
    expect(node.extendedStats().maintenance.rebootstraps).toBe(count);
  }, 30_000);
});

describe('Rebootstrap', () => {
  it('is due below k/2 contacts, and backs off while a bootstrap brings nothing', () => {
    const tick = 1000;
    const r = new Rebootstrap(20, tick, 8 * tick);
    expect(r.due(10, 0)).toBe(false);
    expect(r.due(9, 0)).toBe(true);
    // A network of 6 nodes: every bootstrap leaves the table at 5. Waits: 1, 2, 4, 8, 8 ticks.
    let now = 0;
    const waits: number[] = [];
    for (let i = 0; i < 5; i++) {
      r.done(5, 5, now);
      let next = now;
      while (!r.due(5, next)) next += tick;
      waits.push((next - now) / tick);
      now = next;
    }
    expect(waits).toEqual([1, 2, 4, 8, 8]);
    // Growth resets the wait: due again at once while still below k/2.
    r.done(5, 7, now);
    expect(r.due(7, now)).toBe(true);
  });
});
