/**
 * A node as a holder of contract instances (docs/contracts.md, "Part 2b"): an instance's state
 * lives at the r closest nodes to its id; the closest live holder (the primary) orders and
 * executes signed calls and replicates each outcome {version, previous hash, write set, new hash,
 * signed call, receipt} to the other holders, answering once a majority of the holder set has
 * it. Followers check the signature (crypto pool), the hash chain and, with the audit on, execute
 * the call again (contract pool) before they commit. A holder that is behind syncs from the
 * primary: the calls it lacks, or a paged snapshot. Receipts are kept by call id, so a retried
 * call is answered from the receipt, never executed twice where its outcome is known.
 */
import {
  callIdPayload, callSignatureCheck, callTaskOf, type ContractEngine, decodeReceipt, decodeSignedCall, encodeReceipt, type InstanceMeta,
  instanceIdOf, type Receipt, type SignedCall, type UpdateCheck,
} from '../contracts/index.js';
import { compareDistance, type Contact, idEquals, type Key, type NodeId } from '../id/index.js';
import { type Address, bytesEqual, DhtError, toHex } from '../util/index.js';
import type { ContractCall, ContractInstall, ContractRequest, ContractSync, ContractUpdate, ResponseBody } from '../wire/index.js';
import type { OperationsContext } from './context.js';
import { replicationFactor } from './operations.js';
import { answerSync, fetchSnapshot } from './contract-sync.js';

/** Statuses whose receipts are deterministic and replicated (killed, conflict and not_found are local). */
const REPLICATED = new Set(['ok', 'revert', 'out_of_gas', 'trap', 'depth', 'no_method']);
/** How long a holder waits for a closer holder's PONG before it takes the call, ms. */
export const PRIMARY_PING_TIMEOUT = 750;
/** Log rounds one sync takes at most. */
const MAX_SYNC_ROUNDS = 64;
const EMPTY = new Uint8Array(0);

/** Why a follower refused an update (counted). */
export type UpdateRefusal = 'malformed' | 'bad_signature' | 'not_closer' | 'fork' | 'hash_mismatch' | 'audit_mismatch' | 'diverged' | 'behind' | 'missing' | 'disabled';
const REFUSALS: readonly UpdateRefusal[] = ['malformed', 'bad_signature', 'not_closer', 'fork', 'hash_mismatch', 'audit_mismatch', 'diverged', 'behind', 'missing', 'disabled'];

/** The holder figures of extendedStats().contracts.network. */
export interface ContractReplicaStats {
  /** Calls this node executed as primary. */
  executed: number;
  /** Retried calls answered from a kept receipt. */
  deduplicated: number;
  /** Calls answered "not primary", naming a closer live holder. */
  redirected: number;
  /** Calls refused for a signature that does not verify. */
  invalidSignatures: number;
  /** Contract requests refused as malformed (beyond the wire decoder's checks). */
  malformed: number;
  queries: number;
  receiptsServed: number;
  installs: number;
  updatesSent: number;
  updatesAcked: number;
  /** Calls answered before a majority of the holder set had them (it was not reachable). */
  majorityMissed: number;
  updatesApplied: number;
  /** Replicated calls executed again here (the audit). */
  audits: number;
  /** Audits and hash checks that disagreed with the primary (refused, the primary penalised). */
  auditMismatches: number;
  /** Updates that showed this holder on a losing fork (another call at a version): its copy was replaced by the sender's. */
  forks: number;
  refused: Record<UpdateRefusal, number>;
  syncs: { log: number; snapshot: number; served: number };
}

/** What a ContractReplica needs. */
export interface ContractReplicaDeps {
  ctx: OperationsContext;
  /** The engine (opened on first use); throws DISABLED without one. */
  engine(): ContractEngine;
  /** Puts code in the engine (fetched from the DHT, hash-checked, re-metered). */
  fetchCode(codeHash: Uint8Array): Promise<unknown>;
  /** Answer peers (false: DISABLED). */
  serve: boolean;
  /** Re-execute replicated calls before applying them. */
  audit: boolean;
  /** How long the primary waits for a follower's answer to an update, ms. */
  updateTimeout: number;
}

