import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AcceptResult, DEFAULT_REASSEMBLY_LIMITS, FRAGMENT_DATA_BYTES, type FragmentFrame, Reassembly, type ReassemblyLimits,
  encodeMessage, parseFrame,
} from '../../src/transport/index.js';
import { MAX_MESSAGE_BYTES, MiB, ManualClock, REASSEMBLY_TIMEOUT } from '../../src/util/index.js';
import { patternBytes, sameBytes } from './helpers.js';

function frag(messageId: number, index: number, count: number, data: Uint8Array | number): FragmentFrame {
  return { kind: 'fragment', messageId, index, count, data: typeof data === 'number' ? patternBytes(data, index + 1) : data };
}

function fragmentsOf(message: Uint8Array, id: number): FragmentFrame[] {
  return encodeMessage(message, id).map((d) => {
    const f = parseFrame(d);
    if (f?.kind !== 'fragment') throw new Error('expected fragments');
    return f;
  });
}

function setup(limits: Partial<ReassemblyLimits> = {}): { clock: ManualClock; r: Reassembly } {
  const clock = new ManualClock(1_000);
  return { clock, r: new Reassembly({ clock }, limits) };
}

function completed(result: AcceptResult): Uint8Array | null {
  return result.status === 'complete' ? result.message : null;
}

const ZERO_DROPS = {
  fragment_invalid: 0, fragment_duplicate: 0, reassembly_peer_limit: 0, reassembly_total_limit: 0, reassembly_timeout: 0,
};

describe('Reassembly: complete messages', () => {
  it('rebuilds a message whose fragments arrive out of order, and frees its buffer', () => {
    const { r } = setup();
    const message = patternBytes(6_000, 9);
    const parts = fragmentsOf(message, 42);
    const order = [3, 0, 5, 1, 4, 2];
    const results = order.map((i) => r.accept('10.0.0.1:1', parts[i]!));
    expect(results.slice(0, -1).every((x) => x.status === 'pending')).toBe(true);
    expect(sameBytes(completed(results.at(-1)!), message)).toBe('');
    expect(r.stats()).toEqual({ partials: 0, bytes: 0, peakBytes: 6_000, reassembled: 1, drops: ZERO_DROPS });
  });

  it('rebuilds a message of exactly the maximum size', () => {
    const { r } = setup();
    const message = patternBytes(MAX_MESSAGE_BYTES, 1);
    let last: AcceptResult = { status: 'pending' };
    for (const f of fragmentsOf(message, 7).reverse()) last = r.accept('p', f);
    expect(sameBytes(completed(last), message)).toBe('');
  });

  it('drops a duplicate fragment and still completes the message once', () => {
    const { r } = setup();
    const message = patternBytes(3_000, 2);
    const [a, b, c] = fragmentsOf(message, 1);
    r.accept('p', a!);
    expect(r.accept('p', a!)).toEqual({ status: 'dropped', reason: 'fragment_duplicate' });
    r.accept('p', b!);
    expect(sameBytes(completed(r.accept('p', c!)), message)).toBe('');
    expect(r.accept('p', c!).status).toBe('pending'); // a late copy opens a new partial that will expire
    expect(r.stats().drops.fragment_duplicate).toBe(1);
  });

  it('returns a copy that does not alias the fragments it was given', () => {
    const { r } = setup();
    const data = patternBytes(600, 3);
    r.accept('p', frag(5, 0, 2, data));
    const out = completed(r.accept('p', frag(5, 1, 2, 10)))!;
    data.fill(0);
    expect(out.subarray(0, 600)).toEqual(patternBytes(600, 3));
  });
});

