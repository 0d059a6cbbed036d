/**
 * A node's long-lived identity: an ML-DSA-65 key pair (NodeId = BLAKE3(public key)) and an
 * ML-KEM-768 key pair for sessions, kept in `<dataDir>/identity.key` (mode 0600), created on
 * first start by the worker pool. Also signs the node's record.
 */
import { chmodSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Packr } from 'msgpackr';
import type { NodeId } from '../id/index.js';
import {
  type KemKeys, MLDSA65_PUBLIC_KEY_BYTES, MLDSA65_SECRET_KEY_BYTES, MLKEM768_PUBLIC_KEY_BYTES, MLKEM768_SECRET_KEY_BYTES,
  type SigningKeys,
} from './mldsa.js';
import type { CryptoPool } from './pool.js';
import { type Capabilities, encodeRecord, MAX_RECORD_ADDRESSES, type NodeRecord, nodeIdFromPublicKey, recordSigningPayload } from './record.js';
import { type Address, isPort } from '../util/index.js';

/** The identity file's name inside the data folder. */
export const IDENTITY_FILE = 'identity.key';

/** A node's keys and the id they give it. */
export interface NodeIdentity {
  readonly id: NodeId;
  readonly dsa: SigningKeys;
  readonly kem: KemKeys;
}

const packr = new Packr({ useRecords: false });

/** The identity of the given key pairs. */
export function identityFromKeys(dsa: SigningKeys, kem: KemKeys): NodeIdentity {
  return { id: nodeIdFromPublicKey(dsa.publicKey), dsa, kem };
}

/**
 * Reads `<dataDir>/identity.key`, or creates it with keys generated in the pool from `seed`
 * (96 bytes from the node's random source; omitted = the worker's CSPRNG).
 */
export async function loadOrCreateIdentity(dataDir: string, pool: CryptoPool, seed?: Uint8Array): Promise<NodeIdentity> {
  mkdirSync(dataDir, { recursive: true });
  const path = join(dataDir, IDENTITY_FILE);
  let bytes: Buffer | null = null;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (bytes !== null) {
    chmodSync(path, 0o600); // never leave a secret key readable by others, whatever made the file
    return parseIdentity(bytes, path);
  }
  const { dsa, kem } = await pool.keygen(seed);
  const file = packr.pack({ v: 1, dsaPublic: dsa.publicKey, dsaSecret: dsa.secretKey, kemPublic: kem.publicKey, kemSecret: kem.secretKey });
  // Write a temporary file, then link it into place: the identity appears whole or not at all,
  // and if another start created one meanwhile, that one wins and is loaded.
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, file, { mode: 0o600 });
  try {
    linkSync(tmp, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return parseIdentity(readFileSync(path), path);
  } finally {
    unlinkSync(tmp);
  }
  return identityFromKeys(dsa, kem);
}

function parseIdentity(bytes: Buffer, path: string): NodeIdentity {
  let unpacked: unknown;
  try {
    unpacked = packr.unpack(bytes);
  } catch (err) {
    throw new Error(`${path} is not a zhtp-dht identity file`, { cause: err });
  }
  if (typeof unpacked !== 'object' || unpacked === null) throw new Error(`${path} is not a zhtp-dht identity file`);
  const raw = unpacked as Record<string, unknown>;
  const field = (name: string, size: number): Uint8Array => {
    const v = raw[name];
    if (!(v instanceof Uint8Array) || v.byteLength !== size) throw new Error(`${path}: field ${name} is missing or has the wrong size`);
    return new Uint8Array(v);
  };
  if (raw.v !== 1) throw new Error(`${path}: unknown identity file version ${String(raw.v)}`);
  return identityFromKeys(
    { publicKey: field('dsaPublic', MLDSA65_PUBLIC_KEY_BYTES), secretKey: field('dsaSecret', MLDSA65_SECRET_KEY_BYTES) },
    { publicKey: field('kemPublic', MLKEM768_PUBLIC_KEY_BYTES), secretKey: field('kemSecret', MLKEM768_SECRET_KEY_BYTES) },
  );
}

/** A fresh identity that lives only in memory (ephemeral clients). */
export async function ephemeralIdentity(pool: CryptoPool, seed?: Uint8Array): Promise<NodeIdentity> {
  const { dsa, kem } = await pool.keygen(seed);
  return identityFromKeys(dsa, kem);
}

/** Signs a node record for `identity` in the pool; returns it with its wire bytes. */
export async function signNodeRecord(
  identity: NodeIdentity, pool: CryptoPool, fields: { addresses: readonly Address[]; seq: number; capabilities: Capabilities },
): Promise<{ record: NodeRecord; bytes: Uint8Array }> {
  // Refuse what decodeRecord would reject: a record nobody can read is worse than none.
  if (fields.addresses.length > MAX_RECORD_ADDRESSES) throw new RangeError(`a node record holds at most ${MAX_RECORD_ADDRESSES} addresses`);
  for (const a of fields.addresses) if (!isPort(a.port)) throw new RangeError(`record address port must be 1..65535, got ${a.port}`);
  const c = fields.capabilities;
  const uint = (v: number, max: number): boolean => Number.isInteger(v) && v >= 0 && v <= max;
  if (!uint(fields.seq, Number.MAX_SAFE_INTEGER) || !uint(c.freeStorage, Number.MAX_SAFE_INTEGER) || !uint(c.bandwidthClass, 0xff) || !uint(c.protocolVersion, 0xffff)) {
    throw new RangeError('record seq and capabilities must be unsigned integers in range');
  }
  const unsigned = { publicKeys: { mldsa65: identity.dsa.publicKey, mlkem768: identity.kem.publicKey }, ...fields };
  const signature = await pool.sign(identity.dsa.secretKey, recordSigningPayload(unsigned));
  const record: NodeRecord = { ...unsigned, id: identity.id, signature };
  return { record, bytes: encodeRecord(record) };
}
