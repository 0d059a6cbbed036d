/**
 * Synchronous reads of the store's tables (lmdb-js reads are synchronous by design: a lookup is
 * a memory-mapped B-tree walk, faster than an event-loop turn). Inside a write transaction they
 * see its uncommitted writes.
 */
import type { Key } from '../id/index.js';
import { asBuffer } from '../util/index.js';
import { decodeMeta, fastView } from './codec.js';
import type { Tables } from './tables.js';
import type { RecordMeta, StoredEntry } from './types.js';

/** Running totals of the stored records, kept in memory and recomputed on open. */
export interface Ledger {
  records: number;
  bytes: number;
}

/** The record's metadata, decoded at once (getBinaryFast's buffer is overwritten by any read). */
export function readMeta(t: Tables, key: Uint8Array): RecordMeta | null {
  const raw = t.meta.getBinaryFast(asBuffer(key));
  return raw === undefined ? null : decodeMeta(fastView(raw));
}

/** A zero-copy view of the stored value, valid until the next read or write. */
export function readValueView(t: Tables, key: Uint8Array): Uint8Array | undefined {
  const raw = t.values.getBinaryFast(asBuffer(key));
  return raw === undefined ? undefined : fastView(raw);
}

/** True when `meta` describes a record that has not expired at `now`. */
export function isLive(meta: RecordMeta | null, now: number): meta is RecordMeta {
  return meta !== null && now < meta.expiresAt;
}

/** Counts the records and value bytes on disk (expired ones included: they still take room). */
export function scanLedger(t: Tables): Ledger {
  const ledger: Ledger = { records: 0, bytes: 0 };
  for (const { value } of t.meta.getRange()) {
    const meta = decodeMeta(fastView(value));
    if (meta === null) continue; // unreadable: treated as absent, and overwritten by the next put
    ledger.records++;
    ledger.bytes += meta.size;
  }
  return ledger;
}

/**
 * The live records in key order. The cursor reads one snapshot; iterate without awaiting in
 * between (or collect with Array.from) so the read transaction does not stay open.
 */
export function* liveEntries(t: Tables, now: () => number): Generator<StoredEntry> {
  for (const { key, value } of t.meta.getRange()) {
    const meta = decodeMeta(fastView(value));
    if (!isLive(meta, now())) continue;
    yield { key: new Uint8Array(fastView(key)) as Key, ...meta };
  }
}
