import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesToIp, formatAddress, ipToBytes, parseAddress } from '../../src/util/index.js';
import { ManualClock } from '../../src/util/index.js';

describe('addresses', () => {
  it('parses host:port and [v6]:port, and rejects names and bad ports', () => {
    expect(parseAddress('127.0.0.1:33442')).toEqual({ host: '127.0.0.1', port: 33442 });
    expect(parseAddress('[::1]:9')).toEqual({ host: '::1', port: 9 });
    for (const bad of ['localhost:1', '127.0.0.1', '127.0.0.1:0', '127.0.0.1:65536', '::1:5', '1.2.3.4:x']) {
      expect(parseAddress(bad), bad).toBeNull();
    }
    expect(formatAddress({ host: '::1', port: 9 })).toBe('[::1]:9');
    expect(formatAddress({ host: '10.0.0.1', port: 9 })).toBe('10.0.0.1:9');
  });

  it('turns IPs into 4 or 16 bytes and back', () => {
    expect(ipToBytes('1.2.3.4')).toEqual(Uint8Array.of(1, 2, 3, 4));
    expect(bytesToIp(ipToBytes('::1')!)).toBe('::1');
    expect(bytesToIp(ipToBytes('2001:db8::8:800:200c:417a')!)).toBe('2001:db8::8:800:200c:417a');
    expect(ipToBytes('::ffff:1.2.3.4')!.slice(10)).toEqual(Uint8Array.of(0xff, 0xff, 1, 2, 3, 4));
    expect(ipToBytes('example.org')).toBeNull();
    expect(bytesToIp(new Uint8Array(5))).toBeNull();
    fc.assert(fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (b) => {
      expect(ipToBytes(bytesToIp(b)!)).toEqual(b);
    }), { numRuns: 2000 });
  });
});

describe('ManualClock', () => {
  it('fires timers in deadline order as time advances, and repeats intervals', () => {
    const clock = new ManualClock(100);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push('b'), 20);
    clock.setTimeout(() => fired.push('a'), 10);
    const every = clock.setInterval(() => fired.push('i'), 15);
    const cancelled = clock.setTimeout(() => fired.push('never'), 5);
    cancelled.cancel();
    clock.advance(31);
    expect(fired).toEqual(['a', 'i', 'b', 'i']);
    expect(clock.now()).toBe(131);
    every.cancel();
    clock.advance(100);
    expect(fired).toHaveLength(4);
  });
});
