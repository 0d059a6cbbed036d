// White-box tests of the storage folder's codecs and error mapping: parts the public API can only
// reach through rare failures (a real MDB_MAP_FULL needs lmdb-js to fail growing its map).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Key } from '../../src/id/index.js';
import { DhtError } from '../../src/util/index.js';
import { decodeExpiryKey, decodeMeta, encodeExpiryKey, encodeMeta, expiredBound } from '../../src/storage/codec.js';
import { ValueKind } from '../../src/wire/index.js';
import { isCapacityError, toStorageError } from '../../src/storage/errors.js';

const key = (n: number): Key => new Uint8Array(32).fill(n) as Key;

describe('storage codec', () => {
  it('round-trips meta records, origin text, kind and replicas included', () => {
    const meta = { storedAt: 1.5, expiresAt: 7_200_001, size: 262_144, kind: ValueKind.SET, replicas: 12, origin: '[::1]:33442 ✓' };
    expect(decodeMeta(encodeMeta(meta))).toEqual(meta);
  });

  it('round-trips any meta record (property)', () => {
    const time = fc.double({ noNaN: true, noDefaultInfinity: true });
    const meta = fc.record({
      storedAt: time,
      expiresAt: time,
      size: fc.integer({ min: 0, max: 0xffff_ffff }),
      kind: fc.constantFrom(ValueKind.IMMUTABLE, ValueKind.MUTABLE, ValueKind.SET),
      replicas: fc.integer({ min: 0, max: 12 }),
      origin: fc.string({ unit: 'grapheme' }),
    });
    fc.assert(fc.property(meta, (m) => {
      const bytes = encodeMeta(m);
      expect(bytes[0]).toBe(2); // written as version 2
      expect(decodeMeta(bytes)).toEqual(m);
    }));
  });

  it('decodes a short, foreign-version, unknown-kind or bad-UTF-8 meta record as null', () => {
    const good = encodeMeta({ storedAt: 0, expiresAt: 1, size: 1, kind: ValueKind.IMMUTABLE, replicas: 3, origin: 'a' });
    expect(decodeMeta(good)).not.toBeNull();
    expect(decodeMeta(good.subarray(0, 22))).toBeNull(); // version 2 header is 23 bytes
    expect(decodeMeta(Uint8Array.from([1, ...good.subarray(1, 20)]))).toBeNull(); // version 1 header is 21 bytes
    for (const version of [0, 3, 255]) expect(decodeMeta(Uint8Array.from([version, ...good.subarray(1)]))).toBeNull();
    expect(decodeMeta(Uint8Array.from([...good.subarray(0, 21), 4, ...good.subarray(22)]))).toBeNull(); // kind 4: no such ValueKind
    expect(decodeMeta(Uint8Array.from([...good.subarray(0, 21), ValueKind.ZK, ...good.subarray(22)]))).toMatchObject({ kind: ValueKind.ZK });
    expect(decodeMeta(Uint8Array.from([...good.subarray(0, 23), 0xff]))).toBeNull();
  });

  it('expiry keys sort by time, then key, for negative and positive times alike', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer({ min: 0, max: 255 }), (a, b, k) => {
        const ka = encodeExpiryKey(a, key(k));
        const kb = encodeExpiryKey(b, key(k));
        const byBytes = Math.sign(Buffer.compare(ka, kb));
        // -0 and +0 are the same time but encode differently; ordering is all that matters.
        if (a === b && !Object.is(a, b)) return;
        expect(byBytes).toBe(Math.sign(a - b));
        expect(decodeExpiryKey(ka)).toEqual({ expiresAt: a, key: key(k) });
      }),
    );
  });

  it('the expired bound sorts after every key of that time and before the next', () => {
    const bound = expiredBound(1000);
    expect(Buffer.compare(encodeExpiryKey(1000, key(0xff)), bound)).toBe(-1);
    expect(Buffer.compare(bound, encodeExpiryKey(1000.0000001, key(0)))).toBe(-1);
  });
});

describe('storage error mapping', () => {
  it('recognises LMDB map-full, transaction-full and disk-full errors', () => {
    expect(isCapacityError(Object.assign(new Error('MDB_MAP_FULL: Environment mapsize limit reached'), { code: -30792 }))).toBe(true);
    expect(isCapacityError({ code: -30788 })).toBe(true);
    expect(isCapacityError(Object.assign(new Error('No space left on device'), { code: 28 }))).toBe(true);
    expect(isCapacityError({ code: 'ENOSPC' })).toBe(true);
    expect(isCapacityError(new Error('MDB_CORRUPTED'))).toBe(false);
    expect(isCapacityError('MDB_MAP_FULL')).toBe(false);
  });

  it('turns a map-full error thrown in a transaction into STORAGE_FULL', async () => {
    const lmdbError = Object.assign(new Error('MDB_MAP_FULL: Environment mapsize limit reached'), { code: -30792 });
    const mapped = await toStorageError(lmdbError);
    expect(mapped).toBeInstanceOf(DhtError);
    expect(mapped).toMatchObject({ code: 'STORAGE_FULL', cause: lmdbError });
  });

  it('reads the cause of a failed commit from commitError and handles that promise', async () => {
    const cause = Object.assign(new Error('MDB_MAP_FULL: Environment mapsize limit reached'), { code: -30792 });
    const commitError = Promise.reject(cause);
    const failed = Object.assign(new Error('Commit failed (see commitError for details)'), { commitError });
    expect(await toStorageError(failed)).toMatchObject({ code: 'STORAGE_FULL', cause });
  });

  it('passes other failures through unchanged, even when commitError never settles', async () => {
    const io = Object.assign(new Error('Input/output error'), { code: 5 });
    expect(await toStorageError(io)).toBe(io);
    const stuck = Object.assign(new Error('Commit failed (see commitError for details)'), { commitError: new Promise(() => {}) });
    expect(await toStorageError(stuck)).toBe(stuck);
  });
});
