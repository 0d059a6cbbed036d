/**
 * Signed contract manifests and the ABI v1 argument encoding: a manifest signed with a node's
 * ML-DSA-65 key decodes and verifies, any changed byte fails verification or decoding, bad fields
 * are refused naming the rule, untrusted bytes never throw; arguments round-trip (property test)
 * and malformed answers decode to null.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AbiType, type AbiValue, codeHashOf, type ContractManifest, decodeArgs, decodeSignedManifest, encodeArgs, encodeManifestBody,
  encodeSignedManifest, EXAMPLE_CONTRACTS, exampleContract, manifestOwnerId, manifestSignatureCheck, manifestSigningPayload,
  METER_VERSION, signManifest, verifyManifest,
} from '../../src/contracts/index.js';
import { mldsaKeygen, mldsaVerify, nodeIdFromPublicKey } from '../../src/crypto/primitives.js';

const keys = mldsaKeygen(new Uint8Array(32).fill(7));
const manifest: ContractManifest = {
  name: 'token', version: '1.0.0', tags: EXAMPLE_CONTRACTS.token.tags, abi: EXAMPLE_CONTRACTS.token.abi,
  owner: keys.publicKey, meterVersion: METER_VERSION, codeHash: codeHashOf(exampleContract('token')),
};

describe('signed manifests', () => {
  const signed = signManifest(keys.secretKey, manifest);

  it('decode and verify, with the owner id of the signing node', () => {
    const decoded = decodeSignedManifest(signed)!;
    expect(decoded.manifest).toEqual(manifest);
    expect(verifyManifest(decoded)).toBe(true);
    expect(manifestOwnerId(decoded.manifest)).toEqual(nodeIdFromPublicKey(keys.publicKey));
    const check = manifestSignatureCheck(decoded);
    expect(mldsaVerify(check.publicKey, check.message, check.signature)).toBe(true);
  });

  it('any changed byte fails decoding or verification', () => {
    const decoded = decodeSignedManifest(signed)!;
    for (let i = 0; i < decoded.body.byteLength; i += 97) {
      const body = decoded.body.slice();
      body[i] = body[i]! ^ 1;
      const tampered = decodeSignedManifest(encodeSignedManifest(body, decoded.signature));
      expect(tampered === null || !verifyManifest(tampered), `byte ${i}`).toBe(true);
    }
    const other = mldsaKeygen(new Uint8Array(32).fill(8));
    const forged = decodeSignedManifest(signManifest(other.secretKey, { ...manifest, owner: other.publicKey }))!;
    expect(verifyManifest({ ...forged, manifest: { ...forged.manifest, owner: keys.publicKey } })).toBe(false);
  });

  it('signs a domain-tagged, length-prefixed payload', () => {
    const body = encodeManifestBody(manifest);
    const payload = manifestSigningPayload(body);
    expect(new TextDecoder().decode(payload.subarray(1, 1 + payload[0]!))).toBe('zhtp-dht/v1/contract-manifest');
    expect(payload.subarray(payload.byteLength - body.byteLength)).toEqual(body);
  });

  it('refuses bad fields, naming the rule', () => {
    const bad: Array<[Partial<ContractManifest>, RegExp]> = [
      [{ name: 'Token' }, /name must be/],
      [{ version: '' }, /version must be/],
      [{ tags: ['a', 'a'] }, /tags must be distinct/],
      [{ tags: Array.from({ length: 17 }, (_, i) => `t${i}`) }, /tags must be at most 16/],
      [{ abi: [{ name: '__gas', inputs: [], outputs: [], readonly: false }] }, /abi must be/],
      [{ abi: [{ name: 'f', inputs: [{ name: 'x', type: 'f64' as AbiType }], outputs: [], readonly: false }] }, /abi must be/],
      [{ owner: new Uint8Array(32) }, /owner must be/],
      [{ meterVersion: 0 }, /meterVersion must be/],
      [{ codeHash: new Uint8Array(31) }, /codeHash must be/],
    ];
    for (const [change, message] of bad) expect(() => encodeManifestBody({ ...manifest, ...change })).toThrow(message);
  });

  it('untrusted bytes decode to null, never a throw', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
      expect(decodeSignedManifest(bytes)).toBeNull();
    }), { numRuns: 300, seed: 1 });
    for (const cut of [1, 10, 100, signed.byteLength - 1]) expect(decodeSignedManifest(signed.subarray(0, cut))).toBeNull();
  });
});

describe('argument encoding', () => {
  const field = fc.oneof(
    fc.nat({ max: 0xffffffff }).map((v) => ['u32', v] as [AbiType, AbiValue]),
    fc.bigInt(0n, (1n << 64n) - 1n).map((v) => ['u64', v] as [AbiType, AbiValue]),
    fc.uint8Array({ minLength: 32, maxLength: 32 }).map((v) => ['address', v] as [AbiType, AbiValue]),
    fc.uint8Array({ maxLength: 70 }).map((v) => ['bytes', v] as [AbiType, AbiValue]),
    fc.string({ maxLength: 20, unit: 'grapheme' }).map((v) => ['string', v] as [AbiType, AbiValue]),
  );

  it('round-trips any list of fields', () => {
    fc.assert(fc.property(fc.array(field, { maxLength: 8 }), (fields) => {
      const types = fields.map((f) => f[0]);
      expect(decodeArgs(types, encodeArgs(types, fields.map((f) => f[1])))).toEqual(fields.map((f) => f[1]));
    }), { numRuns: 300, seed: 2 });
  });

  it('is little-endian, length-prefixed, and refuses values that do not fit', () => {
    expect(encodeArgs(['u32', 'u64', 'string'], [1, 2n, 'ab'])).toEqual(Uint8Array.of(1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 97, 98));
    expect(() => encodeArgs(['u32'], [-1])).toThrow('field 0 (u32) must be an integer in 0..2^32-1');
    expect(() => encodeArgs(['u64'], [1n << 64n])).toThrow(RangeError);
    expect(() => encodeArgs(['address'], [new Uint8Array(31)])).toThrow('field 0 (address) must be 32 bytes');
    expect(() => encodeArgs(['u32'], [])).toThrow('1 types but 0 values');
  });

  it('decodes short, over-long or non-UTF-8 bytes to null', () => {
    expect(decodeArgs(['u64'], new Uint8Array(7))).toBeNull();
    expect(decodeArgs(['u32'], new Uint8Array(5))).toBeNull();
    expect(decodeArgs(['bytes'], Uint8Array.of(9, 0, 0, 0, 1))).toBeNull();
    expect(decodeArgs(['string'], Uint8Array.of(1, 0, 0, 0, 0xff))).toBeNull();
  });
});