describe('Reassembly: malformed fragments are dropped as fragment_invalid', () => {
  const cases: [string, FragmentFrame[]][] = [
    ['an empty fragment', [frag(1, 0, 2, 0)]],
    ['a count of zero', [frag(1, 0, 0, 600)]],
    ['an index beyond the count', [frag(1, 3, 3, 600)]],
    ['an index of 65535 with a count of 1', [frag(1, 0xffff, 1, 600)]],
    ['a count whose fragments overflow the message limit', [frag(1, 0, 0xffff, FRAGMENT_DATA_BYTES)]],
    ['a last fragment whose count implies more than the limit', [frag(1, 999, 1_000, 1)]],
    ['a fragment that is not the last but is shorter than the floor', [frag(1, 0, 3, 511)]],
    ['the same message id with another count', [frag(1, 0, 3, 600), frag(1, 1, 4, 600)]],
    ['overlapping layouts: a second stride for the same message', [frag(1, 0, 3, 1_000), frag(1, 1, 3, 800)]],
    ['a last fragment longer than the stride', [frag(1, 0, 3, 600), frag(1, 2, 3, 601)]],
    ['a stride shorter than the last fragment seen first', [frag(1, 2, 3, 700), frag(1, 0, 3, 600)]],
  ];
  for (const [name, frames] of cases) {
    it(`drops ${name}`, () => {
      const { r } = setup();
      const results = frames.map((f) => r.accept('p', f));
      expect(results.at(-1)).toEqual({ status: 'dropped', reason: 'fragment_invalid' });
      expect(r.stats().drops).toEqual({ ...ZERO_DROPS, fragment_invalid: 1 });
      expect(r.stats().partials).toBe(frames.length - 1);
    });
  }

  it('drops a last fragment that pushes the known layout past the limit, accepting one that fits exactly', () => {
    const { r } = setup({ maxMessageBytes: 2_000 });
    r.accept('p', frag(1, 0, 2, 1_191));
    expect(r.accept('p', frag(1, 1, 2, 810))).toEqual({ status: 'dropped', reason: 'fragment_invalid' });
    expect(completed(r.accept('p', frag(1, 1, 2, 809)))?.byteLength).toBe(2_000);
  });

  it('keeps the partial message after an invalid fragment, so the valid ones still complete it', () => {
    const { r } = setup();
    const message = patternBytes(2_500, 4);
    const [a, b, c] = fragmentsOf(message, 8);
    r.accept('p', a!);
    expect(r.accept('p', frag(8, 1, 3, 700)).status).toBe('dropped');
    r.accept('p', c!);
    expect(sameBytes(completed(r.accept('p', b!)), message)).toBe('');
  });
});

