/**
 * Shared fixtures of the crypto tests: hex helpers, the golden-vector loader, deterministic key
 * pairs (seeded, so no test depends on a random source) and a pool registry that closes every
 * CryptoPool a test opened, passed or failed.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CryptoPool, type CryptoPoolInit, type KemKeys, mldsaKeygen, mlkemKeygen, type SigningKeys } from '../../src/crypto/index.js';

/** Lower-case hex of `bytes`. */
export const toHex = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');

/** Bytes of a hex string (throws on odd length or non-hex, so a bad vector file fails loudly). */
export function fromHex(hex: string): Uint8Array {
  if (!/^(?:[0-9a-f]{2})*$/i.test(hex)) throw new Error(`not hex: ${hex.slice(0, 16)}...`);
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

/** The official BLAKE3 test input: `length` bytes, byte i = i % 251. */
export const pattern251 = (length: number): Uint8Array => Uint8Array.from({ length }, (_, i) => i % 251);

/** Parses `test/vectors/<name>` as `T` (shape checks are the caller's). */
export function loadVector<T>(name: string): T {
  return JSON.parse(readFileSync(join(import.meta.dirname, '../vectors', name), 'utf8')) as T;
}

/** ML-DSA-65 keys from a one-byte-pattern seed: the same pair for the same `n`, every run. */
export const dsaKeys = (n: number): SigningKeys => mldsaKeygen(new Uint8Array(32).fill(n));

/** ML-KEM-768 keys from a one-byte-pattern seed. */
export const kemKeys = (n: number): KemKeys => mlkemKeygen(new Uint8Array(64).fill(n));

/**
 * Opens pools and closes all of them in `closeAll()` (call it from afterEach), so a failed
 * assertion never leaves worker threads running into the next test.
 */
export class PoolRegistry {
  readonly #pools: CryptoPool[] = [];

  open(init: CryptoPoolInit = { threads: 2 }): CryptoPool {
    const pool = new CryptoPool(init);
    this.#pools.push(pool);
    return pool;
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.#pools.splice(0).map((p) => p.close()));
  }
}
