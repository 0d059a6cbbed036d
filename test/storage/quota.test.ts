// Per-source quotas, eviction at the global cap, the `decide` hook of put, and the stores written
// before the source index and meta version 2 existed. Real LMDB in a temporary folder, ManualClock.
import { type Database, open } from 'lmdb';
import { describe, expect, it } from 'vitest';
import { decodeMeta } from '../../src/storage/codec.js';
import { type PutDecision, sourceOf, type StoredValue } from '../../src/storage/index.js';
import { DHT_REPLICATION_FACTOR, DhtError, hour, type ManualClock, minute, second } from '../../src/util/index.js';
import { ValueKind } from '../../src/wire/index.js';
import { bytes, keyOf, type StoreFixture, useStoreFixture } from './fixtures.js';

let fx: StoreFixture;
let clock: ManualClock;

useStoreFixture(1_700_000_000_000, (f, c) => {
  fx = f;
  clock = c;
});

/** Peers on three hosts; the port is not part of the quota source. */
const A = '10.0.0.1:4000';
const B = '10.0.0.2:4000';
const C = '10.0.0.3:4000';

/** A counter as a 4-byte big-endian value. */
function u32(n: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n);
  return out;
}

function readU32(value: Uint8Array): number {
  return new DataView(value.buffer, value.byteOffset, value.byteLength).getUint32(0);
}

/** Meta bytes as version 1 wrote them: version ‖ storedAt f64 ‖ expiresAt f64 ‖ size u32 ‖ origin. */
function metaV1(storedAt: number, expiresAt: number, size: number, origin: string): Buffer {
  const text = Buffer.from(origin, 'utf8');
  const out = Buffer.alloc(21 + text.byteLength);
  out[0] = 1;
  out.writeDoubleBE(storedAt, 1);
  out.writeDoubleBE(expiresAt, 9);
  out.writeUInt32BE(size, 17);
  text.copy(out, 21);
  return out;
}

/** Opens the store's LMDB environment directly (the store must be closed), as an older version would. */
async function withRawTables(fn: (db: { meta: RawDb; sources: RawDb }) => void): Promise<void> {
  const root = open<Buffer, Buffer>({ path: fx.path, encoding: 'binary', keyEncoding: 'binary', maxDbs: 8 });
  try {
    const binary = { encoding: 'binary', keyEncoding: 'binary' } as const;
    fn({ meta: root.openDB<Buffer, Buffer>({ name: 'meta', ...binary }), sources: root.openDB<Buffer, Buffer>({ name: 'sources', ...binary }) });
  } finally {
    await root.close();
  }
}
type RawDb = Database<Buffer, Buffer>;

describe('sourceOf', () => {
  it('is the host of host:port, the address inside brackets for IPv6, and other origins unchanged', () => {
    expect(sourceOf('1.2.3.4:5')).toBe('1.2.3.4');
    expect(sourceOf('[::1]:5')).toBe('::1');
    expect(sourceOf('[2001:db8::7]:33442')).toBe('2001:db8::7');
    expect(sourceOf('self')).toBe('self');
    expect(sourceOf('peer')).toBe('peer');
  });
});

