/**
 * The secure channel's building blocks, one at a time, with real node:crypto and no network:
 * packet codecs (total parsers), sealed sessions (AEAD, replay window, nonce uniqueness — the
 * unit half of T13), rotating-secret tokens (valid one to two periods) and the anti-amplification
 * guard (QUIC RFC 9000 §8: at most 3× before validation, bounded memory).
 */
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { keyedBlake3 } from '../../src/crypto/index.js';
import {
  AEAD_NONCE_BYTES, AEAD_TAG_BYTES, AmplificationGuard, challengeBytes, COOKIE_BYTES, encodeChallenge, encodeDone,
  encodeHandshake, encodeHello, encodeWhoAreYou, framedBytes, HELLO_RECORD_PADDING, isPlainMessage, KEM_CIPHERTEXT_BYTES,
  Kind, MAX_HANDSHAKE_RECORD_BYTES, MAX_HELLO_BYTES, NONCE_BYTES, PACKET_VERSION, parsePacket, readCounter, REPLAY_WINDOW,
  ReplayWindow, RotatingSecret, SEAL_OVERHEAD, SEALED_HEADER_BYTES, Session, SESSION_ID_BYTES, SIGNATURE_BYTES,
} from '../../src/transport/index.js';
import type { Address } from '../../src/util/index.js';
import { report } from '../helpers/report.js';
import { THRESHOLDS } from '../thresholds.js';

const SLOW = process.env.SLOW === '1';
const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
const filled = (n: number, v: number): Uint8Array => new Uint8Array(n).fill(v);
const flipBit = (b: Uint8Array, at: number, bit = 0): Uint8Array => {
  const out = new Uint8Array(b);
  out[at]! ^= 1 << bit;
  return out;
};

// ---------------------------------------------------------------- packets

