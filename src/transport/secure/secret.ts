/**
 * Rotating-secret MACs: write tokens (BEP 5: a secret that changes every 5 minutes, tokens of the
 * current and the previous secret accepted) and handshake cookies (the same with a 30 s period).
 * A token is a keyed hash of the data under the secret of its epoch (epoch = ⌊now / period⌋), so
 * one issued at any moment stays valid for between one and two periods. Time comes from the
 * caller (`now`), so a fake clock drives rotation in tests.
 */
import { timingSafeEqual } from 'node:crypto';

/** A keyed hash (BLAKE3 keyed mode): 32-byte key, 32-byte output. */
export type MacFunction = (key: Uint8Array, data: Uint8Array) => Uint8Array;

/** Issues and checks tokens bound to arbitrary data (an address, a key…). */
export class RotatingSecret {
  readonly period: number;
  readonly tokenBytes: number;
  readonly #master: Uint8Array;
  readonly #mac: MacFunction;
  /** The two newest epoch secrets, by epoch. */
  readonly #secrets = new Map<number, Uint8Array>();

  /** `master` is 32 random bytes; `period` in ms; tokens of `tokenBytes` (8..32). */
  constructor(init: { master: Uint8Array; mac: MacFunction; period: number; tokenBytes?: number }) {
    if (init.master.byteLength !== 32) throw new RangeError('master secret must be 32 bytes');
    if (!(init.period > 0 && Number.isFinite(init.period))) throw new RangeError('options.period must be a positive number of milliseconds');
    this.tokenBytes = init.tokenBytes ?? 16;
    if (!Number.isInteger(this.tokenBytes) || this.tokenBytes < 8 || this.tokenBytes > 32) throw new RangeError('options.tokenBytes must be an integer in 8..32');
    this.#master = new Uint8Array(init.master);
    this.#mac = init.mac;
    this.period = init.period;
  }

  /** A token for `data` at `now`. */
  issue(data: Uint8Array, now: number): Uint8Array {
    return this.#token(this.#epoch(now), data);
  }

  /** True when `token` was issued for `data` in the current or the previous epoch. */
  verify(token: Uint8Array, data: Uint8Array, now: number): boolean {
    if (token.byteLength !== this.tokenBytes) return false;
    const epoch = this.#epoch(now);
    for (const e of [epoch, epoch - 1]) {
      if (timingSafeEqual(this.#token(e, data), token)) return true;
    }
    return false;
  }

  #epoch(now: number): number {
    return Math.floor(now / this.period);
  }

  #token(epoch: number, data: Uint8Array): Uint8Array {
    return this.#mac(this.#secret(epoch), data).subarray(0, this.tokenBytes);
  }

  #secret(epoch: number): Uint8Array {
    let secret = this.#secrets.get(epoch);
    if (secret === undefined) {
      const label = new Uint8Array(8);
      new DataView(label.buffer).setFloat64(0, epoch);
      secret = this.#mac(this.#master, label);
      this.#secrets.set(epoch, secret);
      for (const e of this.#secrets.keys()) if (e < epoch - 1 || e > epoch + 1) this.#secrets.delete(e);
    }
    return secret;
  }
}
