/**
 * What a storage node checks before it writes a STORE, by value kind (docs/records.md, docs/zk.md):
 * immutable content must hash to its key; a mutable record must be well formed, keyed by
 * BLAKE3(public key ‖ salt), signed (verified in the pool) and follow BEP 44's seq and CAS rules;
 * set entries must each be signed by their own signer and are merged into what is stored; a
 * ZkDhtValue must fit its limits, carry a nonce above the stored one, be keyed by its commitment
 * and carry a proof that verifies (in the ZK pool) against signals this node builds.
 * Cheap checks come first; signature and proof checks run only on well-formed values.
 */
import type { CryptoPool } from '../crypto/index.js';
import { idToHex, type Key } from '../id/index.js';
import type { PutDecision, StoredValue } from '../storage/index.js';
import { bytesEqual, DhtError, type DhtErrorCode } from '../util/index.js';
import {
  checkEntryShape, checkMutableShape, entrySigner, liveEntries, MAX_SET_ENTRIES, decideMutable, decodeMutable, decodeSet, encodeSet, mergeSet, type MutableRecord,
  mutableSigningPayload, oversizedMutableField, type SetEntry, setEntrySigningPayload,
} from '../values/index.js';
import { type Store, ValueKind } from '../wire/index.js';
import { decodeZkValue, parseZkValue, verifyZkValue, type ZkDhtValue, type ZkPool, type ZkVerdict } from '../zk/index.js';

/** A checked STORE: the bytes to write and the in-transaction decision. */
export interface Accepted {
  readonly value: Uint8Array;
  readonly decide?: (stored: StoredValue | null) => PutDecision;
}

/** A refusal with its wire code; `penalise` marks answers only a faulty or hostile peer sends. */
export class Refusal extends DhtError {
  constructor(code: DhtErrorCode, message: string, readonly penalise: boolean) {
    super(code, message);
  }
}

/** The worker pools a STORE's checks run in. */
export interface CheckPools {
  readonly crypto: CryptoPool;
  readonly zk: ZkPool;
}

/** Checks a STORE's value for its kind; resolves with what to write or rejects with a Refusal. */
export async function acceptStore(pools: CheckPools, request: Store, now: number, peek?: () => StoredValue | undefined): Promise<Accepted> {
  const pool = pools.crypto;
  switch (request.kind ?? ValueKind.IMMUTABLE) {
    case ValueKind.IMMUTABLE:
      return acceptImmutable(pool, request.key, request.value);
    case ValueKind.MUTABLE:
      return acceptMutable(pool, request.key, request.value, request.cas ?? null);
    case ValueKind.ZK:
      return acceptZk(pools.zk, request.key, request.value, peek);
    default:
      return acceptSet(pool, request.key, request.value, now, peek);
  }
}

async function acceptImmutable(pool: CryptoPool, key: Key, value: Uint8Array): Promise<Accepted> {
  // The decoder gave the value its own buffer, so the pool may take it and hand it back.
  const { digest, data } = await pool.hash(value);
  if (!bytesEqual(digest, key)) throw new Refusal('INVALID_CONTENT', 'value does not hash to its key', true);
  return { value: data };
}

async function acceptMutable(pool: CryptoPool, key: Key, bytes: Uint8Array, cas: number | null): Promise<Accepted> {
  const record = decodeMutable(bytes);
  if (record === null) {
    // An over-limit salt or value is BEP 44's 207 / 205 (a limit, not evidence of malice).
    const oversized = oversizedMutableField(bytes);
    if (oversized !== null) throw new Refusal(oversized, `mutable record refused: ${oversized}`, false);
    throw new Refusal('BAD_REQUEST', 'malformed mutable record', true);
  }
  const problem = checkMutableShape(record, key);
  if (problem !== null) throw new Refusal(problem, `mutable record refused: ${problem}`, problem === 'BAD_REQUEST');
  if (!(await verifyMutable(pool, record))) throw new Refusal('INVALID_SIGNATURE', 'invalid signature', true);
  return { value: bytes, decide: (stored) => mutableDecision(stored, record, cas) };
}

/** True when the record's signature is valid (checked in the pool). */
export function verifyMutable(pool: CryptoPool, r: MutableRecord): Promise<boolean> {
  return pool.verify({ publicKey: r.publicKey, message: mutableSigningPayload(r.salt, r.seq, r.value), signature: r.signature });
}

function mutableDecision(stored: StoredValue | null, incoming: MutableRecord, cas: number | null): PutDecision {
  // What we stored was checked on the way in; unreadable bytes (another kind) are replaced.
  const old = stored === null || stored.kind !== ValueKind.MUTABLE ? null : decodeMutable(stored.value);
  const d = decideMutable(old, incoming, cas);
  if (d.action !== 'refuse') return d;
  const seq = old === null ? 'none' : String(old.seq);
  return { action: 'refuse', error: new DhtError(d.code, `${d.code.toLowerCase().replace(/_/g, ' ')} (stored seq ${seq})`) };
}

