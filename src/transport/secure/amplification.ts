/**
 * Anti-amplification (QUIC RFC 9000 §8): until an address is validated — it echoed a cookie we
 * issued, answered a nonce we sent, or completed a session — the node sends it at most `factor`
 * times the bytes it received from it. Only answers are checked here; what the node starts on
 * its own (a HELLO to a new contact) is bounded by the channel's probe cooldown instead.
 * Memory is bounded: the least recently active address is forgotten first, and a forgotten
 * address has received nothing, so forgetting never widens a budget.
 */
import { type Address, formatAddress } from '../../util/index.js';

interface Budget { received: number; sent: number; validated: boolean }

/** Per-address byte budgets. */
export class AmplificationGuard {
  readonly factor: number;
  readonly maxAddresses: number;
  readonly #budgets = new Map<string, Budget>();
  /** Largest sent/received ratio reached by any unvalidated address (a figure for T05/T06). */
  peakRatio = 0;

  constructor(init: { factor?: number; maxAddresses?: number } = {}) {
    this.factor = init.factor ?? 3;
    this.maxAddresses = init.maxAddresses ?? 16_384;
    if (!(this.factor >= 1)) throw new RangeError('options.factor must be at least 1');
    if (!Number.isInteger(this.maxAddresses) || this.maxAddresses < 1) throw new RangeError('options.maxAddresses must be a positive integer');
  }

  /** Counts `bytes` received from `from`. */
  received(from: Address, bytes: number): void {
    this.#entry(formatAddress(from)).received += bytes;
  }

  /** Marks `address` validated: no budget applies to it any more. */
  validate(address: Address): void {
    this.#entry(formatAddress(address)).validated = true;
  }

  /** True when `address` is validated. */
  isValidated(address: Address): boolean {
    return this.#budgets.get(formatAddress(address))?.validated ?? false;
  }

  /** Charges `bytes` to `to` and returns true if the budget allows them; false sends nothing. */
  allow(to: Address, bytes: number): boolean {
    const b = this.#entry(formatAddress(to));
    if (b.validated) return true;
    if (b.sent + bytes > this.factor * b.received) return false;
    b.sent += bytes;
    if (b.received > 0) this.peakRatio = Math.max(this.peakRatio, b.sent / b.received);
    return true;
  }

  /** Addresses tracked now. */
  get size(): number {
    return this.#budgets.size;
  }

  #entry(key: string): Budget {
    let b = this.#budgets.get(key);
    if (b !== undefined) {
      this.#budgets.delete(key); // most recently active last
      this.#budgets.set(key, b);
      return b;
    }
    b = { received: 0, sent: 0, validated: false };
    this.#budgets.set(key, b);
    if (this.#budgets.size > this.maxAddresses) this.#budgets.delete(this.#budgets.keys().next().value!);
    return b;
  }
}
