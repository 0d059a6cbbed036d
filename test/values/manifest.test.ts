/**
 * Manifests of chunked content: round trips at the size boundaries (0, 1, one chunk, one chunk
 * plus a byte, the largest chunk count), chunk ranges, and null (never a throw) for truncated,
 * inconsistent and random input.
 */
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { blake3 } from '../../src/crypto/index.js';
import type { Key } from '../../src/id/index.js';
import { MAX_VALUE_BYTES } from '../../src/util/index.js';
import {
  CHUNK_BYTES, chunkRange, decodeManifest, encodeManifest, isManifest, type Manifest, MANIFEST_MAGIC, MAX_MANIFEST_CHUNKS,
} from '../../src/values/index.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
/** A distinct stand-in key per chunk index (chunk keys are opaque to the manifest). */
const keyOf = (i: number): Key => { const k = new Uint8Array(32); new DataView(k.buffer).setUint32(0, i); k[31] = 0xaa; return k as Key; };
const manifest = (size: number, chunkSize = CHUNK_BYTES): Manifest => ({
  size, chunkSize, chunks: Array.from({ length: Math.ceil(size / chunkSize) }, (_, i) => keyOf(i)), digest: blake3(new Uint8Array([size & 0xff])),
});
const plain = (m: Manifest): unknown => ({ ...m, chunks: m.chunks.map(hex), digest: hex(m.digest) });
const withMagic = (v: unknown): Uint8Array =>
  Buffer.concat([MANIFEST_MAGIC, new Packr({ useRecords: false, moreTypes: false }).pack(v)]);

describe('manifest round trip', () => {
  it('MANIFEST_MAGIC is ASCII "ZHTPMAN1"', () => {
    expect(Buffer.from(MANIFEST_MAGIC).toString('latin1')).toBe('ZHTPMAN1');
  });

  for (const [name, size, chunks] of [
    ['0 bytes', 0, 0], ['1 byte', 1, 1], ['one full chunk', CHUNK_BYTES, 1], ['one chunk and a byte', CHUNK_BYTES + 1, 2],
    ['the largest chunk count', MAX_MANIFEST_CHUNKS * CHUNK_BYTES, MAX_MANIFEST_CHUNKS],
  ] as const) {
    it(`${name}: ${chunks} chunk(s), encodes within one value and decodes to the same manifest`, () => {
      const m = manifest(size);
      expect(m.chunks).toHaveLength(chunks);
      const bytes = encodeManifest(m);
      expect(bytes.byteLength).toBeLessThanOrEqual(MAX_VALUE_BYTES);
      expect(isManifest(bytes)).toBe(true);
      const d = decodeManifest(bytes);
      expect(d).not.toBeNull();
      expect(plain(d!)).toEqual(plain(m));
      if (chunks > 0) expect(d!.chunks[0]!.buffer).not.toBe(bytes.buffer);
    });
  }

  it('a smaller chunkSize round-trips', () => {
    const m = manifest(1000, 64);
    expect(m.chunks).toHaveLength(16);
    expect(plain(decodeManifest(encodeManifest(m))!)).toEqual(plain(m));
  });
});

describe('chunkRange', () => {
  it('gives offset and length, the last chunk short', () => {
    const m = manifest(2 * CHUNK_BYTES + 10);
    expect(chunkRange(m, 0)).toEqual({ offset: 0, length: CHUNK_BYTES });
    expect(chunkRange(m, 1)).toEqual({ offset: CHUNK_BYTES, length: CHUNK_BYTES });
    expect(chunkRange(m, 2)).toEqual({ offset: 2 * CHUNK_BYTES, length: 10 });
    expect(chunkRange(manifest(CHUNK_BYTES), 0)).toEqual({ offset: 0, length: CHUNK_BYTES });
  });

  it('throws RangeError outside [0, chunks.length)', () => {
    const m = manifest(CHUNK_BYTES + 1);
    for (const i of [-1, 2, 0.5, Number.NaN]) expect(() => chunkRange(m, i)).toThrow(RangeError);
    expect(() => chunkRange(manifest(0), 0)).toThrow(RangeError);
  });
});

