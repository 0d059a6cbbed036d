/**
 * Admission limits of the routing table: per-subnet caps per bucket and per table (discv5,
 * go-ethereum), the inbound-only cap per bucket (sigp/discv5) and the table-wide inbound share
 * (discv5 rationale). Includes the unit part of T15.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Contact, type NodeId, randomIdInBucket } from '../../src/id/index.js';
import {
  defaultMinInboundAllowance, MAX_INBOUND_PER_BUCKET, MAX_INBOUND_SHARE, MAX_PER_SUBNET_PER_BUCKET, MAX_PER_SUBNET_PER_TABLE,
  type AddResult, type RoutingTableInit, RoutingTable,
} from '../../src/routing/index.js';
import { SeededRandom, isLocalAddress, isLoopback, subnetKey } from '../../src/util/index.js';
import { report } from '../helpers/report.js';
import { THRESHOLDS } from '../thresholds.js';
import { idMaker, idOf } from './helpers.js';

const RUNS = process.env.SLOW === '1' ? 5_000 : 300;
const self = idOf(0);

let nextPort = 20_000;
/** A contact for `id` at `host` and a fresh port. */
const at = (id: NodeId, host: string): Contact => ({ id, host, port: nextPort++ });

/** `n` ids all in bucket `bucket` of `self`. */
function idsIn(bucket: number, n: number, seed = 7): NodeId[] {
  const make = idMaker(self, seed);
  return Array.from({ length: n }, () => make(bucket));
}

function statuses(results: AddResult[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of results) {
    const key = r.status === 'rejected' ? `rejected:${r.reason}` : r.status;
    out[key] = (out[key] ?? 0) + 1;
  }
  return out;
}

describe('RoutingTable diversity options', () => {
  it('defaults to 2 per subnet per bucket, 10 per table, 5 inbound per bucket, inbound share 0.2 above 10, loopback exempt', () => {
    const table = new RoutingTable(self);
    expect([table.maxPerSubnetPerBucket, table.maxPerSubnetPerTable, table.maxInboundPerBucket]).toEqual([2, 10, 5]);
    expect([table.maxInboundShare, table.minInboundAllowance]).toEqual([0.2, 10]);
    expect([MAX_PER_SUBNET_PER_BUCKET, MAX_PER_SUBNET_PER_TABLE, MAX_INBOUND_PER_BUCKET, MAX_INBOUND_SHARE]).toEqual([2, 10, 5, 0.2]);
    expect(table.treatLoopbackAsPublic).toBe(false);
    expect(table.rejections).toEqual({ subnet_bucket: 0, subnet_table: 0, inbound_limit: 0 });
    expect(table.diversity()).toEqual({
      maxPerSubnetPerBucket: 0, maxPerSubnetPerTable: 0, inboundPerBucket: [], maxInboundPerBucket: 0,
      inboundOnly: 0, outbound: 0, inboundAllowance: 10,
    });
  });

  it('defaults minInboundAllowance to half a bucket, rounded up', () => {
    expect([1, 5, 8, 20].map((k) => new RoutingTable(self, { k }).minInboundAllowance)).toEqual([1, 3, 4, 10]);
    expect(defaultMinInboundAllowance(20)).toBe(10);
  });

  it('accepts Infinity to disable a limit', () => {
    const off = Number.POSITIVE_INFINITY;
    const table = new RoutingTable(self, {
      maxPerSubnetPerBucket: off, maxPerSubnetPerTable: off, maxInboundPerBucket: off, maxInboundShare: off, minInboundAllowance: 0,
    });
    for (const id of idsIn(0, 20)) expect(table.add(at(id, '198.51.100.1'), 1, { inbound: true }).status).toBe('added');
    expect(table.diversity().inboundAllowance).toBe(off);
    const floorOff = new RoutingTable(self, { minInboundAllowance: off });
    for (const [i, id] of idsIn(0, 30).entries()) floorOff.add(at(id, `198.51.${i}.1`), 1, { inbound: i < 25 && i % 5 !== 0 });
    expect(floorOff.diversity().inboundPerBucket).toEqual([5]); // only the per-bucket cap remains
  });

  it.each([
    [{ maxPerSubnetPerBucket: 0 }, 'options.maxPerSubnetPerBucket must be a positive integer or Infinity'],
    [{ maxPerSubnetPerBucket: 1.5 }, 'options.maxPerSubnetPerBucket must be a positive integer or Infinity'],
    [{ maxPerSubnetPerTable: -1 }, 'options.maxPerSubnetPerTable must be a positive integer or Infinity'],
    [{ maxPerSubnetPerTable: Number.NaN }, 'options.maxPerSubnetPerTable must be a positive integer or Infinity'],
    [{ maxInboundPerBucket: -1 }, 'options.maxInboundPerBucket must be a non-negative integer or Infinity'],
    [{ minInboundAllowance: -1 }, 'options.minInboundAllowance must be a non-negative integer or Infinity'],
    [{ minInboundAllowance: 2.5 }, 'options.minInboundAllowance must be a non-negative integer or Infinity'],
    [{ maxInboundShare: -0.1 }, 'options.maxInboundShare must be a non-negative number or Infinity'],
    [{ maxInboundShare: Number.NaN }, 'options.maxInboundShare must be a non-negative number or Infinity'],
    [{ maxInboundShare: '0.2' as unknown as number }, 'options.maxInboundShare must be a non-negative number or Infinity'],
  ] as Array<[RoutingTableInit, string]>)('rejects %o naming the option', (init, message) => {
    expect(() => new RoutingTable(self, init)).toThrow(new RangeError(message));
  });

  it('rejects a non-boolean treatLoopbackAsPublic and inbound option', () => {
    expect(() => new RoutingTable(self, { treatLoopbackAsPublic: 'yes' as unknown as boolean }))
      .toThrow(new TypeError('options.treatLoopbackAsPublic must be a boolean'));
    const table = new RoutingTable(self);
    expect(() => table.add(at(idOf(1), '127.0.0.1'), 1, { inbound: 1 as unknown as boolean }))
      .toThrow(new TypeError('options.inbound must be a boolean'));
    expect(() => table.replace(idOf(1), undefined, 1, { inbound: 'no' as unknown as boolean }))
      .toThrow(new TypeError('options.inbound must be a boolean'));
  });
});

