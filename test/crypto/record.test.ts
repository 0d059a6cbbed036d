/**
 * Signed node records: sign in the pool -> wire bytes -> decode -> verify in the pool, the frozen
 * golden record (test/vectors/node-record.json), and every way a forged or broken record must
 * come out as `null` (never a throw).
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import {
  blake3, decodeRecord, encodeRecord, identityFromKeys, MAX_RECORD_BYTES, mldsaKeygen, mlkemKeygen, type NodeIdentity,
  type NodeRecord, nodeIdFromPublicKey, NODE_RECORD_DOMAIN, recordSigningPayload, signNodeRecord,
} from '../../src/crypto/index.js';
import { dsaKeys, fromHex, kemKeys, loadVector, PoolRegistry, toHex } from './fixtures.js';

const pools = new PoolRegistry();
afterEach(() => pools.closeAll());

const alice: NodeIdentity = identityFromKeys(dsaKeys(1), kemKeys(1));
const bob: NodeIdentity = identityFromKeys(dsaKeys(2), kemKeys(2));
const fields = {
  addresses: [{ host: '127.0.0.1', port: 4000 }, { host: '2001:db8::7', port: 65535 }],
  seq: 42,
  capabilities: { freeStorage: 5 * 2 ** 40, bandwidthClass: 200, protocolVersion: 1 },
};

/** The comparable content of a record (bytes as hex). */
const plain = (r: NodeRecord): unknown => ({
  id: toHex(r.id), dsa: toHex(r.publicKeys.mldsa65), kem: toHex(r.publicKeys.mlkem768), addresses: r.addresses,
  seq: r.seq, capabilities: r.capabilities, signature: toHex(r.signature),
});

describe('node record round trip', () => {
  it('signNodeRecord -> encodeRecord -> decodeRecord gives the same record, and verifyRecord accepts it', async () => {
    const pool = pools.open();
    const { record, bytes } = await signNodeRecord(alice, pool, fields);
    expect(toHex(record.id)).toBe(toHex(alice.id));
    expect(toHex(bytes)).toBe(toHex(encodeRecord(record)));
    expect(bytes.byteLength).toBeLessThanOrEqual(MAX_RECORD_BYTES);
    const decoded = decodeRecord(bytes);
    expect(decoded).not.toBeNull();
    expect(plain(decoded!)).toEqual(plain(record));
    const verified = await pool.verifyRecord(bytes);
    expect(verified).not.toBeNull();
    expect(plain(verified!)).toEqual(plain(record));
  });

  it('the signature covers the domain tag and a length-prefixed encoding of every field', () => {
    const payload = recordSigningPayload({ publicKeys: { mldsa65: alice.dsa.publicKey, mlkem768: alice.kem.publicKey }, ...fields });
    expect(Buffer.from(payload.subarray(0, NODE_RECORD_DOMAIN.length)).toString()).toBe(NODE_RECORD_DOMAIN);
    const at = NODE_RECORD_DOMAIN.length;
    expect(Buffer.from(payload).readUInt32BE(at)).toBe(alice.dsa.publicKey.byteLength);
    expect(Buffer.from(payload).readUInt32BE(at + 4 + 1952)).toBe(alice.kem.publicKey.byteLength);
  });
});

interface RecordVector {
  mldsa65_seed_hex: string; mlkem768_seed_hex: string; node_id_hex: string; seq: number;
  addresses: Array<{ host: string; port: number }>;
  capabilities: { freeStorage: number; bandwidthClass: number; protocolVersion: number };
  signing_payload_bytes: number; signing_payload_blake3_hex: string; wire_bytes: number; wire_hex: string;
}

describe('golden node record', () => {
  it('the frozen record decodes, verifies, and re-encodes to the same bytes', async () => {
    const v = loadVector<RecordVector>('node-record.json');
    const wire = fromHex(v.wire_hex);
    expect(wire.byteLength).toBe(v.wire_bytes);
    const dsa = mldsaKeygen(fromHex(v.mldsa65_seed_hex));
    const kem = mlkemKeygen(fromHex(v.mlkem768_seed_hex));
    const r = decodeRecord(wire);
    expect(r).not.toBeNull();
    expect(toHex(r!.id)).toBe(v.node_id_hex);
    expect(toHex(r!.publicKeys.mldsa65)).toBe(toHex(dsa.publicKey));
    expect(toHex(r!.publicKeys.mlkem768)).toBe(toHex(kem.publicKey));
    expect(r!.addresses).toEqual(v.addresses);
    expect(r!.seq).toBe(v.seq);
    expect(r!.capabilities).toEqual(v.capabilities);
    const payload = recordSigningPayload(r!);
    expect(payload.byteLength).toBe(v.signing_payload_bytes);
    expect(toHex(blake3(payload))).toBe(v.signing_payload_blake3_hex);
    expect(toHex(encodeRecord(r!))).toBe(v.wire_hex);
    const pool = pools.open();
    expect(await pool.verifyRecord(wire)).not.toBeNull();
  });
});

