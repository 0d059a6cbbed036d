/**
 * Byte layouts of the store's tables. Meta records are a fixed binary layout (no msgpack shared
 * structures to keep in sync); expiry-index keys sort by (expiresAt, key) under LMDB's
 * lexicographic byte order, so a sweep reads only the expired prefix of the index.
 */
import { ID_BYTES, type Key } from '../id/index.js';
import { DHT_REPLICATION_FACTOR } from '../util/index.js';
import { isValueKind, ValueKind } from '../wire/index.js';
import type { RecordMeta } from './types.js';

/** Version 1 had no kind and replicas: it reads as immutable content at the default factor. */
const META_V1 = 1;
const META_VERSION = 2;
/** version u8 ‖ storedAt f64 ‖ expiresAt f64 ‖ size u32 ‖ kind u8 ‖ replicas u8 ‖ origin UTF-8 (rest). */
const META_V1_HEADER = 1 + 8 + 8 + 4;
const META_HEADER = META_V1_HEADER + 2;
const TIME_BYTES = 8;
/** Length of an expiry-index key: time ‖ record key. */
export const EXPIRY_KEY_BYTES = TIME_BYTES + ID_BYTES;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * A correct view of what `getBinaryFast` returned. lmdb-js hands back its process-wide reusable
 * buffer with an own `length` set to the value's size while `byteLength` stays the buffer's
 * full size (MiBs): anything that trusts `byteLength` (TypedArray#set, encoders) would read
 * garbage. This view has both right and still copies nothing.
 */
export function fastView(raw: Uint8Array): Uint8Array {
  return new Uint8Array(raw.buffer, raw.byteOffset, raw.length);
}

/** The bytes of a meta record. */
export function encodeMeta(meta: RecordMeta): Buffer {
  const origin = encoder.encode(meta.origin);
  const out = Buffer.allocUnsafe(META_HEADER + origin.byteLength);
  out[0] = META_VERSION;
  out.writeDoubleBE(meta.storedAt, 1);
  out.writeDoubleBE(meta.expiresAt, 9);
  out.writeUInt32BE(meta.size, 17);
  out[21] = meta.kind;
  out[22] = meta.replicas;
  out.set(origin, META_HEADER);
  return out;
}

/** A meta record, or null when the bytes are not one (shorter, other version, bad UTF-8). */
export function decodeMeta(bytes: Uint8Array): RecordMeta | null {
  const version = bytes[0];
  const header = version === META_VERSION ? META_HEADER : version === META_V1 ? META_V1_HEADER : -1;
  if (header < 0 || bytes.byteLength < header) return null;
  const kind = version === META_VERSION ? bytes[21]! : ValueKind.IMMUTABLE;
  if (!isValueKind(kind)) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let origin: string;
  try {
    origin = decoder.decode(bytes.subarray(header));
  } catch {
    return null; // the caller treats the record as absent; it never held bad UTF-8 we wrote
  }
  return {
    storedAt: view.getFloat64(1),
    expiresAt: view.getFloat64(9),
    size: view.getUint32(17),
    kind,
    replicas: version === META_VERSION ? bytes[22]! : DHT_REPLICATION_FACTOR,
    origin,
  };
}

/**
 * The quota source of an origin: the host of `host:port` (IPv6 hosts are bracketed), or the
 * origin itself (`self`). Quotas count per IP, whatever port a peer sends from.
 */
export function sourceOf(origin: string): string {
  if (origin.startsWith('[')) {
    const end = origin.indexOf(']');
    return end > 0 ? origin.slice(1, end) : origin;
  }
  const colon = origin.lastIndexOf(':');
  return colon > 0 && origin.indexOf(':') === colon ? origin.slice(0, colon) : origin;
}

/** The source-index key of a record: UTF-8 source ‖ 0x00 ‖ orderedTime(storedAt) ‖ key. */
export function encodeSourceKey(source: string, storedAt: number, key: Key): Buffer {
  const s = encoder.encode(source);
  const out = Buffer.allocUnsafe(s.byteLength + 1 + TIME_BYTES + ID_BYTES);
  out.set(s, 0);
  out[s.byteLength] = 0;
  writeOrderedTime(storedAt, out, s.byteLength + 1);
  out.set(key, s.byteLength + 1 + TIME_BYTES);
  return out;
}

/** The range of source-index keys of one source, oldest first: [start, end). */
export function sourceRange(source: string): { start: Buffer; end: Buffer } {
  const s = Buffer.from(encoder.encode(source));
  return { start: Buffer.concat([s, Buffer.of(0)]), end: Buffer.concat([s, Buffer.of(1)]) };
}

/** The record key at the end of a source-index key. */
export function keyOfSourceKey(bytes: Uint8Array): Key | null {
  if (bytes.byteLength < ID_BYTES + TIME_BYTES + 1) return null;
  return new Uint8Array(bytes.subarray(bytes.byteLength - ID_BYTES)) as Key;
}

/**
 * Writes `t` as 8 bytes whose unsigned byte order is the numeric order of doubles: flip the sign
 * bit of non-negative numbers, every bit of negative ones (ManualClock may start below zero).
 */
function writeOrderedTime(t: number, out: Buffer, offset: number): void {
  out.writeDoubleBE(t, offset);
  if ((out[offset]! & 0x80) === 0) out[offset] = out[offset]! | 0x80;
  else for (let i = offset; i < offset + TIME_BYTES; i++) out[i] = ~out[i]! & 0xff;
}

function readOrderedTime(bytes: Uint8Array): number {
  const b = Buffer.from(bytes.subarray(0, TIME_BYTES));
  if ((b[0]! & 0x80) !== 0) b[0] = b[0]! & 0x7f;
  else for (let i = 0; i < TIME_BYTES; i++) b[i] = ~b[i]! & 0xff;
  return b.readDoubleBE(0);
}

/** The expiry-index key of a record: orderedTime(expiresAt) ‖ key. */
export function encodeExpiryKey(expiresAt: number, key: Key): Buffer {
  const out = Buffer.allocUnsafe(EXPIRY_KEY_BYTES);
  writeOrderedTime(expiresAt, out, 0);
  out.set(key, TIME_BYTES);
  return out;
}

/** The time and record key of an expiry-index key, or null when it has another length. */
export function decodeExpiryKey(bytes: Uint8Array): { expiresAt: number; key: Key } | null {
  if (bytes.byteLength !== EXPIRY_KEY_BYTES) return null;
  return { expiresAt: readOrderedTime(bytes), key: new Uint8Array(bytes.subarray(TIME_BYTES)) as Key };
}

/**
 * The exclusive upper bound of the index keys with expiresAt <= now: the time followed by more
 * 0xff bytes than any key has, so it sorts after every key of that millisecond.
 */
export function expiredBound(now: number): Buffer {
  const out = Buffer.alloc(EXPIRY_KEY_BYTES + 1, 0xff);
  writeOrderedTime(now, out, 0);
  return out;
}
