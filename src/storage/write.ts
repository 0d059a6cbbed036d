/**
 * The bodies of the store's write transactions. Each runs inside one LMDB child transaction on
 * the main thread, decides from what it reads, then writes values, meta and the expiry index
 * together, so the three tables never disagree. A refusal is a returned value, not a throw.
 */
import type { Key } from '../id/index.js';
import { asBuffer, bytesEqual } from '../util/index.js';
import { decodeExpiryKey, encodeExpiryKey, encodeMeta, expiredBound, fastView } from './codec.js';
import { SWEEP_BATCH } from './constants.js';
import { isLive, type Ledger, readMeta, readValueView } from './read.js';
import { mapOverflow, type Tables } from './tables.js';
import type { PutOutcome, RecordMeta } from './types.js';

const EMPTY = Buffer.alloc(0);

/** What a write transaction works with; `delta` collects its changes to the ledger. */
export interface TxnContext {
  readonly t: Tables;
  readonly ledger: Ledger;
  /** Changes this transaction made to `ledger`, undone if its commit fails. */
  readonly delta: Ledger;
  readonly now: number;
  readonly capBytes: number;
  readonly mapSize: number;
}

/** A record ready to write: key and value are the store's own copies. */
export interface NewRecord {
  readonly key: Key;
  readonly value: Buffer;
  readonly meta: RecordMeta;
}

/** Outcome of a put transaction; `swept` counts expired records removed to make room. */
export type PutTxnResult =
  | { readonly outcome: PutOutcome; readonly swept: number }
  | { readonly outcome: 'full'; readonly needed: number; readonly swept: number };

function account(c: TxnContext, records: number, bytes: number): void {
  c.ledger.records += records;
  c.ledger.bytes += bytes;
  c.delta.records += records;
  c.delta.bytes += bytes;
}

/** Stores `rec`, refreshes identical live bytes, or reports how many bytes are missing. */
export function putInTxn(c: TxnContext, rec: NewRecord): PutTxnResult {
  let old = readMeta(c.t, rec.key);
  if (isLive(old, c.now) && old.size === rec.meta.size && sameValue(c.t, rec)) {
    refresh(c, rec.key, old, rec.meta.expiresAt);
    return { outcome: 'refreshed', swept: 0 };
  }
  let swept = 0;
  let needed = shortfall(c, rec.meta.size, old);
  if (needed > 0) {
    // Expired records still hold room until a sweep: reclaim some before refusing.
    swept = sweepInTxn(c, SWEEP_BATCH).removed;
    old = readMeta(c.t, rec.key);
    needed = shortfall(c, rec.meta.size, old);
  }
  if (needed > 0) return { outcome: 'full', needed, swept };
  if (old !== null) c.t.expiry.removeSync(encodeExpiryKey(old.expiresAt, rec.key));
  c.t.values.putSync(asBuffer(rec.key), rec.value);
  c.t.meta.putSync(asBuffer(rec.key), encodeMeta(rec.meta));
  c.t.expiry.putSync(encodeExpiryKey(rec.meta.expiresAt, rec.key), EMPTY);
  account(c, old === null ? 1 : 0, rec.meta.size - (old?.size ?? 0));
  return { outcome: 'stored', swept };
}

function sameValue(t: Tables, rec: NewRecord): boolean {
  const stored = readValueView(t, rec.key);
  return stored !== undefined && bytesEqual(stored, rec.value);
}

/** Bytes missing for a value of `size` replacing `old`: over the cap first, then over the map. */
function shortfall(c: TxnContext, size: number, old: RecordMeta | null): number {
  const overCap = c.ledger.bytes - (old?.size ?? 0) + size - c.capBytes;
  if (overCap > 0) return overCap;
  return mapOverflow(c.t, size, c.mapSize);
}

/** Moves a live record's expiry later (never earlier) and its index entry with it. */
function refresh(c: TxnContext, key: Key, old: RecordMeta, expiresAt: number): void {
  if (expiresAt <= old.expiresAt) return;
  c.t.expiry.removeSync(encodeExpiryKey(old.expiresAt, key));
  c.t.expiry.putSync(encodeExpiryKey(expiresAt, key), EMPTY);
  c.t.meta.putSync(asBuffer(key), encodeMeta({ ...old, expiresAt }));
}

function removeRecord(c: TxnContext, key: Key, meta: RecordMeta): void {
  c.t.values.removeSync(asBuffer(key));
  c.t.meta.removeSync(asBuffer(key));
  c.t.expiry.removeSync(encodeExpiryKey(meta.expiresAt, key));
  account(c, -1, -meta.size);
}

/** Removes the record under `key`; true when it was live (an expired one is removed silently). */
export function deleteInTxn(c: TxnContext, key: Key): boolean {
  const old = readMeta(c.t, key);
  if (old === null) return false;
  removeRecord(c, key, old);
  return isLive(old, c.now);
}

/**
 * Removes up to `limit` records expired at `c.now`, walking the expiry index from its start.
 * `scanned` counts index entries read; fewer than `limit` means none is left.
 */
export function sweepInTxn(c: TxnContext, limit: number): { removed: number; scanned: number } {
  const due = Array.from(c.t.expiry.getKeys({ end: expiredBound(c.now), limit }), (k) => Buffer.from(fastView(k)));
  let removed = 0;
  for (const indexKey of due) {
    const entry = decodeExpiryKey(indexKey);
    const meta = entry === null ? null : readMeta(c.t, entry.key);
    if (entry !== null && meta !== null && meta.expiresAt === entry.expiresAt) {
      removeRecord(c, entry.key, meta);
      removed++;
    } else {
      c.t.expiry.removeSync(indexKey); // an entry the record no longer points to
    }
  }
  return { removed, scanned: due.length };
}
