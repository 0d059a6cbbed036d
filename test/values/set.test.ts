/**
 * Multi-writer signed sets: set keys and signing payloads byte for byte, sign -> encode ->
 * decode -> verify, decodeSet totality, and mergeSet's rules (one entry per signer, higher seq
 * replaces, stale and expired entries dropped, first come when full, deterministic order).
 */
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { blake3, MLDSA65_PUBLIC_KEY_BYTES, MLDSA65_SIGNATURE_BYTES, mldsaKeygen, mldsaVerify } from '../../src/crypto/index.js';
import { compareIds } from '../../src/id/index.js';
import {
  checkEntryShape, decodeSet, encodeSet, entrySigner, liveEntries, MAX_SET_BYTES, MAX_SET_ENTRIES, MAX_SET_ENTRY_VALUE_BYTES,
  mergeSet, SET_ENTRY_DOMAIN, SET_KEY_DOMAIN, type SetEntry, setEntrySigningPayload, setKey, signSetEntry,
} from '../../src/values/index.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const NOW = 1_700_000_000_000;
const HOUR = 3_600_000;
const topic = setKey('providers/example');
const alice = mldsaKeygen(new Uint8Array(32).fill(1));
const bob = mldsaKeygen(new Uint8Array(32).fill(2));
const aliceEntry = signSetEntry(alice.secretKey, alice.publicKey, topic, 3, NOW + HOUR, utf8('alice@10.0.0.1:33442'));
const bobEntry = signSetEntry(bob.secretKey, bob.publicKey, topic, 1, NOW + 2 * HOUR, utf8('bob@10.0.0.2:33442'));

/**
 * An entry of signer `n` (a fake 1,952-byte key: mergeSet assumes verified input, so no real
 * signature is needed and no slow keygen runs).
 */
const fake = (n: number, seq: number, expiresAt = NOW + HOUR, value = utf8(`v${n}/${seq}`)): SetEntry => {
  const publicKey = new Uint8Array(MLDSA65_PUBLIC_KEY_BYTES);
  new DataView(publicKey.buffer).setUint32(0, n);
  return { publicKey, seq, expiresAt, value, signature: new Uint8Array(MLDSA65_SIGNATURE_BYTES).fill(n & 0xff) };
};
const plain = (e: SetEntry): unknown => ({ ...e, publicKey: hex(e.publicKey), value: hex(e.value), signature: hex(e.signature) });
const signers = (es: readonly SetEntry[]): string[] => es.map((e) => hex(entrySigner(e)));

