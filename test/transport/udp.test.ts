import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import {
  FRAGMENT_DATA_BYTES, FRAME_WHOLE, MAX_WHOLE_MESSAGE, type Transport, UdpTransport, encodeFragment, encodeMessage, zeroDrops,
} from '../../src/transport/index.js';
import { type Address, DATAGRAM_PAYLOAD, KiB, MAX_MESSAGE_BYTES } from '../../src/util/index.js';
import { Closer, patternBytes, sameBytes, sleep, waitFor } from './helpers.js';

const closer = new Closer();
afterEach(() => closer.closeAll());

async function bindPair(): Promise<[UdpTransport, UdpTransport]> {
  const a = closer.add(await UdpTransport.bind({ host: '127.0.0.1', port: 0 }));
  const b = closer.add(await UdpTransport.bind({ host: '127.0.0.1', port: 0 }));
  return [a, b];
}

/** Messages a transport received, in order. */
function inbox(t: Transport): { message: Uint8Array; from: Address }[] {
  const got: { message: Uint8Array; from: Address }[] = [];
  t.setHandler((message, from) => got.push({ message, from }));
  return got;
}

/** A plain dgram socket that sends raw datagrams, bypassing all framing. */
async function rawSocket(type: 'udp4' | 'udp6' = 'udp4', host = '127.0.0.1'): Promise<Socket> {
  const s = createSocket(type);
  await new Promise<void>((resolve) => s.bind(0, host, resolve));
  closer.add({ close: () => new Promise<void>((resolve) => s.close(() => resolve())) });
  return s;
}

function sendRaw(s: Socket, to: Address, datagram: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => s.send(datagram, to.port, to.host, (err) => (err ? reject(err) : resolve())));
}

async function hasIpv6Loopback(): Promise<boolean> {
  const s = createSocket('udp6');
  s.on('error', () => {}); // the probe reports through the promise below
  const ok = await new Promise<boolean>((resolve) => {
    s.once('error', () => resolve(false));
    s.bind(0, '::1', () => resolve(true));
  });
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return ok;
}

