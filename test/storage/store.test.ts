import { execFileSync } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { keyFromContent } from '../../src/id/index.js';
import { DhtError, hour, ManualClock, MAX_TTL, second } from '../../src/util/index.js';
import { MIN_TTL } from '../../src/storage/index.js';
import { bytes, keyOf, type StoreFixture, useStoreFixture } from './fixtures.js';

let fx: StoreFixture;
let clock: ManualClock;

useStoreFixture(1_700_000_000_000, (f, c) => {
  fx = f;
  clock = c;
});

describe('Store: put and get', () => {
  it('returns a stored value with its metadata', async () => {
    const store = fx.open({ clock });
    const value = new TextEncoder().encode('hello zhtp');
    const key = keyFromContent(value);
    expect(await store.put({ key, value, ttl: 2 * hour, origin: '127.0.0.1:33442' })).toBe('stored');
    const got = store.get(key);
    expect(got).toBeDefined();
    expect(Array.from(got!.value)).toEqual(Array.from(value));
    expect(got).toMatchObject({ storedAt: clock.now(), expiresAt: clock.now() + 2 * hour, size: value.byteLength, origin: '127.0.0.1:33442' });
    expect(store.has(key)).toBe(true);
  });

  it('answers undefined and false for a key never stored', () => {
    const store = fx.open({ clock });
    expect(store.get(keyOf(9))).toBeUndefined();
    expect(store.getCopy(keyOf(9))).toBeUndefined();
    expect(store.has(keyOf(9))).toBe(false);
  });

  it('get returns a view whose byteLength is the value size, not the size of lmdb read buffer', async () => {
    const store = fx.open({ clock });
    await store.put({ key: keyOf(1), value: bytes(5, 7), ttl: hour, origin: 'self' });
    const got = store.get(keyOf(1))!;
    expect(got.value.byteLength).toBe(5);
    expect(got.value.length).toBe(5);
    expect(new Uint8Array(got.value)).toEqual(bytes(5, 7)); // copying uses byteLength
  });

  it('getCopy stays intact after later reads, which may overwrite the zero-copy view', async () => {
    const store = fx.open({ clock });
    await store.put({ key: keyOf(1), value: bytes(3000, 1), ttl: hour, origin: 'self' });
    await store.put({ key: keyOf(2), value: bytes(3000, 2), ttl: hour, origin: 'self' });
    const copy = store.getCopy(keyOf(1))!;
    store.get(keyOf(2));
    expect(copy.value).toEqual(bytes(3000, 1));
  });

  it('copies the value at put time, so the caller may reuse its buffer', async () => {
    const store = fx.open({ clock });
    const value = bytes(64, 3);
    const pending = store.put({ key: keyOf(1), value, ttl: hour, origin: 'self' });
    value.fill(0);
    await pending;
    expect(store.getCopy(keyOf(1))!.value).toEqual(bytes(64, 3));
  });

  it('stores an empty value', async () => {
    const store = fx.open({ clock });
    await store.put({ key: keyOf(1), value: new Uint8Array(0), ttl: hour, origin: 'self' });
    expect(store.get(keyOf(1))!.value.byteLength).toBe(0);
    expect(store.stats()).toMatchObject({ records: 1, bytes: 0 });
  });

  it('replaces different bytes under the same key and adjusts the byte count', async () => {
    const store = fx.open({ clock });
    await store.put({ key: keyOf(1), value: bytes(100, 1), ttl: hour, origin: 'a' });
    clock.advance(10 * second);
    expect(await store.put({ key: keyOf(1), value: bytes(40, 2), ttl: hour, origin: 'b' })).toBe('stored');
    expect(store.getCopy(keyOf(1))).toMatchObject({ value: bytes(40, 2), origin: 'b', storedAt: clock.now() });
    expect(store.stats()).toMatchObject({ records: 1, bytes: 40 });
  });

  it('refreshes identical bytes: expiry moves later, storedAt, origin and counts stay', async () => {
    const store = fx.open({ clock });
    const first = clock.now();
    await store.put({ key: keyOf(1), value: bytes(10), ttl: hour, origin: 'a' });
    clock.advance(30 * 60 * second);
    expect(await store.put({ key: keyOf(1), value: bytes(10), ttl: hour, origin: 'b' })).toBe('refreshed');
    expect(store.get(keyOf(1))).toMatchObject({ storedAt: first, expiresAt: clock.now() + hour, origin: 'a' });
    expect(store.stats()).toMatchObject({ records: 1, bytes: 10 });
  });

  it('a refresh with a shorter TTL never shortens the expiry', async () => {
    const store = fx.open({ clock });
    await store.put({ key: keyOf(1), value: bytes(10), ttl: 2 * hour, origin: 'a' });
    const expiresAt = store.get(keyOf(1))!.expiresAt;
    expect(await store.put({ key: keyOf(1), value: bytes(10), ttl: second, origin: 'a' })).toBe('refreshed');
    expect(store.get(keyOf(1))!.expiresAt).toBe(expiresAt);
  });

  it('clamps the TTL to [MIN_TTL, MAX_TTL]', async () => {
    const store = fx.open({ clock });
    await store.put({ key: keyOf(1), value: bytes(1), ttl: 10, origin: 'a' });
    await store.put({ key: keyOf(2), value: bytes(1), ttl: 1e15, origin: 'a' });
    await store.put({ key: keyOf(3), value: bytes(1), ttl: Infinity, origin: 'a' });
    expect(store.get(keyOf(1))!.expiresAt).toBe(clock.now() + MIN_TTL);
    expect(store.get(keyOf(2))!.expiresAt).toBe(clock.now() + MAX_TTL);
    expect(store.get(keyOf(3))!.expiresAt).toBe(clock.now() + MAX_TTL);
  });

  it('delete removes a live record and reports whether there was one', async () => {
    const store = fx.open({ clock });
    await store.put({ key: keyOf(1), value: bytes(10), ttl: hour, origin: 'a' });
    expect(await store.delete(keyOf(1))).toBe(true);
    expect(await store.delete(keyOf(1))).toBe(false);
    expect(store.get(keyOf(1))).toBeUndefined();
    expect(store.stats()).toMatchObject({ records: 0, bytes: 0 });
  });
});