describe('T15 subnet limits (unit part)', () => {
  it('T15 keeps at most 2 per /24 per bucket and 10 per table from a /24 flood and a /16 flood', () => {
    const random = new SeededRandom(15);
    const victim = random.bytes(32) as NodeId;
    const table = new RoutingTable(victim, { treatLoopbackAsPublic: true });
    let worstBucket = 0;
    let worstTable = 0;
    const offer = (host: string): AddResult => {
      const result = table.add({ id: random.bytes(32) as NodeId, host, port: 1 + random.int(65_535) }, 1);
      const d = table.diversity();
      worstBucket = Math.max(worstBucket, d.maxPerSubnetPerBucket);
      worstTable = Math.max(worstTable, d.maxPerSubnetPerTable);
      return result;
    };
    // Phase 1: 1,000 identities on 127.5.5.2–254 (one /24).
    const one24 = statuses(Array.from({ length: 1000 }, (_, i) => offer(`127.5.5.${2 + (i % 253)}`)));
    expect(table.size).toBe(MAX_PER_SUBNET_PER_TABLE);
    expect(table.diversityCounts().perTable).toEqual(new Map([['127.5.5.0/24', 10]]));
    expect(one24['rejected:subnet_bucket']! + one24['rejected:subnet_table']!).toBe(990);
    // Phase 2: 1,000 identities over 127.6.x.y (one /16, 256 /24s).
    statuses(Array.from({ length: 1000 }, () => offer(`127.6.${random.int(256)}.${1 + random.int(254)}`)));
    const rejections = table.rejections;
    // Reported before asserting, so a failing run still prints its figures.
    const { max_per_24_per_bucket: bucketLimit, max_per_24_per_table: tableLimit } = THRESHOLDS.T15;
    const figure = (name: string, value: number, threshold: number): void =>
      report({ test: 'T15-unit', figure: name, value, threshold, pass: value <= threshold });
    figure('max_per_subnet_per_bucket', worstBucket, bucketLimit);
    figure('max_per_subnet_per_table', worstTable, tableLimit);
    report({ test: 'T15-unit', figure: 'rejections', value: rejections.subnet_bucket + rejections.subnet_table });
    expect(worstBucket).toBeLessThanOrEqual(bucketLimit);
    expect(worstTable).toBeLessThanOrEqual(tableLimit);
    expect(rejections.inbound_limit).toBe(0);

    // Honest peers, one per /24 elsewhere, are never refused: they enter, or wait for a full bucket.
    const honest = idMaker(victim, 150);
    for (let bucket = 0; bucket < 40; bucket++) {
      const full = (table.buckets().find((b) => b.index === bucket)?.size ?? 0) >= table.k;
      const result = table.add(at(honest(bucket), `198.51.${bucket}.7`), 2);
      expect(result.status).toBe(full ? 'full' : 'added');
    }
    expect(table.rejections).toEqual(rejections);
  });

  it('admits honest contacts from other subnets into a bucket a /24 flood already reached', () => {
    const table = new RoutingTable(self, { treatLoopbackAsPublic: true });
    const ids = idsIn(0, 40);
    const flood = ids.slice(0, 20).map((id, i) => table.add(at(id, `127.5.5.${2 + i}`), 1));
    expect(statuses(flood)).toEqual({ added: 2, 'rejected:subnet_bucket': 18 });
    const honest = ids.slice(20, 38).map((id, i) => table.add(at(id, `203.0.${i}.9`), 2));
    expect(statuses(honest)).toEqual({ added: 18 });
    expect(table.size).toBe(20);
    expect(table.diversity()).toMatchObject({ maxPerSubnetPerBucket: 2, maxPerSubnetPerTable: 2 });
    expect(table.rejections).toEqual({ subnet_bucket: 18, subnet_table: 0, inbound_limit: 0 });
  });

  it('does not cache a newcomer that the limits refuse at a full bucket', () => {
    const table = new RoutingTable(self, { k: 2 });
    const [a, b, c, d] = idsIn(0, 4);
    table.add(at(a!, '198.51.100.1'), 1);
    table.add(at(b!, '198.51.100.2'), 1);
    expect(table.add(at(c!, '198.51.100.3'), 2)).toEqual({ status: 'rejected', reason: 'subnet_bucket' });
    expect(table.add(at(d!, '203.0.113.1'), 2).status).toBe('full');
    expect(table.buckets()[0]).toMatchObject({ size: 2, replacements: 1 });
  });

  it('groups IPv6 hosts by /48 and IPv4-mapped IPv6 hosts with their IPv4 /24', () => {
    const table = new RoutingTable(self);
    const ids = idsIn(0, 6);
    const hosts = ['2001:db8:1::1', '2001:db8:1:ffff::2', '2001:db8:1:1234::3', '2001:db8:2::1', '203.0.113.5', '::ffff:203.0.113.6'];
    const results = ids.map((id, i) => table.add(at(id, hosts[i]!), 1).status);
    expect(results).toEqual(['added', 'added', 'rejected', 'added', 'added', 'added']);
    expect(table.add(at(idsIn(0, 7)[6]!, '203.0.113.7'), 1)).toEqual({ status: 'rejected', reason: 'subnet_bucket' });
    expect(table.diversityCounts().perTable)
      .toEqual(new Map([['2001:0db8:0001::/48', 2], ['2001:0db8:0002::/48', 1], ['203.0.113.0/24', 2]]));
  });

  it('caps a /24 at 10 entries over the whole table', () => {
    const table = new RoutingTable(self);
    const make = idMaker(self, 3);
    const results = Array.from({ length: 12 }, (_, i) => table.add(at(make(i), `198.51.100.${i + 1}`), 1).status);
    expect(results).toEqual([...new Array<string>(10).fill('added'), 'rejected', 'rejected']);
    expect(table.rejections.subnet_table).toBe(2);
  });
});

