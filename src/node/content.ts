/**
 * Large immutable content (docs/records.md): putStream cuts a byte stream into CHUNK_BYTES
 * chunks, stores each under its BLAKE3 (hashed in the pool) with a bounded number in flight, then
 * stores a manifest of the chunk keys; the manifest's key names the content. getStream fetches
 * the manifest and the chunks, a window ahead, verifying every one, and yields them in order.
 * Memory stays bounded by the window whatever the content's size.
 */
import { blake3 } from '../crypto/index.js';
import { idToHex, type Key } from '../id/index.js';
import { DhtError } from '../util/index.js';
import { CHUNK_BYTES, decodeManifest, encodeManifest, type Manifest, MAX_MANIFEST_CHUNKS } from '../values/index.js';
import { ValueKind } from '../wire/index.js';
import type { OperationsContext } from './context.js';
import { get, publish, put, replicationFactor } from './operations.js';

/** Chunks written at once by default. */
export const DEFAULT_PUT_PARALLEL = 4;
/**
 * Chunks fetched ahead of the reader by default. A chunk is fetched from one holder (FIND_VALUE
 * `inline`, docs/wire.md), so about parallel × 256 KiB arrive together. When every holder asked
 * sent it, 8 (6 MiB at once) overflowed a receiver's 4 MiB socket buffer on a loopback testnet
 * and the lost fragments made chunks NOT_FOUND; 4 stays, now with room to spare.
 */
export const DEFAULT_GET_PARALLEL = 4;

/** Options of putStream. */
export interface PutStreamOptions {
  ttl?: number;
  replicationFactor?: number;
  /** Chunks in flight at most (memory ≈ parallel × 256 KiB). Default 4. */
  parallel?: number;
  signal?: AbortSignal;
  /** Called after each chunk is stored, with the bytes stored so far. */
  onProgress?: (bytes: number) => void;
}

/** What putStream stored. */
export interface PutStreamResult {
  /** The manifest's key: what getStream takes. */
  key: Key;
  size: number;
  chunks: number;
  durationMs: number;
}

/** Options of getStream. */
export interface GetStreamOptions {
  /** Chunks fetched ahead at most (memory and burst ≈ parallel × 256 KiB). Default 4. */
  parallel?: number;
  signal?: AbortSignal;
}

