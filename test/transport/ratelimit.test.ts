import { createSocket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { DhtNode } from '../../src/node/index.js';
import {
  DEFAULT_GLOBAL_LIMIT, DEFAULT_MAX_RATE_KEYS, DEFAULT_PER_IP_LIMIT, DEFAULT_PER_SUBNET_LIMIT, GcraLimiter, PacketFilter,
  type RateLimitReason, UdpTransport, encodeMessage, resolveRateLimits,
} from '../../src/transport/index.js';
import { type Address, ManualClock, second } from '../../src/util/index.js';
import { Closer, waitFor } from './helpers.js';

const closer = new Closer();
afterEach(() => closer.closeAll());

/** Offers `perMs` cells at each millisecond from now to now + `ms`, both included; returns how many were admitted. */
function offer(limiter: GcraLimiter, clock: ManualClock, key: string, ms: number, perMs: number): number {
  let admitted = 0;
  for (let t = 0; t <= ms; t++) {
    if (t > 0) clock.advance(1);
    for (let i = 0; i < perMs; i++) if (limiter.admit(key, clock.now())) admitted++;
  }
  return admitted;
}

/** Checks `n` datagrams from `host` at the clock's current time; tallies the outcomes. */
function tally(filter: PacketFilter, host: string, n: number, now: number): Record<RateLimitReason | 'ok', number> {
  const out = { ok: 0, rate_ip: 0, rate_subnet: 0, rate_global: 0 };
  for (let i = 0; i < n; i++) out[filter.check(host, now) ?? 'ok']++;
  return out;
}

describe('GcraLimiter', () => {
  it('admits exactly burst cells at once, then rate cells per second over 10 s', () => {
    const clock = new ManualClock(1_000_000);
    const limiter = new GcraLimiter({ rate: 100, burst: 20 });
    let atOnce = 0;
    for (let i = 0; i < 50; i++) if (limiter.admit('a', clock.now())) atOnce++;
    expect(atOnce).toBe(20);
    // 10 offers per ms (10,000/s) for 10 s: burst already spent, so rate × 10 s more.
    const admitted = offer(limiter, clock, 'a', 10 * second, 10);
    expect(Math.abs(admitted - 100 * 10)).toBeLessThanOrEqual(1);
  });

  it('admits burst + rate × 10 s from a fresh key under a sustained flood (±1)', () => {
    const clock = new ManualClock(0);
    const limiter = new GcraLimiter({ rate: 2_000, burst: 1_000 });
    const admitted = offer(limiter, clock, 'a', 10 * second, 5);
    expect(Math.abs(admitted - (1_000 + 2_000 * 10))).toBeLessThanOrEqual(1);
  });

  it('refills after an idle spell, at `rate` cells per second and never above burst', () => {
    const clock = new ManualClock(0);
    const limiter = new GcraLimiter({ rate: 100, burst: 20 });
    const drain = (): number => {
      let n = 0;
      while (limiter.admit('a', clock.now())) n++;
      return n;
    };
    expect(drain()).toBe(20);
    clock.advance(100); // 10 cells' worth
    expect(drain()).toBe(10);
    clock.advance(60 * second); // long idle: back to burst, not more
    expect(drain()).toBe(20);
    expect(limiter.conforms('a', clock.now())).toBe(false);
  });

  it('keeps keys independent', () => {
    const clock = new ManualClock(0);
    const limiter = new GcraLimiter({ rate: 1, burst: 3 });
    for (let i = 0; i < 10; i++) limiter.admit('a', clock.now());
    expect(limiter.conforms('a', clock.now())).toBe(false);
    let b = 0;
    for (let i = 0; i < 10; i++) if (limiter.admit('b', clock.now())) b++;
    expect(b).toBe(3);
  });

  it('conforms() consumes nothing', () => {
    const limiter = new GcraLimiter({ rate: 1, burst: 2 });
    for (let i = 0; i < 100; i++) expect(limiter.conforms('a', 0)).toBe(true);
    expect([limiter.admit('a', 0), limiter.admit('a', 0), limiter.admit('a', 0)]).toEqual([true, true, false]);
  });

  it('forgets keys whose arrival time is past, and stays at maxKeys under 1,000,000 distinct keys', () => {
    const limiter = new GcraLimiter({ rate: 10, burst: 5 });
    // All at one instant: no key expires, so only LRU eviction bounds the map.
    for (let i = 0; i < 5; i++) limiter.admit('flooder', 0);
    let peak = 0;
    for (let i = 0; i < 1_000_000; i++) {
      limiter.admit(`k${i}`, 0);
      if (i % 1000 === 0) expect(limiter.conforms('flooder', 0)).toBe(false); // refused: kept as recent
      peak = Math.max(peak, limiter.size);
    }
    expect(peak).toBe(DEFAULT_MAX_RATE_KEYS);
    expect(limiter.conforms('flooder', 0)).toBe(false); // its debt survived the churn
    // Once time passes, every TAT is past: new traffic sweeps the old keys away.
    for (let i = 0; i < 40_000; i++) limiter.admit(`late${i % 10}`, 10 * second + i);
    expect(limiter.size).toBeLessThanOrEqual(10);
  });
});

describe('PacketFilter', () => {
  const tight = { perIp: { rate: 1, burst: 5 }, perSubnet: { rate: 1, burst: 10 }, global: { rate: 1, burst: 12 } };

  it('checks per IP, then per subnet, then global, and a refusal consumes no later budget', () => {
    const filter = new PacketFilter({ rateLimits: tight });
    // A floods: 5 admitted, the rest refused per IP, spending none of the subnet's 10 cells.
    expect(tally(filter, '203.0.113.1', 1000, 0)).toEqual({ ok: 5, rate_ip: 995, rate_subnet: 0, rate_global: 0 });
    // B in the same /24 still gets its full 5 from the subnet's remaining 5.
    expect(tally(filter, '203.0.113.2', 1000, 0)).toEqual({ ok: 5, rate_ip: 995, rate_subnet: 0, rate_global: 0 });
    // C in the same /24: its own limit is fresh, the subnet's is spent.
    expect(tally(filter, '203.0.113.3', 100, 0)).toEqual({ ok: 0, rate_ip: 0, rate_subnet: 100, rate_global: 0 });
    // D elsewhere: 12 global cells minus the 10 admitted so far; refusals above spent none.
    expect(tally(filter, '198.51.100.1', 100, 0)).toEqual({ ok: 2, rate_ip: 0, rate_subnet: 0, rate_global: 98 });
    // Global refusals spent none of E's own cells: 1 s later the global limit has 1 cell again,
    // and E (whose 5-cell burst would still be in debt had 10 refusals been charged) gets it.
    expect(tally(filter, '192.0.2.1', 10, 0)).toEqual({ ok: 0, rate_ip: 0, rate_subnet: 0, rate_global: 10 });
    expect(tally(filter, '192.0.2.1', 2, 1 * second)).toEqual({ ok: 1, rate_ip: 0, rate_subnet: 0, rate_global: 1 });
  });

  it('exempts loopback sources unless treatLoopbackAsPublic', () => {
    const exempt = new PacketFilter({ rateLimits: tight });
    for (const host of ['127.0.0.1', '127.1.0.1', '::1', '::ffff:127.0.0.1']) {
      expect(tally(exempt, host, 100, 0).ok, host).toBe(100);
    }
    expect(exempt.trackedKeys()).toEqual({ hosts: 0, subnets: 0 });
    const counted = new PacketFilter({ rateLimits: tight, treatLoopbackAsPublic: true });
    expect(tally(counted, '127.1.0.1', 100, 0)).toEqual({ ok: 5, rate_ip: 95, rate_subnet: 0, rate_global: 0 });
  });

  it('groups IPv6 hosts by /48 and folds IPv4-mapped hosts into IPv4', () => {
    const filter = new PacketFilter({ rateLimits: { perIp: { rate: 1, burst: 1 }, perSubnet: { rate: 1, burst: 3 } } });
    for (const host of ['2001:db8:1:a::1', '2001:db8:1:b::2', '2001:db8:1:ffff::3']) expect(filter.check(host, 0), host).toBeNull();
    expect(filter.check('2001:db8:1:1234::9', 0)).toBe('rate_subnet');
    expect(filter.check('2001:db8:2::1', 0)).toBeNull(); // another /48
    expect(filter.check('2001:0DB8:2:0::1', 0)).toBe('rate_ip'); // the same host, written otherwise
    expect(filter.check('198.51.100.7', 0)).toBeNull();
    expect(filter.check('::ffff:198.51.100.7', 0)).toBe('rate_ip');
  });

  it('takes the documented defaults', () => {
    const filter = new PacketFilter();
    expect(filter.limits).toEqual({
      perIp: { rate: 2_000, burst: 1_000 }, perSubnet: { rate: 8_000, burst: 4_000 }, global: { rate: 20_000, burst: 10_000 },
      maxKeys: 65_536,
    });
    expect([DEFAULT_PER_IP_LIMIT, DEFAULT_PER_SUBNET_LIMIT, DEFAULT_GLOBAL_LIMIT]).toEqual([
      filter.limits.perIp, filter.limits.perSubnet, filter.limits.global,
    ]);
    expect(filter.treatLoopbackAsPublic).toBe(false);
    expect(tally(filter, '192.0.2.9', 2_000, 0)).toEqual({ ok: 1_000, rate_ip: 1_000, rate_subnet: 0, rate_global: 0 });
  });

  it('bounds its state with maxKeys under many distinct sources', () => {
    const filter = new PacketFilter({ rateLimits: { maxKeys: 1_000, global: { rate: 1e9, burst: 1e9 } } });
    for (let i = 0; i < 100_000; i++) filter.check(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, 0);
    const { hosts, subnets } = filter.trackedKeys();
    expect(hosts).toBeLessThanOrEqual(1_000);
    expect(subnets).toBeLessThanOrEqual(1_000);
  });
});

describe('rate-limit options', () => {
  const cases: Array<[unknown, string]> = [
    [{ perIp: { rate: 0, burst: 1 } }, 'options.rateLimits.perIp.rate must be a positive number'],
    [{ perIp: { rate: -5, burst: 1 } }, 'options.rateLimits.perIp.rate must be a positive number'],
    [{ perIp: { rate: Number.NaN, burst: 1 } }, 'options.rateLimits.perIp.rate must be a positive number'],
    [{ perIp: { rate: Infinity, burst: 1 } }, 'options.rateLimits.perIp.rate must be a positive number'],
    [{ perIp: { rate: '5', burst: 1 } }, 'options.rateLimits.perIp.rate must be a positive number'],
    [{ perIp: { rate: 5, burst: 0 } }, 'options.rateLimits.perIp.burst must be a positive integer'],
    [{ perIp: { rate: 5, burst: 1.5 } }, 'options.rateLimits.perIp.burst must be a positive integer'],
    [{ perSubnet: { rate: 0, burst: 1 } }, 'options.rateLimits.perSubnet.rate must be a positive number'],
    [{ perSubnet: { rate: 1, burst: -1 } }, 'options.rateLimits.perSubnet.burst must be a positive integer'],
    [{ global: { rate: 0, burst: 1 } }, 'options.rateLimits.global.rate must be a positive number'],
    [{ global: { rate: 1, burst: 0 } }, 'options.rateLimits.global.burst must be a positive integer'],
    [{ maxKeys: 0 }, 'options.rateLimits.maxKeys must be a positive integer'],
    [{ maxKeys: 2.5 }, 'options.rateLimits.maxKeys must be a positive integer'],
  ];

  it.each(cases)('rejects %j with a message naming the option', (rateLimits, message) => {
    const init = rateLimits as Parameters<typeof resolveRateLimits>[0];
    expect(() => resolveRateLimits(init)).toThrow(new RangeError(message));
    expect(() => new PacketFilter({ rateLimits: init })).toThrow(new RangeError(message));
    expect(() => new DhtNode({ ephemeral: true, rateLimits: init })).toThrow(new RangeError(message));
  });

  it('names the option path of a bare GcraLimiter', () => {
    expect(() => new GcraLimiter({ rate: 0, burst: 1 })).toThrow(new RangeError('options.rate must be a positive number'));
    expect(() => new GcraLimiter({ rate: 1, burst: 1, maxKeys: 0 })).toThrow(new RangeError('options.maxKeys must be a positive integer'));
  });

  it('fills a partial per-limit object from the defaults', () => {
    const r = resolveRateLimits({ perIp: { rate: 500 } as { rate: number; burst: number } });
    expect(r.perIp).toEqual({ rate: 500, burst: DEFAULT_PER_IP_LIMIT.burst });
  });

  it('rejects UdpTransport.bind() with a bad limit', async () => {
    const bad = UdpTransport.bind({ host: '127.0.0.1', port: 0, rateLimits: { global: { rate: 1, burst: 0 } } });
    await expect(bad).rejects.toThrow('options.rateLimits.global.burst must be a positive integer');
  });
});

describe('UdpTransport rate limits', () => {
  /** Sends `n` datagrams from a fresh socket on `fromHost` to `to`. */
  async function sendMany(to: Address, datagrams: Uint8Array[], fromHost = '127.0.0.1'): Promise<void> {
    const s = createSocket('udp4');
    await new Promise<void>((resolve) => s.bind(0, fromHost, resolve));
    closer.add({ close: () => new Promise<void>((resolve) => s.close(() => resolve())) });
    for (const d of datagrams) await new Promise<void>((resolve, reject) => s.send(d, to.port, to.host, (e) => (e ? reject(e) : resolve())));
  }

  it('refuses datagrams over the per-IP limit before parsing them, counted as rate_ip', async () => {
    const clock = new ManualClock(0); // time stands still: exactly `burst` datagrams conform
    const t = closer.add(await UdpTransport.bind({
      host: '127.0.0.1', port: 0, clock, treatLoopbackAsPublic: true, rateLimits: { perIp: { rate: 1, burst: 3 } },
    }));
    const got: Uint8Array[] = [];
    t.setHandler((m) => got.push(m));
    const good = encodeMessage(Uint8Array.of(1, 2, 3, 4), 1)[0]!;
    const badFrame = Uint8Array.of(0xee, 0, 0, 0, 0); // an unknown frame kind: bad_frame if parsed
    await sendMany(t.local, [good, good, good, good, badFrame, badFrame], '127.3.0.1');
    await waitFor(() => t.counters().datagramsIn === 6, 5_000, 'six datagrams');
    const drops = t.counters().drops;
    expect(got).toHaveLength(3);
    expect(drops.rate_ip).toBe(3);
    expect(drops.bad_frame).toBe(0); // never parsed
    expect([drops.rate_subnet, drops.rate_global]).toEqual([0, 0]);
  });

  it('leaves loopback unlimited by default, and every source unlimited with rateLimits: false', async () => {
    const clock = new ManualClock(0);
    const limits = { perIp: { rate: 1, burst: 1 } };
    const exempt = closer.add(await UdpTransport.bind({ host: '127.0.0.1', port: 0, clock, rateLimits: limits }));
    const off = closer.add(await UdpTransport.bind({ host: '127.0.0.1', port: 0, clock, rateLimits: false, treatLoopbackAsPublic: true }));
    const good = encodeMessage(Uint8Array.of(9, 9, 9, 9), 1)[0]!;
    for (const t of [exempt, off]) {
      let n = 0;
      t.setHandler(() => n++);
      await sendMany(t.local, [good, good, good, good, good]);
      await waitFor(() => n === 5, 5_000, 'five messages');
      expect(t.counters().drops.rate_ip).toBe(0);
    }
  });
});
