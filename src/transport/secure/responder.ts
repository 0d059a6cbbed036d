/**
 * The responder's admission checks, kept apart from the channel's state machine: stateless
 * cookies for HELLOs (keyed BLAKE3 of address ‖ nonce under a rotating secret, so a HELLO costs
 * no memory), the replay set of handshake nonces already used, and the bound on handshakes
 * being verified in the pool at once.
 */
import { type Address, formatAddress, toHex } from '../../util/index.js';
import { RotatingSecret, type MacFunction } from './secret.js';

/** Handshake nonces remembered at most (oldest forgotten first). */
const MAX_USED_NONCES = 16_384;

/** Why a HANDSHAKE was not admitted to verification. */
export type AdmissionRefusal = 'bad_cookie' | 'handshake_replay' | 'handshake_busy';

/** Cookies, used nonces and inbound slots of one channel. */
export class ResponderGate {
  readonly #cookies: RotatingSecret;
  readonly #usedNonces = new Map<string, number>();
  readonly #maxInbound: number;
  readonly #period: number;
  #inbound = 0;

  constructor(init: { master: Uint8Array; mac: MacFunction; cookiePeriod: number; maxInbound: number }) {
    this.#cookies = new RotatingSecret({ master: init.master, mac: init.mac, period: init.cookiePeriod });
    this.#maxInbound = init.maxInbound;
    this.#period = init.cookiePeriod;
  }

  /** The cookie for a HELLO with `nonce` from `from`. */
  cookie(from: Address, nonce: Uint8Array, now: number): Uint8Array {
    return this.#cookies.issue(cookieData(from, nonce), now);
  }

  /**
   * Admits a HANDSHAKE to verification: its cookie must be ours for this address and nonce, its
   * nonce unused, and an inbound slot free. On success the nonce is spent and a slot taken;
   * `release(nonce, spent)` gives the slot back (and the nonce, when nothing was verified).
   * `validated` tells whether the cookie proved the address (it did unless the cookie failed).
   */
  admit(from: Address, nonce: Uint8Array, cookie: Uint8Array, now: number): { refusal: AdmissionRefusal | null; validated: boolean } {
    if (!this.#cookies.verify(cookie, cookieData(from, nonce), now)) return { refusal: 'bad_cookie', validated: false };
    const key = toHex(nonce);
    if (this.#usedNonces.has(key)) return { refusal: 'handshake_replay', validated: true };
    if (this.#inbound >= this.#maxInbound) return { refusal: 'handshake_busy', validated: true };
    this.#usedNonces.set(key, now);
    while (this.#usedNonces.size > MAX_USED_NONCES) this.#usedNonces.delete(this.#usedNonces.keys().next().value!);
    this.#inbound++;
    return { refusal: null, validated: true };
  }

  /** Frees the slot of an admitted handshake; `verified` false hands its nonce back (the pool was busy). */
  release(nonce: Uint8Array, verified: boolean): void {
    this.#inbound--;
    if (!verified) this.#usedNonces.delete(toHex(nonce));
  }

  /** Forgets nonces whose cookies have expired anyway. */
  expire(now: number): void {
    for (const [key, at] of this.#usedNonces) if (now - at > 2 * this.#period) this.#usedNonces.delete(key);
  }
}

/** What a cookie binds: the address as the responder sees it and the initiator's nonce. */
function cookieData(from: Address, nonce: Uint8Array): Uint8Array {
  const text = new TextEncoder().encode(formatAddress(from));
  const out = new Uint8Array(text.byteLength + nonce.byteLength);
  out.set(text, 0);
  out.set(nonce, text.byteLength);
  return out;
}
