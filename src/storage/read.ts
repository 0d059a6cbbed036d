/**
 * Synchronous reads of the store's tables (lmdb-js reads are synchronous by design: a lookup is
 * a memory-mapped B-tree walk, faster than an event-loop turn). Inside a write transaction they
 * see its uncommitted writes.
 */
import type { Key } from '../id/index.js';
import { asBuffer } from '../util/index.js';
import { decodeMeta, encodeSourceKey, fastView, sourceOf } from './codec.js';
import type { Tables } from './tables.js';
import type { RecordMeta, StoredEntry } from './types.js';

/** One source's share of the store. */
export interface SourceTally {
  records: number;
  bytes: number;
}

/** Running totals of the stored records, kept in memory and recomputed on open. */
export interface Ledger {
  records: number;
  bytes: number;
  /** Per quota source (see sourceOf): what it holds. Sources with nothing are deleted. */
  sources: Map<string, SourceTally>;
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
  const ledger: Ledger = { records: 0, bytes: 0, sources: new Map() };
  for (const { value } of t.meta.getRange()) {
    const meta = decodeMeta(fastView(value));
    if (meta === null) continue; // unreadable: treated as absent, and overwritten by the next put
    ledger.records++;
    ledger.bytes += meta.size;
    tally(ledger.sources, sourceOf(meta.origin), 1, meta.size);
  }
  return ledger;
}

/** Adds `records` and `bytes` (either may be negative) to a source's tally. */
export function tally(sources: Map<string, SourceTally>, source: string, records: number, bytes: number): void {
  const t = sources.get(source) ?? { records: 0, bytes: 0 };
  t.records += records;
  t.bytes += bytes;
  if (t.records <= 0) sources.delete(source);
  else sources.set(source, t);
}

/**
 * Rebuilds the source index from the meta table when it is empty but records exist: a store
 * written before the index existed (meta version 1). Runs once, at open.
 */
export function rebuildSourceIndex(t: Tables): number {
  if (t.sources.getKeysCount({ limit: 1 }) > 0) return 0;
  const entries = Array.from(t.meta.getRange(), ({ key, value }) => ({ key: new Uint8Array(fastView(key)) as Key, meta: decodeMeta(fastView(value)) }));
  let n = 0;
  t.root.transactionSync(() => {
    for (const { key, meta } of entries) {
      if (meta === null) continue;
      t.sources.putSync(encodeSourceKey(sourceOf(meta.origin), meta.storedAt, key), Buffer.alloc(0));
      n++;
    }
  });
  return n;
}

/**
 * The live records in key order. The cursor reads one snapshot; iterate without awaiting in
 * between (or collect with Array.from) so the read transaction does not stay open.
 */
export function* liveEntries(t: Tables, now: () => number, from?: Key): Generator<StoredEntry> {
  const range = from === undefined ? undefined : { start: Buffer.from(from.buffer, from.byteOffset, from.byteLength) };
  for (const { key, value } of t.meta.getRange(range)) {
    const meta = decodeMeta(fastView(value));
    if (!isLive(meta, now())) continue;
    yield { key: new Uint8Array(fastView(key)) as Key, ...meta };
  }
}
