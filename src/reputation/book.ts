/**
 * The reputation book: one decayed Beta-reputation record per peer (model in score.ts), read
 * by routing and placement to skip bad peers and prefer trusted ones, and listed for the
 * economic layer. Bounded like a cache: at most `maxPeers` records, least recently updated
 * evicted first. Pure data, no timers: every call that depends on time takes `now` in ms.
 */
import { type NodeId, idToHex, isId } from '../id/index.js';
import {
  BAD_THRESHOLD, DEFAULT_HALF_LIFE, DEFAULT_MAX_EVIDENCE, DEFAULT_MAX_PEERS, NEUTRAL_SCORE, REPUTATION_EVENTS, TRUST_THRESHOLD,
  type Evidence, type ReputationEvent, applyEvent, betaScore, emptyEvidence, evidenceScore, isReputationEvent,
} from './score.js';

/** Options of a {@link ReputationBook}; defaults in score.ts. */
export interface ReputationInit {
  /** Ms after which evidence counts half (default 1 hour). */
  halfLife?: number;
  /** Peers remembered; the least recently updated is evicted beyond it (default 10 000). */
  maxPeers?: number;
  /** Cap on a peer's total decayed evidence a + b, ratio kept (default 100). */
  maxEvidence?: number;
}

/** What the book knows of one peer, as seen at the `now` it was read. */
export interface PeerReputation {
  /** The peer's node id, lower-case hex. */
  id: string;
  /** Beta-mean score in (0, 1); 0.5 is neutral. */
  score: number;
  /** Lifetime count of each event recorded for this peer (not decayed). */
  events: Record<ReputationEvent, number>;
  /** `now` of the last {@link ReputationBook.record} for this peer, in ms. */
  lastUpdate: number;
}

/** Aggregate counters of a {@link ReputationBook}. */
export interface ReputationStats {
  /** Peers currently remembered. */
  peers: number;
  /** Remembered peers below BAD_THRESHOLD (at `now`, or at their last update without it). */
  bad: number;
  /** Events recorded since the book was made, including those of forgotten or evicted peers. */
  events: Record<ReputationEvent, number>;
  /** Peers dropped to respect `maxPeers`. */
  evicted: number;
}

interface Entry {
  evidence: Evidence;
  readonly events: Record<ReputationEvent, number>;
  lastUpdate: number;
}

/** A zeroed counter per event. */
function zeroCounts(): Record<ReputationEvent, number> {
  const out = {} as Record<ReputationEvent, number>;
  for (const e of REPUTATION_EVENTS) out[e] = 0;
  return out;
}

function positiveNumber(value: number | undefined, fallback: number, name: string, integer: boolean): number {
  if (value === undefined) return fallback;
  const ok = typeof value === 'number' && value > 0 && Number.isFinite(value) && (!integer || Number.isInteger(value));
  if (!ok) throw new RangeError(`options.${name} must be a positive ${integer ? 'integer' : 'finite number'}`);
  return value;
}

function assertNow(now: number): void {
  if (typeof now !== 'number' || !Number.isFinite(now)) throw new RangeError('now must be a finite number of ms');
}

function assertPeer(id: NodeId): void {
  if (!isId(id)) throw new TypeError('id must be a 32-byte node id');
}

/**
 * Per-peer reputation scores. `record` feeds outcomes in; `score`, `isTrusted` and `isBad` are
 * the synchronous reads of the request path; `list` and `stats` serve the API. Unknown peers
 * score {@link NEUTRAL_SCORE}. Reads never change recency: only `record` does.
 */
export class ReputationBook {
  /** Ms after which evidence counts half. */
  readonly halfLife: number;
  /** Peers remembered at most. */
  readonly maxPeers: number;
  /** Cap on a peer's total decayed evidence. */
  readonly maxEvidence: number;
  // Map order is recency order: `record` re-inserts, so the first key is the least recently updated.
  readonly #peers = new Map<string, Entry>();
  readonly #totals = zeroCounts();
  #evicted = 0;

  /** An empty book; throws RangeError naming a bad option. */
  constructor(init: ReputationInit = {}) {
    this.halfLife = positiveNumber(init.halfLife, DEFAULT_HALF_LIFE, 'halfLife', false);
    this.maxPeers = positiveNumber(init.maxPeers, DEFAULT_MAX_PEERS, 'maxPeers', true);
    this.maxEvidence = positiveNumber(init.maxEvidence, DEFAULT_MAX_EVIDENCE, 'maxEvidence', false);
  }