describe('set keys and entry signatures', () => {
  it('setKey is BLAKE3(u8 len ‖ SET_KEY_DOMAIN ‖ topic), strings taken as UTF-8', () => {
    const d = Buffer.from(SET_KEY_DOMAIN);
    expect(hex(setKey('tag/é'))).toBe(hex(blake3(Buffer.concat([Buffer.from([d.length]), d, Buffer.from('tag/é')]))));
    expect(hex(setKey(utf8('tag/é')))).toBe(hex(setKey('tag/é')));
    expect(hex(setKey('a'))).not.toBe(hex(blake3(utf8('a'))));
  });

  it('the entry payload is u8 len ‖ domain ‖ key ‖ u64 seq ‖ u64 expiresAt ‖ u32 len ‖ value, built by hand', () => {
    const d = Buffer.from(SET_ENTRY_DOMAIN);
    const u64 = (n: number): Buffer => { const b = Buffer.alloc(8); b.writeBigUInt64BE(BigInt(n)); return b; };
    const len = Buffer.alloc(4);
    len.writeUInt32BE(3);
    const expected = Buffer.concat([Buffer.from([d.length]), d, topic, u64(2 ** 33 + 1), u64(NOW), len, Buffer.from([7, 8, 9])]);
    expect(hex(setEntrySigningPayload(topic, 2 ** 33 + 1, NOW, new Uint8Array([7, 8, 9])))).toBe(hex(expected));
  });

  it('the payload refuses a short key, a negative seq and a fractional expiresAt', () => {
    expect(() => setEntrySigningPayload(topic.subarray(1) as typeof topic, 0, NOW, new Uint8Array(0))).toThrow(RangeError);
    expect(() => setEntrySigningPayload(topic, -1, NOW, new Uint8Array(0))).toThrow(RangeError);
    expect(() => setEntrySigningPayload(topic, 0, NOW + 0.5, new Uint8Array(0))).toThrow(RangeError);
  });

  it('a signature verifies over its own set key only, and not after a change to seq, expiry or value', () => {
    const check = (e: SetEntry, key = topic): boolean => mldsaVerify(e.publicKey, setEntrySigningPayload(key, e.seq, e.expiresAt, e.value), e.signature);
    expect(check(aliceEntry)).toBe(true);
    expect(check(aliceEntry, setKey('providers/other'))).toBe(false);
    expect(check({ ...aliceEntry, seq: 4 })).toBe(false);
    expect(check({ ...aliceEntry, expiresAt: aliceEntry.expiresAt + 1 })).toBe(false);
    expect(check({ ...aliceEntry, value: utf8('alice@10.0.0.9:33442') })).toBe(false);
    expect(check({ ...aliceEntry, publicKey: bob.publicKey })).toBe(false);
  });

  it('entrySigner is BLAKE3(publicKey)', () => {
    expect(hex(entrySigner(aliceEntry))).toBe(hex(blake3(alice.publicKey)));
  });

  it('checkEntryShape names each problem', () => {
    expect(checkEntryShape(aliceEntry)).toBeNull();
    expect(checkEntryShape({ ...aliceEntry, value: new Uint8Array(MAX_SET_ENTRY_VALUE_BYTES) })).toBeNull();
    expect(checkEntryShape({ ...aliceEntry, value: new Uint8Array(MAX_SET_ENTRY_VALUE_BYTES + 1) })).toBe('VALUE_TOO_BIG');
    expect(checkEntryShape({ ...aliceEntry, publicKey: alice.publicKey.subarray(1) })).toBe('BAD_REQUEST');
    expect(checkEntryShape({ ...aliceEntry, signature: aliceEntry.signature.subarray(1) })).toBe('BAD_REQUEST');
    expect(checkEntryShape({ ...aliceEntry, seq: -1 })).toBe('BAD_REQUEST');
    expect(checkEntryShape({ ...aliceEntry, expiresAt: 2 ** 53 })).toBe('BAD_REQUEST');
  });
});

