/**
 * One established session: ChaCha20-Poly1305 (RFC 8439, node:crypto) with one key per
 * direction. A packet's 96-bit nonce is a 64-bit send counter followed by 32 random bits
 * (discv5 uses 32 + 64): the counter never repeats within a session, and every session has fresh
 * keys, so no nonce is ever used twice with one key. Received counters pass a sliding replay
 * window (as in IPsec/WireGuard), checked only after the tag verified.
 */
import { createCipheriv, createDecipheriv, timingSafeEqual } from 'node:crypto';
import type { Address } from '../../util/index.js';
import {
  AEAD_NONCE_BYTES, AEAD_TAG_BYTES, Kind, SEALED_HEADER_BYTES, SESSION_ID_BYTES, SEAL_OVERHEAD,
} from './packets.js';

/** Counters remembered behind the highest one received. */
export const REPLAY_WINDOW = 1024;
/** Recently sent packets remembered per session, to check a WHOAREYOU and resend after it. */
const RECENT_SENT = 16;
/** Sent messages larger than this are not kept for a resend (the RPC retry covers them). */
const RESEND_MAX_BYTES = 2048;

/** A sliding window over 64-bit counters (kept below 2^53 by construction). */
export class ReplayWindow {
  readonly #bits = new Uint8Array(REPLAY_WINDOW / 8);
  #highest = -1;

