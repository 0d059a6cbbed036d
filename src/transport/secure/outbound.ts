/**
 * One handshake this node started, and the messages waiting for it. States:
 * hello (HELLO sent) → initiating (our half runs in the pool) → handshake (HANDSHAKE sent)
 * → completing (checking the responder's signature) → the channel makes a session.
 */
import type { Address, Clock, Timer } from '../../util/index.js';
import type { InitiatorHalf } from './types.js';

export type OutboundState = 'hello' | 'initiating' | 'handshake' | 'completing';

export class Outbound {
  readonly address: Address;
  /** The node id the caller expects at `address`, when it knows one. */
  readonly expectedPeer: Uint8Array | null;
  readonly nonce: Uint8Array;
  readonly wantRecord: boolean;
  state: OutboundState = 'hello';
  half: InitiatorHalf | null = null;
  readonly #queue: Uint8Array[] = [];
  #timer: Timer | null = null;

  constructor(address: Address, expectedPeer: Uint8Array | null, nonce: Uint8Array, wantRecord: boolean) {
    this.address = address;
    this.expectedPeer = expectedPeer === null ? null : new Uint8Array(expectedPeer);
    this.nonce = nonce;
    this.wantRecord = wantRecord;
  }

  /** Queues a message for the session; false when `max` are waiting already. */
  enqueue(message: Uint8Array, max: number): boolean {
    if (this.#queue.length >= max) return false;
    this.#queue.push(message);
    return true;
  }

  /** The waiting messages, in order, emptied. */
  drain(): Uint8Array[] {
    return this.#queue.splice(0);
  }

  /** (Re)starts the deadline of the current step. */
  arm(clock: Clock, ms: number, onTimeout: () => void): void {
    this.#timer?.cancel();
    this.#timer = clock.setTimeout(onTimeout, ms);
  }

  /** Stops the deadline (local pool work ahead, which always settles). */
  disarm(): void {
    this.#timer?.cancel();
    this.#timer = null;
  }

  /** Stops the deadline and forgets the queue. */
  cancel(): void {
    this.#timer?.cancel();
    this.#timer = null;
    this.#queue.length = 0;
  }
}
