import { describe, expect, it } from 'vitest';
import type { Id, NodeId } from '../../src/id/index.js';
import { RoutingTable } from '../../src/routing/index.js';
import { K_BUCKET_SIZE, REPLACEMENT_CACHE_SIZE } from '../../src/util/index.js';
import { contactOf, hex, idMaker, idOf } from './helpers.js';

const self = idOf(0);
const ids = (table: RoutingTable): string[] => table.entries().map((e) => hex(e.contact.id));

/** A table of capacity k whose bucket 0 already holds k contacts added at t = 1..k. */
function fullBucket(k: number, cache = 5) {
  const table = new RoutingTable(self, { k, replacementCacheSize: cache });
  const make = idMaker(self);
  const members = Array.from({ length: k }, () => contactOf(make(0)));
  members.forEach((c, i) => table.add(c, i + 1));
  return { table, make, members };
}

describe('RoutingTable options', () => {
  it('defaults to k = K_BUCKET_SIZE and REPLACEMENT_CACHE_SIZE replacements', () => {
    const table = new RoutingTable(self);
    expect(table.k).toBe(K_BUCKET_SIZE);
    expect(table.replacementCacheSize).toBe(REPLACEMENT_CACHE_SIZE);
    expect(table.size).toBe(0);
  });

  it.each([0, -1, 1.5, Number.NaN])('rejects k = %s naming options.k', (k) => {
    expect(() => new RoutingTable(self, { k })).toThrow(new RangeError('options.k must be a positive integer'));
  });

  it.each([-1, 0.5, Number.POSITIVE_INFINITY])('rejects replacementCacheSize = %s naming the option', (n) => {
    expect(() => new RoutingTable(self, { replacementCacheSize: n }))
      .toThrow(new RangeError('options.replacementCacheSize must be a non-negative integer'));
  });

  it('rejects a self id that is not 32 bytes', () => {
    expect(() => new RoutingTable(new Uint8Array(31) as NodeId)).toThrow(new TypeError('self must be a 32-byte id'));
  });

  it('rejects malformed contacts and arguments at the boundary', () => {
    const table = new RoutingTable(self);
    expect(() => table.add({ id: new Uint8Array(8) as NodeId, host: '127.0.0.1', port: 1 }, 0))
      .toThrow(new TypeError('contact.id must be a 32-byte id'));
    expect(() => table.add({ id: idOf(1), host: '127.0.0.1', port: 0 }, 0))
      .toThrow(new RangeError('contact.port must be an integer in 1..65535'));
    expect(() => table.closest(new Uint8Array(3) as Id)).toThrow(new TypeError('target must be a 32-byte id'));
    expect(() => table.closest(idOf(1), -1)).toThrow(new RangeError('n must be a non-negative integer'));
    expect(() => table.staleBuckets(0, -1)).toThrow(new RangeError('idleMs must be a non-negative number'));
    expect(() => table.touchBucket(256, 0)).toThrow(new RangeError('index must be an integer in [0, 255]'));
  });
});

