/**
 * The session handshake's two halves (src/crypto/handshake.ts), called directly with real
 * ML-KEM-768 and ML-DSA-65 — the same functions the worker pool runs. Both sides must agree on
 * the transcript and derive mirrored keys; any change to what the transcript covers, a forged
 * or malformed record, or a signature replayed under another cookie must be refused.
 */
import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  deriveSessionKeys, encodeRecord, handshakeTranscript, HANDSHAKE_DOMAIN, identityFromKeys, initiateHandshake,
  type InitiateResult, type InitiateTask, MLKEM768_CIPHERTEXT_BYTES, mldsaSign, mldsaVerify, type NodeIdentity, type NodeRecord,
  recordSigningPayload, respondHandshake, type RespondResult, type RespondTask, transcriptSigningPayload, type UnsignedRecord,
} from '../../src/crypto/index.js';
import { Session } from '../../src/transport/index.js';
import { dsaKeys, kemKeys, toHex } from './fixtures.js';

type Ok<T> = Extract<T, { ok: true }>;

const initiator: NodeIdentity = identityFromKeys(dsaKeys(11), kemKeys(11));
const responder: NodeIdentity = identityFromKeys(dsaKeys(12), kemKeys(12));
const stranger: NodeIdentity = identityFromKeys(dsaKeys(13), kemKeys(13));

/** The wire bytes of `who`'s record, signed by `signer` (its own key unless forging). */
function recordBytes(who: NodeIdentity, signer: NodeIdentity = who, port = 4000): Uint8Array {
  const unsigned: UnsignedRecord = {
    publicKeys: { mldsa65: who.dsa.publicKey, mlkem768: who.kem.publicKey },
    addresses: [{ host: '127.0.0.1', port }], seq: 1, capabilities: { freeStorage: 0, bandwidthClass: 1, protocolVersion: 1 },
  };
  const record: NodeRecord = { ...unsigned, id: who.id, signature: mldsaSign(signer.dsa.secretKey, recordSigningPayload(unsigned)) };
  return encodeRecord(record);
}

const flip = (b: Uint8Array, at = 0): Uint8Array => {
  const out = new Uint8Array(b);
  out[at]! ^= 0x01;
  return out;
};

let initiatorRecord: Uint8Array;
let responderRecord: Uint8Array;
let nonce: Uint8Array;
let cookie: Uint8Array;
let init: Ok<InitiateResult>;
let respondTask: RespondTask;
let resp: Ok<RespondResult>;

function initiateTask(over: Partial<InitiateTask> = {}): InitiateTask {
  return {
    peerRecord: responderRecord, peerKeys: null, localId: initiator.id, nonce, cookie, signingSecretKey: initiator.dsa.secretKey, ...over,
  };
}

function ok<T extends { ok: boolean }>(r: T): Extract<T, { ok: true }> {
  if (!r.ok) throw new Error(`handshake half failed: ${JSON.stringify(r)}`);
  return r as Extract<T, { ok: true }>;
}

beforeAll(() => {
  initiatorRecord = recordBytes(initiator);
  responderRecord = recordBytes(responder);
  nonce = randomBytes(16);
  cookie = randomBytes(16);
  init = ok(initiateHandshake(initiateTask()));
  respondTask = {
    peerRecord: initiatorRecord, localId: responder.id, nonce, cookie, ciphertext: init.ciphertext, signature: init.signature,
    kemSecretKey: responder.kem.secretKey, signingSecretKey: responder.dsa.secretKey,
  };
  resp = ok(respondHandshake(respondTask));
});

