/**
 * A node as a client of contract instances on the network (docs/contracts.md, "Part 2b"): it
 * signs calls with its ML-DSA key (in the crypto pool), finds an instance's holders with a lookup
 * and sends the signed call to them in distance order, following "not primary" redirects (a
 * bounded number) and moving on from a holder that does not answer. The same signed call (the
 * same call id) goes to every holder it tries, so a retry after a primary failed is answered from
 * the receipt wherever the call was applied, and executed once otherwise. Queries need no
 * signature and go to the closest holder that answers.
 */
import {
  callSigningPayload, decodeReceipt, DEFAULT_GAS_LIMIT, encodeCallBody, encodeSignedCall, type Receipt, type SignedCall,
} from '../contracts/index.js';
import type { NodeIdentity } from '../crypto/index.js';
import { compareDistance, type Contact, idEquals, type Key } from '../id/index.js';
import { DhtError, isDhtError } from '../util/index.js';
import type { CallOutcome, ContractReplica } from './contract-exec.js';
import type { OperationsContext } from './context.js';
import { replicationFactor } from './operations.js';
import { runLookup } from './run-lookup.js';

/**
 * How long an install may take at a holder, ms: it fetches the code from the DHT and meters it
 * (binaryen's first load alone is 0.3-0.8 s, far more on a loaded machine).
 */
export const INSTALL_TIMEOUT = 60_000;
/** "Not primary" redirects one call follows at most. */
export const MAX_CALL_REDIRECTS = 3;

/** A receipt from the network: which call, who executed or kept it, and how many holders have it. */
export interface NetworkReceipt extends Receipt {
  /** BLAKE3 of the domain-tagged signed call: the key of its receipt on every holder. */
  callId: Uint8Array;
  /** Holders known to hold the outcome when it was answered (the executor included); 1 for a kept receipt. */
  replicas: number;
  /** The holder that answered. */
  executor: Contact;
}

/** Options of a network call or query. */
export interface NetworkCallOptions {
  gasLimit?: number;
  /** Ms to wait for one holder's answer before trying the next. Default the node's queryTimeout. */
  timeout?: number;
  /** Send to this holder first (tests, tools); default the instance's holders in distance order. */
  to?: Contact;
  signal?: AbortSignal;
}

/** What the client side needs. */
export interface ContractClientDeps {
  ctx: OperationsContext;
  identity: NodeIdentity;
  /** This node's holder side, when it serves contracts (then it may be one of the holders). */
  replica: ContractReplica | null;
  /** Holders found per instance (hex), reused for HOLDER_CACHE_MS so that a call costs no lookup. */
  holders: Map<string, { holders: Contact[]; until: number }>;
  /** Holders (id hex) that did not answer lately, until when: tried after the others. */
  suspects: Map<string, number>;
}

/** How long a client reuses the holders a lookup found for an instance, ms. */
export const HOLDER_CACHE_MS = 30_000;
/** Instances whose holders a client remembers at most. */
const HOLDER_CACHE_SIZE = 1024;

/** Orders holders for asking: those that did not answer lately go last (they may be back). */
function askingOrder(d: ContractClientDeps, holders: Contact[]): Contact[] {
  const now = d.ctx.clock.now();
  const suspect = (c: Contact): boolean => (d.suspects.get(Buffer.from(c.id).toString('hex')) ?? 0) > now;
  return [...holders.filter((c) => !suspect(c)), ...holders.filter(suspect)];
}

/** Remembers that `holder` did not answer (a timeout or no session). */
function suspect(d: ContractClientDeps, holder: Contact, err: unknown): void {
  if (!isDhtError(err) || (err.code !== 'TIMEOUT' && err.code !== 'SEND_FAILED')) return;
  if (d.suspects.size >= HOLDER_CACHE_SIZE) d.suspects.delete(d.suspects.keys().next().value as string);
  d.suspects.set(Buffer.from(holder.id).toString('hex'), d.ctx.clock.now() + HOLDER_CACHE_MS);
}

/** Errors after which trying another holder cannot help. */
const FATAL = new Set(['INVALID_SIGNATURE', 'BAD_REQUEST', 'ABORTED', 'DESTROYED']);

