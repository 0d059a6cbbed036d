/**
 * The iterative Kademlia lookup as a sans-IO state machine (after rust-libp2p's ClosestPeersIter):
 * `next(now)` says whom to query, `onSuccess` / `onFailure` feed answers back. No sockets and no
 * timers here, so the same code runs over UDP, in memory, and in the simulator.
 * Termination: the k closest candidates that did not fail have all answered (or nothing is left).
 * A peer that has not answered within `slowAfter` stops counting against alpha and against
 * termination (rust-libp2p's "unresponsive" state), so dead peers cost one slow interval, not a
 * full RPC timeout; its answer is still used if it arrives before the lookup ends.
 */
import type { Contact, Id } from '../id/index.js';
import { compareDistance, idEquals } from '../id/index.js';
import { K_BUCKET_SIZE, LOOKUP_ALPHA, LOOKUP_SLOW_PEER } from '../util/index.js';

/** What the driver should do next. */
export type LookupAction =
  | { readonly type: 'query'; readonly contact: Contact }
  | { readonly type: 'wait' }
  | { readonly type: 'done' };

type State = 'new' | 'waiting' | 'slow' | 'succeeded' | 'failed' | 'skipped';

interface Candidate {
  readonly contact: Contact;
  state: State;
  /** When the query to this candidate was sent. */
  sentAt: number;
  /** Request rounds needed to learn of this contact: seeds are hop 1. */
  readonly hop: number;
}

export interface LookupInit {
  /** The id being looked up. */
  target: Id;
  /** Result size and termination width. Default K_BUCKET_SIZE (20). */
  k?: number;
  /** Requests in flight at once. Default LOOKUP_ALPHA (3). */
  alpha?: number;
  /** Our own id: never a candidate. */
  self?: Id;
  /** Candidates remembered at most (far ones are forgotten first). Default 8k. */
  maxCandidates?: number;
  /** ms after which an unanswered peer no longer holds up the lookup. Default LOOKUP_SLOW_PEER. */
  slowAfter?: number;
  /**
   * Asked right before a candidate is queried; false skips it for good (it neither answers nor
   * counts against termination). Disjoint-path lookups (S/Kademlia) use it so that no peer is
   * queried by two paths. Default: every candidate may be queried.
   */
  claim?: (contact: Contact) => boolean;
}

/** Counters of one lookup. */
export interface LookupProgress {
  queried: number;
  succeeded: number;
  failed: number;
  /** Peers that passed slowAfter without an answer. */
  slow: number;
  inFlight: number;
  maxInFlight: number;
}

/** One iterative lookup. */
export class Lookup {
  readonly target: Id;
  readonly k: number;
  readonly alpha: number;
  readonly #self: Id | null;
  readonly #maxCandidates: number;
  readonly #slowAfter: number;
  readonly #claim: ((contact: Contact) => boolean) | null;
  /** Sorted closest first; distinct ids have distinct distances, so an id is found by bisection. */
  readonly #candidates: Candidate[] = [];
  readonly #progress: LookupProgress = { queried: 0, succeeded: 0, failed: 0, slow: 0, inFlight: 0, maxInFlight: 0 };
  #finished = false;

  constructor(init: LookupInit, seeds: Iterable<Contact>) {
    this.target = init.target;
    this.k = init.k ?? K_BUCKET_SIZE;
    this.alpha = init.alpha ?? LOOKUP_ALPHA;
    if (!Number.isInteger(this.k) || this.k < 1) throw new RangeError('options.k must be a positive integer');
    if (!Number.isInteger(this.alpha) || this.alpha < 1) throw new RangeError('options.alpha must be a positive integer');
    this.#self = init.self ?? null;
    this.#maxCandidates = init.maxCandidates ?? 8 * this.k;
    this.#slowAfter = init.slowAfter ?? LOOKUP_SLOW_PEER;
    this.#claim = init.claim ?? null;
    for (const c of seeds) this.#add(c, 1);
  }

