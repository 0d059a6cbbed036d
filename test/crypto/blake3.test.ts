/**
 * BLAKE3 wrappers against the official BLAKE3 test vectors (test/vectors/blake3.json, all 35
 * cases of the reference repository), and the streaming hasher against the one-shot functions.
 */
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BLAKE3_BYTES, blake3, createHasher, deriveKey, keyedBlake3 } from '../../src/crypto/index.js';
import { loadVector, pattern251, toHex } from './fixtures.js';

interface Blake3Case { input_len: number; hash: string; keyed_hash: string; derive_key: string }
interface Blake3File { key: string; context_string: string; cases: Blake3Case[] }

const file = loadVector<Blake3File>('blake3.json');
const key = new TextEncoder().encode(file.key);
const context = file.context_string;

/** Streams `data` into `hasher` in `chunk`-byte pieces (the last one shorter). */
function streamed(data: Uint8Array, chunk: number, hasherKey?: Uint8Array): string {
  const h = createHasher(hasherKey);
  for (let at = 0; at < data.byteLength; at += chunk) h.update(data.subarray(at, at + chunk));
  return toHex(h.digest());
}

describe('BLAKE3 official test vectors', () => {
  it('the vector file holds the published values for the empty input', () => {
    // Published in the BLAKE3 repository; a changed file must not pass silently.
    const empty = file.cases.find((c) => c.input_len === 0);
    expect(empty).toEqual({
      input_len: 0,
      hash: 'af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262',
      keyed_hash: '92b2b75604ed3c761f9d6f62392c8a9227ad0ea3f09573e783f1498a4ed60d26',
      derive_key: '2cc39783c223154fea8dfb7c1b1660f2ac2dcbd1c1de8277b0b0dd39b7e50d7d',
    });
    expect(key.byteLength).toBe(BLAKE3_BYTES);
  });

  it('blake3, keyedBlake3 and deriveKey match every case, and the loader ran them all', () => {
    let ran = 0;
    for (const c of file.cases) {
      const input = pattern251(c.input_len);
      expect(toHex(blake3(input)), `hash, ${c.input_len} bytes`).toBe(c.hash);
      expect(toHex(keyedBlake3(key, input)), `keyed_hash, ${c.input_len} bytes`).toBe(c.keyed_hash);
      expect(toHex(deriveKey(context, input)), `derive_key, ${c.input_len} bytes`).toBe(c.derive_key);
      ran++;
    }
    expect(ran).toBeGreaterThan(0);
    expect(ran).toBe(file.cases.length);
    // The lengths the brief names must be among them (chunk and tree boundaries).
    expect(file.cases.map((c) => c.input_len)).toEqual(expect.arrayContaining([0, 1, 1023, 1024, 1025, 102400]));
  });

  it('streaming in chunks of 1, 63, 64, 1024 and 4096 bytes equals the vector, plain and keyed', () => {
    let ran = 0;
    for (const c of file.cases) {
      const input = pattern251(c.input_len);
      for (const chunk of [1, 63, 64, 1024, 4096]) {
        if (chunk === 1 && c.input_len > 8192) continue; // byte-by-byte over 100 KiB adds time, not coverage
        expect(streamed(input, chunk), `hash, ${c.input_len} bytes in ${chunk}s`).toBe(c.hash);
        expect(streamed(input, chunk, key), `keyed, ${c.input_len} bytes in ${chunk}s`).toBe(c.keyed_hash);
        ran++;
      }
    }
    expect(ran).toBeGreaterThan(file.cases.length * 4);
  });
});

