/**
 * Write tokens (BEP 5): a node hands a token to whoever asks it about a key (NODES and VALUE
 * answers) and accepts a STORE of that key only with a token issued to the same IP. A token is
 * a keyed BLAKE3 of (requester IP ‖ key) under a secret rotated every 5 minutes; the current and
 * the previous secret are accepted, so a token lives between 5 and 10 minutes. Binding the key
 * too means a token cannot be spent on another key.
 */
import type { Key } from '../id/index.js';
import { type MacFunction, RotatingSecret } from '../transport/index.js';
import { type Address, ipToBytes, minute } from '../util/index.js';
import { WIRE_LIMITS } from '../wire/index.js';

/** Rotation period of the token secret (BEP 5: five minutes). */
export const TOKEN_ROTATION = 5 * minute;

/** Issues and checks write tokens. */
export class WriteTokens {
  readonly #secret: RotatingSecret;

  constructor(init: { master: Uint8Array; mac: MacFunction; period?: number }) {
    this.#secret = new RotatingSecret({ master: init.master, mac: init.mac, period: init.period ?? TOKEN_ROTATION, tokenBytes: WIRE_LIMITS.tokenBytes });
  }

  /** The token for `requester` (its IP) to store `key`. */
  issue(requester: Address, key: Key, now: number): Uint8Array {
    return this.#secret.issue(bound(requester, key), now);
  }

  /** True when `token` was issued to `requester`'s IP for `key` within the last one to two periods. */
  verify(token: Uint8Array, requester: Address, key: Key, now: number): boolean {
    return this.#secret.verify(token, bound(requester, key), now);
  }
}

function bound(requester: Address, key: Key): Uint8Array {
  const ip = ipToBytes(requester.host) ?? new Uint8Array(0);
  const out = new Uint8Array(1 + ip.byteLength + key.byteLength);
  out[0] = ip.byteLength;
  out.set(ip, 1);
  out.set(key, 1 + ip.byteLength);
  return out;
}
