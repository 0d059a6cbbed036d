/**
 * The check a follower runs in a contract worker before it commits a write set replicated from
 * an instance's primary (docs/contracts.md, "Part 2b"): the update must extend this holder's
 * state (version and previous state hash), its state hash must be the chain over its writes, and
 * with the audit on the call is executed again here on this holder's state: gas is deterministic,
 * so status, gas, output, events, writes and the new state hash must all be equal.
 */
import type { Executor } from './execute.js';
import { nextStateHash } from './ids.js';
import type { CallTask, Receipt } from './receipt.js';
import type { StateReader } from './state.js';

/** What a follower checks. */
export interface UpdateCheck {
  version: number;
  previousHash: Uint8Array;
  stateHash: Uint8Array;
  /** The signed call as the engine runs it (caller = BLAKE3 of its key). */
  call: CallTask;
  /** The primary's receipt: its writes are the write set. */
  receipt: Receipt;
  /** Execute the call again and compare. */
  audit: boolean;
}

/** The verdict: 'ok' to commit, else why not (behind: sync first; ahead: old news; the rest: refuse). */
export type UpdateVerdict = 'ok' | 'missing' | 'behind' | 'ahead' | 'fork' | 'hash_mismatch' | 'audit_mismatch';

/** Checks `u` against the committed state this worker reads; audits when asked. */
export function checkUpdate(executor: Executor, reader: Pick<StateReader, 'refresh' | 'instance'>, u: UpdateCheck): { verdict: UpdateVerdict; audited: boolean; detail?: string } {
  reader.refresh();
  const meta = reader.instance(u.call.instance);
  if (meta === null) return { verdict: 'missing', audited: false };
  const applies = u.receipt.status === 'ok';
  if (applies) {
    if (meta.version < u.version - 1) return { verdict: 'behind', audited: false };
    // The same version with another state hash: this holder applied another call there (a primary that failed over).
    if (meta.version === u.version && !same(meta.stateHash, u.stateHash)) return { verdict: 'fork', audited: false };
    if (meta.version >= u.version) return { verdict: 'ahead', audited: false };
    if (!same(meta.stateHash, u.previousHash)) return { verdict: 'fork', audited: false };
    if (u.receipt.version !== u.version || !same(u.receipt.stateHash, u.stateHash)
      || !same(nextStateHash(u.previousHash, u.version, u.receipt.writes), u.stateHash)) {
      return { verdict: 'hash_mismatch', audited: false, detail: 'the state hash is not the chain over the write set' };
    }
  } else {
    if (meta.version < u.version) return { verdict: 'behind', audited: false };
    // A call that changed nothing, on a version this holder has passed: nothing to compare it with.
    if (meta.version > u.version || !u.audit) return { verdict: 'ok', audited: false };
  }
  if (!u.audit) return { verdict: 'ok', audited: false };
  const mine = executor.runBatch([{ ...u.call, readOnly: false }]).receipts[0];
  if (mine === undefined || !sameOutcome(mine, u.receipt)) {
    const detail = mine === undefined ? 'no receipt' : `here: ${mine.status}, gas ${mine.gasUsed}, ${mine.writes.length} writes; primary: ${u.receipt.status}, gas ${u.receipt.gasUsed}, ${u.receipt.writes.length} writes`;
    return { verdict: 'audit_mismatch', audited: true, detail };
  }
  return { verdict: 'ok', audited: true };
}

/** True when two receipts agree on everything deterministic (not `error`'s wording). */
export function sameOutcome(a: Receipt, b: Receipt): boolean {
  if (a.status !== b.status || a.gasUsed !== b.gasUsed || a.version !== b.version || !eqBytes(a.stateHash, b.stateHash) || !eqBytes(a.returnData, b.returnData)) return false;
  if (a.events.length !== b.events.length || a.writes.length !== b.writes.length) return false;
  if (!a.events.every((e, i) => eqBytes(e.topic, b.events[i]!.topic) && eqBytes(e.data, b.events[i]!.data))) return false;
  return a.writes.every((w, i) => {
    const o = b.writes[i]!;
    return eqBytes(w.key, o.key) && (w.value === null ? o.value === null : o.value !== null && eqBytes(w.value, o.value));
  });
}

function eqBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;
}


function same(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && a.every((x, i) => x === b[i]);
}
