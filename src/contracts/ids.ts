/**
 * Content addresses and commitments of contracts: the code hash (BLAKE3 of the original wasm),
 * the instance id (where its state lives in the DHT, part 2), and the state hash chain that every
 * holder of an instance can recompute and compare. Each hash input starts with a length-prefixed
 * domain tag, so no two kinds of hash can collide.
 */
// primitives, not the crypto index: the contract worker imports this module and must not load the pool.
import { blake3 } from '../crypto/primitives.js';
import { asBuffer, concatBytes } from '../util/index.js';

/** Domain tag of instance ids. */
export const INSTANCE_DOMAIN = 'zhtp-dht/v1/contract-instance';
/** Domain tag of state hashes. */
export const STATE_DOMAIN = 'zhtp-dht/v1/contract-state';

/** One storage write of a call: `value` null deletes `key`. */
export interface StateWrite {
  key: Uint8Array;
  value: Uint8Array | null;
}

const utf8 = new TextEncoder();

/** The code hash of a module: BLAKE3 of its original (unmetered) bytes, its DHT content key. */
export function codeHashOf(wasm: Uint8Array): Uint8Array {
  return blake3(wasm);
}

/**
 * The id of an instance: BLAKE3(u8 len ‖ INSTANCE_DOMAIN ‖ codeHash ‖ creator ‖ u32be len ‖ salt).
 * The same code can have many instances (one per creator and salt), each with its own state.
 */
export function instanceIdOf(codeHash: Uint8Array, creator: Uint8Array, salt: Uint8Array): Uint8Array {
  if (codeHash.byteLength !== 32 || creator.byteLength !== 32) throw new RangeError('codeHash and creator must be 32 bytes');
  return blake3(concatBytes([tag(INSTANCE_DOMAIN), codeHash, creator, u32(salt.byteLength), salt]));
}

/** The state hash of a new instance (version 0): BLAKE3(u8 len ‖ STATE_DOMAIN ‖ instanceId). */
export function genesisStateHash(instanceId: Uint8Array): Uint8Array {
  return blake3(concatBytes([tag(STATE_DOMAIN), instanceId]));
}

/**
 * The state hash after one more successful call: BLAKE3(u8 len ‖ STATE_DOMAIN ‖ previous ‖
 * u64be version ‖ u32be count ‖ per write in key order: u32be len ‖ key ‖ u8 present ‖ u32be len
 * ‖ value). A chain over every write ever applied: two holders with the same hash at the same
 * version applied the same writes in the same order.
 */
export function nextStateHash(previous: Uint8Array, version: number, writes: readonly StateWrite[]): Uint8Array {
  const sorted = sortWrites(writes);
  const parts: Uint8Array[] = [tag(STATE_DOMAIN), previous, u64(version), u32(sorted.length)];
  for (const w of sorted) {
    parts.push(u32(w.key.byteLength), w.key, Uint8Array.of(w.value === null ? 0 : 1));
    if (w.value !== null) parts.push(u32(w.value.byteLength), w.value);
  }
  return blake3(concatBytes(parts));
}

/** Writes in key order (unsigned bytewise), the order of state hashes and commits. */
export function sortWrites(writes: readonly StateWrite[]): StateWrite[] {
  return [...writes].sort((a, b) => Buffer.compare(asBuffer(a.key), asBuffer(b.key)));
}

function tag(domain: string): Uint8Array {
  const bytes = utf8.encode(domain);
  return concatBytes([Uint8Array.of(bytes.byteLength), bytes]);
}

function u32(n: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n);
  return out;
}

function u64(n: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(n));
  return out;
}