describe('RoutingTable local-address exemption', () => {
  const localHosts = [
    '127.0.0.1', '127.0.0.2', '::1', '10.0.0.1', '10.0.0.2', '192.168.1.1', '172.16.0.1', '169.254.1.1', 'fd00::1', 'fe80::1',
  ];

  it('exempts loopback, private and link-local hosts from the subnet limits by default', () => {
    const table = new RoutingTable(self);
    const results = idsIn(0, 20).map((id, i) => table.add(at(id, localHosts[i % 2]!), 1).status);
    expect(results.every((s) => s === 'added')).toBe(true);
    for (const host of localHosts) table.add(at(idsIn(1, 1, localHosts.indexOf(host) + 50)[0]!, host), 1);
    expect(table.diversityCounts().perTable.size).toBe(0);
    expect(table.diversity()).toMatchObject({ maxPerSubnetPerBucket: 0, maxPerSubnetPerTable: 0 });
  });

  it('with treatLoopbackAsPublic counts loopback but keeps private LAN ranges exempt', () => {
    const table = new RoutingTable(self, { treatLoopbackAsPublic: true });
    const ids = idsIn(0, 8);
    const hosts = ['127.0.0.1', '127.0.0.2', '127.0.0.3', '10.0.0.1', '10.0.0.2', '10.0.0.3', '192.168.1.1', '192.168.1.2'];
    const results = ids.map((id, i) => table.add(at(id, hosts[i]!), 1).status);
    expect(results).toEqual(['added', 'added', 'rejected', 'added', 'added', 'added', 'added', 'added']);
    expect(table.diversityCounts().perTable).toEqual(new Map([['127.0.0.0/24', 2]]));
  });
});