describe('forged and broken records are null', () => {
  it('one flipped signature bit (first, middle and last byte) is rejected', async () => {
    const pool = pools.open();
    const { record } = await signNodeRecord(alice, pool, fields);
    const results = await Promise.all([0, 1654 * 8 + 3, 3308 * 8 + 7].map((bit) => {
      const signature = record.signature.slice();
      signature[bit >> 3] = signature[bit >> 3]! ^ (1 << (bit & 7));
      const bytes = encodeRecord({ ...record, signature });
      expect(decodeRecord(bytes)).not.toBeNull(); // well-formed: only the signature check can catch it
      return pool.verifyRecord(bytes);
    }));
    expect(results).toEqual([null, null, null]);
  });

  it('a changed seq, address, capability or KEM key under the old signature is rejected', async () => {
    const pool = pools.open();
    const { record } = await signNodeRecord(alice, pool, fields);
    const changed: NodeRecord[] = [
      { ...record, seq: record.seq + 1 },
      { ...record, addresses: [{ host: '127.0.0.2', port: 4000 }, record.addresses[1]!] },
      { ...record, addresses: [{ host: '127.0.0.1', port: 4001 }, record.addresses[1]!] },
      { ...record, addresses: record.addresses.slice(0, 1) },
      { ...record, capabilities: { ...record.capabilities, freeStorage: record.capabilities.freeStorage + 1 } },
      { ...record, capabilities: { ...record.capabilities, bandwidthClass: 201 } },
      { ...record, capabilities: { ...record.capabilities, protocolVersion: 2 } },
      { ...record, publicKeys: { ...record.publicKeys, mlkem768: bob.kem.publicKey } },
    ];
    const results = await Promise.all(changed.map((r) => pool.verifyRecord(encodeRecord(r))));
    expect(results).toEqual(changed.map(() => null));
  });

  it('another node\'s valid signature over this record\'s payload is rejected', async () => {
    const pool = pools.open();
    const { record } = await signNodeRecord(alice, pool, fields);
    const bobSignature = await pool.sign(bob.dsa.secretKey, recordSigningPayload(record));
    expect(await pool.verifyRecord(encodeRecord({ ...record, signature: bobSignature }))).toBeNull();
  });

  it('a swapped signing key is rejected, and the decoded id always follows the key in the bytes', async () => {
    const pool = pools.open();
    const { record } = await signNodeRecord(alice, pool, fields);
    // Alice's signature, Bob's key: the id would become Bob's.
    const swapped = encodeRecord({ ...record, publicKeys: { ...record.publicKeys, mldsa65: bob.dsa.publicKey } });
    expect(toHex(decodeRecord(swapped)!.id)).toBe(toHex(bob.id));
    expect(await pool.verifyRecord(swapped)).toBeNull();
    // Bob signs the exact payload naming Alice's key, then ships it with his own key: the key is
    // inside the signed payload, so the re-derived payload differs and the check fails.
    const bobOverAlice = await pool.sign(bob.dsa.secretKey, recordSigningPayload(record));
    const claim = encodeRecord({ ...record, publicKeys: { ...record.publicKeys, mldsa65: bob.dsa.publicKey }, signature: bobOverAlice });
    expect(await pool.verifyRecord(claim)).toBeNull();
    // A record object carrying a wrong id encodes no id at all: decoding derives it from the key.
    const lying = encodeRecord({ ...record, id: bob.id });
    expect(toHex(decodeRecord(lying)!.id)).toBe(toHex(alice.id));
    expect(toHex(decodeRecord(lying)!.id)).toBe(toHex(nodeIdFromPublicKey(record.publicKeys.mldsa65)));
  });

  it('truncated, extended, re-framed and oversized bytes are null, in the decoder and in the pool', async () => {
    const pool = pools.open();
    const { bytes } = await signNodeRecord(alice, pool, fields);
    const cases: Uint8Array[] = [
      new Uint8Array(0), bytes.subarray(0, 1), bytes.subarray(0, 100), bytes.subarray(0, bytes.byteLength - 1),
      Buffer.concat([bytes, new Uint8Array([0])]), // trailing byte
      Buffer.concat([new Uint8Array([0x99]), bytes.subarray(1), new Uint8Array([0xc4, 32]), alice.id]), // a 9th field (an id)
      new Uint8Array(MAX_RECORD_BYTES + 1).fill(0x98),
      Buffer.concat([bytes, new Uint8Array(MAX_RECORD_BYTES)]),
    ];
    for (const c of cases) expect(decodeRecord(c), `${c.byteLength} bytes`).toBeNull();
    expect(await Promise.all(cases.map((c) => pool.verifyRecord(c)))).toEqual(cases.map(() => null));
  });

  it('random bytes never throw in decodeRecord and are always null', () => {
    const anyBytes = fc.uint8Array({ maxLength: MAX_RECORD_BYTES + 64 });
    const arrayHeaded = fc.uint8Array({ maxLength: 7000 }).map((b) => Buffer.concat([new Uint8Array([0x98]), b]));
    fc.assert(fc.property(fc.oneof(anyBytes, arrayHeaded), (b) => {
      expect(decodeRecord(b)).toBeNull();
    }), { numRuns: 2000 });
  });

  it('a valid record with one random byte changed never throws and never verifies', async () => {
    const pool = pools.open();
    const { bytes } = await signNodeRecord(alice, pool, fields);
    let verified = 0;
    await fc.assert(fc.asyncProperty(fc.nat({ max: bytes.byteLength - 1 }), fc.integer({ min: 1, max: 255 }), async (at, xor) => {
      const mutated = bytes.slice();
      mutated[at] = mutated[at]! ^ xor;
      expect(() => decodeRecord(mutated)).not.toThrow();
      if ((await pool.verifyRecord(mutated)) !== null) verified++;
    }), { numRuns: 40 });
    expect(verified).toBe(0);
  });

  it('out-of-range fields in well-formed msgpack are null (port 0, 9 addresses, 5-byte IP, bandwidth 256)', async () => {
    const pool = pools.open();
    const { record } = await signNodeRecord(alice, pool, fields);
    const a = { host: '10.0.0.1', port: 1 };
    const bad: NodeRecord[] = [
      { ...record, addresses: [{ host: '10.0.0.1', port: 0 }] },
      { ...record, addresses: Array.from({ length: 9 }, () => a) },
      { ...record, capabilities: { ...record.capabilities, bandwidthClass: 256 } },
      { ...record, capabilities: { ...record.capabilities, protocolVersion: 0x10000 } },
      { ...record, seq: -1 },
      { ...record, seq: 1.5 },
      { ...record, signature: record.signature.subarray(1) },
      { ...record, publicKeys: { ...record.publicKeys, mldsa65: record.publicKeys.mldsa65.subarray(1) } },
    ];
    for (const r of bad) expect(decodeRecord(encodeRecord(r))).toBeNull();
    // A 5-byte address is not an IP: patch the encoded 4-byte bin of 127.0.0.1 (c4 04 7f 00 00 01).
    const bytes = encodeRecord({ ...record, addresses: [{ host: '127.0.0.1', port: 9 }] });
    const at = Buffer.from(bytes).indexOf(Buffer.from([0xc4, 0x04, 0x7f, 0, 0, 1]));
    expect(at).toBeGreaterThan(0);
    const fiveByte = Buffer.concat([bytes.subarray(0, at), Buffer.from([0xc4, 0x05, 0x7f, 0, 0, 1, 0]), bytes.subarray(at + 6)]);
    expect(decodeRecord(fiveByte)).toBeNull();
    expect(await pool.verifyRecord(fiveByte)).toBeNull();
  });

  // BUG (src/crypto/identity.ts signNodeRecord, and record.ts recordSigningPayload): fields that
  // decodeRecord rejects (more than MAX_RECORD_ADDRESSES addresses, port 0) are signed without a
  // check, so the node advertises a record nobody can decode. Expected: a RangeError naming the
  // field at the API boundary. Remove `.fails` when fixed.
  it('signNodeRecord refuses fields that decodeRecord would reject', async () => {
    const pool = pools.open();
    const tooMany = { ...fields, addresses: Array.from({ length: 9 }, (_, i) => ({ host: `10.0.0.${i + 1}`, port: 1 })) };
    await expect(signNodeRecord(alice, pool, tooMany)).rejects.toThrow(RangeError);
    await expect(signNodeRecord(alice, pool, { ...fields, addresses: [{ host: '10.0.0.1', port: 0 }] })).rejects.toThrow(RangeError);
  });
});