  /**
   * Records that `event` happened with peer `id` at `now`, evicting the least recently updated
   * peer when a new one exceeds `maxPeers`. Record `invalid_value` and `protocol_violation` only
   * for bytes authenticated as coming from `id`: otherwise a spoofer could frame honest peers.
   */
  record(id: NodeId, event: ReputationEvent, now: number): void {
    assertPeer(id);
    if (!isReputationEvent(event)) throw new TypeError(`event must be a ReputationEvent, got ${String(event)}`);
    assertNow(now);
    const key = idToHex(id);
    const entry = this.#peers.get(key) ?? { evidence: emptyEvidence(now), events: zeroCounts(), lastUpdate: now };
    entry.evidence = applyEvent(entry.evidence, event, now, this.halfLife, this.maxEvidence);
    entry.events[event]++;
    entry.lastUpdate = now;
    this.#totals[event]++;
    this.#peers.delete(key);
    this.#peers.set(key, entry);
    this.#evictOverflow();
  }

  /** The score of `id` at `now`, in (0, 1); {@link NEUTRAL_SCORE} for an unknown peer. */
  score(id: NodeId, now: number): number {
    assertPeer(id);
    assertNow(now);
    const entry = this.#peers.get(idToHex(id));
    return entry === undefined ? NEUTRAL_SCORE : evidenceScore(entry.evidence, now, this.halfLife);
  }

  /** A snapshot of what the book knows of `id` at `now`, or undefined for an unknown peer. */
  get(id: NodeId, now: number): PeerReputation | undefined {
    assertPeer(id);
    assertNow(now);
    const key = idToHex(id);
    const entry = this.#peers.get(key);
    return entry === undefined ? undefined : this.#snapshot(key, entry, now);
  }

  /**
   * Up to `limit` peers (all by default), highest score at `now` first; equal scores in
   * ascending id order, so the list is deterministic.
   */
  list(now: number, limit?: number): PeerReputation[] {
    assertNow(now);
    if (limit !== undefined && !(Number.isInteger(limit) && limit >= 0)) {
      throw new RangeError('limit must be a non-negative integer');
    }
    const all: PeerReputation[] = [];
    for (const [key, entry] of this.#peers) all.push(this.#snapshot(key, entry, now));
    all.sort((x, y) => y.score - x.score || (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
    return limit === undefined ? all : all.slice(0, limit);
  }

  /** True when the score of `id` at `now` is at least {@link TRUST_THRESHOLD}. */
  isTrusted(id: NodeId, now: number): boolean {
    return this.score(id, now) >= TRUST_THRESHOLD;
  }

  /** True when the score of `id` at `now` is below {@link BAD_THRESHOLD}: routing and placement skip it. */
  isBad(id: NodeId, now: number): boolean {
    return this.score(id, now) < BAD_THRESHOLD;
  }

  /** Drops everything known of `id` (lifetime totals in `stats` keep its events). */
  forget(id: NodeId): void {
    assertPeer(id);
    this.#peers.delete(idToHex(id));
  }

  /** Peers currently remembered. */
  get size(): number {
    return this.#peers.size;
  }

  /**
   * Aggregate counters. `bad` is evaluated at `now` when given; without it, at each peer's last
   * update, an upper bound, since decay only moves a score toward neutral.
   */
  stats(now?: number): ReputationStats {
    if (now !== undefined) assertNow(now);
    let bad = 0;
    for (const entry of this.#peers.values()) {
      const s = now === undefined ? betaScore(entry.evidence.a, entry.evidence.b) : evidenceScore(entry.evidence, now, this.halfLife);
      if (s < BAD_THRESHOLD) bad++;
    }
    return { peers: this.#peers.size, bad, events: { ...this.#totals }, evicted: this.#evicted };
  }

  #snapshot(key: string, entry: Entry, now: number): PeerReputation {
    return { id: key, score: evidenceScore(entry.evidence, now, this.halfLife), events: { ...entry.events }, lastUpdate: entry.lastUpdate };
  }

  #evictOverflow(): void {
    while (this.#peers.size > this.maxPeers) {
      const oldest = this.#peers.keys().next();
      if (oldest.done === true) return;
      this.#peers.delete(oldest.value);
      this.#evicted++;
    }
  }
}
