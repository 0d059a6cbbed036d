/**
 * Stored forms of contract code and instance metadata (msgpack arrays with a version tag, as the
 * value records). Decoders take untrusted bytes and return null for anything malformed.
 */
import { Packr, Unpackr } from 'msgpackr';
import { MAX_CODE_BYTES, MAX_MEMORY_PAGES } from './limits.js';

/** Deployed code as this node keeps it: the original, and its metered form under one meter version. */
export interface CodeRecord {
  meterVersion: number;
  methods: string[];
  memory: { initial: number; maximum: number };
  /** The instrumented module the workers run. */
  metered: Uint8Array;
  /** The module as deployed: its BLAKE3 is the code hash. */
  original: Uint8Array;
}

/** An instance's metadata: which code it runs and how far its state has come. */
export interface InstanceMeta {
  codeHash: Uint8Array;
  /** Who created it (32 bytes), part of its id. */
  creator: Uint8Array;
  /** Successful state-changing calls applied so far. */
  version: number;
  /** The state hash chain at `version` (ids.ts). */
  stateHash: Uint8Array;
}

const FORMAT_VERSION = 1;
const packr = new Packr({ useRecords: false, moreTypes: false, variableMapSize: true });
const unpackr = new Unpackr({ useRecords: false, moreTypes: false, mapsAsObjects: false });

const isUint = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isBytes = (v: unknown, length?: number): v is Uint8Array => v instanceof Uint8Array && (length === undefined || v.byteLength === length);

/** The stored bytes of a code record. */
export function encodeCode(c: CodeRecord): Uint8Array {
  return packr.pack([FORMAT_VERSION, c.meterVersion, c.methods, c.memory.initial, c.memory.maximum, c.metered, c.original]);
}

/** A code record, or null when the bytes are not one. */
export function decodeCode(bytes: Uint8Array): CodeRecord | null {
  const raw = unpack(bytes, 7);
  if (raw === null) return null;
  const [, meterVersion, methods, initial, maximum, metered, original] = raw;
  if (!isUint(meterVersion) || !Array.isArray(methods) || !methods.every((m) => typeof m === 'string')) return null;
  if (!isUint(initial) || !isUint(maximum) || initial > maximum || maximum > MAX_MEMORY_PAGES) return null;
  if (!isBytes(metered) || !isBytes(original) || original.byteLength > MAX_CODE_BYTES) return null;
  return { meterVersion, methods: methods as string[], memory: { initial, maximum }, metered: new Uint8Array(metered), original: new Uint8Array(original) };
}

/** The stored bytes of an instance's metadata. */
export function encodeInstance(m: InstanceMeta): Uint8Array {
  return packr.pack([FORMAT_VERSION, m.codeHash, m.creator, m.version, m.stateHash]);
}

/** Instance metadata, or null when the bytes are not one. */
export function decodeInstance(bytes: Uint8Array): InstanceMeta | null {
  const raw = unpack(bytes, 5);
  if (raw === null) return null;
  const [, codeHash, creator, version, stateHash] = raw;
  if (!isBytes(codeHash, 32) || !isBytes(creator, 32) || !isUint(version) || !isBytes(stateHash, 32)) return null;
  return { codeHash: new Uint8Array(codeHash), creator: new Uint8Array(creator), version, stateHash: new Uint8Array(stateHash) };
}

function unpack(bytes: Uint8Array, length: number): unknown[] | null {
  let raw: unknown;
  try {
    raw = unpackr.unpack(bytes);
  } catch {
    return null; // not msgpack: the caller treats the record as absent
  }
  if (!Array.isArray(raw) || raw.length !== length || raw[0] !== FORMAT_VERSION) return null;
  return raw as unknown[];
}
