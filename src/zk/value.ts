/**
 * ZkDhtValue (issue 9, docs/zk.md): a value whose writer proves with the storage_access circuit
 * that it knows the secret behind the access commitment, for this key, this nonce and exactly these
 * stored bytes. The key is derived from the commitment, so the commitment of a key never changes.
 * Pure functions: the encoding, a strict decoder that names the first fault in the order a storage
 * node checks them, the key derivation and the public signals a node builds itself.
 */
import { Packr, Unpackr } from 'msgpackr';
// primitives, not the crypto index: zk workers import this module and must not load the pool.
import { blake3, type KemStanza, MLKEM768_CIPHERTEXT_BYTES, WRAPPED_KEY_BYTES } from '../crypto/primitives.js';
import type { Key } from '../id/index.js';
import { bytesEqual, KiB } from '../util/index.js';
import { fieldFromBytes32, fieldToBytes, isFieldElement, keyField, NONCE_LIMIT, valueField } from './field.js';
import { PROOF_BYTES } from './proof.js';

/** Who can read a value: everyone, the owner, or the owner and the readers its data key is wrapped to. */
export type ZkAccessLevel = 'public' | 'private' | 'restricted';
/** Access levels in wire order: the number on the wire is the index. */
export const ZK_ACCESS_LEVELS: readonly ZkAccessLevel[] = ['public', 'private', 'restricted'];

/** Bytes of a value's name at most (the `salt` of BEP 44): one commitment names many keys. */
export const MAX_ZK_NAME_BYTES = 64;
/** Bytes of `encryptedData` at most; SHA-256 of it on the coordinator costs at most ~50 µs. */
export const MAX_ZK_DATA_BYTES = 64 * KiB;
/** Readers a restricted value's data key is wrapped to at most (32 × 1,136 B of stanzas). */
export const MAX_ZK_READERS = 32;
/** Bytes an AEAD envelope adds to the plaintext: a 12-byte nonce in front, a 16-byte tag behind. */
export const ZK_ENVELOPE_OVERHEAD = 12 + 16;
/** Domain tag of the key derivation (hashed with its length first). */
export const ZK_KEY_DOMAIN = 'zhtp-dht/v1/zk-key';

/** A ZkDhtValue as stored and sent. */
export interface ZkDhtValue {
  readonly accessLevel: ZkAccessLevel;
  /** Up to 64 bytes; the key is zkKey(commitment, name). */
  readonly name: Uint8Array;
  /** The access commitment Poseidon(secret, salt), a field element. */
  readonly commitment: bigint;
  /** Replay guard: a holder stores a value only above the nonce it holds. In [0, 2^64). */
  readonly nonce: bigint;
  /** The 256-byte storage_access proof (src/zk/proof.ts). */
  readonly validityProof: Uint8Array;
  /** Restricted only: the data key wrapped to each reader's ML-KEM-768 key (none otherwise). */
  readonly wrappedKeys: readonly KemStanza[];
  /** Public: the plaintext. Private and restricted: AEAD nonce ‖ ciphertext ‖ tag (src/zk/seal.ts). */
  readonly encryptedData: Uint8Array;
}

/** Why bytes are not an acceptable ZkDhtValue: the wire refusal code a storage node answers. */
export type ZkProblem = 'BAD_REQUEST' | 'VALUE_TOO_BIG' | 'INVALID_PROOF' | 'NONCE_OUT_OF_RANGE';

const FORMAT_VERSION = 1;
const FIELDS = 8;
const STANZA_FRAMING = 1 + 3 + 2; // fixarray, bin16 header, bin8 header
/** Bytes of an encoded value at most; longer input is refused unparsed. */
export const MAX_ZK_VALUE_BYTES = 1 + 1 + 1 + (2 + MAX_ZK_NAME_BYTES) + (2 + 32) + 9 + (3 + PROOF_BYTES)
  + (3 + MAX_ZK_READERS * (STANZA_FRAMING + MLKEM768_CIPHERTEXT_BYTES + WRAPPED_KEY_BYTES)) + (5 + MAX_ZK_DATA_BYTES);

const packr = new Packr({ useRecords: false, moreTypes: false, variableMapSize: true });
// 64-bit integers come back as bigint, so a nonce above 2^53 keeps every bit.
const unpackr = new Unpackr({ useRecords: false, moreTypes: false, mapsAsObjects: false, int64AsType: 'bigint' });
const utf8 = new TextEncoder();
const KEY_DOMAIN_BYTES = utf8.encode(ZK_KEY_DOMAIN);
const isBytes = (v: unknown): v is Uint8Array => v instanceof Uint8Array;

