/**
 * Multi-writer sets (provider records, tag indexes): one key holds up to MAX_SET_ENTRIES signed
 * entries, at most one per signer (NodeId = BLAKE3(ML-DSA-65 public key)). Each entry carries its
 * own seq and absolute expiry and is signed over the set key, so an entry cannot be replayed
 * into another set. Pure functions: signatures are checked in the worker pool before mergeSet.
 */
import { Packr, Unpackr } from 'msgpackr';
// primitives, not the crypto index: the worker imports this module and must not load the pool.
import { blake3, MLDSA65_PUBLIC_KEY_BYTES, MLDSA65_SIGNATURE_BYTES, mldsaSign } from '../crypto/primitives.js';
import { compareIds, isId, type Key, type NodeId } from '../id/index.js';
import { bytesEqual, toHex } from '../util/index.js';
import { MAX_SET_ENTRIES, MAX_SET_ENTRY_VALUE_BYTES, SET_ENTRY_DOMAIN, SET_KEY_DOMAIN } from './limits.js';

/** One signer's entry in a set. */
export interface SetEntry {
  publicKey: Uint8Array;
  /** Integer in [0, 2^53 - 1]; a higher one replaces the signer's previous entry. */
  seq: number;
  /** Absolute expiry, integer milliseconds since the Unix epoch; signed, so nobody can extend it. */
  expiresAt: number;
  value: Uint8Array;
  signature: Uint8Array;
}

const FORMAT_VERSION = 1;
const packr = new Packr({ useRecords: false, moreTypes: false, variableMapSize: true });
const unpackr = new Unpackr({ useRecords: false, moreTypes: false, mapsAsObjects: false });
const utf8 = new TextEncoder();
const ENTRY_DOMAIN_BYTES = utf8.encode(SET_ENTRY_DOMAIN);
const KEY_DOMAIN_BYTES = utf8.encode(SET_KEY_DOMAIN);
/** Encoded bytes per entry at most (key, signature, value, two float64 numbers, framing), plus slack. */
const MAX_ENTRY_BYTES = 1 + (3 + MLDSA65_PUBLIC_KEY_BYTES) + 9 + 9 + (3 + MAX_SET_ENTRY_VALUE_BYTES) + (3 + MLDSA65_SIGNATURE_BYTES);
/** Bytes of an encoded set at most; decodeSet rejects longer input unparsed. */
export const MAX_SET_BYTES = 1 + 1 + 3 + MAX_SET_ENTRIES * MAX_ENTRY_BYTES;

const isUint = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isBytes = (v: unknown): v is Uint8Array => v instanceof Uint8Array;

/** The key of the set named `topic` (bytes, or a string taken as UTF-8): BLAKE3(u8 len ‖ SET_KEY_DOMAIN ‖ topic). */
export function setKey(topic: Uint8Array | string): Key {
  const t = typeof topic === 'string' ? utf8.encode(topic) : topic;
  const input = new Uint8Array(1 + KEY_DOMAIN_BYTES.byteLength + t.byteLength);
  input[0] = KEY_DOMAIN_BYTES.byteLength;
  input.set(KEY_DOMAIN_BYTES, 1);
  input.set(t, 1 + KEY_DOMAIN_BYTES.byteLength);
  return blake3(input) as Key;
}

/** Who signed an entry: BLAKE3(publicKey), the provider's node id. */
export function entrySigner(e: SetEntry): NodeId {
  return blake3(e.publicKey) as NodeId;
}

/**
 * The exact bytes an entry's signature covers:
 * u8 len ‖ SET_ENTRY_DOMAIN ‖ key (32 B) ‖ u64be seq ‖ u64be expiresAt ‖ u32be len ‖ value.
 * Throws RangeError on a key that is not 32 bytes or a seq / expiresAt outside [0, 2^53 - 1].
 */
export function setEntrySigningPayload(key: Key, seq: number, expiresAt: number, value: Uint8Array): Uint8Array {
  if (!isId(key)) throw new RangeError('key must be 32 bytes');
  if (!isUint(seq)) throw new RangeError(`seq must be an integer in [0, 2^53 - 1], got ${seq}`);
  if (!isUint(expiresAt)) throw new RangeError(`expiresAt must be an integer in [0, 2^53 - 1], got ${expiresAt}`);
  const d = ENTRY_DOMAIN_BYTES.byteLength;
  const out = new Uint8Array(1 + d + key.byteLength + 8 + 8 + 4 + value.byteLength);
  const view = new DataView(out.buffer);
  out[0] = d;
  out.set(ENTRY_DOMAIN_BYTES, 1);
  out.set(key, 1 + d);
  const at = 1 + d + key.byteLength;
  view.setBigUint64(at, BigInt(seq));
  view.setBigUint64(at + 8, BigInt(expiresAt));
  view.setUint32(at + 16, value.byteLength);
  out.set(value, at + 20);
  return out;
}

