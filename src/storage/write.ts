/**
 * The bodies of the store's write transactions. Each runs inside one LMDB child transaction on
 * the main thread, decides from what it reads, then writes values, meta and the expiry index
 * together, so the three tables never disagree. A refusal is a returned value, not a throw.
 */
import type { Key } from '../id/index.js';
import { asBuffer, bytesEqual } from '../util/index.js';
import { DhtError } from '../util/index.js';
import {
  decodeExpiryKey, encodeExpiryKey, encodeMeta, encodeSourceKey, expiredBound, fastView, keyOfSourceKey, sourceOf, sourceRange,
} from './codec.js';
import { SELF_SOURCE, SWEEP_BATCH } from './constants.js';
import { isLive, type Ledger, readMeta, readValueView, tally } from './read.js';
import { mapOverflow, type Tables } from './tables.js';
import type { PutDecision, PutOutcome, RecordMeta, StoredValue } from './types.js';

const EMPTY = Buffer.alloc(0);

/** What a write transaction works with; `delta` collects its changes to the ledger. */
export interface TxnContext {
  readonly t: Tables;
  readonly ledger: Ledger;
  /** Changes this transaction made to `ledger`, undone if its commit fails. */
  readonly delta: LedgerDelta;
  readonly now: number;
  readonly capBytes: number;
  readonly mapSize: number;
  readonly perSourceBytes: number;
  readonly maxValueBytes: number;
}

/**
 * Thrown inside a write transaction to undo everything it did (evictions included) and still
 * hand `result` to the caller: a put that evicted and then did not fit must not lose data.
 */
export class Rollback<T> {
  constructor(readonly result: T) {}
}

/** A transaction's changes to the ledger, so a failed commit can undo them. */
export interface LedgerDelta {
  records: number;
  bytes: number;
  readonly sources: Array<{ source: string; records: number; bytes: number }>;
  /** Records evicted at the global cap, by source. */
  readonly evicted: Map<string, number>;
}

/** An empty delta. */
export function newDelta(): LedgerDelta {
  return { records: 0, bytes: 0, sources: [], evicted: new Map() };
}

/** A record ready to write: key and value are the store's own copies. */
export interface NewRecord {
  readonly key: Key;
  readonly value: Buffer;
  readonly meta: RecordMeta;
  readonly decide?: (stored: StoredValue | null) => PutDecision;
}

/** Outcome of a put transaction; `swept` counts expired records removed to make room. */
export type PutTxnResult =
  | { readonly outcome: PutOutcome; readonly swept: number }
  | { readonly outcome: 'full'; readonly needed: number; readonly swept: number; readonly quota: boolean }
  | { readonly outcome: 'refused'; readonly error: DhtError; readonly swept: number };

function account(c: TxnContext, meta: RecordMeta, records: number): void {
  const bytes = records * meta.size;
  const source = sourceOf(meta.origin);
  c.ledger.records += records;
  c.ledger.bytes += bytes;
  c.delta.records += records;
  c.delta.bytes += bytes;
  tally(c.ledger.sources, source, records, bytes);
  c.delta.sources.push({ source, records, bytes });
}

/**
 * Stores `rec`, refreshes the live record, or refuses: the `decide` callback's choice (default:
 * identical bytes refresh, others replace), then the per-source quota, then the cap and map,
 * evicting the oldest records of the heaviest source when the cap is what stands in the way.
 */
export function putInTxn(c: TxnContext, rec: NewRecord): PutTxnResult {
  const old = readMeta(c.t, rec.key);
  const live = isLive(old, c.now) ? old : null;
  const decision = decideInTxn(c, rec, live);
  if (decision.action === 'refuse') return { outcome: 'refused', error: decision.error, swept: 0 };
  if (decision.action === 'refresh' && live !== null) {
    refresh(c, rec.key, live, rec.meta.expiresAt);
    return { outcome: 'refreshed', swept: 0 };
  }
  const value = decision.action === 'store' && decision.value !== undefined ? Buffer.from(decision.value) : rec.value;
  if (value.byteLength > c.maxValueBytes) {
    return { outcome: 'refused', error: DhtError.valueTooBig(value.byteLength, c.maxValueBytes), swept: 0 };
  }
  const meta = { ...rec.meta, size: value.byteLength };
  let swept = 0;
  if (overQuota(c, meta, readMeta(c.t, rec.key))) {
    swept = sweepInTxn(c, SWEEP_BATCH).removed; // a source's expired records do not count against it
    if (overQuota(c, meta, readMeta(c.t, rec.key))) return { outcome: 'full', needed: meta.size, swept, quota: true };
  }
  const room = makeRoom(c, meta, rec.key);
  swept += room.swept;
  if (room.needed > 0) {
    const refused: PutTxnResult = { outcome: 'full', needed: room.needed, swept, quota: false };
    if (room.evicted > 0) throw new Rollback(refused); // evicting and refusing anyway would only lose data
    return refused;
  }
  const current = readMeta(c.t, rec.key); // makeRoom may have swept or evicted it
  if (current !== null) removeRecord(c, rec.key, current);
  c.t.values.putSync(asBuffer(rec.key), value);
  c.t.meta.putSync(asBuffer(rec.key), encodeMeta(meta));
  c.t.expiry.putSync(encodeExpiryKey(meta.expiresAt, rec.key), EMPTY);
  c.t.sources.putSync(encodeSourceKey(sourceOf(meta.origin), meta.storedAt, rec.key), EMPTY);
  account(c, meta, 1);
  return { outcome: 'stored', swept };
}