describe('packets', () => {
  const nonce = filled(NONCE_BYTES, 1);
  const cookie = filled(COOKIE_BYTES, 2);
  const ciphertext = filled(KEM_CIPHERTEXT_BYTES, 3);
  const signature = filled(SIGNATURE_BYTES, 4);
  const record = filled(6500, 5);
  const sessionId = filled(SESSION_ID_BYTES, 6);
  const aeadNonce = filled(AEAD_NONCE_BYTES, 7);

  it('HELLO round-trips with and without the want-record flag; asking for a record pads it', () => {
    for (const wantRecord of [false, true]) {
      const bytes = encodeHello(nonce, wantRecord);
      expect(bytes[0]).toBe(Kind.HELLO);
      expect(bytes[1]).toBe(PACKET_VERSION);
      expect(bytes.byteLength).toBe(3 + NONCE_BYTES + (wantRecord ? HELLO_RECORD_PADDING : 0));
      const p = parsePacket(bytes);
      expect(p).toMatchObject({ kind: 'HELLO', wantRecord });
      expect(p?.kind === 'HELLO' && hex(p.nonce)).toBe(hex(nonce));
    }
  });

  it('CHALLENGE round-trips with a record, and an empty record parses as null', () => {
    const p = parsePacket(encodeChallenge(nonce, cookie, record));
    expect(p?.kind).toBe('CHALLENGE');
    if (p?.kind !== 'CHALLENGE') return;
    expect([hex(p.nonce), hex(p.cookie), hex(p.record!)]).toEqual([hex(nonce), hex(cookie), hex(record)]);
    const bare = parsePacket(encodeChallenge(nonce, cookie, null));
    expect(bare).toMatchObject({ kind: 'CHALLENGE', record: null });
    expect(encodeChallenge(nonce, cookie, record).byteLength).toBe(challengeBytes(record.byteLength));
  });

  it('HANDSHAKE, DONE and WHOAREYOU round-trip field by field', () => {
    const h = parsePacket(encodeHandshake({ nonce, cookie, ciphertext, signature, record }));
    expect(h?.kind).toBe('HANDSHAKE');
    if (h?.kind === 'HANDSHAKE') {
      expect([h.nonce, h.cookie, h.ciphertext, h.signature, h.record].map(hex)).toEqual([nonce, cookie, ciphertext, signature, record].map(hex));
    }
    const d = parsePacket(encodeDone(nonce, signature));
    expect(d?.kind === 'DONE' && [hex(d.nonce), hex(d.signature)]).toEqual([hex(nonce), hex(signature)]);
    const w = parsePacket(encodeWhoAreYou(sessionId, aeadNonce));
    expect(w?.kind === 'WHOAREYOU' && [hex(w.sessionId), hex(w.aeadNonce)]).toEqual([hex(sessionId), hex(aeadNonce)]);
  });

  it('a sealed packet parses to its session id and AEAD nonce', () => {
    const s = pair().a;
    const sealed = s.seal(Uint8Array.of(1, 2, 3), filled(4, 9));
    const p = parsePacket(sealed);
    expect(p?.kind).toBe('SEALED');
    if (p?.kind !== 'SEALED') return;
    expect(hex(p.sessionId)).toBe(hex(s.id));
    expect(readCounter(p.aeadNonce)).toBe(0);
    expect(hex(p.aeadNonce.subarray(8))).toBe('09090909');
    expect(p.packet.byteLength).toBe(SEAL_OVERHEAD + 3);
  });

  it('rejects every wrong size, kind and version as null', () => {
    const hello = encodeHello(nonce, false);
    const challenge = encodeChallenge(nonce, cookie, null);
    const handshake = encodeHandshake({ nonce, cookie, ciphertext, signature, record: Uint8Array.of(1) });
    const done = encodeDone(nonce, signature);
    const who = encodeWhoAreYou(sessionId, aeadNonce);
    const grow = (b: Uint8Array, n: number): Uint8Array => { const o = new Uint8Array(b.byteLength + n); o.set(b); return o; };
    const bad: Array<[string, Uint8Array]> = [
      ['empty', new Uint8Array(0)],
      ['kind only', Uint8Array.of(Kind.HELLO)],
      ['HELLO one byte short', hello.subarray(0, hello.byteLength - 1)],
      ['HELLO over MAX_HELLO_BYTES', grow(hello, MAX_HELLO_BYTES - hello.byteLength + 1)],
      ['HELLO unknown flag', (() => { const b = new Uint8Array(hello); b[2] = 2; return b; })()],
      ['CHALLENGE one byte short', challenge.subarray(0, challenge.byteLength - 1)],
      ['CHALLENGE record over the limit', grow(challenge, MAX_HANDSHAKE_RECORD_BYTES + 1)],
      ['HANDSHAKE without a record', handshake.subarray(0, handshake.byteLength - 1)],
      ['HANDSHAKE record over the limit', grow(handshake, MAX_HANDSHAKE_RECORD_BYTES)],
      ['DONE one byte short', done.subarray(0, done.byteLength - 1)],
      ['DONE one byte long', grow(done, 1)],
      ['WHOAREYOU one byte short', who.subarray(0, who.byteLength - 1)],
      ['WHOAREYOU one byte long', grow(who, 1)],
      ['SEALED shorter than its overhead', new Uint8Array(SEAL_OVERHEAD - 1).fill(Kind.SEALED, 0, 1)],
      ['kind 0', Uint8Array.of(0, PACKET_VERSION, ...nonce)],
      ['kind 7', Uint8Array.of(7, PACKET_VERSION, ...nonce)],
      ['kind 0xff', Uint8Array.of(0xff, PACKET_VERSION, ...nonce)],
    ];
    for (const packet of [hello, challenge, handshake, done, who]) {
      for (const version of [0, 2, 0xff]) {
        const b = new Uint8Array(packet);
        b[1] = version;
        bad.push([`kind ${packet[0]} version ${version}`, b]);
      }
    }
    for (const [what, bytes] of bad) expect(parsePacket(bytes), what).toBeNull();
    // the largest accepted sizes still parse
    expect(parsePacket(grow(hello, MAX_HELLO_BYTES - hello.byteLength))?.kind).toBe('HELLO');
    expect(parsePacket(grow(challenge, MAX_HANDSHAKE_RECORD_BYTES))?.kind).toBe('CHALLENGE');
    expect(parsePacket(grow(handshake, MAX_HANDSHAKE_RECORD_BYTES - 1))?.kind).toBe('HANDSHAKE');
  });

  it('parsePacket never throws: random bytes of any length, and mutated valid packets', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 12_000, size: 'max' }), (bytes) => {
      parsePacket(bytes);
    }), { numRuns: 1000 });
    const valid = [
      encodeHello(nonce, false), encodeHello(nonce, true), encodeChallenge(nonce, cookie, null), encodeChallenge(nonce, cookie, record),
      encodeHandshake({ nonce, cookie, ciphertext, signature, record }), encodeDone(nonce, signature), encodeWhoAreYou(sessionId, aeadNonce),
      pair().a.seal(Uint8Array.of(1, 2, 3), filled(4, 1)),
    ];
    const outcomes = { parsed: 0, rejected: 0 };
    fc.assert(fc.property(
      fc.constantFrom(...valid), fc.nat(), fc.integer({ min: 0, max: 255 }), fc.integer({ min: -40, max: 40 }),
      (packet, at, value, resize) => {
        const bytes = new Uint8Array(Math.max(0, packet.byteLength + resize));
        bytes.set(packet.subarray(0, bytes.byteLength));
        if (bytes.byteLength > 0) bytes[at % bytes.byteLength] = value;
        const p = parsePacket(bytes);
        outcomes[p === null ? 'rejected' : 'parsed']++;
        // whatever parses, parses as the kind its first byte names
        if (p !== null) expect(Kind[p.kind]).toBe(bytes[0]);
      },
    ), { numRuns: 5000 });
    expect(outcomes.parsed).toBeGreaterThan(0);
    expect(outcomes.rejected).toBeGreaterThan(0);
  });

  it('encode → parse is the identity for random fields', () => {
    fc.assert(fc.property(
      fc.uint8Array({ minLength: NONCE_BYTES, maxLength: NONCE_BYTES }),
      fc.uint8Array({ minLength: COOKIE_BYTES, maxLength: COOKIE_BYTES }),
      fc.uint8Array({ minLength: 1, maxLength: MAX_HANDSHAKE_RECORD_BYTES }),
      (n, c, r) => {
        const ch = parsePacket(encodeChallenge(n, c, r));
        expect(ch?.kind === 'CHALLENGE' && [hex(ch.nonce), hex(ch.cookie), hex(ch.record!)]).toEqual([hex(n), hex(c), hex(r)]);
        const hs = parsePacket(encodeHandshake({ nonce: n, cookie: c, ciphertext, signature, record: r }));
        expect(hs?.kind === 'HANDSHAKE' && [hex(hs.nonce), hex(hs.cookie), hex(hs.record)]).toEqual([hex(n), hex(c), hex(r)]);
      },
    ), { numRuns: 200 });
  });

  it('channel packets are never mistaken for plaintext wire messages, and msgpack arrays are', () => {
    for (const kind of Object.values(Kind)) expect(isPlainMessage(Uint8Array.of(kind))).toBe(false);
    for (let b = 0x95; b <= 0x9f; b++) expect(isPlainMessage(Uint8Array.of(b))).toBe(true);
    expect(isPlainMessage(Uint8Array.of(0xdc, 0, 16))).toBe(true);
    expect(isPlainMessage(new Uint8Array(0))).toBe(false);
  });

  it('a HELLO asking for a record buys, at 3×, a challenge carrying a full-size node record', () => {
    // The channel counts a received message as its length + 1 (frame header) and charges an answer
    // its framed size. A real record (8 IPv6 addresses, the most a record holds) is about 6.6 KiB.
    const helloCredit = 3 * (encodeHello(nonce, true).byteLength + 1);
    const realRecord = 1952 + 1184 + 3309 + 8 * 24 + 64;
    expect(framedBytes(challengeBytes(realRecord))).toBeLessThanOrEqual(helloCredit);
  });
});