describe('Store: per-source quota', () => {
  it('refuses a write that takes its source past perSourceBytes with STORAGE_FULL and counts it', async () => {
    const store = fx.open({ clock, capBytes: 1000, perSourceBytes: 300 });
    expect(await store.put({ key: keyOf(1), value: bytes(200), ttl: hour, origin: '10.0.0.1:1' })).toBe('stored');
    // Another port of the same host is the same source.
    const refused = store.put({ key: keyOf(2), value: bytes(101), ttl: hour, origin: '10.0.0.1:2' });
    await expect(refused).rejects.toBeInstanceOf(DhtError);
    await expect(refused).rejects.toMatchObject({ code: 'STORAGE_FULL', message: expect.stringMatching(/per-source quota of 300 bytes/) });
    expect(store.has(keyOf(2))).toBe(false);
    expect(store.sourceUsage('10.0.0.1')).toEqual({ bytes: 200, records: 1 });
    expect(store.stats()).toMatchObject({ records: 1, bytes: 200, perSourceBytes: 300, refusedQuota: 1, refusedFull: 0, evicted: 0 });
    // Exactly at the quota is allowed.
    expect(await store.put({ key: keyOf(2), value: bytes(100), ttl: hour, origin: '10.0.0.1:3' })).toBe('stored');
    expect(store.sourceUsage('10.0.0.1')).toEqual({ bytes: 300, records: 2 });
  });

  it('counts bracketed IPv6 origins per address, whatever the port', async () => {
    const store = fx.open({ clock, capBytes: 1000, perSourceBytes: 100 });
    await store.put({ key: keyOf(1), value: bytes(60), ttl: hour, origin: '[::1]:5' });
    await expect(store.put({ key: keyOf(2), value: bytes(60), ttl: hour, origin: '[::1]:6' })).rejects.toMatchObject({ code: 'STORAGE_FULL' });
    expect(store.sourceUsage('::1')).toEqual({ bytes: 60, records: 1 });
    expect(store.stats().refusedQuota).toBe(1);
  });

  it('a second source still stores after the first is refused', async () => {
    const store = fx.open({ clock, capBytes: 1000, perSourceBytes: 300 });
    await store.put({ key: keyOf(1), value: bytes(300), ttl: hour, origin: A });
    await expect(store.put({ key: keyOf(2), value: bytes(1), ttl: hour, origin: A })).rejects.toMatchObject({ code: 'STORAGE_FULL' });
    expect(await store.put({ key: keyOf(2), value: bytes(300), ttl: hour, origin: B })).toBe('stored');
    expect(store.sourceUsage('10.0.0.1')).toEqual({ bytes: 300, records: 1 });
    expect(store.sourceUsage('10.0.0.2')).toEqual({ bytes: 300, records: 1 });
    expect(store.stats()).toMatchObject({ records: 2, bytes: 600, refusedQuota: 1, refusedFull: 0 });
  });

  it("the node's own writes are exempt from the quota", async () => {
    const store = fx.open({ clock, capBytes: 1000 }); // quota 125
    expect(await store.put({ key: keyOf(1), value: bytes(900), ttl: hour, origin: 'self' })).toBe('stored');
    expect(store.sourceUsage('self')).toEqual({ bytes: 900, records: 1 });
    expect(store.stats().refusedQuota).toBe(0);
  });

  it('a replacement from the same source counts only the size difference against the quota', async () => {
    const store = fx.open({ clock, capBytes: 1000, perSourceBytes: 300 });
    await store.put({ key: keyOf(1), value: bytes(250, 1), ttl: hour, origin: A });
    await store.put({ key: keyOf(2), value: bytes(40, 1), ttl: hour, origin: A });
    // 290 held: growing key 1 by 10 fits, by 11 does not.
    expect(await store.put({ key: keyOf(1), value: bytes(260, 2), ttl: hour, origin: A })).toBe('stored');
    expect(store.sourceUsage('10.0.0.1')).toEqual({ bytes: 300, records: 2 });
    await expect(store.put({ key: keyOf(1), value: bytes(261, 3), ttl: hour, origin: A })).rejects.toMatchObject({ code: 'STORAGE_FULL' });
    expect(store.getCopy(keyOf(1))!.value).toEqual(bytes(260, 2));
    expect(store.stats()).toMatchObject({ records: 2, bytes: 300, refusedQuota: 1 });
  });

  it("a replacement from another source counts in full against the new source and frees the old one's share", async () => {
    const store = fx.open({ clock, capBytes: 1000, perSourceBytes: 300 });
    await store.put({ key: keyOf(1), value: bytes(250, 1), ttl: hour, origin: A });
    await store.put({ key: keyOf(2), value: bytes(200, 1), ttl: hour, origin: B });
    // B holds 200; taking over A's key with 150 bytes would make it 350, although the total shrinks.
    await expect(store.put({ key: keyOf(1), value: bytes(150, 2), ttl: hour, origin: B })).rejects.toMatchObject({ code: 'STORAGE_FULL' });
    expect(await store.put({ key: keyOf(1), value: bytes(100, 2), ttl: hour, origin: B })).toBe('stored');
    expect(store.sourceUsage('10.0.0.1')).toEqual({ bytes: 0, records: 0 });
    expect(store.sourceUsage('10.0.0.2')).toEqual({ bytes: 300, records: 2 });
    expect(store.stats().sources.map((s) => s.source)).toEqual(['10.0.0.2']);
  });

  it('holds the quota for concurrent puts batched into one transaction', async () => {
    const store = fx.open({ clock, capBytes: 10_000, perSourceBytes: 600 });
    const results = await Promise.allSettled([1, 2, 3, 4, 5].map((i) => store.put({ key: keyOf(i), value: bytes(300, i), ttl: hour, origin: A })));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'rejected', 'rejected']);
    expect(store.sourceUsage('10.0.0.1')).toEqual({ bytes: 600, records: 2 });
    expect(store.stats()).toMatchObject({ refusedQuota: 3, refusedFull: 0 });
  });
});

