/**
 * Commitments on the JavaScript side, with Poseidon over BN254 from poseidon-lite: the same
 * permutation and constants as circomlib's Poseidon(1) and Poseidon(2) templates, so a commitment
 * computed here is the one the circuits recompute (the round-trip tests prove it).
 */
import { poseidon1 } from 'poseidon-lite/poseidon1';
import { poseidon2 } from 'poseidon-lite/poseidon2';
import type { Random } from '../util/index.js';
import { FIELD_DIGEST_BITS, isFieldElement } from './field.js';

function field(x: bigint, name: string): bigint {
  if (!isFieldElement(x)) throw new RangeError(`${name} must be a field element in [0, r)`);
  return x;
}

/** Poseidon(a, b) of two field elements (circomlib `Poseidon(2)`). */
export function poseidonPair(a: bigint, b: bigint): bigint {
  return poseidon2([field(a, 'a'), field(b, 'b')]);
}

/** The storage_access commitment: Poseidon(secret, salt). */
export function accessCommitment(secret: bigint, salt: bigint): bigint {
  return poseidon2([field(secret, 'secret'), field(salt, 'salt')]);
}

/** The data_integrity commitment: Poseidon(valueHash, salt), valueHash = valueField(ciphertext). */
export function dataCommitment(valueHash: bigint, salt: bigint): bigint {
  return poseidon2([field(valueHash, 'valueHash'), field(salt, 'salt')]);
}

/** The range commitment: Poseidon(value, salt). */
export function rangeCommitment(value: bigint, salt: bigint): bigint {
  return poseidon2([field(value, 'value'), field(salt, 'salt')]);
}

/** An identity commitment, the leaf of the identity tree: Poseidon(identitySecret). */
export function identityCommitment(identitySecret: bigint): bigint {
  return poseidon1([field(identitySecret, 'identitySecret')]);
}

/** A uniformly random 253-bit field element (secrets and salts), from an injected random source. */
export function randomFieldElement(random: Random): bigint {
  const bytes = random.bytes(32);
  return BigInt(`0x${Buffer.from(bytes).toString('hex')}`) >> BigInt(256 - FIELD_DIGEST_BITS);
}