/** Signs a call as this node (ML-DSA-65 in the crypto pool); the contract sees this node's id as caller. */
export async function signContractCall(d: ContractClientDeps, instance: Uint8Array, method: string, input: Uint8Array, gasLimit: number): Promise<SignedCall> {
  const { ctx, identity } = d;
  const nonce = ctx.options.random.int(0x1_0000_0000);
  const body = encodeCallBody({ instance, method, input, gasLimit, publicKey: identity.dsa.publicKey, nonce, timestamp: Math.max(0, Math.floor(ctx.clock.now())) });
  return encodeSignedCall(body, await ctx.pool.sign(identity.dsa.secretKey, callSigningPayload(body)));
}

/** The r closest nodes to `instance` that hold it: a lookup's closest, and this node when it serves. */
export async function findHolders(d: ContractClientDeps, instance: Uint8Array, signal?: AbortSignal, fresh = false): Promise<Contact[]> {
  const ctx = d.ctx;
  const key = Buffer.from(instance).toString('hex');
  const now = ctx.clock.now();
  const cached = d.holders.get(key);
  if (!fresh && cached !== undefined && cached.until > now) return askingOrder(d, cached.holders);
  const r = replicationFactor(ctx, undefined);
  const found = await runLookup(ctx, instance as Key, { signal });
  const candidates = found.closest.filter((c) => !ctx.reputation.isBad(c.id, ctx.clock.now()));
  if (d.replica !== null) candidates.push(ctx.self);
  const holders = candidates.sort((a, b) => compareDistance(instance as Key, a.id, b.id)).slice(0, r);
  d.holders.delete(key);
  if (d.holders.size >= HOLDER_CACHE_SIZE) d.holders.delete(d.holders.keys().next().value as string);
  d.holders.set(key, { holders, until: now + HOLDER_CACHE_MS });
  return askingOrder(d, holders);
}

/** Sends a signed call to the instance's holders until one answers with a receipt. */
export async function submitCall(d: ContractClientDeps, signed: SignedCall, opts: NetworkCallOptions = {}, fresh = false): Promise<NetworkReceipt> {
  const instance = signed.envelope.instance;
  const queue = opts.to !== undefined ? [opts.to] : [];
  queue.push(...(await findHolders(d, instance, opts.signal, fresh)).filter((c) => opts.to === undefined || !idEquals(c.id, opts.to.id)));
  let redirects = 0;
  let last: unknown = null;
  while (queue.length > 0) {
    const holder = queue.shift() as Contact;
    let out: CallOutcome;
    try {
      out = await ask(d, holder, signed, opts);
    } catch (err) {
      if (isDhtError(err) && FATAL.has(err.code)) throw err;
      last = err;
      suspect(d, holder, err);
      if (!fresh) d.holders.delete(Buffer.from(instance).toString('hex')); // the next call looks the holders up again
      continue;
    }
    if (out.receipt !== null) {
      const receipt = decodeReceipt(out.receipt);
      if (receipt === null) {
        last = new DhtError('BAD_REQUEST', 'a holder answered with a malformed receipt');
        continue;
      }
      return { ...receipt, callId: out.callId, replicas: out.replicas, executor: holder };
    }
    const next = out.redirect[0];
    if (next !== undefined && redirects < MAX_CALL_REDIRECTS) {
      redirects++;
      queue.unshift(next);
    }
  }
  // Holders remembered from an earlier lookup may all have gone: look them up once more.
  if (!fresh) return submitCall(d, signed, opts, true);
  if (last instanceof Error) throw last;
  throw new DhtError('NOT_FOUND', 'no holder of the contract instance took the call');
}

async function ask(d: ContractClientDeps, holder: Contact, signed: SignedCall, opts: NetworkCallOptions): Promise<CallOutcome> {
  const ctx = d.ctx;
  if (idEquals(holder.id, ctx.self.id)) {
    if (d.replica === null) throw new DhtError('DISABLED', 'this node holds no contracts');
    return d.replica.call(signed);
  }
  const reply = await ctx.rpc.request(holder, { type: 'CONTRACT_CALL', call: signed.bytes }, { timeout: opts.timeout, retries: 0, signal: opts.signal });
  if (reply.type !== 'CONTRACT_RESULT') throw new DhtError('BAD_REQUEST', `unexpected ${reply.type}`);
  return { receipt: reply.receipt, callId: reply.callId, redirect: [...reply.redirect], replicas: reply.replicas };
}

