/**
 * Storage audits: a challenger sends a fresh nonce and the holder answers with a keyed BLAKE3 of
 * the stored bytes under a key derived from the nonce and the record key. Only a node holding
 * the bytes (or an answer precomputed by someone who had them) can answer; the nonce makes old
 * answers useless. docs/replication.md describes how results feed reputation.
 */
import { type CryptoPool, deriveKey } from '../crypto/index.js';
import type { Key } from '../id/index.js';
import { bytesEqual } from '../util/index.js';

/** Context string of the audit-key derivation (BLAKE3 derive-key mode). */
export const AUDIT_CONTEXT = 'zhtp-dht v1 storage audit';

/** Bytes of an audit nonce. */
export const AUDIT_NONCE_BYTES = 16;

/** The 32-byte MAC key of one challenge: derived from the nonce and the record key. */
export function auditKey(nonce: Uint8Array, key: Key): Uint8Array {
  const material = new Uint8Array(nonce.byteLength + key.byteLength);
  material.set(nonce, 0);
  material.set(key, nonce.byteLength);
  return deriveKey(AUDIT_CONTEXT, material);
}

/** The proof a holder of `value` gives for (`nonce`, `key`); large values are hashed in the pool. */
export function auditProof(pool: CryptoPool, nonce: Uint8Array, key: Key, value: Uint8Array): Promise<Uint8Array> {
  return pool.keyedHash(auditKey(nonce, key), value);
}

/** A challenge prepared by someone who had the bytes: checkable later without them. */
export interface PreparedAudit {
  readonly key: Key;
  readonly nonce: Uint8Array;
  readonly expected: Uint8Array;
}

/** Prepares `count` challenges for `value` (e.g. at publish time, for content the publisher will drop). */
export async function prepareAudits(pool: CryptoPool, key: Key, value: Uint8Array, nonces: readonly Uint8Array[]): Promise<PreparedAudit[]> {
  return Promise.all(nonces.map(async (nonce) => ({ key, nonce, expected: await auditProof(pool, nonce, key, value) })));
}

/** True when `proof` is the expected answer (constant work for equal lengths). */
export function auditPasses(expected: Uint8Array, proof: Uint8Array): boolean {
  return proof.byteLength === expected.byteLength && bytesEqual(expected, proof);
}
