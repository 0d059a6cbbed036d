/**
 * The reputation book and its Beta-reputation model (src/reputation): thresholds a single event
 * must cross, decay and recovery, the evidence cap, the LRU bound, ordering, counters, and
 * fast-check properties (score in [0, 1], monotone in each event, deterministic from `now`).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { NodeId } from '../../src/id/index.js';
import {
  BAD_THRESHOLD, DEFAULT_HALF_LIFE, EVENT_WEIGHTS, NEUTRAL_SCORE, REPUTATION_EVENTS, type ReputationEvent, ReputationBook,
  TRUST_THRESHOLD,
} from '../../src/reputation/index.js';

const RUNS = process.env.SLOW === '1' ? 20_000 : 500;
const H = 60 * 60 * 1000;
const T0 = 1_700_000_000_000;

/** An id of 32 bytes all equal to `byte`. */
function idOf(byte: number): NodeId {
  return new Uint8Array(32).fill(byte) as NodeId;
}
const hex = (id: NodeId): string => Buffer.from(id).toString('hex');

function recordMany(book: ReputationBook, id: NodeId, event: ReputationEvent, n: number, now: number, step = 0): number {
  let t = now;
  for (let i = 0; i < n; i++, t += step) book.record(id, event, t);
  return t;
}

describe('ReputationBook: scores and thresholds', () => {
  it('scores an unknown peer neutral, neither trusted nor bad', () => {
    const book = new ReputationBook();
    expect(book.score(idOf(1), T0)).toBe(NEUTRAL_SCORE);
    expect(book.isTrusted(idOf(1), T0)).toBe(false);
    expect(book.isBad(idOf(1), T0)).toBe(false);
    expect(book.get(idOf(1), T0)).toBeUndefined();
    expect(book.size).toBe(0);
  });

  it.each(['audit_fail', 'invalid_value', 'protocol_violation'] as const)('marks a fresh peer bad after a single %s', (event) => {
    const book = new ReputationBook();
    book.record(idOf(1), event, T0);
    expect(book.score(idOf(1), T0)).toBeLessThan(BAD_THRESHOLD);
    expect(book.isBad(idOf(1), T0)).toBe(true);
  });

  it('scores a fresh peer 1/10 after a failed audit and 1/22 after an invalid value', () => {
    const book = new ReputationBook();
    book.record(idOf(1), 'audit_fail', T0);
    book.record(idOf(2), 'invalid_value', T0);
    expect(book.score(idOf(1), T0)).toBeCloseTo(1 / 10, 12);
    expect(book.score(idOf(2), T0)).toBeCloseTo(1 / 22, 12);
  });

  it('keeps a long-good peer (100 rpc_ok) trusted after one timeout', () => {
    const book = new ReputationBook();
    const t = recordMany(book, idOf(1), 'rpc_ok', 100, T0);
    book.record(idOf(1), 'rpc_timeout', t);
    // 101 units of evidence exceed the cap of 100: a and b are scaled by 100/101, ratio kept.
    expect(book.score(idOf(1), t)).toBeCloseTo((10_000 / 101 + 1) / 102, 12);
    expect(book.isTrusted(idOf(1), t)).toBe(true);
  });

  it('keeps a peer trusted after one timeout when its 100 answers were spread over hours', () => {
    const book = new ReputationBook();
    const t = recordMany(book, idOf(1), 'rpc_ok', 100, T0, 3 * 60 * 1000);
    book.record(idOf(1), 'rpc_timeout', t);
    expect(book.isTrusted(idOf(1), t)).toBe(true);
  });

  it('makes a peer trusted after two answered requests, not one', () => {
    const book = new ReputationBook();
    book.record(idOf(1), 'rpc_ok', T0);
    expect(book.isTrusted(idOf(1), T0)).toBe(false);
    book.record(idOf(1), 'rpc_ok', T0);
    expect(book.isTrusted(idOf(1), T0)).toBe(true);
  });

  it('treats store_full as neutral but store_refused as a fault', () => {
    const book = new ReputationBook();
    book.record(idOf(1), 'store_full', T0);
    book.record(idOf(2), 'store_refused', T0);
    expect(book.score(idOf(1), T0)).toBe(NEUTRAL_SCORE);
    expect(book.score(idOf(2), T0)).toBeCloseTo(1 / 3, 12);
    expect(book.get(idOf(1), T0)?.events.store_full).toBe(1);
  });

  it('needs four timeouts, not three, to make a fresh peer bad', () => {
    const book = new ReputationBook();
    recordMany(book, idOf(1), 'rpc_timeout', 3, T0);
    expect(book.isBad(idOf(1), T0)).toBe(false);
    book.record(idOf(1), 'rpc_timeout', T0);
    expect(book.isBad(idOf(1), T0)).toBe(true);
  });

  it('marks a busy, long-good peer bad after one invalid value (standing is forfeited)', () => {
    const book = new ReputationBook();
    const t = recordMany(book, idOf(1), 'rpc_ok', 10_000, T0, 1000);
    expect(book.isTrusted(idOf(1), t)).toBe(true);
    book.record(idOf(1), 'invalid_value', t);
    expect(book.isBad(idOf(1), t)).toBe(true);
  });

  it('drops a long-good peer out of trust after one failed audit, and makes it bad after a second', () => {
    const book = new ReputationBook();
    const t = recordMany(book, idOf(1), 'audit_pass', 100, T0);
    book.record(idOf(1), 'audit_fail', t);
    expect(book.isTrusted(idOf(1), t)).toBe(false);
    expect(book.isBad(idOf(1), t)).toBe(false);
    book.record(idOf(1), 'audit_fail', t);
    expect(book.isBad(idOf(1), t)).toBe(true);
  });
});