/** Runs a read-only method at the closest holder that answers; the caller the contract sees is this node's id. */
export async function queryNetwork(d: ContractClientDeps, instance: Uint8Array, method: string, input: Uint8Array, opts: NetworkCallOptions = {}): Promise<Receipt> {
  const ctx = d.ctx;
  const gasLimit = opts.gasLimit ?? DEFAULT_GAS_LIMIT;
  const holders = opts.to !== undefined ? [opts.to] : await findHolders(d, instance, opts.signal);
  let last: unknown = null;
  for (const h of holders) {
    try {
      if (idEquals(h.id, ctx.self.id)) {
        if (d.replica === null) continue;
        return await d.replica.query(instance, method, input, gasLimit, ctx.self.id);
      }
      const reply = await ctx.rpc.request(h, { type: 'CONTRACT_QUERY', instance: instance as Key, method, input, gasLimit }, { timeout: opts.timeout, retries: 0, signal: opts.signal });
      const receipt = reply.type === 'CONTRACT_RESULT' && reply.receipt !== null ? decodeReceipt(reply.receipt) : null;
      if (receipt !== null) return receipt;
      last = new DhtError('BAD_REQUEST', 'a holder answered a query without a valid receipt');
    } catch (err) {
      if (isDhtError(err) && (err.code === 'ABORTED' || err.code === 'DESTROYED')) throw err;
      suspect(d, h, err);
      last = err;
    }
  }
  if (last instanceof Error) throw last;
  throw new DhtError('NOT_FOUND', 'no holder of the contract instance answered');
}

/** The receipt kept under `callId`: here, else at `from`, else at the holders of `instance`; null when none has it. */
export async function fetchReceipt(d: ContractClientDeps, callId: Uint8Array, opts: { instance?: Uint8Array; from?: Contact; signal?: AbortSignal } = {}): Promise<NetworkReceipt | null> {
  const ctx = d.ctx;
  const own = d.replica?.receiptResult(callId);
  if (opts.from === undefined && own?.receipt !== undefined && own.receipt !== null) {
    const receipt = decodeReceipt(own.receipt);
    if (receipt !== null) return { ...receipt, callId, replicas: 1, executor: ctx.self };
  }
  const holders = opts.from !== undefined ? [opts.from] : opts.instance !== undefined ? await findHolders(d, opts.instance, opts.signal) : [];
  for (const h of holders) {
    if (idEquals(h.id, ctx.self.id)) continue;
    try {
      const reply = await ctx.rpc.request(h, { type: 'CONTRACT_RECEIPT', callId: callId as Key }, { retries: 0, signal: opts.signal });
      const receipt = reply.type === 'CONTRACT_RESULT' && reply.receipt !== null ? decodeReceipt(reply.receipt) : null;
      if (receipt !== null) return { ...receipt, callId, replicas: 1, executor: h };
    } catch (err) {
      if (isDhtError(err) && (err.code === 'ABORTED' || err.code === 'DESTROYED')) throw err;
    }
  }
  return null;
}

/** Installs an instance (genesis) at its other holders; resolves with the holders and how many took it. */
export async function installInstance(d: ContractClientDeps, instance: Uint8Array, codeHash: Uint8Array, salt: Uint8Array, signal?: AbortSignal): Promise<{ holders: Contact[]; installed: number }> {
  const ctx = d.ctx;
  const holders = await findHolders(d, instance, signal);
  const taken = await Promise.all(holders.map(async (h) => {
    if (idEquals(h.id, ctx.self.id)) return true;
    try {
      const reply = await ctx.rpc.request(h, { type: 'CONTRACT_INSTALL', codeHash: codeHash as Key, creator: ctx.self.id, salt }, { signal, timeout: INSTALL_TIMEOUT, retries: 0 });
      return reply.type === 'CONTRACT_ACK';
    } catch {
      return false; // counted by the RPC; the holder gets the instance by sync with its first update
    }
  }));
  return { holders, installed: taken.filter(Boolean).length };
}
