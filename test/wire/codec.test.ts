import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Contact, Id } from '../../src/id/index.js';
import { decode, encode, type Message, ValueKind, WIRE_LIMITS } from '../../src/wire/index.js';

const RUNS = process.env.SLOW === '1' ? 100_000 : 5_000;

const id = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => b as Id);
const ipv4 = fc.ipV4();
const ipv6 = fc.tuple(fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 8, maxLength: 8 }))
  .map(([g]) => g.map((x) => x.toString(16)).join(':'));
const host = fc.oneof(ipv4, ipv6);
const port = fc.integer({ min: 1, max: 0xffff });
const contact: fc.Arbitrary<Contact> = fc.record({ id, host, port });
const contacts = fc.uniqueArray(contact, {
  maxLength: WIRE_LIMITS.maxContacts,
  selector: (c) => Buffer.from(c.id).toString('hex'),
});
const header = {
  tid: fc.integer({ min: 0, max: WIRE_LIMITS.maxTid }),
  sender: id,
  flags: fc.constantFrom(0, 1),
};
const value = fc.uint8Array({ maxLength: 2048 });
/** A write token: empty (the sender stores nothing) or exactly WIRE_LIMITS.tokenBytes. */
const token = fc.oneof(
  fc.constant(new Uint8Array(0)),
  fc.uint8Array({ minLength: WIRE_LIMITS.tokenBytes, maxLength: WIRE_LIMITS.tokenBytes }),
);

const message: fc.Arbitrary<Message> = fc.oneof(
  fc.record({ type: fc.constant('PING' as const), ...header }),
  fc.record({ type: fc.constant('PONG' as const), ...header, observed: fc.record({ host, port }) }),
  fc.record({ type: fc.constant('FIND_NODE' as const), ...header, target: id }),
  fc.record({ type: fc.constant('NODES' as const), ...header, contacts, token }),
  fc.record({ type: fc.constant('FIND_VALUE' as const), ...header, key: id, inline: fc.integer({ min: 0, max: WIRE_LIMITS.maxValueBytes }) }),
  fc.record({ type: fc.constant('VALUE' as const), ...header, value: fc.option(value, { nil: null }), contacts, token }),
  fc.record({ type: fc.constant('VALUE' as const), ...header, value: fc.constant(null), contacts, token, held: fc.integer({ min: 1, max: WIRE_LIMITS.maxValueBytes }) }),
  fc.record({
    type: fc.constant('STORE' as const), ...header, key: id, value,
    ttl: fc.integer({ min: 1, max: WIRE_LIMITS.maxTtlSeconds }), token,
  }),
  fc.record({ type: fc.constant('STORED' as const), ...header }),
  fc.record({
    type: fc.constant('GET_RECORD' as const), ...header,
    padding: fc.integer({ min: WIRE_LIMITS.minRecordRequestPadding, max: 2 * WIRE_LIMITS.minRecordRequestPadding }).map((n) => new Uint8Array(n)),
  }),
  fc.record({ type: fc.constant('RECORD' as const), ...header, record: fc.uint8Array({ maxLength: WIRE_LIMITS.maxRecordBytes }) }),
  fc.record({
    type: fc.constant('ERROR' as const), ...header,
    code: fc.integer({ min: 0, max: 0xffff }), message: fc.string({ maxLength: WIRE_LIMITS.maxErrorMessage }),
  }),
);