describe('ReputationBook: decay and the evidence cap', () => {
  it('halves evidence every half-life', () => {
    const book = new ReputationBook({ halfLife: 1000 });
    recordMany(book, idOf(1), 'rpc_timeout', 8, T0);
    expect(book.score(idOf(1), T0)).toBeCloseTo(1 / 10, 12);
    expect(book.score(idOf(1), T0 + 1000)).toBeCloseTo(1 / 6, 12);
    expect(book.score(idOf(1), T0 + 2000)).toBeCloseTo(1 / 4, 12);
  });

  it('defaults the half-life to one hour', () => {
    const book = new ReputationBook();
    expect(book.halfLife).toBe(DEFAULT_HALF_LIFE);
    expect(DEFAULT_HALF_LIFE).toBe(H);
    book.record(idOf(1), 'audit_fail', T0);
    expect(book.score(idOf(1), T0 + H)).toBeCloseTo(1 / 6, 12);
  });

  it('lets a poisoner recover toward neutral only after several half-lives', () => {
    const book = new ReputationBook();
    book.record(idOf(1), 'invalid_value', T0);
    expect(book.isBad(idOf(1), T0 + 2.5 * H)).toBe(true);
    expect(book.isBad(idOf(1), T0 + 3 * H)).toBe(false);
    expect(book.score(idOf(1), T0 + 10 * H)).toBeGreaterThan(0.49);
    expect(book.score(idOf(1), T0 + 10 * H)).toBeLessThan(NEUTRAL_SCORE);
  });

  it('lets a trusted peer fade back toward neutral when it goes quiet', () => {
    const book = new ReputationBook();
    recordMany(book, idOf(1), 'rpc_ok', 50, T0);
    expect(book.isTrusted(idOf(1), T0 + 3 * H)).toBe(true);
    expect(book.isTrusted(idOf(1), T0 + 10 * H)).toBe(false);
    expect(book.score(idOf(1), T0 + 20 * H)).toBeGreaterThan(NEUTRAL_SCORE);
  });

  it('does not decay when now runs backwards, and keeps the latest time', () => {
    const book = new ReputationBook({ halfLife: 1000 });
    book.record(idOf(1), 'audit_fail', T0);
    expect(book.score(idOf(1), T0 - 5000)).toBeCloseTo(1 / 10, 12);
    book.record(idOf(1), 'store_full', T0 - 5000);
    expect(book.score(idOf(1), T0 + 1000)).toBeCloseTo(1 / 6, 12);
  });

  it('caps total evidence but keeps the success ratio of a busy peer', () => {
    const book = new ReputationBook({ maxEvidence: 100 });
    let t = T0;
    for (let i = 0; i < 5000; i++, t += 100) book.record(idOf(1), i % 10 === 0 ? 'rpc_timeout' : 'rpc_ok', t);
    const s = book.score(idOf(1), t);
    expect(s).toBeGreaterThan(0.85);
    expect(s).toBeLessThan(0.92);
    expect(book.isTrusted(idOf(1), t)).toBe(true);
  });

  it('lets a capped peer that starts failing lose trust quickly', () => {
    const book = new ReputationBook();
    const t = recordMany(book, idOf(1), 'rpc_ok', 10_000, T0, 100);
    recordMany(book, idOf(1), 'rpc_timeout', 40, t, 100);
    expect(book.isTrusted(idOf(1), t + 4000)).toBe(false);
  });
});