describe('Store: durability', () => {
  it('put resolves only after the commit: another process reads the value at once', async () => {
    const store = fx.open({ clock });
    await store.put({ key: keyOf(0xab), value: bytes(8, 0x5a), ttl: hour, origin: 'self' });
    const script = `
      import { open } from 'lmdb';
      const root = open({ path: process.argv[1], readOnly: true });
      const values = root.openDB({ name: 'values', encoding: 'binary', keyEncoding: 'binary' });
      const v = values.getBinary(Buffer.alloc(32, 0xab));
      process.stdout.write(v === undefined ? 'missing' : Buffer.from(v).toString('hex'));
      await root.close();`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script, fx.path], { cwd: process.cwd(), encoding: 'utf8' });
    expect(out).toBe('5a'.repeat(8));
  });

  it('a put survives close and reopen, with its metadata and the totals', async () => {
    const store = fx.open({ clock });
    await store.put({ key: keyOf(1), value: bytes(100, 1), ttl: hour, origin: 'a' });
    await store.put({ key: keyOf(2), value: bytes(50, 2), ttl: hour, origin: 'b' });
    await store.close();
    const again = fx.open({ clock });
    expect(again.getCopy(keyOf(1))).toMatchObject({ value: bytes(100, 1), origin: 'a', expiresAt: clock.now() + hour });
    expect(again.stats()).toMatchObject({ records: 2, bytes: 150 });
  });

  it('close waits for writes already queued', async () => {
    const store = fx.open({ clock });
    const pending = store.put({ key: keyOf(1), value: bytes(10), ttl: hour, origin: 'a' });
    await store.close();
    await expect(pending).resolves.toBe('stored');
    expect(fx.open({ clock }).has(keyOf(1))).toBe(true);
  });

  it('stats count the bytes on disk after reopen (puts, replacements and deletes)', async () => {
    const store = fx.open({ clock });
    for (let i = 1; i <= 20; i++) await store.put({ key: keyOf(i), value: bytes(i * 10, i), ttl: hour, origin: 'a' });
    await store.put({ key: keyOf(3), value: bytes(5), ttl: hour, origin: 'a' }); // 30 → 5
    await store.delete(keyOf(4)); // −40
    const expected = (20 * 21 / 2) * 10 - 30 + 5 - 40;
    expect(store.stats()).toMatchObject({ records: 19, bytes: expected });
    await store.close();
    expect(fx.open({ clock }).stats()).toMatchObject({ records: 19, bytes: expected, utilization: expected / (1024 * 1024 * 1024) });
  });

  it('close is idempotent and later calls fail with DESTROYED', async () => {
    const store = fx.open({ clock });
    await Promise.all([store.close(), store.close()]);
    await store.close();
    expect(() => store.get(keyOf(1))).toThrow(expect.objectContaining({ code: 'DESTROYED' }));
    await expect(store.put({ key: keyOf(1), value: bytes(1), ttl: hour, origin: 'a' })).rejects.toMatchObject({ code: 'DESTROYED' });
    await expect(store.sweep()).rejects.toBeInstanceOf(DhtError);
    expect(store.stats().records).toBe(0);
  });
});

describe('Store: node state', () => {
  it('round-trips a blob under a name, across reopen, outside the value totals', async () => {
    const store = fx.open({ clock });
    expect(store.getNodeState('routing-snapshot')).toBeUndefined();
    await store.putNodeState('routing-snapshot', bytes(300, 9));
    expect(store.getNodeState('routing-snapshot')).toEqual(bytes(300, 9));
    expect(store.stats()).toMatchObject({ records: 0, bytes: 0 });
    expect([...store.keys()]).toEqual([]);
    await store.close();
    const again = fx.open({ clock });
    expect(again.getNodeState('routing-snapshot')).toEqual(bytes(300, 9));
    await again.putNodeState('routing-snapshot', bytes(2, 1));
    expect(again.getNodeState('routing-snapshot')).toEqual(bytes(2, 1));
  });

  it('returns a copy that later reads do not touch', async () => {
    const store = fx.open({ clock });
    await store.putNodeState('a', bytes(10, 1));
    await store.put({ key: keyOf(1), value: bytes(10, 2), ttl: hour, origin: 'x' });
    const state = store.getNodeState('a')!;
    store.get(keyOf(1));
    expect(state).toEqual(bytes(10, 1));
  });

  it('rejects an empty name and a non-byte blob', async () => {
    const store = fx.open({ clock });
    expect(() => store.getNodeState('')).toThrow(TypeError);
    await expect(store.putNodeState('x', 'text' as unknown as Uint8Array)).rejects.toThrow('bytes must be a Uint8Array');
  });
});
