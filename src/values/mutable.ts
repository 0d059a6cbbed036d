/**
 * Mutable records: BEP 44 semantics (key = hash of public key and salt, monotonic seq, optional
 * compare-and-swap) with ML-DSA-65 signatures over a domain-tagged, length-prefixed payload.
 * Structure checks and the signing payload are pure and cheap; the signature check itself runs
 * in the worker pool (mldsaVerify over mutableSigningPayload), so the two are kept apart.
 */
import { Packr, Unpackr } from 'msgpackr';
// primitives, not the crypto index: the worker imports this module and must not load the pool.
import { blake3, MLDSA65_PUBLIC_KEY_BYTES, MLDSA65_SIGNATURE_BYTES, mldsaSign } from '../crypto/primitives.js';
import type { Key } from '../id/index.js';
import { bytesEqual } from '../util/index.js';
import { MAX_MUTABLE_VALUE_BYTES, MAX_SALT_BYTES, MUTABLE_DOMAIN } from './limits.js';

/** A signed mutable record as stored and sent: everything needed to check it against its key. */
export interface MutableRecord {
  publicKey: Uint8Array;
  salt: Uint8Array;
  /** Sequence number, an integer in [0, 2^53 - 1]; a higher one replaces a lower one. */
  seq: number;
  value: Uint8Array;
  signature: Uint8Array;
}

/** Version tag, the first element of the encoded array. */
const FORMAT_VERSION = 1;

/**
 * Bytes of an encoded record at most: msgpack framing (fixarray, bin headers, a float64 seq)
 * around the largest key, salt, value and signature. Decoders reject anything longer unparsed.
 */
export const MAX_MUTABLE_RECORD_BYTES =
  1 + 1 + (3 + MLDSA65_PUBLIC_KEY_BYTES) + (2 + MAX_SALT_BYTES) + 9 + (5 + MAX_MUTABLE_VALUE_BYTES) + (3 + MLDSA65_SIGNATURE_BYTES);

const packr = new Packr({ useRecords: false, moreTypes: false, variableMapSize: true });
// Binary strings must come back as plain bytes; records and extensions are not part of the schema.
const unpackr = new Unpackr({ useRecords: false, moreTypes: false, mapsAsObjects: false });
const DOMAIN_BYTES = new TextEncoder().encode(MUTABLE_DOMAIN);

const isSeq = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isBytes = (v: unknown): v is Uint8Array => v instanceof Uint8Array;

/** The DHT key of a mutable record: BLAKE3(publicKey ‖ salt). The key length is fixed, so no prefix is needed. */
export function mutableKey(publicKey: Uint8Array, salt: Uint8Array): Key {
  const input = new Uint8Array(publicKey.byteLength + salt.byteLength);
  input.set(publicKey, 0);
  input.set(salt, publicKey.byteLength);
  return blake3(input) as Key;
}

/**
 * The exact bytes a record's signature covers:
 * u8 len ‖ MUTABLE_DOMAIN ‖ u32be len ‖ salt ‖ u64be seq ‖ u32be len ‖ value.
 * The public key is not in it: the key (BLAKE3(publicKey ‖ salt)) and the verification bind it.
 * Throws RangeError when `seq` is not an integer in [0, 2^53 - 1].
 */
export function mutableSigningPayload(salt: Uint8Array, seq: number, value: Uint8Array): Uint8Array {
  if (!isSeq(seq)) throw new RangeError(`seq must be an integer in [0, 2^53 - 1], got ${seq}`);
  const out = new Uint8Array(1 + DOMAIN_BYTES.byteLength + 4 + salt.byteLength + 8 + 4 + value.byteLength);
  const view = new DataView(out.buffer);
  let at = 0;
  out[at++] = DOMAIN_BYTES.byteLength;
  out.set(DOMAIN_BYTES, at);
  at += DOMAIN_BYTES.byteLength;
  view.setUint32(at, salt.byteLength);
  out.set(salt, at + 4);
  at += 4 + salt.byteLength;
  view.setBigUint64(at, BigInt(seq));
  view.setUint32(at + 8, value.byteLength);
  out.set(value, at + 12);
  return out;
}