describe('RoutingTable inbound-only entries', () => {
  it('admits at most maxInboundPerBucket inbound-only contacts per bucket', () => {
    const table = new RoutingTable(self);
    const ids = idsIn(0, 8);
    const inbound = ids.slice(0, 6).map((id, i) => table.add(at(id, `198.51.${i}.1`), 1, { inbound: true }));
    expect(statuses(inbound)).toEqual({ added: 5, 'rejected:inbound_limit': 1 });
    expect(table.add(at(ids[6]!, '198.51.6.1'), 1).status).toBe('added'); // outbound still enters
    expect(table.add(at(idsIn(1, 1)[0]!, '198.51.7.1'), 1, { inbound: true }).status).toBe('added'); // other bucket
    expect(table.diversity()).toMatchObject({ inboundPerBucket: [5, 1], maxInboundPerBucket: 5 });
    expect(table.rejections).toEqual({ subnet_bucket: 0, subnet_table: 0, inbound_limit: 1 });
    expect(table.get(ids[0]!)?.inbound).toBe(true);
    expect(table.get(ids[6]!)?.inbound).toBe(false);
  });

  it('applies the inbound cap to local hosts too', () => {
    const table = new RoutingTable(self, { maxInboundPerBucket: 1 });
    const [a, b] = idsIn(0, 2);
    expect(table.add(at(a!, '127.0.0.1'), 1, { inbound: true }).status).toBe('added');
    expect(table.add(at(b!, '127.0.0.1'), 1, { inbound: true })).toEqual({ status: 'rejected', reason: 'inbound_limit' });
  });

  it('turns an inbound entry outbound after a non-inbound add, freeing its inbound slot', () => {
    const table = new RoutingTable(self, { maxInboundPerBucket: 1 });
    const [a, b] = idsIn(0, 2);
    const contact = at(a!, '198.51.100.1');
    table.add(contact, 1, { inbound: true });
    expect(table.add(at(b!, '198.51.101.1'), 2, { inbound: true }).status).toBe('rejected');
    expect(table.add(contact, 3)).toEqual({ status: 'updated' }); // it answered our request
    expect(table.get(a!)?.inbound).toBe(false);
    expect(table.add(contact, 4, { inbound: true })).toEqual({ status: 'updated' });
    expect(table.get(a!)?.inbound).toBe(false); // never set back
    expect(table.add(at(b!, '198.51.101.1'), 5, { inbound: true }).status).toBe('added');
    expect(table.diversity().inboundPerBucket).toEqual([1]);
  });

  it('keeps the inbound flag of an inbound entry offered as inbound again', () => {
    const table = new RoutingTable(self);
    const contact = at(idsIn(0, 1)[0]!, '198.51.100.1');
    table.add(contact, 1, { inbound: true });
    table.add(contact, 2, { inbound: true });
    expect(table.get(contact.id)).toMatchObject({ inbound: true, lastSeen: 2 });
    expect(table.diversity().inboundPerBucket).toEqual([1]);
  });
});

