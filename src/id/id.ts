/**
 * Identifiers of the 256-bit Kademlia space (Maymounkov & Mazières 2002): node ids and keys are
 * 32 bytes, distance is bitwise XOR read as a big-endian unsigned integer.
 */
import { toHex } from '../util/index.js';

/** Length in bytes of every id and key. */
export const ID_BYTES = 32;
/** Bits in the id space: the number of buckets in a routing table. */
export const ID_BITS = ID_BYTES * 8;

declare const idBrand: unique symbol;
/** A 32-byte identifier of the DHT key space: a node's id or a value's key. */
export type Id = Uint8Array & { readonly [idBrand]: true };
/** The id of a node. */
export type NodeId = Id;
/** The key of a stored value. */
export type Key = Id;

/** True when `bytes` has the length of an id. */
export function isId(bytes: unknown): bytes is Id {
  return bytes instanceof Uint8Array && bytes.byteLength === ID_BYTES;
}

/** Brands `bytes` as an id, copying it into its own buffer; throws on a wrong length. */
export function toId(bytes: Uint8Array): Id {
  if (bytes.byteLength !== ID_BYTES) throw new RangeError(`an id must be ${ID_BYTES} bytes, got ${bytes.byteLength}`);
  return new Uint8Array(bytes) as Id;
}

/** The id written as 64 hex characters, or null when `hex` is anything else. */
export function idFromHex(hex: string): Id | null {
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) return null;
  return new Uint8Array(Buffer.from(hex, 'hex')) as Id;
}

/** Lower-case hex of an id. */
export function idToHex(id: Id): string {
  return toHex(id);
}

/** The XOR distance between two ids. */
export function distance(a: Id, b: Id): Uint8Array {
  const out = new Uint8Array(ID_BYTES);
  for (let i = 0; i < ID_BYTES; i++) out[i] = a[i]! ^ b[i]!;
  return out;
}

/** Compares two ids as big-endian integers: negative, zero or positive. */
export function compareIds(a: Id, b: Id): number {
  for (let i = 0; i < ID_BYTES; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * Which of `a` and `b` is closer to `target`: negative when `a` is, positive when `b` is, zero
 * when they are the same id. Computed byte by byte without allocating.
 */
export function compareDistance(target: Id, a: Id, b: Id): number {
  for (let i = 0; i < ID_BYTES; i++) {
    const d = (a[i]! ^ target[i]!) - (b[i]! ^ target[i]!);
    if (d !== 0) return d;
  }
  return 0;
}

/** Number of leading bits `a` and `b` share (256 when equal). */
export function commonPrefixLength(a: Id, b: Id): number {
  for (let i = 0; i < ID_BYTES; i++) {
    const x = a[i]! ^ b[i]!;
    if (x !== 0) return i * 8 + Math.clz32(x) - 24;
  }
  return ID_BITS;
}

/**
 * The key range [start, end) of the ids that share with both `a` and `b` the prefix they share;
 * `end` is null when the range reaches the top of the key space.
 */
export function sharedPrefixRange(a: Id, b: Id): [Id, Id | null] {
  const bits = commonPrefixLength(a, b);
  const start = new Uint8Array(ID_BYTES);
  for (let i = 0; i < ID_BYTES; i++) {
    const keep = Math.max(0, Math.min(8, bits - 8 * i)); // bits of byte i inside the prefix
    start[i] = keep === 0 ? 0 : a[i]! & (0xff << (8 - keep));
  }
  if (bits === 0) return [start as Id, null];
  // end = start + 2^(256 - bits): add one at the prefix's last bit, carrying upwards.
  const end = start.slice();
  let byte = Math.floor((bits - 1) / 8);
  let add = 1 << (7 - ((bits - 1) % 8));
  while (byte >= 0) {
    const sum = end[byte]! + add;
    end[byte] = sum & 0xff;
    if (sum <= 0xff) return [start as Id, end as Id];
    add = 1;
    byte--;
  }
  return [start as Id, null]; // the prefix was all ones
}

/** True when the two ids are the same. */
export function idEquals(a: Id, b: Id): boolean {
  return compareIds(a, b) === 0;
}

/**
 * A random id sharing exactly `prefixLength` leading bits with `self`, i.e. one that falls in
 * bucket `prefixLength` of `self`'s table: used to refresh that bucket.
 */
export function randomIdInBucket(self: Id, prefixLength: number, randomBytes: (n: number) => Uint8Array): Id {
  if (!Number.isInteger(prefixLength) || prefixLength < 0 || prefixLength >= ID_BITS) {
    throw new RangeError(`prefixLength must be an integer in [0, ${ID_BITS - 1}]`);
  }
  const out = new Uint8Array(randomBytes(ID_BYTES));
  const byte = prefixLength >> 3;
  const bit = prefixLength & 7;
  for (let i = 0; i < byte; i++) out[i] = self[i]!;
  // Keep the first `bit` bits of self in this byte, flip the next one, randomise the rest.
  const keepMask = (0xff00 >> bit) & 0xff;
  const flip = 0x80 >> bit;
  out[byte] = (self[byte]! & keepMask) | ((self[byte]! ^ flip) & flip) | (out[byte]! & ~(keepMask | flip) & 0xff);
  return out as Id;
}
