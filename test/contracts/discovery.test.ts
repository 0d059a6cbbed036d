/**
 * The pure parts of contract discovery and of the JSON argument form: tag entries (round trip,
 * limits, untrusted bytes never throw), the DHT keys of manifests and tags, and ABI values as JSON
 * (round trip through encodeArgs/decodeArgs, and the error naming each bad field).
 */
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import {
  type AbiType, argsFromJson, argsToJson, decodeArgs, decodeTagEntry, encodeArgs, encodeTagEntry, isContractName, manifestKey, manifestSalt,
  MAX_CODE_BYTES, MAX_CONTRACT_NAME, MAX_TAG_ENTRY_BYTES, parseAbiTypes, tagKey, tagTopic,
} from '../../src/contracts/index.js';
import { MAX_VALUE_BYTES } from '../../src/util/index.js';
import { MAX_SALT_BYTES, mutableKey, setKey } from '../../src/values/index.js';

const nameArb = fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,20}$/);

describe('tag entries', () => {
  it('round-trip any list of names as sorted, distinct names', () => {
    fc.assert(fc.property(fc.array(nameArb, { maxLength: 12 }), (names) => {
      expect(decodeTagEntry(encodeTagEntry(names))).toEqual([...new Set(names)].sort());
    }));
  });

  it('refuses bad names and entries over 1 KiB when encoding, and returns null for anything malformed', () => {
    expect(() => encodeTagEntry(['Bad'])).toThrow(/'Bad' is not a contract name/);
    const long = Array.from({ length: 18 }, (_, i) => `${i}`.padStart(MAX_CONTRACT_NAME, 'n'));
    expect(() => encodeTagEntry(long)).toThrow(/a tag entry of 18 names takes 1031 bytes, over 1024/);
    expect(encodeTagEntry(long.slice(0, 17)).byteLength).toBeLessThanOrEqual(MAX_TAG_ENTRY_BYTES);
    const packr = new Packr({ useRecords: false });
    for (const bad of [new Uint8Array(0), new Uint8Array([0xc1]), packr.pack([2, ['a']]), packr.pack([1, 'a']), packr.pack([1, ['A']]), packr.pack([1, [7]]), new Uint8Array(MAX_TAG_ENTRY_BYTES + 1)]) {
      expect(decodeTagEntry(bad)).toBeNull();
    }
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
      const names = decodeTagEntry(bytes);
      expect(names === null || names.every(isContractName)).toBe(true);
    }));
  });

  it('keys manifests as the owner\'s mutable record and tags as multi-writer sets; every name fits a salt', () => {
    const owner = new Uint8Array(1952).fill(7);
    expect(manifestKey(owner, 'token')).toEqual(mutableKey(owner, manifestSalt('token')));
    expect(tagKey('example')).toEqual(setKey(tagTopic('example')));
    expect(manifestSalt('x'.repeat(MAX_CONTRACT_NAME)).byteLength).toBe(MAX_SALT_BYTES);
    expect(isContractName('x'.repeat(MAX_CONTRACT_NAME + 1))).toBe(false);
    // deployContract stores the original wasm as one immutable value: code must never need chunks.
    expect(MAX_CODE_BYTES).toBeLessThanOrEqual(MAX_VALUE_BYTES);
  });
});

describe('ABI values as JSON', () => {
  const types: AbiType[] = ['u32', 'u64', 'address', 'bytes', 'string'];

  it('round-trips through the binary encoding in the documented forms', () => {
    const json = [7, '18446744073709551615', 'ab'.repeat(32), '0x00ff', 'héllo'];
    const values = argsFromJson(types, json);
    expect(argsToJson(types, decodeArgs(types, encodeArgs(types, values))!)).toEqual(json);
    expect(argsFromJson(['u64', 'bytes'], [42, 'text'])).toEqual([42n, new TextEncoder().encode('text')]);
    expect(parseAbiTypes('u64, address')).toEqual(['u64', 'address']);
    expect(parseAbiTypes('')).toEqual([]);
  });

  it('names the field that does not fit its type', () => {
    const cases: Array<[AbiType, unknown, RegExp]> = [
      ['u32', 2 ** 32, /arg 0 \(u32\) must be an integer in 0\.\.2\^32-1/],
      ['u64', '-1', /arg 0 \(u64\) must be an integer in 0\.\.2\^64-1/],
      ['u64', '18446744073709551616', /arg 0 \(u64\)/],
      ['u64', 2 ** 60, /arg 0 \(u64\)/],
      ['address', 'ab', /arg 0 \(address\) must be 64 hex digits/],
      ['bytes', '0xabc', /an even number of hex digits/],
      ['bytes', 5, /arg 0 \(bytes\)/],
      ['string', null, /arg 0 \(string\) must be a string/],
    ];
    for (const [type, value, message] of cases) expect(() => argsFromJson([type], [value]), String(value)).toThrow(message);
    expect(() => argsFromJson(['u32'], [])).toThrow(/1 types but 0 args/);
    expect(() => parseAbiTypes(['u32', 'f64'])).toThrow(/type 1 must be one of u32, u64, address, bytes, string, not 'f64'/);
    expect(() => parseAbiTypes(5)).toThrow(/types must be a list/);
  });
});