describe('RoutingTable table-wide inbound share', () => {
  /** A table whose buckets 0.. hold `n` outbound-verified contacts, each from its own /24, `perBucket` to a bucket. */
  function stocked(n: number, init: RoutingTableInit = {}, perBucket = 5) {
    const table = new RoutingTable(self, init);
    const make = idMaker(self, 21);
    for (let i = 0; i < n; i++) expect(table.add(at(make(Math.floor(i / perBucket)), `198.18.${i}.1`), 1).status).toBe('added');
    return { table, make };
  }

  /** Offers `n` inbound contacts spread over buckets 0..`buckets - 1` from 8 /24s, as an attacker would. */
  function flood(table: RoutingTable, make: (bucket: number) => NodeId, n: number, buckets: number): AddResult[] {
    return Array.from({ length: n }, (_, i) => table.add(at(make(i % buckets), `203.0.${i % 8}.${1 + (i % 250)}`), 2, { inbound: true }));
  }

  it('a fresh table admits minInboundAllowance inbound-only contacts over all buckets, then refuses with inbound_limit', () => {
    const table = new RoutingTable(self);
    const make = idMaker(self, 22);
    const results = Array.from({ length: 40 }, (_, i) => table.add(at(make(i % 20), `198.19.${i}.1`), 1, { inbound: true }));
    expect(statuses(results)).toEqual({ added: 10, 'rejected:inbound_limit': 30 });
    expect(table.diversity()).toMatchObject({ inboundOnly: 10, outbound: 0, inboundAllowance: 10, maxInboundPerBucket: 1 });
    expect(table.rejections.inbound_limit).toBe(30);
  });

  it('with 50 outbound-verified entries an 8-/24 inbound flood gets 10 entries (1/6 of the table); with 100, 20', () => {
    const fifty = stocked(50);
    expect(statuses(flood(fifty.table, fifty.make, 400, 20))).toEqual({ added: 10, 'rejected:inbound_limit': 390 });
    expect(fifty.table.diversity()).toMatchObject({ inboundOnly: 10, outbound: 50, inboundAllowance: 10 });
    expect(fifty.table.diversity().inboundOnly / fifty.table.size).toBeLessThanOrEqual(1 / 6);

    const hundred = stocked(100);
    flood(hundred.table, hundred.make, 400, 20);
    expect(hundred.table.diversity()).toMatchObject({ inboundOnly: 20, outbound: 100, inboundAllowance: 20 });
    expect(hundred.table.diversity().inboundOnly / hundred.table.size).toBeLessThanOrEqual(1 / 6);
  });

  it('without the table-wide bound a flood into 10 buckets takes 5 entries in each: half of a 100-entry table', () => {
    const { table, make } = stocked(50, { maxInboundShare: Number.POSITIVE_INFINITY });
    flood(table, make, 400, 10);
    expect(table.diversity()).toMatchObject({ inboundOnly: 10 * MAX_INBOUND_PER_BUCKET, outbound: 50 });
    const bounded = stocked(50);
    flood(bounded.table, bounded.make, 400, 10);
    expect(bounded.table.diversity()).toMatchObject({ inboundOnly: 10, outbound: 50 });
  });

  it('an inbound entry that answers our request counts as outbound: the allowance frees a slot and grows', () => {
    const table = new RoutingTable(self, { minInboundAllowance: 2, maxInboundShare: 0.5 });
    const make = idMaker(self, 23);
    const [a, b, c, d] = [make(0), make(1), make(2), make(3)].map((id, i) => at(id, `198.51.${i}.1`));
    expect(table.add(a!, 1, { inbound: true }).status).toBe('added');
    expect(table.add(b!, 1, { inbound: true }).status).toBe('added');
    expect(table.add(c!, 1, { inbound: true })).toEqual({ status: 'rejected', reason: 'inbound_limit' });
    expect(table.add(a!, 2)).toEqual({ status: 'updated' }); // a answered us
    expect(table.diversity()).toMatchObject({ inboundOnly: 1, outbound: 1, inboundAllowance: 2 });
    expect(table.add(c!, 3, { inbound: true }).status).toBe('added');
    expect(table.add(d!, 3, { inbound: true }).status).toBe('rejected');
    for (let i = 0; i < 4; i++) table.add(at(make(4 + i), `198.51.${10 + i}.1`), 4); // 5 outbound now: floor(0.5 × 5) = 2
    expect(table.add(d!, 5, { inbound: true }).status).toBe('rejected');
    table.add(at(make(9), '198.51.20.1'), 6); // 6 outbound: 3
    expect(table.add(d!, 7, { inbound: true }).status).toBe('added');
  });

  it('keeps inbound entries already admitted when outbound ones leave, and admits no new one until below the bound', () => {
    const { table, make } = stocked(60, { minInboundAllowance: 0 });
    expect(statuses(flood(table, make, 40, 12))).toEqual({ added: 12, 'rejected:inbound_limit': 28 });
    const outbound = table.entries().filter((e) => !e.inbound);
    for (const e of outbound.slice(0, 30)) table.remove(e.contact.id, 3);
    expect(table.diversity()).toMatchObject({ inboundOnly: 12, outbound: 30, inboundAllowance: 6 });
    expect(statuses(flood(table, make, 10, 12))).toEqual({ 'rejected:inbound_limit': 10 });
  });

  it('promotion refuses a cached inbound contact when the table holds its inbound share', () => {
    const table = new RoutingTable(self, { k: 2, minInboundAllowance: 1, maxInboundShare: 0 });
    const make = idMaker(self, 24);
    const [a, b, c, d] = [make(0), make(0), make(0), make(1)];
    table.add(at(a, '198.51.100.1'), 1);
    table.add(at(b, '198.51.101.1'), 1);
    expect(table.add(at(c, '198.51.102.1'), 2, { inbound: true }).status).toBe('full'); // cached: 0 of 1 inbound
    expect(table.add(at(d, '198.51.103.1'), 3, { inbound: true }).status).toBe('added'); // now 1 of 1
    table.remove(a, 4);
    expect(table.has(c)).toBe(false);
    expect(table.rejections.inbound_limit).toBe(1);
    expect(table.diversity()).toMatchObject({ inboundOnly: 1, outbound: 1 });
  });
});

