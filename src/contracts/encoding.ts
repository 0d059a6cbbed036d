/**
 * The argument encoding of ABI v1 (docs/contracts.md): a method's input, output and event data
 * are its fields concatenated in order, each `u32` as 4 bytes and `u64` as 8 bytes little-endian,
 * each `address` as 32 raw bytes, each `bytes` / `string` (UTF-8) as a u32 little-endian length
 * and the bytes. No tags, no padding: the same from any language, and what the AssemblyScript
 * SDK's Args and Writer read and write.
 */
import { concatBytes } from '../util/index.js';

/** A field type of ABI v1. */
export type AbiType = 'u32' | 'u64' | 'address' | 'bytes' | 'string';
/** A decoded field: u32 → number, u64 → bigint, address / bytes → Uint8Array, string → string. */
export type AbiValue = number | bigint | Uint8Array | string;

/** Every field type. */
export const ABI_TYPES: readonly AbiType[] = ['u32', 'u64', 'address', 'bytes', 'string'];

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Encodes `values` as `types`. Throws RangeError naming the field that does not fit its type. */
export function encodeArgs(types: readonly AbiType[], values: readonly AbiValue[]): Uint8Array {
  if (types.length !== values.length) throw new RangeError(`${types.length} types but ${values.length} values`);
  return concatBytes(types.map((t, i) => encodeField(t, values[i] as AbiValue, i)));
}

function encodeField(type: AbiType, v: AbiValue, i: number): Uint8Array {
  const bad = (what: string): RangeError => new RangeError(`field ${i} (${type}) must be ${what}`);
  switch (type) {
    case 'u32': {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffffffff) throw bad('an integer in 0..2^32-1');
      const out = new Uint8Array(4);
      new DataView(out.buffer).setUint32(0, v, true);
      return out;
    }
    case 'u64': {
      const n = typeof v === 'number' && Number.isSafeInteger(v) ? BigInt(v) : v;
      if (typeof n !== 'bigint' || n < 0n || n >= 1n << 64n) throw bad('an integer in 0..2^64-1');
      const out = new Uint8Array(8);
      new DataView(out.buffer).setBigUint64(0, n, true);
      return out;
    }
    case 'address':
      if (!(v instanceof Uint8Array) || v.byteLength !== 32) throw bad('32 bytes');
      return v;
    case 'bytes':
    case 'string': {
      const body = type === 'string' && typeof v === 'string' ? utf8.encode(v) : v;
      if (!(body instanceof Uint8Array)) throw bad(type === 'string' ? 'a string' : 'bytes');
      const out = new Uint8Array(4 + body.byteLength);
      new DataView(out.buffer).setUint32(0, body.byteLength, true);
      out.set(body, 4);
      return out;
    }
    default:
      throw new RangeError(`field ${i} has unknown type ${String(type)}`);
  }
}

/**
 * Decodes `bytes` as `types`: the values, or null when the bytes are short, have bytes left
 * over, or hold a string that is not UTF-8. Untrusted input: never throws.
 */
export function decodeArgs(types: readonly AbiType[], bytes: Uint8Array): AbiValue[] | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: AbiValue[] = [];
  let at = 0;
  for (const type of types) {
    const need = type === 'u32' ? 4 : type === 'u64' ? 8 : type === 'address' ? 32 : 4;
    if (at + need > bytes.byteLength) return null;
    if (type === 'u32') out.push(view.getUint32(at, true));
    else if (type === 'u64') out.push(view.getBigUint64(at, true));
    else if (type === 'address') out.push(bytes.slice(at, at + 32));
    else {
      const len = view.getUint32(at, true);
      if (at + 4 + len > bytes.byteLength) return null;
      const body = bytes.slice(at + 4, at + 4 + len);
      if (type === 'bytes') out.push(body);
      else {
        try {
          out.push(strictUtf8.decode(body));
        } catch {
          return null; // not UTF-8: the caller sees a malformed answer
        }
      }
      at += len;
    }
    at += need;
  }
  return at === bytes.byteLength ? out : null;
}
