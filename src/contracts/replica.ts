/**
 * The replica side of a contract environment (docs/contracts.md, "Part 2b"): receipts kept by
 * call id with a retention policy, the log of which call made each version (for state sync),
 * commits of write sets replicated from an instance's primary (version and previous-hash checked
 * in the write transaction, receipt stored in the same transaction), and paged snapshots of an
 * instance's whole state for a holder too far behind. The coordinator is the only writer.
 */
import { Packr, Unpackr } from 'msgpackr';
import { asBuffer, bytesEqual } from '../util/index.js';
import type { StateWrite } from './ids.js';
import { decodeInstance, encodeInstance, type InstanceMeta } from './records.js';
import { ContractStore, stateKey } from './state.js';

/** Receipts kept per instance at most; the oldest go first (docs/contracts.md, "Receipts"). */
export const DEFAULT_RECEIPTS_PER_INSTANCE = 4096;
/** Age after which a receipt may be dropped, ms (one week). */
export const DEFAULT_RECEIPT_MAX_AGE = 7 * 24 * 3600 * 1000;
/** Oldest receipts looked at for eviction per stored receipt (bounds the work of one commit). */
const EVICT_PER_STORE = 4;

/** A receipt as a holder keeps it. */
export interface StoredReceipt {
  instanceId: Uint8Array;
  /** The encoded receipt (call.ts encodeReceipt). */
  receipt: Uint8Array;
  /** The encoded signed call it answers. */
  call: Uint8Array;
  /** The instance's version after the call. */
  version: number;
  /** True when the call changed state (its version is in the version log). */
  applied: boolean;
  /** When this holder stored it, ms. */
  storedAt: number;
}

/** A write set replicated from the primary, already checked (hash chain, audit) in a worker. */
export interface ReplicatedCommit {
  instanceId: Uint8Array;
  /** The version after the call; for a call that changed nothing, the version it ran at. */
  version: number;
  previousHash: Uint8Array;
  stateHash: Uint8Array;
  writes: readonly StateWrite[];
  /** True when the call changed state (an ok call): version = current + 1. */
  applies: boolean;
}

/** How a replicated commit went. */
export type ReplicaOutcome = 'applied' | 'duplicate' | 'behind' | 'ahead' | 'fork' | 'missing';

/** One page of an instance's state. */
export interface SnapshotPage {
  meta: InstanceMeta;
  entries: Array<[Uint8Array, Uint8Array]>;
  /** The last key of this page when more follow, else null. */
  next: Uint8Array | null;
}

const packr = new Packr({ useRecords: false, moreTypes: false, variableMapSize: true });
const unpackr = new Unpackr({ useRecords: false, moreTypes: false, mapsAsObjects: false });

function u64key(id: Uint8Array, n: number): Buffer {
  const out = Buffer.alloc(40);
  out.set(id, 0);
  out.writeBigUInt64BE(BigInt(n), 32);
  return out;
}

function decodeStored(raw: Uint8Array): (StoredReceipt & { seq: number }) | null {
  try {
    const f = unpackr.unpack(raw) as unknown[];
    if (!Array.isArray(f) || f.length !== 8 || f[0] !== 1) return null;
    const [, instanceId, seq, storedAt, version, applied, receipt, call] = f as [number, Uint8Array, number, number, number, boolean, Uint8Array, Uint8Array];
    return { instanceId: new Uint8Array(instanceId), seq, storedAt, version, applied, receipt: new Uint8Array(receipt), call: new Uint8Array(call) };
  } catch {
    return null; // damaged record: treated as absent
  }
}

/** Retention of receipts. */
export interface ReceiptRetention {
  perInstance: number;
  maxAge: number;
}

/** The coordinator's contract store with the replica tables. */
export class ReplicaStore extends ContractStore {
  retention: ReceiptRetention = { perInstance: DEFAULT_RECEIPTS_PER_INSTANCE, maxAge: DEFAULT_RECEIPT_MAX_AGE };

  /** Opens (creating if needed) the environment at `path`. */
  static override open(path: string): ReplicaStore {
    if (typeof path !== 'string' || path === '') throw new TypeError('options.path must be a non-empty string');
    return new ReplicaStore(path, false);
  }

  /** The receipt stored under `callId`, or null. */
  receipt(callId: Uint8Array): StoredReceipt | null {
    const raw = this.t.receipts.getBinary(asBuffer(callId));
    if (raw === undefined) return null;
    const r = decodeStored(raw);
    if (r === null) return null;
    const { seq: _seq, ...out } = r;
    return out;
  }

  /** The call id that made `version` of an instance, when still kept. */
  callAt(instanceId: Uint8Array, version: number): Uint8Array | null {
    const raw = this.t.versions.getBinary(u64key(instanceId, version));
    return raw === undefined ? null : new Uint8Array(raw);
  }

