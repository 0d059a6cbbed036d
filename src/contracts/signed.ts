/**
 * The signed envelope shared by contract manifests and signed calls (docs/contracts.md): msgpack
 * [1, body, signature], the ML-DSA-65 signature covering u8 len ‖ domain ‖ u32be len ‖ body, so
 * verification never re-encodes the body. Also the msgpack helpers of both body formats. Decoders
 * take untrusted bytes and return null for anything malformed; they never throw.
 */
import { Packr, Unpackr } from 'msgpackr';
// primitives, not the crypto index: the contract worker imports this module and must not load the pool.
import { MLDSA65_SIGNATURE_BYTES } from '../crypto/primitives.js';

/** A body and the signature over it, as they travel. */
export interface SignedBody {
  body: Uint8Array;
  signature: Uint8Array;
}

const FORMAT_VERSION = 1;
const packr = new Packr({ useRecords: false, moreTypes: false, variableMapSize: true });
const unpackr = new Unpackr({ useRecords: false, moreTypes: false, mapsAsObjects: false });
const utf8 = new TextEncoder();

/** What a signature (or a domain-separated hash) covers: u8 len ‖ domain ‖ u32be len ‖ body. */
export function domainPayload(domain: string, body: Uint8Array): Uint8Array {
  const d = utf8.encode(domain);
  const out = new Uint8Array(1 + d.byteLength + 4 + body.byteLength);
  out[0] = d.byteLength;
  out.set(d, 1);
  new DataView(out.buffer).setUint32(1 + d.byteLength, body.byteLength);
  out.set(body, 5 + d.byteLength);
  return out;
}

/** The wire form: msgpack [1, body, signature]. Throws RangeError when the signature is not ML-DSA-65's size. */
export function encodeSigned(body: Uint8Array, signature: Uint8Array): Uint8Array {
  if (signature.byteLength !== MLDSA65_SIGNATURE_BYTES) throw new RangeError(`signature must be ${MLDSA65_SIGNATURE_BYTES} bytes`);
  return pack([FORMAT_VERSION, body, signature]);
}

/**
 * The body and signature of untrusted bytes (plain copies; the body is not parsed and the signature
 * not checked), or null. The caller bounds `bytes` first, and so the body within them.
 */
export function decodeSigned(bytes: Uint8Array): SignedBody | null {
  const outer = unpack(bytes);
  if (outer === null || outer.length !== 3 || outer[0] !== FORMAT_VERSION) return null;
  const [, body, signature] = outer;
  if (!(body instanceof Uint8Array) || !(signature instanceof Uint8Array) || signature.byteLength !== MLDSA65_SIGNATURE_BYTES) return null;
  return { body: plain(body), signature: plain(signature) };
}

/** msgpack of `value` as a plain Uint8Array (the packer reuses its buffer). */
export function pack(value: unknown): Uint8Array {
  return plain(packr.pack(value));
}

/** The msgpack array in untrusted bytes, or null when they are malformed or not an array. */
export function unpack(bytes: Uint8Array): unknown[] | null {
  try {
    const raw: unknown = unpackr.unpack(bytes);
    return Array.isArray(raw) ? raw : null;
  } catch {
    return null; // malformed msgpack: the caller counts the drop
  }
}

/** A plain Uint8Array copy (msgpackr hands out Buffers that share a pool). */
export function plain(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}
