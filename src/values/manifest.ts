/**
 * Manifests of large content: content over one value is cut into chunks of `chunkSize` bytes,
 * each stored under its own key, and a manifest lists the chunk keys in order with the total
 * size and a digest: BLAKE3 of the chunk keys in order (the chunk root, see src/node/content.ts). Format: MANIFEST_MAGIC ‖ msgpack
 * [1, size, chunkSize, chunk keys concatenated (32 B each), digest]. It always fits one value.
 */
import { Packr, Unpackr } from 'msgpackr';
import { ID_BYTES, type Key } from '../id/index.js';
import { MAX_VALUE_BYTES } from '../util/index.js';
import { CHUNK_BYTES, MANIFEST_MAGIC, MAX_MANIFEST_CHUNKS } from './limits.js';

/** A decoded, consistent manifest. */
export interface Manifest {
  /** Bytes of content, an integer >= 0. */
  size: number;
  /** Bytes per chunk (every chunk but the last is exactly this long), an integer in [1, CHUNK_BYTES]. */
  chunkSize: number;
  /** Chunk keys in content order: ceil(size / chunkSize) of them. */
  chunks: Key[];
  /** BLAKE3 of the chunk keys in order, the chunk root (32 bytes); checked by readers. */
  digest: Uint8Array;
}

const FORMAT_VERSION = 1;
const DIGEST_BYTES = 32;
const packr = new Packr({ useRecords: false, moreTypes: false, variableMapSize: true });
const unpackr = new Unpackr({ useRecords: false, moreTypes: false, mapsAsObjects: false });

const isUint = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** What makes the fields inconsistent, as a message; null when they are consistent. */
function problem(size: unknown, chunkSize: unknown, chunkCount: number, digest: unknown): string | null {
  if (!isUint(size)) return 'size must be an integer >= 0';
  if (!isUint(chunkSize) || chunkSize < 1 || chunkSize > CHUNK_BYTES) return `chunkSize must be an integer in [1, ${CHUNK_BYTES}]`;
  if (!(digest instanceof Uint8Array) || digest.byteLength !== DIGEST_BYTES) return `digest must be ${DIGEST_BYTES} bytes`;
  if (chunkCount > MAX_MANIFEST_CHUNKS) return `${chunkCount} chunks, over MAX_MANIFEST_CHUNKS`;
  if (chunkCount !== Math.ceil(size / chunkSize)) return `${chunkCount} chunks for ${size} bytes in chunks of ${chunkSize}`;
  return null;
}

/**
 * Encodes a manifest. Throws RangeError when it is inconsistent: chunk count other than
 * ceil(size / chunkSize) (size 0 has no chunks), over MAX_MANIFEST_CHUNKS, a key or digest
 * not 32 bytes, a chunkSize outside [1, CHUNK_BYTES], or an encoding over MAX_VALUE_BYTES.
 */
export function encodeManifest(m: Manifest): Uint8Array {
  const p = problem(m.size, m.chunkSize, m.chunks.length, m.digest);
  if (p !== null) throw new RangeError(`inconsistent manifest: ${p}`);
  const keys = new Uint8Array(m.chunks.length * ID_BYTES);
  m.chunks.forEach((k, i) => {
    if (k.byteLength !== ID_BYTES) throw new RangeError(`manifest chunk key ${i} must be ${ID_BYTES} bytes`);
    keys.set(k, i * ID_BYTES);
  });
  const body = packr.pack([FORMAT_VERSION, m.size, m.chunkSize, keys, m.digest]);
  const out = new Uint8Array(MANIFEST_MAGIC.byteLength + body.byteLength);
  out.set(MANIFEST_MAGIC, 0);
  out.set(body, MANIFEST_MAGIC.byteLength);
  if (out.byteLength > MAX_VALUE_BYTES) throw new RangeError(`encoded manifest is ${out.byteLength} bytes, over MAX_VALUE_BYTES`);
  return out;
}

/**
 * Parses untrusted bytes: a manifest (own copies of every key and the digest), or null unless
 * they start with MANIFEST_MAGIC, are at most MAX_VALUE_BYTES, and are fully consistent.
 */
export function decodeManifest(bytes: Uint8Array): Manifest | null {
  if (bytes.byteLength > MAX_VALUE_BYTES || !isManifest(bytes)) return null;
  const body = bytes.subarray(MANIFEST_MAGIC.byteLength);
  if (body[0] !== 0x95) return null; // fixarray of 5
  let raw: unknown;
  try {
    raw = unpackr.unpack(body);
  } catch {
    return null; // malformed msgpack: the caller counts the drop
  }
  if (!Array.isArray(raw) || raw.length !== 5) return null;
  const [version, size, chunkSize, keys, digest] = raw as unknown[];
  if (version !== FORMAT_VERSION || !(keys instanceof Uint8Array) || keys.byteLength % ID_BYTES !== 0) return null;
  const count = keys.byteLength / ID_BYTES;
  if (problem(size, chunkSize, count, digest) !== null) return null;
  const chunks: Key[] = [];
  for (let i = 0; i < count; i++) chunks.push(keys.slice(i * ID_BYTES, (i + 1) * ID_BYTES) as Key);
  return { size: size as number, chunkSize: chunkSize as number, chunks, digest: new Uint8Array(digest as Uint8Array) };
}

/** True when `bytes` starts with MANIFEST_MAGIC (a cheap test; decodeManifest still decides). */
export function isManifest(bytes: Uint8Array): boolean {
  if (bytes.byteLength < MANIFEST_MAGIC.byteLength) return false;
  for (let i = 0; i < MANIFEST_MAGIC.byteLength; i++) if (bytes[i] !== MANIFEST_MAGIC[i]) return false;
  return true;
}

/**
 * Where chunk `index` lies in the content: its byte offset and length (the last chunk may be
 * short). Throws RangeError when `index` is not an integer in [0, chunks.length).
 */
export function chunkRange(m: Manifest, index: number): { offset: number; length: number } {
  if (!Number.isSafeInteger(index) || index < 0 || index >= m.chunks.length) {
    throw new RangeError(`index must be an integer in [0, ${m.chunks.length}), got ${index}`);
  }
  const offset = index * m.chunkSize;
  return { offset, length: Math.min(m.chunkSize, m.size - offset) };
}
