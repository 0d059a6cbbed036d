/**
 * Rate limits on incoming datagrams, checked before any decode (RELIABILITY.md T09): a GCRA
 * (generic cell rate algorithm, ITU-T I.371; the limiter sigp/discv5 uses) keyed by string, and a
 * PacketFilter that chains per-host, per-subnet and global limiters. A GCRA keeps one number per
 * key (its theoretical arrival time), so state is small; a key whose time is past is forgotten.
 */
import { hostKey, isLoopback, second, subnetKey } from '../util/index.js';

/** A rate: `rate` cells per second on average, `burst` cells at once after an idle spell. */
export interface RateLimit {
  /** Cells per second, > 0. */
  rate: number;
  /** Cells admitted back to back after an idle spell, an integer ≥ 1. */
  burst: number;
}

/** Options of a GcraLimiter. */
export interface GcraInit extends RateLimit {
  /** Keys tracked at most; the least recently used is forgotten beyond. Default DEFAULT_MAX_RATE_KEYS. */
  maxKeys?: number;
}

/** The rate limits of a PacketFilter (and of `UdpTransportInit.rateLimits`), in datagrams. */
export interface RateLimitsInit {
  /** Per source host (IPv4-mapped IPv6 folded to IPv4). */
  perIp: RateLimit;
  /** Per /24 (IPv4) or /48 (IPv6) subnet. */
  perSubnet: RateLimit;
  /** Over all sources. */
  global: RateLimit;
  /** Hosts and subnets tracked at most, each. */
  maxKeys: number;
}

/** Why the filter refused a datagram (each is a transport drop reason). */
export type RateLimitReason = 'rate_ip' | 'rate_subnet' | 'rate_global';

/**
 * Defaults, counted in datagrams: a 256 KiB value is ~220 datagrams, so they are generous.
 * Anchors: OpenDHT allows 1,024 requests/s per IP and 8,192/s in all; sigp/discv5 runs a GCRA of
 * 10/9/8 requests/s (per node, per IP, total). Ours count datagrams, not requests, and sit higher.
 */
export const DEFAULT_PER_IP_LIMIT: Readonly<RateLimit> = Object.freeze({ rate: 2_000, burst: 1_000 });
/** Per /24 or /48: four busy hosts' worth (see DEFAULT_PER_IP_LIMIT for the sources). */
export const DEFAULT_PER_SUBNET_LIMIT: Readonly<RateLimit> = Object.freeze({ rate: 8_000, burst: 4_000 });
/** All sources together: ten busy hosts' worth, above OpenDHT's 8,192 requests/s. */
export const DEFAULT_GLOBAL_LIMIT: Readonly<RateLimit> = Object.freeze({ rate: 20_000, burst: 10_000 });
/** Keys per limiter at most. Full per-IP and per-subnet limiters hold ~30 MiB (measured, IPv6 keys). */
export const DEFAULT_MAX_RATE_KEYS = 65_536;

/** Expired keys forgotten per call at most: keeps the state near the active set at O(1) cost. */
const SWEEP_PER_CALL = 2;
/** Source hosts whose keys PacketFilter remembers, so a busy peer is parsed once, not per datagram. */
const HOST_KEY_CACHE = 16_384;
/** Float slack: cells are fractions of a millisecond apart, and sums of them are inexact. */
const EPSILON_MS = 1e-6;

/** Fills defaults and validates; RangeError messages name the option under `path`. */
export function resolveRateLimits(init: Partial<RateLimitsInit> = {}, path = 'options.rateLimits'): RateLimitsInit {
  const r: RateLimitsInit = {
    perIp: { ...DEFAULT_PER_IP_LIMIT, ...init.perIp },
    perSubnet: { ...DEFAULT_PER_SUBNET_LIMIT, ...init.perSubnet },
    global: { ...DEFAULT_GLOBAL_LIMIT, ...init.global },
    maxKeys: init.maxKeys ?? DEFAULT_MAX_RATE_KEYS,
  };
  for (const name of ['perIp', 'perSubnet', 'global'] as const) validateRate(r[name], `${path}.${name}`);
  validateMaxKeys(r.maxKeys, `${path}.maxKeys`);
  return r;
}