describe('Store: eviction at the global cap', () => {
  it('evicts the oldest record of the heaviest source, not the oldest key or the oldest record overall', async () => {
    const store = fx.open({ clock, capBytes: 1000, perSourceBytes: 1000 });
    await store.put({ key: keyOf(1), value: bytes(300), ttl: hour, origin: B }); // oldest overall, lighter source
    clock.advance(second);
    await store.put({ key: keyOf(9), value: bytes(200), ttl: hour, origin: A }); // A's oldest, highest key
    clock.advance(second);
    await store.put({ key: keyOf(2), value: bytes(200), ttl: hour, origin: A });
    clock.advance(second);
    await store.put({ key: keyOf(3), value: bytes(100), ttl: hour, origin: 'self' });
    // 800 held (A 400, B 300, self 100): 300 more needs 100 freed.
    expect(await store.put({ key: keyOf(4), value: bytes(300), ttl: hour, origin: C })).toBe('stored');
    expect([...store.keys()]).toEqual([keyOf(1), keyOf(2), keyOf(3), keyOf(4)]);
    expect(store.evictions()).toEqual(new Map([['10.0.0.1', 1]]));
    expect(store.stats()).toMatchObject({ records: 4, bytes: 900, evicted: 1, refusedFull: 0, refusedQuota: 0, swept: 0 });
    expect(store.sourceUsage('10.0.0.1')).toEqual({ bytes: 200, records: 1 });
  });

  it('evicts repeatedly, choosing the heaviest source again after each eviction', async () => {
    const store = fx.open({ clock, capBytes: 1000, perSourceBytes: 1000 });
    for (const n of [1, 2, 3]) {
      await store.put({ key: keyOf(n), value: bytes(100), ttl: hour, origin: A });
      clock.advance(second);
    }
    await store.put({ key: keyOf(4), value: bytes(250), ttl: hour, origin: B });
    await store.put({ key: keyOf(5), value: bytes(100), ttl: hour, origin: 'self' });
    // 650 held: 700 more needs 350 freed. A (300) gives key 1, then B (250) is heaviest and gives key 4.
    expect(await store.put({ key: keyOf(6), value: bytes(700), ttl: hour, origin: C })).toBe('stored');
    expect([...store.keys()]).toEqual([keyOf(2), keyOf(3), keyOf(5), keyOf(6)]);
    expect(store.evictions()).toEqual(new Map([['10.0.0.1', 1], ['10.0.0.2', 1]]));
    expect(store.stats()).toMatchObject({ records: 4, bytes: 1000, evicted: 2, refusedFull: 0 });
  });

  it("never evicts the node's own records, even the oldest and largest", async () => {
    const store = fx.open({ clock, capBytes: 1000, perSourceBytes: 1000 });
    await store.put({ key: keyOf(1), value: bytes(500), ttl: hour, origin: 'self' });
    clock.advance(second);
    await store.put({ key: keyOf(2), value: bytes(300), ttl: hour, origin: A });
    expect(await store.put({ key: keyOf(3), value: bytes(400), ttl: hour, origin: 'self' })).toBe('stored');
    expect([...store.keys()]).toEqual([keyOf(1), keyOf(3)]);
    expect(store.evictions()).toEqual(new Map([['10.0.0.1', 1]]));
    expect(store.sourceUsage('self')).toEqual({ bytes: 900, records: 2 });
  });

  it('refuses with STORAGE_FULL when only the node\'s own records are left', async () => {
    const store = fx.open({ clock, capBytes: 1000, perSourceBytes: 1000 });
    await store.put({ key: keyOf(1), value: bytes(900), ttl: hour, origin: 'self' });
    await expect(store.put({ key: keyOf(2), value: bytes(200), ttl: hour, origin: A })).rejects.toMatchObject({
      code: 'STORAGE_FULL',
      message: 'storage cap reached (100 more bytes needed)',
    });
    await expect(store.put({ key: keyOf(3), value: bytes(200), ttl: hour, origin: 'self' })).rejects.toMatchObject({ code: 'STORAGE_FULL' });
    expect([...store.keys()]).toEqual([keyOf(1)]);
    expect(store.stats()).toMatchObject({ records: 1, bytes: 900, refusedFull: 2, refusedQuota: 0, evicted: 0 });
    expect(store.evictions()).toEqual(new Map());
  });

  it('sweeps expired records before evicting live ones', async () => {
    const store = fx.open({ clock, capBytes: 1000, perSourceBytes: 1000 });
    await store.put({ key: keyOf(1), value: bytes(500), ttl: hour, origin: A });
    await store.put({ key: keyOf(2), value: bytes(400), ttl: minute, origin: B });
    clock.advance(2 * minute);
    expect(await store.put({ key: keyOf(3), value: bytes(400), ttl: hour, origin: C })).toBe('stored');
    expect([...store.keys()]).toEqual([keyOf(1), keyOf(3)]);
    expect(store.stats()).toMatchObject({ records: 2, bytes: 900, swept: 1, evicted: 0 });
  });

  it('keeps the cap for concurrent puts batched into one transaction, evicting instead of refusing', async () => {
    // A quota above the cap: the quota is checked before eviction, so a source at its quota would be
    // refused before it could displace its own older records.
    const store = fx.open({ clock, capBytes: 1000, perSourceBytes: 2000 });
    const results = await Promise.all([1, 2, 3, 4, 5].map((i) => store.put({ key: keyOf(i), value: bytes(300, i), ttl: hour, origin: A })));
    expect(results).toEqual(['stored', 'stored', 'stored', 'stored', 'stored']);
    expect([...store.keys()]).toEqual([keyOf(3), keyOf(4), keyOf(5)]);
    expect(store.stats()).toMatchObject({ records: 3, bytes: 900, evicted: 2, refusedFull: 0 });
    await store.close();
    const again = fx.open({ clock, capBytes: 1000, perSourceBytes: 2000 });
    expect(again.stats()).toMatchObject({ records: 3, bytes: 900, evicted: 0 }); // counters are per open
    expect(again.evictions()).toEqual(new Map());
  });

  it('evictions() is a copy', async () => {
    const store = fx.open({ clock, capBytes: 100, perSourceBytes: 100 });
    await store.put({ key: keyOf(1), value: bytes(100), ttl: hour, origin: A });
    await store.put({ key: keyOf(2), value: bytes(100), ttl: hour, origin: B });
    store.evictions().set('10.0.0.1', 99);
    expect(store.evictions()).toEqual(new Map([['10.0.0.1', 1]]));
  });
});

