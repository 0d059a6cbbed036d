/**
 * The transport contract: opaque messages (at most MAX_MESSAGE_BYTES) between UDP endpoints,
 * with plain-object counters. The RPC layer and the simulator depend only on this file; the
 * UDP and in-memory implementations both satisfy it.
 */
import type { Address } from '../util/index.js';

/**
 * Called once per complete message, synchronously, in arrival order. `peer` is the node id of
 * the session the message arrived in (SecureChannel); undefined for plaintext.
 */
export type MessageHandler = (message: Uint8Array, from: Address, peer?: Uint8Array) => void;

/** How a message is to be sent (the secure channel reads these; plain transports ignore them). */
export interface SendOptions {
  /** Only to this node id: a session with another id at the address refuses the send. */
  readonly peer?: Uint8Array;
  /** Send unsealed (PONG to a plaintext PING), within the anti-amplification budget. */
  readonly plain?: boolean;
}

/** Moves whole messages between endpoints; knows nothing of their schema. */
export interface Transport {
  /** The bound address (the real port after binding port 0). */
  readonly local: Address;
  /** Replaces the message handler. Messages arriving with no handler are counted (`no_handler`). */
  setHandler(handler: MessageHandler): void;
  /**
   * Queues `message` for `to`. Returns false, and counts the drop by reason, when the message is
   * too big or too small, the address is not an IP literal and port, the send queue is full, or
   * the transport is closed. `true` means queued, not delivered (UDP gives no such promise).
   * The transport may read `message` until its datagrams are handed to the OS: do not mutate it.
   */
  send(to: Address, message: Uint8Array, options?: SendOptions): boolean;
  /** Secure channels only: told when messages queued for `to` were dropped because no session could be made. */
  setUnreachableHandler?(handler: (to: Address) => void): void;
  /** Secure channels only: bans `from` for a while after authenticated misbehaviour (a reputation hook). */
  penalize?(from: Address, reason: string, peerId?: Uint8Array | null): void;
  /** Closes the endpoint, clears timers, queues and buffers. Idempotent. */
  close(): Promise<void>;
  /** A snapshot of the counters (a fresh plain object). */
  counters(): TransportCounters;
}

/** Every reason a datagram or a message is dropped, in receive order, then send order. */
export const DROP_REASONS = [
  'too_small', // datagram under MIN_DATAGRAM: dropped before any parse
  'too_large', // datagram over DATAGRAM_PAYLOAD: dropped before any parse
  'rate_ip', // the source host is over its rate limit (ratelimit.ts): dropped before any parse
  'rate_subnet', // the source's /24 (IPv4) or /48 (IPv6) is over its rate limit: before any parse
  'rate_global', // all sources together are over the global rate limit: before any parse
  'bad_frame', // unknown frame kind, truncated fragment header, empty whole frame
  'fragment_invalid', // index >= count, count too large, inconsistent layout, empty data
  'fragment_duplicate', // the same fragment index of the same message again
  'reassembly_peer_limit', // bytes or partial messages of one source over their cap
  'reassembly_total_limit', // bytes or partial messages over all sources over their cap
  'reassembly_timeout', // a partial message expired before it completed
  'no_handler', // a complete message arrived before setHandler()
  'handler_error', // the handler threw; caught so it never reaches the event loop
  'message_too_large', // send(): over the message limit
  'message_too_small', // send(): too short to make a datagram of MIN_DATAGRAM bytes
  'bad_address', // send(): host not an IP literal (never resolved), port outside 1..65535
  'send_queue_full', // send(): the paced queue is over its byte bound
  'send_error', // the OS refused a datagram (callback error)
  'closed', // send() after close(), or queued messages discarded by close()
] as const;

/** Why a datagram or message was dropped. */
export type DropReason = (typeof DROP_REASONS)[number];

/** Transport counters. Datagram counts include dropped datagrams; bytes are UDP payload bytes. */
export interface TransportCounters {
  datagramsIn: number;
  datagramsOut: number;
  bytesIn: number;
  bytesOut: number;
  /** Complete messages handed to the handler (or attempted, see `no_handler`). */
  messagesIn: number;
  /** Messages accepted by send(). */
  messagesOut: number;
  /** Sent messages that needed more than one datagram. */
  fragmentedOut: number;
  /** Received messages rebuilt from fragments. */
  reassembled: number;
  /** Bytes of partial messages buffered now. */
  reassemblyBytes: number;
  /** Highest `reassemblyBytes` seen. */
  peakReassemblyBytes: number;
  /** Message bytes waiting in the paced send queue now. */
  sendQueueBytes: number;
  /** Highest `sendQueueBytes` seen. */
  peakSendQueueBytes: number;
  /** 'error' events from the socket (handled, never thrown). */
  socketErrors: number;
  /** Failed attempts to set the socket buffer sizes (the OS default stays). */
  bufferSizeErrors: number;
  drops: Record<DropReason, number>;
}

/** A zero for every drop reason. */
export function zeroDrops(): Record<DropReason, number> {
  const drops = {} as Record<DropReason, number>;
  for (const reason of DROP_REASONS) drops[reason] = 0;
  return drops;
}

/** All-zero counters. */
export function zeroCounters(): TransportCounters {
  return {
    datagramsIn: 0, datagramsOut: 0, bytesIn: 0, bytesOut: 0, messagesIn: 0, messagesOut: 0,
    fragmentedOut: 0, reassembled: 0, reassemblyBytes: 0, peakReassemblyBytes: 0,
    sendQueueBytes: 0, peakSendQueueBytes: 0, socketErrors: 0, bufferSizeErrors: 0,
    drops: zeroDrops(),
  };
}