describe('Reassembly: sources and limits', () => {
  it('never merges partials of the same message id from two sources', () => {
    const { r } = setup();
    const fromA = patternBytes(1_200, 10);
    const fromB = patternBytes(1_200, 20);
    const [a0, a1] = fragmentsOf(fromA, 7);
    const [b0, b1] = fragmentsOf(fromB, 7);
    expect(r.accept('10.0.0.1:4000', a0!).status).toBe('pending');
    expect(r.accept('10.0.0.2:4000', b1!).status).toBe('pending');
    expect(sameBytes(completed(r.accept('10.0.0.1:4000', a1!)), fromA)).toBe('');
    expect(r.stats().partials).toBe(1);
    expect(sameBytes(completed(r.accept('10.0.0.2:4000', b0!)), fromB)).toBe('');
  });

  it('holds at most 64 partial messages per source; other sources are unaffected', () => {
    const { r } = setup();
    const results = Array.from({ length: 65 }, (_, id) => r.accept('p', frag(id, 0, 2, 600)));
    expect(results.filter((x) => x.status === 'pending')).toHaveLength(64);
    expect(results[64]).toEqual({ status: 'dropped', reason: 'reassembly_peer_limit' });
    expect(r.accept('q', frag(0, 0, 2, 600)).status).toBe('pending');
  });

  it('caps buffered bytes per source, and frees the budget when a message completes', () => {
    const { r } = setup({ perPeerBytes: 2_000 });
    expect(r.accept('p', frag(1, 0, 3, 1_000)).status).toBe('pending');
    expect(r.accept('p', frag(2, 0, 3, 1_000)).status).toBe('pending');
    expect(r.accept('p', frag(1, 1, 3, 1_000))).toEqual({ status: 'dropped', reason: 'reassembly_peer_limit' });
    expect(r.accept('q', frag(1, 0, 3, 1_000)).status).toBe('pending');
    expect(r.stats().bytes).toBe(3_000);
  });

  it('caps buffered bytes and partial messages over all sources', () => {
    const { r } = setup({ totalBytes: 2_500, totalMessages: 3 });
    expect(r.accept('a', frag(1, 0, 3, 1_000)).status).toBe('pending');
    expect(r.accept('b', frag(1, 0, 3, 1_000)).status).toBe('pending');
    expect(r.accept('c', frag(1, 0, 3, 1_000))).toEqual({ status: 'dropped', reason: 'reassembly_total_limit' });
    expect(r.accept('c', frag(1, 2, 3, 500)).status).toBe('pending');
    expect(r.accept('d', frag(1, 2, 3, 1))).toEqual({ status: 'dropped', reason: 'reassembly_total_limit' });
    expect(r.stats()).toMatchObject({ partials: 3, bytes: 2_500, peakBytes: 2_500 });
  });

  it('frees a partial message at its deadline (sweep) and counts it as reassembly_timeout', () => {
    const { clock, r } = setup();
    r.accept('p', frag(1, 0, 2, 600));
    expect(r.nextDeadline()).toBe(clock.now() + REASSEMBLY_TIMEOUT);
    clock.advance(REASSEMBLY_TIMEOUT - 1);
    expect(r.sweep()).toBe(0);
    clock.advance(1);
    expect(r.sweep()).toBe(1);
    expect(r.stats()).toMatchObject({ partials: 0, bytes: 0, drops: { ...ZERO_DROPS, reassembly_timeout: 1 } });
    expect(r.nextDeadline()).toBeNull();
  });

  it('expires lazily too: a fragment arriving after the deadline starts a new partial', () => {
    const { clock, r } = setup({ timeout: 100 });
    r.accept('p', frag(1, 0, 2, 600));
    clock.advance(100);
    expect(r.accept('p', frag(1, 1, 2, 10)).status).toBe('pending');
    expect(r.stats()).toMatchObject({ partials: 1, bytes: 10, drops: { reassembly_timeout: 1 } });
  });

  it('rejects limits that are not positive integers, naming the limit', () => {
    const clock = new ManualClock();
    expect(() => new Reassembly({ clock }, { perPeerMessages: 0 })).toThrow('limits.perPeerMessages must be a positive integer');
    expect(() => new Reassembly({ clock }, { timeout: 1.5 })).toThrow('limits.timeout must be a positive integer');
    expect(() => new Reassembly({ clock }, { minFragmentBytes: 1_192 })).toThrow('limits.minFragmentBytes must be at most 1191');
  });
});

