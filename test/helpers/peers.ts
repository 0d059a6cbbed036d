/**
 * Light peers for attack tests: a real UDP socket on a chosen 127.x.y.z, a real identity and
 * node record, a SecureChannel with the node's own PoolHandshake, and an Rpc with a handler the
 * test chooses. A Tap records every message below the channel so tests can capture sealed
 * packets and replay them, or send hand-made packets from the same socket.
 */
import { type CryptoPool, ephemeralIdentity, type NodeIdentity, type NodeRecord, signNodeRecord } from '../../src/crypto/index.js';
import type { NodeId } from '../../src/id/index.js';
import { PoolHandshake, RecordBook } from '../../src/node/index.js';
import { type RequestHandler, Rpc } from '../../src/rpc/index.js';
import {
  type MessageHandler, SecureChannel, type SecureChannelInit, type SendOptions, type Transport, type TransportCounters, UdpTransport,
} from '../../src/transport/index.js';
import { type Address, type Clock, systemClock, systemRandom } from '../../src/util/index.js';
import { PROTOCOL_VERSION } from '../../src/wire/index.js';

/** A message seen by the tap. */
export interface Tapped { readonly address: Address; readonly bytes: Uint8Array; readonly at: number }

/** A transport wrapper that records what passes and can inject raw messages. */
export class Tap implements Transport {
  readonly sent: Tapped[] = [];
  readonly received: Tapped[] = [];
  #handler: MessageHandler | null = null;
  /** Stop recording after this many messages each way (memory bound). */
  limit = 10_000;

  constructor(readonly inner: Transport) {
    inner.setHandler((bytes, from) => {
      if (this.received.length < this.limit) this.received.push({ address: from, bytes: new Uint8Array(bytes), at: performance.now() });
      this.#handler?.(bytes, from);
    });
  }

  get local(): Address { return this.inner.local; }
  setHandler(handler: MessageHandler): void { this.#handler = handler; }
  send(to: Address, message: Uint8Array, options?: SendOptions): boolean {
    if (this.sent.length < this.limit) this.sent.push({ address: to, bytes: new Uint8Array(message), at: performance.now() });
    return this.inner.send(to, message, options);
  }
  /** Sends raw bytes from this socket, bypassing the channel. */
  raw(to: Address, message: Uint8Array): boolean { return this.inner.send(to, message); }
  close(): Promise<void> { return this.inner.close(); }
  counters(): TransportCounters { return this.inner.counters(); }
}

/** A peer made of parts. */
export interface LightPeer {
  readonly identity: NodeIdentity;
  readonly record: NodeRecord;
  readonly id: NodeId;
  readonly address: Address;
  readonly tap: Tap;
  readonly channel: SecureChannel;
  readonly rpc: Rpc;
  readonly records: RecordBook;
  close(): Promise<void>;
}

/** Default answers: PONG, empty NODES / VALUE, STORED. */
export const politeHandler: RequestHandler = (request, from) => {
  switch (request.type) {
    case 'PING': return { type: 'PONG', observed: { host: from.host, port: from.port } };
    case 'FIND_NODE': return { type: 'NODES', contacts: [], token: new Uint8Array(0) };
    case 'FIND_VALUE': return { type: 'VALUE', value: null, contacts: [], token: new Uint8Array(0) };
    case 'STORE': return { type: 'STORED' };
    default: return null;
  }
};

/** Options of lightPeer(). */
export interface LightPeerInit {
  host: string;
  port?: number;
  identity?: NodeIdentity;
  handler?: RequestHandler;
  sessions?: SecureChannelInit;
  clock?: Clock;
  /** Mark its messages ephemeral (kept out of routing tables). Default false. */
  ephemeral?: boolean;
}

/** Starts a light peer; its identity is generated in `pool` unless given. */
export async function lightPeer(pool: CryptoPool, init: LightPeerInit): Promise<LightPeer> {
  const clock = init.clock ?? systemClock;
  const identity = init.identity ?? await ephemeralIdentity(pool);
  const udp = await UdpTransport.bind({ host: init.host, port: init.port ?? 0, clock });
  const signed = await signNodeRecord(identity, pool, {
    addresses: [udp.local], seq: 1, capabilities: { freeStorage: 0, bandwidthClass: 1, protocolVersion: PROTOCOL_VERSION },
  });
  const tap = new Tap(udp);
  const records = new RecordBook();
  const handshake = new PoolHandshake({ pool, identity, records, record: () => signed.bytes });
  const channel = new SecureChannel({ transport: tap, crypto: handshake, clock, random: systemRandom }, init.sessions);
  const rpc = new Rpc({ transport: channel, clock, random: systemRandom }, {
    self: identity.id, requireSession: true, retries: 1, pingTimeout: 5000, queryTimeout: 10000, ephemeral: init.ephemeral,
  });
  rpc.setHandler(init.handler ?? politeHandler);
  return {
    identity, record: signed.record, id: identity.id, address: udp.local, tap, channel, rpc, records,
    async close() { rpc.close(); await channel.close(); },
  };
}

/** A bare socket that records what it receives (byte counts included) and sends raw messages. */
export async function rawSocket(host: string): Promise<{ transport: UdpTransport; received: Tapped[]; close(): Promise<void> }> {
  const transport = await UdpTransport.bind({ host, port: 0 });
  const received: Tapped[] = [];
  transport.setHandler((bytes, from) => { if (received.length < 10_000) received.push({ address: from, bytes: new Uint8Array(bytes), at: performance.now() }); });
  return { transport, received, close: () => transport.close() };
}

/** Resolves once `check()` is true, polling every 20 ms, or rejects after `ms`. */
export async function until(check: () => boolean, ms = 10_000, what = 'condition'): Promise<void> {
  const deadline = performance.now() + ms;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Runs `fn` over `items`, at most `limit` at once. */
export async function eachLimited<T>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i]!, i);
    }
  }));
}