describe('ReputationBook: memory bound, listing, counters', () => {
  it('evicts the least recently updated peer beyond maxPeers and counts it', () => {
    const book = new ReputationBook({ maxPeers: 3 });
    for (let i = 1; i <= 3; i++) book.record(idOf(i), 'rpc_ok', T0 + i);
    book.record(idOf(1), 'rpc_ok', T0 + 10);
    book.score(idOf(2), T0 + 11);
    book.get(idOf(2), T0 + 11);
    book.record(idOf(4), 'rpc_ok', T0 + 12);
    expect(book.size).toBe(3);
    expect(book.get(idOf(2), T0 + 12)).toBeUndefined();
    expect(book.list(T0 + 12).map((p) => p.id).sort()).toEqual([idOf(1), idOf(3), idOf(4)].map(hex).sort());
    expect(book.stats().evicted).toBe(1);
  });

  it('never holds more than maxPeers over many peers', () => {
    const book = new ReputationBook({ maxPeers: 50 });
    for (let i = 0; i < 1000; i++) {
      const id = new Uint8Array(32) as NodeId;
      new DataView(id.buffer).setUint32(0, i);
      book.record(id, 'rpc_ok', T0 + i);
      expect(book.size).toBeLessThanOrEqual(50);
    }
    expect(book.stats()).toMatchObject({ peers: 50, evicted: 950 });
  });

  it('lists highest score first, ties by id, and honours limit', () => {
    const book = new ReputationBook();
    book.record(idOf(3), 'rpc_ok', T0);
    book.record(idOf(1), 'audit_fail', T0);
    recordMany(book, idOf(2), 'audit_pass', 5, T0);
    book.record(idOf(5), 'rpc_ok', T0);
    book.record(idOf(4), 'store_full', T0);
    const list = book.list(T0);
    expect(list.map((p) => p.id)).toEqual([2, 3, 5, 4, 1].map((b) => hex(idOf(b))));
    for (let i = 1; i < list.length; i++) expect(list[i - 1]!.score).toBeGreaterThanOrEqual(list[i]!.score);
    expect(book.list(T0, 2).map((p) => p.id)).toEqual([hex(idOf(2)), hex(idOf(3))]);
    expect(book.list(T0, 0)).toEqual([]);
  });

  it('reports per-peer lifetime counts and last update', () => {
    const book = new ReputationBook();
    recordMany(book, idOf(1), 'rpc_ok', 3, T0);
    book.record(idOf(1), 'audit_pass', T0 + 7);
    const rep = book.get(idOf(1), T0 + 7);
    expect(rep).toMatchObject({ id: hex(idOf(1)), lastUpdate: T0 + 7 });
    expect(rep?.events).toEqual({ ...Object.fromEntries(REPUTATION_EVENTS.map((e) => [e, 0])), rpc_ok: 3, audit_pass: 1 });
  });

  it('counts events across the book, including forgotten peers, and bad peers', () => {
    const book = new ReputationBook();
    recordMany(book, idOf(1), 'rpc_ok', 4, T0);
    book.record(idOf(2), 'invalid_value', T0);
    book.record(idOf(3), 'audit_fail', T0);
    book.record(idOf(3), 'store_full', T0);
    book.forget(idOf(1));
    const stats = book.stats(T0);
    expect(stats).toMatchObject({ peers: 2, bad: 2, evicted: 0 });
    expect(stats.events).toMatchObject({ rpc_ok: 4, invalid_value: 1, audit_fail: 1, store_full: 1, rpc_timeout: 0 });
    expect(book.get(idOf(1), T0)).toBeUndefined();
    expect(book.score(idOf(1), T0)).toBe(NEUTRAL_SCORE);
  });

  it('counts bad peers at now, and at their last update when now is omitted', () => {
    const book = new ReputationBook();
    book.record(idOf(1), 'audit_fail', T0);
    expect(book.stats().bad).toBe(1);
    expect(book.stats(T0 + 2 * H).bad).toBe(0);
  });
});