describe('set encoding', () => {
  it('encodeSet -> decodeSet gives the same entries (copies) in the same order', () => {
    const bytes = encodeSet([aliceEntry, bobEntry]);
    const decoded = decodeSet(bytes);
    expect(decoded?.map(plain)).toEqual([aliceEntry, bobEntry].map(plain));
    expect(decoded![0]!.value.buffer).not.toBe(bytes.buffer);
    expect(decodeSet(encodeSet([]))).toEqual([]);
  });

  it('a full set of maximal entries fits MAX_SET_BYTES and one value', () => {
    const full = Array.from({ length: MAX_SET_ENTRIES }, (_, i) => fake(i, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, new Uint8Array(MAX_SET_ENTRY_VALUE_BYTES)));
    const bytes = encodeSet(full);
    expect(bytes.byteLength).toBeLessThanOrEqual(MAX_SET_BYTES);
    expect(decodeSet(bytes)?.length).toBe(MAX_SET_ENTRIES);
  });

  it('encodeSet throws RangeError over MAX_SET_ENTRIES, on a malformed entry and on a repeated signer', () => {
    expect(() => encodeSet(Array.from({ length: MAX_SET_ENTRIES + 1 }, (_, i) => fake(i, 1)))).toThrow(RangeError);
    expect(() => encodeSet([{ ...fake(1, 1), value: new Uint8Array(MAX_SET_ENTRY_VALUE_BYTES + 1) }])).toThrow(RangeError);
    expect(() => encodeSet([fake(1, 1), fake(1, 2)])).toThrow(RangeError);
  });

  it('decodeSet returns null for each malformed encoding', () => {
    const pack = (v: unknown): Uint8Array => new Packr({ useRecords: false, moreTypes: false }).pack(v);
    const row = (e: SetEntry): unknown[] => [e.publicKey, e.seq, e.expiresAt, e.value, e.signature];
    const good = encodeSet([aliceEntry]);
    const cases: Array<[string, Uint8Array]> = [
      ['empty', new Uint8Array(0)],
      ['truncated', good.subarray(0, good.byteLength - 1)],
      ['trailing byte', Buffer.concat([good, new Uint8Array(1)])],
      ['version 2', pack([2, [row(aliceEntry)]])],
      ['duplicate signer', pack([1, [row(aliceEntry), row({ ...aliceEntry, seq: 4 })]])],
      ['too many entries', pack([1, Array.from({ length: MAX_SET_ENTRIES + 1 }, (_, i) => row(fake(i, 1)))])],
      ['value too big', pack([1, [row({ ...aliceEntry, value: new Uint8Array(MAX_SET_ENTRY_VALUE_BYTES + 1) })]])],
      ['short key', pack([1, [row({ ...aliceEntry, publicKey: alice.publicKey.subarray(1) })]])],
      ['short signature', pack([1, [row({ ...aliceEntry, signature: aliceEntry.signature.subarray(1) })]])],
      ['fractional expiry', pack([1, [row({ ...aliceEntry, expiresAt: 1.5 })]])],
      ['negative seq', pack([1, [row({ ...aliceEntry, seq: -2 })]])],
      ['entry with 6 fields', pack([1, [[...row(aliceEntry), 0]]])],
      ['entries not an array', pack([1, 'x'])],
      ['extra top-level field', pack([1, [], 0])],
      ['oversized input', new Uint8Array(MAX_SET_BYTES + 1).fill(0x92)],
    ];
    for (const [name, c] of cases) expect(decodeSet(c), name).toBeNull();
  });

  it('random bytes never throw, and decode only when they are a canonical encoding', () => {
    const headed = fc.uint8Array({ maxLength: 8000 }).map((b) => Buffer.concat([new Uint8Array([0x92, 0x01]), b]));
    fc.assert(fc.property(fc.oneof(fc.uint8Array({ maxLength: 2000 }), headed), (b) => {
      const decoded = decodeSet(b);
      // [1, []] (0x92 0x01 0x90) is a valid empty set: random bytes may hit it or a like case.
      if (decoded !== null) expect(Buffer.from(encodeSet(decoded)).equals(Buffer.from(b))).toBe(true);
    }), { numRuns: 500 });
    expect(decodeSet(Uint8Array.of(0x92, 0x01, 0x90))).toEqual([]);
  });

  it('a valid encoding with one byte changed never throws', () => {
    const bytes = encodeSet([aliceEntry, bobEntry]);
    fc.assert(fc.property(fc.nat({ max: bytes.byteLength - 1 }), fc.integer({ min: 1, max: 255 }), (at, xor) => {
      const m = bytes.slice();
      m[at] = m[at]! ^ xor;
      expect(() => decodeSet(m)).not.toThrow();
    }), { numRuns: 500 });
  });
});