describe('RoutingTable.add', () => {
  it('ignores its own id', () => {
    const table = new RoutingTable(self);
    expect(table.add(contactOf(idOf(0)), 1)).toEqual({ status: 'self' });
    expect(table.size).toBe(0);
    expect(table.bucketIndex(self)).toBe(-1);
  });

  it('files each contact in the bucket of its common-prefix length with self', () => {
    const table = new RoutingTable(self);
    const make = idMaker(self);
    for (const bucket of [0, 1, 7, 8, 100, 255]) {
      const id = make(bucket);
      expect(table.add(contactOf(id), 1)).toEqual({ status: 'added' });
      expect(table.bucketIndex(id)).toBe(bucket);
    }
    expect(table.buckets().map((b) => b.index)).toEqual([0, 1, 7, 8, 100, 255]);
    expect(table.size).toBe(6);
  });

  it('keeps a bucket least-recently-seen first and moves a re-seen contact to the end', () => {
    const table = new RoutingTable(self);
    const make = idMaker(self);
    const [a, b, c] = [make(0), make(0), make(0)];
    table.add(contactOf(a), 1);
    table.add(contactOf(b), 2);
    table.add(contactOf(c), 3);
    expect(ids(table)).toEqual([a, b, c].map(hex));
    expect(table.add(contactOf(a), 4)).toEqual({ status: 'updated' });
    expect(ids(table)).toEqual([b, c, a].map(hex));
    expect(table.get(a)).toMatchObject({ lastSeen: 4, addedAt: 1, failures: 0 });
    expect(table.size).toBe(3);
  });

  it('updates the address of a known id seen at a new endpoint', () => {
    const table = new RoutingTable(self);
    const id = idOf(7);
    table.add({ id, host: '10.0.0.1', port: 4000 }, 1);
    expect(table.add({ id, host: '10.0.0.2', port: 5000 }, 2)).toEqual({ status: 'updated' });
    expect(table.get(id)?.contact).toEqual({ id, host: '10.0.0.2', port: 5000 });
    expect(table.size).toBe(1);
  });

  it('resets failures when a contact is seen again', () => {
    const table = new RoutingTable(self);
    table.add(contactOf(idOf(9)), 1);
    expect(table.recordFailure(idOf(9))).toBe(1);
    expect(table.recordFailure(idOf(9))).toBe(2);
    table.add(contactOf(idOf(9)), 2);
    expect(table.get(idOf(9))?.failures).toBe(0);
    expect(table.recordFailure(idOf(10))).toBe(0);
  });

  it('copies ids, so a caller reusing its buffer cannot corrupt the table', () => {
    const table = new RoutingTable(self);
    const id = idOf(5);
    table.add(contactOf(id), 1);
    id.fill(6);
    expect(table.has(idOf(5))).toBe(true);
    expect(table.has(idOf(6))).toBe(false);
  });

  it('reports a full bucket with its oldest entry and caches the newcomer', () => {
    const { table, make, members } = fullBucket(3);
    const newcomer = contactOf(make(0));
    const result = table.add(newcomer, 10);
    expect(result.status).toBe('full');
    if (result.status !== 'full') return;
    expect(hex(result.oldest.contact.id)).toBe(hex(members[0]!.id));
    expect(result.oldest.lastSeen).toBe(1);
    expect(table.has(newcomer.id)).toBe(false);
    expect(table.size).toBe(3);
    expect(table.buckets()).toEqual([{ index: 0, size: 3, replacements: 1, lastChanged: 3 }]);
  });

  it('bounds the replacement cache, keeping the most recently seen', () => {
    const { table, make, members } = fullBucket(2, 3);
    const extra = Array.from({ length: 5 }, () => contactOf(make(0)));
    extra.forEach((c, i) => table.add(c, 10 + i));
    expect(table.buckets()[0]?.replacements).toBe(3);
    // Each removal promotes the most recent remaining replacement: extra[4], then extra[3].
    table.remove(members[0]!.id, 20);
    table.remove(members[1]!.id, 21);
    expect(ids(table)).toEqual([extra[3]!.id, extra[4]!.id].map(hex));
    expect(table.buckets()[0]?.replacements).toBe(1);
  });

  it('keeps no replacements when replacementCacheSize is 0', () => {
    const { table, make } = fullBucket(2, 0);
    expect(table.add(contactOf(make(0)), 10).status).toBe('full');
    expect(table.buckets()[0]?.replacements).toBe(0);
  });

  it('refreshes a cached newcomer offered again instead of caching it twice', () => {
    const { table, make } = fullBucket(2, 3);
    const newcomer = make(0);
    table.add(contactOf(newcomer, 7000), 10);
    table.add(contactOf(newcomer, 7001), 11);
    expect(table.buckets()[0]?.replacements).toBe(1);
    table.remove(table.entries()[0]!.contact.id, 12);
    expect(table.get(newcomer)).toMatchObject({ lastSeen: 11, addedAt: 12, contact: { port: 7001 } });
  });
});

