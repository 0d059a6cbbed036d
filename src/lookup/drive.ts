/**
 * Runs a Lookup against a query function: keeps alpha requests in flight, feeds answers back,
 * and bounds the whole lookup by a deadline and an AbortSignal. For FIND_VALUE the query returns
 * the value, which `accept` checks (content hash); a rejected value counts as a failure of that
 * peer and the lookup goes on past it. A peer may instead say it holds a value too large to send
 * to every peer asked at once (`held`): the driver fetches it from one such holder at a time,
 * with `fetch`, while the lookup goes on meeting others (the fallbacks).
 */
import type { Contact } from '../id/index.js';
import { compareDistance } from '../id/index.js';
import { type Clock, LOOKUP_TIMEOUT, type Timer } from '../util/index.js';
import type { Lookup } from './lookup.js';

/** What one queried peer answered. */
export interface QueryAnswer {
  readonly closer: readonly Contact[];
  readonly value?: Uint8Array | null;
  /** The peer holds a value it did not send (larger than the lookup asks inline): fetch it. */
  readonly held?: boolean;
}

/** Asks one peer; rejects on timeout or error. */
export type QueryFn = (contact: Contact, signal: AbortSignal) => Promise<QueryAnswer>;

export interface DriveOptions {
  clock: Clock;
  /** Whole-lookup deadline in ms. Default LOOKUP_TIMEOUT. */
  timeout?: number;
  signal?: AbortSignal;
  /**
   * Checks a value a peer returned: the value to keep (possibly a new buffer holding the same
   * bytes) or null to reject it. Default accepts everything.
   */
  accept?: (value: Uint8Array, from: Contact) => Promise<Uint8Array | null>;
  /**
   * Collect every accepted value instead of stopping at the first (mutable records and sets are
   * read from all the closest holders: quorum, entry correction, merge). Default false.
   */
  collect?: boolean;
  /**
   * When the lookup ends without an accepted value, wait for the peers still in flight (slow
   * ones) before resolving, bounded by the deadline and each query's own timeout. A large value
   * from a busy holder can take longer than the slow-peer interval: ending at once would report
   * "not found" while the value is on its way. Default false (FIND_NODE ends at once).
   */
  awaitInFlight?: boolean;
  /**
   * Fetches the value from a peer that answered `held`: the bytes, or null when it no longer has
   * them. One fetch runs at a time, in the order the holders answered; each value goes through
   * `accept`, and a rejected or failed fetch moves on to the next holder.
   */
  fetch?: (contact: Contact, signal: AbortSignal) => Promise<Uint8Array | null>;
}

/** A value one peer served, after `accept`. */
export interface FoundValue {
  readonly value: Uint8Array;
  readonly from: Contact;
}

/** The outcome of a driven lookup. */
export interface LookupResult {
  /** Up to k peers that answered, closest first. */
  closest: Contact[];
  /** The accepted value, for FIND_VALUE. */
  value: Uint8Array | null;
  valueFrom: Contact | null;
  /** Peers that answered without the value, closest first (caching candidates). */
  lacking: Contact[];
  /** With `collect`: every accepted value and who served it, in arrival order. */
  found: FoundValue[];
  /** Values rejected by `accept` (poisoned answers). */
  rejected: number;
  hops: number;
  queried: number;
  failed: number;
  maxInFlight: number;
  durationMs: number;
  timedOut: boolean;
}