describe('UdpTransport: delivery', () => {
  it('round-trips a small message and reports the sender address', async () => {
    const [a, b] = await bindPair();
    const atB = inbox(b);
    const atA = inbox(a);
    b.setHandler((message, from) => {
      atB.push({ message, from });
      b.send(from, Uint8Array.of(...message, 0xff));
    });
    expect(a.local.port).toBeGreaterThan(0);
    expect(a.send(b.local, Uint8Array.of(1, 2, 3, 4, 5))).toBe(true);
    await waitFor(() => atA.length === 1, 5_000, 'the reply');
    expect(atB[0]).toEqual({ message: Uint8Array.of(1, 2, 3, 4, 5), from: a.local });
    expect(atA[0]!.message).toEqual(Uint8Array.of(1, 2, 3, 4, 5, 0xff));
    expect(a.counters()).toMatchObject({ datagramsOut: 1, bytesOut: 6, messagesOut: 1, messagesIn: 1, drops: zeroDrops() });
  });

  it('delivers a 200 KiB message intact between two real sockets', async () => {
    const [a, b] = await bindPair();
    const got = inbox(b);
    const message = patternBytes(200 * KiB, 7);
    expect(a.send(b.local, message)).toBe(true);
    await waitFor(() => got.length === 1, 10_000, 'the 200 KiB message');
    expect(sameBytes(got[0]!.message, message)).toBe('');
    const fragments = Math.ceil(message.byteLength / FRAGMENT_DATA_BYTES);
    expect(a.counters()).toMatchObject({ datagramsOut: fragments, fragmentedOut: 1, messagesOut: 1 });
    expect(b.counters()).toMatchObject({
      datagramsIn: fragments, reassembled: 1, messagesIn: 1, reassemblyBytes: 0, drops: zeroDrops(),
    });
    expect(b.counters().peakReassemblyBytes).toBe(message.byteLength);
  });

  it('delivers 20 concurrent 200 KiB messages, in order, because fragment bursts are paced', async () => {
    const [a, b] = await bindPair();
    const got = inbox(b);
    const messages = Array.from({ length: 20 }, (_, i) => patternBytes(200 * KiB, 100 + i));
    for (const m of messages) expect(a.send(b.local, m)).toBe(true);
    expect(a.counters().peakSendQueueBytes).toBeGreaterThan(19 * 200 * KiB);
    await waitFor(() => got.length === 20, 30_000, '20 messages');
    expect(got.map((g, i) => sameBytes(g.message, messages[i]!))).toEqual(messages.map(() => ''));
    expect(a.counters()).toMatchObject({ fragmentedOut: 20, sendQueueBytes: 0, drops: zeroDrops() });
    expect(b.counters()).toMatchObject({ reassembled: 20, reassemblyBytes: 0, drops: zeroDrops() });
    expect(b.counters().datagramsIn).toBe(a.counters().datagramsOut);
  });

  it('still delivers them through a 256 KiB receive buffer, which unpaced bursts of 64+ overflow', async () => {
    const a = closer.add(await UdpTransport.bind({ host: '127.0.0.1', port: 0 }));
    const b = closer.add(await UdpTransport.bind({ host: '127.0.0.1', port: 0, socketBufferBytes: 256 * KiB }));
    const got = inbox(b);
    const messages = Array.from({ length: 20 }, (_, i) => patternBytes(200 * KiB, 200 + i));
    for (const m of messages) a.send(b.local, m);
    await waitFor(() => got.length === 20, 30_000, '20 messages');
    expect(got.map((g, i) => sameBytes(g.message, messages[i]!))).toEqual(messages.map(() => ''));
    expect(b.counters().drops).toEqual(zeroDrops());
  });

  it('round-trips over IPv6 loopback (skipped when the host has no ::1)', async (ctx) => {
    if (!(await hasIpv6Loopback())) return ctx.skip();
    const a = closer.add(await UdpTransport.bind({ host: '::1', port: 0 }));
    const b = closer.add(await UdpTransport.bind({ host: '::1', port: 0 }));
    const got = inbox(b);
    const message = patternBytes(5_000, 3);
    a.send(b.local, message);
    await waitFor(() => got.length === 1, 5_000, 'the IPv6 message');
    expect(got[0]!.from).toEqual({ host: '::1', port: a.local.port });
    expect(sameBytes(got[0]!.message, message)).toBe('');
  });

  it('on a dual-stack socket, reports IPv4 senders as plain IPv4 and reaches them back', async (ctx) => {
    if (!(await hasIpv6Loopback())) return ctx.skip();
    const dual = closer.add(await UdpTransport.bind({ host: '::', port: 0 }));
    const v4 = closer.add(await UdpTransport.bind({ host: '127.0.0.1', port: 0 }));
    const atDual = inbox(dual);
    const atV4 = inbox(v4);
    v4.send({ host: '127.0.0.1', port: dual.local.port }, Uint8Array.of(9, 9, 9, 9));
    await waitFor(() => atDual.length === 1, 5_000, 'the IPv4 datagram');
    expect(atDual[0]!.from).toEqual(v4.local);
    expect(dual.send(atDual[0]!.from, Uint8Array.of(8, 8, 8, 8))).toBe(true);
    await waitFor(() => atV4.length === 1, 5_000, 'the reply over the mapped address');
  });
});