describe('Store.put: decide', () => {
  it('sees the live record with its value and metadata, and null for a key never stored', async () => {
    const store = fx.open({ clock });
    const seen: Array<(Omit<StoredValue, 'value'> & { value: number[] }) | null> = [];
    const decide = (stored: StoredValue | null): PutDecision => {
      seen.push(stored === null ? null : { ...stored, value: Array.from(stored.value) });
      return { action: 'store' };
    };
    await store.put({ key: keyOf(1), value: bytes(3, 1), ttl: hour, origin: A, kind: ValueKind.MUTABLE, replicas: 5, decide });
    const storedAt = clock.now();
    clock.advance(second);
    await store.put({ key: keyOf(1), value: bytes(2, 2), ttl: hour, origin: B, decide });
    expect(seen).toEqual([
      null,
      { storedAt, expiresAt: storedAt + hour, size: 3, origin: A, kind: ValueKind.MUTABLE, replicas: 5, value: [1, 1, 1] },
    ]);
  });

  it('store with a replacement value writes that value and accounts its size', async () => {
    const store = fx.open({ clock, capBytes: 1000, perSourceBytes: 100 });
    expect(await store.put({ key: keyOf(1), value: bytes(10, 1), ttl: hour, origin: A, decide: () => ({ action: 'store', value: bytes(60, 9) }) })).toBe('stored');
    expect(store.getCopy(keyOf(1))).toMatchObject({ value: bytes(60, 9), size: 60 });
    expect(store.sourceUsage('10.0.0.1')).toEqual({ bytes: 60, records: 1 });
    expect(store.stats()).toMatchObject({ records: 1, bytes: 60 });
    // The quota weighs the replacement (10 + 60 would fit, 60 + 50 does not).
    const grow = store.put({ key: keyOf(2), value: bytes(10), ttl: hour, origin: A, decide: () => ({ action: 'store', value: bytes(50) }) });
    await expect(grow).rejects.toMatchObject({ code: 'STORAGE_FULL', message: expect.stringMatching(/per-source quota/) });
    expect(store.has(keyOf(2))).toBe(false);
    expect(store.stats()).toMatchObject({ records: 1, bytes: 60, refusedQuota: 1 });
  });

  it('store with a replacement value is weighed against the global cap', async () => {
    const store = fx.open({ clock, capBytes: 1000 });
    await store.put({ key: keyOf(1), value: bytes(900), ttl: hour, origin: 'self' });
    const put = store.put({ key: keyOf(2), value: bytes(1), ttl: hour, origin: 'self', decide: () => ({ action: 'store', value: bytes(101) }) });
    await expect(put).rejects.toMatchObject({ code: 'STORAGE_FULL', message: 'storage cap reached (1 more bytes needed)' });
    expect(store.stats()).toMatchObject({ records: 1, bytes: 900, refusedFull: 1 });
  });

  it('refresh moves only the expiry, and only later: value, size, origin and storedAt stay', async () => {
    const store = fx.open({ clock });
    const storedAt = clock.now();
    await store.put({ key: keyOf(1), value: bytes(10, 1), ttl: hour, origin: A, kind: ValueKind.MUTABLE, replicas: 4 });
    clock.advance(10 * minute);
    const refresh = (): PutDecision => ({ action: 'refresh' });
    const later = { key: keyOf(1), value: bytes(20, 2), origin: B, kind: ValueKind.SET, replicas: 7, decide: refresh };
    expect(await store.put({ ...later, ttl: 2 * hour })).toBe('refreshed');
    const expected = { value: bytes(10, 1), size: 10, origin: A, kind: ValueKind.MUTABLE, replicas: 4, storedAt, expiresAt: clock.now() + 2 * hour };
    expect(store.getCopy(keyOf(1))).toEqual(expected);
    clock.advance(minute);
    expect(await store.put({ ...later, ttl: minute })).toBe('refreshed');
    expect(store.getCopy(keyOf(1))).toEqual(expected);
    expect(store.stats()).toMatchObject({ records: 1, bytes: 10 });
    expect(store.sourceUsage('10.0.0.2')).toEqual({ bytes: 0, records: 0 });
  });

  it('refuse rejects put with the error given and writes nothing', async () => {
    const store = fx.open({ clock });
    await store.put({ key: keyOf(1), value: bytes(10, 1), ttl: hour, origin: A });
    const before = store.getCopy(keyOf(1));
    const error = new DhtError('SEQ_TOO_LOW', 'sequence number less than current');
    const refuse = (): PutDecision => ({ action: 'refuse', error });
    clock.advance(minute);
    await expect(store.put({ key: keyOf(1), value: bytes(20, 2), ttl: 2 * hour, origin: B, decide: refuse })).rejects.toBe(error);
    await expect(store.put({ key: keyOf(2), value: bytes(20, 2), ttl: 2 * hour, origin: B, decide: refuse })).rejects.toBe(error);
    expect(store.getCopy(keyOf(1))).toEqual(before);
    expect(store.has(keyOf(2))).toBe(false);
    expect(store.stats()).toMatchObject({ records: 1, bytes: 10, refusedFull: 0, refusedQuota: 0, refusedTooBig: 0 });
    expect(store.sourceUsage('10.0.0.2')).toEqual({ bytes: 0, records: 0 });
  });

  it('a decide that throws rejects put with that error and leaves the other puts of its batch alone', async () => {
    const store = fx.open({ clock });
    const boom = new Error('boom');
    const results = await Promise.allSettled([1, 2, 3].map((i) => store.put({
      key: keyOf(i), value: bytes(10, i), ttl: hour, origin: A,
      decide: (): PutDecision => { if (i === 2) throw boom; return { action: 'store' }; },
    })));
    expect(results).toEqual([{ status: 'fulfilled', value: 'stored' }, { status: 'rejected', reason: boom }, { status: 'fulfilled', value: 'stored' }]);
    expect([...store.keys()]).toEqual([keyOf(1), keyOf(3)]);
    expect(store.stats()).toMatchObject({ records: 2, bytes: 20 });
    expect(store.sourceUsage('10.0.0.1')).toEqual({ bytes: 20, records: 2 });
  });

  it('sees null for an expired record, which the new value then replaces', async () => {
    const store = fx.open({ clock });
    await store.put({ key: keyOf(1), value: bytes(10, 1), ttl: minute, origin: A });
    clock.advance(2 * minute);
    const seen: Array<StoredValue | null> = [];
    const outcome = await store.put({ key: keyOf(1), value: bytes(30, 2), ttl: hour, origin: B, decide: (s) => { seen.push(s); return { action: 'store' }; } });
    expect(outcome).toBe('stored');
    expect(seen).toEqual([null]);
    expect(store.getCopy(keyOf(1))).toMatchObject({ value: bytes(30, 2), origin: B, storedAt: clock.now() });
    expect(store.stats()).toMatchObject({ records: 1, bytes: 30 });
    expect(store.stats().sources).toEqual([{ source: '10.0.0.2', bytes: 30, records: 1 }]);
  });

  it('serializes concurrent puts to one key: 20 increments through decide give 20', async () => {
    const store = fx.open({ clock });
    const seen: number[] = [];
    const increment = (stored: StoredValue | null): PutDecision => {
      const n = stored === null ? 0 : readU32(stored.value);
      seen.push(n);
      return { action: 'store', value: u32(n + 1) };
    };
    const puts = Array.from({ length: 20 }, () => store.put({ key: keyOf(1), value: u32(0), ttl: hour, origin: A, decide: increment }));
    expect(await Promise.all(puts)).toEqual(new Array(20).fill('stored'));
    expect(readU32(store.getCopy(keyOf(1))!.value)).toBe(20);
    expect(seen).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(store.stats()).toMatchObject({ records: 1, bytes: 4 });
    expect(store.sourceUsage('10.0.0.1')).toEqual({ bytes: 4, records: 1 });
  });
});