// ---------------------------------------------------------------- sessions

const endpoint: Address = { host: '127.0.0.9', port: 9999 };

/** Two sessions with mirrored keys: what a < b sends, b opens, and the other way round. */
function pair(): { a: Session; b: Session } {
  const sessionId = randomBytes(SESSION_ID_BYTES);
  const k1 = randomBytes(32);
  const k2 = randomBytes(32);
  const peerId = filled(32, 0xaa);
  return {
    a: new Session({ sessionId, sendKey: k1, receiveKey: k2, peerId, endpoint, initiator: true, now: 0 }),
    b: new Session({ sessionId, sendKey: k2, receiveKey: k1, peerId, endpoint, initiator: false, now: 0 }),
  };
}

const r4 = (): Uint8Array => randomBytes(4);
const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const asText = (b: Uint8Array | string): string => (typeof b === 'string' ? `<${b}>` : new TextDecoder().decode(b));

describe('Session', () => {
  it('seals and opens both ways, empty and large messages included', () => {
    const { a, b } = pair();
    expect(asText(b.open(a.seal(text('hello b'), r4())))).toBe('hello b');
    expect(asText(a.open(b.seal(text('hello a'), r4())))).toBe('hello a');
    expect(asText(b.open(a.seal(new Uint8Array(0), r4())))).toBe('');
    const big = randomBytes(60_000);
    const opened = b.open(a.seal(big, r4()));
    expect(typeof opened === 'string' ? opened : hex(opened)).toBe(hex(big));
    // a session does not open its own packets (other key)
    expect(a.open(a.seal(text('self'), r4()))).toBe('aead_failed');
  });

  it('rejects a flipped bit anywhere in header, body or tag as aead_failed, and the real packet still opens', () => {
    const { a, b } = pair();
    const packet = a.seal(text('attack at dawn, bring snacks'), r4());
    const regions = { header: 0, body: 0, tag: 0 };
    for (let at = 0; at < packet.byteLength; at++) {
      for (const bit of [0, 7]) expect(b.open(flipBit(packet, at, bit)), `byte ${at} bit ${bit}`).toBe('aead_failed');
      if (at < SEALED_HEADER_BYTES) regions.header++;
      else if (at < packet.byteLength - AEAD_TAG_BYTES) regions.body++;
      else regions.tag++;
    }
    expect(regions).toEqual({ header: SEALED_HEADER_BYTES, body: 28, tag: AEAD_TAG_BYTES });
    // truncated, extended and too-short packets fail the same way
    expect(b.open(packet.subarray(0, packet.byteLength - 1))).toBe('aead_failed');
    expect(b.open(Uint8Array.from([...packet, 0]))).toBe('aead_failed');
    expect(b.open(packet.subarray(0, SEAL_OVERHEAD - 1))).toBe('aead_failed');
    // forged packets never moved the window: the authentic one opens, once
    expect(asText(b.open(packet))).toBe('attack at dawn, bring snacks');
    expect(b.open(packet)).toBe('replay');
  });

  it('a forged packet with a huge counter cannot block genuine ones', () => {
    const { a, b } = pair();
    const packet = a.seal(text('x'), r4());
    const forged = new Uint8Array(packet);
    forged[1 + SESSION_ID_BYTES] = 0x7f; // counter ≈ 2^62, tag now wrong
    expect(b.open(forged)).toBe('aead_failed');
    expect(asText(b.open(packet))).toBe('x');
  });

  it('a replayed packet is refused as replay; out-of-order packets inside the window open exactly once', () => {
    const { a, b } = pair();
    const packets = Array.from({ length: 10 }, (_, i) => a.seal(text(`m${i}`), r4()));
    expect(asText(b.open(packets[9]!))).toBe('m9');
    for (const i of [5, 0, 8, 1]) expect(asText(b.open(packets[i]!))).toBe(`m${i}`);
    for (const i of [9, 5, 0, 8, 1]) expect(b.open(packets[i]!)).toBe('replay');
    for (const i of [2, 3, 4, 6, 7]) expect(asText(b.open(packets[i]!))).toBe(`m${i}`);
  });

  it('a packet more than REPLAY_WINDOW counters behind the newest is refused as too old', () => {
    const { a, b } = pair();
    const packets = Array.from({ length: REPLAY_WINDOW + 10 }, () => a.seal(Uint8Array.of(1), r4()));
    const newest = packets.length - 1;
    expect(b.open(packets[newest]!)).not.toBeTypeOf('string');
    expect(b.open(packets[newest - REPLAY_WINDOW]!)).toBe('replay'); // exactly one window behind
    expect(b.open(packets[0]!)).toBe('replay');
    expect(b.open(packets[newest - REPLAY_WINDOW + 1]!)).not.toBeTypeOf('string'); // the oldest still inside
  });

  it(`T13 nonces never repeat and counters strictly increase over ${SLOW ? '1,000,000' : '100,000'} seals`, () => {
    const n = SLOW ? 1_000_000 : 100_000;
    const { a } = pair();
    const randoms = randomBytes(4 * n);
    const seen = new Set<string>();
    const message = Uint8Array.of(0x42);
    let previous = -1;
    let increasing = true;
    for (let i = 0; i < n; i++) {
      const packet = a.seal(message, randoms.subarray(4 * i, 4 * i + 4));
      const nonce = packet.subarray(1 + SESSION_ID_BYTES, SEALED_HEADER_BYTES);
      const counter = readCounter(nonce);
      if (counter <= previous) increasing = false;
      previous = counter;
      seen.add(Buffer.from(nonce).toString('latin1'));
    }
    const collisions = n - seen.size;
    report({ test: 'T13', figure: 'nonce_collisions', value: collisions, threshold: THRESHOLDS.T13.nonce_collisions, pass: collisions <= THRESHOLDS.T13.nonce_collisions });
    report({ test: 'T13', figure: 'seals_checked', value: n });
    expect(collisions).toBe(0);
    expect(increasing).toBe(true);
    expect(a.sent).toBe(n);
    expect(previous).toBe(n - 1);
  }, SLOW ? 300_000 : 60_000);

  it('recentlySent knows the last 16 packets, keeps small messages only, and rejects malformed nonces', () => {
    const { a } = pair();
    const nonces: Uint8Array[] = [];
    for (let i = 0; i < 20; i++) {
      const m = i === 19 ? new Uint8Array(3000) : text(`m${i}`);
      nonces.push(a.seal(m, r4()).slice(1 + SESSION_ID_BYTES, SEALED_HEADER_BYTES));
    }
    for (let i = 0; i < 4; i++) expect(a.recentlySent(nonces[i]!)).toEqual({ found: false, message: null });
    for (let i = 4; i < 19; i++) {
      const r = a.recentlySent(nonces[i]!);
      expect(r.found).toBe(true);
      expect(asText(r.message!)).toBe(`m${i}`);
    }
    expect(a.recentlySent(nonces[19]!)).toEqual({ found: true, message: null }); // too big to keep for a resend
    expect(a.recentlySent(nonces[10]!.subarray(0, 11))).toEqual({ found: false, message: null });
    const never = new Uint8Array(AEAD_NONCE_BYTES);
    new DataView(never.buffer).setUint32(4, 1000);
    expect(a.recentlySent(never)).toEqual({ found: false, message: null });
  });

  it('refuses keys and session ids of the wrong size', () => {
    const base = { sessionId: filled(8, 1), sendKey: filled(32, 2), receiveKey: filled(32, 3), peerId: filled(32, 4), endpoint, initiator: true, now: 0 };
    expect(() => new Session({ ...base, sessionId: filled(7, 1) })).toThrow(RangeError);
    expect(() => new Session({ ...base, sendKey: filled(16, 1) })).toThrow(RangeError);
    expect(() => new Session({ ...base, receiveKey: filled(33, 1) })).toThrow(RangeError);
  });
});

