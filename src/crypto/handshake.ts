/**
 * The session handshake's cryptography (docs/security.md "Sessions"): the initiator
 * encapsulates to the responder's ML-KEM-768 key (FIPS 203), both sign a transcript hash with
 * ML-DSA-65 (FIPS 204), and both derive one AEAD key per direction from the shared secret and
 * the transcript (BLAKE3 derive-key). The heavy halves run in the worker pool
 * (workers/crypto.ts); the transcript and key derivation are cheap and shared by both sides.
 */
import { ml_kem768 } from '@noble/post-quantum/ml-kem.js';
import type { NodeId } from '../id/index.js';
import { blake3, deriveKey } from './blake3.js';
import { mldsaSign, mldsaVerify } from './mldsa.js';
import { decodeRecord, type NodeRecord, recordSigningPayload } from './record.js';

/** Domain tags: a transcript signature can never be mistaken for another signed object. */
export const HANDSHAKE_DOMAIN = 'zhtp/v1/handshake';
const INITIATOR_TAG = new TextEncoder().encode('zhtp/v1/handshake/initiator');
const RESPONDER_TAG = new TextEncoder().encode('zhtp/v1/handshake/responder');

/** ML-KEM-768 ciphertext bytes. */
export const MLKEM768_CIPHERTEXT_BYTES = 1088;

/** What both sides hash: the initiator's nonce, the responder's cookie, both ids, the KEM ciphertext. */
export interface TranscriptInput {
  readonly nonce: Uint8Array;
  readonly cookie: Uint8Array;
  readonly initiatorId: Uint8Array;
  readonly responderId: Uint8Array;
  readonly ciphertext: Uint8Array;
}

/** BLAKE3 over the domain tag and length-prefixed fields, so no field can shift into another. */
export function handshakeTranscript(t: TranscriptInput): Uint8Array {
  const tag = new TextEncoder().encode(HANDSHAKE_DOMAIN);
  const fields = [t.nonce, t.cookie, t.initiatorId, t.responderId, t.ciphertext];
  let length = tag.byteLength;
  for (const f of fields) length += 4 + f.byteLength;
  const out = new Uint8Array(length);
  const view = new DataView(out.buffer);
  out.set(tag, 0);
  let at = tag.byteLength;
  for (const f of fields) {
    view.setUint32(at, f.byteLength);
    out.set(f, at + 4);
    at += 4 + f.byteLength;
  }
  return blake3(out);
}

/** The bytes the initiator (`role` 'initiator') or the responder signs for transcript `h`. */
export function transcriptSigningPayload(role: 'initiator' | 'responder', h: Uint8Array): Uint8Array {
  const tag = role === 'initiator' ? INITIATOR_TAG : RESPONDER_TAG;
  const out = new Uint8Array(tag.byteLength + h.byteLength);
  out.set(tag, 0);
  out.set(h, tag.byteLength);
  return out;
}

/** One session's keys, seen from one side. */
export interface SessionKeys {
  /** 8 bytes both sides agree on; names the session in every sealed packet. */
  readonly sessionId: Uint8Array;
  readonly sendKey: Uint8Array;
  readonly receiveKey: Uint8Array;
}

/** Derives the two directional keys and the session id from the KEM secret and the transcript. */
export function deriveSessionKeys(sharedSecret: Uint8Array, transcript: Uint8Array, role: 'initiator' | 'responder'): SessionKeys {
  const material = new Uint8Array(sharedSecret.byteLength + transcript.byteLength);
  material.set(sharedSecret, 0);
  material.set(transcript, sharedSecret.byteLength);
  const toResponder = deriveKey('zhtp/v1/session initiator-to-responder', material);
  const toInitiator = deriveKey('zhtp/v1/session responder-to-initiator', material);
  const sessionId = deriveKey('zhtp/v1/session id', material).slice(0, 8);
  return role === 'initiator'
    ? { sessionId, sendKey: toResponder, receiveKey: toInitiator }
    : { sessionId, sendKey: toInitiator, receiveKey: toResponder };
}

/** Why a handshake half failed. */
export type HandshakeFailure = 'malformed_record' | 'bad_record_signature' | 'bad_signature' | 'bad_ciphertext';

/** Input of the initiator's half, run in a worker once the responder's challenge arrived. */
export interface InitiateTask {
  /** The responder's record from its challenge, verified here; null when `peerKeys` is known. */
  readonly peerRecord: Uint8Array | null;
  /** Keys of a responder whose record was verified before. */
  readonly peerKeys: { readonly mldsa65: Uint8Array; readonly mlkem768: Uint8Array } | null;
  readonly localId: Uint8Array;
  readonly nonce: Uint8Array;
  readonly cookie: Uint8Array;
  readonly signingSecretKey: Uint8Array;
}