describe('Store: stores written before meta version 2 and the source index', () => {
  it('decodes version-1 meta as immutable content at the default replication factor', () => {
    const bytesV1 = metaV1(1.5, 7_200_001, 262_144, '[::1]:33442');
    expect(decodeMeta(bytesV1)).toEqual({
      storedAt: 1.5, expiresAt: 7_200_001, size: 262_144, origin: '[::1]:33442', kind: ValueKind.IMMUTABLE, replicas: DHT_REPLICATION_FACTOR,
    });
    expect(DHT_REPLICATION_FACTOR).toBe(3);
    expect(decodeMeta(bytesV1.subarray(0, 20))).toBeNull();
  });

  it('rebuilds an empty source index at open, so eviction still finds the oldest record of the heaviest source', async () => {
    const init = { clock, capBytes: 1000, perSourceBytes: 1000 };
    const store = fx.open(init);
    await store.put({ key: keyOf(9), value: bytes(300), ttl: hour, origin: A, kind: ValueKind.MUTABLE, replicas: 5 });
    const oldest = clock.now();
    clock.advance(second);
    await store.put({ key: keyOf(2), value: bytes(300), ttl: hour, origin: A });
    await store.put({ key: keyOf(3), value: bytes(200), ttl: hour, origin: B });
    await store.put({ key: keyOf(4), value: bytes(100), ttl: hour, origin: 'self' });
    await store.close();

    // What an older version left behind: no source index, and version-1 meta for key 9.
    await withRawTables(({ meta, sources }) => {
      expect(sources.getKeysCount()).toBe(4);
      sources.clearSync();
      meta.putSync(Buffer.from(keyOf(9)), metaV1(oldest, oldest + hour, 300, A));
      expect(sources.getKeysCount()).toBe(0);
    });

    const reopened = fx.open(init);
    expect([...reopened.entries()].find((e) => e.key[0] === 9)).toEqual({
      key: keyOf(9), storedAt: oldest, expiresAt: oldest + hour, size: 300, origin: A, kind: ValueKind.IMMUTABLE, replicas: DHT_REPLICATION_FACTOR,
    });
    expect(reopened.sourceUsage('10.0.0.1')).toEqual({ bytes: 600, records: 2 });
    expect(await reopened.put({ key: keyOf(5), value: bytes(300), ttl: hour, origin: C })).toBe('stored');
    expect([...reopened.keys()]).toEqual([keyOf(2), keyOf(3), keyOf(4), keyOf(5)]);
    expect(reopened.evictions()).toEqual(new Map([['10.0.0.1', 1]]));
    await reopened.close();

    await withRawTables(({ sources }) => {
      expect(sources.getKeysCount()).toBe(4); // rebuilt, then kept in step by the eviction and the put
    });
  });
});

