/**
 * The paced send queue. A large message becomes hundreds of datagrams; written in one burst they
 * overflow the receiver's socket buffer (on loopback the receiver reads at most 32 datagrams per
 * event-loop turn: libuv's recv loop). So at most `burstDatagrams` leave per turn, FIFO over the
 * whole transport, and the queue is bounded in bytes: over the bound a message is refused.
 */
import { type Address, MiB } from '../util/index.js';
import { datagramCount, datagramParts } from './frame.js';

/**
 * Datagrams written per event-loop turn. libuv reads up to 32 datagrams per readable socket per
 * turn, so when sender and receiver share a loop (tests, one host) the receiver keeps pace.
 */
export const DEFAULT_BURST_DATAGRAMS = 32;
/** Message bytes the send queue may hold: 32 maximal messages. */
export const DEFAULT_MAX_SEND_QUEUE_BYTES = 8 * MiB;

/** Pacing options. */
export interface PacerInit {
  /** Datagrams written per event-loop turn. */
  burstDatagrams: number;
  /** Message bytes the queue may hold; a message that would exceed it is refused. */
  maxQueueBytes: number;
}

/** Writes one datagram given as parts (header, data) that the socket gathers. */
export type EmitDatagram = (to: Address, parts: Uint8Array[]) => void;
/** Runs `fn` on the next event-loop turn; returns a cancel function. */
export type DeferTurn = (fn: () => void) => () => void;

/** The default turn: setImmediate, unref'd so a pending burst never holds the process open. */
export const nextTurn: DeferTurn = (fn) => {
  const immediate = setImmediate(fn);
  immediate.unref();
  return () => clearImmediate(immediate);
};

interface Outgoing {
  readonly to: Address;
  readonly message: Uint8Array;
  readonly messageId: number;
  readonly count: number;
  next: number;
}

/** A FIFO of messages, written as datagrams at most `burstDatagrams` per turn. */
export class SendPacer {
  readonly #emit: EmitDatagram;
  readonly #defer: DeferTurn;
  readonly #init: Readonly<PacerInit>;
  #queue: Outgoing[] = [];
  #head = 0;
  #bytes = 0;
  #peakBytes = 0;
  /** Datagrams written in the current turn. */
  #used = 0;
  #cancelTurn: (() => void) | null = null;

  constructor(components: { emit: EmitDatagram; defer?: DeferTurn }, init: Partial<PacerInit> = {}) {
    this.#emit = components.emit;
    this.#defer = components.defer ?? nextTurn;
    this.#init = resolvePacerInit(init);
  }

  /** Message bytes queued now. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Highest `bytes` seen. */
  get peakBytes(): number {
    return this.#peakBytes;
  }

  /** Messages not yet fully written. */
  get length(): number {
    return this.#queue.length - this.#head;
  }

  /**
   * Queues `message` and writes what this turn's budget allows at once. False when the queue
   * would exceed its byte bound. `messageId` names the fragments of a multi-datagram message.
   */
  enqueue(to: Address, message: Uint8Array, messageId: number): boolean {
    if (this.#bytes + message.byteLength > this.#init.maxQueueBytes) return false;
    this.#queue.push({ to, message, messageId, count: datagramCount(message.byteLength), next: 0 });
    this.#bytes += message.byteLength;
    if (this.#bytes > this.#peakBytes) this.#peakBytes = this.#bytes;
    this.#pump();
    return true;
  }

  /** Drops everything queued and cancels the next turn; returns the messages dropped. */
  clear(): number {
    const dropped = this.length;
    this.#queue = [];
    this.#head = 0;
    this.#bytes = 0;
    this.#cancelTurn?.();
    this.#cancelTurn = null;
    return dropped;
  }

  #pump(): void {
    while (this.#used < this.#init.burstDatagrams && this.#head < this.#queue.length) {
      this.#writeOne(this.#queue[this.#head]!);
    }
    if (this.#used > 0 && this.#cancelTurn === null) this.#cancelTurn = this.#defer(() => this.#turn());
  }

  #writeOne(out: Outgoing): void {
    const parts = datagramParts(out.message, out.messageId, out.next);
    out.next++;
    this.#used++;
    this.#bytes -= parts[1]!.byteLength;
    if (out.next === out.count) this.#shift();
    this.#emit(out.to, parts);
  }

  #shift(): void {
    this.#head++;
    // Compact now and then so the array does not grow without bound under steady load.
    if (this.#head === this.#queue.length) {
      this.#queue = [];
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
  }

  /** A new turn: a fresh budget; keep writing if anything is left. */
  #turn(): void {
    this.#cancelTurn = null;
    this.#used = 0;
    this.#pump();
  }
}

function resolvePacerInit(init: Partial<PacerInit>): Readonly<PacerInit> {
  const burstDatagrams = init.burstDatagrams ?? DEFAULT_BURST_DATAGRAMS;
  const maxQueueBytes = init.maxQueueBytes ?? DEFAULT_MAX_SEND_QUEUE_BYTES;
  if (!Number.isInteger(burstDatagrams) || burstDatagrams < 1) throw new RangeError('pacing.burstDatagrams must be a positive integer');
  if (!Number.isInteger(maxQueueBytes) || maxQueueBytes < 1) throw new RangeError('pacing.maxQueueBytes must be a positive integer');
  return Object.freeze({ burstDatagrams, maxQueueBytes });
}