/** The DHT key of a value: BLAKE3(u8 len ‖ ZK_KEY_DOMAIN ‖ commitment (32 B) ‖ name). */
export function zkKey(commitment: bigint, name: Uint8Array): Key {
  if (name.byteLength > MAX_ZK_NAME_BYTES) throw new RangeError(`name must be at most ${MAX_ZK_NAME_BYTES} bytes`);
  const c = fieldToBytes(commitment);
  const input = new Uint8Array(1 + KEY_DOMAIN_BYTES.byteLength + c.byteLength + name.byteLength);
  input[0] = KEY_DOMAIN_BYTES.byteLength;
  input.set(KEY_DOMAIN_BYTES, 1);
  input.set(c, 1 + KEY_DOMAIN_BYTES.byteLength);
  input.set(name, 1 + KEY_DOMAIN_BYTES.byteLength + c.byteLength);
  return blake3(input) as Key;
}

/**
 * The bytes the proof's valueHash covers: u8 access level ‖ u8 reader count ‖ (ML-KEM ciphertext ‖
 * wrapped key) per reader ‖ encryptedData. Stanzas have a fixed size, so the layout is unambiguous,
 * and nobody can swap the readers or the access level under a captured proof.
 */
export function sealedBytes(v: Pick<ZkDhtValue, 'accessLevel' | 'wrappedKeys' | 'encryptedData'>): Uint8Array {
  const stanza = MLKEM768_CIPHERTEXT_BYTES + WRAPPED_KEY_BYTES;
  const out = new Uint8Array(2 + v.wrappedKeys.length * stanza + v.encryptedData.byteLength);
  out[0] = ZK_ACCESS_LEVELS.indexOf(v.accessLevel);
  out[1] = v.wrappedKeys.length;
  v.wrappedKeys.forEach((s, i) => {
    out.set(s.kemCiphertext, 2 + i * stanza);
    out.set(s.wrappedKey, 2 + i * stanza + MLKEM768_CIPHERTEXT_BYTES);
  });
  out.set(v.encryptedData, 2 + v.wrappedKeys.length * stanza);
  return out;
}

/**
 * The storage_access public signals of a value stored under `key`, as a storage node builds them:
 * [commitment, keyField(key), nonce, valueField(sealedBytes)]. The key is the STORE's, never a field
 * of the value; the commitment is the one the key is derived from (checked before).
 */
export function zkPublicSignals(key: Key, v: ZkDhtValue): bigint[] {
  return [v.commitment, keyField(key), v.nonce, valueField(sealedBytes(v))];
}

/** The first fault of a decoded-looking value, in the storage node's order; null when there is none. */
function limitProblem(v: ZkDhtValue): ZkProblem | null {
  if (v.name.byteLength > MAX_ZK_NAME_BYTES || v.encryptedData.byteLength > MAX_ZK_DATA_BYTES || v.wrappedKeys.length > MAX_ZK_READERS) {
    return 'VALUE_TOO_BIG';
  }
  if (v.validityProof.byteLength !== PROOF_BYTES) return 'INVALID_PROOF';
  if (typeof v.nonce !== 'bigint' || v.nonce < 0n || v.nonce >= NONCE_LIMIT) return 'NONCE_OUT_OF_RANGE';
  if (!isFieldElement(v.commitment) || !ZK_ACCESS_LEVELS.includes(v.accessLevel)) return 'BAD_REQUEST';
  for (const s of v.wrappedKeys) {
    if (s.kemCiphertext.byteLength !== MLKEM768_CIPHERTEXT_BYTES || s.wrappedKey.byteLength !== WRAPPED_KEY_BYTES) return 'BAD_REQUEST';
  }
  // Restricted values carry readers and the others none; only public data may be shorter than an envelope.
  if ((v.accessLevel === 'restricted') !== (v.wrappedKeys.length > 0)) return 'BAD_REQUEST';
  if (v.accessLevel !== 'public' && v.encryptedData.byteLength < ZK_ENVELOPE_OVERHEAD) return 'BAD_REQUEST';
  return null;
}

