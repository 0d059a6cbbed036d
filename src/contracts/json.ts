/**
 * ABI v1 values as JSON, for the HTTP API and the CLI (docs/contracts.md, "Arguments as JSON"):
 * `u32` a number; `u64` a decimal string (a safe-integer number is accepted on input); `address`
 * 64 hex digits; `string` a string; `bytes` "0x" and hex digits, or any other string taken as
 * UTF-8 text. Output uses the same forms (bytes always as "0x" hex), so it can be sent back as input.
 */
import { ABI_TYPES, type AbiType, type AbiValue } from './encoding.js';

/** A field as JSON. */
export type JsonAbiValue = number | string;

const utf8 = new TextEncoder();

/** A types list: an array of type names, or one string of them separated by commas. RangeError names the bad one. */
export function parseAbiTypes(list: unknown): AbiType[] {
  const items = typeof list === 'string' ? (list.trim() === '' ? [] : list.split(',').map((t) => t.trim())) : list;
  if (!Array.isArray(items)) throw new RangeError('types must be a list of ABI types');
  return items.map((t, i) => {
    if (!ABI_TYPES.includes(t as AbiType)) throw new RangeError(`type ${i} must be one of ${ABI_TYPES.join(', ')}, not '${String(t)}'`);
    return t as AbiType;
  });
}

/** JSON values → ABI values of `types`. Throws RangeError naming the field that does not fit. */
export function argsFromJson(types: readonly AbiType[], values: readonly unknown[]): AbiValue[] {
  if (!Array.isArray(values)) throw new RangeError('args must be a JSON array');
  if (types.length !== values.length) throw new RangeError(`${types.length} types but ${values.length} args`);
  return types.map((type, i) => fromJson(type, values[i], i));
}

function fromJson(type: AbiType, v: unknown, i: number): AbiValue {
  const bad = (what: string): RangeError => new RangeError(`arg ${i} (${type}) must be ${what}`);
  switch (type) {
    case 'u32':
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffffffff) throw bad('an integer in 0..2^32-1');
      return v;
    case 'u64': {
      const n = typeof v === 'number' && Number.isSafeInteger(v) ? BigInt(v) : typeof v === 'string' && /^(0|[1-9][0-9]{0,19})$/.test(v) ? BigInt(v) : null;
      if (n === null || n < 0n || n >= 1n << 64n) throw bad('an integer in 0..2^64-1 (a decimal string above 2^53)');
      return n;
    }
    case 'address':
      if (typeof v !== 'string' || !/^[0-9a-fA-F]{64}$/.test(v)) throw bad('64 hex digits');
      return new Uint8Array(Buffer.from(v, 'hex'));
    case 'string':
      if (typeof v !== 'string') throw bad('a string');
      return v;
    case 'bytes':
      if (typeof v !== 'string') throw bad('"0x" and hex digits, or text');
      if (!v.startsWith('0x')) return utf8.encode(v);
      if (!/^0x([0-9a-fA-F]{2})*$/.test(v)) throw bad('"0x" and an even number of hex digits');
      return new Uint8Array(Buffer.from(v.slice(2), 'hex'));
    default:
      throw new RangeError(`arg ${i} has unknown type ${String(type)}`);
  }
}

/** ABI values of `types` (as decodeArgs returns them) → JSON values. */
export function argsToJson(types: readonly AbiType[], values: readonly AbiValue[]): JsonAbiValue[] {
  return types.map((type, i) => {
    const v = values[i]!;
    if (type === 'u64') return String(v);
    if (type === 'address') return Buffer.from(v as Uint8Array).toString('hex');
    if (type === 'bytes') return `0x${Buffer.from(v as Uint8Array).toString('hex')}`;
    return v as number | string;
  });
}
