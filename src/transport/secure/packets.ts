/**
 * Packets of the secure channel (docs/wire.md "Sessions"). Each message the transport carries
 * starts with one byte: a plaintext wire message starts with a msgpack array byte (0x95–0x9f,
 * 0xdc), every channel packet with a small kind number that no msgpack array can start with.
 * Layouts are fixed binary with one variable tail; parsers are total (null, never a throw).
 */
import { framedBytes } from '../frame.js';

export const PACKET_VERSION = 1;

/** Packet kinds (first byte). */
export const Kind = {
  HELLO: 0x01,
  CHALLENGE: 0x02,
  HANDSHAKE: 0x03,
  DONE: 0x04,
  SEALED: 0x05,
  WHOAREYOU: 0x06,
} as const;

export const NONCE_BYTES = 16;
export const COOKIE_BYTES = 16;
export const SESSION_ID_BYTES = 8;
export const AEAD_NONCE_BYTES = 12;
export const AEAD_TAG_BYTES = 16;
/** kind, session id, AEAD nonce: the sealed header, also the AEAD's associated data. */
export const SEALED_HEADER_BYTES = 1 + SESSION_ID_BYTES + AEAD_NONCE_BYTES;
/** Bytes a sealed packet adds to its message. */
export const SEAL_OVERHEAD = SEALED_HEADER_BYTES + AEAD_TAG_BYTES;
/** ML-KEM-768 ciphertext and ML-DSA-65 signature sizes (FIPS 203 / 204). */
export const KEM_CIPHERTEXT_BYTES = 1088;
export const SIGNATURE_BYTES = 3309;
/** Largest node record a handshake or challenge may carry. */
export const MAX_HANDSHAKE_RECORD_BYTES = 8 * 1024;
/** HELLO flag: send me your node record in the challenge. */
export const HELLO_WANT_RECORD = 1;

const HELLO_FIXED = 3 + NONCE_BYTES;
const CHALLENGE_FIXED = 2 + NONCE_BYTES + COOKIE_BYTES;
const HANDSHAKE_FIXED = 2 + NONCE_BYTES + COOKIE_BYTES + KEM_CIPHERTEXT_BYTES + SIGNATURE_BYTES;
const DONE_BYTES = 2 + NONCE_BYTES + SIGNATURE_BYTES;
const WHOAREYOU_BYTES = 2 + SESSION_ID_BYTES + AEAD_NONCE_BYTES;

/**
 * Padding a HELLO that asks for a record must carry: the challenge (header + record, framed into
 * datagrams) may then be sent to an unvalidated address without exceeding 3× what it received
 * (QUIC's rule), the HELLO being counted as its length plus one frame byte.
 */
export const HELLO_RECORD_PADDING = Math.ceil(framedBytes(CHALLENGE_FIXED + MAX_HANDSHAKE_RECORD_BYTES) / 3) - 1 - HELLO_FIXED;
/** Largest HELLO accepted (padding included). */
export const MAX_HELLO_BYTES = HELLO_FIXED + HELLO_RECORD_PADDING + 1024;

export interface Hello { readonly kind: 'HELLO'; readonly wantRecord: boolean; readonly nonce: Uint8Array }
export interface Challenge { readonly kind: 'CHALLENGE'; readonly nonce: Uint8Array; readonly cookie: Uint8Array; readonly record: Uint8Array | null }
export interface Handshake {
  readonly kind: 'HANDSHAKE';
  readonly nonce: Uint8Array;
  readonly cookie: Uint8Array;
  readonly ciphertext: Uint8Array;
  readonly signature: Uint8Array;
  readonly record: Uint8Array;
}
export interface Done { readonly kind: 'DONE'; readonly nonce: Uint8Array; readonly signature: Uint8Array }
/** "I hold no session for that": names the session id and AEAD nonce of the packet it answers. */
export interface WhoAreYou { readonly kind: 'WHOAREYOU'; readonly sessionId: Uint8Array; readonly aeadNonce: Uint8Array }
export interface Sealed { readonly kind: 'SEALED'; readonly sessionId: Uint8Array; readonly aeadNonce: Uint8Array; readonly packet: Uint8Array }
export type Packet = Hello | Challenge | Handshake | Done | WhoAreYou | Sealed;

/** True when `bytes` starts like a plaintext wire message (a msgpack array). */
export function isPlainMessage(bytes: Uint8Array): boolean {
  const b = bytes[0];
  return b !== undefined && ((b >= 0x95 && b <= 0x9f) || b === 0xdc);
}