  /** Stores the receipt of a call this node executed (its state is committed already); false when kept before. */
  storeReceipt(callId: Uint8Array, r: Omit<StoredReceipt, 'storedAt'>, now: number): Promise<boolean> {
    return this.t.root.transaction(() => this.#putReceipt(callId, r, now));
  }

  /**
   * Applies a replicated write set and stores its receipt in one transaction. An applying commit
   * needs the instance at version - 1 with `previousHash`; one that changes nothing needs the
   * instance at least at its version. Resolves with what happened (nothing written unless 'applied').
   */
  commitReplica(callId: Uint8Array, c: ReplicatedCommit, r: Omit<StoredReceipt, 'storedAt'>, now: number): Promise<ReplicaOutcome> {
    const id = Buffer.from(c.instanceId);
    return this.t.root.transaction((): ReplicaOutcome => {
      if (this.t.receipts.getBinary(asBuffer(callId)) !== undefined) return 'duplicate';
      const raw = this.t.instances.getBinary(id);
      const meta = raw === undefined ? null : decodeInstance(raw);
      if (meta === null) return 'missing';
      if (!c.applies) {
        if (meta.version < c.version) return 'behind';
        this.#putReceipt(callId, r, now);
        return 'applied';
      }
      if (meta.version < c.version - 1) return 'behind';
      if (meta.version === c.version && !bytesEqual(meta.stateHash, c.stateHash)) return 'fork';
      if (meta.version >= c.version) return 'ahead';
      if (!bytesEqual(meta.stateHash, c.previousHash)) return 'fork';
      for (const w of c.writes) {
        const key = stateKey(c.instanceId, w.key);
        void (w.value === null ? this.t.state.remove(key) : this.t.state.put(key, Buffer.from(w.value)));
      }
      void this.t.instances.put(id, Buffer.from(encodeInstance({ ...meta, version: c.version, stateHash: c.stateHash })));
      this.#putReceipt(callId, r, now);
      return 'applied';
    });
  }

  /** A page of an instance's state after key `after` (exclusive), at most `maxBytes` of entries (at least one). */
  snapshotPage(instanceId: Uint8Array, after: Uint8Array | null, maxBytes: number): SnapshotPage | null {
    const meta = this.instance(instanceId);
    if (meta === null) return null;
    const start = after === null ? Buffer.from(instanceId) : stateKey(instanceId, after);
    const entries: Array<[Uint8Array, Uint8Array]> = [];
    let bytes = 0;
    let next: Uint8Array | null = null;
    for (const { key, value } of this.t.state.getRange({ start })) {
      const k = key as Buffer;
      if (k.byteLength <= 32 || !bytesEqual(k.subarray(0, 32), instanceId)) break;
      const own = new Uint8Array(k.subarray(32));
      if (after !== null && bytesEqual(own, after)) continue;
      const size = own.byteLength + (value as Buffer).byteLength + 16;
      if (entries.length > 0 && bytes + size > maxBytes) {
        next = entries[entries.length - 1]![0];
        break;
      }
      entries.push([own, new Uint8Array(value as Buffer)]);
      bytes += size;
    }
    return { meta, entries, next };
  }

  /**
   * Replaces an instance's whole state and metadata with a snapshot (a holder catching up); only
   * an older copy is replaced, or with `replace` (a holder on a losing fork) one not newer.
   */
  installSnapshot(instanceId: Uint8Array, meta: InstanceMeta, entries: ReadonlyArray<[Uint8Array, Uint8Array]>, replace = false): Promise<boolean> {
    const id = Buffer.from(instanceId);
    return this.t.root.transaction(() => {
      const raw = this.t.instances.getBinary(id);
      const old = raw === undefined ? null : decodeInstance(raw);
      if (old !== null && (replace ? old.version > meta.version : old.version >= meta.version)) return false;
      for (const { key } of this.t.state.getRange({ start: id })) {
        const k = key as Buffer;
        if (k.byteLength <= 32 || !bytesEqual(k.subarray(0, 32), instanceId)) break;
        void this.t.state.remove(k);
      }
      for (const [k, v] of entries) void this.t.state.put(stateKey(instanceId, k), Buffer.from(v));
      void this.t.instances.put(id, Buffer.from(encodeInstance(meta)));
      return true;
    });
  }

  /** Inside a write transaction: stores one receipt and evicts what the retention policy drops. */
  #putReceipt(callId: Uint8Array, r: Omit<StoredReceipt, 'storedAt'>, now: number): boolean {
    const key = Buffer.from(callId);
    if (this.t.receipts.getBinary(key) !== undefined) return false;
    const id = Buffer.from(r.instanceId);
    const countRaw = this.t.receiptCounts.getBinary(id);
    let [count, seq] = countRaw === undefined ? [0, 0] : unpackr.unpack(countRaw) as [number, number];
    void this.t.receipts.put(key, Buffer.from(packr.pack([1, r.instanceId, seq, now, r.version, r.applied, r.receipt, r.call])));
    void this.t.receiptOrder.put(u64key(r.instanceId, seq), key);
    if (r.applied) void this.t.versions.put(u64key(r.instanceId, r.version), key);
    count++;
    seq++;
    for (let i = 0; i < EVICT_PER_STORE && count > 0; i++) {
      let oldest: { key: Buffer; value: Buffer } | undefined;
      for (const e of this.t.receiptOrder.getRange({ start: u64key(r.instanceId, 0), end: u64key(r.instanceId, seq), limit: 1 })) oldest = e as { key: Buffer; value: Buffer };
      if (oldest === undefined) break;
      const old = this.t.receipts.getBinary(oldest.value);
      const stored = old === undefined ? null : decodeStored(old);
      const expired = stored === null || stored.storedAt < now - this.retention.maxAge;
      if (count <= this.retention.perInstance && !expired) break;
      void this.t.receiptOrder.remove(oldest.key);
      void this.t.receipts.remove(oldest.value);
      if (stored?.applied === true) void this.t.versions.remove(u64key(r.instanceId, stored.version));
      count--;
    }
    void this.t.receiptCounts.put(id, Buffer.from(packr.pack([count, seq])));
    return true;
  }
}