describe('Store: stats().sources', () => {
  it('lists each source with its bytes and records, heaviest first, self included', async () => {
    const store = fx.open({ clock, capBytes: 10_000 });
    await store.put({ key: keyOf(1), value: bytes(50), ttl: hour, origin: 'self' });
    await store.put({ key: keyOf(2), value: bytes(200), ttl: hour, origin: '10.0.0.1:1' });
    await store.put({ key: keyOf(3), value: bytes(100), ttl: hour, origin: '10.0.0.1:2' });
    await store.put({ key: keyOf(4), value: bytes(100), ttl: hour, origin: '10.0.0.2:1' });
    await store.put({ key: keyOf(5), value: bytes(200), ttl: hour, origin: '[::1]:1' });
    expect(store.stats().sources).toEqual([
      { source: '10.0.0.1', bytes: 300, records: 2 },
      { source: '::1', bytes: 200, records: 1 },
      { source: '10.0.0.2', bytes: 100, records: 1 },
      { source: 'self', bytes: 50, records: 1 },
    ]);
    await store.delete(keyOf(5));
    expect(store.stats().sources.map((s) => s.source)).toEqual(['10.0.0.1', '10.0.0.2', 'self']);
    expect(store.sourceUsage('::1')).toEqual({ bytes: 0, records: 0 });
  });

  it('lists at most the 20 heaviest of more sources', async () => {
    const store = fx.open({ clock });
    await Promise.all(Array.from({ length: 25 }, (_, i) => store.put({ key: keyOf(i + 1), value: bytes(i + 1), ttl: hour, origin: `10.0.1.${i + 1}:4000` })));
    const listed = store.stats().sources;
    expect(listed).toHaveLength(20);
    expect(listed.map((s) => s.bytes)).toEqual(Array.from({ length: 20 }, (_, i) => 25 - i));
    expect(listed[0]).toEqual({ source: '10.0.1.25', bytes: 25, records: 1 });
    expect(store.stats().records).toBe(25);
  });

  it('is recounted from disk at open', async () => {
    const store = fx.open({ clock });
    await store.put({ key: keyOf(1), value: bytes(70), ttl: hour, origin: A });
    await store.put({ key: keyOf(2), value: bytes(30), ttl: hour, origin: 'self' });
    await store.close();
    expect(fx.open({ clock }).stats().sources).toEqual([
      { source: '10.0.0.1', bytes: 70, records: 1 },
      { source: 'self', bytes: 30, records: 1 },
    ]);
  });
});