/**
 * Signs an entry synchronously (~5-15 ms of CPU: tests and the pool worker only). Throws
 * RangeError when the fields break a limit.
 */
export function signSetEntry(secretKey: Uint8Array, publicKey: Uint8Array, key: Key, seq: number, expiresAt: number, value: Uint8Array): SetEntry {
  const unsigned = { publicKey, seq, expiresAt, value, signature: new Uint8Array(MLDSA65_SIGNATURE_BYTES) };
  const problem = checkEntryShape(unsigned);
  if (problem !== null) throw new RangeError(`cannot sign set entry: ${problem}`);
  return { ...unsigned, signature: mldsaSign(secretKey, setEntrySigningPayload(key, seq, expiresAt, value)) };
}

/**
 * Structural checks before the signature: a value over MAX_SET_ENTRY_VALUE_BYTES is
 * VALUE_TOO_BIG; wrong key or signature lengths, or seq / expiresAt not integers in
 * [0, 2^53 - 1], are BAD_REQUEST. Null when the entry may be verified.
 */
export function checkEntryShape(e: SetEntry): 'VALUE_TOO_BIG' | 'BAD_REQUEST' | null {
  if (e.value.byteLength > MAX_SET_ENTRY_VALUE_BYTES) return 'VALUE_TOO_BIG';
  if (e.publicKey.byteLength !== MLDSA65_PUBLIC_KEY_BYTES || e.signature.byteLength !== MLDSA65_SIGNATURE_BYTES) return 'BAD_REQUEST';
  if (!isUint(e.seq) || !isUint(e.expiresAt)) return 'BAD_REQUEST';
  return null;
}

/** True when two entries have the same signer (by public key, hence by signer id). */
const hasDuplicateSigner = (entries: readonly SetEntry[]): boolean =>
  new Set(entries.map((e) => toHex(e.publicKey))).size !== entries.length;

/**
 * Wire form: msgpack [1, [[publicKey, seq, expiresAt, value, signature], ...]]. Throws
 * RangeError over MAX_SET_ENTRIES entries, on a malformed entry or on two entries of one signer
 * (everything decodeSet would reject).
 */
export function encodeSet(entries: readonly SetEntry[]): Uint8Array {
  if (entries.length > MAX_SET_ENTRIES) throw new RangeError(`a set holds at most ${MAX_SET_ENTRIES} entries, got ${entries.length}`);
  entries.forEach((e, i) => {
    const problem = checkEntryShape(e);
    if (problem !== null) throw new RangeError(`set entry ${i} is malformed: ${problem}`);
  });
  if (hasDuplicateSigner(entries)) throw new RangeError('a set holds one entry per signer');
  return packr.pack([FORMAT_VERSION, entries.map((e) => [e.publicKey, e.seq, e.expiresAt, e.value, e.signature])]);
}

/**
 * Parses untrusted bytes: the entries (own copies of every byte field) in wire order, or null
 * for anything malformed, over MAX_SET_ENTRIES entries, an oversized value or two entries of one
 * signer. Signatures are not checked.
 */
export function decodeSet(bytes: Uint8Array): SetEntry[] | null {
  if (bytes.byteLength > MAX_SET_BYTES || bytes[0] !== 0x92) return null; // fixarray of 2
  let raw: unknown;
  try {
    raw = unpackr.unpack(bytes);
  } catch {
    return null; // malformed msgpack: the caller counts the drop
  }
  if (!Array.isArray(raw) || raw.length !== 2 || raw[0] !== FORMAT_VERSION) return null;
  const list: unknown = raw[1];
  if (!Array.isArray(list) || list.length > MAX_SET_ENTRIES) return null;
  const out: SetEntry[] = [];
  for (const item of list as unknown[]) {
    const e = parseEntry(item);
    if (e === null) return null;
    out.push(e);
  }
  return hasDuplicateSigner(out) ? null : out;
}

function parseEntry(item: unknown): SetEntry | null {
  if (!Array.isArray(item) || item.length !== 5) return null;
  const [publicKey, seq, expiresAt, value, signature] = item as unknown[];
  if (!isBytes(publicKey) || !isBytes(value) || !isBytes(signature) || !isUint(seq) || !isUint(expiresAt)) return null;
  const e = { publicKey, seq, expiresAt, value, signature };
  if (checkEntryShape(e) !== null) return null;
  return { publicKey: new Uint8Array(publicKey), seq, expiresAt, value: new Uint8Array(value), signature: new Uint8Array(signature) };
}

