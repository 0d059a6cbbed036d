import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AcceptResult, FRAGMENT_DATA_BYTES, FRAGMENT_HEADER_BYTES, FRAME_FRAGMENT, FRAME_WHOLE, MAX_WHOLE_MESSAGE, Reassembly,
  datagramCount, encodeFragment, encodeMessage, framedBytes, parseFrame,
} from '../../src/transport/index.js';
import { DATAGRAM_PAYLOAD, MAX_MESSAGE_BYTES, ManualClock } from '../../src/util/index.js';
import { patternBytes, sameBytes } from './helpers.js';

const RUNS = process.env.SLOW === '1' ? 100_000 : 2_000;

describe('frame encoding', () => {
  it('sends a message of up to 1,199 bytes as one whole frame that parses back to it', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 1, maxLength: MAX_WHOLE_MESSAGE }), (message) => {
      const datagrams = encodeMessage(message, 0);
      expect(datagrams).toHaveLength(1);
      expect(datagrams[0]!.byteLength).toBeLessThanOrEqual(DATAGRAM_PAYLOAD);
      const frame = parseFrame(datagrams[0]!);
      expect(frame).toEqual({ kind: 'whole', message });
    }), { numRuns: RUNS });
  });

  it('splits a longer message into fragments of 1,191 data bytes (the last shorter) that reassemble exactly', () => {
    const lengths = fc.oneof(fc.integer({ min: MAX_WHOLE_MESSAGE + 1, max: 20_000 }), fc.constant(MAX_MESSAGE_BYTES));
    fc.assert(fc.property(lengths, fc.integer({ min: 0, max: 0xffffffff }), (length, id) => {
      const message = patternBytes(length, length);
      const datagrams = encodeMessage(message, id);
      expect(datagrams).toHaveLength(Math.ceil(length / FRAGMENT_DATA_BYTES));
      const reassembly = new Reassembly({ clock: new ManualClock() });
      const layout: string[] = [];
      let result: AcceptResult | null = null;
      for (const [i, d] of datagrams.entries()) {
        const frame = parseFrame(d);
        if (frame?.kind !== 'fragment') throw new Error('expected a fragment frame');
        const last = i === datagrams.length - 1;
        const ok = d.byteLength <= DATAGRAM_PAYLOAD && frame.messageId === id && frame.index === i
          && frame.count === datagrams.length && (last || frame.data.byteLength === FRAGMENT_DATA_BYTES);
        if (!ok) layout.push(`datagram ${i}: ${d.byteLength} B, ${JSON.stringify({ ...frame, data: frame.data.byteLength })}`);
        result = reassembly.accept('peer', frame);
      }
      expect(layout).toEqual([]);
      expect(result?.status).toBe('complete');
      expect(sameBytes(result?.status === 'complete' ? result.message : null, message)).toBe('');
    }), { numRuns: 50 });
  });

  it('counts datagrams and framed bytes at the whole/fragment boundary', () => {
    expect(datagramCount(MAX_WHOLE_MESSAGE)).toBe(1);
    expect(framedBytes(MAX_WHOLE_MESSAGE)).toBe(DATAGRAM_PAYLOAD);
    expect(datagramCount(MAX_WHOLE_MESSAGE + 1)).toBe(2);
    expect(framedBytes(MAX_WHOLE_MESSAGE + 1)).toBe(MAX_WHOLE_MESSAGE + 1 + 2 * FRAGMENT_HEADER_BYTES);
    expect(datagramCount(MAX_MESSAGE_BYTES)).toBe(224);
  });

  it('rejects header fields out of their ranges with a RangeError naming the field', () => {
    expect(() => encodeFragment(2 ** 32, 0, 1, Uint8Array.of(1))).toThrow(/messageId/);
    expect(() => encodeFragment(0, 65_536, 1, Uint8Array.of(1))).toThrow(/index/);
    expect(() => encodeFragment(0, 0, -1, Uint8Array.of(1))).toThrow(/count/);
    expect(() => encodeMessage(new Uint8Array(0), 0)).toThrow(RangeError);
  });
});

describe('frame parsing', () => {
  it('never throws on random bytes and returns a frame only for a known kind', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 1_500 }), (bytes) => {
      const frame = parseFrame(bytes);
      if (frame === null) return;
      expect(bytes[0]).toBe(frame.kind === 'whole' ? FRAME_WHOLE : FRAME_FRAGMENT);
    }), { numRuns: RUNS });
  });

  it('returns null for every unknown kind byte', () => {
    for (let kind = 0; kind < 256; kind++) {
      if (kind === FRAME_WHOLE || kind === FRAME_FRAGMENT) continue;
      expect(parseFrame(Uint8Array.of(kind, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10))).toBeNull();
    }
  });

  it('returns null for an empty datagram, an empty whole frame and a truncated fragment header', () => {
    expect(parseFrame(new Uint8Array(0))).toBeNull();
    expect(parseFrame(Uint8Array.of(FRAME_WHOLE))).toBeNull();
    for (let n = 1; n < FRAGMENT_HEADER_BYTES; n++) expect(parseFrame(new Uint8Array(n).fill(FRAME_FRAGMENT, 0, 1))).toBeNull();
  });

  it('leaves layout checks to reassembly: a header-only fragment or an index beyond the count still parses', () => {
    expect(parseFrame(encodeFragment(1, 0, 1, new Uint8Array(0)))).toMatchObject({ kind: 'fragment', data: new Uint8Array(0) });
    expect(parseFrame(encodeFragment(1, 9, 3, Uint8Array.of(7)))).toMatchObject({ index: 9, count: 3 });
  });
});