export type InitiateResult =
  | {
    readonly ok: true;
    /** The responder's record when it came with the challenge (now verified). */
    readonly record: NodeRecord | null;
    readonly peerId: NodeId;
    readonly peerSigningKey: Uint8Array;
    readonly ciphertext: Uint8Array;
    readonly sharedSecret: Uint8Array;
    readonly transcript: Uint8Array;
    readonly signature: Uint8Array;
  }
  | { readonly ok: false; readonly reason: HandshakeFailure };

/** Initiator: check the responder's record, encapsulate to its ML-KEM key, sign the transcript. */
export function initiateHandshake(task: InitiateTask): InitiateResult {
  let record: NodeRecord | null = null;
  let keys = task.peerKeys;
  if (task.peerRecord !== null) {
    record = decodeRecord(task.peerRecord);
    if (record === null) return { ok: false, reason: 'malformed_record' };
    if (!mldsaVerify(record.publicKeys.mldsa65, recordSigningPayload(record), record.signature)) return { ok: false, reason: 'bad_record_signature' };
    keys = record.publicKeys;
  }
  if (keys === null) return { ok: false, reason: 'malformed_record' };
  const peerId = blake3(keys.mldsa65) as NodeId;
  let encapsulated: { cipherText: Uint8Array; sharedSecret: Uint8Array };
  try {
    encapsulated = ml_kem768.encapsulate(keys.mlkem768);
  } catch {
    return { ok: false, reason: 'malformed_record' }; // an ML-KEM key that fails FIPS 203's checks
  }
  const transcript = handshakeTranscript({
    nonce: task.nonce, cookie: task.cookie, initiatorId: task.localId, responderId: peerId, ciphertext: encapsulated.cipherText,
  });
  const signature = mldsaSign(task.signingSecretKey, transcriptSigningPayload('initiator', transcript));
  return {
    ok: true, record, peerId, peerSigningKey: keys.mldsa65, ciphertext: encapsulated.cipherText,
    sharedSecret: encapsulated.sharedSecret, transcript, signature,
  };
}

/** Input of the responder's half, run in a worker when a handshake with a valid cookie arrived. */
export interface RespondTask {
  readonly peerRecord: Uint8Array;
  readonly localId: Uint8Array;
  readonly nonce: Uint8Array;
  readonly cookie: Uint8Array;
  readonly ciphertext: Uint8Array;
  readonly signature: Uint8Array;
  readonly kemSecretKey: Uint8Array;
  readonly signingSecretKey: Uint8Array;
}

export type RespondResult =
  | {
    readonly ok: true;
    readonly record: NodeRecord;
    readonly sharedSecret: Uint8Array;
    readonly transcript: Uint8Array;
    readonly signature: Uint8Array;
  }
  | { readonly ok: false; readonly reason: HandshakeFailure };

/**
 * Responder: verify the initiator's record and its transcript signature (which covers our fresh
 * cookie, so a replayed or relayed handshake fails), decapsulate, and sign the same transcript.
 */
export function respondHandshake(task: RespondTask): RespondResult {
  const record = decodeRecord(task.peerRecord);
  if (record === null) return { ok: false, reason: 'malformed_record' };
  if (task.ciphertext.byteLength !== MLKEM768_CIPHERTEXT_BYTES) return { ok: false, reason: 'bad_ciphertext' };
  if (!mldsaVerify(record.publicKeys.mldsa65, recordSigningPayload(record), record.signature)) return { ok: false, reason: 'bad_record_signature' };
  const transcript = handshakeTranscript({
    nonce: task.nonce, cookie: task.cookie, initiatorId: record.id, responderId: task.localId, ciphertext: task.ciphertext,
  });
  if (!mldsaVerify(record.publicKeys.mldsa65, transcriptSigningPayload('initiator', transcript), task.signature)) return { ok: false, reason: 'bad_signature' };
  let sharedSecret: Uint8Array;
  try {
    sharedSecret = ml_kem768.decapsulate(task.ciphertext, task.kemSecretKey);
  } catch {
    return { ok: false, reason: 'bad_ciphertext' };
  }
  const signature = mldsaSign(task.signingSecretKey, transcriptSigningPayload('responder', transcript));
  return { ok: true, record, sharedSecret, transcript, signature };
}
