/**
 * Where deployed contracts live in the DHT (docs/contracts.md, "Deploy to the DHT" and
 * "Discovery"): the original wasm is immutable content under its code hash; the signed manifest
 * is the mutable record of its owner under manifestSalt(name); each tag is the multi-writer set
 * setKey(tagTopic(tag)), in which every publisher keeps one signed entry listing the names of its
 * contracts under that tag. A finder turns (entry signer, name) into the manifest's key, so an
 * entry can only point at manifests its own signer published. Pure functions; untrusted bytes
 * never throw (decoders return null).
 */
import { Packr, Unpackr } from 'msgpackr';
import type { Key } from '../id/index.js';
import { MAX_SET_ENTRY_VALUE_BYTES, mutableKey, setKey } from '../values/index.js';
import { isContractName, manifestSalt, tagTopic } from './manifest.js';

/** Names one tag entry lists at most (each name is at most 55 bytes; the entry at most 1 KiB). */
export const MAX_TAG_ENTRY_NAMES = 64;
/** Bytes of an encoded tag entry at most: one set entry's value. */
export const MAX_TAG_ENTRY_BYTES = MAX_SET_ENTRY_VALUE_BYTES;

/** Why a finder left a listed contract out (counted per reason). */
export type ContractDropReason =
  /** A tag-set entry whose value is not a list of contract names. */
  | 'entry_malformed'
  /** No holder served the manifest's record (expired, never stored, or unreachable). */
  | 'missing'
  /** The record's value is not a signed manifest. */
  | 'manifest_malformed'
  /** The manifest's owner is not the key that signed its record (and the tag entry). */
  | 'owner_mismatch'
  /** The manifest's name is not the one its record (salt) or the entry names. */
  | 'name_mismatch'
  /** The manifest no longer lists the tag (a later version of the contract dropped it). */
  | 'untagged'
  /** The manifest's signature does not verify with its owner's key. */
  | 'bad_signature';

/** Every drop reason, in a fixed order (for counters). */
export const CONTRACT_DROP_REASONS: readonly ContractDropReason[] = [
  'entry_malformed', 'missing', 'manifest_malformed', 'owner_mismatch', 'name_mismatch', 'untagged', 'bad_signature',
];

const FORMAT_VERSION = 1;
const packr = new Packr({ useRecords: false, moreTypes: false, variableMapSize: true });
const unpackr = new Unpackr({ useRecords: false, moreTypes: false, mapsAsObjects: false });

/** The DHT key of an owner's manifest record: mutableKey(owner public key, manifestSalt(name)). */
export function manifestKey(owner: Uint8Array, name: string): Key {
  return mutableKey(owner, manifestSalt(name));
}

/** The DHT key of a tag's multi-writer set: setKey(tagTopic(tag)). */
export function tagKey(tag: string): Key {
  return setKey(tagTopic(tag));
}

/**
 * A tag entry's value: msgpack [1, names], the names sorted and distinct. Throws RangeError for
 * an invalid name, more than MAX_TAG_ENTRY_NAMES, or an encoding over MAX_TAG_ENTRY_BYTES.
 */
export function encodeTagEntry(names: readonly string[]): Uint8Array {
  const sorted = [...new Set(names)].sort();
  const bad = sorted.find((n) => !isContractName(n));
  if (bad !== undefined) throw new RangeError(`'${String(bad)}' is not a contract name`);
  if (sorted.length > MAX_TAG_ENTRY_NAMES) throw new RangeError(`a tag entry lists at most ${MAX_TAG_ENTRY_NAMES} names`);
  const out = new Uint8Array(packr.pack([FORMAT_VERSION, sorted]));
  if (out.byteLength > MAX_TAG_ENTRY_BYTES) throw new RangeError(`a tag entry of ${sorted.length} names takes ${out.byteLength} bytes, over ${MAX_TAG_ENTRY_BYTES}`);
  return out;
}

/** The names of an entry's value (sorted, distinct, valid), or null when the bytes are not one. */
export function decodeTagEntry(bytes: Uint8Array): string[] | null {
  if (bytes.byteLength > MAX_TAG_ENTRY_BYTES) return null;
  let raw: unknown;
  try {
    raw = unpackr.unpack(bytes);
  } catch {
    return null; // not msgpack: the finder counts entry_malformed
  }
  if (!Array.isArray(raw) || raw.length !== 2 || raw[0] !== FORMAT_VERSION || !Array.isArray(raw[1])) return null;
  const names = raw[1] as unknown[];
  if (names.length > MAX_TAG_ENTRY_NAMES || !names.every(isContractName)) return null;
  return [...new Set(names as string[])].sort();
}