describe('handshake halves agree', () => {
  it('both halves compute the same transcript and shared secret, and name each other', () => {
    expect(toHex(init.peerId)).toBe(toHex(responder.id));
    expect(toHex(init.record!.id)).toBe(toHex(responder.id));
    expect(toHex(resp.record.id)).toBe(toHex(initiator.id));
    expect(init.ciphertext.byteLength).toBe(MLKEM768_CIPHERTEXT_BYTES);
    expect(toHex(resp.transcript)).toBe(toHex(init.transcript));
    expect(toHex(resp.sharedSecret)).toBe(toHex(init.sharedSecret));
    expect(toHex(init.transcript)).toBe(toHex(handshakeTranscript({
      nonce, cookie, initiatorId: initiator.id, responderId: responder.id, ciphertext: init.ciphertext,
    })));
  });

  it('the responder signature verifies as the initiator checks it (responder payload, responder key)', () => {
    expect(mldsaVerify(responder.dsa.publicKey, transcriptSigningPayload('responder', init.transcript), resp.signature)).toBe(true);
    expect(mldsaVerify(initiator.dsa.publicKey, transcriptSigningPayload('initiator', init.transcript), init.signature)).toBe(true);
  });

  it('derives mirrored keys: initiator send = responder receive and the other way, one session id', () => {
    const i = deriveSessionKeys(init.sharedSecret, init.transcript, 'initiator');
    const r = deriveSessionKeys(resp.sharedSecret, resp.transcript, 'responder');
    expect(toHex(i.sendKey)).toBe(toHex(r.receiveKey));
    expect(toHex(i.receiveKey)).toBe(toHex(r.sendKey));
    expect(toHex(i.sessionId)).toBe(toHex(r.sessionId));
    expect(i.sessionId.byteLength).toBe(8);
    expect(toHex(i.sendKey)).not.toBe(toHex(i.receiveKey)); // one key per direction
    // and sessions built from them talk to each other
    const endpoint = { host: '127.0.0.1', port: 1 };
    const a = new Session({ ...i, peerId: responder.id, endpoint, initiator: true, now: 0 });
    const b = new Session({ ...r, peerId: initiator.id, endpoint, initiator: false, now: 0 });
    const opened = b.open(a.seal(new TextEncoder().encode('ping'), randomBytes(4)));
    expect(typeof opened === 'string' ? opened : new TextDecoder().decode(opened)).toBe('ping');
  });

  it('a known responder (keys, no record) gives a handshake the responder accepts', () => {
    const known = ok(initiateHandshake(initiateTask({ peerRecord: null, peerKeys: { mldsa65: responder.dsa.publicKey, mlkem768: responder.kem.publicKey } })));
    expect(known.record).toBeNull();
    expect(toHex(known.peerId)).toBe(toHex(responder.id));
    const r = ok(respondHandshake({ ...respondTask, ciphertext: known.ciphertext, signature: known.signature }));
    expect(toHex(r.transcript)).toBe(toHex(known.transcript));
  });

  it('two runs with the same inputs give different ciphertexts and keys (fresh encapsulation)', () => {
    const again = ok(initiateHandshake(initiateTask()));
    expect(toHex(again.ciphertext)).not.toBe(toHex(init.ciphertext));
    expect(toHex(again.sharedSecret)).not.toBe(toHex(init.sharedSecret));
  });
});

