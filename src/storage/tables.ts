/**
 * The LMDB environment and its four tables, and the page accounting that enforces `mapSize`.
 * lmdb-js patches LMDB to grow the memory map whenever a write needs more room, so MDB_MAP_FULL
 * practically never happens; a node that must stay inside a disk budget checks pages itself.
 */
import { type Database, open, type RootDatabase } from 'lmdb';

/** The tables of one store, all in one environment so a write spans them atomically. */
export interface Tables {
  readonly root: RootDatabase<Buffer, Buffer>;
  /** key (32 bytes) → value bytes. */
  readonly values: Database<Buffer, Buffer>;
  /** key (32 bytes) → encoded RecordMeta. */
  readonly meta: Database<Buffer, Buffer>;
  /** orderedTime(expiresAt) ‖ key → empty: records in expiry order. */
  readonly expiry: Database<Buffer, Buffer>;
  /** source ‖ 0 ‖ orderedTime(storedAt) ‖ key → empty: each source's records, oldest first (quotas). */
  readonly sources: Database<Buffer, Buffer>;
  /** name → node-level blobs (routing snapshot, ...). Not counted against the cap. */
  readonly node: Database<Buffer, string>;
}

/** Opens (creating if needed) the environment at `path` and its tables. */
export function openTables(path: string, mapSize: number): Tables {
  const root = open<Buffer, Buffer>({
    path,
    // Initial map only: lmdb-js grows it on demand (see usedBytes).
    mapSize,
    // A commit resolves only after fsync: with overlapping sync (lmdb-js's default on Linux) a
    // put resolves once visible but a crash could still roll it back, which would make a STORE
    // acknowledgement a lie.
    overlappingSync: false,
    encoding: 'binary',
    keyEncoding: 'binary',
    maxDbs: 8,
  });
  const binary = { encoding: 'binary', keyEncoding: 'binary' } as const;
  return {
    root,
    values: root.openDB<Buffer, Buffer>({ name: 'values', ...binary }),
    meta: root.openDB<Buffer, Buffer>({ name: 'meta', ...binary }),
    expiry: root.openDB<Buffer, Buffer>({ name: 'expiry', ...binary }),
    sources: root.openDB<Buffer, Buffer>({ name: 'sources', ...binary }),
    node: root.openDB<Buffer, string>({ name: 'node', encoding: 'binary', keyEncoding: 'ordered-binary' }),
  };
}

interface PageStats {
  pageSize: number;
  treeBranchPageCount: number;
  treeLeafPageCount: number;
  overflowPages: number;
}

function pagesOf(stats: unknown): PageStats {
  const s = stats as Partial<Record<keyof PageStats, unknown>>;
  const n = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
  return {
    pageSize: n(s.pageSize),
    treeBranchPageCount: n(s.treeBranchPageCount),
    treeLeafPageCount: n(s.treeLeafPageCount),
    overflowPages: n(s.overflowPages),
  };
}

function treePages(p: PageStats): number {
  return p.treeBranchPageCount + p.treeLeafPageCount + p.overflowPages;
}

/**
 * Bytes of the pages holding live data: every table's B-tree and overflow pages plus the main
 * and free-list trees and LMDB's two meta pages. Pages freed by deletes are not counted, since
 * LMDB reuses them; inside a write transaction the figures include its uncommitted writes.
 */
export function usedBytes(t: Tables): { used: number; pageSize: number } {
  const all = t.values.getStats() as { root?: unknown; free?: unknown };
  const values = pagesOf(all);
  let pages = 2 + treePages(values) + treePages(pagesOf(all.root)) + treePages(pagesOf(all.free));
  for (const db of [t.meta, t.expiry, t.sources, t.node]) pages += treePages(pagesOf(db.getStats()));
  const pageSize = values.pageSize > 0 ? values.pageSize : 4096;
  return { used: pages * pageSize, pageSize };
}

/**
 * How many bytes past `mapSize` a new record of `size` value bytes could take the database
 * (0 when it fits): its overflow pages plus two pages for leaf splits in the small tables.
 */
export function mapOverflow(t: Tables, size: number, mapSize: number): number {
  const { used, pageSize } = usedBytes(t);
  const footprint = (Math.ceil(size / pageSize) + 2) * pageSize;
  return Math.max(0, used + footprint - mapSize);
}