async function acceptSet(pool: CryptoPool, key: Key, bytes: Uint8Array, now: number, peek?: () => StoredValue | undefined): Promise<Accepted> {
  const entries = decodeSet(bytes);
  if (entries === null || entries.length === 0) throw new Refusal('BAD_REQUEST', 'malformed set entries', true);
  for (const e of entries) {
    const problem = checkEntryShape(e);
    if (problem !== null) throw new Refusal(problem, `set entry refused: ${problem}`, problem === 'BAD_REQUEST');
  }
  // A write whose every entry has expired keeps nothing: refuse it wherever it lands (a holder
  // with other live entries would otherwise acknowledge it), before paying for a verify (T24).
  // Not penalised: an honest writer's clock may be behind ours.
  if (entries.every((e) => e.expiresAt <= now)) throw new Refusal('BAD_REQUEST', 'every entry has expired', false);
  // A full set refuses newcomers whatever their signatures: say so before paying for verifies,
  // or a flood of fake providers costs one ML-DSA check each (T24). The merge re-checks.
  if (wouldBeFull(peek?.(), entries, now)) throw new Refusal('SET_FULL', 'the set holds its cap of entries from other signers', false);
  const valid = await Promise.all(entries.map((e) => verifyEntry(pool, key, e)));
  if (valid.includes(false)) throw new Refusal('INVALID_SIGNATURE', 'a set entry is not signed by its signer', true);
  return { value: bytes, decide: (stored) => setDecision(stored, entries, now) };
}

/** True when the stored set is full of live entries and none of `incoming`'s signers is among them. */
function wouldBeFull(stored: StoredValue | undefined, incoming: readonly SetEntry[], now: number): boolean {
  if (stored === undefined || stored.kind !== ValueKind.SET) return false;
  const live = liveEntries(decodeSet(stored.value) ?? [], now);
  if (live.length < MAX_SET_ENTRIES) return false;
  const signers = new Set(live.map((e) => idToHex(entrySigner(e))));
  return incoming.every((e) => !signers.has(idToHex(entrySigner(e))));
}

/** True when the entry is signed by the key it carries, for this set key. */
export function verifyEntry(pool: CryptoPool, key: Key, e: SetEntry): Promise<boolean> {
  return pool.verify({ publicKey: e.publicKey, message: setEntrySigningPayload(key, e.seq, e.expiresAt, e.value), signature: e.signature });
}

function setDecision(stored: StoredValue | null, incoming: readonly SetEntry[], now: number): PutDecision {
  const old = stored === null || stored.kind !== ValueKind.SET ? [] : decodeSet(stored.value) ?? [];
  const m = mergeSet(old, incoming, now);
  if (m.added + m.replaced === 0) {
    if (m.refusedFull > 0) return { action: 'refuse', error: new DhtError('SET_FULL', 'the set holds its cap of entries from other signers') };
    if (m.refusedStale > 0 && m.unchanged === 0) return { action: 'refuse', error: new DhtError('SEQ_TOO_LOW', 'set entry older than the stored one') };
    if (m.expired === 0) return { action: 'refresh' };
  }
  if (m.entries.length === 0) return { action: 'refuse', error: new DhtError('BAD_REQUEST', 'every entry has expired') };
  return { action: 'store', value: encodeSet(m.entries) };
}

/**
 * A ZkDhtValue, cheap checks first (docs/zk.md): sizes and shape, the proof's length and the nonce's
 * range (parseZkValue), then the nonce against the stored one — a replay costs a read, never a
 * proof check — then the key against the commitment and the proof against the signals built here,
 * in the ZK pool. The nonce is compared again inside the write transaction.
 */
async function acceptZk(zk: ZkPool, key: Key, bytes: Uint8Array, peek?: () => StoredValue | undefined): Promise<Accepted> {
  const parsed = parseZkValue(bytes);
  if ('problem' in parsed) {
    throw new Refusal(parsed.problem, `ZkDhtValue refused: ${parsed.problem}`, parsed.problem === 'BAD_REQUEST' || parsed.problem === 'INVALID_PROOF');
  }
  const value = parsed.value;
  const stale = staleNonce(peek?.() ?? null, value);
  if (stale !== null) throw new Refusal('STALE_NONCE', stale, false);
  let verdict: ZkVerdict;
  try {
    verdict = await verifyZkValue((signals, proof) => zk.check('storage_access', signals, proof), key, value);
  } catch (err) {
    if (err instanceof DhtError && err.code === 'BUSY') throw new Refusal('BUSY', err.message, false);
    throw err;
  }
  if (verdict === 'COMMITMENT_MISMATCH') throw new Refusal(verdict, 'the key is not derived from the value\'s commitment and name', true);
  if (verdict === 'INVALID_PROOF') throw new Refusal(verdict, 'the proof does not verify for this key, nonce and value', true);
  if (verdict === 'BUSY') throw new Refusal(verdict, 'the proof could not be checked in time; try later', false);
  return { value: bytes, decide: (stored) => {
    const reason = staleNonce(stored, value);
    return reason === null ? { action: 'store' } : { action: 'refuse', error: new DhtError('STALE_NONCE', reason) };
  } };
}

/** Why `incoming` may not replace the stored ZkDhtValue (its nonce is not above the stored one), or null. */
function staleNonce(stored: StoredValue | null, incoming: ZkDhtValue): string | null {
  // What we stored was checked on the way in; unreadable bytes (another kind) are replaced.
  const old = stored === null || stored.kind !== ValueKind.ZK ? null : decodeZkValue(stored.value);
  if (old === null || incoming.nonce > old.nonce) return null;
  return `nonce ${incoming.nonce} is not above the stored nonce ${old.nonce}`;
}
