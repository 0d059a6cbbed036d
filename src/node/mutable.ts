/**
 * Signed mutable records (BEP 44 with ML-DSA-65; docs/records.md): putMutable signs a record
 * under key BLAKE3(public key ‖ salt) with a seq above the best one found, and writes it to the
 * r closest nodes; getMutable reads every holder among the closest (a quorum read), returns the
 * record with the highest seq, and corrects holders that served an older one or lacked it.
 */
import type { SigningKeys } from '../crypto/index.js';
import type { Contact, Key } from '../id/index.js';
import { idEquals, idToHex } from '../id/index.js';
import type { FoundValue, LookupResult } from '../lookup/index.js';
import { DhtError } from '../util/index.js';
import {
  checkMutableShape, compareMutable, decodeMutable, encodeMutable, MAX_MUTABLE_VALUE_BYTES, MAX_SALT_BYTES, type MutableRecord,
  mutableKey, mutableSigningPayload,
} from '../values/index.js';
import { ValueKind } from '../wire/index.js';
import { verifyMutable } from './accept.js';
import type { OperationsContext, TokenMap } from './context.js';
import { publish, type PutResult, replicationFactor, storeOne, type Write } from './operations.js';
import { runLookup } from './run-lookup.js';

const EMPTY = new Uint8Array(0);

/** Options of putMutable. */
export interface PutMutableOptions {
  /** Signing keys; default this node's identity keys. */
  keys?: SigningKeys;
  /** Up to 64 bytes; lets one key pair own many records. Default empty. */
  salt?: Uint8Array;
  /** Sequence number; default one above the highest found in the network (0 for a new record). */
  seq?: number;
  /** Compare-and-swap: write only if the stored seq equals this (BEP 44 `cas`). */
  cas?: number;
  /** Lifetime in ms; default the node's defaultTtl. */
  ttl?: number;
  replicationFactor?: number;
  signal?: AbortSignal;
}

/** Where a mutable put landed. */
export interface PutMutableResult extends PutResult {
  record: MutableRecord;
}

/** Options of getMutable. */
export interface GetMutableOptions {
  salt?: Uint8Array;
  /** Holders that must serve the best record before it counts as confirmed. Default 3. */
  quorum?: number;
  signal?: AbortSignal;
}

/** The best record found, and what the read saw and repaired. */
export interface GetMutableResult {
  key: Key;
  record: MutableRecord;
  value: Uint8Array;
  seq: number;
  /** Holders that served the best record (this node included when it holds it). */
  agreeing: number;
  /** True when `agreeing` reached the quorum. */
  quorumMet: boolean;
  /** Holders that served an older record. */
  stale: number;
  /** STOREs sent to bring stale or missing holders up to date (entry correction). */
  corrected: number;
  hops: number;
  durationMs: number;
  /** Answers that failed their checks (bad signature, wrong key). */
  rejected: number;
}

/** Signs and stores a mutable record. */
export async function putMutable(ctx: OperationsContext, value: Uint8Array, opts: PutMutableOptions = {}): Promise<PutMutableResult> {
  const started = ctx.clock.now();
  const keys = opts.keys ?? null;
  const salt = opts.salt ?? EMPTY;
  if (salt.byteLength > MAX_SALT_BYTES) throw new DhtError('SALT_TOO_BIG', `salt of ${salt.byteLength} bytes exceeds ${MAX_SALT_BYTES}`);
  if (value.byteLength > MAX_MUTABLE_VALUE_BYTES) throw DhtError.valueTooBig(value.byteLength, MAX_MUTABLE_VALUE_BYTES);
  const r = replicationFactor(ctx, opts.replicationFactor);
  if (keys === null) throw new TypeError('putMutable needs signing keys');
  const key = mutableKey(keys.publicKey, salt);
  const tokens: TokenMap = new Map();
  const found = await readRecords(ctx, key, tokens, opts.signal);
  const best = bestOf(found.records);
  const seq = opts.seq ?? (best === null ? 0 : best.record.seq + 1);
  if (!Number.isSafeInteger(seq) || seq < 0) throw new RangeError('options.seq must be a non-negative safe integer');
  const signature = await ctx.pool.sign(keys.secretKey, mutableSigningPayload(salt, seq, value));
  const record: MutableRecord = { publicKey: keys.publicKey, salt: salt.slice(), seq, value: value.slice(), signature };
  const write: Write = {
    key, value: encodeMutable(record), ttl: opts.ttl ?? ctx.options.defaultTtl, tokens, kind: ValueKind.MUTABLE, cas: opts.cas ?? null, r,
  };
  const result = await publish(ctx, write, opts.signal, started, found.lookup);
  return { ...result, record };
}

