/**
 * Fragment reassembly with hard limits (RELIABILITY.md T03; OpenDHT's RX_MAX_EARLY_BYTES and
 * RX_MAX_PACKET_TIME). Partial messages are keyed by (source, message id), so sources never
 * merge; bytes and partials are capped per source and in total; partials expire after a timeout.
 * Pure: time comes from an injected clock, and the owner calls sweep() (nextDeadline() says when).
 */
import {
  type Clock, MAX_MESSAGE_BYTES, REASSEMBLY_PER_PEER_BYTES, REASSEMBLY_PER_PEER_MESSAGES,
  REASSEMBLY_TIMEOUT, REASSEMBLY_TOTAL_BYTES,
} from '../util/index.js';
import type { FragmentFrame } from './frame.js';
import { FRAGMENT_DATA_BYTES } from './frame.js';

/** Why reassembly dropped a fragment (a subset of the transport's DropReason). */
export type ReassemblyDropReason =
  | 'fragment_invalid' | 'fragment_duplicate' | 'reassembly_peer_limit' | 'reassembly_total_limit' | 'reassembly_timeout';

/** Hard limits of a Reassembly. Every one can be overridden. */
export interface ReassemblyLimits {
  /** Largest message rebuilt; a layout implying more is `fragment_invalid`. */
  maxMessageBytes: number;
  /** Buffered bytes per source. */
  perPeerBytes: number;
  /** Partial messages per source (T03: at most 64). */
  perPeerMessages: number;
  /** Buffered bytes over all sources. */
  totalBytes: number;
  /** Partial messages over all sources: bounds bookkeeping when fragments are tiny. */
  totalMessages: number;
  /** Milliseconds after its first fragment at which a partial message is freed. */
  timeout: number;
  /**
   * Least data in a fragment that is not the last. Our sender uses 1,191 B; the floor bounds the
   * fragment count per message (and so the bookkeeping per buffered byte).
   */
  minFragmentBytes: number;
}

/**
 * Defaults from util/constants.ts. `totalMessages` has no constant there yet: it is the number of
 * full datagrams the total byte cap holds, so tiny fragments cannot pin more partials than that.
 */
export const DEFAULT_REASSEMBLY_LIMITS: Readonly<ReassemblyLimits> = Object.freeze({
  maxMessageBytes: MAX_MESSAGE_BYTES,
  perPeerBytes: REASSEMBLY_PER_PEER_BYTES,
  perPeerMessages: REASSEMBLY_PER_PEER_MESSAGES,
  totalBytes: REASSEMBLY_TOTAL_BYTES,
  totalMessages: Math.floor(REASSEMBLY_TOTAL_BYTES / FRAGMENT_DATA_BYTES),
  timeout: REASSEMBLY_TIMEOUT,
  minFragmentBytes: 512,
});

/** What accept() did with a fragment. */
export type AcceptResult =
  | { readonly status: 'complete'; readonly message: Uint8Array }
  | { readonly status: 'pending' }
  | { readonly status: 'dropped'; readonly reason: ReassemblyDropReason };

/** Reassembly counters (a fresh object per call). */
export interface ReassemblyStats {
  partials: number;
  bytes: number;
  peakBytes: number;
  reassembled: number;
  drops: Record<ReassemblyDropReason, number>;
}

interface SourceState {
  bytes: number;
  messages: number;
}

interface PendingMessage {
  readonly key: string;
  readonly source: string;
  readonly count: number;
  readonly deadline: number;
  /** Data length of every fragment but the last; 0 until one is seen. */
  stride: number;
  /** Data length of the last fragment; 0 until it is seen. */
  lastBytes: number;
  bytes: number;
  readonly fragments: Map<number, Uint8Array>;
}

const PENDING: AcceptResult = Object.freeze({ status: 'pending' });

