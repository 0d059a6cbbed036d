import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Id, type NodeId, compareDistance, randomIdInBucket } from '../../src/id/index.js';
import { type RoutingEntry, RoutingTable } from '../../src/routing/index.js';
import { contactOf, hex, idMaker, idOf } from './helpers.js';

const RUNS = process.env.SLOW === '1' ? 20_000 : 1_000;

const bytes32 = fc.uint8Array({ minLength: 32, maxLength: 32 });
/**
 * An id relative to self: uniform (lands in the shallow buckets), or in a chosen bucket (so deep
 * buckets are exercised too). Built inside the property once self is known.
 */
const idSpec = fc.record({ bucket: fc.option(fc.integer({ min: 0, max: 255 }), { nil: null }), bytes: bytes32 });
type IdSpec = { bucket: number | null; bytes: Uint8Array };
const build = (self: Id, s: IdSpec): NodeId =>
  (s.bucket === null ? s.bytes : randomIdInBucket(self, s.bucket, () => s.bytes)) as NodeId;

/** A target: any id spec, self itself, or (by index) one of the table's contacts. */
type TargetSpec = { kind: 'id'; s: IdSpec } | { kind: 'self' } | { kind: 'member'; i: number };
const targetSpec: fc.Arbitrary<TargetSpec> = fc.oneof(
  idSpec.map((s): TargetSpec => ({ kind: 'id', s })),
  fc.constant<TargetSpec>({ kind: 'self' }),
  fc.nat().map((i): TargetSpec => ({ kind: 'member', i })),
);

function bruteForce(table: RoutingTable, target: Id, n: number, filter?: (e: RoutingEntry) => boolean): string[] {
  return table.entries()
    .filter((e) => filter === undefined || filter(e))
    .sort((a, b) => compareDistance(target, a.contact.id, b.contact.id))
    .slice(0, n)
    .map((e) => hex(e.contact.id));
}

interface Scenario { self: Uint8Array; k: number; contacts: IdSpec[]; target: TargetSpec; n: number }
/** Small k so buckets fill up and the table holds a subset of what was offered. */
const scenario: fc.Arbitrary<Scenario> = fc.record({
  self: bytes32,
  k: fc.integer({ min: 1, max: 8 }),
  contacts: fc.array(idSpec, { maxLength: 120 }),
  target: targetSpec,
  n: fc.integer({ min: 0, max: 60 }),
});

function setUp(sc: Scenario): { table: RoutingTable; target: Id } {
  const self = sc.self as NodeId;
  const table = new RoutingTable(self, { k: sc.k, replacementCacheSize: 2 });
  sc.contacts.forEach((s, i) => table.add(contactOf(build(self, s), 1 + (i % 60000)), i));
  const all = table.entries();
  const t = sc.target;
  const target = t.kind === 'self' ? self
    : t.kind === 'member' ? (all.length === 0 ? self : all[t.i % all.length]!.contact.id)
    : build(self, t.s);
  return { table, target };
}