/**
 * Signs a record synchronously (~5-15 ms of CPU: for tests and for the pool worker, never the
 * coordinator's request path). Throws RangeError when the fields break a limit.
 */
export function signMutable(secretKey: Uint8Array, publicKey: Uint8Array, salt: Uint8Array, seq: number, value: Uint8Array): MutableRecord {
  const unsigned = { publicKey, salt, seq, value, signature: new Uint8Array(MLDSA65_SIGNATURE_BYTES) };
  const problem = limitProblem(unsigned);
  if (problem !== null) throw new RangeError(`cannot sign mutable record: ${problem}`);
  return { ...unsigned, signature: mldsaSign(secretKey, mutableSigningPayload(salt, seq, value)) };
}

/** What is wrong with the record's fields apart from its key, as a message; null when nothing. */
function limitProblem(r: MutableRecord): string | null {
  if (r.salt.byteLength > MAX_SALT_BYTES) return `salt is ${r.salt.byteLength} bytes, over MAX_SALT_BYTES`;
  if (r.value.byteLength > MAX_MUTABLE_VALUE_BYTES) return `value is ${r.value.byteLength} bytes, over MAX_MUTABLE_VALUE_BYTES`;
  if (r.publicKey.byteLength !== MLDSA65_PUBLIC_KEY_BYTES) return `publicKey must be ${MLDSA65_PUBLIC_KEY_BYTES} bytes`;
  if (r.signature.byteLength !== MLDSA65_SIGNATURE_BYTES) return `signature must be ${MLDSA65_SIGNATURE_BYTES} bytes`;
  if (!isSeq(r.seq)) return `seq must be an integer in [0, 2^53 - 1], got ${r.seq}`;
  return null;
}

/** Wire form: msgpack [1, publicKey, salt, seq, value, signature]. Throws RangeError when a field breaks a limit. */
export function encodeMutable(r: MutableRecord): Uint8Array {
  const problem = limitProblem(r);
  if (problem !== null) throw new RangeError(`cannot encode mutable record: ${problem}`);
  return packr.pack([FORMAT_VERSION, r.publicKey, r.salt, r.seq, r.value, r.signature]);
}

/**
 * Parses untrusted bytes: a record (with its own copies of every byte field), or null for
 * anything malformed. Checks lengths and ranges, not the key and not the signature.
 */
export function decodeMutable(bytes: Uint8Array): MutableRecord | null {
  if (bytes.byteLength > MAX_MUTABLE_RECORD_BYTES || bytes[0] !== 0x96) return null; // fixarray of 6
  let raw: unknown;
  try {
    raw = unpackr.unpack(bytes);
  } catch {
    return null; // malformed msgpack: the caller counts the drop
  }
  if (!Array.isArray(raw) || raw.length !== 6) return null;
  const [version, publicKey, salt, seq, value, signature] = raw as unknown[];
  if (version !== FORMAT_VERSION || !isSeq(seq)) return null;
  if (!isBytes(publicKey) || !isBytes(salt) || !isBytes(value) || !isBytes(signature)) return null;
  const r = { publicKey, salt, seq, value, signature };
  if (limitProblem(r) !== null) return null;
  return {
    publicKey: new Uint8Array(publicKey), salt: new Uint8Array(salt), seq,
    value: new Uint8Array(value), signature: new Uint8Array(signature),
  };
}

/**
 * Why bytes that decodeMutable refused are not a record, when the only fault is an over-limit
 * salt (SALT_TOO_BIG) or value (VALUE_TOO_BIG) in an otherwise well-framed record: a storage node
 * answers BEP 44's 207 / 205 for those, not a bare BAD_REQUEST. Null for anything else.
 * Untrusted input: never throws; the caller bounds its length (a STORE value, at most 256 KiB).
 */