describe('RoutingTable promotion and moves under the limits', () => {
  it('promotion skips and drops a replacement that would break the table subnet limit', () => {
    const table = new RoutingTable(self, { k: 2, maxPerSubnetPerTable: 2 });
    const [a, b, older, newer] = idsIn(0, 4);
    table.add(at(a!, '198.51.100.1'), 1);
    table.add(at(b!, '203.0.113.1'), 2);
    expect(table.add(at(older!, '192.0.2.1'), 3).status).toBe('full');
    expect(table.add(at(newer!, '198.51.100.2'), 4).status).toBe('full'); // /24 has 1 of 2 now
    expect(table.add(at(idsIn(1, 1)[0]!, '198.51.100.3'), 5).status).toBe('added'); // now 2 of 2
    table.remove(b!, 6);
    expect(table.has(newer!)).toBe(false);
    expect(table.has(older!)).toBe(true);
    expect(table.buckets()[0]).toMatchObject({ size: 2, replacements: 0 });
    expect(table.rejections.subnet_table).toBe(1);
    expect(table.diversity().maxPerSubnetPerTable).toBe(2);
  });

  it('promotion skips a cached inbound contact once the bucket holds its inbound share', () => {
    const table = new RoutingTable(self, { k: 2, maxInboundPerBucket: 1 });
    const [a, b, c, d] = idsIn(0, 4);
    table.add(at(a!, '198.51.100.1'), 1);
    table.add(at(b!, '198.51.101.1'), 2);
    table.add(at(c!, '198.51.102.1'), 3, { inbound: true });
    table.add(at(d!, '198.51.103.1'), 4, { inbound: true });
    table.remove(a!, 5); // promotes d, the most recent
    expect(table.get(d!)?.inbound).toBe(true);
    expect(table.remove(b!, 6)).toBeDefined(); // c would be a second inbound entry
    expect(table.has(c!)).toBe(false);
    expect(table.size).toBe(1);
    expect(table.rejections.inbound_limit).toBe(1);
  });

  it('a replacement cached as inbound and then seen outbound is promoted as outbound', () => {
    const table = new RoutingTable(self, { k: 1, maxInboundPerBucket: 0 });
    const [a, c] = idsIn(0, 2);
    table.add(at(a!, '198.51.100.1'), 1);
    const contact = at(c!, '198.51.102.1');
    expect(table.add(contact, 2, { inbound: true })).toEqual({ status: 'rejected', reason: 'inbound_limit' });
    expect(table.add(contact, 3).status).toBe('full');
    table.remove(a!, 4);
    expect(table.get(c!)).toMatchObject({ inbound: false, lastSeen: 3 });
  });

  it('a known contact moving into a full /24 is rejected and keeps its old address', () => {
    const table = new RoutingTable(self);
    const [p, q, r] = idsIn(0, 3);
    table.add(at(p!, '198.51.100.1'), 1);
    table.add(at(q!, '198.51.100.2'), 1);
    table.add({ id: r!, host: '203.0.113.1', port: 4000 }, 1);
    expect(table.add({ id: r!, host: '198.51.100.3', port: 4000 }, 2)).toEqual({ status: 'rejected', reason: 'subnet_bucket' });
    expect(table.get(r!)).toMatchObject({ contact: { host: '203.0.113.1', port: 4000 }, lastSeen: 1 });
    expect(table.add({ id: r!, host: '203.0.113.9', port: 4001 }, 3)).toEqual({ status: 'updated' }); // same /24
    expect(table.add({ id: p!, host: '198.51.100.9', port: 4002 }, 4)).toEqual({ status: 'updated' }); // frees its own count
    expect(table.diversityCounts().perTable).toEqual(new Map([['198.51.100.0/24', 2], ['203.0.113.0/24', 1]]));
  });

  it('a move is checked against the table limit and releases the old subnet', () => {
    const table = new RoutingTable(self, { maxPerSubnetPerTable: 1 });
    const make = idMaker(self, 9);
    const [x, y] = [make(0), make(1)];
    table.add({ id: x, host: '198.51.100.1', port: 1 }, 1);
    table.add({ id: y, host: '203.0.113.1', port: 1 }, 1);
    expect(table.add({ id: y, host: '198.51.100.2', port: 1 }, 2)).toEqual({ status: 'rejected', reason: 'subnet_table' });
    expect(table.add({ id: y, host: '192.0.2.1', port: 1 }, 3).status).toBe('updated');
    expect(table.diversityCounts().perTable).toEqual(new Map([['198.51.100.0/24', 1], ['192.0.2.0/24', 1]]));
  });

  it('remove and replace release the counts of the contact that leaves', () => {
    const table = new RoutingTable(self, { maxInboundPerBucket: 1 });
    const [a, b, c] = idsIn(0, 3);
    table.add(at(a!, '198.51.100.1'), 1, { inbound: true });
    table.add(at(b!, '198.51.100.2'), 1);
    table.remove(a!, 2);
    expect(table.add(at(c!, '198.51.100.3'), 3, { inbound: true }).status).toBe('added');
    expect(table.replace(b!, at(a!, '198.51.100.4'), 4)?.inbound).toBe(false);
    expect(table.diversityCounts()).toEqual({
      perTable: new Map([['198.51.100.0/24', 2]]), perBucket: new Map([[0, new Map([['198.51.100.0/24', 2]])]]), inbound: new Map([[0, 1]]),
      inboundOnly: 1, outbound: 1,
    });
  });
});

