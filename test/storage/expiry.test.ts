import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DHT_REPLICATION_FACTOR, hour, ManualClock, minute, second } from '../../src/util/index.js';
import { ValueKind } from '../../src/wire/index.js';
import { SWEEP_BATCH } from '../../src/storage/index.js';
import { bytes, keyOf, type StoreFixture, useStoreFixture } from './fixtures.js';

let fx: StoreFixture;
let clock: ManualClock;

useStoreFixture(0, (f, c) => {
  fx = f;
  clock = c;
});

describe('Store: TTL expiry', () => {
  it('hides a record from the moment it expires, before any sweep', async () => {
    const store = fx.open({ clock });
    await store.put({ key: keyOf(1), value: bytes(10), ttl: minute, origin: 'a' });
    clock.advance(minute - 1);
    expect(store.has(keyOf(1))).toBe(true);
    clock.advance(1);
    expect(store.get(keyOf(1))).toBeUndefined();
    expect(store.getCopy(keyOf(1))).toBeUndefined();
    expect(store.has(keyOf(1))).toBe(false);
    expect(store.stats().records).toBe(1); // still on disk until swept
  });

  it('sweep removes only expired records and returns how many', async () => {
    const store = fx.open({ clock });
    await store.put({ key: keyOf(1), value: bytes(10), ttl: minute, origin: 'a' });
    await store.put({ key: keyOf(2), value: bytes(20), ttl: minute, origin: 'a' });
    await store.put({ key: keyOf(3), value: bytes(30), ttl: hour, origin: 'a' });
    clock.advance(2 * minute);
    expect(await store.sweep()).toBe(2);
    expect(await store.sweep()).toBe(0);
    expect(store.stats()).toMatchObject({ records: 1, bytes: 30, swept: 2 });
    expect(store.has(keyOf(3))).toBe(true);
  });

  it('a refreshed record survives the sweep at its old expiry', async () => {
    const store = fx.open({ clock });
    await store.put({ key: keyOf(1), value: bytes(10), ttl: minute, origin: 'a' });
    clock.advance(30 * second);
    await store.put({ key: keyOf(1), value: bytes(10), ttl: minute, origin: 'a' });
    clock.advance(45 * second);
    expect(await store.sweep()).toBe(0);
    expect(store.has(keyOf(1))).toBe(true);
    clock.advance(minute);
    expect(await store.sweep()).toBe(1);
  });

  it('storing identical bytes over an expired record counts as a new store', async () => {
    const store = fx.open({ clock });
    await store.put({ key: keyOf(1), value: bytes(10), ttl: minute, origin: 'a' });
    clock.advance(2 * minute);
    expect(await store.put({ key: keyOf(1), value: bytes(10), ttl: minute, origin: 'b' })).toBe('stored');
    expect(store.get(keyOf(1))).toMatchObject({ storedAt: clock.now(), origin: 'b' });
    expect(await store.sweep()).toBe(0);
    expect(store.stats()).toMatchObject({ records: 1, bytes: 10 });
  });

  it('delete of an expired record removes it but reports false', async () => {
    const store = fx.open({ clock });
    await store.put({ key: keyOf(1), value: bytes(10), ttl: minute, origin: 'a' });
    clock.advance(2 * minute);
    expect(await store.delete(keyOf(1))).toBe(false);
    expect(store.stats()).toMatchObject({ records: 0, bytes: 0 });
  });

  it('sweeps more than one batch of expired records', async () => {
    const store = fx.open({ clock });
    const n = SWEEP_BATCH + 5;
    const puts = [];
    for (let i = 0; i < n; i++) {
      const key = new Uint8Array(32) as ReturnType<typeof keyOf>;
      new DataView(key.buffer).setUint32(0, i);
      puts.push(store.put({ key, value: bytes(1), ttl: minute + i, origin: 'a' }));
    }
    await Promise.all(puts);
    clock.advance(hour);
    expect(await store.sweep()).toBe(n);
    expect(store.stats().records).toBe(0);
  });

  it('expiry works with a clock that starts before zero', async () => {
    const negative = new ManualClock(-10 * minute);
    const store = fx.open({ clock: negative });
    await store.put({ key: keyOf(1), value: bytes(1), ttl: minute, origin: 'a' });
    await store.put({ key: keyOf(2), value: bytes(1), ttl: 20 * minute, origin: 'a' });
    negative.advance(5 * minute);
    expect(await store.sweep()).toBe(1);
    expect(store.has(keyOf(2))).toBe(true);
  });
});

describe('Store: keys and entries', () => {
  it('keys() lists only live keys', async () => {
    const store = fx.open({ clock });
    await store.put({ key: keyOf(1), value: bytes(1), ttl: minute, origin: 'a' });
    await store.put({ key: keyOf(2), value: bytes(1), ttl: hour, origin: 'a' });
    await store.put({ key: keyOf(3), value: bytes(1), ttl: hour, origin: 'a' });
    clock.advance(2 * minute);
    expect([...store.keys()]).toEqual([keyOf(2), keyOf(3)]);
  });

  it('entries() gives key and metadata of live records, kind and replicas included', async () => {
    const store = fx.open({ clock });
    await store.put({ key: keyOf(2), value: bytes(7), ttl: hour, origin: 'peer' });
    await store.put({ key: keyOf(3), value: bytes(5), ttl: hour, origin: 'self', kind: ValueKind.MUTABLE, replicas: 0 });
    expect([...store.entries()]).toEqual([
      { key: keyOf(2), storedAt: 0, expiresAt: hour, size: 7, origin: 'peer', kind: ValueKind.IMMUTABLE, replicas: DHT_REPLICATION_FACTOR },
      { key: keyOf(3), storedAt: 0, expiresAt: hour, size: 5, origin: 'self', kind: ValueKind.MUTABLE, replicas: 0 },
    ]);
  });

  it('entries(from) starts at the first live key not below `from`', async () => {
    const store = fx.open({ clock });
    for (const n of [1, 3, 5, 7]) await store.put({ key: keyOf(n), value: bytes(1), ttl: n === 5 ? minute : hour, origin: 'a' });
    clock.advance(2 * minute); // 5 expired
    expect([...store.entries(keyOf(3))].map((e) => e.key)).toEqual([keyOf(3), keyOf(7)]);
    expect([...store.entries(keyOf(4))].map((e) => e.key)).toEqual([keyOf(7)]);
    expect([...store.entries(keyOf(8))]).toEqual([]);
  });
});

describe('Store: automatic sweeping', () => {
  it('sweeps on the clock interval and stops at close', async () => {
    const store = fx.open({ clock });
    store.startSweeping(minute);
    await store.put({ key: keyOf(1), value: bytes(10), ttl: 30 * second, origin: 'a' });
    clock.advance(minute);
    await vi.waitFor(() => expect(store.stats().swept).toBe(1));
    expect(store.stats().records).toBe(0);
    await store.close();
    clock.advance(10 * minute); // a tick after close must not touch the closed database
    expect(store.stats().sweepFailures).toBe(0);
  });

  it('rejects a non-positive interval', () => {
    const store = fx.open({ clock });
    expect(() => store.startSweeping(0)).toThrow(new RangeError('intervalMs must be a positive number of milliseconds'));
  });
});