/** Rebuilds messages from fragment frames within hard limits. */
export class Reassembly {
  readonly #clock: Pick<Clock, 'now'>;
  readonly #limits: Readonly<ReassemblyLimits>;
  /** Insertion order is creation order, hence deadline order: expiry stops at the first live one. */
  readonly #pending = new Map<string, PendingMessage>();
  readonly #sources = new Map<string, SourceState>();
  #bytes = 0;
  #peakBytes = 0;
  #reassembled = 0;
  readonly #drops: Record<ReassemblyDropReason, number> = {
    fragment_invalid: 0, fragment_duplicate: 0, reassembly_peer_limit: 0, reassembly_total_limit: 0, reassembly_timeout: 0,
  };

  constructor(components: { clock: Pick<Clock, 'now'> }, init: Partial<ReassemblyLimits> = {}) {
    this.#clock = components.clock;
    this.#limits = resolveLimits(init);
  }

  /** The limits in force. */
  get limits(): Readonly<ReassemblyLimits> {
    return this.#limits;
  }

  /**
   * Takes one fragment from `source` (any string that names the sender, e.g. `host:port`).
   * Returns the whole message when this fragment completes it, as one contiguous array.
   */
  accept(source: string, frame: FragmentFrame): AcceptResult {
    const now = this.#clock.now();
    this.#expire(now);
    const length = frame.data.byteLength;
    if (!this.#plausible(frame)) return this.#drop('fragment_invalid');
    const key = `${source}/${frame.messageId}`;
    let pending = this.#pending.get(key);
    if (pending !== undefined) {
      const reason = layoutError(pending, frame, this.#limits.maxMessageBytes) ?? this.#overBytes(source, length);
      if (reason !== null) return this.#drop(reason);
    } else {
      const reason = this.#overMessages(source) ?? this.#overBytes(source, length);
      if (reason !== null) return this.#drop(reason);
      pending = this.#create(key, source, frame.count, now);
    }
    this.#store(pending, frame);
    if (pending.fragments.size < pending.count) return PENDING;
    return { status: 'complete', message: this.#finish(pending) };
  }

  /** Frees every partial message whose deadline has passed; returns how many. */
  sweep(): number {
    return this.#expire(this.#clock.now());
  }

  /** When the oldest partial message expires, or null when none is buffered. */
  nextDeadline(): number | null {
    for (const p of this.#pending.values()) return p.deadline;
    return null;
  }

  /** Frees everything without counting drops (the owner is closing). */
  clear(): void {
    this.#pending.clear();
    this.#sources.clear();
    this.#bytes = 0;
  }

  /** Counters and current occupancy. */
  stats(): ReassemblyStats {
    return {
      partials: this.#pending.size, bytes: this.#bytes, peakBytes: this.#peakBytes,
      reassembled: this.#reassembled, drops: { ...this.#drops },
    };
  }

  /** Checks one fragment on its own: non-empty, index < count, and a layout that fits the limit. */
  #plausible(f: FragmentFrame): boolean {
    const { maxMessageBytes, minFragmentBytes } = this.#limits;
    const length = f.data.byteLength;
    if (length === 0 || f.count === 0 || f.index >= f.count) return false;
    if (f.index < f.count - 1) {
      return length >= minFragmentBytes && (f.count - 1) * length + 1 <= maxMessageBytes;
    }
    // The last fragment: every other one carries at least max(length, minFragmentBytes).
    return (f.count - 1) * Math.max(length, minFragmentBytes) + length <= maxMessageBytes;
  }

  #overMessages(source: string): ReassemblyDropReason | null {
    if ((this.#sources.get(source)?.messages ?? 0) >= this.#limits.perPeerMessages) return 'reassembly_peer_limit';
    if (this.#pending.size >= this.#limits.totalMessages) return 'reassembly_total_limit';
    return null;
  }

  #overBytes(source: string, length: number): ReassemblyDropReason | null {
    if ((this.#sources.get(source)?.bytes ?? 0) + length > this.#limits.perPeerBytes) return 'reassembly_peer_limit';
    if (this.#bytes + length > this.#limits.totalBytes) return 'reassembly_total_limit';
    return null;
  }

  #create(key: string, source: string, count: number, now: number): PendingMessage {
    const pending: PendingMessage = {
      key, source, count, deadline: now + this.#limits.timeout, stride: 0, lastBytes: 0, bytes: 0, fragments: new Map(),
    };
    this.#pending.set(key, pending);
    const state = this.#sources.get(source);
    if (state === undefined) this.#sources.set(source, { bytes: 0, messages: 1 });
    else state.messages++;
    return pending;
  }

  #store(p: PendingMessage, f: FragmentFrame): void {
    const length = f.data.byteLength;
    if (f.index === p.count - 1) p.lastBytes = length;
    else p.stride = length;
    // A copy, so a buffered fragment never pins (or aliases) the caller's datagram buffer.
    p.fragments.set(f.index, f.data.slice());
    p.bytes += length;
    this.#sources.get(p.source)!.bytes += length;
    this.#bytes += length;
    if (this.#bytes > this.#peakBytes) this.#peakBytes = this.#bytes;
  }

  #finish(p: PendingMessage): Uint8Array {
    const stride = p.count === 1 ? 0 : p.stride;
    const out = new Uint8Array((p.count - 1) * stride + p.lastBytes);
    for (const [index, data] of p.fragments) out.set(data, index * stride);
    this.#free(p);
    this.#reassembled++;
    return out;
  }

  #free(p: PendingMessage): void {
    this.#pending.delete(p.key);
    this.#bytes -= p.bytes;
    const state = this.#sources.get(p.source)!;
    state.bytes -= p.bytes;
    if (--state.messages === 0) this.#sources.delete(p.source);
  }

  #expire(now: number): number {
    let expired = 0;
    for (const p of this.#pending.values()) {
      if (p.deadline > now) break;
      this.#free(p);
      expired++;
    }
    this.#drops.reassembly_timeout += expired;
    return expired;
  }

  #drop(reason: ReassemblyDropReason): AcceptResult {
    this.#drops[reason]++;
    return { status: 'dropped', reason };
  }
}

/**
 * Checks a fragment against its partial message: same count, a new index, the common length for
 * every fragment but the last, a last fragment no longer than that, a total within the limit.
 * Different lengths for the same positions are how overlapping layouts show up here.
 */
function layoutError(p: PendingMessage, f: FragmentFrame, maxMessageBytes: number): ReassemblyDropReason | null {
  if (f.count !== p.count) return 'fragment_invalid';
  if (p.fragments.has(f.index)) return 'fragment_duplicate';
  const length = f.data.byteLength;
  const isLast = f.index === p.count - 1;
  const stride = isLast ? p.stride : length;
  const last = isLast ? length : p.lastBytes;
  if (!isLast && p.stride !== 0 && length !== p.stride) return 'fragment_invalid';
  if (stride === 0 || last === 0) return null;
  if (last > stride || (p.count - 1) * stride + last > maxMessageBytes) return 'fragment_invalid';
  return null;
}

function resolveLimits(init: Partial<ReassemblyLimits>): Readonly<ReassemblyLimits> {
  const limits = { ...DEFAULT_REASSEMBLY_LIMITS, ...stripUndefined(init) };
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isInteger(value) || value <= 0) throw new RangeError(`limits.${name} must be a positive integer`);
  }
  if (limits.minFragmentBytes > FRAGMENT_DATA_BYTES) {
    throw new RangeError(`limits.minFragmentBytes must be at most ${FRAGMENT_DATA_BYTES}`);
  }
  return Object.freeze(limits);
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
