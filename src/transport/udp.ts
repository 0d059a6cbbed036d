/**
 * The UDP transport (node:dgram): one socket, framing and reassembly below, whole messages above.
 * Size gates and rate limits (T09, ratelimit.ts) run before any parse (T01); bad frames and fragments are counted by reason and
 * logged at most once per source host per 10 s; socket and handler errors are caught and counted,
 * never thrown into the event loop. Large messages leave paced (see pacer.ts).
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import {
  type Address, type Clock, DATAGRAM_PAYLOAD, DHT_PORT, type Logger, MIN_DATAGRAM, MiB, RateLimitedLog,
  type Timer, formatAddress, isPort, silentLogger, systemClock,
} from '../util/index.js';
import { FRAGMENT_DATA_BYTES, MAX_FRAGMENT_COUNT, MAX_WHOLE_MESSAGE, parseFrame } from './frame.js';
import { type DeferTurn, type PacerInit, SendPacer } from './pacer.js';
import { PacketFilter, type RateLimitsInit } from './ratelimit.js';
import { Reassembly, type ReassemblyLimits } from './reassembly.js';
import { type DropReason, type MessageHandler, type Transport, type TransportCounters, zeroCounters } from './types.js';

/** Socket receive and send buffer size asked of the OS (Linux caps it at net.core.rmem_max). */
export const DEFAULT_SOCKET_BUFFER_BYTES = 4 * MiB;

/** Options of UdpTransport.bind(). */
export interface UdpTransportInit {
  /** IP literal to bind. Default '0.0.0.0'; '::' binds both families. */
  host?: string;
  /** UDP port. Default DHT_PORT (33442); 0 picks a free port. */
  port?: number;
  /** Time for reassembly deadlines and log rate limits. Default the system clock. */
  clock?: Clock;
  /** Where rate-limited warnings go. Default silent. */
  logger?: Logger;
  /** Reassembly limits; `maxMessageBytes` also bounds what send() accepts. */
  limits?: Partial<ReassemblyLimits>;
  /** Send pacing and queue bound. */
  pacing?: Partial<PacerInit>;
  /** Receive and send buffer size to ask for. Default 4 MiB. */
  socketBufferBytes?: number;
  /** Replaces setImmediate between bursts (tests). */
  defer?: DeferTurn;
  /** Per-host, per-subnet and global limits on incoming datagrams; `false` disables them. Default {}. */
  rateLimits?: Partial<RateLimitsInit> | false;
  /** Test-only: loopback sources count as public for rate limits (otherwise exempt). Default false. */
  treatLoopbackAsPublic?: boolean;
}

/** A Transport over one UDP socket. Create it with `UdpTransport.bind()`. */
export class UdpTransport implements Transport {
  readonly local: Address;
  readonly #socket: Socket;
  readonly #clock: Clock;
  readonly #log: RateLimitedLog;
  readonly #reassembly: Reassembly;
  readonly #pacer: SendPacer;
  readonly #filter: PacketFilter | null;
  readonly #c: TransportCounters = zeroCounters();
  readonly #v6: boolean;
  #handler: MessageHandler | null = null;
  #sweepTimer: Timer | null = null;
  #messageId: number;
  #closing: Promise<void> | null = null;

  /** Binds a socket and resolves once it listens; rejects with the socket's error (EADDRINUSE…). */
  static async bind(init: UdpTransportInit = {}): Promise<UdpTransport> {
    const host = init.host ?? '0.0.0.0';
    const port = init.port ?? DHT_PORT;
    if (isIP(host) === 0) throw new TypeError(`options.host must be an IP literal, got '${host}'`);
    if (port !== 0 && !isPort(port)) throw new RangeError('options.port must be an integer in 0..65535');
    const socket = createSocket({ type: isIP(host) === 6 ? 'udp6' : 'udp4' });
    // One permanent 'error' listener from the start: an unhandled 'error' event would crash.
    let onError: (err: Error) => void = () => {};
    socket.on('error', (err) => onError(err));
    await new Promise<void>((resolve, reject) => {
      onError = (err) => {
        socket.close(); // the failed socket is unusable; closing it frees the handle
        reject(err);
      };
      socket.bind({ address: host, port }, resolve);
    });
    let transport: UdpTransport;
    try {
      transport = new UdpTransport(socket, init);
    } catch (err) {
      await new Promise<void>((resolve) => socket.close(() => resolve())); // bad options: free the port
      throw err;
    }
    onError = (err) => transport.#onSocketError(err);
    return transport;
  }

