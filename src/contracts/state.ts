/**
 * Contract code and state in their own LMDB environment (`<path>`): `code` (code hash → code
 * record), `instances` (instance id → metadata) and `state` (instance id ‖ key → value). The
 * coordinator opens it read-write and is its only writer; each contract worker opens it read-only
 * and reads synchronously while a call runs (LMDB serves readers in other threads without locks).
 * Writes come back from the workers as write sets, committed here atomically with a version check.
 */
import { type Database, open, type RootDatabase } from 'lmdb';
import { asBuffer } from '../util/index.js';
import type { StateWrite } from './ids.js';
import { type CodeRecord, decodeCode, decodeInstance, encodeCode, encodeInstance, type InstanceMeta } from './records.js';

/** The tables of one contract environment. */
interface Tables {
  readonly root: RootDatabase<Buffer, Buffer>;
  readonly code: Database<Buffer, Buffer>;
  readonly instances: Database<Buffer, Buffer>;
  readonly state: Database<Buffer, Buffer>;
  /** Receipts of calls by call id (part 2b; replica.ts). */
  readonly receipts: Database<Buffer, Buffer>;
  /** instance id ‖ u64be seq → call id: receipts in the order stored (for retention). */
  readonly receiptOrder: Database<Buffer, Buffer>;
  /** instance id ‖ u64be version → call id: the call that made each version (state sync). */
  readonly versions: Database<Buffer, Buffer>;
  /** instance id → msgpack [count, next seq] of its receipts. */
  readonly receiptCounts: Database<Buffer, Buffer>;
}

/** A version-checked change of one instance: what a batch of its calls produced. */
export interface InstanceCommit {
  instanceId: Uint8Array;
  /** The version the calls read; the commit applies only while the stored version is still this. */
  baseVersion: number;
  /** The version after the calls (baseVersion + successful calls). */
  version: number;
  stateHash: Uint8Array;
  /** Merged writes of the calls, last write of a key wins. */
  writes: StateWrite[];
}

function openTables(path: string, readOnly: boolean): Tables {
  // As the value store (src/storage): commits resolve only after fsync, binary keys and values.
  const root = open<Buffer, Buffer>({ path, readOnly, maxDbs: 8, overlappingSync: false, encoding: 'binary', keyEncoding: 'binary' });
  const binary = { encoding: 'binary', keyEncoding: 'binary', readOnly } as const;
  return {
    root,
    code: root.openDB<Buffer, Buffer>({ name: 'code', ...binary }),
    instances: root.openDB<Buffer, Buffer>({ name: 'instances', ...binary }),
    state: root.openDB<Buffer, Buffer>({ name: 'state', ...binary }),
    receipts: root.openDB<Buffer, Buffer>({ name: 'receipts', ...binary }),
    receiptOrder: root.openDB<Buffer, Buffer>({ name: 'receipt-order', ...binary }),
    versions: root.openDB<Buffer, Buffer>({ name: 'versions', ...binary }),
    receiptCounts: root.openDB<Buffer, Buffer>({ name: 'receipt-counts', ...binary }),
  };
}

/** The state-table key of `key` in instance `id`: id ‖ key. */
export function stateKey(id: Uint8Array, key: Uint8Array): Buffer {
  return Buffer.concat([asBuffer(id), asBuffer(key)]);
}

/** Synchronous reads of contract code and state, as a contract worker makes them. */
export class StateReader {
  protected readonly t: Tables;

  constructor(path: string, readOnly = true) {
    this.t = openTables(path, readOnly);
  }

  /**
   * Starts reading from the latest committed state. lmdb-js renews a thread's read transaction
   * from a timer, which never fires in a Piscina worker that blocks between tasks; without this a
   * worker would keep reading the snapshot of its first task. Until the next refresh, every read
   * comes from this one snapshot.
   */
  refresh(): void {
    this.t.root.resetReadTxn();
  }

  /** The code record under `codeHash`, or null. */
  code(codeHash: Uint8Array): CodeRecord | null {
    const raw = this.t.code.getBinary(asBuffer(codeHash));
    return raw === undefined ? null : decodeCode(raw);
  }

  /** An instance's metadata, or null when it does not exist. */
  instance(id: Uint8Array): InstanceMeta | null {
    const raw = this.t.instances.getBinary(asBuffer(id));
    return raw === undefined ? null : decodeInstance(raw);
  }

  /**
   * The committed value of `key` in instance `id`, or null. A zero-copy view (lmdb-js
   * getBinaryFast): valid only until the next read or write in this thread, so copy it at once.
   */
  view(id: Uint8Array, key: Uint8Array): Uint8Array | null {
    const raw = this.t.state.getBinaryFast(stateKey(id, key));
    return raw === undefined ? null : new Uint8Array(raw.buffer, raw.byteOffset, raw.length);
  }

  /** Like `view`, but the caller's own copy. */
  get(id: Uint8Array, key: Uint8Array): Uint8Array | null {
    const v = this.view(id, key);
    return v === null ? null : v.slice();
  }

  /** Closes this thread's handle on the environment. */
  close(): Promise<void> {
    return this.t.root.close();
  }
}

/** The coordinator's side: the only writer, committing write sets with a version check. */
export class ContractStore extends StateReader {
  /** Opens (creating if needed) the environment at `path`. */
  static open(path: string): ContractStore {
    if (typeof path !== 'string' || path === '') throw new TypeError('options.path must be a non-empty string');
    return new ContractStore(path, false);
  }

  /** Stores a code record (replacing one of another meter version). */
  async putCode(codeHash: Uint8Array, record: CodeRecord): Promise<void> {
    await this.t.code.put(Buffer.from(codeHash), Buffer.from(encodeCode(record)));
  }

  /** Creates an instance at version 0; false when the id exists already. */
  createInstance(id: Uint8Array, meta: InstanceMeta): Promise<boolean> {
    const key = Buffer.from(id);
    return this.t.root.transaction(() => {
      if (this.t.instances.getBinary(key) !== undefined) return false;
      void this.t.instances.put(key, Buffer.from(encodeInstance(meta)));
      return true;
    });
  }

  /**
   * Applies `c` in one transaction if the instance is still at `c.baseVersion`: its writes, its
   * new version and state hash, all or nothing. Resolves false (nothing written) when the version
   * moved or the instance is gone: the calls must run again on the new state.
   */
  commit(c: InstanceCommit): Promise<boolean> {
    const id = Buffer.from(c.instanceId);
    return this.t.root.transaction(() => {
      const raw = this.t.instances.getBinary(id);
      const meta = raw === undefined ? null : decodeInstance(raw);
      if (meta === null || meta.version !== c.baseVersion) return false;
      for (const w of c.writes) {
        const key = stateKey(c.instanceId, w.key);
        void (w.value === null ? this.t.state.remove(key) : this.t.state.put(key, Buffer.from(w.value)));
      }
      void this.t.instances.put(id, Buffer.from(encodeInstance({ ...meta, version: c.version, stateHash: c.stateHash })));
      return true;
    });
  }
}