/** Stores content of any size up to MAX_MANIFEST_CHUNKS × 256 KiB from a stream of byte chunks. */
export async function putStream(ctx: OperationsContext, source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, opts: PutStreamOptions = {}): Promise<PutStreamResult> {
  const started = ctx.clock.now();
  const r = replicationFactor(ctx, opts.replicationFactor);
  const parallel = positive('parallel', opts.parallel ?? DEFAULT_PUT_PARALLEL);
  const ttl = opts.ttl ?? ctx.options.defaultTtl;
  const keys: Key[] = [];
  const inFlight = new Set<Promise<void>>();
  let size = 0;
  let failure: unknown = null;
  for await (const chunk of rechunk(source, CHUNK_BYTES)) {
    if (failure !== null) break;
    opts.signal?.throwIfAborted();
    if (keys.length >= MAX_MANIFEST_CHUNKS) throw DhtError.valueTooBig(size + chunk.byteLength, MAX_MANIFEST_CHUNKS * CHUNK_BYTES);
    const index = keys.length;
    const length = chunk.byteLength; // read now: the pool takes the chunk's buffer
    keys.push(null as unknown as Key); // filled when the chunk's hash is known
    const task = storeChunk(ctx, chunk, ttl, r, opts.signal).then(
      (key) => { keys[index] = key; size += length; opts.onProgress?.(size); },
      (err: unknown) => { failure ??= err; },
    );
    const tracked = task.finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
    if (inFlight.size >= parallel) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  if (failure !== null) throw failure;
  const manifest: Manifest = { size, chunkSize: CHUNK_BYTES, chunks: keys, digest: chunkRoot(keys) };
  const stored = await put(ctx, encodeManifest(manifest), { ttl, replicationFactor: r, signal: opts.signal });
  return { key: stored.key, size, chunks: keys.length, durationMs: ctx.clock.now() - started };
}

async function storeChunk(ctx: OperationsContext, chunk: Uint8Array, ttl: number, r: number, signal?: AbortSignal): Promise<Key> {
  const { digest, data } = await ctx.pool.hash(chunk);
  const key = digest as Key;
  await publish(ctx, { key, value: data, ttl, tokens: new Map(), kind: ValueKind.IMMUTABLE, cas: null, r, keepLocal: false }, signal);
  return key;
}

/** BLAKE3 over the chunk keys in order: the manifest's digest, checked on read. */
export function chunkRoot(keys: readonly Key[]): Uint8Array {
  const all = new Uint8Array(keys.length * 32);
  keys.forEach((k, i) => all.set(k, i * 32));
  return blake3(all);
}

/** The manifest stored under `key`, verified (its bytes hash to the key; its root matches). */
export async function getManifest(ctx: OperationsContext, key: Key, signal?: AbortSignal): Promise<Manifest | null> {
  const { value } = await get(ctx, key, signal);
  const manifest = decodeManifest(value);
  if (manifest === null) return null;
  const root = chunkRoot(manifest.chunks);
  if (!root.every((b, i) => b === manifest.digest[i])) throw new DhtError('INVALID_CONTENT', `manifest ${idToHex(key)} has a wrong chunk root`);
  return manifest;
}

/**
 * Yields the content stored under `key` in order: the chunks of a manifest (each verified by
 * its hash, `parallel` fetched ahead), or the single value when the key holds plain content.
 */
export async function* getStream(ctx: OperationsContext, key: Key, opts: GetStreamOptions = {}): AsyncGenerator<Uint8Array> {
  const parallel = positive('parallel', opts.parallel ?? DEFAULT_GET_PARALLEL);
  const { value } = await get(ctx, key, opts.signal);
  const manifest = decodeManifest(value);
  if (manifest === null) {
    yield value;
    return;
  }
  if (!chunkRoot(manifest.chunks).every((b, i) => b === manifest.digest[i])) throw new DhtError('INVALID_CONTENT', 'manifest chunk root does not match its chunks');
  const pending: Array<Promise<Uint8Array>> = [];
  let next = 0;
  const fetchNext = (): void => {
    const chunkKey = manifest.chunks[next++]!;
    const p = get(ctx, chunkKey, opts.signal, false).then((res) => res.value);
    p.catch(() => {}); // observed when its turn comes; an early failure must not be unhandled
    pending.push(p);
  };
  let served = 0;
  while (served < manifest.chunks.length) {
    while (next < manifest.chunks.length && pending.length < parallel) fetchNext();
    const chunk = await pending.shift()!;
    served++;
    yield chunk;
  }
}

/** Re-slices a stream of arbitrary pieces into pieces of exactly `size` bytes (the last may be shorter). */
export async function* rechunk(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, size: number): AsyncGenerator<Uint8Array> {
  let buf = new Uint8Array(size);
  let fill = 0;
  for await (const piece of source as AsyncIterable<Uint8Array>) {
    let offset = 0;
    while (offset < piece.byteLength) {
      const n = Math.min(size - fill, piece.byteLength - offset);
      buf.set(piece.subarray(offset, offset + n), fill);
      fill += n;
      offset += n;
      if (fill === size) {
        yield buf;
        buf = new Uint8Array(size); // the yielded buffer now belongs to the consumer (the pool may take it)
        fill = 0;
      }
    }
  }
  if (fill > 0) yield buf.slice(0, fill);
}

function positive(name: string, v: number): number {
  if (!Number.isInteger(v) || v < 1) throw new RangeError(`options.${name} must be a positive integer`);
  return v;
}