function validateRate(limit: RateLimit, path: string): void {
  if (!(typeof limit.rate === 'number' && limit.rate > 0 && Number.isFinite(limit.rate))) {
    throw new RangeError(`${path}.rate must be a positive number`);
  }
  if (!(Number.isInteger(limit.burst) && limit.burst >= 1)) throw new RangeError(`${path}.burst must be a positive integer`);
}

function validateMaxKeys(maxKeys: number, path: string): void {
  if (!(Number.isInteger(maxKeys) && maxKeys >= 1)) throw new RangeError(`${path} must be a positive integer`);
}

/** One key's state, linked in recency order (V8 Maps slow down when used as LRU queues). */
interface Slot {
  readonly key: string;
  /** Theoretical arrival time, ms. */
  tat: number;
  prev: Slot | null;
  next: Slot | null;
}

/**
 * A GCRA limiter keyed by string. Each cell moves its key's theoretical arrival time (TAT) one
 * emission interval (1 s / rate) later; a cell conforms while that leaves the TAT at most `burst`
 * intervals ahead of now. Time is passed in (ms from the injected Clock), never read here.
 * Keys are kept in least-recently-used order in a linked list: a Map used as a queue (delete the
 * first key, re-insert touched ones) leaves holes that V8 skips on every iteration, which made
 * eviction cost O(size) each (20 s per million keys when measured).
 */
export class GcraLimiter {
  readonly rate: number;
  readonly burst: number;
  readonly maxKeys: number;
  /** Emission interval, ms per cell. */
  readonly #interval: number;
  /** How far ahead of now a TAT may be after a conforming cell, ms. */
  readonly #window: number;
  readonly #slots = new Map<string, Slot>();
  /** Least recently used. */
  #head: Slot | null = null;
  /** Most recently used. */
  #tail: Slot | null = null;

  /** Throws RangeError naming `path`.rate, `path`.burst or `path`.maxKeys when out of range. */
  constructor(init: GcraInit, path = 'options') {
    validateRate(init, path);
    const maxKeys = init.maxKeys ?? DEFAULT_MAX_RATE_KEYS;
    validateMaxKeys(maxKeys, `${path}.maxKeys`);
    this.rate = init.rate;
    this.burst = init.burst;
    this.maxKeys = maxKeys;
    this.#interval = second / init.rate;
    this.#window = init.burst * this.#interval + EPSILON_MS;
  }

  /** Keys holding state now (never more than `maxKeys`). */
  get size(): number {
    return this.#slots.size;
  }

