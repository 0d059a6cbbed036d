/**
 * Options of the secure channel, their defaults (sources in docs/security.md) and validation.
 */
import { minute, second } from '../../util/index.js';

/** Options of a SecureChannel; every duration in ms. */
export interface SecureChannelInit {
  /** Endpoints with a session at most (least recently used evicted). Default 1,000 (sigp discv5). */
  sessionCapacity?: number;
  /** A session unused this long is dropped. Default 30 min. */
  sessionIdleTimeout?: number;
  /** Wait for a CHALLENGE after a HELLO. Default 2 s (discv5 uses 1 s; a loaded loopback testnet needs more). */
  helloTimeout?: number;
  /** Wait for DONE after our HANDSHAKE (the peer verifies and signs in its pool). Default 5 s. */
  handshakeTimeout?: number;
  /** After a failed handshake to a never-validated endpoint, no new HELLO for this long (T07). Default 10 s. */
  probeCooldown?: number;
  /** Outbound handshakes at once. Default 256. */
  maxOutboundHandshakes?: number;
  /** Inbound handshakes being verified at once (more are dropped). Default 32. */
  maxInboundHandshakes?: number;
  /** Messages waiting for one handshake. Default 64. */
  maxQueuedMessages?: number;
  /** How long a misbehaving endpoint is ignored. Default 10 min. */
  banDuration?: number;
  /** Anti-amplification factor. Default 3. */
  amplificationFactor?: number;
  /** Cookie secret period (cookies live one to two periods). Default 30 s. */
  cookiePeriod?: number;
}

export const DEFAULT_CHANNEL_OPTIONS: Readonly<Required<SecureChannelInit>> = {
  sessionCapacity: 1000, sessionIdleTimeout: 30 * minute, helloTimeout: 2 * second, handshakeTimeout: 5 * second,
  probeCooldown: 10 * second, maxOutboundHandshakes: 256, maxInboundHandshakes: 32, maxQueuedMessages: 64,
  banDuration: 10 * minute, amplificationFactor: 3, cookiePeriod: 30 * second,
};

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Fills defaults and validates; throws RangeError naming the option. */
export function resolveChannelOptions(init: SecureChannelInit): Required<SecureChannelInit> {
  const o = { ...DEFAULT_CHANNEL_OPTIONS, ...stripUndefined(init) };
  for (const [name, value] of Object.entries(o)) {
    if (!(typeof value === 'number' && value > 0 && Number.isFinite(value))) throw new RangeError(`options.${name} must be a positive number`);
  }
  for (const name of ['sessionCapacity', 'maxOutboundHandshakes', 'maxInboundHandshakes', 'maxQueuedMessages'] as const) {
    if (!Number.isInteger(o[name])) throw new RangeError(`options.${name} must be a positive integer`);
  }
  if (o.amplificationFactor < 1) throw new RangeError('options.amplificationFactor must be at least 1');
  return o;
}