describe('ReplayWindow', () => {
  it('accepts each counter once, starting from 0', () => {
    const w = new ReplayWindow();
    expect(w.accept(0)).toBe(true);
    expect(w.accept(0)).toBe(false);
    expect(w.accept(2)).toBe(true);
    expect(w.accept(1)).toBe(true);
    expect(w.accept(1)).toBe(false);
  });

  it('a jump of REPLAY_WINDOW or more clears every old bit; a smaller jump clears only the skipped ones', () => {
    const w = new ReplayWindow();
    for (let c = 0; c < REPLAY_WINDOW; c++) expect(w.accept(c)).toBe(true);
    const top = REPLAY_WINDOW - 1 + REPLAY_WINDOW; // gap of exactly one window
    expect(w.accept(top)).toBe(true);
    // every counter in (top - window, top) shares a bit with one seen before the jump: all must be new now
    for (let c = top - REPLAY_WINDOW + 1; c < top; c++) expect(w.accept(c), `counter ${c}`).toBe(true);
    expect(w.accept(top - REPLAY_WINDOW)).toBe(false); // too old
    // a gap of 6 clears the 5 skipped slots, not the rest of the window
    expect(w.accept(top + 6)).toBe(true);
    for (let c = top + 1; c < top + 6; c++) expect(w.accept(c)).toBe(true);
    expect(w.accept(top + 6 - REPLAY_WINDOW + 1)).toBe(false); // seen, still inside
    expect(w.accept(top + 6 - REPLAY_WINDOW)).toBe(false); // too old
  });

  it('a gap of REPLAY_WINDOW − 1 keeps the previous newest counter inside the window, as seen', () => {
    const w = new ReplayWindow();
    expect(w.accept(100)).toBe(true);
    expect(w.accept(100 + REPLAY_WINDOW - 1)).toBe(true);
    expect(w.accept(100)).toBe(false);
    expect(w.accept(101)).toBe(true);
    expect(w.accept(99)).toBe(false); // too old now
  });

  it('agrees with a reference model on random counter sequences', () => {
    fc.assert(fc.property(fc.array(fc.oneof(fc.integer({ min: 0, max: 3000 }), fc.integer({ min: 0, max: 2 ** 40 })), { maxLength: 400 }), (counters) => {
      const w = new ReplayWindow();
      const seen = new Set<number>();
      let highest = -1;
      for (const c of counters) {
        const expected = !seen.has(c) && highest - c < REPLAY_WINDOW;
        expect(w.accept(c)).toBe(expected);
        if (expected) { seen.add(c); highest = Math.max(highest, c); }
      }
    }), { numRuns: 300 });
  });
});

