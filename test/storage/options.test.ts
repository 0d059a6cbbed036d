import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_STORAGE_CAP, hour, ManualClock, MAX_VALUE_BYTES, MiB } from '../../src/util/index.js';
import { MAP_SIZE_SLACK, Store } from '../../src/storage/index.js';
import type { Key } from '../../src/id/index.js';
import { bytes, keyOf, StoreFixture } from './fixtures.js';

let fx: StoreFixture;

beforeEach(() => {
  fx = new StoreFixture();
});
afterEach(async () => {
  await fx.cleanup();
});

describe('Store.open: option validation', () => {
  const cases: Array<[string, Record<string, unknown>, ErrorConstructor, string]> = [
    ['path missing', { path: undefined }, TypeError, 'options.path must be a non-empty string'],
    ['path empty', { path: '' }, TypeError, 'options.path must be a non-empty string'],
    ['clock without timers', { clock: { now: () => 0 } }, TypeError, 'options.clock must be a Clock (now, setTimeout, setInterval)'],
    ['capBytes zero', { capBytes: 0 }, RangeError, 'options.capBytes must be a positive integer (bytes)'],
    ['capBytes fractional', { capBytes: 1.5 }, RangeError, 'options.capBytes must be a positive integer (bytes)'],
    ['capBytes a string', { capBytes: '1000' }, RangeError, 'options.capBytes must be a positive integer (bytes)'],
    ['maxValueBytes negative', { maxValueBytes: -1 }, RangeError, 'options.maxValueBytes must be a positive integer (bytes)'],
    ['maxValueBytes NaN', { maxValueBytes: NaN }, RangeError, 'options.maxValueBytes must be a positive integer (bytes)'],
    ['mapSize below 64 KiB', { mapSize: 4096 }, RangeError, 'options.mapSize must be an integer of at least 65536 (bytes)'],
    ['mapSize infinite', { mapSize: Infinity }, RangeError, 'options.mapSize must be an integer of at least 65536 (bytes)'],
    ['perSourceBytes zero', { perSourceBytes: 0 }, RangeError, 'options.perSourceBytes must be a positive integer (bytes)'],
    ['perSourceBytes fractional', { perSourceBytes: 2.5 }, RangeError, 'options.perSourceBytes must be a positive integer (bytes)'],
  ];
  for (const [name, patch, type, message] of cases) {
    it(`rejects ${name}: "${message}"`, () => {
      const open = () => Store.open({ path: fx.path, ...patch } as Parameters<typeof Store.open>[0]);
      expect(open).toThrow(type);
      expect(open).toThrow(message);
    });
  }

  it('rejects a missing options object', () => {
    expect(() => Store.open(null as unknown as Parameters<typeof Store.open>[0])).toThrow(new TypeError('options must be an object'));
  });

  it('fills in the defaults: 1 GiB cap, 256 KiB values, map of 2 × cap + slack', () => {
    const s = fx.open().stats();
    expect(s.capBytes).toBe(DEFAULT_STORAGE_CAP);
    expect(s.mapSize).toBe(2 * DEFAULT_STORAGE_CAP + MAP_SIZE_SLACK);
    expect(MAX_VALUE_BYTES).toBe(256 * 1024);
  });

  it('derives the default map size from the cap given', () => {
    expect(fx.open({ capBytes: 10 * MiB }).stats().mapSize).toBe(20 * MiB + MAP_SIZE_SLACK);
  });

  it('derives the default per-source quota from the cap: an eighth, rounded down', async () => {
    const byDefault = fx.open();
    expect(byDefault.stats().perSourceBytes).toBe(DEFAULT_STORAGE_CAP / 8);
    await byDefault.close();
    expect(fx.open({ capBytes: 1001 }).stats().perSourceBytes).toBe(125);
  });

  it('keeps a per-source quota given explicitly', () => {
    expect(fx.open({ capBytes: 1000, perSourceBytes: 777 }).stats().perSourceBytes).toBe(777);
  });
});

describe('Store.put: input validation', () => {
  it('rejects a key that is not 32 bytes, a non-byte value, a NaN ttl and a non-string origin', async () => {
    const store = fx.open({ clock: new ManualClock(0) });
    const base = { key: keyOf(1), value: bytes(1), ttl: hour, origin: 'a' };
    await expect(store.put({ ...base, key: new Uint8Array(31) as Key })).rejects.toThrow(new TypeError('key must be a 32-byte Uint8Array'));
    await expect(store.put({ ...base, value: 'x' as unknown as Uint8Array })).rejects.toThrow(new TypeError('value must be a Uint8Array'));
    await expect(store.put({ ...base, ttl: NaN })).rejects.toThrow(new RangeError('ttl must be a number of milliseconds'));
    await expect(store.put({ ...base, origin: 7 as unknown as string })).rejects.toThrow(new TypeError('origin must be a string'));
    expect(() => store.get(new Uint8Array(33) as Key)).toThrow(TypeError);
    expect(store.stats().records).toBe(0);
  });

  it('rejects replicas outside 0..12 or fractional, and a decide that is not a function', async () => {
    const store = fx.open({ clock: new ManualClock(0) });
    const base = { key: keyOf(1), value: bytes(1), ttl: hour, origin: 'a' };
    for (const replicas of [-1, 13, 1.5, NaN]) {
      await expect(store.put({ ...base, replicas })).rejects.toThrow(new RangeError('replicas must be an integer in 0..12'));
    }
    await expect(store.put({ ...base, decide: 'store' as unknown as () => { action: 'store' } })).rejects.toThrow(new TypeError('decide must be a function'));
    expect(await store.put({ ...base, replicas: 0 })).toBe('stored');
    expect(await store.put({ ...base, key: keyOf(2), replicas: 12 })).toBe('stored');
    expect(store.stats().records).toBe(2);
  });
});