  /** The next step: a contact to query, wait for answers in flight, or done. */
  next(now: number): LookupAction {
    if (this.#finished) return { type: 'done' };
    this.#markSlow(now);
    let live = 0;
    let allAnswered = true;
    for (const c of this.#candidates) {
      if (c.state === 'failed' || c.state === 'slow' || c.state === 'skipped') continue;
      if (live++ >= this.k) break;
      if (c.state === 'succeeded') continue;
      if (c.state === 'new' && this.#progress.inFlight < this.alpha) {
        if (this.#claim === null || this.#claim(c.contact)) return this.#query(c, now);
        c.state = 'skipped'; // another path has it
        live--;
        continue;
      }
      allAnswered = false;
    }
    if (allAnswered || this.#progress.inFlight === 0) {
      this.#finished = true;
      return { type: 'done' };
    }
    return { type: 'wait' };
  }

  /** `contact` answered with `closer` contacts. Answers from contacts not queried are ignored. */
  onSuccess(contact: Contact, closer: readonly Contact[], _now = 0): void {
    const c = this.#settle(contact, 'succeeded');
    if (c === null) return;
    for (const n of closer) this.#add(n, c.hop + 1);
  }

  /** `contact` timed out, failed, or answered with something unacceptable. */
  onFailure(contact: Contact, _now = 0): void {
    this.#settle(contact, 'failed');
  }

  /** Ends the lookup now (a FIND_VALUE found its value); next() answers done from here on. */
  finish(): void {
    this.#finished = true;
  }

  /** True once next() has answered done. */
  get finished(): boolean {
    return this.#finished;
  }

  /** Up to k contacts that answered, closest first. */
  closest(n = this.k): Contact[] {
    return this.#candidates.filter((c) => c.state === 'succeeded').slice(0, n).map((c) => c.contact);
  }

  /** Request rounds to the closest contact that answered (0 when none did). */
  get hops(): number {
    return this.#candidates.find((c) => c.state === 'succeeded')?.hop ?? 0;
  }

  /** Counters so far. */
  get progress(): Readonly<LookupProgress> {
    return { ...this.#progress };
  }

  /** The earliest time at which a peer now in flight turns slow (for the driver's timer). */
  get nextSlowAt(): number | null {
    let at: number | null = null;
    for (const c of this.#candidates) {
      if (c.state === 'waiting' && (at === null || c.sentAt + this.#slowAfter < at)) at = c.sentAt + this.#slowAfter;
    }
    return at;
  }

  #markSlow(now: number): void {
    for (const c of this.#candidates) {
      // The same sum as nextSlowAt: with fractional times (the simulator) `now - sentAt` can round
      // below slowAfter at the very instant nextSlowAt named, and the driver would spin on it.
      if (c.state !== 'waiting' || now < c.sentAt + this.#slowAfter) continue;
      c.state = 'slow';
      this.#progress.inFlight--;
      this.#progress.slow++;
    }
  }

  #query(c: Candidate, now: number): LookupAction {
    c.state = 'waiting';
    c.sentAt = now;
    const p = this.#progress;
    p.queried++;
    p.inFlight++;
    p.maxInFlight = Math.max(p.maxInFlight, p.inFlight);
    return { type: 'query', contact: c.contact };
  }

  #settle(contact: Contact, state: 'succeeded' | 'failed'): Candidate | null {
    const at = this.#position(contact.id);
    const c = this.#candidates[at];
    if (c === undefined || !idEquals(c.contact.id, contact.id) || (c.state !== 'waiting' && c.state !== 'slow')) return null;
    if (c.state === 'waiting') this.#progress.inFlight--;
    else this.#progress.slow--;
    c.state = state;
    this.#progress[state]++;
    return c;
  }

  #add(contact: Contact, hop: number): void {
    if (this.#self !== null && idEquals(contact.id, this.#self)) return;
    const list = this.#candidates;
    const at = this.#position(contact.id);
    if (at < list.length && idEquals(list[at]!.contact.id, contact.id)) return; // known already
    if (at >= this.#maxCandidates) return;
    list.splice(at, 0, { contact, state: 'new', sentAt: 0, hop });
    this.#trim();
  }

  /** Where `id` is, or would be inserted, in the candidates (the first not closer than it). */
  #position(id: Id): number {
    const list = this.#candidates;
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareDistance(this.target, list[mid]!.contact.id, id) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Forgets the farthest never-queried candidates beyond maxCandidates. */
  #trim(): void {
    const list = this.#candidates;
    for (let i = list.length - 1; i >= 0 && list.length > this.#maxCandidates; i--) {
      const c = list[i]!;
      if (c.state !== 'new') continue;
      list.splice(i, 1);
    }
  }
}
