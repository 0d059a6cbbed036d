/**
 * The owner's secrets and the encryption of ZkDhtValue payloads (docs/zk.md). The owner holds
 * (secret, salt), two field elements whose Poseidon hash is the access commitment. Each version of
 * a value (key, nonce) gets its own 32-byte data key, derived from the owner's secrets with BLAKE3
 * derive-key, so the owner can always re-derive it and a reader given one version's key learns no
 * other's. Payloads are sealed with ChaCha20-Poly1305 under a random 12-byte nonce, with associated
 * data binding the DHT key, the value's nonce and its access level.
 */
import { AEAD_KEY_BYTES, AEAD_NONCE_BYTES, aeadOpen, aeadSeal, deriveKey } from '../crypto/primitives.js';
import type { Key } from '../id/index.js';
import { concatBytes, type Random } from '../util/index.js';
import { accessCommitment, randomFieldElement } from './commitments.js';
import { fieldFromBytes32, fieldToBytes, NONCE_LIMIT, secretField } from './field.js';
import { ZK_ACCESS_LEVELS, type ZkAccessLevel } from './value.js';

/** The secrets behind an access commitment: both field elements. Whoever holds them can write the owner's keys. */
export interface ZkOwner {
  readonly secret: bigint;
  readonly salt: bigint;
}

/** BLAKE3 derive-key contexts (fixed, unique strings). */
export const ZK_DATA_KEY_CONTEXT = 'zhtp-dht v1 zk data key';
export const ZK_OWNER_SECRET_CONTEXT = 'zhtp-dht v1 zk owner secret';
export const ZK_OWNER_SALT_CONTEXT = 'zhtp-dht v1 zk owner salt';
/** Domain tags of the associated data of payloads and of wrapped keys. */
export const ZK_DATA_DOMAIN = 'zhtp-dht/v1/zk-data';
export const ZK_WRAP_DOMAIN = 'zhtp-dht/v1/zk-wrap';

const utf8 = new TextEncoder();

/** A new owner from the random source. */
export function randomZkOwner(random: Random): ZkOwner {
  return { secret: randomFieldElement(random), salt: randomFieldElement(random) };
}

/** The owner derived from at least 32 bytes of key material (a node derives its own from its ML-DSA secret key). */
export function zkOwnerFromSeed(seed: Uint8Array): ZkOwner {
  if (!(seed instanceof Uint8Array) || seed.byteLength < 32) throw new RangeError('seed must be at least 32 bytes');
  return { secret: secretField(deriveKey(ZK_OWNER_SECRET_CONTEXT, seed)), salt: secretField(deriveKey(ZK_OWNER_SALT_CONTEXT, seed)) };
}

/** The owner's access commitment, Poseidon(secret, salt). */
export function ownerCommitment(owner: ZkOwner): bigint {
  return accessCommitment(owner.secret, owner.salt);
}

/** Text form of an owner (for a key file): 128 hex digits, secret then salt, 32 bytes each. */
export function encodeZkOwner(owner: ZkOwner): string {
  return `${Buffer.from(fieldToBytes(owner.secret)).toString('hex')}${Buffer.from(fieldToBytes(owner.salt)).toString('hex')}`;
}

/** The owner in `text` (surrounding white space ignored), or null unless it is 128 hex digits of two field elements. */
export function decodeZkOwner(text: string): ZkOwner | null {
  const hex = text.trim();
  if (!/^[0-9a-fA-F]{128}$/.test(hex)) return null;
  const bytes = new Uint8Array(Buffer.from(hex, 'hex'));
  const secret = fieldFromBytes32(bytes.subarray(0, 32));
  const salt = fieldFromBytes32(bytes.subarray(32));
  return secret === null || salt === null ? null : { secret, salt };
}

function u64(n: bigint): Uint8Array {
  if (n < 0n || n >= NONCE_LIMIT) throw new RangeError('nonce must be an integer in [0, 2^64)');
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, n);
  return out;
}


/** The data key of version (`key`, `nonce`): derive-key over secret ‖ salt ‖ key ‖ u64be nonce. */
export function zkDataKey(owner: ZkOwner, key: Key, nonce: bigint): Uint8Array {
  return deriveKey(ZK_DATA_KEY_CONTEXT, concatBytes([fieldToBytes(owner.secret), fieldToBytes(owner.salt), key, u64(nonce)]));
}

/** u8 len ‖ domain ‖ key ‖ u64be nonce, plus the access level for payloads. */
function associatedData(domain: string, key: Key, nonce: bigint, access?: ZkAccessLevel): Uint8Array {
  const tag = utf8.encode(domain);
  const parts = [Uint8Array.of(tag.byteLength), tag, key, u64(nonce)];
  if (access !== undefined) parts.push(Uint8Array.of(ZK_ACCESS_LEVELS.indexOf(access)));
  return concatBytes(parts);
}

/** Associated data of a wrapped data key: binds the stanza to one key and nonce. */
export function zkWrapAd(key: Key, nonce: bigint): Uint8Array {
  return associatedData(ZK_WRAP_DOMAIN, key, nonce);
}

/** The envelope of `plaintext`: AEAD nonce (12 B) ‖ ChaCha20-Poly1305 ciphertext ‖ tag (16 B). `aeadNonce` must be fresh random bytes. */
export function sealZkData(dataKey: Uint8Array, aeadNonce: Uint8Array, plaintext: Uint8Array, key: Key, nonce: bigint, access: ZkAccessLevel): Uint8Array {
  if (dataKey.byteLength !== AEAD_KEY_BYTES) throw new RangeError(`dataKey must be ${AEAD_KEY_BYTES} bytes`);
  return concatBytes([aeadNonce, aeadSeal(dataKey, aeadNonce, plaintext, associatedData(ZK_DATA_DOMAIN, key, nonce, access))]);
}

/** The plaintext of an envelope, or null when `dataKey` does not open it for this key, nonce and access level. */
export function openZkData(dataKey: Uint8Array, envelope: Uint8Array, key: Key, nonce: bigint, access: ZkAccessLevel): Uint8Array | null {
  if (dataKey.byteLength !== AEAD_KEY_BYTES || envelope.byteLength < AEAD_NONCE_BYTES) return null;
  const aeadNonce = envelope.subarray(0, AEAD_NONCE_BYTES);
  return aeadOpen(dataKey, aeadNonce, envelope.subarray(AEAD_NONCE_BYTES), associatedData(ZK_DATA_DOMAIN, key, nonce, access));
}