export function oversizedMutableField(bytes: Uint8Array): 'SALT_TOO_BIG' | 'VALUE_TOO_BIG' | null {
  if (bytes[0] !== 0x96) return null; // fixarray of 6
  let raw: unknown;
  try {
    raw = unpackr.unpack(bytes);
  } catch {
    return null; // malformed msgpack: the caller refuses and counts it as BAD_REQUEST
  }
  if (!Array.isArray(raw) || raw.length !== 6 || raw[0] !== FORMAT_VERSION) return null;
  const [, , salt, , value] = raw as unknown[];
  if (isBytes(salt) && salt.byteLength > MAX_SALT_BYTES) return 'SALT_TOO_BIG';
  if (isBytes(value) && value.byteLength > MAX_MUTABLE_VALUE_BYTES) return 'VALUE_TOO_BIG';
  return null;
}

/** Why a record cannot be stored under a key before its signature is even checked. */
export type MutableProblem = 'SALT_TOO_BIG' | 'VALUE_TOO_BIG' | 'INVALID_CONTENT' | 'BAD_REQUEST';

/**
 * Structural checks, before the (pooled) signature check: salt size (SALT_TOO_BIG), value size
 * (VALUE_TOO_BIG), key and signature lengths and seq range (BAD_REQUEST), then whether `key` is
 * BLAKE3(publicKey ‖ salt) (INVALID_CONTENT). The key is derived only from a well-formed public
 * key, so a malformed key is BAD_REQUEST whatever the key. Null when the record may be verified.
 */
export function checkMutableShape(r: MutableRecord, key: Key): MutableProblem | null {
  if (r.salt.byteLength > MAX_SALT_BYTES) return 'SALT_TOO_BIG';
  if (r.value.byteLength > MAX_MUTABLE_VALUE_BYTES) return 'VALUE_TOO_BIG';
  if (limitProblem(r) !== null) return 'BAD_REQUEST';
  if (!bytesEqual(key, mutableKey(r.publicKey, r.salt))) return 'INVALID_CONTENT';
  return null;
}

/** What to do with a verified incoming record given the stored one (BEP 44). */
export type MutableDecision =
  /** The incoming record replaces the stored one (or nothing is stored). */
  | { action: 'store' }
  /** Same seq and identical value: accept and refresh the stored record's TTL. */
  | { action: 'refresh' }
  /** Refused: CAS_MISMATCH is BEP 44's 301, SEQ_TOO_LOW its 302; SEQ_REUSED (same seq, other value) is ours. */
  | { action: 'refuse'; code: 'SEQ_TOO_LOW' | 'SEQ_REUSED' | 'CAS_MISMATCH' };

/**
 * BEP 44 store rule, in its order: a `cas` that is not the stored seq is CAS_MISMATCH (a `cas`
 * on a missing key is ignored); then a lower seq is SEQ_TOO_LOW; an equal seq refreshes when the
 * value bytes are identical and is SEQ_REUSED otherwise; a higher seq is stored. Both records
 * are assumed to be for the same key and already verified.
 */
export function decideMutable(stored: MutableRecord | null, incoming: MutableRecord, cas: number | null): MutableDecision {
  if (stored === null) return { action: 'store' };
  if (cas !== null && stored.seq !== cas) return { action: 'refuse', code: 'CAS_MISMATCH' };
  if (incoming.seq < stored.seq) return { action: 'refuse', code: 'SEQ_TOO_LOW' };
  if (incoming.seq === stored.seq) {
    return bytesEqual(incoming.value, stored.value) ? { action: 'refresh' } : { action: 'refuse', code: 'SEQ_REUSED' };
  }
  return { action: 'store' };
}

/**
 * Orders two records of one key by which is better: positive when `a` is, negative when `b` is.
 * Higher seq wins; at equal seq, 0 when the values are identical, else the lexicographically
 * greater value wins, so every node picks the same record from conflicting answers. Sorting with
 * it is ascending: the best record comes last.
 */
export function compareMutable(a: MutableRecord, b: MutableRecord): number {
  if (a.seq !== b.seq) return a.seq > b.seq ? 1 : -1;
  return Buffer.compare(a.value, b.value);
}
