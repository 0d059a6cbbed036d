/**
 * Key derivation with BLAKE3 (blake3-wasm, the same function the workers run): a content key is
 * the plain 32-byte BLAKE3 digest of the content, so any reader can verify what it fetched.
 */
import { hash as blake3 } from 'blake3-wasm';
import type { Key } from './id.js';

/** BLAKE3-256 of `data`. */
export function blake3Hash(data: Uint8Array): Uint8Array {
  const out = blake3(data) as Buffer;
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/** The content address of `content`: BLAKE3(content). */
export function keyFromContent(content: Uint8Array): Key {
  return blake3Hash(content) as Key;
}