/** Outcome of mergeSet: the new entries and what happened to each input entry. */
export interface MergeResult {
  /** Live entries after the merge, one per signer, sorted by signer id; never more than `cap`. */
  entries: SetEntry[];
  /** Incoming entries of new signers that were admitted. */
  added: number;
  /** Incoming entries that replaced their signer's stored entry (higher seq). */
  replaced: number;
  /** Incoming entries identical in seq, expiresAt and value to the stored one. */
  unchanged: number;
  /** Incoming entries of new signers refused because the set already held `cap` entries. */
  refusedFull: number;
  /** Incoming entries with a lower seq, or the same seq and other content, than the stored one. */
  refusedStale: number;
  /** Stored and incoming entries dropped because expiresAt <= now. */
  expired: number;
  /**
   * Stored entries dropped although live: a second entry of one signer (the lower seq goes), or
   * entries beyond `cap` (only after cap was lowered; the first in stored order are kept).
   */
  evicted: number;
}

type Counters = Omit<MergeResult, 'entries'>;

/**
 * Merges verified incoming entries into a stored set at time `now` (ms since epoch).
 * Expired entries (expiresAt <= now) go first. Each signer keeps one entry: a higher seq
 * replaces it, the same seq with the same value and expiresAt is unchanged, anything else is
 * stale (to extend an entry a signer re-signs it with seq + 1). A new signer is admitted only
 * while fewer than `cap` entries are live; after that new signers are refused until entries
 * expire. First come, first kept: were newcomers to push out old entries, an attacker with many
 * keys could evict every honest provider at once, whereas now they can only take free slots, and
 * existing providers keep theirs until they stop republishing. Throws RangeError on a `cap` that
 * is not a positive integer or a `now` that is not finite.
 */
export function mergeSet(stored: readonly SetEntry[], incoming: readonly SetEntry[], now: number, cap: number = MAX_SET_ENTRIES): MergeResult {
  if (!Number.isSafeInteger(cap) || cap < 1) throw new RangeError(`cap must be a positive integer, got ${cap}`);
  if (!Number.isFinite(now)) throw new RangeError(`now must be a finite number of ms, got ${now}`);
  const c: Counters = { added: 0, replaced: 0, unchanged: 0, refusedFull: 0, refusedStale: 0, expired: 0, evicted: 0 };
  const bySigner = new Map<string, { id: NodeId; entry: SetEntry }>();
  for (const e of stored) {
    if (e.expiresAt <= now) c.expired++;
    else admitStored(bySigner, e, cap, c);
  }
  for (const e of incoming) {
    if (e.expiresAt <= now) c.expired++;
    else admitIncoming(bySigner, e, cap, c);
  }
  const entries = [...bySigner.values()].sort((a, b) => compareIds(a.id, b.id)).map((s) => s.entry);
  return { entries, ...c };
}

function admitStored(bySigner: Map<string, { id: NodeId; entry: SetEntry }>, e: SetEntry, cap: number, c: Counters): void {
  const id = entrySigner(e);
  const hex = toHex(id);
  const held = bySigner.get(hex);
  if (held !== undefined) {
    if (e.seq > held.entry.seq) held.entry = e;
    c.evicted++;
  } else if (bySigner.size < cap) {
    bySigner.set(hex, { id, entry: e });
  } else {
    c.evicted++;
  }
}

function admitIncoming(bySigner: Map<string, { id: NodeId; entry: SetEntry }>, e: SetEntry, cap: number, c: Counters): void {
  const id = entrySigner(e);
  const hex = toHex(id);
  const held = bySigner.get(hex);
  if (held === undefined) {
    if (bySigner.size < cap) {
      bySigner.set(hex, { id, entry: e });
      c.added++;
    } else c.refusedFull++;
  } else if (e.seq > held.entry.seq) {
    held.entry = e;
    c.replaced++;
  } else if (e.seq === held.entry.seq && e.expiresAt === held.entry.expiresAt && bytesEqual(e.value, held.entry.value)) {
    c.unchanged++;
  } else c.refusedStale++;
}

/** The entries still live at `now` (expiresAt > now), in their order. */
export function liveEntries(entries: readonly SetEntry[], now: number): SetEntry[] {
  return entries.filter((e) => e.expiresAt > now);
}