describe('wire codec', () => {
  it('decode(encode(m)) equals m for every valid message', () => {
    fc.assert(
      fc.property(message, (m) => {
        const back = decode(encode(m));
        expect(back).not.toBeNull();
        expect(back!.type).toBe(m.type);
        expect(back!.tid).toBe(m.tid);
        expect(Buffer.from(back!.sender)).toEqual(Buffer.from(m.sender));
        if ('token' in m) expect(Buffer.compare((back as typeof m).token, m.token)).toBe(0); // cheap: the re-encode below checks it too
        // Same bytes again: every field survived (IPv6 hosts may come back in canonical spelling).
        expect(Buffer.from(encode(back!))).toEqual(Buffer.from(encode(m)));
      }),
      { numRuns: RUNS },
    );
  });

  it('decode never throws on random bytes and returns a message or null', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 1500 }), (bytes) => {
        const m = decode(bytes);
        expect(m === null || typeof m.type === 'string').toBe(true);
      }),
      { numRuns: RUNS * 4 },
    );
  });

  it('every decoded mutant of a valid message re-encodes without error', () => {
    const mutant = fc.tuple(message, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }), fc.nat());
    let decoded = 0;
    fc.assert(
      fc.property(mutant, ([m, flips, cut]) => {
        const bytes = Buffer.from(encode(m));
        for (const [at, v] of flips) if (bytes.length > 0) bytes[at % bytes.length] = v;
        const truncated = bytes.subarray(0, bytes.length - (cut % 3));
        const back = decode(truncated);
        if (back !== null) {
          decoded++;
          expect(() => encode(back)).not.toThrow();
        }
      }),
      { numRuns: RUNS },
    );
    expect(decoded).toBeGreaterThan(0);
  });

  it('carries FIND_VALUE inline limits and VALUE held sizes, and rejects a VALUE both holding and sending', () => {
    const sender = new Uint8Array(32) as Id;
    const key = new Uint8Array(32).fill(3) as Id;
    const token = new Uint8Array(0);
    expect(decode(encode({ type: 'FIND_VALUE', tid: 1, sender, flags: 0, key }))).toMatchObject({ inline: WIRE_LIMITS.maxValueBytes });
    expect(decode(encode({ type: 'FIND_VALUE', tid: 1, sender, flags: 0, key, inline: 0 }))).toMatchObject({ inline: 0 });
    expect(decode(encode({ type: 'FIND_VALUE', tid: 1, sender, flags: 0, key, inline: WIRE_LIMITS.maxValueBytes + 1 }))).toBeNull();
    expect(decode(encode({ type: 'VALUE', tid: 2, sender, flags: 0, value: null, contacts: [], token, held: 262_144 }))).toMatchObject({ value: null, held: 262_144 });
    expect(decode(encode({ type: 'VALUE', tid: 2, sender, flags: 0, value: Uint8Array.of(1), contacts: [], token }))).toMatchObject({ held: 0 });
    expect(decode(encode({ type: 'VALUE', tid: 2, sender, flags: 0, value: Uint8Array.of(1), contacts: [], token, held: 1 }))).toBeNull();
    expect(decode(encode({ type: 'VALUE', tid: 2, sender, flags: 0, value: null, contacts: [], token, held: WIRE_LIMITS.maxValueBytes + 1 }))).toBeNull();
  });

  it('rejects a NODES answer with more than k contacts or duplicate ids', () => {
    const sender = new Uint8Array(32) as Id;
    const c: Contact = { id: new Uint8Array(32).fill(1) as Id, host: '127.0.0.1', port: 1 };
    const token = new Uint8Array(0);
    expect(decode(encode({ type: 'NODES', tid: 1, sender, flags: 0, contacts: [c], token }))).not.toBeNull();
    const many = Array.from({ length: WIRE_LIMITS.maxContacts + 1 }, (_, i) => ({ ...c, id: new Uint8Array(32).fill(i) as Id }));
    expect(() => encode({ type: 'NODES', tid: 1, sender, flags: 0, contacts: many, token })).toThrow(RangeError);
    const twice = encode({ type: 'NODES', tid: 1, sender, flags: 0, contacts: [c, { ...c, port: 2 }], token });
    expect(decode(twice)).toBeNull();
  });

  describe('write tokens in NODES, VALUE and STORE', () => {
    const sender = new Uint8Array(32).fill(7) as Id;
    const key = new Uint8Array(32).fill(9) as Id;
    const c: Contact = { id: new Uint8Array(32).fill(1) as Id, host: '127.0.0.1', port: 1 };
    const carrying = (token: Uint8Array): Message[] => [
      { type: 'NODES', tid: 1, sender, flags: 0, contacts: [c], token },
      { type: 'VALUE', tid: 2, sender, flags: 0, value: Uint8Array.of(1, 2), contacts: [], token },
      { type: 'VALUE', tid: 3, sender, flags: 0, value: null, contacts: [c], token },
      { type: 'STORE', tid: 4, sender, flags: 0, key, value: Uint8Array.of(3), ttl: 60, token },
    ];

    it.each([0, WIRE_LIMITS.tokenBytes])('accepts a token of %i bytes and returns it unchanged', (length) => {
      const token = Uint8Array.from({ length }, (_, i) => 0xa0 + i);
      for (const m of carrying(token)) {
        const back = decode(encode(m));
        expect(back, m.type).toMatchObject({ type: m.type, tid: m.tid });
        expect(Buffer.from((back as typeof m & { token: Uint8Array }).token)).toEqual(Buffer.from(token));
      }
    });

    it.each([1, WIRE_LIMITS.tokenBytes - 1, WIRE_LIMITS.tokenBytes + 1, 32, 255])('rejects a token of %i bytes', (length) => {
      for (const m of carrying(new Uint8Array(length).fill(0x5a))) expect(decode(encode(m)), m.type).toBeNull();
    });

    it('rejects a token that is not a byte string', () => {
      for (const bad of [null, 'x'.repeat(WIRE_LIMITS.tokenBytes), 16]) {
        for (const m of carrying(bad as unknown as Uint8Array)) expect(decode(encode(m)), `${m.type} with ${String(bad)}`).toBeNull();
      }
    });

    it('rejects a NODES, VALUE or STORE without its token field (the old field count)', () => {
      const token = new Uint8Array(WIRE_LIMITS.tokenBytes);
      for (const m of carrying(token)) {
        // Drop the trailing token (16 bytes + the 2-byte bin8 header) and shrink the array header.
        const bytes = Buffer.from(encode(m));
        const short = Buffer.from(bytes.subarray(0, bytes.length - (WIRE_LIMITS.tokenBytes + 2)));
        short[0] = bytes[0]! - 1;
        expect(decode(short), m.type).toBeNull();
      }
    });
  });

  it('carries every value kind in STORE, the ZK kind (3) included, and rejects unknown kinds and a cas outside kind 1', () => {
    const sender = new Uint8Array(32).fill(7) as Id;
    const key = new Uint8Array(32).fill(9) as Id;
    const store = (kind: number, cas: number | null = null): Message =>
      ({ type: 'STORE', tid: 5, sender, flags: 0, key, value: Uint8Array.of(0x98, 1), ttl: 60, token: new Uint8Array(0), kind, cas, replicas: 3 }) as Message;
    for (const kind of Object.values(ValueKind)) expect(decode(encode(store(kind))), `kind ${kind}`).toMatchObject({ type: 'STORE', kind, cas: null });
    expect(ValueKind.ZK).toBe(3);
    expect(decode(encode(store(4)))).toBeNull();
    expect(decode(encode(store(-1)))).toBeNull();
    expect(decode(encode(store(ValueKind.ZK, 2)))).toBeNull();
    expect(decode(encode(store(ValueKind.MUTABLE, 2)))).toMatchObject({ kind: ValueKind.MUTABLE, cas: 2 });
  });

  it('rejects a GET_RECORD without the anti-amplification padding and an oversized RECORD', () => {
    const sender = new Uint8Array(32) as Id;
    const short = encode({ type: 'GET_RECORD', tid: 1, sender, flags: 0, padding: new Uint8Array(WIRE_LIMITS.minRecordRequestPadding - 1) });
    expect(decode(short)).toBeNull();
    const big = encode({ type: 'RECORD', tid: 1, sender, flags: 0, record: new Uint8Array(WIRE_LIMITS.maxRecordBytes + 1) });
    expect(decode(big)).toBeNull();
  });

  it('rejects unknown versions, types, flags and wrong field counts', () => {
    const sender = new Uint8Array(32) as Id;
    const ok = Buffer.from(encode({ type: 'PING', tid: 7, sender, flags: 0 }));
    expect(decode(ok)).toMatchObject({ type: 'PING', tid: 7 });
    const badVersion = Buffer.from(ok); badVersion[1] = 2;
    expect(decode(badVersion)).toBeNull();
    const badType = Buffer.from(ok); badType[2] = 99;
    expect(decode(badType)).toBeNull();
    const badFlags = Buffer.from(ok); badFlags[badFlags.length - 1] = 0x7e;
    expect(decode(badFlags)).toBeNull();
    expect(decode(new Uint8Array(0))).toBeNull();
    expect(decode(new Uint8Array(WIRE_LIMITS.maxMessageBytes + 1).fill(0x95))).toBeNull();
  });
});