  /** True the first time `counter` is seen inside the window; false for a repeat or one too old. */
  accept(counter: number): boolean {
    if (counter > this.#highest) {
      const gap = counter - this.#highest;
      if (gap >= REPLAY_WINDOW) this.#bits.fill(0);
      else for (let c = this.#highest + 1; c < counter; c++) this.#clear(c);
      this.#highest = counter;
      this.#set(counter);
      return true;
    }
    if (this.#highest - counter >= REPLAY_WINDOW) return false;
    if (this.#isSet(counter)) return false;
    this.#set(counter);
    return true;
  }

  #set(c: number): void { const i = c % REPLAY_WINDOW; this.#bits[i >> 3]! |= 1 << (i & 7); }
  #clear(c: number): void { const i = c % REPLAY_WINDOW; this.#bits[i >> 3]! &= ~(1 << (i & 7)); }
  #isSet(c: number): boolean { const i = c % REPLAY_WINDOW; return (this.#bits[i >> 3]! & (1 << (i & 7))) !== 0; }
}

/** Keys and identity of a session, as the handshake produced them. */
export interface SessionInit {
  readonly sessionId: Uint8Array;
  readonly sendKey: Uint8Array;
  readonly receiveKey: Uint8Array;
  readonly peerId: Uint8Array;
  readonly endpoint: Address;
  /** True when this side started the handshake. */
  readonly initiator: boolean;
  readonly now: number;
}

/** Why open() refused a packet. */
export type OpenFailure = 'aead_failed' | 'replay';

/** A session bound to one peer id at one endpoint. */
export class Session {
  readonly id: Uint8Array;
  readonly peerId: Uint8Array;
  readonly endpoint: Address;
  readonly initiator: boolean;
  readonly createdAt: number;
  lastUsed: number;
  /**
   * Whether the peer is known to hold this session: at once for the initiator (the responder's
   * signed DONE says so), on the first authentic packet for the responder (WireGuard's key
   * confirmation). Nothing is sent in an unconfirmed session.
   */
  confirmed: boolean;
  readonly #sendKey: Buffer;
  readonly #receiveKey: Buffer;
  readonly #window = new ReplayWindow();
  #counter = 0;
  /** Counter → its full nonce and message, for the last RECENT_SENT packets (message null when too big to keep). */
  readonly #recent = new Map<number, { nonce: Uint8Array; message: Uint8Array | null }>();

  constructor(init: SessionInit) {
    if (init.sessionId.byteLength !== SESSION_ID_BYTES) throw new RangeError(`sessionId must be ${SESSION_ID_BYTES} bytes`);
    if (init.sendKey.byteLength !== 32 || init.receiveKey.byteLength !== 32) throw new RangeError('session keys must be 32 bytes');
    this.id = new Uint8Array(init.sessionId);
    this.peerId = new Uint8Array(init.peerId);
    this.endpoint = init.endpoint;
    this.initiator = init.initiator;
    this.createdAt = init.now;
    this.lastUsed = init.now;
    this.confirmed = init.initiator;
    this.#sendKey = Buffer.from(init.sendKey);
    this.#receiveKey = Buffer.from(init.receiveKey);
  }

  /** Packets sealed so far (the next counter). */
  get sent(): number {
    return this.#counter;
  }

  /** Seals `message` into a SEALED packet; `random4` are the nonce's 4 random bytes. */
  seal(message: Uint8Array, random4: Uint8Array): Uint8Array {
    const counter = this.#counter++;
    const out = new Uint8Array(SEAL_OVERHEAD + message.byteLength);
    out[0] = Kind.SEALED;
    out.set(this.id, 1);
    const nonce = out.subarray(1 + SESSION_ID_BYTES, SEALED_HEADER_BYTES);
    writeCounter(nonce, counter);
    nonce.set(random4.subarray(0, 4), 8);
    const cipher = createCipheriv('chacha20-poly1305', this.#sendKey, nonce, { authTagLength: AEAD_TAG_BYTES });
    cipher.setAAD(out.subarray(0, SEALED_HEADER_BYTES), { plaintextLength: message.byteLength });
    const body = cipher.update(message);
    cipher.final();
    out.set(body, SEALED_HEADER_BYTES);
    out.set(cipher.getAuthTag(), SEALED_HEADER_BYTES + body.byteLength);
    this.#recent.set(counter, { nonce: nonce.slice(), message: message.byteLength <= RESEND_MAX_BYTES ? message : null });
    if (this.#recent.size > RECENT_SENT) this.#recent.delete(this.#recent.keys().next().value!);
    return out;
  }

  /** The message inside a SEALED packet of this session, or why it was refused. */
  open(packet: Uint8Array): Uint8Array | OpenFailure {
    if (packet.byteLength < SEAL_OVERHEAD) return 'aead_failed';
    const header = packet.subarray(0, SEALED_HEADER_BYTES);
    const nonce = packet.subarray(1 + SESSION_ID_BYTES, SEALED_HEADER_BYTES);
    const tagAt = packet.byteLength - AEAD_TAG_BYTES;
    let message: Buffer;
    try {
      const decipher = createDecipheriv('chacha20-poly1305', this.#receiveKey, nonce, { authTagLength: AEAD_TAG_BYTES });
      decipher.setAAD(header, { plaintextLength: tagAt - SEALED_HEADER_BYTES });
      decipher.setAuthTag(packet.subarray(tagAt));
      message = decipher.update(packet.subarray(SEALED_HEADER_BYTES, tagAt));
      decipher.final(); // throws when the tag does not verify
    } catch {
      return 'aead_failed';
    }
    // Only an authentic packet may move the window: forged counters cannot block real ones.
    if (!this.#window.accept(readCounter(nonce))) return 'replay';
    return new Uint8Array(message.buffer, message.byteOffset, message.byteLength);
  }

  /**
   * Whether `aeadNonce` is one of the last packets sent here (a WHOAREYOU must answer a packet
   * we really sent), and that packet's message when it was small enough to keep.
   */
  recentlySent(aeadNonce: Uint8Array): { found: boolean; message: Uint8Array | null } {
    if (aeadNonce.byteLength !== AEAD_NONCE_BYTES) return { found: false, message: null };
    const sent = this.#recent.get(readCounter(aeadNonce));
    // The whole nonce must match, random bits included: only someone who saw the packet knows them.
    if (sent === undefined || !timingSafeEqual(sent.nonce, aeadNonce)) return { found: false, message: null };
    return { found: true, message: sent.message };
  }
}

/** The 64-bit big-endian counter at the front of a nonce, as a number (< 2^53 in practice). */
export function readCounter(nonce: Uint8Array): number {
  const view = new DataView(nonce.buffer, nonce.byteOffset, 8);
  return view.getUint32(0) * 0x1_0000_0000 + view.getUint32(4);
}

function writeCounter(nonce: Uint8Array, counter: number): void {
  const view = new DataView(nonce.buffer, nonce.byteOffset, 8);
  view.setUint32(0, Math.floor(counter / 0x1_0000_0000));
  view.setUint32(4, counter >>> 0);
}
