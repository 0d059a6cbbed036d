import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Contact, Id } from '../../src/id/index.js';
import { decode, encode, type Message, WIRE_LIMITS } from '../../src/wire/index.js';

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

const message: fc.Arbitrary<Message> = fc.oneof(
  fc.record({ type: fc.constant('PING' as const), ...header }),
  fc.record({ type: fc.constant('PONG' as const), ...header, observed: fc.record({ host, port }) }),
  fc.record({ type: fc.constant('FIND_NODE' as const), ...header, target: id }),
  fc.record({ type: fc.constant('NODES' as const), ...header, contacts }),
  fc.record({ type: fc.constant('FIND_VALUE' as const), ...header, key: id }),
  fc.record({ type: fc.constant('VALUE' as const), ...header, value: fc.option(value, { nil: null }), contacts }),
  fc.record({
    type: fc.constant('STORE' as const), ...header, key: id, value,
    ttl: fc.integer({ min: 1, max: WIRE_LIMITS.maxTtlSeconds }),
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

  it('rejects a NODES answer with more than k contacts or duplicate ids', () => {
    const sender = new Uint8Array(32) as Id;
    const c: Contact = { id: new Uint8Array(32).fill(1) as Id, host: '127.0.0.1', port: 1 };
    expect(decode(encode({ type: 'NODES', tid: 1, sender, flags: 0, contacts: [c] }))).not.toBeNull();
    const many = Array.from({ length: WIRE_LIMITS.maxContacts + 1 }, (_, i) => ({ ...c, id: new Uint8Array(32).fill(i) as Id }));
    expect(() => encode({ type: 'NODES', tid: 1, sender, flags: 0, contacts: many })).toThrow(RangeError);
    const twice = encode({ type: 'NODES', tid: 1, sender, flags: 0, contacts: [c, { ...c, port: 2 }] });
    expect(decode(twice)).toBeNull();
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
