/**
 * Capability-aware placement (src/replication/placement.ts): the order in which a publisher or
 * a repairer asks candidates to store, and the book of what peers have free. No network: ids
 * are built so that their XOR distance to the key is known (key = 0, id = [i, 0, ...] is at
 * distance i in the first byte).
 */
import { describe, expect, it } from 'vitest';
import type { Contact, Key, NodeId } from '../../src/id/index.js';
import { CapacityBook, FULL_MEMORY, MAX_CAPACITY_ENTRIES, placementOrder, type PlacementInput } from '../../src/replication/index.js';

const KEY = new Uint8Array(32) as Key;

/** A contact at distance rank `i` (1 = closest) from KEY. */
function contact(i: number): Contact {
  const id = new Uint8Array(32);
  id[0] = i;
  return { id: id as NodeId, host: '127.0.0.1', port: 10_000 + i };
}

/** Distance ranks of an order, for readable assertions. */
const ranks = (order: Contact[]): number[] => order.map((c) => c.id[0]!);

/** Candidates 1..n in a shuffled (reversed, interleaved) order, so sorting is exercised. */
function candidates(n: number): Contact[] {
  const all = Array.from({ length: n }, (_, i) => contact(i + 1));
  return [...all.filter((_, i) => i % 2 === 1).reverse(), ...all.filter((_, i) => i % 2 === 0)];
}

function order(over: Partial<PlacementInput> & { n: number }): number[] {
  return ranks(placementOrder({
    key: KEY, candidates: candidates(over.n), r: 3, size: 100, isBad: () => false, fits: () => true, ...over,
  }));
}

describe('placementOrder', () => {
  it('orders candidates by distance to the key when every one fits and none is bad', () => {
    expect(order({ n: 10 })).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('puts nodes of bad reputation last, still by distance among themselves', () => {
    const bad = new Set([1, 4, 9]);
    expect(order({ n: 10, isBad: (c) => bad.has(c.id[0]!) })).toEqual([2, 3, 5, 6, 7, 8, 10, 1, 4, 9]);
  });

  it('moves nodes that do not fit behind those that do, but only within the window of 2r closest', () => {
    // r = 3: window = 6. Node 2 and 5 are full (in the window), node 8 is full (outside it).
    const full = new Set([2, 5, 8]);
    expect(order({ n: 10, fits: (c) => !full.has(c.id[0]!) })).toEqual([1, 3, 4, 6, 2, 5, 7, 8, 9, 10]);
  });

  it('never reaches past the window for room: a full window keeps distance order after it', () => {
    // Every node of the window (1..6) is full: they still come before 7.. (readers look there).
    expect(order({ n: 10, fits: (c) => c.id[0]! > 6 })).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('caps the window at 20 for large r and honours an explicit window', () => {
    const upTo = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);
    // r = 12 → window min(20, 24) = 20. Node 1 full: it goes behind 2..20, but before 21.
    const first = order({ n: 24, r: 12, fits: (c) => c.id[0] !== 1 });
    expect(first.indexOf(1)).toBe(19);
    expect(first[20]).toBe(21);
    // Node 21 full is outside the window: it keeps its place (a window of 24 would move it last).
    expect(order({ n: 24, r: 12, fits: (c) => c.id[0] !== 21 })).toEqual(upTo(24));
    // An explicit window of 2: a full node 3 is outside it and keeps its place; a full node 1 is inside.
    expect(order({ n: 6, window: 2, fits: (c) => c.id[0] !== 3 })).toEqual(upTo(6));
    expect(order({ n: 6, window: 2, fits: (c) => c.id[0] !== 1 })).toEqual([2, 1, 3, 4, 5, 6]);
  });

  it('ranks bad before "does not fit": a bad node that fits is still after a full good one', () => {
    expect(order({ n: 6, isBad: (c) => c.id[0] === 1, fits: (c) => c.id[0] !== 2 })).toEqual([3, 4, 5, 6, 2, 1]);
  });

  it('keeps every candidate exactly once and handles fewer candidates than the window', () => {
    expect(order({ n: 2, fits: (c) => c.id[0] !== 1 })).toEqual([2, 1]);
    expect(order({ n: 0 })).toEqual([]);
  });
});

describe('CapacityBook', () => {
  const id = (i: number): NodeId => contact(i).id;

  it('says an unknown peer fits (a full one answers STORAGE_FULL)', () => {
    const book = new CapacityBook();
    expect(book.fits(id(1), 1_000_000, 0)).toBe(true);
    expect(book.free(id(1))).toBeUndefined();
    expect(book.size).toBe(0);
  });

  it('compares the last reported free bytes with the value size', () => {
    const book = new CapacityBook();
    book.observe(id(1), 500, 0);
    expect(book.free(id(1))).toBe(500);
    expect(book.fits(id(1), 500, 0)).toBe(true);
    expect(book.fits(id(1), 501, 0)).toBe(false);
    book.observe(id(1), 10_000, 1); // a later STORED answer reports more room
    expect(book.fits(id(1), 501, 1)).toBe(true);
    expect(book.size).toBe(1);
  });

  it('remembers a STORAGE_FULL refusal for FULL_MEMORY, even over a report of room', () => {
    const book = new CapacityBook();
    book.observe(id(1), 10_000, 0);
    book.refused(id(1), 1_000);
    expect(book.free(id(1))).toBe(0);
    expect(book.fits(id(1), 1, 1_000)).toBe(false);
    book.observe(id(1), 10_000, 2_000); // a record read meanwhile does not undo the refusal
    expect(book.fits(id(1), 1, 2_000)).toBe(false);
    expect(book.fits(id(1), 1, 1_000 + FULL_MEMORY - 1)).toBe(false);
    expect(book.fits(id(1), 1, 1_000 + FULL_MEMORY)).toBe(true);
  });

  it('a refusal of an unknown peer marks it full', () => {
    const book = new CapacityBook();
    book.refused(id(2), 0);
    expect(book.fits(id(2), 1, 0)).toBe(false);
    expect(book.size).toBe(1);
  });

  it('keeps at most MAX_CAPACITY_ENTRIES peers, dropping the least recently updated', () => {
    const book = new CapacityBook();
    const many = (i: number): NodeId => {
      const b = new Uint8Array(32);
      new DataView(b.buffer).setUint32(0, i);
      return b as NodeId;
    };
    for (let i = 0; i < MAX_CAPACITY_ENTRIES; i++) book.observe(many(i), 100, i);
    book.observe(many(0), 7, MAX_CAPACITY_ENTRIES); // peer 0 is updated: now the most recent
    book.refused(many(MAX_CAPACITY_ENTRIES), MAX_CAPACITY_ENTRIES); // one more peer: the oldest goes
    book.observe(many(MAX_CAPACITY_ENTRIES + 1), 100, MAX_CAPACITY_ENTRIES + 1); // and another
    expect(book.size).toBe(MAX_CAPACITY_ENTRIES);
    expect(book.free(many(0))).toBe(7);
    expect(book.free(many(1))).toBeUndefined();
    expect(book.free(many(2))).toBeUndefined();
    expect(book.free(many(3))).toBe(100);
    expect(book.fits(many(MAX_CAPACITY_ENTRIES), 1, MAX_CAPACITY_ENTRIES)).toBe(false);
  });
});
