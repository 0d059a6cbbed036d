/**
 * Signed contract calls and the wire forms of receipts (docs/contracts.md, "Part 2b"). A
 * state-changing call travels as an envelope signed by its caller with ML-DSA-65 over a domain
 * tag and the exact body bytes (as manifests are); its call id is BLAKE3 over another domain tag
 * and the signed bytes, so a retry of the same signed call has the same id everywhere. The caller
 * a contract sees is BLAKE3 of the signing key: the same id a node has. Decoders take untrusted
 * bytes and return null for anything malformed; they never throw.
 */
// primitives, not the crypto index: the contract worker imports this module and must not load the pool.
import { blake3, MLDSA65_PUBLIC_KEY_BYTES, mldsaSign } from '../crypto/primitives.js';
import type { StateWrite } from './ids.js';
import {
  MAX_EVENT_DATA_BYTES, MAX_EVENT_TOPIC_BYTES, MAX_EVENTS_PER_CALL, MAX_GAS_LIMIT, MAX_INPUT_BYTES, MAX_OUTPUT_BYTES, MAX_REVERT_BYTES,
  MAX_STORAGE_KEY_BYTES, MAX_STORAGE_VALUE_BYTES, MAX_WRITES_PER_CALL, METHOD_NAME,
} from './limits.js';
import { CALL_STATUSES, type CallTask, type ContractEvent, type Receipt } from './receipt.js';
import { decodeSigned, domainPayload, encodeSigned, pack, plain, unpack } from './signed.js';

/** Domain tag of call signatures. */
export const CALL_DOMAIN = 'zhtp-dht/v1/contract-call';
/** Domain tag of call ids. */
export const CALL_ID_DOMAIN = 'zhtp-dht/v1/contract-call-id';
/** Bytes of an encoded signed call at most: the largest input plus key, signature and fields. */
export const MAX_SIGNED_CALL_BYTES = MAX_INPUT_BYTES + 8 * 1024;
/** Bytes of an encoded receipt at most (output, events, writes of one call; a DHT message holds it). */
export const MAX_RECEIPT_BYTES = 200 * 1024;

/** The fields of a signed call. */
export interface CallEnvelope {
  instance: Uint8Array;
  method: string;
  input: Uint8Array;
  gasLimit: number;
  /** The caller's ML-DSA-65 public key; the contract sees BLAKE3 of it. */
  publicKey: Uint8Array;
  /** Chosen by the caller so that two identical calls differ (a random u32 and a counter suffice). */
  nonce: number;
  /** The caller's clock when it signed, ms (informational: holders do not reject by age). */
  timestamp: number;
}

/** A signed call as it travels: the fields, the exact body and its signature. */
export interface SignedCall {
  envelope: CallEnvelope;
  body: Uint8Array;
  signature: Uint8Array;
  /** The encoded form: msgpack [1, body, signature]. */
  bytes: Uint8Array;
}

const FORMAT_VERSION = 1;

const isUint = (v: unknown, max = Number.MAX_SAFE_INTEGER): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && v <= max;
const isBytes = (v: unknown, max: number, exact?: number): v is Uint8Array =>
  v instanceof Uint8Array && v.byteLength <= max && (exact === undefined || v.byteLength === exact);

/** The body bytes of a call (what is signed). Throws RangeError naming a bad field. */
export function encodeCallBody(e: CallEnvelope): Uint8Array {
  if (!isBytes(e.instance, 32, 32)) throw new RangeError('instance must be 32 bytes');
  if (typeof e.method !== 'string' || !METHOD_NAME.test(e.method)) throw new RangeError('method must be a method name of 1..64 characters');
  if (!isBytes(e.input, MAX_INPUT_BYTES)) throw new RangeError(`input must be at most ${MAX_INPUT_BYTES} bytes`);
  if (!isUint(e.gasLimit, MAX_GAS_LIMIT) || e.gasLimit < 1) throw new RangeError(`gasLimit must be an integer in 1..${MAX_GAS_LIMIT}`);
  if (!isBytes(e.publicKey, MLDSA65_PUBLIC_KEY_BYTES, MLDSA65_PUBLIC_KEY_BYTES)) throw new RangeError('publicKey must be an ML-DSA-65 public key');
  if (!isUint(e.nonce) || !isUint(e.timestamp)) throw new RangeError('nonce and timestamp must be non-negative safe integers');
  return pack([FORMAT_VERSION, e.instance, e.method, e.input, e.gasLimit, e.publicKey, e.nonce, e.timestamp]);
}

/** The bytes a call signature covers: u8 len ‖ CALL_DOMAIN ‖ u32be len ‖ body. */
export function callSigningPayload(body: Uint8Array): Uint8Array {
  return domainPayload(CALL_DOMAIN, body);
}

/** The wire form of a signed call: msgpack [1, body, signature]. */
export function encodeSignedCall(body: Uint8Array, signature: Uint8Array): SignedCall {
  const parsed = decodeSignedCall(encodeSigned(body, signature));
  if (parsed === null) throw new RangeError('not a valid call body');
  return parsed;
}

/** Signs synchronously (tests, workers, the bench); a node signs the payload in its crypto pool. */
export function signCall(secretKey: Uint8Array, e: CallEnvelope): SignedCall {
  const body = encodeCallBody(e);
  return encodeSignedCall(body, mldsaSign(secretKey, callSigningPayload(body)));
}

