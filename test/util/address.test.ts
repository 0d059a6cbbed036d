import { isIP } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  bytesToIp, formatAddress, hostKey, ipToBytes, isLocalAddress, isLoopback, parseAddress, subnetKey,
} from '../../src/util/index.js';
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

  it('reads exactly the dotted quads that net.isIP accepts', () => {
    for (const bad of ['', '1.2.3', '1.2.3.4.5', '01.2.3.4', '1.2.3.256', '1..2.3', '.1.2.3', '1.2.3.4.', '1.2.3.-4', '1.2.3.4 ', '0x1.2.3.4', '1000.2.3.4']) {
      expect(ipToBytes(bad), bad).toBeNull();
    }
    expect(ipToBytes('0.0.0.0')).toEqual(new Uint8Array(4));
    expect(ipToBytes('255.255.255.255')).toEqual(Uint8Array.of(255, 255, 255, 255));
    const part = fc.oneof(fc.nat(300).map(String), fc.constantFrom('00', '01', '007', '', 'a', '-1', ' 1'));
    fc.assert(fc.property(fc.array(part, { minLength: 1, maxLength: 6 }), (parts) => {
      const host = parts.join('.');
      expect(ipToBytes(host) !== null, host).toBe(isIP(host) !== 0);
      if (isIP(host) === 4) expect(bytesToIp(ipToBytes(host)!)).toBe(host);
    }), { numRuns: 5000 });
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

describe('rate-limit and diversity keys', () => {
  it('subnetKey groups IPv4 by /24 and IPv6 by /48, folding IPv4-mapped hosts into IPv4', () => {
    expect(subnetKey('10.1.2.3')).toBe('10.1.2.0/24');
    expect(subnetKey('10.1.2.250')).toBe('10.1.2.0/24');
    expect(subnetKey('10.1.3.3')).toBe('10.1.3.0/24');
    expect(subnetKey('::ffff:10.1.2.3')).toBe('10.1.2.0/24');
    expect(subnetKey('2001:db8:abcd:1234::1')).toBe('2001:0db8:abcd::/48');
    expect(subnetKey('2001:db8:abcd:ffff:1:2:3:4')).toBe('2001:0db8:abcd::/48');
    expect(subnetKey('2001:db8:abce::1')).toBe('2001:0db8:abce::/48');
    expect(subnetKey('::1')).toBe('0000:0000:0000::/48');
    expect(subnetKey('example.org')).toBeNull();
    expect(subnetKey('')).toBeNull();
  });

  it('hostKey is one key per host, however it is written', () => {
    expect(hostKey('198.51.100.7')).toBe('198.51.100.7');
    expect(hostKey('::ffff:198.51.100.7')).toBe('198.51.100.7');
    expect(hostKey('2001:0DB8:0:0::1')).toBe('2001:db8::1');
    expect(hostKey('2001:db8::1')).toBe('2001:db8::1');
    expect(hostKey('not-an-ip')).toBeNull();
  });

  it('isLoopback is true for 127.0.0.0/8 and ::1 only', () => {
    for (const host of ['127.0.0.1', '127.255.1.2', '127.1.0.1', '::1', '::ffff:127.0.0.1']) expect(isLoopback(host), host).toBe(true);
    for (const host of ['128.0.0.1', '126.255.255.255', '10.0.0.1', '::', '::2', '::ffff:8.8.8.8', 'localhost']) {
      expect(isLoopback(host), host).toBe(false);
    }
  });

  it('isLocalAddress is true for private, link-local, unique-local and loopback ranges', () => {
    const local = [
      '10.0.0.1', '10.255.255.255', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.1.1', '127.0.0.1',
      '::ffff:10.0.0.1', 'fc00::1', 'fd12:3456::1', 'fe80::1', 'febf::1', '::1',
    ];
    const publicHosts = ['172.15.0.1', '172.32.0.1', '192.169.0.1', '8.8.8.8', '169.253.0.1', '2001:db8::1', 'fec0::1', 'fe00::1', '::ffff:8.8.8.8', 'example.org'];
    for (const host of local) expect(isLocalAddress(host), host).toBe(true);
    for (const host of publicHosts) expect(isLocalAddress(host), host).toBe(false);
  });
});
