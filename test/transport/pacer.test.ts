import { describe, expect, it } from 'vitest';
import { DEFAULT_BURST_DATAGRAMS, FRAGMENT_DATA_BYTES, SendPacer, parseFrame } from '../../src/transport/index.js';
import type { Address } from '../../src/util/index.js';
import { patternBytes } from './helpers.js';

const to: Address = { host: '127.0.0.1', port: 4000 };

/** A pacer whose turns run only when the test says so. */
function manualPacer(init: { burstDatagrams?: number; maxQueueBytes?: number } = {}) {
  const sent: { to: Address; datagram: Uint8Array }[] = [];
  let pending: (() => void) | null = null;
  const pacer = new SendPacer({
    emit: (dest, parts) => sent.push({ to: dest, datagram: Buffer.concat(parts) }),
    defer: (fn) => {
      pending = fn;
      return () => { pending = null; };
    },
  }, init);
  const turn = (): boolean => {
    const fn = pending;
    pending = null;
    fn?.();
    return fn !== null;
  };
  return { pacer, sent, turn, hasTurn: () => pending !== null };
}

describe('SendPacer', () => {
  it('writes at most 32 datagrams per event-loop turn by default', () => {
    const { pacer, sent, turn } = manualPacer();
    pacer.enqueue(to, patternBytes(100 * FRAGMENT_DATA_BYTES, 1), 5);
    const totals = [sent.length];
    while (totals.length < 10 && turn()) totals.push(sent.length);
    expect(DEFAULT_BURST_DATAGRAMS).toBe(32);
    expect(totals).toEqual([32, 64, 96, 100, 100]); // the last turn finds nothing and schedules none
    expect(pacer.bytes).toBe(0);
  });

  it('keeps FIFO order across messages, fragments in index order', () => {
    const { pacer, sent, turn } = manualPacer({ burstDatagrams: 3 });
    pacer.enqueue(to, patternBytes(5 * FRAGMENT_DATA_BYTES, 1), 1);
    pacer.enqueue({ host: '127.0.0.2', port: 1 }, patternBytes(100, 2), 2);
    pacer.enqueue(to, patternBytes(2 * FRAGMENT_DATA_BYTES, 3), 3);
    for (let i = 0; i < 10; i++) turn();
    const labels = sent.map(({ datagram }) => {
      const f = parseFrame(datagram);
      return f?.kind === 'fragment' ? `${f.messageId}.${f.index}` : 'whole';
    });
    expect(labels).toEqual(['1.0', '1.1', '1.2', '1.3', '1.4', 'whole', '3.0', '3.1']);
    expect(sent[5]!.to).toEqual({ host: '127.0.0.2', port: 1 });
  });

  it('sends a small message at once when the turn has budget left', () => {
    const { pacer, sent } = manualPacer();
    expect(pacer.enqueue(to, patternBytes(50, 1), 0)).toBe(true);
    expect(sent).toHaveLength(1);
  });

  it('refuses a message that would take the queue over its byte bound, and tracks the peak', () => {
    const { pacer, turn } = manualPacer({ burstDatagrams: 1, maxQueueBytes: 10_000 });
    expect(pacer.enqueue(to, patternBytes(8_000, 1), 1)).toBe(true);
    expect(pacer.bytes).toBe(8_000 - FRAGMENT_DATA_BYTES);
    expect(pacer.enqueue(to, patternBytes(4_000, 2), 2)).toBe(false);
    expect(pacer.enqueue(to, patternBytes(3_000, 3), 3)).toBe(true);
    expect(pacer.peakBytes).toBe(8_000 - FRAGMENT_DATA_BYTES + 3_000);
    for (let i = 0; i < 20; i++) turn();
    expect(pacer.bytes).toBe(0);
    expect(pacer.length).toBe(0);
  });

  it('clear() drops what is queued and cancels the pending turn', () => {
    const { pacer, sent, hasTurn } = manualPacer({ burstDatagrams: 1 });
    pacer.enqueue(to, patternBytes(3 * FRAGMENT_DATA_BYTES, 1), 1);
    pacer.enqueue(to, patternBytes(10, 2), 2);
    expect(hasTurn()).toBe(true);
    expect(pacer.clear()).toBe(2);
    expect(hasTurn()).toBe(false);
    expect(pacer.bytes).toBe(0);
    expect(sent).toHaveLength(1);
  });

  it('rejects pacing options that are not positive integers, naming the option', () => {
    const emit = (): void => {};
    expect(() => new SendPacer({ emit }, { burstDatagrams: 0 })).toThrow('pacing.burstDatagrams must be a positive integer');
    expect(() => new SendPacer({ emit }, { maxQueueBytes: -1 })).toThrow('pacing.maxQueueBytes must be a positive integer');
  });
});
