/**
 * Making, checking and opening ZkDhtValues (docs/zk.md). `buildZkValue` encrypts a payload for its
 * access level, wraps the data key to the readers and proves storage_access; `verifyZkValue` checks
 * a value exactly as a storage node does; `openZkValue` decrypts it for whoever asks. The heavy
 * parts — ML-KEM and Groth16 — are injected (CryptoPool, ZkPool), so they run in worker threads and
 * this module stays free of pools (the zk workers import it).
 */
import type { KemStanza } from '../crypto/primitives.js';
import type { Key } from '../id/index.js';
import { DhtError, type Random } from '../util/index.js';
import { keyField, nonceField, valueField } from './field.js';
import type { ZkPoolOutcome } from './pool.js';
import type { StorageAccessSignals, ZkProof } from './prover.js';
import { openZkData, ownerCommitment, sealZkData, zkDataKey, type ZkOwner, zkWrapAd } from './seal.js';
import {
  checkZkKey, MAX_ZK_DATA_BYTES, MAX_ZK_NAME_BYTES, MAX_ZK_READERS, sealedBytes, ZK_ENVELOPE_OVERHEAD, type ZkAccessLevel, type ZkDhtValue,
  zkKey, zkPublicSignals,
} from './value.js';

/** The worker-side operations building a value needs. */
export interface ZkWorkers {
  /** Wraps `key` to each ML-KEM-768 public key (CryptoPool.kemWrap). */
  wrap(publicKeys: readonly Uint8Array[], key: Uint8Array, ad: Uint8Array, seeds: readonly Uint8Array[]): Promise<KemStanza[]>;
  /** A storage_access proof (ZkPool.prove). */
  prove(signals: StorageAccessSignals): Promise<ZkProof>;
}

/** What to store. */
export interface ZkValueInput {
  owner: ZkOwner;
  /** Up to 64 bytes naming the value among the owner's; default empty. */
  name?: Uint8Array;
  nonce: bigint;
  accessLevel: ZkAccessLevel;
  data: Uint8Array;
  /** Restricted only: the ML-KEM-768 public keys (1,184 B) of the readers, 1..32. */
  readers?: readonly Uint8Array[];
}

/** Largest payload of an access level: encrypted payloads carry a 28-byte envelope. */
export function maxZkPayload(access: ZkAccessLevel): number {
  return access === 'public' ? MAX_ZK_DATA_BYTES : MAX_ZK_DATA_BYTES - ZK_ENVELOPE_OVERHEAD;
}

/**
 * A proven value and its key. Rejects with VALUE_TOO_BIG for a payload over maxZkPayload, with
 * RangeError for a bad name, nonce or reader list, and with what the pools reject with.
 */
export async function buildZkValue(workers: ZkWorkers, random: Random, input: ZkValueInput): Promise<{ key: Key; value: ZkDhtValue }> {
  const { owner, accessLevel, data } = input;
  const name = input.name ?? new Uint8Array(0);
  const nonce = nonceField(input.nonce);
  const readers = input.readers ?? [];
  if (name.byteLength > MAX_ZK_NAME_BYTES) throw new RangeError(`options.name must be at most ${MAX_ZK_NAME_BYTES} bytes`);
  if (data.byteLength > maxZkPayload(accessLevel)) throw DhtError.valueTooBig(data.byteLength, maxZkPayload(accessLevel));
  if (accessLevel === 'restricted' ? readers.length < 1 || readers.length > MAX_ZK_READERS : readers.length > 0) {
    throw new RangeError(`options.readers must hold 1..${MAX_ZK_READERS} ML-KEM-768 public keys for a restricted value, and none otherwise`);
  }
  const commitment = ownerCommitment(owner);
  const key = zkKey(commitment, name);
  const dataKey = zkDataKey(owner, key, nonce);
  const encryptedData = accessLevel === 'public' ? data.slice() : sealZkData(dataKey, random.bytes(12), data, key, nonce, accessLevel);
  const wrappedKeys = accessLevel === 'restricted'
    ? await workers.wrap(readers, dataKey, zkWrapAd(key, nonce), readers.map(() => random.bytes(32)))
    : [];
  const valueHash = valueField(sealedBytes({ accessLevel, wrappedKeys, encryptedData }));
  const proof = await workers.prove({ commitment, keyField: keyField(key), nonce, valueHash, secret: owner.secret, salt: owner.salt });
  return { key, value: { accessLevel, name: name.slice(), commitment, nonce, validityProof: proof.proof, wrappedKeys, encryptedData } };
}

/** A verification of public signals against a proof (ZkPool.check for storage_access). */
export type ZkCheck = (publicSignals: readonly bigint[], proof: Uint8Array) => Promise<ZkPoolOutcome>;

/** The verdict on a decoded value: valid, or the refusal a storage node answers. */
export type ZkVerdict = 'valid' | 'COMMITMENT_MISMATCH' | 'INVALID_PROOF' | 'BUSY';

/**
 * Checks a decoded value under `key` as a storage node does: the key must be derived from the
 * value's commitment, then the proof must verify against the signals built here. A verification
 * that timed out or whose task failed proves nothing either way: BUSY, not INVALID_PROOF.
 */
export async function verifyZkValue(check: ZkCheck, key: Key, value: ZkDhtValue): Promise<ZkVerdict> {
  if (checkZkKey(value, key) !== null) return 'COMMITMENT_MISMATCH';
  const outcome = await check(zkPublicSignals(key, value), value.validityProof);
  if (outcome === 'valid') return 'valid';
  return outcome === 'timeout' || outcome === 'task_error' ? 'BUSY' : 'INVALID_PROOF';
}

/** What a reader brings to open a value. */
export interface ZkReadAccess {
  /** The owner's secrets: open private and restricted values by re-deriving the data key. */
  owner?: ZkOwner;
  /** Restricted: finds the data key wrapped to the reader's ML-KEM key (CryptoPool.kemUnwrap), or null. */
  unwrap?: (stanzas: readonly KemStanza[], ad: Uint8Array) => Promise<Uint8Array | null>;
}

/**
 * The plaintext of a verified value. Public values open for everyone; a private one with its
 * owner's secrets; a restricted one with those or with a reader's ML-KEM key among its stanzas.
 * Rejects with ACCESS_DENIED, saying why, when the caller can read none of it.
 */
export async function openZkValue(key: Key, value: ZkDhtValue, access: ZkReadAccess = {}): Promise<Uint8Array> {
  if (value.accessLevel === 'public') return value.encryptedData.slice();
  const open = (dataKey: Uint8Array): Uint8Array | null => openZkData(dataKey, value.encryptedData, key, value.nonce, value.accessLevel);
  if (access.owner !== undefined && ownerCommitment(access.owner) === value.commitment) {
    const plain = open(zkDataKey(access.owner, key, value.nonce));
    if (plain !== null) return plain;
  }
  if (value.accessLevel === 'private') throw new DhtError('ACCESS_DENIED', 'a private value opens only with its owner\'s secrets');
  if (access.unwrap !== undefined) {
    const dataKey = await access.unwrap(value.wrappedKeys, zkWrapAd(key, value.nonce));
    const plain = dataKey === null ? null : open(dataKey);
    if (plain !== null) return plain;
  }
  throw new DhtError('ACCESS_DENIED', `this reader's ML-KEM-768 key is not among the ${value.wrappedKeys.length} reader(s) of the restricted value`);
}
