/**
 * Time as an injected service. Nothing in the node calls Date.now() or setTimeout directly:
 * the real clock serves the UDP node, a virtual clock serves the simulator and TTL tests.
 */

/** A cancellable timer handle. */
export interface Timer {
  cancel(): void;
}

/** Milliseconds and timers. `now()` is monotonic within one clock. */
export interface Clock {
  /** Milliseconds since an arbitrary epoch (wall time for the system clock). */
  now(): number;
  /** Runs `fn` once after `ms`; the timer does not keep the process alive. */
  setTimeout(fn: () => void, ms: number): Timer;
  /** Runs `fn` every `ms`; the timer does not keep the process alive. */
  setInterval(fn: () => void, ms: number): Timer;
}

/** The process clock: Date.now() and Node timers, unref'd. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    t.unref();
    return { cancel: () => clearTimeout(t) };
  },
  setInterval(fn, ms) {
    const t = setInterval(fn, ms);
    t.unref();
    return { cancel: () => clearInterval(t) };
  },
};

/**
 * A manual clock for tests and the simulator: time moves only when `advance()` is called, and
 * due timers fire in deadline order (ties in creation order).
 */
export class ManualClock implements Clock {
  #now: number;
  #seq = 0;
  readonly #timers = new Map<number, { at: number; every: number; fn: () => void }>();

  constructor(start = 0) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): Timer {
    return this.#add(fn, ms, 0);
  }

  setInterval(fn: () => void, ms: number): Timer {
    if (!(ms > 0)) throw new RangeError('interval must be a positive number of milliseconds');
    return this.#add(fn, ms, ms);
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way. */
  advance(ms: number): void {
    const until = this.#now + ms;
    for (;;) {
      let nextId = -1;
      let nextAt = Infinity;
      for (const [id, t] of this.#timers) {
        if (t.at < nextAt) { nextAt = t.at; nextId = id; }
      }
      const timer = this.#timers.get(nextId);
      if (timer === undefined || nextAt > until) break;
      this.#now = Math.max(this.#now, nextAt);
      if (timer.every > 0) timer.at += timer.every;
      else this.#timers.delete(nextId);
      timer.fn();
    }
    this.#now = until;
  }

  #add(fn: () => void, ms: number, every: number): Timer {
    const id = this.#seq++;
    this.#timers.set(id, { at: this.#now + Math.max(0, ms), every, fn });
    return { cancel: () => this.#timers.delete(id) };
  }
}