/** Reads the mutable record of (publicKey, salt) from every holder among the closest. */
export function getMutable(ctx: OperationsContext, publicKey: Uint8Array, opts: GetMutableOptions = {}): Promise<GetMutableResult> {
  return getMutableAt(ctx, mutableKey(publicKey, opts.salt ?? EMPTY), opts);
}

/**
 * Reads the mutable record under `key` alone: every record served is checked against the key
 * (BLAKE3 of its own public key and salt) and its signature, so the key is all a reader needs.
 */
export async function getMutableAt(ctx: OperationsContext, key: Key, opts: Omit<GetMutableOptions, 'salt'> = {}): Promise<GetMutableResult> {
  const started = ctx.clock.now();
  const quorum = opts.quorum ?? 3;
  if (!Number.isInteger(quorum) || quorum < 1) throw new RangeError('options.quorum must be a positive integer');
  const tokens: TokenMap = new Map();
  const found = await readRecords(ctx, key, tokens, opts.signal);
  const best = bestOf(found.records);
  if (best === null) throw DhtError.notFound(`mutable record ${idToHex(key)}`);
  const agreeing = found.records.filter((f) => compareMutable(f.record, best.record) === 0).length;
  const staleHolders = found.records.filter((f) => compareMutable(f.record, best.record) < 0).map((f) => f.from);
  const corrected = await correct(ctx, key, best.bytes, staleHolders, found.lookup, tokens);
  return {
    key, record: best.record, value: best.record.value, seq: best.record.seq, agreeing, quorumMet: agreeing >= quorum,
    stale: staleHolders.length, corrected, hops: found.lookup.hops, durationMs: ctx.clock.now() - started, rejected: found.lookup.rejected,
  };
}

interface FoundRecord { record: MutableRecord; bytes: Uint8Array; from: Contact }

/** A collecting FIND_VALUE lookup that keeps only records with a valid signature for `key`. */
async function readRecords(ctx: OperationsContext, key: Key, tokens: TokenMap, signal?: AbortSignal): Promise<{ records: FoundRecord[]; lookup: LookupResult }> {
  const accept = async (bytes: Uint8Array): Promise<Uint8Array | null> => {
    const record = decodeMutable(bytes);
    if (record === null || checkMutableShape(record, key) !== null) return null;
    return (await verifyMutable(ctx.pool, record)) ? bytes : null;
  };
  const lookup = await runLookup(ctx, key, { valueKey: key, signal, tokens, collect: true, accept });
  const records = lookup.found.map((f: FoundValue) => ({ record: decodeMutable(f.value)!, bytes: f.value, from: f.from }));
  const local = ctx.store?.getCopy(key);
  if (local !== undefined && local.kind === ValueKind.MUTABLE) {
    const record = decodeMutable(local.value);
    if (record !== null) records.push({ record, bytes: local.value, from: ctx.self });
  }
  return { records, lookup };
}

function bestOf(records: readonly FoundRecord[]): FoundRecord | null {
  let best: FoundRecord | null = null;
  for (const f of records) if (best === null || compareMutable(f.record, best.record) > 0) best = f;
  return best;
}

/**
 * Entry correction (libp2p kad spec): the best record goes to every holder that served an older
 * one and to those of the r closest nodes that answered without any. Resolves with how many accepted.
 */
async function correct(ctx: OperationsContext, key: Key, bytes: Uint8Array, stale: Contact[], lookup: LookupResult, tokens: TokenMap): Promise<number> {
  const r = ctx.options.replicationFactor;
  // Only the r closest that answered without a record: farther nodes are not where it belongs.
  const lacking = new Set(lookup.lacking.map((c) => idToHex(c.id)));
  const missing = lookup.closest.slice(0, r).filter((c) => lacking.has(idToHex(c.id)));
  const targets = [...stale, ...missing].filter((c, i, all) => all.findIndex((o) => idEquals(o.id, c.id)) === i);
  const write: Write = { key, value: bytes, ttl: ctx.options.defaultTtl, tokens, kind: ValueKind.MUTABLE, cas: null, r };
  const outcomes = await Promise.all(targets.map((c) => storeOne(ctx, c, write)));
  return outcomes.filter((o) => o === 'stored').length;
}
