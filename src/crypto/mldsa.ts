/**
 * ML-DSA-65 (FIPS 204) and ML-KEM-768 (FIPS 203) from @noble/post-quantum, wrapped with the
 * sizes this project relies on. These functions are CPU-heavy (verify ~2 ms, sign ~5-15 ms):
 * the coordinator calls them only through the worker pool; the workers call them directly.
 */
import { ml_dsa65 } from '@noble/post-quantum/ml-dsa.js';
import { ml_kem768 } from '@noble/post-quantum/ml-kem.js';

export const MLDSA65_PUBLIC_KEY_BYTES = 1952;
export const MLDSA65_SECRET_KEY_BYTES = 4032;
export const MLDSA65_SIGNATURE_BYTES = 3309;
export const MLKEM768_PUBLIC_KEY_BYTES = 1184;
export const MLKEM768_SECRET_KEY_BYTES = 2400;

/** An ML-DSA-65 key pair. */
export interface SigningKeys { publicKey: Uint8Array; secretKey: Uint8Array }
/** An ML-KEM-768 key pair. */
export interface KemKeys { publicKey: Uint8Array; secretKey: Uint8Array }

/** A new ML-DSA-65 key pair; deterministic when a 32-byte `seed` is given (test vectors). */
export function mldsaKeygen(seed?: Uint8Array): SigningKeys {
  const k = ml_dsa65.keygen(seed);
  return { publicKey: k.publicKey, secretKey: k.secretKey };
}

/** A new ML-KEM-768 key pair; deterministic when a 64-byte `seed` is given. */
export function mlkemKeygen(seed?: Uint8Array): KemKeys {
  const k = ml_kem768.keygen(seed);
  return { publicKey: k.publicKey, secretKey: k.secretKey };
}

/** Signs `message` (already domain-tagged by the caller). */
export function mldsaSign(secretKey: Uint8Array, message: Uint8Array): Uint8Array {
  return ml_dsa65.sign(message, secretKey);
}

/** Verifies; any malformed input is `false`, never a throw. */
export function mldsaVerify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.byteLength !== MLDSA65_PUBLIC_KEY_BYTES || signature.byteLength !== MLDSA65_SIGNATURE_BYTES) return false;
  try {
    return ml_dsa65.verify(signature, message, publicKey);
  } catch {
    return false; // a malformed key or signature is simply not valid
  }
}