describe('the responder refuses', () => {
  const reason = (over: Partial<RespondTask>): string => {
    const r = respondHandshake({ ...respondTask, ...over });
    return r.ok ? 'accepted' : r.reason;
  };

  it('a flipped bit in the ciphertext, the nonce, the cookie or its own id: bad_signature', () => {
    for (const at of [0, 543, MLKEM768_CIPHERTEXT_BYTES - 1]) expect(reason({ ciphertext: flip(init.ciphertext, at) }), `ciphertext byte ${at}`).toBe('bad_signature');
    for (const at of [0, 15]) expect(reason({ nonce: flip(nonce, at) }), `nonce byte ${at}`).toBe('bad_signature');
    for (const at of [0, 15]) expect(reason({ cookie: flip(cookie, at) }), `cookie byte ${at}`).toBe('bad_signature');
    for (const at of [0, 31]) expect(reason({ localId: flip(responder.id, at) }), `responder id byte ${at}`).toBe('bad_signature');
  });

  it('a flipped bit in the initiator signature: bad_signature', () => {
    expect(reason({ signature: flip(init.signature, 100) })).toBe('bad_signature');
  });

  it('an initiator signature replayed under another cookie (a later challenge): bad_signature', () => {
    expect(reason({ cookie: randomBytes(16) })).toBe('bad_signature');
    // … or addressed to another responder, which would decapsulate with its own key
    expect(reason({ localId: stranger.id, kemSecretKey: stranger.kem.secretKey, signingSecretKey: stranger.dsa.secretKey })).toBe('bad_signature');
  });

  it('a record signed by another key: bad_record_signature', () => {
    expect(reason({ peerRecord: recordBytes(initiator, stranger) })).toBe('bad_record_signature');
  });

  it('someone else’s genuine record with the initiator’s signature: bad_signature (the id is the record’s)', () => {
    expect(reason({ peerRecord: recordBytes(stranger) })).toBe('bad_signature');
  });

  it('a malformed record: malformed_record', () => {
    for (const peerRecord of [new Uint8Array(0), randomBytes(100), initiatorRecord.subarray(0, initiatorRecord.byteLength - 1), Uint8Array.of(0x98)]) {
      expect(reason({ peerRecord })).toBe('malformed_record');
    }
  });

  it('a ciphertext of the wrong size: bad_ciphertext', () => {
    expect(reason({ ciphertext: init.ciphertext.subarray(1) })).toBe('bad_ciphertext');
  });
});

describe('the initiator refuses', () => {
  const reason = (over: Partial<InitiateTask>): string => {
    const r = initiateHandshake(initiateTask(over));
    return r.ok ? 'accepted' : r.reason;
  };

  it('a responder record signed by another key: bad_record_signature', () => {
    expect(reason({ peerRecord: recordBytes(responder, stranger) })).toBe('bad_record_signature');
  });

  it('a malformed responder record, or neither a record nor known keys: malformed_record', () => {
    expect(reason({ peerRecord: randomBytes(64) })).toBe('malformed_record');
    expect(reason({ peerRecord: responderRecord.subarray(0, 500) })).toBe('malformed_record');
    expect(reason({ peerRecord: null, peerKeys: null })).toBe('malformed_record');
  });

  it('a signed record whose ML-KEM key fails FIPS 203’s checks: malformed_record, not a throw', () => {
    const badKem = identityFromKeys(responder.dsa, { publicKey: new Uint8Array(responder.kem.publicKey.byteLength).fill(0xff), secretKey: responder.kem.secretKey });
    expect(reason({ peerRecord: recordBytes(badKem) })).toBe('malformed_record');
  });
});

describe('domain separation', () => {
  it('the initiator payload differs from the responder payload for the same transcript, and signatures do not cross', () => {
    const i = transcriptSigningPayload('initiator', init.transcript);
    const r = transcriptSigningPayload('responder', init.transcript);
    expect(toHex(i)).not.toBe(toHex(r));
    expect(Buffer.from(i).toString('latin1')).toContain('zhtp/v1/handshake/initiator');
    expect(Buffer.from(r).toString('latin1')).toContain('zhtp/v1/handshake/responder');
    // the responder's signature, reflected back as an initiator signature, does not verify
    expect(mldsaVerify(responder.dsa.publicKey, i, resp.signature)).toBe(false);
    expect(mldsaVerify(initiator.dsa.publicKey, r, init.signature)).toBe(false);
  });

  it('the transcript hashes a domain tag and length-prefixed fields: moving a byte between fields changes it', () => {
    const base = { nonce, cookie, initiatorId: initiator.id, responderId: responder.id, ciphertext: init.ciphertext };
    const shifted = { ...base, nonce: Uint8Array.from([...nonce, cookie[0]!]), cookie: cookie.subarray(1) };
    expect(toHex(handshakeTranscript(shifted))).not.toBe(toHex(handshakeTranscript(base)));
    expect(HANDSHAKE_DOMAIN).toBe('zhtp/v1/handshake');
  });
});