describe('ReputationBook: argument checks', () => {
  it.each([
    [{ halfLife: 0 }, 'options.halfLife must be a positive finite number'],
    [{ halfLife: Number.POSITIVE_INFINITY }, 'options.halfLife must be a positive finite number'],
    [{ maxPeers: 1.5 }, 'options.maxPeers must be a positive integer'],
    [{ maxPeers: 0 }, 'options.maxPeers must be a positive integer'],
    [{ maxEvidence: -1 }, 'options.maxEvidence must be a positive finite number'],
  ])('rejects %o', (init, message) => {
    expect(() => new ReputationBook(init)).toThrow(new RangeError(message));
  });

  it('rejects a bad id, event, time or limit', () => {
    const book = new ReputationBook();
    expect(() => book.record(new Uint8Array(31) as NodeId, 'rpc_ok', T0)).toThrow(TypeError);
    expect(() => book.record(idOf(1), 'nope' as ReputationEvent, T0)).toThrow(TypeError);
    expect(() => book.record(idOf(1), 'rpc_ok', Number.NaN)).toThrow(RangeError);
    expect(() => book.score(idOf(1), Number.POSITIVE_INFINITY)).toThrow(RangeError);
    expect(() => book.list(T0, -1)).toThrow(new RangeError('limit must be a non-negative integer'));
    expect(book.size).toBe(0);
    expect(book.stats().events.rpc_ok).toBe(0);
  });
});

describe('ReputationBook: properties', () => {
  const eventArb = fc.constantFrom(...REPUTATION_EVENTS);
  const stepArb = fc.record({ event: eventArb, dt: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 4 * H })) });
  const initArb = fc.record({ halfLife: fc.integer({ min: 1, max: 2 * H }), maxEvidence: fc.constantFrom(1, 5, 100, 1e6) });
  // The cap rescales a and b, which can cost an ulp; monotonicity is asserted up to that.
  const EPS = 1e-12;

  const isPositive = (e: ReputationEvent): boolean => {
    const w = EVENT_WEIGHTS[e];
    return w.positive > 0 && w.negative === 0 && w.forfeit === 0;
  };
  const isNegative = (e: ReputationEvent): boolean => {
    const w = EVENT_WEIGHTS[e];
    return w.positive === 0 && (w.negative > 0 || w.forfeit > 0);
  };

  it('keeps the score in [0, 1]; a positive event never lowers it, a negative never raises it', () => {
    fc.assert(fc.property(initArb, fc.array(stepArb, { maxLength: 60 }), (init, steps) => {
      const book = new ReputationBook(init);
      const id = idOf(7);
      let now = T0;
      for (const { event, dt } of steps) {
        now += dt;
        const before = book.score(id, now);
        book.record(id, event, now);
        const after = book.score(id, now);
        expect(after).toBeGreaterThanOrEqual(0);
        expect(after).toBeLessThanOrEqual(1);
        if (isPositive(event)) expect(after).toBeGreaterThanOrEqual(before - EPS);
        else if (isNegative(event)) expect(after).toBeLessThanOrEqual(before + EPS);
        else expect(after).toBeCloseTo(before, 12);
      }
    }), { numRuns: RUNS });
  });

  it('classifies every event as positive, negative or neutral', () => {
    for (const e of REPUTATION_EVENTS) {
      const w = EVENT_WEIGHTS[e];
      const neutral = w.positive === 0 && w.negative === 0 && w.forfeit === 0;
      expect([isPositive(e), isNegative(e), neutral].filter(Boolean)).toHaveLength(1);
    }
  });

  it('is deterministic: the same events at the same times give the same scores', () => {
    fc.assert(fc.property(initArb, fc.array(stepArb, { maxLength: 40 }), (init, steps) => {
      const x = new ReputationBook(init);
      const y = new ReputationBook(init);
      let now = T0;
      for (const { event, dt } of steps) {
        now += dt;
        x.record(idOf(1), event, now);
        y.record(idOf(1), event, now);
      }
      expect(x.list(now + H)).toEqual(y.list(now + H));
    }), { numRuns: RUNS });
  });

  it('drifts toward neutral, never across it, as time passes without events', () => {
    fc.assert(fc.property(fc.array(stepArb, { minLength: 1, maxLength: 30 }), fc.integer({ min: 1, max: 20 * H }), (steps, wait) => {
      const book = new ReputationBook();
      let now = T0;
      for (const { event, dt } of steps) book.record(idOf(1), event, (now += dt));
      const s0 = book.score(idOf(1), now);
      const s1 = book.score(idOf(1), now + wait);
      expect(Math.abs(s1 - NEUTRAL_SCORE)).toBeLessThanOrEqual(Math.abs(s0 - NEUTRAL_SCORE) + EPS);
      expect(Math.sign(s1 - NEUTRAL_SCORE) * Math.sign(s0 - NEUTRAL_SCORE)).toBeGreaterThanOrEqual(0);
    }), { numRuns: RUNS });
  });

  it('keeps the trusted threshold above neutral above bad', () => {
    expect(TRUST_THRESHOLD).toBeGreaterThan(NEUTRAL_SCORE);
    expect(NEUTRAL_SCORE).toBeGreaterThan(BAD_THRESHOLD);
  });
});
