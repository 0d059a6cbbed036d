/**
 * Wrapping a 32-byte key to ML-KEM-768 public keys (FIPS 203), one stanza per recipient: encapsulate
 * to the recipient, derive a one-time wrap key with BLAKE3 derive-key from the shared secret, the
 * KEM ciphertext and the caller's associated data, and seal the key with ChaCha20-Poly1305 (zero
 * nonce: the wrap key is used once). Stanzas name no recipient, so a value does not reveal who its
 * readers are; a reader tries each stanza, and ML-KEM's implicit rejection makes a foreign stanza
 * fail the AEAD rather than throw. About 0.7 ms per stanza either way: callers run it in the pool.
 */
import { ml_kem768 } from '@noble/post-quantum/ml-kem.js';
import { AEAD_KEY_BYTES, AEAD_NONCE_BYTES, AEAD_TAG_BYTES, aeadOpen, aeadSeal } from './aead.js';
import { deriveKey } from './blake3.js';
import { MLKEM768_CIPHERTEXT_BYTES } from './handshake.js';
import { MLKEM768_PUBLIC_KEY_BYTES, MLKEM768_SECRET_KEY_BYTES } from './mldsa.js';

/** BLAKE3 derive-key context of a wrap key. */
export const KEM_WRAP_CONTEXT = 'zhtp-dht v1 kem key wrap';
/** Bytes of a wrapped 32-byte key: the key sealed, plus its tag. */
export const WRAPPED_KEY_BYTES = AEAD_KEY_BYTES + AEAD_TAG_BYTES;
/** Bytes of the encapsulation seed, per recipient. */
export const KEM_SEED_BYTES = 32;

/** One recipient's copy of a wrapped key. */
export interface KemStanza {
  /** ML-KEM-768 ciphertext to the recipient's public key (1,088 B). */
  readonly kemCiphertext: Uint8Array;
  /** The key sealed under the derived wrap key (48 B). */
  readonly wrappedKey: Uint8Array;
}

const ZERO_NONCE = new Uint8Array(AEAD_NONCE_BYTES);

function wrapKey(sharedSecret: Uint8Array, kemCiphertext: Uint8Array, ad: Uint8Array): Uint8Array {
  const material = new Uint8Array(sharedSecret.byteLength + kemCiphertext.byteLength + ad.byteLength);
  material.set(sharedSecret, 0);
  material.set(kemCiphertext, sharedSecret.byteLength);
  material.set(ad, sharedSecret.byteLength + kemCiphertext.byteLength);
  return deriveKey(KEM_WRAP_CONTEXT, material);
}

/**
 * Wraps `key` (32 bytes) to every public key in order. `seeds` (32 bytes each, one per recipient)
 * make the encapsulations reproducible from an injected random source; omitted, noble draws them.
 * Throws RangeError for a public key of the wrong length and noble's error for one that fails
 * FIPS 203's modulus check.
 */
export function kemWrap(publicKeys: readonly Uint8Array[], key: Uint8Array, ad: Uint8Array, seeds?: readonly Uint8Array[]): KemStanza[] {
  if (key.byteLength !== AEAD_KEY_BYTES) throw new RangeError(`the wrapped key must be ${AEAD_KEY_BYTES} bytes`);
  if (seeds !== undefined && seeds.length !== publicKeys.length) throw new RangeError('seeds must hold one seed per public key');
  return publicKeys.map((pk, i) => {
    if (!(pk instanceof Uint8Array) || pk.byteLength !== MLKEM768_PUBLIC_KEY_BYTES) {
      throw new RangeError(`public key ${i} must be ${MLKEM768_PUBLIC_KEY_BYTES} bytes of ML-KEM-768`);
    }
    const seed = seeds?.[i];
    if (seed !== undefined && seed.byteLength !== KEM_SEED_BYTES) throw new RangeError(`seed ${i} must be ${KEM_SEED_BYTES} bytes`);
    const { cipherText, sharedSecret } = ml_kem768.encapsulate(pk, seed);
    return { kemCiphertext: cipherText, wrappedKey: aeadSeal(wrapKey(sharedSecret, cipherText, ad), ZERO_NONCE, key, ad) };
  });
}

/**
 * The key wrapped to `secretKey`'s public key among `stanzas`, or null when none is for it (or the
 * associated data differs). Malformed stanzas are skipped, never thrown.
 */
export function kemUnwrap(stanzas: readonly KemStanza[], secretKey: Uint8Array, ad: Uint8Array): Uint8Array | null {
  if (!(secretKey instanceof Uint8Array) || secretKey.byteLength !== MLKEM768_SECRET_KEY_BYTES) {
    throw new RangeError(`secretKey must be ${MLKEM768_SECRET_KEY_BYTES} bytes of ML-KEM-768`);
  }
  for (const s of stanzas) {
    if (s.kemCiphertext.byteLength !== MLKEM768_CIPHERTEXT_BYTES || s.wrappedKey.byteLength !== WRAPPED_KEY_BYTES) continue;
    const sharedSecret = ml_kem768.decapsulate(s.kemCiphertext, secretKey);
    const key = aeadOpen(wrapKey(sharedSecret, s.kemCiphertext, ad), ZERO_NONCE, s.wrappedKey, ad);
    if (key !== null) return key;
  }
  return null;
}