// ---------------------------------------------------------------- rotating secret

describe('RotatingSecret', () => {
  const P = 100; // ms: small, so every millisecond of three periods can be checked
  const make = (master = filled(32, 7)): RotatingSecret => new RotatingSecret({ master, mac: keyedBlake3, period: P });
  const data = text('127.0.0.1|some key');

  /** First `now` ≥ issue at which the token is refused (scanning by 1 ms). */
  function expiry(s: RotatingSecret, issuedAt: number): number {
    const token = s.issue(data, issuedAt);
    for (let now = issuedAt; now <= issuedAt + 3 * P; now++) if (!s.verify(token, data, now)) return now;
    throw new Error('token never expired');
  }

  it('a token stays valid for more than one and at most two periods, wherever in a period it was issued', () => {
    const s = make();
    const base = 1_700_000_000_000 - (1_700_000_000_000 % P) + 7 * P;
    const offsets = [0, 1, 2, P / 4, P / 2, P - 2, P - 1, ...Array.from({ length: 40 }, (_, i) => Math.floor((i * P) / 40))];
    let min = Infinity;
    let max = -Infinity;
    for (const offset of offsets) {
      const validity = expiry(s, base + offset) - (base + offset);
      min = Math.min(min, validity);
      max = Math.max(max, validity);
    }
    expect(min).toBe(P + 1); // issued in the last ms of a period: valid for that ms and the whole next period
    expect(max).toBe(2 * P); // issued in the first ms: its period and the next
    expect(min).toBeGreaterThan(P);
    expect(max).toBeLessThanOrEqual(2 * P);
  });

  it('a token is bound to its data and to its master secret', () => {
    const s = make();
    const token = s.issue(data, 5000);
    expect(s.verify(token, data, 5000)).toBe(true);
    expect(s.verify(token, text('127.0.0.2|some key'), 5000)).toBe(false);
    expect(s.verify(token, new Uint8Array(0), 5000)).toBe(false);
    expect(make(filled(32, 8)).verify(token, data, 5000)).toBe(false);
    expect(hex(make().issue(data, 5000))).toBe(hex(token)); // same master: the same token
  });

  it('a token of the wrong length is refused, never thrown on', () => {
    const s = make();
    const token = s.issue(data, 0);
    expect(token.byteLength).toBe(s.tokenBytes);
    for (const t of [new Uint8Array(0), token.subarray(0, 15), Uint8Array.from([...token, 0]), new Uint8Array(32)]) {
      expect(s.verify(t, data, 0)).toBe(false);
    }
    const short = new RotatingSecret({ master: filled(32, 1), mac: keyedBlake3, period: P, tokenBytes: 8 });
    expect(short.issue(data, 0).byteLength).toBe(8);
    expect(short.verify(token, data, 0)).toBe(false);
  });

  it('a token is not valid before the period it was issued in', () => {
    const s = make();
    const token = s.issue(data, 10 * P);
    expect(s.verify(token, data, 10 * P - 1)).toBe(false);
    expect(s.verify(token, data, 10 * P)).toBe(true);
  });

  it('validates its options, naming them', () => {
    const mac = keyedBlake3;
    expect(() => new RotatingSecret({ master: filled(31, 1), mac, period: P })).toThrow(/master/);
    for (const period of [0, -1, Number.NaN, Infinity]) expect(() => new RotatingSecret({ master: filled(32, 1), mac, period })).toThrow(/options.period/);
    for (const tokenBytes of [7, 33, 8.5]) expect(() => new RotatingSecret({ master: filled(32, 1), mac, period: P, tokenBytes })).toThrow(/options.tokenBytes/);
  });
});

