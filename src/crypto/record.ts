/**
 * Signed node records: who a node is (its ML-DSA-65 and ML-KEM-768 public keys), where it is
 * (addresses), how fresh the record is (seq) and what it offers (capabilities). The signature is
 * ML-DSA-65 over a domain tag and a length-prefixed encoding of every field, so no field can be
 * shifted into another. NodeId = BLAKE3(ML-DSA public key) is derived, never trusted from input.
 */
import { Packr, Unpackr } from 'msgpackr';
import type { NodeId } from '../id/index.js';
import { type Address, bytesToIp, ipToBytes, isPort } from '../util/index.js';
import { blake3 } from './blake3.js';
import { MLDSA65_PUBLIC_KEY_BYTES, MLDSA65_SIGNATURE_BYTES, MLKEM768_PUBLIC_KEY_BYTES } from './mldsa.js';

/** Domain tag of node-record signatures. */
export const NODE_RECORD_DOMAIN = 'zhtp/v1/node-record';
/** Largest encoded record accepted (keys and signature take about 6.5 KiB). */
export const MAX_RECORD_BYTES = 8 * 1024;
/** Addresses in one record at most. */
export const MAX_RECORD_ADDRESSES = 8;

/** What a node advertises about itself (self-reported: placement may read it, routing never does). */
export interface Capabilities {
  /** Free storage in bytes. */
  readonly freeStorage: number;
  /** 0 (lowest) .. 255: a coarse bandwidth class. */
  readonly bandwidthClass: number;
  readonly protocolVersion: number;
}

/** A node record without its signature. */
export interface UnsignedRecord {
  readonly publicKeys: { readonly mldsa65: Uint8Array; readonly mlkem768: Uint8Array };
  readonly addresses: readonly Address[];
  readonly seq: number;
  readonly capabilities: Capabilities;
}

/** A signed node record, with the id derived from its signing key. */
export interface NodeRecord extends UnsignedRecord {
  readonly id: NodeId;
  readonly signature: Uint8Array;
}

/** NodeId = BLAKE3(ML-DSA-65 public key). */
export function nodeIdFromPublicKey(publicKey: Uint8Array): NodeId {
  return blake3(publicKey) as NodeId;
}

/** The exact bytes a record's signature covers. */
export function recordSigningPayload(r: UnsignedRecord): Uint8Array {
  const parts: Uint8Array[] = [new TextEncoder().encode(NODE_RECORD_DOMAIN)];
  const u = (bytes: number, value: number): Uint8Array => {
    const b = Buffer.alloc(bytes);
    if (bytes === 8) b.writeBigUInt64BE(BigInt(value));
    else b.writeUIntBE(value, 0, bytes);
    return b;
  };
  const lp = (data: Uint8Array): void => { parts.push(u(4, data.byteLength), data); };
  lp(r.publicKeys.mldsa65);
  lp(r.publicKeys.mlkem768);
  parts.push(u(2, r.addresses.length));
  for (const a of r.addresses) {
    const ip = ipToBytes(a.host);
    if (ip === null) throw new RangeError(`record address is not an IP literal: ${a.host}`);
    parts.push(u(1, ip.byteLength), ip, u(2, a.port));
  }
  parts.push(u(8, r.seq), u(8, r.capabilities.freeStorage), u(1, r.capabilities.bandwidthClass), u(2, r.capabilities.protocolVersion));
  return Buffer.concat(parts);
}

const packr = new Packr({ useRecords: false, moreTypes: false });
const unpackr = new Unpackr({ useRecords: false, moreTypes: false, mapsAsObjects: false });

/** Wire form: [mldsa65 pk, mlkem768 pk, [[ip, port]...], seq, freeStorage, bandwidthClass, protocolVersion, signature]. */
export function encodeRecord(r: NodeRecord): Uint8Array {
  const addresses = r.addresses.map((a) => [ipToBytes(a.host), a.port]);
  const c = r.capabilities;
  return packr.pack([r.publicKeys.mldsa65, r.publicKeys.mlkem768, addresses, r.seq, c.freeStorage, c.bandwidthClass, c.protocolVersion, r.signature]);
}

const isBytes = (v: unknown, n?: number): v is Uint8Array => v instanceof Uint8Array && (n === undefined || v.byteLength === n);
const isUint = (v: unknown, max: number): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= max;

/** Parses a record's wire form; null for anything malformed. Does not check the signature. */
export function decodeRecord(bytes: Uint8Array): NodeRecord | null {
  if (bytes.byteLength > MAX_RECORD_BYTES || bytes[0] !== 0x98) return null; // fixarray of 8
  let raw: unknown;
  try {
    raw = unpackr.unpack(bytes);
  } catch {
    return null; // malformed msgpack: the caller counts the rejection
  }
  if (!Array.isArray(raw) || raw.length !== 8) return null;
  const [dsa, kem, rawAddresses, seq, freeStorage, bandwidthClass, protocolVersion, signature] = raw as unknown[];
  if (!isBytes(dsa, MLDSA65_PUBLIC_KEY_BYTES) || !isBytes(kem, MLKEM768_PUBLIC_KEY_BYTES) || !isBytes(signature, MLDSA65_SIGNATURE_BYTES)) return null;
  if (!isUint(seq, Number.MAX_SAFE_INTEGER) || !isUint(freeStorage, Number.MAX_SAFE_INTEGER)) return null;
  if (!isUint(bandwidthClass, 0xff) || !isUint(protocolVersion, 0xffff)) return null;
  if (!Array.isArray(rawAddresses) || rawAddresses.length > MAX_RECORD_ADDRESSES) return null;
  const addresses: Address[] = [];
  for (const entry of rawAddresses as unknown[]) {
    if (!Array.isArray(entry) || entry.length !== 2 || !isBytes(entry[0]) || !isPort(entry[1])) return null;
    const host = bytesToIp(entry[0]);
    if (host === null) return null;
    addresses.push({ host, port: entry[1] });
  }
  const publicKeys = { mldsa65: new Uint8Array(dsa), mlkem768: new Uint8Array(kem) };
  return {
    id: nodeIdFromPublicKey(publicKeys.mldsa65), publicKeys, addresses, seq,
    capabilities: { freeStorage, bandwidthClass, protocolVersion }, signature: new Uint8Array(signature),
  };
}