describe('mergeSet', () => {
  it('adds a new signer', () => {
    const r = mergeSet([fake(1, 1)], [fake(2, 1)], NOW);
    expect(r).toMatchObject({ added: 1, replaced: 0, unchanged: 0, refusedFull: 0, refusedStale: 0, expired: 0, evicted: 0 });
    expect(r.entries).toHaveLength(2);
  });

  it('replaces a signer\'s entry with a higher seq, keeps it on an identical one, refuses lower or conflicting ones', () => {
    const stored = [fake(1, 5)];
    const higher = mergeSet(stored, [fake(1, 6)], NOW);
    expect(higher).toMatchObject({ replaced: 1, added: 0 });
    expect(higher.entries.map((e) => e.seq)).toEqual([6]);
    expect(mergeSet(stored, [fake(1, 5)], NOW)).toMatchObject({ unchanged: 1, refusedStale: 0 });
    const stale = mergeSet(stored, [fake(1, 4), fake(1, 5, NOW + 2 * HOUR), fake(1, 5, NOW + HOUR, utf8('other'))], NOW);
    expect(stale).toMatchObject({ refusedStale: 3, replaced: 0, unchanged: 0 });
    expect(plain(stale.entries[0]!)).toEqual(plain(stored[0]!));
  });

  it('drops expired stored and incoming entries (expiresAt <= now) and counts them', () => {
    const r = mergeSet([fake(1, 1, NOW), fake(2, 1, NOW + 1)], [fake(3, 1, NOW - 1), fake(4, 1, NOW + 1)], NOW);
    expect(r).toMatchObject({ expired: 2, added: 1 });
    expect(r.entries.map((e) => e.expiresAt)).toEqual([NOW + 1, NOW + 1]);
    // An expired stored entry frees its signer's slot: any seq is accepted afterwards.
    expect(mergeSet([fake(1, 9, NOW)], [fake(1, 1)], NOW)).toMatchObject({ expired: 1, added: 1 });
  });

  it('refuses new signers once cap entries are live, first come first kept, and never returns more than cap', () => {
    const stored = Array.from({ length: 5 }, (_, i) => fake(i, 1));
    const r = mergeSet(stored, [fake(100, 1), fake(1, 2), fake(101, 1)], NOW, 5);
    expect(r).toMatchObject({ refusedFull: 2, replaced: 1, added: 0 });
    expect(r.entries).toHaveLength(5);
    expect(new Set(signers(r.entries))).toEqual(new Set(signers(stored)));
    // A slot freed by expiry is taken by the next newcomer.
    const later = mergeSet([...stored.slice(1), fake(0, 1, NOW)], [fake(100, 1), fake(101, 1)], NOW, 5);
    expect(later).toMatchObject({ expired: 1, added: 1, refusedFull: 1 });
  });

  it('never exceeds cap, keeps one live entry per signer and counts every input once (property)', () => {
    const entry = fc.record({ n: fc.nat({ max: 30 }), seq: fc.nat({ max: 4 }), ttl: fc.integer({ min: -2, max: 3 }) })
      .map(({ n, seq, ttl }) => fake(n, seq, NOW + ttl * HOUR));
    fc.assert(fc.property(fc.array(entry, { maxLength: 25 }), fc.array(entry, { maxLength: 40 }), fc.integer({ min: 1, max: 20 }), (stored, incoming, cap) => {
      const r = mergeSet(stored, incoming, NOW, cap);
      expect(r.entries.length).toBeLessThanOrEqual(cap);
      expect(new Set(signers(r.entries)).size).toBe(r.entries.length);
      expect(r.entries.every((e) => e.expiresAt > NOW)).toBe(true);
      // Every input entry is counted exactly once: stored ones kept (entries - added), expired or
      // evicted; incoming ones added, replaced, unchanged, refused or expired.
      const incomingCounted = r.added + r.replaced + r.unchanged + r.refusedFull + r.refusedStale;
      expect(r.entries.length - r.added + r.evicted + r.expired + incomingCounted).toBe(stored.length + incoming.length);
    }), { numRuns: 200 });
  });

  it('sorts entries by signer id, so the same content merges to the same bytes in any order', () => {
    const a = [fake(7, 1), fake(3, 1), fake(9, 1)];
    const r1 = mergeSet([], a, NOW);
    const r2 = mergeSet([a[2]!], [a[1]!, a[0]!], NOW);
    const ids = r1.entries.map(entrySigner);
    for (let i = 1; i < ids.length; i++) expect(compareIds(ids[i - 1]!, ids[i]!)).toBeLessThan(0);
    expect(hex(encodeSet(r1.entries))).toBe(hex(encodeSet(r2.entries)));
  });

  it('keeps the higher seq of two stored entries of one signer and at most cap stored entries', () => {
    const r = mergeSet([fake(1, 1), fake(1, 3), fake(2, 1), fake(3, 1)], [], NOW, 2);
    expect(r.evicted).toBe(2);
    expect(r.entries).toHaveLength(2);
    expect(r.entries.find((e) => hex(entrySigner(e)) === hex(entrySigner(fake(1, 0))))?.seq).toBe(3);
  });

  it('throws RangeError on a cap that is not a positive integer or a now that is not finite', () => {
    expect(() => mergeSet([], [], NOW, 0)).toThrow(/cap/);
    expect(() => mergeSet([], [], NOW, 1.5)).toThrow(RangeError);
    expect(() => mergeSet([], [], Number.NaN)).toThrow(/now/);
  });
});

describe('liveEntries', () => {
  it('keeps entries with expiresAt > now, in order', () => {
    const es = [fake(1, 1, NOW + 1), fake(2, 1, NOW), fake(3, 1, NOW - 1), fake(4, 1, NOW + 5)];
    expect(liveEntries(es, NOW).map((e) => e.expiresAt)).toEqual([NOW + 1, NOW + 5]);
  });
});
