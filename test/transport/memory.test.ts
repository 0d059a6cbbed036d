import { describe, expect, it } from 'vitest';
import { MemoryNetwork, type Transport, zeroDrops } from '../../src/transport/index.js';
import { type Address, KiB, MAX_MESSAGE_BYTES, ManualClock } from '../../src/util/index.js';

function inbox(t: Transport): { message: Uint8Array; from: Address }[] {
  const got: { message: Uint8Array; from: Address }[] = [];
  t.setHandler((message, from) => got.push({ message, from }));
  return got;
}

describe('MemoryNetwork', () => {
  it('delivers a whole message asynchronously after the latency the link function gives', () => {
    const clock = new ManualClock();
    const net = new MemoryNetwork({ clock, latency: () => 30 });
    const a = net.bind();
    const b = net.bind();
    const got = inbox(b);
    expect(a.send(b.local, Uint8Array.of(1, 2, 3, 4))).toBe(true);
    expect(got).toHaveLength(0);
    clock.advance(29);
    expect(got).toHaveLength(0);
    clock.advance(1);
    expect(got).toEqual([{ message: Uint8Array.of(1, 2, 3, 4), from: a.local }]);
    expect(net.counters()).toEqual({ delivered: 1, lost: 0, undeliverable: 0 });
  });

  it('delivers with 0 ms latency by default, still never synchronously', async () => {
    const net = new MemoryNetwork();
    const [a, b] = [net.bind(), net.bind()];
    const got = inbox(b);
    a.send(b.local, Uint8Array.of(5, 5, 5, 5));
    expect(got).toHaveLength(0);
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(got).toHaveLength(1);
  });

  it('hands the receiver a copy, never the sender\'s buffer', () => {
    const clock = new ManualClock();
    const net = new MemoryNetwork({ clock });
    const [a, b] = [net.bind(), net.bind()];
    const got = inbox(b);
    const message = Uint8Array.of(1, 2, 3, 4);
    a.send(b.local, message);
    message.fill(0);
    clock.advance(0);
    expect(got[0]!.message).toEqual(Uint8Array.of(1, 2, 3, 4));
  });

  it('loses what the loss function picks and counts it on the network', () => {
    const clock = new ManualClock();
    const net = new MemoryNetwork({ clock, loss: (_from, _to, m) => m[0] === 0 });
    const [a, b] = [net.bind(), net.bind()];
    const got = inbox(b);
    for (let i = 0; i < 4; i++) a.send(b.local, Uint8Array.of(i % 2, 1, 1, 1));
    clock.advance(0);
    expect(got).toHaveLength(2);
    expect(net.counters()).toEqual({ delivered: 2, lost: 2, undeliverable: 0 });
  });

  it('runs a custom scheduler in place of the clock', () => {
    const queued: (() => void)[] = [];
    const net = new MemoryNetwork({ schedule: (fn) => queued.push(fn) });
    const [a, b] = [net.bind(), net.bind()];
    const got = inbox(b);
    a.send(b.local, Uint8Array.of(1, 1, 1, 1));
    expect(queued).toHaveLength(1);
    queued.shift()!();
    expect(got).toHaveLength(1);
  });

  it('counts messages to an unbound address as undeliverable, and stops delivering after close', async () => {
    const clock = new ManualClock();
    const net = new MemoryNetwork({ clock });
    const [a, b] = [net.bind(), net.bind()];
    const got = inbox(b);
    a.send({ host: '127.0.0.1', port: 9 }, Uint8Array.of(1, 1, 1, 1));
    a.send(b.local, Uint8Array.of(2, 2, 2, 2));
    await b.close();
    await b.close();
    clock.advance(0);
    expect(got).toHaveLength(0);
    expect(net.counters()).toEqual({ delivered: 0, lost: 0, undeliverable: 2 });
    expect(net.bind({ port: b.local.port }).local).toEqual(b.local); // the address is free again
  });

  it('counts what it refuses to send, by reason, like the UDP transport', async () => {
    const net = new MemoryNetwork({ clock: new ManualClock() });
    const a = net.bind();
    expect(a.send(a.local, new Uint8Array(MAX_MESSAGE_BYTES + 1))).toBe(false);
    expect(a.send(a.local, Uint8Array.of(1))).toBe(false);
    expect(a.send({ host: 'example.org', port: 1 }, Uint8Array.of(1, 1, 1, 1))).toBe(false);
    await a.close();
    expect(a.send(a.local, Uint8Array.of(1, 1, 1, 1))).toBe(false);
    expect(a.counters().drops).toEqual({
      ...zeroDrops(), message_too_large: 1, message_too_small: 1, bad_address: 1, closed: 1,
    });
  });

  it('reports the datagrams and bytes UDP framing would use', () => {
    const clock = new ManualClock();
    const net = new MemoryNetwork({ clock });
    const [a, b] = [net.bind(), net.bind()];
    inbox(b);
    a.send(b.local, new Uint8Array(100));
    a.send(b.local, new Uint8Array(10 * KiB));
    clock.advance(0);
    expect(a.counters()).toMatchObject({ messagesOut: 2, datagramsOut: 1 + 9, bytesOut: 101 + 10 * KiB + 9 * 9, fragmentedOut: 1 });
    expect(b.counters()).toMatchObject({ messagesIn: 2, datagramsIn: 10, reassembled: 1 });
  });

  it('catches a throwing handler and counts handler_error', () => {
    const clock = new ManualClock();
    const net = new MemoryNetwork({ clock });
    const [a, b] = [net.bind(), net.bind()];
    b.setHandler(() => {
      throw new Error('bug');
    });
    a.send(b.local, Uint8Array.of(1, 1, 1, 1));
    clock.advance(0);
    expect(b.counters().drops.handler_error).toBe(1);
  });

  it('binds given addresses, picks free ports, and refuses a taken or malformed address', () => {
    const net = new MemoryNetwork({ clock: new ManualClock() });
    const a = net.bind({ host: '10.0.0.1', port: 4000 });
    expect(a.local).toEqual({ host: '10.0.0.1', port: 4000 });
    expect(() => net.bind({ host: '10.0.0.1', port: 4000 })).toThrow('address 10.0.0.1:4000 is already bound');
    expect(() => net.bind({ host: 'node-1' })).toThrow(TypeError);
    expect(() => net.bind({ port: 70_000 })).toThrow(RangeError);
    const ports = new Set([net.bind().local.port, net.bind().local.port, net.bind({ host: '::1' }).local.port]);
    expect(ports.size).toBeGreaterThanOrEqual(2);
  });
});