describe('UdpTransport: hostile input', () => {
  it('drops datagrams under 4 B or over 1,200 B before any parse, counting each', async () => {
    const [, b] = await bindPair();
    const got = inbox(b);
    const raw = await rawSocket();
    // Each would parse as a valid whole frame if the size gate did not come first.
    const undersized = [new Uint8Array(0), Uint8Array.of(FRAME_WHOLE), Uint8Array.of(FRAME_WHOLE, 1, 2)];
    const oversized = [DATAGRAM_PAYLOAD + 1, 1_500, 9_000].map((n) => new Uint8Array(n).fill(FRAME_WHOLE, 0, 1));
    for (const d of [...undersized, ...oversized]) await sendRaw(raw, b.local, d);
    await sendRaw(raw, b.local, Uint8Array.of(FRAME_WHOLE, 7, 7, 7));
    await waitFor(() => got.length === 1, 5_000, 'the valid datagram after the bad ones');
    expect(got[0]!.message).toEqual(Uint8Array.of(7, 7, 7));
    expect(b.counters().drops).toEqual({ ...zeroDrops(), too_small: 3, too_large: 3 });
    expect(b.counters()).toMatchObject({ datagramsIn: 7, messagesIn: 1 });
  });

  it('counts malformed frames and fragments by reason and never delivers them', async () => {
    const [, b] = await bindPair();
    const got = inbox(b);
    const raw = await rawSocket();
    const bad = [
      Uint8Array.of(0x00, 1, 2, 3, 4), // unknown kind
      Uint8Array.of(0x02, 0, 0, 0, 1, 0), // truncated fragment header
      encodeFragment(1, 3, 3, patternBytes(600, 1)), // index beyond count
      encodeFragment(2, 0, 2, new Uint8Array(0)), // empty
      encodeFragment(3, 0, 0xffff, patternBytes(FRAGMENT_DATA_BYTES, 1)), // count beyond the message limit
      encodeFragment(4, 0, 2, patternBytes(600, 1)),
      encodeFragment(4, 0, 2, patternBytes(600, 1)), // duplicate
    ];
    for (const d of bad) await sendRaw(raw, b.local, d);
    await sendRaw(raw, b.local, Uint8Array.of(FRAME_WHOLE, 1, 1, 1));
    await waitFor(() => got.length === 1, 5_000, 'the valid datagram');
    expect(b.counters().drops).toEqual({ ...zeroDrops(), bad_frame: 2, fragment_invalid: 3, fragment_duplicate: 1 });
    expect(b.counters()).toMatchObject({ reassemblyBytes: 600, reassembled: 0, messagesIn: 1 });
  });

  it('expires a partial message on a timer even when no more traffic arrives', async () => {
    const b = closer.add(await UdpTransport.bind({ host: '127.0.0.1', port: 0, limits: { timeout: 50 } }));
    const raw = await rawSocket();
    await sendRaw(raw, b.local, encodeFragment(1, 0, 2, patternBytes(700, 1)));
    await waitFor(() => b.counters().reassemblyBytes === 700, 5_000, 'the fragment');
    await waitFor(() => b.counters().drops.reassembly_timeout === 1, 5_000, 'the expiry');
    expect(b.counters().reassemblyBytes).toBe(0);
  });

  it('keeps partials from two senders apart even with the same message id', async () => {
    const [, b] = await bindPair();
    const got = inbox(b);
    const [r1, r2] = [await rawSocket(), await rawSocket()];
    const [m1, m2] = [patternBytes(2_000, 1), patternBytes(2_000, 2)];
    const [f1, f2] = [encodeMessage(m1, 77), encodeMessage(m2, 77)];
    await sendRaw(r1, b.local, f1[0]!);
    await sendRaw(r2, b.local, f2[1]!);
    await sendRaw(r1, b.local, f1[1]!);
    await sendRaw(r2, b.local, f2[0]!);
    await waitFor(() => got.length === 2, 5_000, 'both messages');
    expect(got.map((g) => g.from.port)).toEqual([r1.address().port, r2.address().port]);
    expect([sameBytes(got[0]!.message, m1), sameBytes(got[1]!.message, m2)]).toEqual(['', '']);
  });

  it('catches a throwing handler, counts handler_error, and keeps delivering', async () => {
    const [a, b] = await bindPair();
    let calls = 0;
    b.setHandler(() => {
      calls++;
      throw new Error('handler bug');
    });
    for (let i = 0; i < 3; i++) a.send(b.local, Uint8Array.of(1, 2, 3, i));
    await waitFor(() => calls === 3, 5_000, 'three handler calls');
    expect(b.counters().drops).toEqual({ ...zeroDrops(), handler_error: 3 });
  });

  it('counts messages that arrive before a handler is set', async () => {
    const [a, b] = await bindPair();
    a.send(b.local, Uint8Array.of(1, 2, 3, 4));
    await waitFor(() => b.counters().messagesIn === 1, 5_000, 'the message');
    expect(b.counters().drops.no_handler).toBe(1);
  });
});

