/**
 * Piscina task module for the crypto pool: BLAKE3 of large buffers, batched ML-DSA-65
 * verification, signing, key generation, node-record verification, the two halves of the
 * session handshake, and wrapping keys to ML-KEM-768 readers (ZkDhtValue). Each export is one task
 * (`pool.run(task, { name })`). Tasks are pure functions of their input; bad input yields
 * `false` / `null` results, and a thrown error rejects only that task.
 */
import { move, transferableSymbol, valueSymbol } from 'piscina';
import {
  blake3, keyedBlake3, decodeRecord, kemUnwrap, kemWrap, type KemStanza, initiateHandshake, type InitiateResult, type InitiateTask, respondHandshake, type RespondResult, type RespondTask, mldsaKeygen, mldsaSign, mldsaVerify, mlkemKeygen, type NodeRecord, recordSigningPayload,
} from '../src/crypto/primitives.js';

/** BLAKE3 of `data`; the buffer travels back to the caller with the digest (both transferred). */
export function hash(task: { data: Uint8Array }): unknown {
  if (!(task.data instanceof Uint8Array)) throw new TypeError('hash task needs data: Uint8Array');
  const digest = blake3(task.data);
  const result = { digest, data: task.data };
  // Move the caller's buffer back rather than copying it (Piscina's Transferable protocol).
  return move({ [transferableSymbol]: [task.data.buffer], [valueSymbol]: result } as never);
}

/** Keyed BLAKE3 of `data` under a 32-byte `key` (storage audits). */
export function keyedHash(task: { key: Uint8Array; data: Uint8Array }): Uint8Array {
  if (!(task.key instanceof Uint8Array) || !(task.data instanceof Uint8Array)) throw new TypeError('keyedHash task needs key and data');
  return keyedBlake3(task.key, task.data);
}

/** One task, many signatures: 1 = valid, 0 = not, per item in order. */
export function verifyBatch(task: { items: Array<{ publicKey: Uint8Array; message: Uint8Array; signature: Uint8Array }> }): Uint8Array {
  const out = new Uint8Array(task.items.length);
  task.items.forEach((it, i) => { out[i] = mldsaVerify(it.publicKey, it.message, it.signature) ? 1 : 0; });
  return out;
}

/** ML-DSA-65 signature of `message`. */
export function sign(task: { secretKey: Uint8Array; message: Uint8Array }): Uint8Array {
  return mldsaSign(task.secretKey, task.message);
}

/** New ML-DSA-65 and ML-KEM-768 key pairs; deterministic from a 96-byte seed when given. */
export function keygen(task: { seed?: Uint8Array }): { dsa: { publicKey: Uint8Array; secretKey: Uint8Array }; kem: { publicKey: Uint8Array; secretKey: Uint8Array } } {
  const seed = task.seed;
  if (seed !== undefined && seed.byteLength !== 96) throw new RangeError('keygen seed must be 96 bytes');
  return { dsa: mldsaKeygen(seed?.subarray(0, 32)), kem: mlkemKeygen(seed?.subarray(32, 96)) };
}

/** Decodes and verifies a node record: its id and fields when valid, else the reason. */
export function verifyRecord(task: { bytes: Uint8Array }): { ok: true; record: NodeRecord } | { ok: false; reason: 'malformed' | 'bad_signature' } {
  const record = decodeRecord(task.bytes);
  if (record === null) return { ok: false, reason: 'malformed' };
  if (!mldsaVerify(record.publicKeys.mldsa65, recordSigningPayload(record), record.signature)) return { ok: false, reason: 'bad_signature' };
  return { ok: true, record };
}

/** The initiator's half of a session handshake (src/crypto/handshake.ts). */
export function handshakeInitiate(task: InitiateTask): InitiateResult {
  return initiateHandshake(task);
}

/** The responder's half of a session handshake (src/crypto/handshake.ts). */
export function handshakeRespond(task: RespondTask): RespondResult {
  return respondHandshake(task);
}

/** `key` wrapped to each ML-KEM-768 public key (src/crypto/kemwrap.ts), one stanza each, in order. */
export function kemWrapKey(task: { publicKeys: Uint8Array[]; key: Uint8Array; ad: Uint8Array; seeds: Uint8Array[] }): KemStanza[] {
  return kemWrap(task.publicKeys, task.key, task.ad, task.seeds);
}

/** The key among `stanzas` wrapped to `secretKey`'s public key, or null when none is. */
export function kemUnwrapKey(task: { stanzas: KemStanza[]; secretKey: Uint8Array; ad: Uint8Array }): Uint8Array | null {
  return kemUnwrap(task.stanzas, task.secretKey, task.ad);
}
