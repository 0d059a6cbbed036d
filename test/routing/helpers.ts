/** Deterministic ids and contacts for routing tests. */
import type { Contact, Id, NodeId } from '../../src/id/index.js';
import { randomIdInBucket } from '../../src/id/index.js';
import { SeededRandom } from '../../src/util/index.js';

/** An id of 32 bytes all equal to `byte`. */
export function idOf(byte: number): NodeId {
  return new Uint8Array(32).fill(byte) as NodeId;
}

/** A source of distinct ids in chosen buckets of `self`, replayable from `seed`. */
export function idMaker(self: Id, seed = 1): (bucket: number) => NodeId {
  const random = new SeededRandom(seed);
  return (bucket) => randomIdInBucket(self, bucket, (n) => random.bytes(n));
}

let nextPort = 1000;
/** A contact for `id` at a fresh loopback port. */
export function contactOf(id: NodeId, port = nextPort++): Contact {
  return { id, host: '127.0.0.1', port };
}

/** Lower-case hex, for comparing ids in assertions. */
export function hex(id: Uint8Array): string {
  return Buffer.from(id).toString('hex');
}