function decideInTxn(c: TxnContext, rec: NewRecord, live: RecordMeta | null): PutDecision {
  if (rec.decide !== undefined) {
    const view = live === null ? undefined : readValueView(c.t, rec.key);
    // The view is only valid until the next read: decide runs before any.
    return rec.decide(live === null || view === undefined ? null : { ...live, value: view });
  }
  return live !== null && live.size === rec.meta.size && sameValue(c.t, rec) ? { action: 'refresh' } : { action: 'store' };
}

/** True when the record's source would hold more than its quota (the node's own writes are exempt). */
function overQuota(c: TxnContext, meta: RecordMeta, old: RecordMeta | null): boolean {
  const source = sourceOf(meta.origin);
  if (source === SELF_SOURCE) return false;
  const held = c.ledger.sources.get(source)?.bytes ?? 0;
  const replaced = old !== null && sourceOf(old.origin) === source ? old.size : 0;
  return held - replaced + meta.size > c.perSourceBytes;
}

/**
 * Frees room for `meta` under `key`: expired records first, then, while the cap is exceeded,
 * the oldest record of the heaviest other-than-self source (OpenDHT's policy: whoever stores
 * most gives way first). The map-size check never evicts: a full disk is not a quota matter.
 */
function makeRoom(c: TxnContext, meta: RecordMeta, key: Key): { needed: number; swept: number; evicted: number } {
  let swept = 0;
  let evicted = 0;
  let needed = shortfall(c, meta.size, readMeta(c.t, key));
  if (needed > 0) {
    swept = sweepInTxn(c, SWEEP_BATCH).removed; // expired records still hold room until a sweep
    needed = shortfall(c, meta.size, readMeta(c.t, key));
  }
  for (let i = 0; needed > 0 && i < MAX_EVICTIONS_PER_PUT && overCap(c, meta.size, readMeta(c.t, key)) > 0; i++) {
    if (!evictOldestOfHeaviest(c)) break;
    evicted++;
    needed = shortfall(c, meta.size, readMeta(c.t, key));
  }
  return { needed, swept, evicted };
}

/** Evictions one put may cause: bounds the transaction (a maximal value displaces ~a few records). */
const MAX_EVICTIONS_PER_PUT = 64;

function evictOldestOfHeaviest(c: TxnContext): boolean {
  let heaviest: string | null = null;
  let most = 0;
  for (const [source, t] of c.ledger.sources) {
    if (source !== SELF_SOURCE && t.bytes > most) { heaviest = source; most = t.bytes; }
  }
  if (heaviest === null) return false;
  const { start, end } = sourceRange(heaviest);
  for (const indexKey of c.t.sources.getKeys({ start, end, limit: 1 })) {
    const key = keyOfSourceKey(fastView(indexKey));
    const meta = key === null ? null : readMeta(c.t, key);
    if (key === null || meta === null) {
      c.t.sources.removeSync(Buffer.from(fastView(indexKey))); // an index entry nothing points to
      return true;
    }
    removeRecord(c, key, meta);
    c.delta.evicted.set(heaviest, (c.delta.evicted.get(heaviest) ?? 0) + 1);
    return true;
  }
  return false;
}

function sameValue(t: Tables, rec: NewRecord): boolean {
  const stored = readValueView(t, rec.key);
  return stored !== undefined && bytesEqual(stored, rec.value);
}

function overCap(c: TxnContext, size: number, old: RecordMeta | null): number {
  return c.ledger.bytes - (old?.size ?? 0) + size - c.capBytes;
}

/** Bytes missing for a value of `size` replacing `old`: over the cap first, then over the map. */
function shortfall(c: TxnContext, size: number, old: RecordMeta | null): number {
  const cap = overCap(c, size, old);
  if (cap > 0) return cap;
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
  c.t.sources.removeSync(encodeSourceKey(sourceOf(meta.origin), meta.storedAt, key));
  account(c, meta, -1);
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
