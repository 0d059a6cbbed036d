/**
 * ZkDhtValues through the network (docs/zk.md). putZk encrypts a payload for its access level,
 * proves storage_access in the ZK pool and stores the value on the r closest nodes with a nonce
 * above the highest one found; storeZk publishes a value proven elsewhere (`zhtp-dht zk prove`);
 * getZk reads every holder among the closest, keeps the values whose proof verifies here, returns
 * the one with the highest nonce and decrypts it for the caller.
 */
import type { Contact, Key } from '../id/index.js';
import { idToHex } from '../id/index.js';
import type { LookupResult } from '../lookup/index.js';
import { bytesEqual, DhtError } from '../util/index.js';
import { ValueKind } from '../wire/index.js';
import {
  buildZkValue, decodeZkValue, encodeZkValue, openZkValue, ownerCommitment, verifyZkValue, type ZkAccessLevel, type ZkCheck, type ZkDhtValue,
  zkKey, type ZkOwner, type ZkWorkers,
} from '../zk/index.js';
import type { OperationsContext, TokenMap } from './context.js';
import { publish, type PutResult, replicationFactor } from './operations.js';
import { runLookup } from './run-lookup.js';

/** Options of putZk. */
export interface PutZkOptions {
  /** The owner's secrets; DhtNode defaults them to the node's own (derived from its identity). */
  owner: ZkOwner;
  /** Up to 64 bytes naming the value among the owner's; default empty. */
  name?: Uint8Array;
  /** Default 'private'. */
  access?: ZkAccessLevel;
  /** Restricted: the readers' ML-KEM-768 public keys, 1..32. */
  readers?: readonly Uint8Array[];
  /** Default one above the highest nonce found (0 for a new key). */
  nonce?: bigint;
  /** Lifetime in ms; default the node's defaultTtl. */
  ttl?: number;
  replicationFactor?: number;
  signal?: AbortSignal;
}

/** Where a ZK value landed. */
export interface PutZkResult extends PutResult {
  value: ZkDhtValue;
}

/** Options of storeZk. */
export type StoreZkOptions = Pick<PutZkOptions, 'ttl' | 'replicationFactor' | 'signal'>;

/** Options of getZk. */
export interface GetZkOptions {
  /** Opens private and restricted values of this owner; DhtNode defaults it to the node's own. */
  owner?: ZkOwner;
  /** Restricted: the reader's ML-KEM-768 secret key; DhtNode defaults it to the node's own. */
  kemSecretKey?: Uint8Array;
  /** Decrypt the value (default true); false returns the verified value with `data` null. */
  decrypt?: boolean;
  signal?: AbortSignal;
}

/** The newest verified value found, and what the read saw. */
export interface GetZkResult {
  key: Key;
  value: ZkDhtValue;
  /** The plaintext, or null when `decrypt` was false. */
  data: Uint8Array | null;
  /** Holders (this node included) that served a verified value with the newest nonce. */
  holders: number;
  /** Holders that served a verified value with an older nonce. */
  stale: number;
  from: Contact;
  hops: number;
  durationMs: number;
  /** Answers that failed their checks (malformed, wrong key, invalid proof). */
  rejected: number;
}

/** The pools' side of building a value. */
function workers(ctx: OperationsContext): ZkWorkers {
  return {
    wrap: (publicKeys, key, ad, seeds) => ctx.pool.kemWrap(publicKeys, key, ad, seeds),
    prove: (signals) => ctx.zk.prove('storage_access', signals),
  };
}

function check(ctx: OperationsContext): ZkCheck {
  return (signals, proof) => ctx.zk.check('storage_access', signals, proof);
}

/** Encrypts, proves and stores `data` as the owner's ZkDhtValue under zkKey(commitment, name). */
export async function putZk(ctx: OperationsContext, data: Uint8Array, opts: PutZkOptions): Promise<PutZkResult> {
  const started = ctx.clock.now();
  const r = replicationFactor(ctx, opts.replicationFactor);
  const name = opts.name ?? new Uint8Array(0);
  const key = zkKey(ownerCommitment(opts.owner), name);
  const tokens: TokenMap = new Map();
  const found = await readZkValues(ctx, key, tokens, opts.signal);
  const newest = newestOf(found.values);
  const nonce = opts.nonce ?? (newest === null ? 0n : newest.value.nonce + 1n);
  // A nonce the holders would refuse costs a proof for nothing: say so before proving.
  if (newest !== null && nonce <= newest.value.nonce) throw new DhtError('STALE_NONCE', `nonce ${nonce} is not above the stored nonce ${newest.value.nonce}`);
  const built = await buildZkValue(workers(ctx), ctx.options.random, {
    owner: opts.owner, name, nonce, accessLevel: opts.access ?? 'private', data, readers: opts.readers,
  });
  const write = { key, value: encodeZkValue(built.value), ttl: opts.ttl ?? ctx.options.defaultTtl, tokens, kind: ValueKind.ZK, cas: null, r };
  const result = await publish(ctx, write, opts.signal, started, found.lookup);
  return { ...result, value: built.value };
}