// ---- Property: tracked counts always equal counts recomputed from the entries. ----

const HOSTS = [
  '198.51.100.1', '198.51.100.2', '198.51.100.3', '198.51.101.1', '198.51.101.2', '203.0.113.1',
  '127.0.0.1', '127.0.0.2', '127.0.1.1', '10.0.0.1', '2001:db8:1::1', '2001:db8:1:2::1', '2001:db8:2::1',
];

type Op =
  | { kind: 'add'; id: number; host: number; inbound: boolean }
  | { kind: 'remove'; id: number }
  | { kind: 'replace'; id: number; with: { id: number; host: number } | null; inbound: boolean }
  | { kind: 'fail'; id: number };

const ID_POOL = 16;
const idIx = fc.nat({ max: ID_POOL - 1 });
const hostIx = fc.nat({ max: HOSTS.length - 1 });
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('add' as const), id: idIx, host: hostIx, inbound: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('remove' as const), id: idIx }) },
  { weight: 2, arbitrary: fc.record({
    kind: fc.constant('replace' as const), id: idIx, inbound: fc.boolean(),
    with: fc.option(fc.record({ id: idIx, host: hostIx }), { nil: null }),
  }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('fail' as const), id: idIx }) },
);

function recount(table: RoutingTable, loopbackPublic: boolean) {
  const perTable = new Map<string, number>();
  const perBucket = new Map<number, Map<string, number>>();
  const inbound = new Map<number, number>();
  let inboundOnly = 0;
  for (const e of table.entries()) {
    const index = table.bucketIndex(e.contact.id);
    const { host } = e.contact;
    if (e.inbound) inbound.set(index, (inbound.get(index) ?? 0) + 1);
    if (e.inbound) inboundOnly++;
    if (isLocalAddress(host) && !(loopbackPublic && isLoopback(host))) continue;
    const subnet = subnetKey(host)!;
    perTable.set(subnet, (perTable.get(subnet) ?? 0) + 1);
    const m = perBucket.get(index) ?? new Map<string, number>();
    m.set(subnet, (m.get(subnet) ?? 0) + 1);
    perBucket.set(index, m);
  }
  return { perTable, perBucket, inbound, inboundOnly, outbound: table.size - inboundOnly };
}