describe('encodeManifest refuses inconsistent manifests', () => {
  it('throws RangeError for each inconsistency', () => {
    const m = manifest(CHUNK_BYTES + 1);
    const bad: Array<[string, Manifest]> = [
      ['a chunk missing', { ...m, chunks: m.chunks.slice(1) }],
      ['a chunk too many', { ...m, chunks: [...m.chunks, keyOf(9)] }],
      ['chunks for size 0', { ...manifest(0), chunks: [keyOf(0)] }],
      ['over MAX_MANIFEST_CHUNKS', manifest((MAX_MANIFEST_CHUNKS + 1) * 64, 64)],
      ['chunkSize 0', { ...m, chunkSize: 0 }],
      ['chunkSize over CHUNK_BYTES', { ...m, chunkSize: CHUNK_BYTES + 1 }],
      ['negative size', { ...m, size: -1 }],
      ['short digest', { ...m, digest: m.digest.subarray(1) }],
      ['short chunk key', { ...m, chunks: [m.chunks[0]!, m.chunks[1]!.subarray(1) as Key] }],
    ];
    for (const [name, b] of bad) expect(() => encodeManifest(b), name).toThrow(RangeError);
  });
});

describe('decodeManifest is total', () => {
  it('returns null for truncated, re-framed and inconsistent input', () => {
    const m = manifest(3 * CHUNK_BYTES);
    const bytes = encodeManifest(m);
    const keys = Buffer.concat(m.chunks);
    const cases: Array<[string, Uint8Array]> = [
      ['empty', new Uint8Array(0)],
      ['magic only', MANIFEST_MAGIC],
      ['truncated', bytes.subarray(0, bytes.byteLength - 1)],
      ['trailing byte', Buffer.concat([bytes, new Uint8Array(1)])],
      ['no magic', bytes.subarray(MANIFEST_MAGIC.byteLength)],
      ['other magic', Buffer.concat([Buffer.from('ZHTPMAN2'), bytes.subarray(8)])],
      ['version 2', withMagic([2, m.size, m.chunkSize, keys, m.digest])],
      ['one chunk too few', withMagic([1, m.size, m.chunkSize, keys.subarray(32), m.digest])],
      ['size says 4 chunks', withMagic([1, m.size + 1, m.chunkSize, keys, m.digest])],
      ['keys not a multiple of 32', withMagic([1, m.size, m.chunkSize, keys.subarray(1), m.digest])],
      ['chunkSize 0', withMagic([1, 0, 0, new Uint8Array(0), m.digest])],
      ['chunkSize over CHUNK_BYTES', withMagic([1, m.size, CHUNK_BYTES * 3, keys.subarray(64), m.digest])],
      ['fractional size', withMagic([1, 1.5, m.chunkSize, keys.subarray(64), m.digest])],
      ['short digest', withMagic([1, m.size, m.chunkSize, keys, m.digest.subarray(1)])],
      ['extra field', withMagic([1, m.size, m.chunkSize, keys, m.digest, 0])],
      ['chunk keys as an array', withMagic([1, m.size, m.chunkSize, m.chunks, m.digest])],
      ['over MAX_MANIFEST_CHUNKS', withMagic([1, MAX_MANIFEST_CHUNKS + 1, 1, new Uint8Array(32 * (MAX_MANIFEST_CHUNKS + 1)), m.digest])],
      ['over MAX_VALUE_BYTES', Buffer.concat([bytes, new Uint8Array(MAX_VALUE_BYTES)])],
    ];
    for (const [name, c] of cases) expect(decodeManifest(c), name).toBeNull();
  });

  it('random bytes, with or without the magic, never throw and are null', () => {
    const headed = fc.uint8Array({ maxLength: 4000 }).map((b) => Buffer.concat([MANIFEST_MAGIC, new Uint8Array([0x95]), b]));
    fc.assert(fc.property(fc.oneof(fc.uint8Array({ maxLength: 2000 }), headed), (b) => {
      expect(decodeManifest(b)).toBeNull();
    }), { numRuns: 500 });
  });

  it('a valid encoding with one byte changed never throws', () => {
    const bytes = encodeManifest(manifest(5 * CHUNK_BYTES + 3));
    fc.assert(fc.property(fc.nat({ max: bytes.byteLength - 1 }), fc.integer({ min: 1, max: 255 }), (at, xor) => {
      const m = bytes.slice();
      m[at] = m[at]! ^ xor;
      expect(() => decodeManifest(m)).not.toThrow();
    }), { numRuns: 500 });
  });
});

describe('isManifest', () => {
  it('is true exactly when the bytes start with the magic', () => {
    expect(isManifest(MANIFEST_MAGIC)).toBe(true);
    expect(isManifest(Buffer.concat([MANIFEST_MAGIC, new Uint8Array([1, 2])]))).toBe(true);
    expect(isManifest(MANIFEST_MAGIC.subarray(0, 7))).toBe(false);
    expect(isManifest(new TextEncoder().encode('ZHTPMAN0 plain content'))).toBe(false);
    expect(isManifest(new Uint8Array(0))).toBe(false);
  });
});