describe('UdpTransport: send gates', () => {
  it('refuses what it cannot send, returning false and counting the reason', async () => {
    const [a, b] = await bindPair();
    const small = Uint8Array.of(1, 2, 3, 4);
    expect(a.send(b.local, new Uint8Array(MAX_MESSAGE_BYTES + 1))).toBe(false);
    expect(a.send(b.local, Uint8Array.of(1, 2))).toBe(false);
    expect(a.send({ host: 'localhost', port: b.local.port }, small)).toBe(false); // never resolved
    expect(a.send({ host: '127.0.0.1', port: 0 }, small)).toBe(false);
    expect(a.send({ host: '::1', port: 4000 }, small)).toBe(false); // IPv6 from an IPv4 socket
    expect(a.counters().drops).toEqual({ ...zeroDrops(), message_too_large: 1, message_too_small: 1, bad_address: 3 });
    expect(a.counters().messagesOut).toBe(0);
  });

  it('refuses a message when the send queue is over its bound', async () => {
    const a = closer.add(await UdpTransport.bind({ host: '127.0.0.1', port: 0, pacing: { maxQueueBytes: 300 * KiB } }));
    const to = { host: '127.0.0.1', port: 9 };
    expect(a.send(to, new Uint8Array(200 * KiB))).toBe(true);
    expect(a.send(to, new Uint8Array(200 * KiB))).toBe(false);
    expect(a.send(to, new Uint8Array(MAX_WHOLE_MESSAGE))).toBe(true);
    expect(a.counters().drops.send_queue_full).toBe(1);
  });

  it('rejects a host that is not an IP literal and a port out of range at bind', async () => {
    await expect(UdpTransport.bind({ host: 'localhost', port: 0 })).rejects.toThrow(TypeError);
    await expect(UdpTransport.bind({ host: '127.0.0.1', port: 70_000 })).rejects.toThrow('options.port must be an integer in 0..65535');
  });

  it('rejects invalid limits and options after binding, and frees the port again', async () => {
    await expect(UdpTransport.bind({ host: '127.0.0.1', port: 0, limits: { perPeerMessages: 0 } }))
      .rejects.toThrow('limits.perPeerMessages must be a positive integer');
    await expect(UdpTransport.bind({ host: '127.0.0.1', port: 0, pacing: { burstDatagrams: 1.5 } }))
      .rejects.toThrow('pacing.burstDatagrams must be a positive integer');
    await expect(UdpTransport.bind({ host: '127.0.0.1', port: 0, socketBufferBytes: -1 }))
      .rejects.toThrow('options.socketBufferBytes must be a positive integer');
    const [a] = await bindPair();
    const port = a.local.port;
    await a.close();
    await expect(UdpTransport.bind({ host: '127.0.0.1', port, limits: { timeout: 0 } })).rejects.toThrow(RangeError);
    closer.add(await UdpTransport.bind({ host: '127.0.0.1', port })); // the failed bind released it
  });

  it('rejects bind with the socket error when the port is taken', async () => {
    const [a] = await bindPair();
    await expect(UdpTransport.bind({ host: '127.0.0.1', port: a.local.port })).rejects.toMatchObject({ code: 'EADDRINUSE' });
  });
});

describe('UdpTransport: close', () => {
  it('is idempotent, counts queued messages as closed, and refuses later sends', async () => {
    const a = await UdpTransport.bind({ host: '127.0.0.1', port: 0 });
    a.send({ host: '127.0.0.1', port: 9 }, new Uint8Array(100 * KiB)); // far more than one burst
    const first = a.close();
    expect(a.close()).toBe(first);
    await first;
    await a.close();
    expect(a.send({ host: '127.0.0.1', port: 9 }, Uint8Array.of(1, 2, 3, 4))).toBe(false);
    expect(a.counters().drops).toMatchObject({ closed: 2 });
    expect(a.counters().sendQueueBytes).toBe(0);
  });

  it('leaves no socket, timer or immediate holding the process open', async () => {
    const active = (): string[] => process.getActiveResourcesInfo().filter((r) => /UDP|Timeout|Immediate/.test(r));
    await sleep(20); // let earlier tests' closes settle
    const before = active();
    const a = await UdpTransport.bind({ host: '127.0.0.1', port: 0 });
    const b = await UdpTransport.bind({ host: '127.0.0.1', port: 0, limits: { timeout: 60_000 } });
    a.send(b.local, new Uint8Array(50 * KiB)); // paced bursts
    a.send(b.local, encodeFragment(0, 0, 2, new Uint8Array(600))); // nonsense payload, still a message
    const raw = await rawSocket();
    await sendRaw(raw, b.local, encodeFragment(5, 0, 2, new Uint8Array(600))); // leaves a partial and its sweep timer
    await waitFor(() => b.counters().reassemblyBytes >= 600, 5_000, 'the partial');
    expect(active().filter((r) => r === 'UDPWrap').length).toBeGreaterThan(before.filter((r) => r === 'UDPWrap').length);
    await Promise.all([a.close(), b.close()]);
    await closer.closeAll();
    await sleep(20);
    const count = (list: string[], kind: string): number => list.filter((r) => r === kind).length;
    for (const kind of ['UDPWrap', 'Timeout', 'Immediate']) expect(count(active(), kind), kind).toBeLessThanOrEqual(count(before, kind));
  });
});
