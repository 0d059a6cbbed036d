/**
 * State sync of contract instances (docs/contracts.md, "Part 2b: state sync"): a holder's answer
 * to CONTRACT_SYNC (the calls after a version from its version log, or a page of its whole state)
 * and the paged snapshot a holder that is far behind, new to the holder set or on a losing fork
 * takes from a closer holder. Every page carries the instance's version: a snapshot whose version
 * moved between pages is started again.
 */
import type { ContractEngine, InstanceMeta } from '../contracts/index.js';
import type { Contact, Key } from '../id/index.js';
import type { Rpc } from '../rpc/index.js';
import { DhtError } from '../util/index.js';
import type { ContractSync, ResponseBody } from '../wire/index.js';

/** Bytes of state entries and of calls per sync answer (under MAX_MESSAGE_BYTES with the rest). */
export const SYNC_PAGE_BYTES = 160 * 1024;
/** Calls per log answer at most (WIRE_LIMITS.maxContractSyncUpdates). */
const SYNC_LOG_CALLS = 16;
/** Pages one snapshot takes at most, and attempts when the version moves meanwhile. */
const MAX_SNAPSHOT_PAGES = 1024;
const SNAPSHOT_ATTEMPTS = 3;
const EMPTY = new Uint8Array(0);

/** A holder's answer to CONTRACT_SYNC. NOT_FOUND when it lacks the instance. */
export function answerSync(engine: ContractEngine, req: ContractSync): ResponseBody {
  const meta = engine.instance(req.instance);
  if (meta === null) throw DhtError.notFound('contract instance');
  const head = [meta.codeHash, meta.creator, meta.version, meta.stateHash] as const;
  if (req.snapshot) {
    const page = engine.snapshotPage(req.instance, req.after.byteLength === 0 ? null : req.after, SYNC_PAGE_BYTES);
    if (page === null) throw DhtError.notFound('contract instance');
    const pageHead = [page.meta.codeHash, page.meta.creator, page.meta.version, page.meta.stateHash] as const;
    return { type: 'CONTRACT_STATE', meta: pageHead, snapshot: true, updates: [], entries: page.entries, next: page.next ?? EMPTY };
  }
  const needSnapshot: ResponseBody = { type: 'CONTRACT_STATE', meta: head, snapshot: true, updates: [], entries: [], next: EMPTY };
  const updates: Array<readonly [Uint8Array, Uint8Array]> = [];
  let bytes = 0;
  for (let v = req.fromVersion + 1; v <= meta.version && updates.length < SYNC_LOG_CALLS; v++) {
    const callId = engine.callAt(req.instance, v);
    const kept = callId === null ? null : engine.receipt(callId);
    if (kept === null) return needSnapshot; // the log no longer reaches back (receipt retention)
    bytes += kept.call.byteLength + kept.receipt.byteLength;
    if (bytes > SYNC_PAGE_BYTES) {
      if (updates.length === 0) return needSnapshot; // one call too large for a page
      break;
    }
    updates.push([kept.call, kept.receipt]);
  }
  return { type: 'CONTRACT_STATE', meta: head, snapshot: false, updates, entries: [], next: EMPTY };
}

/** What fetchSnapshot needs. */
export interface SnapshotDeps {
  rpc: Rpc;
  engine: ContractEngine;
  fetchCode(codeHash: Uint8Array): Promise<unknown>;
}

/**
 * Replaces this holder's copy of `instance` with `peer`'s, page by page, all pages at one version;
 * fetches the code first when it is not here. True when a snapshot was installed.
 */
export async function fetchSnapshot(d: SnapshotDeps, peer: Contact, instance: Uint8Array, replace: boolean): Promise<boolean> {
  for (let attempt = 0; attempt < SNAPSHOT_ATTEMPTS; attempt++) {
    const pages = await fetchPages(d.rpc, peer, instance);
    if (pages === 'moved') continue;
    if (pages === null) return false;
    if (d.engine.code(pages.meta.codeHash) === null) await d.fetchCode(pages.meta.codeHash);
    return d.engine.installSnapshot(instance, pages.meta, pages.entries, replace);
  }
  return false;
}

async function fetchPages(rpc: Rpc, peer: Contact, instance: Uint8Array): Promise<{ meta: InstanceMeta; entries: Array<[Uint8Array, Uint8Array]> } | 'moved' | null> {
  const entries: Array<[Uint8Array, Uint8Array]> = [];
  let meta: InstanceMeta | null = null;
  let after: Uint8Array = EMPTY;
  for (let page = 0; page < MAX_SNAPSHOT_PAGES; page++) {
    const reply = await rpc.request(peer, { type: 'CONTRACT_SYNC', instance: instance as Key, fromVersion: 0, snapshot: true, after });
    if (reply.type !== 'CONTRACT_STATE') return null;
    const [codeHash, creator, version, stateHash] = reply.meta;
    if (meta !== null && meta.version !== version) return 'moved';
    meta ??= { codeHash, creator, version, stateHash };
    for (const [k, v] of reply.entries) entries.push([k, v]);
    if (reply.next.byteLength === 0) return { meta, entries };
    after = reply.next;
  }
  return null; // more pages than a snapshot may take
}
