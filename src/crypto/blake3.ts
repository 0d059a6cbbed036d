/**
 * BLAKE3 (blake3-wasm 2.1.5, the same code on the coordinator and in the workers): plain hashes,
 * keyed hashes (write tokens, audit challenges) and derive-key mode (domain separation), and a
 * streaming hasher so large content is hashed with flat memory.
 */
import { createDeriveKey, createHash, createKeyed, hash as b3Hash } from 'blake3-wasm';

// blake3-wasm's one-shot keyedHash() and deriveKey() never free the hasher they create in WASM
// memory (about 1.9 KB per call: a node answering requests grows without bound, and the WASM
// allocator slows down as it fills). The hasher instances free their state on digest(), so the
// keyed and derive-key modes below go through them.

/** Bytes of every digest and key in this module. */
export const BLAKE3_BYTES = 32;

const view = (b: Uint8Array | Buffer | string): Uint8Array =>
  typeof b === 'string' ? new TextEncoder().encode(b) : new Uint8Array(b.buffer, b.byteOffset, b.byteLength);

/** BLAKE3-256 of `data`. */
export function blake3(data: Uint8Array): Uint8Array {
  return view(b3Hash(data) as Buffer);
}

/** Keyed BLAKE3 (a MAC/PRF) of `data` under a 32-byte `key`. */
export function keyedBlake3(key: Uint8Array, data: Uint8Array): Uint8Array {
  if (key.byteLength !== BLAKE3_BYTES) throw new RangeError(`key must be ${BLAKE3_BYTES} bytes`);
  return view(createKeyed(Buffer.from(key.buffer, key.byteOffset, key.byteLength)).update(data).digest());
}

/** BLAKE3 derive-key mode: a 32-byte key for `context` (a fixed, unique string) from `material`. */
export function deriveKey(context: string, material: Uint8Array): Uint8Array {
  return view(createDeriveKey(context).update(material).digest());
}

/**
 * An incremental BLAKE3 hasher: update() chunk by chunk, digest() once. Its WASM state is freed
 * by digest(); a hasher abandoned midway must be dispose()d.
 */
export interface StreamingHasher {
  update(chunk: Uint8Array): StreamingHasher;
  digest(): Uint8Array;
  /** Frees the hasher without a digest (an aborted stream). Idempotent. */
  dispose(): void;
}

/** A streaming hasher; keyed when `key` (32 bytes) is given. */
export function createHasher(key?: Uint8Array): StreamingHasher {
  if (key !== undefined && key.byteLength !== BLAKE3_BYTES) throw new RangeError(`key must be ${BLAKE3_BYTES} bytes`);
  const h = key === undefined ? createHash() : createKeyed(Buffer.from(key.buffer, key.byteOffset, key.byteLength));
  let done = false;
  const hasher: StreamingHasher = {
    update(chunk) {
      if (done) throw new Error('hasher already digested');
      h.update(chunk);
      return hasher;
    },
    digest() {
      if (done) throw new Error('hasher already digested');
      done = true;
      return view(h.digest() as Buffer);
    },
    dispose() {
      if (done) return;
      done = true;
      h.dispose();
    },
  };
  return hasher;
}