/** An answered call: the receipt, its id, and the holders known to hold it. */
export interface CallOutcome { receipt: Uint8Array | null; callId: Uint8Array; redirect: Contact[]; replicas: number }

/** The holder side of contract execution on one node. */
export class ContractReplica {
  readonly #d: ContractReplicaDeps;
  readonly #serial = new Map<string, Promise<unknown>>();
  readonly #inflight = new Map<string, Promise<CallOutcome>>();
  /** Instances whose primary this holder caught disagreeing: updates refused until restart. */
  readonly #diverged = new Map<string, number>();
  readonly #s: ContractReplicaStats = {
    executed: 0, deduplicated: 0, redirected: 0, invalidSignatures: 0, malformed: 0, queries: 0, receiptsServed: 0, installs: 0, updatesSent: 0,
    updatesAcked: 0, majorityMissed: 0, updatesApplied: 0, audits: 0, auditMismatches: 0, forks: 0,
    refused: Object.fromEntries(REFUSALS.map((r) => [r, 0])) as Record<UpdateRefusal, number>, syncs: { log: 0, snapshot: 0, served: 0 },
  };

  constructor(deps: ContractReplicaDeps) {
    this.#d = deps;
  }

  stats(): ContractReplicaStats {
    return { ...this.#s, refused: { ...this.#s.refused }, syncs: { ...this.#s.syncs } };
  }

  /** The holders of `instance` in this node's view: the r closest of its table and itself. */
  holdersInView(instance: Uint8Array): Contact[] {
    const ctx = this.#d.ctx;
    const r = replicationFactor(ctx, undefined);
    const near = ctx.table.closest(instance as Key, r, (e) => !ctx.reputation.isBad(e.contact.id, ctx.clock.now()));
    return [...near, ctx.self].sort((a, b) => compareDistance(instance as Key, a.id, b.id)).slice(0, r);
  }

  /** Answers a contract request from a peer. */
  async handle(request: ContractRequest, from: Address): Promise<ResponseBody> {
    if (!this.#d.serve) {
      if (request.type === 'CONTRACT_UPDATE') this.#s.refused.disabled++;
      throw new DhtError('DISABLED', 'this node holds no contracts for peers');
    }
    const sender: Contact = { id: request.sender, host: from.host, port: from.port };
    switch (request.type) {
      case 'CONTRACT_CALL': return this.#onCall(request);
      case 'CONTRACT_QUERY': return this.#onQuery(request.instance, request.method, request.input, request.gasLimit, request.sender);
      case 'CONTRACT_RECEIPT': return { type: 'CONTRACT_RESULT', ...this.receiptResult(request.callId) };
      case 'CONTRACT_UPDATE': return this.#onUpdate(request, sender);
      case 'CONTRACT_INSTALL': return this.#onInstall(request);
      case 'CONTRACT_SYNC': return this.#onSync(request);
    }
  }

  /** The kept receipt under `callId` as a result (receipt null when none). */
  receiptResult(callId: Uint8Array): CallOutcome {
    const kept = this.#d.engine().receipt(callId);
    if (kept !== null) this.#s.receiptsServed++;
    return { receipt: kept?.receipt ?? null, callId: callId.slice(), redirect: [], replicas: kept === null ? 0 : 1 };
  }

  /** Runs a read-only method on this holder's committed state. */
  async query(instance: Uint8Array, method: string, input: Uint8Array, gasLimit: number, caller: Uint8Array): Promise<Receipt> {
    const engine = this.#d.engine();
    if (engine.instance(instance) === null) throw DhtError.notFound('contract instance');
    this.#s.queries++;
    return engine.query({ instance, method, input, caller, gasLimit });
  }

  async #onQuery(instance: Uint8Array, method: string, input: Uint8Array, gasLimit: number, caller: NodeId): Promise<ResponseBody> {
    const receipt = await this.query(instance, method, input, gasLimit, caller);
    return { type: 'CONTRACT_RESULT', receipt: encodeReceipt(receipt), callId: EMPTY, redirect: [], replicas: 1 };
  }

  async #onCall(request: ContractCall): Promise<ResponseBody> {
    const signed = decodeSignedCall(request.call);
    if (signed === null) {
      this.#s.malformed++;
      throw new DhtError('BAD_REQUEST', 'not a signed contract call');
    }
    return { type: 'CONTRACT_RESULT', ...await this.call(signed) };
  }

  /** The call id: BLAKE3 of the domain-tagged signed bytes (in the pool when large). */
  async callId(signed: SignedCall): Promise<Uint8Array> {
    return (await this.#d.ctx.pool.hash(callIdPayload(signed))).digest;
  }

  /**
   * Takes a signed call as a holder: its kept receipt when it ran here before; "not primary"
   * with a closer live holder; else executes it as primary and replicates it.
   */
  async call(signed: SignedCall): Promise<CallOutcome> {
    const ctx = this.#d.ctx;
    if (!(await ctx.pool.verify(callSignatureCheck(signed)))) {
      this.#s.invalidSignatures++;
      throw new DhtError('INVALID_SIGNATURE', 'the call is not signed by the key it carries');
    }
    const callId = await this.callId(signed);
    const engine = this.#d.engine();
    const kept = engine.receipt(callId);
    if (kept !== null) {
      this.#s.deduplicated++;
      return { receipt: kept.receipt, callId, redirect: [], replicas: 1 };
    }
    const key = toHex(callId);
    const running = this.#inflight.get(key);
    if (running !== undefined) return running;
    const run = this.#takeCall(signed, callId).finally(() => this.#inflight.delete(key));
    this.#inflight.set(key, run);
    return run;
  }

  async #takeCall(signed: SignedCall, callId: Uint8Array): Promise<CallOutcome> {
    const instance = signed.envelope.instance;
    const engine = this.#d.engine();
    if (engine.instance(instance) === null) await this.#adopt(instance);
    if (engine.instance(instance) === null) throw DhtError.notFound('contract instance');
    const { closer, silent } = await this.#liveCloser(instance);
    if (closer !== null) {
      this.#s.redirected++;
      return { receipt: null, callId, redirect: [closer], replicas: 0 };
    }
    const done = await this.#inOrder(toHex(instance), () => this.#execute(signed, callId, silent));
    if ('kept' in done) return { receipt: done.kept, callId, redirect: [], replicas: 1 };
    const replicas = done.update === null ? 1 : await this.#replicate(done.update, done.followers);
    return { receipt: done.receipt, callId, redirect: [], replicas };
  }

  /**
   * The closest holder in this node's view that is closer than this node and answers a PING, or
   * null; and the closer ones that stayed silent (not worth an update: they are skipped as followers).
   */
  async #liveCloser(instance: Uint8Array): Promise<{ closer: Contact | null; silent: Set<string> }> {
    const ctx = this.#d.ctx;
    const closer = this.holdersInView(instance).filter((c) => compareDistance(instance as Key, c.id, ctx.self.id) < 0);
    const alive = await Promise.all(closer.map((c) => ctx.rpc.request(c, { type: 'PING' }, { timeout: PRIMARY_PING_TIMEOUT, retries: 0 }).then(() => true, () => false)));
    return { closer: closer.find((_, i) => alive[i]) ?? null, silent: new Set(closer.filter((_, i) => !alive[i]).map((c) => toHex(c.id))) };
  }

  /** Executes as primary, one call of an instance at a time: the receipt kept, the update to push. */
  async #execute(signed: SignedCall, callId: Uint8Array, silent: ReadonlySet<string>): Promise<{ kept: Uint8Array } | { receipt: Uint8Array; update: ContractUpdateBody | null; followers: Contact[] }> {
    const ctx = this.#d.ctx;
    const engine = this.#d.engine();
    const kept = engine.receipt(callId);
    if (kept !== null) return { kept: kept.receipt };
    const instance = signed.envelope.instance;
    const before = engine.instance(instance) as InstanceMeta;
    const receipt = await engine.call(callTaskOf(signed));
    this.#s.executed++;
    const bytes = encodeReceipt(receipt);
    const applied = receipt.status === 'ok';
    if (!REPLICATED.has(receipt.status)) return { receipt: bytes, update: null, followers: [] };
    await engine.storeReceipt(callId, { instanceId: instance, receipt: bytes, call: signed.bytes, version: receipt.version, applied }, ctx.clock.now());
    // Something else moved the state meanwhile (a replica of another primary): the followers sync.
    if (applied && receipt.version !== before.version + 1) return { receipt: bytes, update: null, followers: [] };
    const update: ContractUpdateBody = {
      type: 'CONTRACT_UPDATE', instance: instance as Key, version: receipt.version, previousHash: applied ? before.stateHash : receipt.stateHash,
      stateHash: receipt.stateHash, call: signed.bytes, receipt: bytes,
    };
    // The r - 1 closest others first, then the next closest as stand-ins for any that fail.
    const r = replicationFactor(ctx, undefined);
    const followers = ctx.table.closest(instance as Key, 2 * r, (e) => !ctx.reputation.isBad(e.contact.id, ctx.clock.now()) && !silent.has(toHex(e.contact.id)))
      .sort((a, b) => compareDistance(instance as Key, a.id, b.id));
    return { receipt: bytes, update, followers };
  }

  /**
   * Pushes `update` to the followers in version order (one chain per follower): the r - 1 closest
   * other nodes, a follower that fails replaced by the next closest (which syncs what it lacks).
   * Resolves with the holders that have it once a majority of r does, or when no candidate is left.
   */
  #replicate(update: ContractUpdateBody, candidates: Contact[]): Promise<number> {
    const r = replicationFactor(this.#d.ctx, undefined);
    const need = Math.floor(r / 2) + 1;
    let acked = 1;
    let pending = 0;
    let next = 0;
    let done = false;
    return new Promise((resolve) => {
      const finish = (): void => {
        if (done || (acked < need && (pending > 0 || (next < candidates.length && acked + pending < r)))) return;
        done = true;
        if (acked < need) this.#s.majorityMissed++;
        resolve(acked);
      };
      const pump = (): void => {
        while (acked + pending < r && next < candidates.length) {
          const c = candidates[next++] as Contact;
          pending++;
          this.#inOrder(`${toHex(update.instance)}:${toHex(c.id)}`, () => this.#push(c, update)).catch(() => false).then((ok) => {
            pending--;
            if (ok) acked++;
            else pump();
            finish();
          });
        }
        finish();
      };
      pump();
    });
  }

  async #push(to: Contact, update: ContractUpdateBody): Promise<boolean> {
    this.#s.updatesSent++;
    try {
      const reply = await this.#d.ctx.rpc.request(to, update, { retries: 0, timeout: this.#d.updateTimeout });
      if (reply.type !== 'CONTRACT_ACK') return false;
      this.#s.updatesAcked++;
      return true;
    } catch (err) {
      if (err instanceof DhtError && err.code === 'TIMEOUT') this.#d.ctx.onPeerFailed(to);
      return false; // refused or unreachable: not counted towards the majority (the RPC counted why)
    }
  }

  /** Runs `fn` after every earlier task queued under `key`. */
  #inOrder<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.#serial.get(key) ?? Promise.resolve();
    const run = previous.then(fn, fn);
    const tail = run.catch(() => undefined);
    this.#serial.set(key, tail);
    void tail.then(() => { if (this.#serial.get(key) === tail) this.#serial.delete(key); });
    return run;
  }

  async #onUpdate(req: ContractUpdate, from: Contact): Promise<ResponseBody> {
    const ctx = this.#d.ctx;
    const refuse = (reason: UpdateRefusal, code: 'BAD_REQUEST' | 'INVALID_SIGNATURE' | 'STATE_CONFLICT' | 'CONTRACT_MISMATCH', message: string): never => {
      this.#s.refused[reason]++;
      throw new DhtError(code, message);
    };
    // The primary is the closest live holder: every follower is farther from the instance than it.
    if (compareDistance(req.instance, from.id, ctx.self.id) >= 0) refuse('not_closer', 'STATE_CONFLICT', 'updates come from a holder closer to the instance');
    const signed = decodeSignedCall(req.call);
    const receipt = decodeReceipt(req.receipt);
    if (signed === null || receipt === null || !bytesEqual(signed.envelope.instance, req.instance)) return refuse('malformed', 'BAD_REQUEST', 'malformed contract update');
    const hex = toHex(req.instance);
    const diverged = this.#diverged.get(hex);
    if (diverged !== undefined) refuse('diverged', 'CONTRACT_MISMATCH', `this holder disagreed with the primary at version ${diverged}`);
    if (!(await ctx.pool.verify(callSignatureCheck(signed)))) {
      ctx.reputation.record(from.id, 'protocol_violation', ctx.clock.now());
      refuse('bad_signature', 'INVALID_SIGNATURE', 'the replicated call is not signed by its key');
    }
    const callId = await this.callId(signed);
    const outcome = await this.#inOrder(`apply:${hex}`, () => this.#applyOrSync(from, signed, callId, req, receipt));
    if (outcome === 'ok') return this.#ack(req.instance);
    if (outcome === 'behind' || outcome === 'missing') return refuse(outcome, 'STATE_CONFLICT', `this holder is ${outcome === 'behind' ? 'behind' : 'without the instance'} and could not sync`);
    if (outcome === 'fork') return refuse('fork', 'STATE_CONFLICT', 'the update does not extend this holder\'s state hash');
    this.#mismatch(from, hex, outcome, req.version);
    return refuse(outcome, 'CONTRACT_MISMATCH', `the ${outcome === 'audit_mismatch' ? 'audit' : 'state hash check'} disagreed with the primary`);
  }

  #ack(instance: Uint8Array): ResponseBody {
    const meta = this.#d.engine().instance(instance);
    return { type: 'CONTRACT_ACK', version: meta?.version ?? 0, stateHash: meta?.stateHash ?? new Uint8Array(32) };
  }

  #mismatch(primary: Contact, hex: string, why: 'hash_mismatch' | 'audit_mismatch', version: number): void {
    const ctx = this.#d.ctx;
    this.#s.auditMismatches++;
    this.#diverged.set(hex, version);
    ctx.reputation.record(primary.id, 'contract_audit_fail', ctx.clock.now());
    ctx.options.logger.log('warn', `contract ${hex.slice(0, 16)}: ${why} at version ${version} against ${toHex(primary.id).slice(0, 16)}; updates refused from now on`, 'contracts');
  }

  /** Applies one replicated call; syncs from `from` first when behind or without the instance. */
  async #applyOrSync(from: Contact, signed: SignedCall, callId: Uint8Array, req: Pick<ContractUpdate, 'version' | 'previousHash' | 'stateHash' | 'call' | 'receipt'>, receipt: Receipt): Promise<'ok' | 'behind' | 'missing' | 'fork' | 'hash_mismatch' | 'audit_mismatch'> {
    let outcome = await this.#apply(signed, callId, req, receipt);
    if (outcome === 'behind' || outcome === 'missing') {
      await this.#syncFrom(from, signed.envelope.instance).catch(() => undefined); // still behind: refused below
      outcome = await this.#apply(signed, callId, req, receipt);
    } else if (outcome === 'fork') {
      // This holder applied another call at some version (it followed a primary that failed over):
      // the closer holder's history wins. Its copy is replaced, then the update applied.
      this.#s.forks++;
      await this.#snapshotFrom(from, signed.envelope.instance, true).catch(() => undefined);
      outcome = await this.#apply(signed, callId, req, receipt);
    }
    return outcome;
  }

  async #apply(signed: SignedCall, callId: Uint8Array, req: Pick<ContractUpdate, 'version' | 'previousHash' | 'stateHash' | 'call' | 'receipt'>, receipt: Receipt): Promise<'ok' | 'behind' | 'missing' | 'fork' | 'hash_mismatch' | 'audit_mismatch'> {
    const engine = this.#d.engine();
    const instance = signed.envelope.instance;
    const check: UpdateCheck = { version: req.version, previousHash: req.previousHash, stateHash: req.stateHash, call: callTaskOf(signed), receipt, audit: this.#d.audit };
    const stored = { instanceId: instance, receipt: req.receipt, call: req.call, version: req.version, applied: receipt.status === 'ok' };
    const r = await engine.applyReplica(callId, check, stored, this.#d.ctx.clock.now());
    if (r.audited) this.#s.audits++;
    switch (r.outcome) {
      case 'applied': this.#s.updatesApplied++; return 'ok';
      case 'duplicate': case 'ahead': case 'ok': return 'ok';
      case 'behind': case 'missing': case 'fork': case 'hash_mismatch': case 'audit_mismatch': return r.outcome;
    }
  }

  /** Catches up from `peer`: the calls this holder lacks, or a snapshot when they are gone or the instance is new here. */
  async #syncFrom(peer: Contact, instance: Uint8Array): Promise<void> {
    const engine = this.#d.engine();
    const rpc = this.#d.ctx.rpc;
    let snapshot = engine.instance(instance) === null;
    for (let round = 0; round < MAX_SYNC_ROUNDS; round++) {
      if (snapshot) {
        await this.#snapshotFrom(peer, instance);
        snapshot = false;
      }
      const meta = engine.instance(instance);
      if (meta === null) return;
      const reply = await rpc.request(peer, { type: 'CONTRACT_SYNC', instance: instance as Key, fromVersion: meta.version, snapshot: false, after: EMPTY });
      if (reply.type !== 'CONTRACT_STATE' || reply.meta[2] <= meta.version) return;
      if (reply.snapshot || reply.updates.length === 0) {
        snapshot = true;
        continue;
      }
      this.#s.syncs.log++;
      for (const [callBytes, receiptBytes] of reply.updates) {
        const signed = decodeSignedCall(callBytes);
        const receipt = decodeReceipt(receiptBytes);
        if (signed === null || receipt === null || !bytesEqual(signed.envelope.instance, instance)) return;
        if (!(await this.#d.ctx.pool.verify(callSignatureCheck(signed)))) return;
        const now = engine.instance(instance) as InstanceMeta;
        const req = { version: receipt.version, previousHash: now.stateHash, stateHash: receipt.stateHash, call: callBytes, receipt: receiptBytes };
        const outcome = await this.#apply(signed, await this.callId(signed), req, receipt);
        if (outcome === 'hash_mismatch' || outcome === 'audit_mismatch') {
          this.#mismatch(peer, toHex(instance), outcome, receipt.version);
          return;
        }
        if (outcome !== 'ok') {
          snapshot = true;
          break;
        }
      }
    }
  }

  /** Replaces this holder's copy with `peer`'s (contract-sync.ts); `replace` also when not older (a losing fork). */
  async #snapshotFrom(peer: Contact, instance: Uint8Array, replace = false): Promise<void> {
    if (await fetchSnapshot({ rpc: this.#d.ctx.rpc, engine: this.#d.engine(), fetchCode: this.#d.fetchCode }, peer, instance, replace)) this.#s.syncs.snapshot++;
  }

  /** A holder new to the set (churn) gets the instance from the other holders it knows. */
  async #adopt(instance: Uint8Array): Promise<void> {
    const ctx = this.#d.ctx;
    for (const h of this.holdersInView(instance)) {
      if (idEquals(h.id, ctx.self.id)) continue;
      await this.#inOrder(`apply:${toHex(instance)}`, () => this.#syncFrom(h, instance)).catch(() => undefined); // next holder
      if (this.#d.engine().instance(instance) !== null) return;
    }
  }

  #onSync(req: ContractSync): ResponseBody {
    const answer = answerSync(this.#d.engine(), req);
    this.#s.syncs.served++;
    return answer;
  }

  async #onInstall(req: ContractInstall): Promise<ResponseBody> {
    if (!idEquals(req.creator, req.sender)) throw new DhtError('BAD_REQUEST', 'an instance is installed by its creator');
    const instance = instanceIdOf(req.codeHash, req.creator, req.salt);
    // Views of the closest nodes differ a little between nodes: accept within twice r.
    const ctx = this.#d.ctx;
    const r = replicationFactor(ctx, undefined);
    const nearer = ctx.table.closest(instance as Key, 2 * r).filter((c) => compareDistance(instance as Key, c.id, ctx.self.id) < 0).length;
    if (nearer >= 2 * r) throw new DhtError('BAD_REQUEST', 'this node is not among the instance\'s closest nodes');
    const engine = this.#d.engine();
    if (engine.code(req.codeHash) === null) await this.#d.fetchCode(req.codeHash);
    await engine.createInstance(req.codeHash, req.creator, req.salt);
    this.#s.installs++;
    return this.#ack(instance);
  }
}

/** A CONTRACT_UPDATE before the RPC stamps it. */
type ContractUpdateBody = Omit<ContractUpdate, 'tid' | 'sender' | 'flags'>;