  /**
   * True when a cell for `key` would conform at `now`; consumes nothing. A refused key is marked
   * recently used, so a flooder's debt is the last state to be evicted.
   */
  conforms(key: string, now: number): boolean {
    this.#sweep(now);
    const slot = this.#slots.get(key);
    if (slot === undefined || slot.tat + this.#interval - now <= this.#window) return true;
    this.#touch(slot);
    return false;
  }

  /** Consumes one cell for `key` if it conforms at `now`; returns whether it did. */
  admit(key: string, now: number): boolean {
    this.#sweep(now);
    const slot = this.#slots.get(key);
    if (slot === undefined) {
      if (this.#slots.size >= this.maxKeys && this.#head !== null) this.#remove(this.#head);
      const fresh: Slot = { key, tat: now + this.#interval, prev: null, next: null };
      this.#slots.set(key, fresh);
      this.#append(fresh);
      return true;
    }
    this.#touch(slot);
    const next = Math.max(slot.tat, now) + this.#interval;
    if (next - now > this.#window) return false;
    slot.tat = next;
    return true;
  }

  /** Forgets every key. */
  clear(): void {
    this.#slots.clear();
    this.#head = null;
    this.#tail = null;
  }

  /** Forgets a few least recently used keys whose TAT is past: they carry no state. */
  #sweep(now: number): void {
    for (let i = 0; i < SWEEP_PER_CALL && this.#head !== null && this.#head.tat <= now; i++) this.#remove(this.#head);
  }

  #touch(slot: Slot): void {
    if (slot === this.#tail) return;
    this.#unlink(slot);
    this.#append(slot);
  }

  #remove(slot: Slot): void {
    this.#unlink(slot);
    this.#slots.delete(slot.key);
  }

  #unlink(slot: Slot): void {
    if (slot.prev === null) this.#head = slot.next;
    else slot.prev.next = slot.next;
    if (slot.next === null) this.#tail = slot.prev;
    else slot.next.prev = slot.prev;
    slot.prev = null;
    slot.next = null;
  }

  #append(slot: Slot): void {
    slot.prev = this.#tail;
    if (this.#tail === null) this.#head = slot;
    else this.#tail.next = slot;
    this.#tail = slot;
  }
}

/** Options of a PacketFilter. */
export interface PacketFilterInit {
  /** Limits; missing fields take the defaults. */
  rateLimits?: Partial<RateLimitsInit>;
  /**
   * Test-only: loopback sources count as public. Otherwise they are exempt: loopback is the
   * operator's own host, and local tools (CLI, testnets) must not be throttled by their node.
   */
  treatLoopbackAsPublic?: boolean;
}

/**
 * Per-host, per-subnet and global limits on incoming datagrams. Checked in that order; a
 * datagram consumes a cell from each limiter only when all three admit it, so a source over its
 * own limit spends neither its subnet's budget nor the global one.
 */
export class PacketFilter {
  readonly limits: RateLimitsInit;
  readonly treatLoopbackAsPublic: boolean;
  readonly #perIp: GcraLimiter;
  readonly #perSubnet: GcraLimiter;
  readonly #global: GcraLimiter;
  readonly #keys = new Map<string, HostKeys>();

  /** Throws RangeError naming the option (`options.rateLimits.perIp.rate must be …`). */
  constructor(init: PacketFilterInit = {}) {
    this.limits = resolveRateLimits(init.rateLimits);
    this.treatLoopbackAsPublic = init.treatLoopbackAsPublic ?? false;
    const { perIp, perSubnet, global, maxKeys } = this.limits;
    this.#perIp = new GcraLimiter({ ...perIp, maxKeys }, 'options.rateLimits.perIp');
    this.#perSubnet = new GcraLimiter({ ...perSubnet, maxKeys }, 'options.rateLimits.perSubnet');
    this.#global = new GcraLimiter({ ...global, maxKeys: 1 }, 'options.rateLimits.global');
  }

  /** Null when a datagram from `host` is admitted at `now` (ms), else why it is refused. */
  check(host: string, now: number): RateLimitReason | null {
    const keys = this.#keysOf(host);
    if (keys === null) return null;
    if (!this.#perIp.conforms(keys.ip, now)) return 'rate_ip';
    if (!this.#perSubnet.conforms(keys.subnet, now)) return 'rate_subnet';
    if (!this.#global.admit('', now)) return 'rate_global';
    this.#perIp.admit(keys.ip, now);
    this.#perSubnet.admit(keys.subnet, now);
    return null;
  }

  /** Hosts and subnets holding limiter state now. */
  trackedKeys(): { hosts: number; subnets: number } {
    return { hosts: this.#perIp.size, subnets: this.#perSubnet.size };
  }

  /** The limiter keys of `host`, or null when it is exempt; memoised, as parsing costs µs. */
  #keysOf(host: string): HostKeys | null {
    let keys = this.#keys.get(host);
    if (keys === undefined) {
      const ip = hostKey(host) ?? host; // the socket only reports IP literals; a name is its own key
      keys = { ip, subnet: subnetKey(host) ?? ip, exempt: !this.treatLoopbackAsPublic && isLoopback(host) };
      // Cleared when full, as RateLimitedLog does: many distinct sources only cost the parse again.
      if (this.#keys.size >= Math.min(this.limits.maxKeys, HOST_KEY_CACHE)) this.#keys.clear();
      this.#keys.set(host, keys);
    }
    return keys.exempt ? null : keys;
  }
}

/** What PacketFilter needs to know about one source host. */
interface HostKeys {
  readonly ip: string;
  readonly subnet: string;
  readonly exempt: boolean;
}
