/**
 * The simulated network: endpoints with the Transport interface, one-way latency drawn from a
 * configurable distribution, independent packet loss, and an uplink per node whose bandwidth
 * class serialises what it sends (a queue: a node that sends a lot waits for its own link).
 * Every message is delivered as if inside an established session with its sender (the RPC sees
 * `peer` = the sender's id): handshakes, sealing and their cost are not simulated.
 */
import type { NodeId } from '../id/index.js';
import { framedBytes, type TransportCounters, type MessageHandler, type Transport, zeroCounters } from '../transport/index.js';
import type { Address, SeededRandom } from '../util/index.js';
import type { EventClock } from './clock.js';

/** One-way propagation delay, ms. */
export type LatencySpec =
  | { readonly kind: 'constant'; readonly ms: number }
  | { readonly kind: 'uniform'; readonly min: number; readonly max: number }
  /** Log-normal with the given median and shape σ (heavy tail, as measured on the Internet). */
  | { readonly kind: 'lognormal'; readonly median: number; readonly sigma: number };

/** A bandwidth class: uplink bits per second, and the share of nodes that have it. */
export interface BandwidthClass {
  readonly name: string;
  readonly upBps: number;
  readonly weight: number;
}

/** Residential to data-centre uplinks; weights are the share of nodes (docs/simulation.md). */
export const DEFAULT_BANDWIDTH: readonly BandwidthClass[] = [
  { name: 'dsl', upBps: 1e6, weight: 0.2 },
  { name: 'cable', upBps: 10e6, weight: 0.4 },
  { name: 'fiber', upBps: 100e6, weight: 0.3 },
  { name: 'datacenter', upBps: 1e9, weight: 0.1 },
];

export interface SimNetworkInit {
  clock: EventClock;
  random: SeededRandom;
  latency?: LatencySpec;
  /** Probability that a message is lost, 0..1. Default 0. */
  loss?: number;
  bandwidth?: readonly BandwidthClass[];
}

/** What the network carried. */
export interface SimNetworkCounters {
  sent: number;
  delivered: number;
  lost: number;
  /** Arrived at an address nobody holds (the node left). */
  undeliverable: number;
  bytes: number;
}

/** Endpoints by host; every node listens on port SIM_PORT of its own 10/8 address. */
export class SimNetwork {
  readonly clock: EventClock;
  readonly #random: SeededRandom;
  readonly #latency: LatencySpec;
  readonly #loss: number;
  readonly #classes: readonly BandwidthClass[];
  readonly #endpoints = new Map<string, SimEndpoint>();
  readonly counters: SimNetworkCounters = { sent: 0, delivered: 0, lost: 0, undeliverable: 0, bytes: 0 };

  constructor(init: SimNetworkInit) {
    this.clock = init.clock;
    this.#random = init.random;
    this.#latency = init.latency ?? { kind: 'lognormal', median: 50, sigma: 0.5 };
    this.#loss = init.loss ?? 0;
    this.#classes = init.bandwidth ?? DEFAULT_BANDWIDTH;
    if (!(this.#loss >= 0 && this.#loss < 1)) throw new RangeError('loss must be in [0, 1)');
  }

  /** An endpoint for node `id` at `host`, with a bandwidth class drawn by weight. */
  bind(host: string, id: NodeId): SimEndpoint {
    if (this.#endpoints.has(host)) throw new RangeError(`${host} is already bound`);
    const endpoint = new SimEndpoint(this, { host, port: SIM_PORT }, id, this.#drawClass());
    this.#endpoints.set(host, endpoint);
    return endpoint;
  }

  /** Nodes per bandwidth class name, among bound endpoints. */
  classCounts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const e of this.#endpoints.values()) out[e.bandwidth.name] = (out[e.bandwidth.name] ?? 0) + 1;
    return out;
  }

  /** @internal Puts a message in flight from `from`. */
  carry(from: SimEndpoint, to: Address, message: Uint8Array): void {
    const c = this.counters;
    c.sent++;
    const bytes = framedBytes(message.byteLength);
    c.bytes += bytes;
    const now = this.clock.now();
    // The sender's uplink is a queue: this message leaves after the ones before it.
    const departs = Math.max(now, from.busyUntil) + (bytes * 8 * 1000) / from.bandwidth.upBps;
    from.busyUntil = departs;
    if (this.#loss > 0 && this.#random.next() / 0x1_0000_0000 < this.#loss) { c.lost++; return; }
    const arrives = departs + this.#propagation();
    // A copy (Buffer#slice would be a view): the codec's output is a view into a shared buffer,
    // which must not stay pinned by what the receiver keeps of a decoded message.
    const copy = new Uint8Array(message);
    this.clock.setTimeout(() => {
      const target = this.#endpoints.get(to.host);
      if (target === undefined || to.port !== SIM_PORT) { c.undeliverable++; return; }
      c.delivered++;
      target.receive(copy, from.local, from.id);
    }, arrives - now);
  }

  /** @internal */
  unbind(endpoint: SimEndpoint): void {
    if (this.#endpoints.get(endpoint.local.host) === endpoint) this.#endpoints.delete(endpoint.local.host);
  }

  #propagation(): number {
    const l = this.#latency;
    const u = (): number => (this.#random.next() + 0.5) / 0x1_0000_0000; // in (0, 1)
    switch (l.kind) {
      case 'constant': return l.ms;
      case 'uniform': return l.min + (l.max - l.min) * u();
      case 'lognormal': {
        const z = Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u()); // Box–Muller
        return l.median * Math.exp(l.sigma * z);
      }
    }
  }

  #drawClass(): BandwidthClass {
    const total = this.#classes.reduce((s, c) => s + c.weight, 0);
    let x = (this.#random.next() / 0x1_0000_0000) * total;
    for (const c of this.#classes) {
      x -= c.weight;
      if (x < 0) return c;
    }
    return this.#classes[this.#classes.length - 1]!;
  }
}

/** The port every simulated node listens on. */
export const SIM_PORT = 4000;

/** The simulated host of node number `i` (10.0.0.1 upwards; 16 million fit). */
export function simHost(i: number): string {
  const n = i + 1;
  return `10.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** One node's endpoint. */
export class SimEndpoint implements Transport {
  readonly local: Address;
  readonly id: NodeId;
  readonly bandwidth: BandwidthClass;
  /** When the uplink is free again (virtual ms). */
  busyUntil = 0;
  readonly #network: SimNetwork;
  #handler: MessageHandler | null = null;
  #closed = false;
  #in = 0;
  #out = 0;

  constructor(network: SimNetwork, local: Address, id: NodeId, bandwidth: BandwidthClass) {
    this.#network = network;
    this.local = local;
    this.id = id;
    this.bandwidth = bandwidth;
  }

  setHandler(handler: MessageHandler): void {
    this.#handler = handler;
  }

  send(to: Address, message: Uint8Array): boolean {
    if (this.#closed) return false;
    this.#out++;
    this.#network.carry(this, to, message);
    return true;
  }

  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#handler = null;
      this.#network.unbind(this);
    }
    return Promise.resolve();
  }

  counters(): TransportCounters {
    return { ...zeroCounters(), messagesIn: this.#in, messagesOut: this.#out };
  }

  /** @internal A message arrives inside a session with `peer`. */
  receive(message: Uint8Array, from: Address, peer: NodeId): void {
    if (this.#closed || this.#handler === null) return;
    this.#in++;
    this.#handler(message, from, peer);
  }
}