/** Checks a value proven elsewhere as a holder would, then stores it on the r closest nodes. */
export async function storeZk(ctx: OperationsContext, value: ZkDhtValue, opts: StoreZkOptions = {}): Promise<PutZkResult> {
  const started = ctx.clock.now();
  const r = replicationFactor(ctx, opts.replicationFactor);
  const key = zkKey(value.commitment, value.name);
  const verdict = await verifyZkValue(check(ctx), key, value);
  if (verdict === 'BUSY') throw new DhtError('BUSY', 'the ZK pool could not check the value in time; try later');
  if (verdict !== 'valid') throw new DhtError(verdict, `the value does not pass a holder's checks: ${verdict}`);
  const write = { key, value: encodeZkValue(value), ttl: opts.ttl ?? ctx.options.defaultTtl, tokens: new Map(), kind: ValueKind.ZK, cas: null, r };
  const result = await publish(ctx, write, opts.signal, started);
  return { ...result, value };
}

/** The verified value with the highest nonce among the holders of `key`, decrypted for the caller. */
export async function getZk(ctx: OperationsContext, key: Key, opts: GetZkOptions = {}): Promise<GetZkResult> {
  const started = ctx.clock.now();
  const found = await readZkValues(ctx, key, new Map(), opts.signal);
  const newest = newestOf(found.values);
  if (newest === null) throw DhtError.notFound(`ZK value ${idToHex(key)}`);
  const secretKey = opts.kemSecretKey;
  const data = opts.decrypt === false ? null : await openZkValue(key, newest.value, {
    owner: opts.owner,
    unwrap: secretKey === undefined ? undefined : (stanzas, ad) => ctx.pool.kemUnwrap(stanzas, secretKey, ad),
  });
  const nonce = newest.value.nonce;
  return {
    key, value: newest.value, data, holders: found.values.filter((f) => f.value.nonce === nonce).length,
    stale: found.values.filter((f) => f.value.nonce < nonce).length, from: newest.from, hops: found.lookup.hops,
    durationMs: ctx.clock.now() - started, rejected: found.lookup.rejected,
  };
}

interface FoundZk { value: ZkDhtValue; from: Contact }

/**
 * A collecting FIND_VALUE lookup that keeps the values whose key and proof check out here, plus
 * this node's own copy. Byte-identical answers are verified once. A verification the pool could not
 * finish rejects the answer without blaming its holder.
 */
async function readZkValues(ctx: OperationsContext, key: Key, tokens: TokenMap, signal?: AbortSignal): Promise<{ values: FoundZk[]; lookup: LookupResult }> {
  const checked: Array<{ bytes: Uint8Array; valid: Promise<boolean> }> = [];
  const verify = (bytes: Uint8Array): Promise<boolean> => {
    const seen = checked.find((c) => bytesEqual(c.bytes, bytes));
    if (seen !== undefined) return seen.valid;
    const value = decodeZkValue(bytes);
    const valid = value === null ? Promise.resolve(false) : verifyZkValue(check(ctx), key, value).then((verdict) => {
      if (verdict === 'BUSY') throw new DhtError('BUSY', 'the ZK pool could not verify the value in time');
      return verdict === 'valid';
    });
    checked.push({ bytes, valid });
    return valid;
  };
  const accept = async (bytes: Uint8Array): Promise<Uint8Array | null> => ((await verify(bytes)) ? bytes : null);
  const lookup = await runLookup(ctx, key, { valueKey: key, signal, tokens, collect: true, accept });
  const values = lookup.found.map((f) => ({ value: decodeZkValue(f.value)!, from: f.from }));
  const local = ctx.store?.getCopy(key);
  if (local !== undefined && local.kind === ValueKind.ZK) {
    const value = decodeZkValue(local.value);
    // Checked when it was stored here; re-verified anyway, as every copy a reader returns is.
    if (value !== null && await verify(local.value).catch(() => false)) values.push({ value, from: ctx.self });
  }
  return { values, lookup };
}

function newestOf(values: readonly FoundZk[]): FoundZk | null {
  let best: FoundZk | null = null;
  for (const f of values) if (best === null || f.value.nonce > best.value.nonce) best = f;
  return best;
}
