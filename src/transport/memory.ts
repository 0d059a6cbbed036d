/**
 * An in-memory network of transports with the UDP transport's interface, FOR THE SIMULATOR AND
 * PURE ROUTING-LOGIC UNIT TESTS ONLY: it moves whole messages (copies) through an injectable
 * scheduler with a latency and a loss function, and does no framing, pacing or reassembly. The
 * counters still report the datagrams and bytes the UDP framing would have used.
 */
import { isIP } from 'node:net';
import { type Address, type Clock, MAX_MESSAGE_BYTES, MIN_DATAGRAM, formatAddress, isPort, systemClock } from '../util/index.js';
import { datagramCount, framedBytes } from './frame.js';
import { type DropReason, type MessageHandler, type Transport, type TransportCounters, zeroCounters } from './types.js';

/** Decides something about one message in flight. */
export type LinkFunction<T> = (from: Address, to: Address, message: Uint8Array) => T;

/** Options of a MemoryNetwork. */
export interface MemoryNetworkInit {
  /** Default scheduler: this clock's setTimeout. A ManualClock makes runs deterministic. */
  clock?: Clock;
  /** Runs `fn` after `delayMs`; replaces the clock's setTimeout. */
  schedule?: (fn: () => void, delayMs: number) => void;
  /** One-way latency in milliseconds. Default 0 (still asynchronous). */
  latency?: LinkFunction<number>;
  /** True to lose the message. Default: nothing is lost. */
  loss?: LinkFunction<boolean>;
  /** Largest message send() accepts. Default MAX_MESSAGE_BYTES. */
  maxMessageBytes?: number;
}

/** What the network itself saw. */
export interface MemoryNetworkCounters {
  delivered: number;
  /** Dropped by the loss function. */
  lost: number;
  /** Sent to an address nobody had bound when the message arrived. */
  undeliverable: number;
}

const FIRST_EPHEMERAL_PORT = 49152;

/** Endpoints keyed by address; messages travel as scheduled callbacks. */
export class MemoryNetwork {
  readonly #endpoints = new Map<string, MemoryTransport>();
  readonly #schedule: (fn: () => void, delayMs: number) => void;
  readonly #latency: LinkFunction<number>;
  readonly #loss: LinkFunction<boolean> | null;
  readonly #counters: MemoryNetworkCounters = { delivered: 0, lost: 0, undeliverable: 0 };
  /** Largest message a transport of this network accepts. */
  readonly maxMessageBytes: number;
  #nextPort = FIRST_EPHEMERAL_PORT;

  constructor(init: MemoryNetworkInit = {}) {
    const clock = init.clock ?? systemClock;
    this.#schedule = init.schedule ?? ((fn, ms) => void clock.setTimeout(fn, ms));
    this.#latency = init.latency ?? (() => 0);
    this.#loss = init.loss ?? null;
    this.maxMessageBytes = init.maxMessageBytes ?? MAX_MESSAGE_BYTES;
    if (!Number.isInteger(this.maxMessageBytes) || this.maxMessageBytes < MIN_DATAGRAM) {
      throw new RangeError(`options.maxMessageBytes must be an integer of at least ${MIN_DATAGRAM}`);
    }
  }

  /**
   * A transport at `address` (host default '127.0.0.1'; port 0 or absent picks a free one).
   * Throws RangeError when the address is already bound, TypeError when it is not an IP literal.
   */
  bind(address: { host?: string; port?: number } = {}): Transport {
    const host = address.host ?? '127.0.0.1';
    if (isIP(host) === 0) throw new TypeError(`address.host must be an IP literal, got '${host}'`);
    const port = address.port === undefined || address.port === 0 ? this.#freePort(host) : address.port;
    if (!isPort(port)) throw new RangeError('address.port must be an integer in 0..65535');
    const local = { host, port };
    const key = formatAddress(local);
    if (this.#endpoints.has(key)) throw new RangeError(`address ${key} is already bound`);
    const transport = new MemoryTransport(local, {
      carry: (to, message) => this.#carry(local, to, message),
      unbind: () => this.#endpoints.delete(key),
      maxMessageBytes: this.maxMessageBytes,
    });
    this.#endpoints.set(key, transport);
    return transport;
  }

  /** A snapshot of the network's counters. */
  counters(): MemoryNetworkCounters {
    return { ...this.#counters };
  }

  /** Puts a copy of `message` in flight. */
  #carry(from: Address, to: Address, message: Uint8Array): void {
    if (this.#loss?.(from, to, message) === true) {
      this.#counters.lost++;
      return;
    }
    const copy = message.slice(); // the receiver must never alias the sender's buffer
    this.#schedule(() => {
      const target = this.#endpoints.get(formatAddress(to));
      if (target === undefined) {
        this.#counters.undeliverable++;
        return;
      }
      this.#counters.delivered++;
      target.receive(copy, from);
    }, Math.max(0, this.#latency(from, to, message)));
  }

  #freePort(host: string): number {
    for (let tries = 0; tries <= 0xffff - FIRST_EPHEMERAL_PORT; tries++) {
      const port = this.#nextPort;
      this.#nextPort = port === 0xffff ? FIRST_EPHEMERAL_PORT : port + 1;
      if (!this.#endpoints.has(formatAddress({ host, port }))) return port;
    }
    throw new RangeError(`no free port left on ${host}`);
  }
}

/** What an endpoint needs from its network. */
interface Link {
  carry(to: Address, message: Uint8Array): void;
  unbind(): void;
  readonly maxMessageBytes: number;
}

/** One endpoint of a MemoryNetwork. */
class MemoryTransport implements Transport {
  readonly local: Address;
  readonly #link: Link;
  readonly #c: TransportCounters = zeroCounters();
  #handler: MessageHandler | null = null;
  #closed = false;

  constructor(local: Address, link: Link) {
    this.local = local;
    this.#link = link;
  }

  setHandler(handler: MessageHandler): void {
    this.#handler = handler;
  }

  send(to: Address, message: Uint8Array): boolean {
    const reason = this.#sendGate(to, message);
    if (reason !== null) {
      this.#c.drops[reason]++;
      return false;
    }
    const n = datagramCount(message.byteLength);
    this.#c.messagesOut++;
    this.#c.datagramsOut += n;
    this.#c.bytesOut += framedBytes(message.byteLength);
    if (n > 1) this.#c.fragmentedOut++;
    this.#link.carry(to, message);
    return true;
  }

  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#handler = null;
      this.#link.unbind();
    }
    return Promise.resolve();
  }

  counters(): TransportCounters {
    return { ...this.#c, drops: { ...this.#c.drops } };
  }

  /** A message arrives (called by the network). */
  receive(message: Uint8Array, from: Address): void {
    if (this.#closed) return;
    const n = datagramCount(message.byteLength);
    this.#c.datagramsIn += n;
    this.#c.bytesIn += framedBytes(message.byteLength);
    if (n > 1) this.#c.reassembled++;
    this.#c.messagesIn++;
    const handler = this.#handler;
    if (handler === null) {
      this.#c.drops.no_handler++;
      return;
    }
    try {
      handler(message, from);
    } catch {
      this.#c.drops.handler_error++; // counted; never let a handler's throw reach the scheduler
    }
  }

  #sendGate(to: Address, message: Uint8Array): DropReason | null {
    if (this.#closed) return 'closed';
    if (isIP(to.host) === 0 || !isPort(to.port)) return 'bad_address';
    if (message.byteLength > this.#link.maxMessageBytes) return 'message_too_large';
    if (message.byteLength + 1 < MIN_DATAGRAM) return 'message_too_small';
    return null;
  }
}