/** Wire form: msgpack [1, access, name, commitment (32 B), nonce (u64), proof, [[kem ct, wrapped], ...], data]. RangeError when a field breaks a limit. */
export function encodeZkValue(v: ZkDhtValue): Uint8Array {
  const problem = limitProblem(v);
  if (problem !== null) throw new RangeError(`cannot encode ZkDhtValue: ${problem}`);
  return packr.pack([
    FORMAT_VERSION, ZK_ACCESS_LEVELS.indexOf(v.accessLevel), v.name, fieldToBytes(v.commitment), v.nonce, v.validityProof,
    v.wrappedKeys.map((s) => [s.kemCiphertext, s.wrappedKey]), v.encryptedData,
  ]);
}

/** The outcome of parsing untrusted bytes. */
export type ZkParse = { readonly value: ZkDhtValue } | { readonly problem: ZkProblem };

/**
 * Parses untrusted bytes into a value with its own copies of every byte field, or the first
 * fault, in this order: over MAX_ZK_VALUE_BYTES (VALUE_TOO_BIG, unparsed); malformed framing or
 * field types (BAD_REQUEST); a field over its cap (VALUE_TOO_BIG); a proof other than 256 bytes
 * (INVALID_PROOF); a nonce outside [0, 2^64) (NONCE_OUT_OF_RANGE); stanzas or an access level that
 * do not fit together (BAD_REQUEST). Never throws. Checks neither the key nor the proof.
 */
export function parseZkValue(bytes: Uint8Array): ZkParse {
  if (bytes.byteLength > MAX_ZK_VALUE_BYTES) return { problem: 'VALUE_TOO_BIG' };
  if (bytes[0] !== 0x90 + FIELDS) return { problem: 'BAD_REQUEST' }; // fixarray of 8
  let raw: unknown;
  try {
    raw = unpackr.unpack(bytes);
  } catch {
    return { problem: 'BAD_REQUEST' }; // malformed msgpack: the caller counts the refusal
  }
  if (!Array.isArray(raw) || raw.length !== FIELDS) return { problem: 'BAD_REQUEST' };
  const [version, access, name, commitment, nonce, proof, stanzas, data] = raw as unknown[];
  const accessLevel = typeof access === 'number' ? ZK_ACCESS_LEVELS[access] : undefined;
  const c = isBytes(commitment) ? fieldFromBytes32(commitment) : null;
  if (version !== FORMAT_VERSION || accessLevel === undefined || c === null || !isBytes(name)) return { problem: 'BAD_REQUEST' };
  if (!isBytes(proof) || !isBytes(data) || !Array.isArray(stanzas)) return { problem: 'BAD_REQUEST' };
  const wrappedKeys = parseStanzas(stanzas as unknown[]);
  if (wrappedKeys === null || (typeof nonce !== 'number' && typeof nonce !== 'bigint')) return { problem: 'BAD_REQUEST' };
  const value: ZkDhtValue = {
    accessLevel,
    name: new Uint8Array(name),
    commitment: c,
    // A float, a fraction or a negative number is no u64: -1n makes limitProblem say NONCE_OUT_OF_RANGE.
    nonce: typeof nonce === 'bigint' ? nonce : Number.isSafeInteger(nonce) ? BigInt(nonce) : -1n,
    validityProof: new Uint8Array(proof),
    wrappedKeys,
    encryptedData: new Uint8Array(data),
  };
  const problem = limitProblem(value);
  return problem === null ? { value } : { problem };
}

/** Stanzas as [kem ciphertext, wrapped key] pairs of bytes (their lengths are limitProblem's), or null. */
function parseStanzas(raw: unknown[]): KemStanza[] | null {
  // Over the cap is VALUE_TOO_BIG, decided by limitProblem; do not copy more than a cap's worth + 1.
  const out: KemStanza[] = [];
  for (const entry of raw.slice(0, MAX_ZK_READERS + 1)) {
    if (!Array.isArray(entry) || entry.length !== 2 || !isBytes(entry[0]) || !isBytes(entry[1])) return null;
    out.push({ kemCiphertext: new Uint8Array(entry[0]), wrappedKey: new Uint8Array(entry[1]) });
  }
  return out;
}

/** A value from untrusted bytes, or null for anything parseZkValue refuses. */
export function decodeZkValue(bytes: Uint8Array): ZkDhtValue | null {
  const parsed = parseZkValue(bytes);
  return 'value' in parsed ? parsed.value : null;
}

/** COMMITMENT_MISMATCH unless `key` is zkKey(value.commitment, value.name); null when it is. */
export function checkZkKey(v: ZkDhtValue, key: Key): 'COMMITMENT_MISMATCH' | null {
  return bytesEqual(zkKey(v.commitment, v.name), key) ? null : 'COMMITMENT_MISMATCH';
}
