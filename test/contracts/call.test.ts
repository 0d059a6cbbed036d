/**
 * Signed contract calls, call ids and the receipt codec (src/contracts/call.ts), and the contract
 * wire messages (src/wire/contract.ts): round trips, the signature over a domain tag, call ids that
 * follow the signed bytes, and decoders that return null (never throw) for malformed input.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  callerOf, callIdOf, callSignatureCheck, decodeReceipt, decodeSignedCall, encodeReceipt, encodeSignedCall, type Receipt, signCall,
} from '../../src/contracts/index.js';
import { blake3, mldsaKeygen, mldsaVerify } from '../../src/crypto/index.js';
import { decode, encode, type Message } from '../../src/wire/index.js';

const keys = mldsaKeygen(new Uint8Array(32).fill(5));
const envelope = { instance: new Uint8Array(32).fill(9), method: 'transfer', input: new Uint8Array([1, 2, 3]), gasLimit: 1000, publicKey: keys.publicKey, nonce: 7, timestamp: 1234 };

describe('signed calls', () => {
  it('round-trips, verifies over the domain-tagged body, and names the caller by its key', () => {
    const signed = signCall(keys.secretKey, envelope);
    const back = decodeSignedCall(signed.bytes)!;
    expect(back.envelope).toEqual(envelope);
    const check = callSignatureCheck(back);
    expect(mldsaVerify(check.publicKey, check.message, check.signature)).toBe(true);
    expect(mldsaVerify(check.publicKey, back.body, check.signature)).toBe(false); // the domain tag is part of what is signed
    expect(callerOf(back)).toEqual(blake3(keys.publicKey));
    expect(callIdOf(back)).toEqual(callIdOf(signed));
    expect(callIdOf(signCall(keys.secretKey, { ...envelope, nonce: 8 }))).not.toEqual(callIdOf(signed));
  });

  it('refuses bad fields when signing and returns null for malformed bytes', () => {
    expect(() => signCall(keys.secretKey, { ...envelope, method: '__gas' })).toThrow(RangeError);
    expect(() => signCall(keys.secretKey, { ...envelope, gasLimit: 0 })).toThrow(RangeError);
    const signed = signCall(keys.secretKey, envelope);
    expect(() => encodeSignedCall(signed.body, new Uint8Array(10))).toThrow(RangeError);
    fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), (junk) => decodeSignedCall(junk) === null));
    for (let i = 0; i < signed.bytes.byteLength; i += 97) {
      const cut = signed.bytes.slice(0, i);
      expect(decodeSignedCall(cut)).toBeNull();
    }
  });
});

describe('receipts', () => {
  const receipt: Receipt = {
    status: 'ok', gasUsed: 25_569, returnData: new Uint8Array([1]), events: [{ topic: new TextEncoder().encode('Transfer'), data: new Uint8Array(40) }],
    writes: [{ key: new Uint8Array([1]), value: new Uint8Array([2]) }, { key: new Uint8Array([2]), value: null }], version: 3, stateHash: new Uint8Array(32).fill(1),
  };

  it('round-trips and refuses writes out of key order and junk', () => {
    expect(decodeReceipt(encodeReceipt(receipt))).toEqual(receipt);
    expect(decodeReceipt(encodeReceipt({ ...receipt, status: 'revert', error: 'no' }))).toMatchObject({ status: 'revert', error: 'no' });
    expect(decodeReceipt(encodeReceipt({ ...receipt, writes: [...receipt.writes].reverse() }))).toBeNull();
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (junk) => { decodeReceipt(junk); return true; }));
  });
});

describe('contract wire messages', () => {
  const h = { tid: 5, sender: new Uint8Array(32).fill(3), flags: 0 } as const;
  const id = new Uint8Array(32).fill(4);
  const messages = [
    { type: 'CONTRACT_CALL', ...h, call: new Uint8Array(50) },
    { type: 'CONTRACT_QUERY', ...h, instance: id, method: 'get', input: new Uint8Array(0), gasLimit: 10 },
    { type: 'CONTRACT_RESULT', ...h, receipt: new Uint8Array(9), callId: id, redirect: [], replicas: 2 },
    { type: 'CONTRACT_RESULT', ...h, receipt: null, callId: id, redirect: [{ id, host: '127.0.0.1', port: 9 }], replicas: 0 },
    { type: 'CONTRACT_UPDATE', ...h, instance: id, version: 2, previousHash: id, stateHash: id, call: new Uint8Array(5), receipt: new Uint8Array(5) },
    { type: 'CONTRACT_INSTALL', ...h, codeHash: id, creator: id, salt: new Uint8Array(3) },
    { type: 'CONTRACT_ACK', ...h, version: 0, stateHash: id },
    { type: 'CONTRACT_SYNC', ...h, instance: id, fromVersion: 4, snapshot: true, after: new Uint8Array(2) },
    { type: 'CONTRACT_STATE', ...h, meta: [id, id, 3, id], snapshot: false, updates: [[new Uint8Array(2), new Uint8Array(3)]], entries: [], next: new Uint8Array(0) },
    { type: 'CONTRACT_RECEIPT', ...h, callId: id },
  ] as unknown as Message[];

  it('decode(encode(m)) equals m, and every one-byte mutation decodes to a message or null', () => {
    for (const m of messages) {
      const bytes = encode(m);
      expect(decode(bytes), m.type).toEqual(m);
      for (let i = 0; i < bytes.byteLength; i++) {
        const mutant = bytes.slice();
        mutant[i]! ^= 0x5a;
        expect(() => decode(mutant)).not.toThrow();
      }
    }
  });

  it('refuses out-of-range fields', () => {
    const bad = [
      { type: 'CONTRACT_QUERY', ...h, instance: id, method: '__x', input: new Uint8Array(0), gasLimit: 10 },
      { type: 'CONTRACT_QUERY', ...h, instance: id, method: 'get', input: new Uint8Array(0), gasLimit: 0 },
      { type: 'CONTRACT_ACK', ...h, version: 0, stateHash: new Uint8Array(31) },
      { type: 'CONTRACT_INSTALL', ...h, codeHash: id, creator: id, salt: new Uint8Array(65) },
    ] as unknown as Message[];
    for (const m of bad) {
      let bytes: Uint8Array;
      try {
        bytes = encode(m);
      } catch {
        continue; // the encoder refused it (a limit): also fine
      }
      expect(decode(bytes), m.type).toBeNull();
    }
  });
});