describe('RoutingTable.remove and replace', () => {
  it('remove returns the entry and promotes the most recent replacement', () => {
    const { table, make, members } = fullBucket(3);
    const newcomer = contactOf(make(0));
    table.add(newcomer, 10);
    const removed = table.remove(members[1]!.id, 11);
    expect(removed?.contact.id).toEqual(members[1]!.id);
    expect(table.get(newcomer.id)).toMatchObject({ lastSeen: 10, addedAt: 11, failures: 0 });
    expect(ids(table)).toEqual([members[0]!.id, members[2]!.id, newcomer.id].map(hex));
    expect(table.size).toBe(3);
    expect(table.buckets()[0]).toMatchObject({ replacements: 0, lastChanged: 11 });
  });

  it('places a promoted replacement by when it was last seen', () => {
    const { table, make, members } = fullBucket(3);
    const early = contactOf(make(0));
    table.add(early, 2.5); // cached between members[1] (t=2) and members[2] (t=3)
    table.remove(members[0]!.id, 11);
    expect(ids(table)).toEqual([members[1]!.id, early.id, members[2]!.id].map(hex));
  });

  it('remove of an unknown id returns undefined and changes nothing', () => {
    const { table } = fullBucket(3);
    expect(table.remove(idOf(0xee), 5)).toBeUndefined();
    expect(table.remove(self, 5)).toBeUndefined();
    expect(table.size).toBe(3);
  });

  it('a plain removal leaves lastChanged alone so the thinner bucket refreshes sooner', () => {
    const { table, members } = fullBucket(3);
    table.remove(members[0]!.id, 50);
    expect(table.buckets()[0]).toMatchObject({ size: 2, lastChanged: 3 });
  });

  it('remove also forgets the id in the replacement cache', () => {
    const { table, make, members } = fullBucket(2);
    const newcomer = contactOf(make(0));
    table.add(newcomer, 10);
    expect(table.remove(newcomer.id, 11)).toBeUndefined();
    table.remove(members[0]!.id, 12);
    expect(table.has(newcomer.id)).toBe(false);
    expect(table.size).toBe(1);
  });

  it('replace evicts the old contact and adds the given one', () => {
    const { table, make, members } = fullBucket(3);
    const fresh = contactOf(make(0));
    const entry = table.replace(members[0]!.id, fresh, 20);
    expect(entry).toMatchObject({ contact: fresh, lastSeen: 20, addedAt: 20 });
    expect(table.has(members[0]!.id)).toBe(false);
    expect(ids(table)).toEqual([members[1]!.id, members[2]!.id, fresh.id].map(hex));
  });

  it('replace without a contact promotes from the replacement cache', () => {
    const { table, make, members } = fullBucket(3);
    const newcomer = contactOf(make(0));
    table.add(newcomer, 10);
    expect(table.replace(members[0]!.id, undefined, 20)?.contact.id).toEqual(newcomer.id);
    expect(table.size).toBe(3);
    expect(table.buckets()[0]?.replacements).toBe(0);
  });

  it('replace without a contact and an empty cache just evicts', () => {
    const { table, members } = fullBucket(3);
    expect(table.replace(members[0]!.id, undefined, 20)).toBeUndefined();
    expect(table.size).toBe(2);
  });

  it('replace with a contact of another bucket fills the freed slot from the cache', () => {
    const { table, make, members } = fullBucket(2);
    const cached = contactOf(make(0));
    const elsewhere = contactOf(make(4));
    table.add(cached, 10);
    table.replace(members[0]!.id, elsewhere, 20);
    expect(table.has(elsewhere.id)).toBe(true);
    expect(table.has(cached.id)).toBe(true);
    expect(table.size).toBe(3);
  });
});

describe('RoutingTable refresh bookkeeping', () => {
  it('staleBuckets lists buckets up to the deepest non-empty one idle for idleMs', () => {
    const table = new RoutingTable(self);
    const make = idMaker(self);
    table.add(contactOf(make(0)), 100);
    table.add(contactOf(make(2)), 500);
    expect(table.staleBuckets(1000, 950)).toEqual([1]); // never changed, so idle since 0
    expect(table.staleBuckets(1000, 600)).toEqual([0, 1]);
    expect(table.staleBuckets(1100, 600)).toEqual([0, 1, 2]);
    expect(table.staleBuckets(1099, 1000)).toEqual([1]);
  });

  it('touchBucket marks a bucket fresh', () => {
    const table = new RoutingTable(self);
    table.add(contactOf(idMaker(self)(3)), 0);
    table.touchBucket(1, 900);
    expect(table.staleBuckets(1000, 500)).toEqual([0, 2, 3]);
  });

  it('an empty table has no stale buckets', () => {
    expect(new RoutingTable(self).staleBuckets(1e12, 1)).toEqual([]);
  });

  it('adding or updating a contact refreshes its bucket', () => {
    const table = new RoutingTable(self);
    const id = idMaker(self)(0);
    table.add(contactOf(id), 0);
    table.add(contactOf(id), 800);
    expect(table.staleBuckets(1000, 500)).toEqual([]);
  });
});