describe('RoutingTable.closest', () => {
  it('returns exactly the n closest contacts, closest first (property, against a full sort)', () => {
    fc.assert(fc.property(scenario, (sc) => {
      const { table, target } = setUp(sc);
      expect(table.closest(target, sc.n).map((c) => hex(c.id))).toEqual(bruteForce(table, target, sc.n));
    }), { numRuns: RUNS });
  });

  it('applies the filter before choosing the n closest (property)', () => {
    fc.assert(fc.property(scenario, fc.integer({ min: 0, max: 255 }), (sc, mask) => {
      const { table, target } = setUp(sc);
      const filter = (e: RoutingEntry): boolean => (e.contact.id[31]! & mask) !== 0;
      expect(table.closest(target, sc.n, filter).map((c) => hex(c.id))).toEqual(bruteForce(table, target, sc.n, filter));
    }), { numRuns: RUNS });
  });

  it('defaults n to k and returns fewer when the table holds fewer', () => {
    const self = idOf(0);
    const table = new RoutingTable(self, { k: 4 });
    const make = idMaker(self);
    for (let b = 0; b < 10; b++) for (let i = 0; i < 3; i++) table.add(contactOf(make(b)), 0);
    expect(table.closest(idOf(0x55))).toHaveLength(4);
    expect(table.closest(idOf(0x55), 100)).toHaveLength(30);
    expect(table.closest(idOf(0x55), 0)).toEqual([]);
    expect(new RoutingTable(self).closest(idOf(1))).toEqual([]);
  });

  it('examines only the buckets it needs once n contacts are found', () => {
    const self = idOf(0);
    const table = new RoutingTable(self, { k: 20 });
    const make = idMaker(self);
    for (let b = 0; b < 12; b++) for (let i = 0; i < 20; i++) table.add(contactOf(make(b)), 0);
    let examined = 0;
    const target = make(0); // bucket 0 alone holds the 20 closest
    const found = table.closest(target, 20, () => { examined++; return true; });
    expect(found).toHaveLength(20);
    expect(examined).toBe(20);
    expect(found.every((c) => table.bucketIndex(c.id) === 0)).toBe(true);
  });
});

describe('RoutingTable invariants under random operations', () => {
  const op = fc.oneof(
    fc.record({ kind: fc.constant('add' as const), s: idSpec, port: fc.integer({ min: 1, max: 3 }) }),
    fc.record({ kind: fc.constant('remove' as const), i: fc.nat() }),
    fc.record({ kind: fc.constant('replace' as const), i: fc.nat(), s: fc.option(idSpec, { nil: undefined }) }),
    fc.record({ kind: fc.constant('fail' as const), i: fc.nat() }),
  );

  it('keeps size, bucket membership, bucket order and bounds consistent (property)', () => {
    fc.assert(fc.property(bytes32, fc.integer({ min: 1, max: 4 }), fc.array(op, { maxLength: 200 }), (selfBytes, k, ops) => {
      const self = selfBytes as NodeId;
      const table = new RoutingTable(self, { k, replacementCacheSize: 3 });
      const pick = (i: number): NodeId | undefined => table.entries()[i % Math.max(1, table.size)]?.contact.id;
      ops.forEach((o, now) => {
        if (o.kind === 'add') table.add(contactOf(build(self, o.s), o.port), now);
        const id = o.kind === 'add' ? undefined : pick(o.i);
        if (id === undefined) return;
        if (o.kind === 'remove') table.remove(id, now);
        if (o.kind === 'replace') table.replace(id, o.s === undefined ? undefined : contactOf(build(self, o.s)), now);
        if (o.kind === 'fail') table.recordFailure(id);
      });
      checkInvariants(table, self);
    }), { numRuns: RUNS });
  });
});

function checkInvariants(table: RoutingTable, self: NodeId): void {
  const all = table.entries();
  expect(all).toHaveLength(table.size);
  expect(new Set(all.map((e) => hex(e.contact.id))).size).toBe(all.length);
  expect(all.some((e) => hex(e.contact.id) === hex(self))).toBe(false);
  const byBucket = new Map<number, RoutingEntry[]>();
  for (const e of all) {
    const b = table.bucketIndex(e.contact.id);
    byBucket.set(b, [...(byBucket.get(b) ?? []), e]);
  }
  for (const [index, entries] of byBucket) {
    expect(entries.length).toBeLessThanOrEqual(table.k);
    const seen = entries.map((e) => e.lastSeen);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(table.buckets().find((b) => b.index === index)?.size).toBe(entries.length);
  }
  for (const info of table.buckets()) {
    expect(info.replacements).toBeLessThanOrEqual(table.replacementCacheSize);
    // A replacement waits only while its bucket is full.
    if (info.replacements > 0) expect(info.size).toBe(table.k);
  }
  expect(table.buckets().reduce((s, b) => s + b.size, 0)).toBe(table.size);
}