function join(kind: number, parts: Uint8Array[], extra = 0): Uint8Array {
  let length = 1;
  for (const p of parts) length += p.byteLength;
  const out = new Uint8Array(length + extra);
  out[0] = kind;
  let at = 1;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

const VERSION = Uint8Array.of(PACKET_VERSION);

export function encodeHello(nonce: Uint8Array, wantRecord: boolean): Uint8Array {
  const padding = wantRecord ? HELLO_RECORD_PADDING : 0;
  return join(Kind.HELLO, [VERSION, Uint8Array.of(wantRecord ? HELLO_WANT_RECORD : 0), nonce], padding);
}

export function encodeChallenge(nonce: Uint8Array, cookie: Uint8Array, record: Uint8Array | null): Uint8Array {
  return join(Kind.CHALLENGE, [VERSION, nonce, cookie, record ?? new Uint8Array(0)]);
}

export function encodeHandshake(h: Omit<Handshake, 'kind'>): Uint8Array {
  return join(Kind.HANDSHAKE, [VERSION, h.nonce, h.cookie, h.ciphertext, h.signature, h.record]);
}

export function encodeDone(nonce: Uint8Array, signature: Uint8Array): Uint8Array {
  return join(Kind.DONE, [VERSION, nonce, signature]);
}

export function encodeWhoAreYou(sessionId: Uint8Array, aeadNonce: Uint8Array): Uint8Array {
  return join(Kind.WHOAREYOU, [VERSION, sessionId, aeadNonce]);
}

/** Size of a challenge carrying `recordBytes` of record. */
export function challengeBytes(recordBytes: number): number {
  return CHALLENGE_FIXED + recordBytes;
}

/** Parses a channel packet; null for anything malformed (unknown kind or version, bad sizes). */
export function parsePacket(bytes: Uint8Array): Packet | null {
  const kind = bytes[0];
  if (kind === Kind.SEALED) {
    if (bytes.byteLength < SEAL_OVERHEAD) return null;
    return {
      kind: 'SEALED', sessionId: bytes.subarray(1, 1 + SESSION_ID_BYTES),
      aeadNonce: bytes.subarray(1 + SESSION_ID_BYTES, SEALED_HEADER_BYTES), packet: bytes,
    };
  }
  if (bytes[1] !== PACKET_VERSION) return null;
  let at = 2;
  const take = (n: number): Uint8Array => {
    const part = bytes.subarray(at, at + n);
    at += n;
    return part;
  };
  switch (kind) {
    case Kind.HELLO: {
      if (bytes.byteLength < HELLO_FIXED || bytes.byteLength > MAX_HELLO_BYTES) return null;
      const flags = bytes[2]!;
      if ((flags & ~HELLO_WANT_RECORD) !== 0) return null;
      at = 3;
      return { kind: 'HELLO', wantRecord: flags === HELLO_WANT_RECORD, nonce: take(NONCE_BYTES) };
    }
    case Kind.CHALLENGE: {
      if (bytes.byteLength < CHALLENGE_FIXED || bytes.byteLength > CHALLENGE_FIXED + MAX_HANDSHAKE_RECORD_BYTES) return null;
      const nonce = take(NONCE_BYTES);
      const cookie = take(COOKIE_BYTES);
      const record = bytes.subarray(at);
      return { kind: 'CHALLENGE', nonce, cookie, record: record.byteLength === 0 ? null : record };
    }
    case Kind.HANDSHAKE: {
      if (bytes.byteLength <= HANDSHAKE_FIXED || bytes.byteLength > HANDSHAKE_FIXED + MAX_HANDSHAKE_RECORD_BYTES) return null;
      return {
        kind: 'HANDSHAKE', nonce: take(NONCE_BYTES), cookie: take(COOKIE_BYTES), ciphertext: take(KEM_CIPHERTEXT_BYTES),
        signature: take(SIGNATURE_BYTES), record: bytes.subarray(at),
      };
    }
    case Kind.DONE:
      if (bytes.byteLength !== DONE_BYTES) return null;
      return { kind: 'DONE', nonce: take(NONCE_BYTES), signature: take(SIGNATURE_BYTES) };
    case Kind.WHOAREYOU:
      if (bytes.byteLength !== WHOAREYOU_BYTES) return null;
      return { kind: 'WHOAREYOU', sessionId: take(SESSION_ID_BYTES), aeadNonce: take(AEAD_NONCE_BYTES) };
    default:
      return null;
  }
}
