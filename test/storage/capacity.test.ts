import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DhtError, hour, ManualClock, minute } from '../../src/util/index.js';
import { MIN_MAP_SIZE } from '../../src/storage/index.js';
import { bytes, keyOf, type StoreFixture, useStoreFixture } from './fixtures.js';

let fx: StoreFixture;
let clock: ManualClock;

useStoreFixture(0, (f, c) => {
  fx = f;
  clock = c;
});

describe('Store: byte cap', () => {
  // The node's own records are never evicted, so with only 'self' stored the cap is a hard limit.
  it('refuses a value that would pass the cap with STORAGE_FULL when nothing is evictable, and keeps the totals', async () => {
    const store = fx.open({ clock, capBytes: 1000 });
    await store.put({ key: keyOf(1), value: bytes(600), ttl: hour, origin: 'self' });
    const refused = store.put({ key: keyOf(2), value: bytes(401), ttl: hour, origin: 'self' });
    await expect(refused).rejects.toBeInstanceOf(DhtError);
    await expect(refused).rejects.toMatchObject({ code: 'STORAGE_FULL', message: 'storage cap reached (1 more bytes needed)' });
    expect(store.has(keyOf(2))).toBe(false);
    expect(store.has(keyOf(1))).toBe(true);
    expect(store.stats()).toMatchObject({
      records: 1, bytes: 600, capBytes: 1000, utilization: 0.6, refusedFull: 1, refusedQuota: 0, evicted: 0,
    });
    expect(await store.put({ key: keyOf(2), value: bytes(400), ttl: hour, origin: 'self' })).toBe('stored');
    expect(store.stats().utilization).toBe(1);
  });

  it('counts a replacement by its size difference', async () => {
    // perSourceBytes = capBytes: this is about the global cap, not the per-source quota.
    const store = fx.open({ clock, capBytes: 1000, perSourceBytes: 1000 });
    await store.put({ key: keyOf(1), value: bytes(900, 1), ttl: hour, origin: 'a' });
    expect(await store.put({ key: keyOf(1), value: bytes(1000, 2), ttl: hour, origin: 'a' })).toBe('stored');
    expect(store.stats()).toMatchObject({ records: 1, bytes: 1000, evicted: 0, refusedFull: 0 });
  });

  it('a delete makes room again', async () => {
    const store = fx.open({ clock, capBytes: 1000 });
    await store.put({ key: keyOf(1), value: bytes(800), ttl: hour, origin: 'self' });
    await expect(store.put({ key: keyOf(2), value: bytes(800), ttl: hour, origin: 'self' })).rejects.toMatchObject({ code: 'STORAGE_FULL' });
    await store.delete(keyOf(1));
    expect(await store.put({ key: keyOf(2), value: bytes(800), ttl: hour, origin: 'self' })).toBe('stored');
  });

  it('removes expired records to make room before evicting or refusing', async () => {
    const store = fx.open({ clock, capBytes: 1000, perSourceBytes: 1000 });
    await store.put({ key: keyOf(1), value: bytes(800), ttl: minute, origin: 'a' });
    clock.advance(2 * minute);
    // Another source, so the expired record (still on disk) is not weighed against a quota.
    expect(await store.put({ key: keyOf(2), value: bytes(800), ttl: hour, origin: 'b' })).toBe('stored');
    expect(store.stats()).toMatchObject({ records: 1, bytes: 800, swept: 1, evicted: 0, refusedFull: 0 });
    expect(store.evictions()).toEqual(new Map());
  });

  it('holds the cap for concurrent puts batched into one transaction', async () => {
    const store = fx.open({ clock, capBytes: 1000 });
    const results = await Promise.allSettled(
      [1, 2, 3, 4, 5].map((i) => store.put({ key: keyOf(i), value: bytes(300, i), ttl: hour, origin: 'self' })),
    );
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'rejected']);
    expect(store.stats()).toMatchObject({ records: 3, bytes: 900, refusedFull: 2, refusedQuota: 0, evicted: 0 });
    await store.close();
    expect(fx.open({ clock, capBytes: 1000 }).stats()).toMatchObject({ records: 3, bytes: 900 });
  });

  it('a store reopened with a smaller cap reports utilization 1 and refuses new values', async () => {
    const store = fx.open({ clock, capBytes: 1000 });
    await store.put({ key: keyOf(1), value: bytes(800), ttl: hour, origin: 'self' });
    await store.close();
    const smaller = fx.open({ clock, capBytes: 500 });
    expect(smaller.stats()).toMatchObject({ bytes: 800, utilization: 1 });
    await expect(smaller.put({ key: keyOf(2), value: bytes(1), ttl: hour, origin: 'self' })).rejects.toMatchObject({ code: 'STORAGE_FULL' });
    expect(smaller.has(keyOf(1))).toBe(true);
    expect(smaller.stats()).toMatchObject({ refusedFull: 1, evicted: 0 });
  });
});