/** Parses untrusted bytes (structure only, not the signature): the signed call, or null. */
export function decodeSignedCall(bytes: Uint8Array): SignedCall | null {
  if (!(bytes instanceof Uint8Array) || bytes.byteLength > MAX_SIGNED_CALL_BYTES) return null;
  const signed = decodeSigned(bytes); // its body is within MAX_SIGNED_CALL_BYTES, as `bytes` is
  if (signed === null) return null;
  const { body, signature } = signed;
  const f = unpack(body);
  if (f === null || f.length !== 8 || f[0] !== FORMAT_VERSION) return null;
  const [, instance, method, input, gasLimit, publicKey, nonce, timestamp] = f;
  if (!isBytes(instance, 32, 32) || typeof method !== 'string' || !METHOD_NAME.test(method) || !isBytes(input, MAX_INPUT_BYTES)) return null;
  if (!isUint(gasLimit, MAX_GAS_LIMIT) || gasLimit < 1 || !isBytes(publicKey, MLDSA65_PUBLIC_KEY_BYTES, MLDSA65_PUBLIC_KEY_BYTES)) return null;
  if (!isUint(nonce) || !isUint(timestamp)) return null;
  const envelope = { instance: plain(instance), method, input: plain(input), gasLimit, publicKey: plain(publicKey), nonce, timestamp };
  return { envelope, body, signature, bytes: plain(bytes) };
}

/** The signature check of a call, for the node's crypto pool (`CryptoPool.verify`). */
export function callSignatureCheck(s: SignedCall): { publicKey: Uint8Array; message: Uint8Array; signature: Uint8Array } {
  return { publicKey: s.envelope.publicKey, message: callSigningPayload(s.body), signature: s.signature };
}

/** The bytes whose BLAKE3 is the call id: u8 len ‖ CALL_ID_DOMAIN ‖ u32be len ‖ signed bytes. */
export function callIdPayload(s: SignedCall): Uint8Array {
  return domainPayload(CALL_ID_DOMAIN, s.bytes);
}

/** The call id of a signed call (synchronous BLAKE3; a node hashes large calls in its pool). */
export function callIdOf(s: SignedCall): Uint8Array {
  return blake3(callIdPayload(s));
}

/** The caller id the contract sees: BLAKE3 of the signing key (as a NodeId is of a node's key). */
export function callerOf(s: SignedCall): Uint8Array {
  return blake3(s.envelope.publicKey);
}

/** The call as the engine runs it. */
export function callTaskOf(s: SignedCall): CallTask {
  const e = s.envelope;
  return { instance: e.instance, method: e.method, input: e.input, caller: callerOf(s), gasLimit: e.gasLimit, readOnly: false };
}

/** The stored and wire form of a receipt: msgpack [1, status, gasUsed, returnData, events, writes, version, stateHash, error]. */
export function encodeReceipt(r: Receipt): Uint8Array {
  const status = CALL_STATUSES.indexOf(r.status);
  if (status < 0) throw new RangeError(`unknown status ${r.status}`);
  return pack([
    FORMAT_VERSION, status, r.gasUsed, r.returnData, r.events.map((e) => [e.topic, e.data]), r.writes.map((w) => [w.key, w.value]),
    r.version, r.stateHash, r.error === undefined ? null : r.error.slice(0, 2 * MAX_REVERT_BYTES),
  ]);
}

/** A receipt from untrusted bytes, every field within the runtime's caps; null when malformed. */
export function decodeReceipt(bytes: Uint8Array): Receipt | null {
  if (!(bytes instanceof Uint8Array) || bytes.byteLength > MAX_RECEIPT_BYTES) return null;
  const f = unpack(bytes);
  if (f === null || f.length !== 9 || f[0] !== FORMAT_VERSION) return null;
  const [, status, gasUsed, returnData, rawEvents, rawWrites, version, stateHash, error] = f;
  const name = isUint(status, CALL_STATUSES.length - 1) ? CALL_STATUSES[status] : undefined;
  if (name === undefined || !isUint(gasUsed, MAX_GAS_LIMIT) || !isBytes(returnData, MAX_OUTPUT_BYTES)) return null;
  if (!isUint(version) || !isBytes(stateHash, 32, 32)) return null;
  if (error !== null && (typeof error !== 'string' || error.length > 2 * MAX_REVERT_BYTES)) return null;
  const events = decodeEvents(rawEvents);
  const writes = decodeWrites(rawWrites);
  if (events === null || writes === null) return null;
  const r: Receipt = { status: name, gasUsed, returnData: plain(returnData), events, writes, version, stateHash: plain(stateHash) };
  if (typeof error === 'string') r.error = error;
  return r;
}

function decodeEvents(raw: unknown): ContractEvent[] | null {
  if (!Array.isArray(raw) || raw.length > MAX_EVENTS_PER_CALL) return null;
  const out: ContractEvent[] = [];
  for (const e of raw as unknown[]) {
    if (!Array.isArray(e) || e.length !== 2 || !isBytes(e[0], MAX_EVENT_TOPIC_BYTES) || !isBytes(e[1], MAX_EVENT_DATA_BYTES)) return null;
    out.push({ topic: plain(e[0]), data: plain(e[1]) });
  }
  return out;
}

/** Writes in strictly increasing key order (as receipts carry them), each within the caps; null otherwise. */
export function decodeWrites(raw: unknown): StateWrite[] | null {
  if (!Array.isArray(raw) || raw.length > MAX_WRITES_PER_CALL) return null;
  const out: StateWrite[] = [];
  let previous: Buffer | null = null;
  for (const w of raw as unknown[]) {
    if (!Array.isArray(w) || w.length !== 2 || !isBytes(w[0], MAX_STORAGE_KEY_BYTES) || w[0].byteLength === 0) return null;
    if (w[1] !== null && !isBytes(w[1], MAX_STORAGE_VALUE_BYTES)) return null;
    const key = Buffer.from(w[0]);
    if (previous !== null && Buffer.compare(previous, key) >= 0) return null;
    previous = key;
    out.push({ key: plain(w[0]), value: w[1] === null ? null : plain(w[1] as Uint8Array) });
  }
  return out;
}