/** The table-wide bound as docs/security.md states it, computed independently of the table. */
function allowanceOf(p: { share: number; minInbound: number }, outbound: number): number {
  return p.share === Number.POSITIVE_INFINITY ? p.share : Math.max(p.minInbound, Math.floor(p.share * outbound));
}

describe('RoutingTable diversity invariants (property)', () => {
  it('tracked counts equal recomputed counts and no limit is exceeded after every operation', () => {
    // Ids in buckets 0 and 1 only: with k ≤ 4 a table holds ≤ 8, so small shares and floors bind.
    const params = fc.record({
      k: fc.integer({ min: 1, max: 4 }),
      cache: fc.integer({ min: 0, max: 3 }),
      perBucket: fc.integer({ min: 1, max: 3 }),
      perTable: fc.integer({ min: 1, max: 5 }),
      inbound: fc.integer({ min: 0, max: 3 }),
      share: fc.constantFrom(0, 0.2, 0.5, 1, Number.POSITIVE_INFINITY),
      minInbound: fc.integer({ min: 0, max: 4 }),
      loopbackPublic: fc.boolean(),
      seed: fc.integer(),
    });
    fc.assert(fc.property(params, fc.array(op, { minLength: 20, maxLength: 120 }), (p, ops) => {
      const table = new RoutingTable(self, {
        k: p.k, replacementCacheSize: p.cache, maxPerSubnetPerBucket: p.perBucket,
        maxPerSubnetPerTable: p.perTable, maxInboundPerBucket: p.inbound, treatLoopbackAsPublic: p.loopbackPublic,
        maxInboundShare: p.share, minInboundAllowance: p.minInbound,
      });
      // Ids in buckets 0 and 1 so buckets fill and replacements get promoted.
      const random = new SeededRandom(p.seed);
      const ids = Array.from({ length: ID_POOL }, (_, i) => randomIdInBucket(self, i % 2, (n) => random.bytes(n)) as NodeId);
      const contact = (id: number, host: number): Contact => ({ id: ids[id]!, host: HOSTS[host]!, port: 1000 + host });
      ops.forEach((o, step) => {
        const before = table.diversity().inboundOnly;
        if (o.kind === 'add') table.add(contact(o.id, o.host), step, { inbound: o.inbound });
        else if (o.kind === 'remove') table.remove(ids[o.id]!, step);
        else if (o.kind === 'fail') table.recordFailure(ids[o.id]!);
        else table.replace(ids[o.id]!, o.with === null ? undefined : contact(o.with.id, o.with.host), step, { inbound: o.inbound });
        expect(table.diversityCounts()).toEqual(recount(table, p.loopbackPublic));
        const d = table.diversity();
        expect(d.maxPerSubnetPerBucket).toBeLessThanOrEqual(p.perBucket);
        expect(d.maxPerSubnetPerTable).toBeLessThanOrEqual(p.perTable);
        expect(d.maxInboundPerBucket).toBeLessThanOrEqual(p.inbound);
        // Inbound-only entries grow only while below the table-wide bound; a falling bound evicts no one.
        expect(d.inboundOnly).toBeLessThanOrEqual(Math.max(before, allowanceOf(p, d.outbound)));
        expect(d.inboundAllowance).toBe(allowanceOf(p, d.outbound));
        expect(table.size).toBe(table.entries().length);
      });
    }), { numRuns: RUNS });
  });
});