describe('Store: value size', () => {
  it('refuses a value over maxValueBytes with VALUE_TOO_BIG and counts it', async () => {
    const store = fx.open({ clock, maxValueBytes: 100 });
    await expect(store.put({ key: keyOf(1), value: bytes(101), ttl: hour, origin: 'a' })).rejects.toMatchObject({
      code: 'VALUE_TOO_BIG',
      message: 'value of 101 bytes exceeds the limit of 100',
    });
    expect(await store.put({ key: keyOf(1), value: bytes(100), ttl: hour, origin: 'a' })).toBe('stored');
    expect(store.stats()).toMatchObject({ records: 1, refusedTooBig: 1 });
  });

  it('accepts a 256 KiB value by default and refuses one byte more', async () => {
    const store = fx.open({ clock });
    expect(await store.put({ key: keyOf(1), value: bytes(256 * 1024), ttl: hour, origin: 'a' })).toBe('stored');
    await expect(store.put({ key: keyOf(2), value: bytes(256 * 1024 + 1), ttl: hour, origin: 'a' })).rejects.toMatchObject({ code: 'VALUE_TOO_BIG' });
  });
});

describe('Store: map size', () => {
  it('a tiny mapSize refuses writes with STORAGE_FULL instead of growing or crashing', async () => {
    const store = fx.open({ clock, mapSize: 256 * 1024 });
    const outcomes: string[] = [];
    for (let i = 1; i <= 20; i++) {
      try {
        outcomes.push(await store.put({ key: keyOf(i), value: bytes(32 * 1024, i), ttl: hour, origin: 'a' }));
      } catch (err) {
        expect(err).toBeInstanceOf(DhtError);
        outcomes.push((err as DhtError).code);
      }
    }
    const stored = outcomes.filter((o) => o === 'stored').length;
    expect(stored).toBeGreaterThan(0);
    expect(stored).toBeLessThan(8); // 8 × 32 KiB would already fill 256 KiB
    expect(outcomes.slice(stored)).toEqual(new Array(20 - stored).fill('STORAGE_FULL'));
    // The map-size limit never evicts, even though every record is a peer's.
    expect(store.stats()).toMatchObject({ records: stored, bytes: stored * 32 * 1024, refusedFull: 20 - stored, evicted: 0 });
    for (let i = 1; i <= stored; i++) expect(Buffer.from(store.getCopy(keyOf(i))!.value).equals(bytes(32 * 1024, i))).toBe(true);
  });

  it('pages freed by a delete are usable again under a tiny mapSize', async () => {
    const store = fx.open({ clock, mapSize: MIN_MAP_SIZE * 4 });
    let i = 0;
    for (;;) {
      i++;
      const r = await store.put({ key: keyOf(i), value: bytes(32 * 1024, i), ttl: hour, origin: 'a' }).catch((e: DhtError) => e.code);
      if (r === 'STORAGE_FULL') break;
      expect(i).toBeLessThan(20);
    }
    await store.delete(keyOf(1));
    await store.delete(keyOf(2));
    expect(await store.put({ key: keyOf(i), value: bytes(32 * 1024, i), ttl: hour, origin: 'a' })).toBe('stored');
  });
});
