/**
 * Signed contract manifests: what a deployed module is called, what it offers (tags, the ABI of
 * its methods), who published it (an ML-DSA-65 public key) and which code it is (the code hash,
 * BLAKE3 of the original wasm, under a meter version). The signature covers a domain tag and the
 * exact body bytes, so verification never re-encodes. Part 2 stores the encoded manifest as the
 * value of a mutable record keyed by (owner, manifestSalt(name)) and indexes it in the multi-writer
 * set of each tag (tagTopic), with the wasm itself as immutable content under its code hash.
 */
// primitives, not the crypto index: workers may import this module and must not load the pool.
import { blake3, MLDSA65_PUBLIC_KEY_BYTES, mldsaSign, mldsaVerify } from '../crypto/primitives.js';
import { ABI_TYPES, type AbiType } from './encoding.js';
import { MAX_METHODS, METHOD_NAME } from './limits.js';
import { decodeSigned, domainPayload, encodeSigned, pack, plain, unpack } from './signed.js';

/** Domain tag of manifest signatures. */
export const MANIFEST_DOMAIN = 'zhtp-dht/v1/contract-manifest';
/** Bytes of an encoded signed manifest at most: it must fit a mutable record's value (64 KiB). */
export const MAX_MANIFEST_BYTES = 64 * 1024;
/** Tags per manifest at most. */
export const MAX_TAGS = 16;
/**
 * Characters of a contract name at most: the manifest's mutable-record salt is "contract:" ‖ name
 * and a salt holds at most 64 bytes (MAX_SALT_BYTES), so 64 - 9 = 55.
 */
export const MAX_CONTRACT_NAME = 55;
const NAME = /^[a-z0-9][a-z0-9._-]{0,54}$/;
const TAG = /^[a-z0-9][a-z0-9-]{0,31}$/;
const VERSION = /^[0-9A-Za-z.+-]{1,32}$/;
const PARAM = /^[A-Za-z_][A-Za-z0-9_]{0,31}$/;

/** A field of a method's inputs or outputs. */
export interface AbiParam { name: string; type: AbiType }
/** One method as the manifest describes it. */
export interface AbiMethod {
  name: string;
  inputs: AbiParam[];
  outputs: AbiParam[];
  /** True when the method never writes state (callable as a query). */
  readonly: boolean;
}

/** The manifest's fields. */
export interface ContractManifest {
  /** Lower-case name, 1..55 of [a-z0-9._-] (MAX_CONTRACT_NAME). */
  name: string;
  /** The publisher's version string (semver recommended), 1..32 characters. */
  version: string;
  /** Up to 16 lower-case tags of [a-z0-9-], 1..32 characters each. */
  tags: string[];
  abi: AbiMethod[];
  /** The publisher's ML-DSA-65 public key; its BLAKE3 is the owner's id. */
  owner: Uint8Array;
  meterVersion: number;
  /** BLAKE3 of the original wasm (32 bytes). */
  codeHash: Uint8Array;
}

/** A manifest with its signature and the exact bytes the signature covers. */
export interface SignedManifest {
  manifest: ContractManifest;
  body: Uint8Array;
  signature: Uint8Array;
}

const FORMAT_VERSION = 1;
const utf8 = new TextEncoder();

/** What is wrong with a manifest, or null. */
function problem(m: ContractManifest): string | null {
  if (typeof m.name !== 'string' || !NAME.test(m.name)) return `name must be 1..${MAX_CONTRACT_NAME} of [a-z0-9._-]`;
  if (typeof m.version !== 'string' || !VERSION.test(m.version)) return 'version must be 1..32 of [0-9A-Za-z.+-]';
  if (!Array.isArray(m.tags) || m.tags.length > MAX_TAGS || !m.tags.every((t) => typeof t === 'string' && TAG.test(t))) return `tags must be at most ${MAX_TAGS} of [a-z0-9-]{1,32}`;
  if (new Set(m.tags).size !== m.tags.length) return 'tags must be distinct';
  if (!Array.isArray(m.abi) || m.abi.length > MAX_METHODS || !m.abi.every(isMethod)) return 'abi must be a list of methods';
  if (!(m.owner instanceof Uint8Array) || m.owner.byteLength !== MLDSA65_PUBLIC_KEY_BYTES) return 'owner must be an ML-DSA-65 public key';
  if (!Number.isSafeInteger(m.meterVersion) || m.meterVersion < 1) return 'meterVersion must be a positive integer';
  if (!(m.codeHash instanceof Uint8Array) || m.codeHash.byteLength !== 32) return 'codeHash must be 32 bytes';
  return null;
}