describe('streaming hasher', () => {
  it('any split of the input gives the one-shot digest (plain and keyed)', () => {
    const arb = fc.record({
      data: fc.uint8Array({ maxLength: 5000 }),
      cuts: fc.array(fc.nat({ max: 5000 }), { maxLength: 12 }),
      key: fc.uint8Array({ minLength: 32, maxLength: 32 }),
    });
    fc.assert(fc.property(arb, ({ data, cuts, key: k }) => {
      const points = [...new Set(cuts.map((c) => c % (data.byteLength + 1)))].sort((a, b) => a - b);
      const plain = createHasher();
      const keyed = createHasher(k);
      let from = 0;
      for (const to of [...points, data.byteLength]) {
        plain.update(data.subarray(from, to));
        keyed.update(data.subarray(from, to));
        from = to;
      }
      expect(toHex(plain.digest())).toBe(toHex(blake3(data)));
      expect(toHex(keyed.digest())).toBe(toHex(keyedBlake3(k, data)));
    }), { numRuns: 200 });
  });

  it('update() after digest() throws, and update() chains', () => {
    const h = createHasher();
    expect(h.update(new Uint8Array([1])).update(new Uint8Array([2]))).toBe(h);
    expect(toHex(h.digest())).toBe(toHex(blake3(new Uint8Array([1, 2]))));
    expect(() => h.update(new Uint8Array([3]))).toThrow('hasher already digested');
    expect(() => h.digest()).toThrow(); // the wasm hasher is freed after the first digest
  });

  // BUG (src/crypto/blake3.ts, createHasher): keyedBlake3 checks the key length, createHasher
  // does not, so a 16-byte key reaches the wasm module and traps ("RuntimeError: unreachable")
  // instead of a RangeError naming the key. Remove `.fails` when fixed.
  it('createHasher rejects a key that is not 32 bytes with a RangeError, like keyedBlake3', () => {
    expect(() => keyedBlake3(new Uint8Array(16), new Uint8Array(1))).toThrow(RangeError);
    expect(() => createHasher(new Uint8Array(16))).toThrow(RangeError);
  });
});

describe('keyed hash and derive-key inputs', () => {
  it('keyedBlake3 rejects keys of 31 and 33 bytes with a RangeError naming the size', () => {
    for (const n of [0, 31, 33]) expect(() => keyedBlake3(new Uint8Array(n), new Uint8Array(1))).toThrow('key must be 32 bytes');
  });

  it('views into a larger buffer hash as their own bytes (key, data and streaming key)', () => {
    const big = Uint8Array.from({ length: 200 }, (_, i) => (i * 7) & 0xff);
    const keyView = big.subarray(40, 72);
    const dataView = big.subarray(3, 150);
    expect(toHex(blake3(dataView))).toBe(toHex(blake3(dataView.slice())));
    expect(toHex(keyedBlake3(keyView, dataView))).toBe(toHex(keyedBlake3(keyView.slice(), dataView.slice())));
    expect(toHex(createHasher(keyView).update(dataView).digest())).toBe(toHex(keyedBlake3(keyView.slice(), dataView.slice())));
  });

  it('deriveKey separates contexts and materials, and digests are 32 bytes', () => {
    const m = new Uint8Array([1, 2, 3]);
    const a = deriveKey('zhtp/v1/test a', m);
    expect(a.byteLength).toBe(BLAKE3_BYTES);
    expect(toHex(deriveKey('zhtp/v1/test b', m))).not.toBe(toHex(a));
    expect(toHex(deriveKey('zhtp/v1/test a', new Uint8Array([1, 2, 4])))).not.toBe(toHex(a));
    expect(toHex(deriveKey('zhtp/v1/test a', m))).toBe(toHex(a));
  });
});

describe('WASM memory', () => {
  // blake3-wasm's one-shot keyedHash()/deriveKey() leak their hasher (≈ 1.9 KB per call); the
  // wrappers must not: a node computes keyed hashes for every token and audit it answers.
  it('20,000 keyed hashes, derived keys and abandoned streams leave the WASM memory as it was', () => {
    const require = createRequire(import.meta.url);
    const { __wasm } = require('blake3-wasm/dist/wasm/nodejs/blake3_js.js') as { __wasm: { memory: { buffer: ArrayBuffer } } };
    const key = new Uint8Array(32).fill(7);
    const data = new Uint8Array(48).fill(1);
    const round = (n: number): void => {
      for (let i = 0; i < n; i++) {
        keyedBlake3(key, data);
        deriveKey('zhtp/v1/test leak', data);
        createHasher(key).update(data).dispose();
      }
    };
    round(1000); // the allocator settles
    const before = __wasm.memory.buffer.byteLength;
    round(20_000);
    expect(__wasm.memory.buffer.byteLength).toBe(before);
  });
});
