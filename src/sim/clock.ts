/**
 * Virtual time for the simulator: a Clock (util/clock.ts) whose timers sit in a binary heap and
 * fire only when the simulation runs. Events due at the same instant fire in creation order;
 * between two instants the promise jobs they started run to completion (a macrotask turn), so
 * async code — the RPC, the lookup driver, the replicator — sees time stand still while it
 * reacts, exactly as it would between two datagrams on a real event loop.
 */
import type { Clock, Timer } from '../util/index.js';

/** One timer; an interval's successive firings share the `handle`, so cancel() reaches all of them. */
interface Event {
  readonly at: number;
  readonly seq: number;
  readonly every: number;
  readonly fn: () => void;
  readonly handle: { live: boolean };
}

/** Lets every promise job queued so far (and the jobs they queue) run. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Where virtual time starts: one day, so that "never" (0) is long ago, as it is for the system
 * clock — a bucket never touched is stale at once — while times stay small integers.
 */
export const SIM_EPOCH = 86_400_000;

/** A discrete-event clock. */
export class EventClock implements Clock {
  #now = SIM_EPOCH;
  #seq = 0;
  readonly #heap: Event[] = [];
  /** Timer callbacks run so far. */
  fired = 0;

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): Timer {
    return this.#push(fn, ms, 0);
  }

  setInterval(fn: () => void, ms: number): Timer {
    if (!(ms > 0)) throw new RangeError('interval must be a positive number of milliseconds');
    return this.#push(fn, ms, ms);
  }

  /** Timers waiting (cancelled ones included until they surface). */
  get pending(): number {
    return this.#heap.length;
  }

  /** Runs every event due up to `until` (virtual ms), then sets the time to `until`. */
  async runUntil(until: number): Promise<void> {
    while (this.#step(until)) await settle();
    if (until > this.#now) this.#now = until;
  }

  /**
   * Runs events until `promise` settles or the time passes `now + limitMs`; resolves with its
   * value, or rejects with its error or with a RangeError at the limit.
   */
  async waitFor<T>(promise: Promise<T>, limitMs: number): Promise<T> {
    let state = 'pending' as 'pending' | 'ok' | 'err';
    let value: T | undefined;
    let error: unknown;
    promise.then((v) => { state = 'ok'; value = v; }, (e: unknown) => { state = 'err'; error = e; });
    const limit = this.#now + limitMs;
    await settle();
    while (state === 'pending' && this.#step(limit)) await settle();
    if (state === 'ok') return value as T;
    if (state === 'err') throw error;
    throw new RangeError(`virtual time limit of ${limitMs} ms passed before the operation settled`);
  }

  /** Fires the events of the earliest instant not after `until`; false when there are none. */
  #step(until: number): boolean {
    const heap = this.#heap;
    while (heap.length > 0 && !heap[0]!.handle.live) this.#pop();
    const first = heap[0];
    if (first === undefined || first.at > until) return false;
    const at = first.at;
    if (at > this.#now) this.#now = at;
    while (heap.length > 0 && heap[0]!.at === at) {
      const e = this.#pop();
      if (!e.handle.live) continue;
      if (e.every > 0) this.#insert({ at: e.at + e.every, seq: this.#seq++, every: e.every, fn: e.fn, handle: e.handle });
      else e.handle.live = false;
      this.fired++;
      e.fn();
    }
    return true;
  }

  #push(fn: () => void, ms: number, every: number): Timer {
    const handle = { live: true };
    this.#insert({ at: this.#now + Math.max(0, ms), seq: this.#seq++, every, fn, handle });
    return { cancel: () => { handle.live = false; } };
  }

  #insert(e: Event): void {
    const heap = this.#heap;
    heap.push(e);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(e, heap[parent]!)) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = e;
  }

  #pop(): Event {
    const heap = this.#heap;
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= heap.length) break;
        const r = l + 1;
        const c = r < heap.length && before(heap[r]!, heap[l]!) ? r : l;
        if (!before(heap[c]!, last)) break;
        heap[i] = heap[c]!;
        i = c;
      }
      heap[i] = last;
    }
    return top;
  }
}

function before(a: Event, b: Event): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}