/** Edge cases of quotas and eviction that once lost data or let a value past its limit. */
describe('Store: refusals leave nothing behind', () => {
  it('a put refused at the cap leaves the records it tried to evict in place', async () => {
    const store = fx.open({ clock, capBytes: 1000, perSourceBytes: 1000 });
    await store.put({ key: keyOf(1), value: bytes(600), ttl: hour, origin: 'self' });
    await store.put({ key: keyOf(2), value: bytes(300), ttl: hour, origin: A });
    // Evicting A's 300 bytes still leaves 100 missing: the put is refused...
    await expect(store.put({ key: keyOf(3), value: bytes(500), ttl: hour, origin: B })).rejects.toMatchObject({ code: 'STORAGE_FULL' });
    // ...and A's record should not have been given up for nothing.
    expect(store.has(keyOf(2))).toBe(true);
    expect(store.stats()).toMatchObject({ records: 2, bytes: 900, evicted: 0 });
  });

  it('expired records of a source do not count against its quota', async () => {
    const store = fx.open({ clock, capBytes: 1000, perSourceBytes: 300 });
    await store.put({ key: keyOf(1), value: bytes(300), ttl: minute, origin: A });
    clock.advance(2 * minute);
    expect(await store.put({ key: keyOf(2), value: bytes(300), ttl: hour, origin: A })).toBe('stored');
  });

  it('a replacement value from decide is held to maxValueBytes', async () => {
    const store = fx.open({ clock, maxValueBytes: 100 });
    const put = store.put({ key: keyOf(1), value: bytes(10), ttl: hour, origin: 'self', decide: () => ({ action: 'store', value: bytes(101) }) });
    await expect(put).rejects.toMatchObject({ code: 'VALUE_TOO_BIG' });
  });
});