/** Drives `lookup` to completion with `query`. Never rejects: failures are in the result. */
export function driveLookup(lookup: Lookup, query: QueryFn, options: DriveOptions): Promise<LookupResult> {
  const { clock } = options;
  const started = clock.now();
  const controller = new AbortController();
  const lacking: Contact[] = [];
  const found: FoundValue[] = [];
  let value: Uint8Array | null = null;
  let valueFrom: Contact | null = null;
  let rejected = 0;
  let timedOut = false;
  let slowTimer: Timer | null = null;
  /** Queries sent and not yet settled, slow ones included. */
  let inFlight = 0;
  /** Values received and still being checked by `accept`. */
  let checking = 0;
  /** Peers that answered `held`, not yet fetched from, and whether a fetch is running. */
  const holders: Contact[] = [];
  let fetching = false;

  return new Promise<LookupResult>((resolve) => {
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      deadline.cancel();
      slowTimer?.cancel();
      options.signal?.removeEventListener('abort', onAbort);
      controller.abort();
      const p = lookup.progress;
      lacking.sort((a, b) => compareDistance(lookup.target, a.id, b.id));
      resolve({
        closest: lookup.closest(), value, valueFrom, lacking, found, rejected, hops: lookup.hops,
        queried: p.queried, failed: p.failed, maxInFlight: p.maxInFlight, durationMs: clock.now() - started, timedOut,
      });
    };
    const onAbort = (): void => { lookup.finish(); finish(); };
    const deadline = clock.setTimeout(() => { timedOut = true; onAbort(); }, options.timeout ?? LOOKUP_TIMEOUT);
    if (options.signal?.aborted === true) return onAbort();
    options.signal?.addEventListener('abort', onAbort, { once: true });

    /** Checks a value `contact` served; the kept bytes, or null (rejected, or the lookup ended). */
    const check = async (contact: Contact, served: Uint8Array): Promise<Uint8Array | null> => {
      checking++;
      const kept = options.accept === undefined ? served : await options.accept(served, contact).catch(() => null);
      checking--;
      if (done) return null;
      if (kept === null) { rejected++; return null; }
      if (options.collect === true) found.push({ value: kept, from: contact });
      if (value === null || options.collect !== true) { value = kept; valueFrom = contact; }
      return kept;
    };

    const onAnswer = async (contact: Contact, answer: QueryAnswer): Promise<void> => {
      if (answer.value !== undefined && answer.value !== null) {
        const kept = await check(contact, answer.value);
        if (done) return;
        if (kept === null) return lookup.onFailure(contact, clock.now());
        if (options.collect === true) return lookup.onSuccess(contact, answer.closer, clock.now());
        lookup.onSuccess(contact, [], clock.now());
        return lookup.finish();
      }
      lookup.onSuccess(contact, answer.closer, clock.now());
      if (answer.held !== true) return void lacking.push(contact);
      if (options.fetch === undefined) return;
      holders.push(contact);
      fetchNext();
    };

    /** Fetches from the next holder that answered `held`, unless one is running or a value is in. */
    const fetchNext = (): void => {
      if (fetching || done || options.fetch === undefined || (value !== null && options.collect !== true)) return;
      const from = holders.shift();
      if (from === undefined) return;
      fetching = true;
      const settle = (): void => {
        fetching = false;
        if (value !== null && options.collect !== true) lookup.finish();
        fetchNext();
        pump();
      };
      options.fetch(from, controller.signal).then(
        async (served) => { if (!done && served !== null) await check(from, served); settle(); },
        settle,
      );
    };

    /**
     * Whether to hold a finished lookup open. Values already received but still in `accept` (a
     * queue at the crypto pool) are answers, not slow peers: a collecting read counts them, a
     * read that found nothing yet waits for them. With awaitInFlight, a read that found nothing
     * also waits for peers still answering.
     */
    const waitForMore = (): boolean => {
      if (value !== null && options.collect !== true) return false;
      if (checking > 0 || fetching || holders.length > 0) return true;
      return options.awaitInFlight === true && value === null && inFlight > 0;
    };

    const pump = (): void => {
      if (done) return;
      for (;;) {
        const action = lookup.next(clock.now());
        // Each answer still in flight pumps again when it lands; the deadline bounds the wait.
        if (action.type === 'done' && waitForMore()) return;
        if (action.type === 'done') return finish();
        if (action.type === 'wait') return armSlowTimer();
        const { contact } = action;
        inFlight++;
        query(contact, controller.signal).then(
          async (answer) => { if (!done) await onAnswer(contact, answer); inFlight--; pump(); },
          () => { if (!done) lookup.onFailure(contact, clock.now()); inFlight--; pump(); },
        );
      }
    };
    // Wakes the lookup when a peer in flight turns slow, so it can query the next candidate.
    const armSlowTimer = (): void => {
      slowTimer?.cancel();
      const at = lookup.nextSlowAt;
      slowTimer = at === null ? null : clock.setTimeout(pump, Math.max(0, at - clock.now()));
    };
    pump();
  });
}
