/**
 * Datagram framing. Each datagram is one frame: a kind byte, then either a whole message or one
 * fragment (message id u32, index u16, count u16, data; big-endian). Every datagram fits
 * DATAGRAM_PAYLOAD (1,200 B, QUIC's minimum MTU); all fragments but the last carry the same data
 * length. The parser is total: a frame or null, never a throw (dht-rpc's `decode → null`).
 */
import { DATAGRAM_PAYLOAD } from '../util/index.js';

/** Kind byte of a datagram that carries a whole message. */
export const FRAME_WHOLE = 0x01;
/** Kind byte of a datagram that carries one fragment of a longer message. */
export const FRAME_FRAGMENT = 0x02;
/** Bytes before the message in a whole frame. */
export const WHOLE_HEADER_BYTES = 1;
/** Bytes before the data in a fragment frame: kind, message id, index, count. */
export const FRAGMENT_HEADER_BYTES = 9;
/** Longest message sent as one whole frame (1,199 B). */
export const MAX_WHOLE_MESSAGE = DATAGRAM_PAYLOAD - WHOLE_HEADER_BYTES;
/** Data bytes in every fragment but the last (1,191 B). */
export const FRAGMENT_DATA_BYTES = DATAGRAM_PAYLOAD - FRAGMENT_HEADER_BYTES;
/** Most fragments a message can have (the count field is a u16). */
export const MAX_FRAGMENT_COUNT = 0xffff;

/** A datagram that carries a whole message. */
export interface WholeFrame {
  readonly kind: 'whole';
  readonly message: Uint8Array;
}

/** A datagram that carries fragment `index` of `count` of message `messageId`. */
export interface FragmentFrame {
  readonly kind: 'fragment';
  readonly messageId: number;
  readonly index: number;
  readonly count: number;
  readonly data: Uint8Array;
}

/** One parsed datagram. */
export type Frame = WholeFrame | FragmentFrame;

const WHOLE_PREFIX = Uint8Array.of(FRAME_WHOLE);

/**
 * Parses one datagram. Returns null for an unknown kind, an empty whole frame or a truncated
 * fragment header. Fragment fields are not checked against each other here (an index beyond the
 * count, empty data): reassembly rejects those and counts them as `fragment_invalid`.
 * The returned bytes are views into `datagram`.
 */
export function parseFrame(datagram: Uint8Array): Frame | null {
  const kind = datagram[0];
  if (kind === FRAME_WHOLE) {
    return datagram.byteLength > WHOLE_HEADER_BYTES ? { kind: 'whole', message: datagram.subarray(WHOLE_HEADER_BYTES) } : null;
  }
  if (kind !== FRAME_FRAGMENT || datagram.byteLength < FRAGMENT_HEADER_BYTES) return null;
  const view = new DataView(datagram.buffer, datagram.byteOffset, datagram.byteLength);
  return {
    kind: 'fragment',
    messageId: view.getUint32(1),
    index: view.getUint16(5),
    count: view.getUint16(7),
    data: datagram.subarray(FRAGMENT_HEADER_BYTES),
  };
}

/** Datagrams a message of `length` bytes needs: 1 up to MAX_WHOLE_MESSAGE, else its fragments. */
export function datagramCount(length: number): number {
  return length <= MAX_WHOLE_MESSAGE ? 1 : Math.ceil(length / FRAGMENT_DATA_BYTES);
}

/** UDP payload bytes a message of `length` bytes occupies once framed. */
export function framedBytes(length: number): number {
  const n = datagramCount(length);
  return length + (n === 1 ? WHOLE_HEADER_BYTES : n * FRAGMENT_HEADER_BYTES);
}

/**
 * The 9-byte header of fragment `index` of `count` of message `messageId`. Only the field ranges
 * are checked (u32, u16, u16), not `index < count`, so tests can craft invalid layouts.
 */
export function fragmentHeader(messageId: number, index: number, count: number): Uint8Array {
  if (!isUint(messageId, 0xffffffff)) throw new RangeError('messageId must be an integer in 0..2^32-1');
  if (!isUint(index, 0xffff)) throw new RangeError('index must be an integer in 0..65535');
  if (!isUint(count, 0xffff)) throw new RangeError('count must be an integer in 0..65535');
  const header = new Uint8Array(FRAGMENT_HEADER_BYTES);
  const view = new DataView(header.buffer);
  view.setUint8(0, FRAME_FRAGMENT);
  view.setUint32(1, messageId);
  view.setUint16(5, index);
  view.setUint16(7, count);
  return header;
}

/**
 * The parts of datagram `index` of `message` (a header and a view of the message, so nothing is
 * copied before the socket gathers them). Whole frames share one immutable prefix.
 */
export function datagramParts(message: Uint8Array, messageId: number, index: number): Uint8Array[] {
  const count = datagramCount(message.byteLength);
  if (count === 1) {
    if (index !== 0) throw new RangeError('index must be 0 for a whole message');
    return [WHOLE_PREFIX, message];
  }
  const start = index * FRAGMENT_DATA_BYTES;
  const header = fragmentHeader(messageId, index, count);
  return [header, message.subarray(start, Math.min(message.byteLength, start + FRAGMENT_DATA_BYTES))];
}

/** Every datagram of `message`, each one contiguous (for tests, tools and the simulator). */
export function encodeMessage(message: Uint8Array, messageId: number): Uint8Array[] {
  if (message.byteLength === 0) throw new RangeError('message must not be empty');
  const count = datagramCount(message.byteLength);
  if (count > MAX_FRAGMENT_COUNT) throw new RangeError(`message of ${message.byteLength} bytes needs more than ${MAX_FRAGMENT_COUNT} fragments`);
  const out: Uint8Array[] = [];
  for (let i = 0; i < count; i++) out.push(concat(datagramParts(message, messageId, i)));
  return out;
}

/** One fragment datagram from its fields, unchecked against each other (tests craft malformed layouts). */
export function encodeFragment(messageId: number, index: number, count: number, data: Uint8Array): Uint8Array {
  return concat([fragmentHeader(messageId, index, count), data]);
}

function isUint(x: number, max: number): boolean {
  return Number.isInteger(x) && x >= 0 && x <= max;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const p of parts) length += p.byteLength;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.byteLength;
  }
  return out;
}
