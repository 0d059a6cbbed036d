/**
 * ChaCha20-Poly1305 (RFC 8439) through node:crypto, one shot with associated data: the AEAD of
 * ZkDhtValue payloads and of the data keys wrapped to their readers. Sessions keep their own
 * packet AEAD (src/transport/secure). Opening never throws on hostile bytes: it returns null.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';

/** Bytes of an AEAD key. */
export const AEAD_KEY_BYTES = 32;
/** Bytes of an AEAD nonce. */
export const AEAD_NONCE_BYTES = 12;
/** Bytes of the Poly1305 tag appended to every ciphertext. */
export const AEAD_TAG_BYTES = 16;

function checkKeyAndNonce(key: Uint8Array, nonce: Uint8Array): void {
  if (!(key instanceof Uint8Array) || key.byteLength !== AEAD_KEY_BYTES) throw new RangeError(`key must be ${AEAD_KEY_BYTES} bytes`);
  if (!(nonce instanceof Uint8Array) || nonce.byteLength !== AEAD_NONCE_BYTES) throw new RangeError(`nonce must be ${AEAD_NONCE_BYTES} bytes`);
}

/** `plaintext` sealed under (`key`, `nonce`) with `ad` authenticated: ciphertext ‖ tag. A nonce must never repeat under one key. */
export function aeadSeal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, ad: Uint8Array): Uint8Array {
  checkKeyAndNonce(key, nonce);
  const cipher = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: AEAD_TAG_BYTES });
  cipher.setAAD(ad, { plaintextLength: plaintext.byteLength });
  const head = cipher.update(plaintext);
  const tail = cipher.final();
  const out = new Uint8Array(head.byteLength + tail.byteLength + AEAD_TAG_BYTES);
  out.set(head, 0);
  out.set(tail, head.byteLength);
  out.set(cipher.getAuthTag(), head.byteLength + tail.byteLength);
  return out;
}

/** The plaintext of `sealed` (ciphertext ‖ tag), or null when the tag does not verify under this key, nonce and `ad`. */
export function aeadOpen(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, ad: Uint8Array): Uint8Array | null {
  checkKeyAndNonce(key, nonce);
  if (!(sealed instanceof Uint8Array) || sealed.byteLength < AEAD_TAG_BYTES) return null;
  const body = sealed.subarray(0, sealed.byteLength - AEAD_TAG_BYTES);
  const decipher = createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: AEAD_TAG_BYTES });
  decipher.setAAD(ad, { plaintextLength: body.byteLength });
  decipher.setAuthTag(sealed.subarray(body.byteLength));
  try {
    const head = decipher.update(body);
    const tail = decipher.final(); // throws when the tag does not verify
    return new Uint8Array(Buffer.concat([head, tail]));
  } catch {
    return null; // a forged or foreign ciphertext: the caller decides what that means
  }
}