describe('Reassembly: properties', () => {
  it('rebuilds any message from its fragments in any order, with duplicates mixed in', () => {
    const arrival = fc.integer({ min: 1_200, max: 30_000 }).chain((length) => {
      const count = Math.ceil(length / FRAGMENT_DATA_BYTES);
      return fc.tuple(fc.constant(length), fc.shuffledSubarray([...Array(count).keys()], { minLength: count }),
        fc.array(fc.nat(count - 1), { maxLength: 5 }));
    });
    fc.assert(fc.property(arrival, ([length, order, duplicated]) => {
      const { r } = setup();
      const message = patternBytes(length, length);
      const parts = fragmentsOf(message, 3);
      // A duplicate follows its original, never the fragment that completes the message.
      const sequence = order.flatMap((i, n) => (n < order.length - 1 && duplicated.includes(i) ? [i, i] : [i]));
      const results = sequence.map((i) => r.accept('p', parts[i]!));
      expect(results.slice(0, -1).every((x) => x.status !== 'complete')).toBe(true);
      expect(sameBytes(completed(results.at(-1)!), message)).toBe('');
      expect(r.stats().drops.fragment_duplicate).toBe(sequence.length - order.length);
    }), { numRuns: 200 });
  });

  it('never throws on arbitrary fragments, stays within its caps, and frees everything at the timeout', () => {
    const fragment = fc.record({
      source: fc.constantFrom('a', 'b', 'c'), messageId: fc.nat(4), index: fc.nat(70), count: fc.nat(70),
      length: fc.oneof(fc.nat(4), fc.integer({ min: 500, max: 1_300 })),
    });
    const limits = { totalBytes: 20_000, perPeerBytes: 10_000, perPeerMessages: 3, totalMessages: 6, maxMessageBytes: 30_000 };
    fc.assert(fc.property(fc.array(fragment, { maxLength: 200 }), (frames) => {
      const { clock, r } = setup(limits);
      for (const f of frames) {
        r.accept(f.source, frag(f.messageId, f.index, f.count, f.length));
        const s = r.stats();
        if (s.bytes > limits.totalBytes || s.partials > limits.totalMessages) throw new Error(`over a cap: ${JSON.stringify(s)}`);
      }
      clock.advance(REASSEMBLY_TIMEOUT);
      r.sweep();
      expect(r.stats()).toMatchObject({ partials: 0, bytes: 0 });
    }), { numRuns: 500 });
  });
});

describe('Reassembly: 10,000 partial messages that never complete (T03)', () => {
  it('stays within 1 MiB and 64 per source, then frees everything at the timeout', () => {
    const { clock, r } = setup({ totalBytes: 1 * MiB });
    const perSource = new Map<string, number>();
    let dropped = 0;
    for (let i = 0; i < 10_000; i++) {
      const source = `10.0.${i % 100}.1:4000`;
      const result = r.accept(source, frag(i, 0, 100, FRAGMENT_DATA_BYTES));
      if (result.status === 'pending') perSource.set(source, (perSource.get(source) ?? 0) + 1);
      else dropped++;
    }
    const stats = r.stats();
    const held = stats.partials;
    expect(stats.peakBytes).toBeLessThanOrEqual(1 * MiB);
    expect(Math.max(...perSource.values())).toBeLessThanOrEqual(64);
    expect(held).toBe(Math.floor(MiB / FRAGMENT_DATA_BYTES));
    expect(dropped).toBe(10_000 - held);
    expect(stats.drops.reassembly_total_limit + stats.drops.reassembly_peer_limit).toBe(dropped);
    clock.advance(REASSEMBLY_TIMEOUT - 1);
    expect(r.sweep()).toBe(0);
    clock.advance(1);
    expect(r.sweep()).toBe(held);
    expect(r.stats()).toMatchObject({ partials: 0, bytes: 0, drops: { reassembly_timeout: held } });
  });

  it('hits the per-source cap first when one source opens them all', () => {
    const { r } = setup();
    for (let i = 0; i < 10_000; i++) r.accept('203.0.113.9:4000', frag(i, 0, 100, FRAGMENT_DATA_BYTES));
    expect(r.stats()).toMatchObject({ partials: 64, bytes: 64 * FRAGMENT_DATA_BYTES, drops: { reassembly_peer_limit: 10_000 - 64 } });
  });

  it('bounds partials made of 1-byte fragments by the total message cap, not only by bytes', () => {
    const { r } = setup();
    for (let i = 0; i < 20_000; i++) r.accept(`s${i}`, frag(1, 1, 2, 1));
    const cap = DEFAULT_REASSEMBLY_LIMITS.totalMessages;
    expect(r.stats()).toMatchObject({ partials: cap, bytes: cap, drops: { reassembly_total_limit: 20_000 - cap } });
  });
});