// ---------------------------------------------------------------- amplification guard

describe('AmplificationGuard', () => {
  const addr = (i: number): Address => ({ host: `127.5.${(i >> 8) & 0xff}.${i & 0xff}`, port: 1000 + (i >> 16) });

  it('allows at most 3× the bytes received before validation', () => {
    const g = new AmplificationGuard();
    const a = addr(1);
    expect(g.allow(a, 1)).toBe(false); // nothing received: nothing may be sent
    g.received(a, 100);
    expect(g.allow(a, 300)).toBe(true);
    expect(g.allow(a, 1)).toBe(false);
    g.received(a, 10);
    expect(g.allow(a, 31)).toBe(false); // refused sends are not charged …
    expect(g.allow(a, 30)).toBe(true); // … so this fits exactly
    expect(g.peakRatio).toBe(3);
  });

  it('allows anything once validated', () => {
    const g = new AmplificationGuard();
    const a = addr(2);
    expect(g.isValidated(a)).toBe(false);
    g.validate(a);
    expect(g.isValidated(a)).toBe(true);
    expect(g.allow(a, 10 * 1024 * 1024)).toBe(true);
    expect(g.isValidated({ ...a, port: a.port + 1 })).toBe(false); // per ip:port
  });

  it('keeps at most maxAddresses entries, and forgetting never widens a budget (property)', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 8 }),
      fc.array(fc.record({ op: fc.constantFrom('received', 'allow', 'validate'), who: fc.integer({ min: 0, max: 15 }), bytes: fc.integer({ min: 0, max: 2000 }) }), { maxLength: 300 }),
      (maxAddresses, ops) => {
        const g = new AmplificationGuard({ maxAddresses });
        // Totals over the whole run per address, across any forgetting.
        const received = new Map<number, number>();
        const sentUnvalidated = new Map<number, number>();
        for (const { op, who, bytes } of ops) {
          const a = addr(who);
          if (op === 'received') {
            g.received(a, bytes);
            received.set(who, (received.get(who) ?? 0) + bytes);
          } else if (op === 'validate') {
            g.validate(a);
          } else {
            const validated = g.isValidated(a);
            if (g.allow(a, bytes) && !validated) sentUnvalidated.set(who, (sentUnvalidated.get(who) ?? 0) + bytes);
          }
          expect(g.size).toBeLessThanOrEqual(maxAddresses);
        }
        // An address validated, then forgotten, starts over unvalidated with nothing received:
        // its unvalidated sends stay within 3× its receipts over the whole run all the same.
        for (const [who, sent] of sentUnvalidated) expect(sent).toBeLessThanOrEqual(3 * (received.get(who) ?? 0));
        expect(g.peakRatio).toBeLessThanOrEqual(3);
      },
    ), { numRuns: 300 });
  });

  it('a forgotten address starts with an empty budget, not a fresh allowance', () => {
    const g = new AmplificationGuard({ maxAddresses: 2 });
    const victim = addr(1);
    g.received(victim, 100);
    expect(g.allow(victim, 300)).toBe(true);
    g.received(addr(2), 1);
    g.received(addr(3), 1); // evicts the victim, the least recently active
    expect(g.size).toBe(2);
    expect(g.allow(victim, 1)).toBe(false);
    // a validated address that is forgotten loses its validation (never gains one)
    g.validate(addr(4));
    g.received(addr(5), 1);
    g.received(addr(6), 1);
    expect(g.isValidated(addr(4))).toBe(false);
    expect(g.allow(addr(4), 1)).toBe(false);
  });

  it('stays bounded under 10,000 addresses', () => {
    const g = new AmplificationGuard({ maxAddresses: 1000 });
    for (let i = 0; i < 10_000; i++) g.received(addr(i), 10);
    expect(g.size).toBe(1000);
    expect(g.allow(addr(9_999), 30)).toBe(true); // the newest are kept
    expect(g.allow(addr(0), 1)).toBe(false); // the oldest were forgotten with their credit
  });

  it('validates its options, naming them', () => {
    expect(() => new AmplificationGuard({ factor: 0.5 })).toThrow(/options.factor/);
    expect(() => new AmplificationGuard({ factor: Number.NaN })).toThrow(/options.factor/);
    expect(() => new AmplificationGuard({ maxAddresses: 0 })).toThrow(/options.maxAddresses/);
    expect(() => new AmplificationGuard({ maxAddresses: 1.5 })).toThrow(/options.maxAddresses/);
  });
});