  private constructor(socket: Socket, init: UdpTransportInit) {
    this.#socket = socket;
    this.#clock = init.clock ?? systemClock;
    this.#log = new RateLimitedLog(init.logger ?? silentLogger, this.#clock);
    this.#reassembly = new Reassembly({ clock: this.#clock }, init.limits);
    this.#pacer = new SendPacer({ emit: (to, parts) => this.#emit(to, parts), defer: init.defer }, init.pacing);
    const rateLimits = init.rateLimits ?? {};
    this.#filter = rateLimits === false ? null : new PacketFilter({ rateLimits, treatLoopbackAsPublic: init.treatLoopbackAsPublic });
    const bound = socket.address();
    this.local = { host: bound.address, port: bound.port };
    this.#v6 = bound.family === 'IPv6';
    this.#messageId = this.#clock.now() >>> 0; // ids of a restarted sender rarely repeat old ones
    if (this.#reassembly.limits.maxMessageBytes > MAX_FRAGMENT_COUNT * FRAGMENT_DATA_BYTES) {
      throw new RangeError('limits.maxMessageBytes does not fit 65535 fragments');
    }
    const bufferBytes = init.socketBufferBytes ?? DEFAULT_SOCKET_BUFFER_BYTES;
    if (!Number.isInteger(bufferBytes) || bufferBytes <= 0) throw new RangeError('options.socketBufferBytes must be a positive integer');
    this.#setBufferSizes(bufferBytes);
    socket.on('message', (msg, rinfo) => this.#onDatagram(msg, rinfo));
  }

  setHandler(handler: MessageHandler): void {
    this.#handler = handler;
  }

  send(to: Address, message: Uint8Array): boolean {
    const reason = this.#sendGate(to, message);
    if (reason !== null) return this.#drop(reason, to);
    const fragmented = message.byteLength > MAX_WHOLE_MESSAGE;
    if (!this.#pacer.enqueue(to, message, this.#messageId)) return this.#drop('send_queue_full', to);
    this.#c.messagesOut++;
    if (fragmented) {
      this.#c.fragmentedOut++;
      this.#messageId = (this.#messageId + 1) >>> 0;
    }
    return true;
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  counters(): TransportCounters {
    const r = this.#reassembly.stats();
    const drops = { ...this.#c.drops };
    for (const [reason, n] of Object.entries(r.drops)) drops[reason as DropReason] += n;
    return {
      ...this.#c, reassembled: r.reassembled, reassemblyBytes: r.bytes, peakReassemblyBytes: r.peakBytes,
      sendQueueBytes: this.#pacer.bytes, peakSendQueueBytes: this.#pacer.peakBytes, drops,
    };
  }

  async #close(): Promise<void> {
    this.#c.drops.closed += this.#pacer.clear();
    this.#sweepTimer?.cancel();
    this.#sweepTimer = null;
    this.#reassembly.clear();
    this.#handler = null;
    await new Promise<void>((resolve) => this.#socket.close(() => resolve()));
  }

  #sendGate(to: Address, message: Uint8Array): DropReason | null {
    if (this.#closing !== null) return 'closed';
    // Never a host name: dgram would resolve it, and nothing on this path may do DNS.
    const family = isIP(to.host);
    if (family === 0 || !isPort(to.port) || (family === 6 && !this.#v6)) return 'bad_address';
    if (message.byteLength > this.#reassembly.limits.maxMessageBytes) return 'message_too_large';
    if (message.byteLength + 1 < MIN_DATAGRAM) return 'message_too_small';
    return null;
  }

  #emit(to: Address, parts: Uint8Array[]): void {
    // A udp6 socket reaches IPv4 peers through mapped addresses; an IPv4 literal there is EINVAL.
    const host = this.#v6 && isIP(to.host) === 4 ? `::ffff:${to.host}` : to.host;
    try {
      this.#socket.send(parts, to.port, host, (err) => {
        if (err !== null && this.#closing === null) this.#drop('send_error', to, err);
      });
      this.#c.datagramsOut++;
      for (const p of parts) this.#c.bytesOut += p.byteLength;
    } catch (err) {
      this.#drop('send_error', to, err);
    }
  }

  #onDatagram(msg: Buffer, rinfo: RemoteInfo): void {
    if (this.#closing !== null) return; // the socket is closing: nothing more is delivered
    this.#c.datagramsIn++;
    this.#c.bytesIn += msg.byteLength;
    const from = fromRemote(rinfo);
    // Size gates first: nothing of an out-of-range datagram is read.
    if (msg.byteLength < MIN_DATAGRAM) return void this.#drop('too_small', from);
    if (msg.byteLength > DATAGRAM_PAYLOAD) return void this.#drop('too_large', from);
    // Rate limits next, still before any parse; #drop's log writes one line per source per 10 s.
    const refused = this.#filter?.check(from.host, this.#clock.now()) ?? null;
    if (refused !== null) return void this.#drop(refused, from);
    const frame = parseFrame(new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength));
    if (frame === null) return void this.#drop('bad_frame', from);
    if (frame.kind === 'whole') return this.#deliver(frame.message, from);
    const result = this.#reassembly.accept(formatAddress(from), frame);
    if (result.status === 'complete') this.#deliver(result.message, from);
    else if (result.status === 'dropped') this.#warn(result.reason, from);
    this.#scheduleSweep();
  }

  #deliver(message: Uint8Array, from: Address): void {
    this.#c.messagesIn++;
    const handler = this.#handler;
    if (handler === null) return void this.#drop('no_handler', from);
    try {
      handler(message, from);
    } catch (err) {
      this.#drop('handler_error', from, err);
    }
  }

  /** One timer at a time, at the oldest partial's deadline, so expiry is on time even when idle. */
  #scheduleSweep(): void {
    if (this.#sweepTimer !== null || this.#closing !== null) return;
    const deadline = this.#reassembly.nextDeadline();
    if (deadline === null) return;
    this.#sweepTimer = this.#clock.setTimeout(() => {
      this.#sweepTimer = null;
      this.#reassembly.sweep();
      this.#scheduleSweep();
    }, Math.max(0, deadline - this.#clock.now()));
  }

  #setBufferSizes(bytes: number): void {
    try {
      this.#socket.setRecvBufferSize(bytes);
      this.#socket.setSendBufferSize(bytes);
    } catch (err) {
      // The OS default stays; pacing still protects loopback, and the failure is counted.
      this.#c.bufferSizeErrors++;
      this.#log.warn('buffer-size', `udp ${formatAddress(this.local)}: socket buffer size not set: ${describe(err)}`);
    }
  }

  #onSocketError(err: unknown): void {
    this.#c.socketErrors++;
    this.#log.warn('socket-error', `udp ${formatAddress(this.local)}: socket error: ${describe(err)}`);
  }

  /** Counts a drop and logs it; the log says at most one line per source host per window (T01). */
  #drop(reason: DropReason, peer?: Address, err?: unknown): false {
    this.#c.drops[reason]++;
    this.#warn(reason, peer, err);
    return false;
  }

  #warn(reason: string, peer?: Address, err?: unknown): void {
    const detail = err === undefined ? '' : `: ${describe(err)}`;
    const about = peer === undefined ? '' : ` (peer ${formatAddress(peer)})`;
    this.#log.warn(peer?.host ?? 'local', `udp ${formatAddress(this.local)}: ${reason}${about}${detail}`);
  }
}

/** The sender, with IPv4-mapped IPv6 addresses (dual-stack sockets) reduced to plain IPv4. */
function fromRemote(rinfo: RemoteInfo): Address {
  const host = rinfo.address.startsWith('::ffff:') && isIP(rinfo.address.slice(7)) === 4 ? rinfo.address.slice(7) : rinfo.address;
  return { host, port: rinfo.port };
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