function isMethod(x: unknown): x is AbiMethod {
  if (typeof x !== 'object' || x === null) return false;
  const m = x as Partial<AbiMethod>;
  const params = (p: unknown): boolean => Array.isArray(p) && p.length <= 32 && p.every((f: Partial<AbiParam>) =>
    typeof f === 'object' && f !== null && typeof f.name === 'string' && PARAM.test(f.name) && ABI_TYPES.includes(f.type as AbiType));
  return typeof m.name === 'string' && METHOD_NAME.test(m.name) && params(m.inputs) && params(m.outputs) && typeof m.readonly === 'boolean';
}

/** True when `name` is a valid contract name: 1..55 of [a-z0-9._-], starting with a letter or digit. */
export function isContractName(name: unknown): name is string {
  return typeof name === 'string' && NAME.test(name);
}

/** True when `tag` is a valid tag: 1..32 of [a-z0-9-], starting with a letter or digit. */
export function isContractTag(tag: unknown): tag is string {
  return typeof tag === 'string' && TAG.test(tag);
}

/** The body bytes of a manifest (what is signed). Throws RangeError when a field breaks a rule. */
export function encodeManifestBody(m: ContractManifest): Uint8Array {
  const p = problem(m);
  if (p !== null) throw new RangeError(`invalid manifest: ${p}`);
  const abi = m.abi.map((f) => [f.name, f.inputs.map((i) => [i.name, i.type]), f.outputs.map((o) => [o.name, o.type]), f.readonly]);
  return pack([FORMAT_VERSION, m.name, m.version, m.tags, abi, m.owner, m.meterVersion, m.codeHash]);
}

/** The bytes a manifest signature covers: u8 len ‖ MANIFEST_DOMAIN ‖ u32be len ‖ body. */
export function manifestSigningPayload(body: Uint8Array): Uint8Array {
  return domainPayload(MANIFEST_DOMAIN, body);
}

/**
 * Signs synchronously (~5-15 ms of CPU: tests and workers; a node signs the payload through its
 * crypto pool and calls `encodeSignedManifest`). Returns the encoded signed manifest.
 */
export function signManifest(secretKey: Uint8Array, m: ContractManifest): Uint8Array {
  const body = encodeManifestBody(m);
  return encodeSignedManifest(body, mldsaSign(secretKey, manifestSigningPayload(body)));
}

/** The wire form: msgpack [1, body, signature]. Throws RangeError over MAX_MANIFEST_BYTES. */
export function encodeSignedManifest(body: Uint8Array, signature: Uint8Array): Uint8Array {
  const out = encodeSigned(body, signature);
  if (out.byteLength > MAX_MANIFEST_BYTES) throw new RangeError(`manifest of ${out.byteLength} bytes, over ${MAX_MANIFEST_BYTES}`);
  return out;
}

/** Parses untrusted bytes (structure only, not the signature): the manifest, or null. */
export function decodeSignedManifest(bytes: Uint8Array): SignedManifest | null {
  if (bytes.byteLength > MAX_MANIFEST_BYTES) return null;
  const signed = decodeSigned(bytes);
  if (signed === null) return null;
  const { body, signature } = signed;
  const f = unpack(body);
  if (f === null || f.length !== 8 || f[0] !== FORMAT_VERSION || !Array.isArray(f[4])) return null;
  const abi = (f[4] as unknown[]).map((x) => {
    const [name, inputs, outputs, readonly] = Array.isArray(x) ? x as unknown[] : [];
    const params = (p: unknown): unknown => (Array.isArray(p) ? p.map((q) => (Array.isArray(q) ? { name: q[0], type: q[1] } : null)) : null);
    return { name, inputs: params(inputs), outputs: params(outputs), readonly };
  });
  const manifest = { name: f[1], version: f[2], tags: f[3], abi, owner: f[5], meterVersion: f[6], codeHash: f[7] } as ContractManifest;
  if (problem(manifest) !== null) return null;
  return { manifest: { ...manifest, owner: plain(manifest.owner), codeHash: plain(manifest.codeHash) }, body, signature };
}

/** The signature check of a manifest, for the node's crypto pool (`CryptoPool.verify`). */
export function manifestSignatureCheck(s: SignedManifest): { publicKey: Uint8Array; message: Uint8Array; signature: Uint8Array } {
  return { publicKey: s.manifest.owner, message: manifestSigningPayload(s.body), signature: s.signature };
}

/** True when the signature is the owner's over the body (a synchronous ML-DSA check: workers and tests). */
export function verifyManifest(s: SignedManifest): boolean {
  return mldsaVerify(s.manifest.owner, manifestSigningPayload(s.body), s.signature);
}

/** The owner's id: BLAKE3 of the owner's public key. */
export function manifestOwnerId(m: ContractManifest): Uint8Array {
  return blake3(m.owner);
}

/** The mutable-record salt of a manifest in part 2: "contract:" ‖ name (one record per owner and name). */
export function manifestSalt(name: string): Uint8Array {
  return utf8.encode(`contract:${name}`);
}

/** The multi-writer set topic of a tag in part 2 (see src/values setKey). */
export function tagTopic(tag: string): string {
  return `contract-tag:${tag}`;
}
