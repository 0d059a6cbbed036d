/**
 * Transport: opaque messages between UDP endpoints (framing, paced fragmentation, bounded
 * reassembly, rate limits on incoming datagrams), plus an in-memory network for the simulator
 * and routing-logic unit tests.
 */
export * from './types.js';
export {
  FRAME_WHOLE, FRAME_FRAGMENT, WHOLE_HEADER_BYTES, FRAGMENT_HEADER_BYTES, MAX_WHOLE_MESSAGE, FRAGMENT_DATA_BYTES,
  MAX_FRAGMENT_COUNT, type Frame, type WholeFrame, type FragmentFrame, parseFrame, encodeMessage, encodeFragment,
  datagramCount, framedBytes,
} from './frame.js';
export {
  Reassembly, DEFAULT_REASSEMBLY_LIMITS, type ReassemblyLimits, type ReassemblyDropReason, type ReassemblyStats,
  type AcceptResult,
} from './reassembly.js';
export {
  SendPacer, DEFAULT_BURST_DATAGRAMS, DEFAULT_MAX_SEND_QUEUE_BYTES, type PacerInit, type DeferTurn, type EmitDatagram,
} from './pacer.js';
export {
  GcraLimiter, PacketFilter, resolveRateLimits, DEFAULT_PER_IP_LIMIT, DEFAULT_PER_SUBNET_LIMIT, DEFAULT_GLOBAL_LIMIT,
  DEFAULT_MAX_RATE_KEYS, type RateLimit, type GcraInit, type RateLimitsInit, type RateLimitReason, type PacketFilterInit,
} from './ratelimit.js';
export { UdpTransport, DEFAULT_SOCKET_BUFFER_BYTES, type UdpTransportInit } from './udp.js';
export { MemoryNetwork, type MemoryNetworkInit, type MemoryNetworkCounters, type LinkFunction } from './memory.js';
export * from './secure/index.js';
