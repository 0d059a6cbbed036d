/**
 * Mapping DHT bytes to BN254 scalar-field elements, the inputs of the circuits. Bytes are hashed,
 * never reduced: `SHA-256(len(domain) ‖ domain ‖ bytes) >> 3` is a 253-bit number, always below r.
 * `key mod r` would let key k and key k + r share a proof; hash-then-shift gives every input a
 * distinct field element up to a 2^-126 collision chance, and the domain keeps the uses apart.
 */
import { createHash } from 'node:crypto';

/** Order r of the BN254 scalar field: every public and private signal lies in [0, r). */
export const FIELD_MODULUS = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;
/** Prime q of the BN254 base field: every coordinate of a proof point lies in [0, q). */
export const BASE_MODULUS = 21888242871839275222246405745257275088696311157297823662689037894645226208583n;
/** Bits kept of a 256-bit digest: 2^253 < r, so a shifted digest is always a field element. */
export const FIELD_DIGEST_BITS = 253;
/** Exclusive bound of a nonce (the circuits treat it as a 64-bit counter). */
export const NONCE_LIMIT = 1n << 64n;

/** Domain tags of the mappings; each is hashed with its length first. */
export const FIELD_DOMAINS = {
  key: 'zhtp/v1/zk/key',
  value: 'zhtp/v1/zk/value',
  secret: 'zhtp/v1/zk/secret',
} as const;

/** True when `x` is a bigint in [0, r). */
export function isFieldElement(x: unknown): x is bigint {
  return typeof x === 'bigint' && x >= 0n && x < FIELD_MODULUS;
}

/**
 * The field element of `bytes` under `domain`: SHA-256 of the domain's length (one byte), the
 * domain and the bytes, as a big-endian integer shifted right by 3 bits.
 */
export function fieldFromBytes(domain: string, bytes: Uint8Array): bigint {
  const tag = Buffer.from(domain, 'utf8');
  if (tag.byteLength === 0 || tag.byteLength > 255) throw new RangeError('domain must be 1..255 bytes of UTF-8');
  if (!(bytes instanceof Uint8Array)) throw new TypeError('bytes must be a Uint8Array');
  const digest = createHash('sha256').update(Uint8Array.of(tag.byteLength)).update(tag).update(bytes).digest();
  return BigInt(`0x${digest.toString('hex')}`) >> BigInt(256 - FIELD_DIGEST_BITS);
}

/** The public `keyField` of a DHT key (any length; DHT keys are 32 bytes). */
export function keyField(key: Uint8Array): bigint {
  return fieldFromBytes(FIELD_DOMAINS.key, key);
}

/** The public `valueHash` of a stored value (the ciphertext, exactly as stored). */
export function valueField(value: Uint8Array): bigint {
  return fieldFromBytes(FIELD_DOMAINS.value, value);
}

/**
 * A private field element (secret, salt, identity secret) from at least 32 bytes of key material,
 * for callers that keep bytes rather than field elements.
 */
export function secretField(material: Uint8Array): bigint {
  if (!(material instanceof Uint8Array) || material.byteLength < 32) throw new RangeError('secret material must be at least 32 bytes');
  return fieldFromBytes(FIELD_DOMAINS.secret, material);
}

/** The `nonce` signal: a bigint in [0, 2^64). Nonces are compared as integers, never mod r. */
export function nonceField(nonce: bigint | number): bigint {
  const n = typeof nonce === 'number' && Number.isSafeInteger(nonce) ? BigInt(nonce) : nonce;
  if (typeof n !== 'bigint' || n < 0n || n >= NONCE_LIMIT) throw new RangeError('nonce must be an integer in [0, 2^64)');
  return n;
}

/** The 32-byte big-endian encoding of a field element (for storing commitments and roots). */
export function fieldToBytes(x: bigint): Uint8Array {
  if (!isFieldElement(x)) throw new RangeError('value must be a field element in [0, r)');
  return new Uint8Array(Buffer.from(x.toString(16).padStart(64, '0'), 'hex'));
}

/** The field element of 32 big-endian bytes, or null when they are not exactly 32 or not below r. */
export function fieldFromBytes32(bytes: Uint8Array): bigint | null {
  if (!(bytes instanceof Uint8Array) || bytes.byteLength !== 32) return null;
  const x = BigInt(`0x${Buffer.from(bytes.buffer, bytes.byteOffset, 32).toString('hex')}`);
  return x < FIELD_MODULUS ? x : null;
}
