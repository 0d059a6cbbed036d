/**
 * The replicator (src/replication/repair.ts) with an in-memory network: targets, STOREs and
 * audits are fakes over a map of what each peer holds, the store is a real LMDB store in a
 * temporary folder, and time is a ManualClock. Audit proofs use the real keyed-BLAKE3 scheme.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { keyedBlake3 } from '../../src/crypto/index.js';
import type { Contact, Key, NodeId } from '../../src/id/index.js';
import { compareDistance, idToHex } from '../../src/id/index.js';
import { auditKey, Replicator, type ReplicatorDeps, type ReplicatorInit } from '../../src/replication/index.js';
import { SELF_SOURCE, Store } from '../../src/storage/index.js';
import { DhtError, hour, ManualClock, minute, SeededRandom } from '../../src/util/index.js';
import { ValueKind } from '../../src/wire/index.js';
import { removeDir, tempDir } from '../storage/fixtures.js';

const PEER_ORIGIN = '127.0.0.9:4000';

/** A contact whose id is `first` followed by zeros (its XOR distance to a key is readable). */
function contact(first: number, port = 20_000 + first): Contact {
  const id = new Uint8Array(32);
  id[0] = first;
  return { id: id as NodeId, host: '127.0.0.1', port };
}

/** A key whose first byte is `first` and the rest `fill`. */
function key(first: number, fill = 0x11): Key {
  const k = new Uint8Array(32).fill(fill);
  k[0] = first;
  return k as Key;
}

const proofOf = (nonce: Uint8Array, k: Key, value: Uint8Array): Uint8Array => keyedBlake3(auditKey(nonce, k), value);

type Behaviour = 'honest' | 'silent' | 'corrupt';
type Outcome = 'pass' | 'fail' | 'missing' | 'silent';

/** What each fake peer holds and how it answers; every call is recorded. */
class FakeNetwork {
  readonly held = new Map<string, Map<string, Uint8Array>>();
  readonly behaviour = new Map<string, Behaviour>();
  readonly targetCalls: string[] = [];
  readonly sends: Array<{ peer: string; key: string }> = [];
  readonly audits: Array<{ peer: string; key: string }> = [];
  readonly outcomes: Array<{ peer: string; outcome: Outcome }> = [];
  /** Targets per key hex; default `defaultTargets`. */
  readonly targets = new Map<string, Contact[]>();
  defaultTargets: Contact[] = [];
  /** Keys whose lookup fails. */
  readonly failing = new Set<string>();
  /** The routing table the replicator may consult (deps.closest); none when null. */
  known: Contact[] | null = null;

  holds(c: Contact, k: Key): boolean {
    return this.held.get(idToHex(c.id))?.has(idToHex(k)) ?? false;
  }

  give(c: Contact, k: Key, value: Uint8Array): void {
    const peer = idToHex(c.id);
    if (!this.held.has(peer)) this.held.set(peer, new Map());
    this.held.get(peer)!.set(idToHex(k), value.slice());
  }

  /** Keys checked (targets looked up), by first byte, in order. */
  checked(): number[] {
    return this.targetCalls.map((hex) => Number.parseInt(hex.slice(0, 2), 16));
  }

  deps(clock: ManualClock, store: Store, self: Contact): ReplicatorDeps {
    const random = new SeededRandom(7);
    const as = (c: Contact): Behaviour => this.behaviour.get(idToHex(c.id)) ?? 'honest';
    return {
      clock, store, self,
      randomBytes: (n) => random.bytes(n),
      targets: async (k) => {
        const hex = idToHex(k);
        this.targetCalls.push(hex);
        if (this.failing.has(hex)) throw DhtError.notFound('lookup failed');
        return this.targets.get(hex) ?? this.defaultTargets;
      },
      send: async (c, k, value) => {
        this.sends.push({ peer: idToHex(c.id), key: idToHex(k) });
        if (as(c) === 'silent') return false;
        this.give(c, k, value);
        return true;
      },
      audit: async (c, k, nonce) => {
        this.audits.push({ peer: idToHex(c.id), key: idToHex(k) });
        const b = as(c);
        if (b === 'silent') return null;
        const value = this.held.get(idToHex(c.id))?.get(idToHex(k));
        if (value === undefined) return new Uint8Array(0);
        return proofOf(nonce, k, b === 'corrupt' ? new Uint8Array([...value, 1]) : value);
      },
      proof: async (nonce, k, value) => proofOf(nonce, k, value),
      onAudit: (c, outcome) => { this.outcomes.push({ peer: idToHex(c.id), outcome }); },
      closest: this.known === null ? undefined : (k, n) => [...this.known!].sort((a, b) => compareDistance(k, a.id, b.id)).slice(0, n),
    };
  }
}

const START = 1_700_000_000_000;
const SELF = contact(0xff);
const A = contact(0x01);
const B = contact(0x02);
const C = contact(0x03);
const VALUE = new TextEncoder().encode('a replicated record');

let dir: string;
let store: Store;
let clock: ManualClock;
let net: FakeNetwork;
const made: Replicator[] = [];

beforeEach(() => {
  dir = tempDir();
  clock = new ManualClock(START);
  store = Store.open({ path: `${dir}/store`, clock });
  net = new FakeNetwork();
  net.defaultTargets = [A, B, C];
});

afterEach(async () => {
  await Promise.all(made.splice(0).map((r) => r.close()));
  await store.close();
  removeDir(dir);
});

function replicator(init: Partial<ReplicatorInit> = {}): Replicator {
  const r = new Replicator(net.deps(clock, store, SELF), { interval: 10 * minute, republishInterval: hour, batch: 256, ...init });
  made.push(r);
  return r;
}

async function hold(k: Key, opts: { origin?: string; kind?: ValueKind; replicas?: number; value?: Uint8Array } = {}): Promise<void> {
  await store.put({ key: k, value: opts.value ?? VALUE, ttl: 48 * hour, origin: opts.origin ?? PEER_ORIGIN, kind: opts.kind ?? ValueKind.IMMUTABLE, replicas: opts.replicas ?? 3 });
}

describe('Replicator: repair and audits', () => {
  it('audits every target of a record it holds and sends the record only to the one that lacks it', async () => {
    const k = key(0x10);
    await hold(k);
    net.give(A, k, VALUE);
    net.give(B, k, VALUE);
    const rep = replicator();
    await rep.round();
    expect(net.audits.map((a) => a.peer)).toEqual([A, B, C].map((c) => idToHex(c.id)));
    expect(net.sends).toEqual([{ peer: idToHex(C.id), key: idToHex(k) }]);
    expect(net.holds(C, k)).toBe(true);
    expect(net.outcomes.map((o) => o.outcome)).toEqual(['pass', 'pass', 'missing']);
    expect(rep.stats()).toMatchObject({
      rounds: 1, checked: 1, repaired: 1, republished: 0, auditsPassed: 2, auditsMissing: 1, auditsFailed: 0, auditsSilent: 0, failures: 0,
      lastRoundMinHolders: 3, lastRoundMedianHolders: 3, lastRoundReplicated: 1,
    });
    // Next round everyone holds it: three passes, no STORE.
    await rep.round();
    expect(net.sends).toHaveLength(1);
    expect(rep.stats()).toMatchObject({ rounds: 2, checked: 2, repaired: 1, auditsPassed: 5, auditsMissing: 1 });
  });

  it('counts itself among the holders without auditing itself', async () => {
    const k = key(0x10);
    await hold(k);
    net.defaultTargets = [A, SELF, B, C]; // only the first r = 3 are the holders
    net.give(A, k, VALUE);
    const rep = replicator();
    await rep.round();
    expect(net.audits.map((a) => a.peer)).toEqual([A, B].map((c) => idToHex(c.id)));
    expect(net.sends.map((s) => s.peer)).toEqual([idToHex(B.id)]);
    expect(net.holds(C, k)).toBe(false); // C is 4th: not a holder at r = 3
    expect(rep.stats()).toMatchObject({ auditsPassed: 1, auditsMissing: 1, repaired: 1, lastRoundMinHolders: 3 });
  });

  it('counts a wrong proof for immutable content as a failed audit and repairs the holder', async () => {
    const k = key(0x10);
    await hold(k);
    for (const c of [A, B, C]) net.give(c, k, VALUE);
    net.behaviour.set(idToHex(B.id), 'corrupt');
    const rep = replicator();
    await rep.round();
    expect(net.outcomes.map((o) => o.outcome)).toEqual(['pass', 'fail', 'pass']);
    expect(net.sends.map((s) => s.peer)).toEqual([idToHex(B.id)]);
    expect(rep.stats()).toMatchObject({ auditsPassed: 2, auditsFailed: 1, auditsMissing: 0, repaired: 1, lastRoundMinHolders: 3 });
  });

  it('does not count a differing mutable record or set as a failed audit, but still sends its copy', async () => {
    const m = key(0x10);
    const s = key(0x20);
    await hold(m, { kind: ValueKind.MUTABLE });
    await hold(s, { kind: ValueKind.SET });
    for (const c of [A, B, C]) { net.give(c, m, new TextEncoder().encode('newer seq')); net.give(c, s, new TextEncoder().encode('other merge')); }
    const rep = replicator();
    await rep.round();
    expect(net.outcomes).toHaveLength(0); // neither pass, fail nor missing: reputation is not touched
    expect(net.sends).toHaveLength(6);
    expect(rep.stats()).toMatchObject({ checked: 2, auditsPassed: 0, auditsFailed: 0, auditsMissing: 0, repaired: 6 });
  });

  it('counts a target that does not answer as silent and sends it nothing', async () => {
    const k = key(0x10);
    await hold(k);
    for (const c of [A, B, C]) net.give(c, k, VALUE);
    net.behaviour.set(idToHex(C.id), 'silent');
    const rep = replicator();
    await rep.round();
    expect(net.outcomes.map((o) => o.outcome)).toEqual(['pass', 'pass', 'silent']);
    expect(net.sends).toHaveLength(0);
    expect(rep.stats()).toMatchObject({ auditsSilent: 1, auditsPassed: 2, repaired: 0, lastRoundMinHolders: 2, lastRoundReplicated: 0 });
  });

  it('replaces a target that does not answer by the next in placement order', async () => {
    const k = key(0x10);
    const D = contact(0x04);
    await hold(k);
    for (const c of [A, B, C]) net.give(c, k, VALUE);
    net.targets.set(idToHex(k), [A, B, C, D]);
    net.behaviour.set(idToHex(B.id), 'silent');
    const rep = replicator();
    await rep.round();
    expect(net.audits.map((a) => a.peer)).toEqual([A, B, C, D].map((c) => idToHex(c.id)));
    expect(net.sends.map((x) => x.peer)).toEqual([idToHex(D.id)]);
    expect(net.holds(D, k)).toBe(true);
    expect(rep.stats()).toMatchObject({ auditsSilent: 1, auditsMissing: 1, repaired: 1, fallbacks: 1, lastRoundMinHolders: 3, lastRoundReplicated: 1 });
  });

  it('tries no further than the placement window of 2r targets', async () => {
    const k = key(0x10);
    const others = [4, 5, 6, 7].map((i) => contact(i));
    await hold(k);
    const all = [A, B, C, ...others];
    net.targets.set(idToHex(k), all);
    for (const c of all) net.behaviour.set(idToHex(c.id), 'silent');
    const rep = replicator();
    await rep.round();
    expect(net.audits).toHaveLength(6); // r = 3: A, B, C, then the next three, not the seventh
    expect(rep.stats()).toMatchObject({ auditsSilent: 6, fallbacks: 3, lastRoundMinHolders: 0 });
  });

  it('checks `concurrency` records at once', async () => {
    for (const first of [0x10, 0x20, 0x30, 0x40, 0x50]) await hold(key(first));
    const release: Array<() => void> = [];
    const deps = net.deps(clock, store, SELF);
    const rep = new Replicator({
      ...deps,
      targets: async (k, r, size) => {
        await new Promise<void>((resolve) => release.push(resolve));
        return deps.targets(k, r, size);
      },
    }, { interval: 10 * minute, republishInterval: hour, batch: 256, concurrency: 2 });
    made.push(rep);
    const round = rep.round();
    await vi.waitFor(() => expect(release).toHaveLength(2));
    release.splice(0, 1)[0]!(); // one check ends: the third starts, never more than two at once
    await vi.waitFor(() => expect(release).toHaveLength(2));
    while (release.length > 0) { release.splice(0).forEach((f) => f()); await new Promise((r) => setImmediate(r)); }
    await round;
    expect(rep.stats()).toMatchObject({ checked: 5, repaired: 15 });
  });

  it('counts a failed lookup and goes on with the next record', async () => {
    const bad = key(0x10);
    const good = key(0x20);
    await hold(bad);
    await hold(good);
    net.failing.add(idToHex(bad));
    const rep = replicator();
    await rep.round();
    expect(net.checked()).toEqual([0x10, 0x20]);
    expect(rep.stats()).toMatchObject({ checked: 2, failures: 1, repaired: 3, lastRoundMinHolders: 3, lastRoundReplicated: 1 });
  });

  it('leaves cached copies (replicas 0) alone', async () => {
    const cached = key(0x10);
    await hold(cached, { replicas: 0 });
    const rep = replicator();
    rep.nodeLearned(contact(0x10));
    await rep.round();
    expect(net.targetCalls).toHaveLength(0);
    expect(net.sends).toHaveLength(0);
    expect(rep.stats()).toMatchObject({ rounds: 1, checked: 0, lastRoundReplicated: 1 });
  });
});

describe('Replicator: republish of its own records', () => {
  it('re-sends its own records to every target once per republishInterval and audits them in between', async () => {
    const own = key(0x10);
    await hold(own, { origin: SELF_SOURCE });
    const rep = replicator({ republishInterval: hour });
    await rep.round();
    expect(net.sends.map((s) => s.peer)).toEqual([A, B, C].map((c) => idToHex(c.id)));
    expect(net.audits).toHaveLength(0);
    expect(rep.stats()).toMatchObject({ republished: 3, repaired: 0, lastRoundMinHolders: 3 });

    // Ten minutes later: not due, the holders are audited instead (they all hold it).
    clock.advance(10 * minute);
    await rep.round();
    expect(net.sends).toHaveLength(3);
    expect(net.audits).toHaveLength(3);
    expect(rep.stats()).toMatchObject({ republished: 3, auditsPassed: 3 });

    // Still not due just before the hour; due at the hour.
    clock.advance(hour - 10 * minute - 1);
    await rep.round();
    expect(net.sends).toHaveLength(3);
    clock.advance(1);
    await rep.round();
    expect(net.sends).toHaveLength(6);
    expect(rep.stats()).toMatchObject({ rounds: 4, republished: 6, auditsPassed: 6 });
  });

  it('republishes only records whose origin is self, never records held for others', async () => {
    const own = key(0x10);
    const theirs = key(0x20);
    await hold(own, { origin: SELF_SOURCE });
    await hold(theirs);
    for (const c of [A, B, C]) net.give(c, theirs, VALUE);
    const rep = replicator();
    await rep.round();
    expect(net.sends.every((s) => s.key === idToHex(own))).toBe(true);
    expect(net.audits.every((a) => a.key === idToHex(theirs))).toBe(true);
    expect(rep.stats()).toMatchObject({ republished: 3, auditsPassed: 3, repaired: 0 });
  });
});

describe('Replicator: batches, round-robin and new contacts', () => {
  it('checks at most `batch` records per round and covers every key over successive rounds', async () => {
    const keys = Array.from({ length: 10 }, (_, i) => key(0x10 * (i + 1) - 0x0f)); // 0x01, 0x11 … 0x91
    for (const k of keys) { await hold(k); for (const c of [A, B, C]) net.give(c, k, VALUE); }
    const rep = replicator({ batch: 3 });
    const perRound: number[][] = [];
    for (let i = 0; i < 4; i++) {
      const before = net.targetCalls.length;
      await rep.round();
      perRound.push(net.checked().slice(before));
    }
    expect(perRound).toEqual([[0x01, 0x11, 0x21], [0x31, 0x41, 0x51], [0x61, 0x71, 0x81], [0x91, 0x01, 0x11]]);
    expect(new Set(perRound.flat()).size).toBe(10);
    expect(rep.stats()).toMatchObject({ rounds: 4, checked: 12, auditsPassed: 36, repaired: 0 });
  });

  it('queues the keys a new contact is closer to than itself and checks them first next round', async () => {
    // SELF is 0xff…: a contact 0x00… is closer to keys below 0x80, SELF to the others.
    for (const first of [0x05, 0x81, 0x82, 0x83, 0x84]) await hold(key(first));
    const rep = replicator({ batch: 2 });
    await rep.round();
    expect(net.checked()).toEqual([0x05, 0x81]);
    rep.nodeLearned(contact(0x00));
    await rep.round();
    expect(net.checked().slice(2)).toEqual([0x05, 0x82]); // the urgent key first, then the round-robin
    await rep.round();
    expect(net.checked().slice(4)).toEqual([0x83, 0x84]);
    expect(rep.stats().checked).toBe(6);
  });

  it('does not queue keys the new contact is farther from', async () => {
    for (const first of [0x81, 0x82]) await hold(key(first));
    const rep = replicator({ batch: 1 });
    rep.nodeLearned(contact(0x00));
    await rep.round();
    expect(net.checked()).toEqual([0x81]);
  });

  it('checks a queued key once per round even when the round-robin reaches it too', async () => {
    for (const first of [0x05, 0x06, 0x81]) await hold(key(first));
    const rep = replicator({ batch: 3 });
    rep.nodeLearned(contact(0x00)); // queues 0x05 and 0x06, which the round-robin also starts with
    await rep.round();
    expect(net.checked()).toEqual([0x05, 0x06, 0x81]);
    expect(rep.stats().checked).toBe(3);
  });

  it('does not let queued keys move the round-robin back over keys it has just checked', async () => {
    for (const first of [0x01, 0x02, 0x03, 0x04, 0x81, 0x82, 0x83]) await hold(key(first));
    const rep = replicator({ batch: 2 });
    await rep.round(); // 0x01, 0x02
    await rep.round(); // 0x03, 0x04
    // A contact 0x7f… is closer than SELF to every key below 0x80; the first `batch` (2) are queued.
    rep.nodeLearned(contact(0x7f));
    await rep.round(); // the queued 0x01, 0x02 fill the batch
    await rep.round();
    await rep.round();
    const checked = net.checked();
    expect(checked.slice(0, 6)).toEqual([0x01, 0x02, 0x03, 0x04, 0x01, 0x02]);
    // The round-robin resumes where it was (after 0x04), not after the last queued key.
    expect(checked.slice(6, 10)).toEqual([0x81, 0x82, 0x83, 0x01]);
  });

  it('checks the keys a departed contact was closer to than itself in a round of their own, urgentDelay later', async () => {
    for (const first of [0x05, 0x06, 0x81, 0x82]) await hold(key(first));
    const rep = replicator({ interval: 10 * minute, urgentDelay: 5000 });
    rep.start();
    rep.nodeLost(contact(0x00)); // closer than SELF (0xff…) to 0x05 and 0x06 only
    rep.nodeLost(contact(0x01)); // the same keys: still one round
    clock.advance(4999);
    expect(net.targetCalls).toHaveLength(0);
    clock.advance(1);
    await vi.waitFor(() => expect(rep.stats().repaired).toBe(6)); // 3 targets each
    expect(net.checked()).toEqual([0x05, 0x06]);
    expect(rep.stats()).toMatchObject({ rounds: 0, urgentRounds: 1, checked: 2 });
    // The round-robin was not moved: the next full round starts from the first key.
    clock.advance(10 * minute);
    await vi.waitFor(() => expect(rep.stats().rounds).toBe(1));
    await rep.round();
    expect(net.checked().slice(2, 4)).toEqual([0x05, 0x06]);
  });

  it('on a departure, also queues the keys whose r closest known nodes the departed one was among', async () => {
    await hold(key(0xfe)); // SELF (0xff…) is its closest node
    await hold(key(0x7e));
    // Three nodes closer to 0xfe than 0xf0, and three closer to 0x7e than either departed node.
    net.known = [contact(0xfd), contact(0xfb), contact(0xfa), contact(0x70), contact(0x71), contact(0x72)];
    const rep = replicator({ urgentDelay: 5000 });
    rep.start();
    rep.nodeLost(contact(0xf0)); // farther from 0xfe than SELF and than all three: no holder of it
    rep.nodeLost(contact(0xfc)); // farther than SELF, but among the three closest known: a holder
    clock.advance(5000);
    await vi.waitFor(() => expect(rep.stats().urgentRounds).toBe(1));
    await vi.waitFor(() => expect(rep.stats().checked).toBe(1));
    expect(net.checked()).toEqual([0xfe]);
  });

  it('scans the keys near a departed or arriving contact first when it holds more than a batch', async () => {
    for (const first of [0x01, 0x02, 0x03, 0xfe]) await hold(key(first));
    const rep = replicator({ batch: 2, urgentDelay: 5000 });
    rep.start();
    // 0xfe… shares 7 bits with SELF (0xff…): its keys lie in [0xfe…, the top). Scanning from the
    // bottom of the key space, the batch of 2 would reach 0x01 and 0x02 and queue 0x02 (closer to
    // 0xfe… than to SELF) but never 0xfe…, the key it is nearest.
    rep.nodeLearned(contact(0xfe));
    clock.advance(5000);
    await vi.waitFor(() => expect(rep.stats().urgentRounds).toBe(1));
    await vi.waitFor(() => expect(rep.stats().checked).toBe(1));
    expect(net.checked()).toEqual([0xfe]);
  });

  it('does not check queued keys early before it is started (the next round takes them)', async () => {
    await hold(key(0x05));
    const rep = replicator({ urgentDelay: 5000 });
    rep.nodeLost(contact(0x00));
    clock.advance(minute);
    expect(net.targetCalls).toHaveLength(0);
    await rep.round();
    expect(net.checked()).toEqual([0x05]);
  });

  it('stops running rounds once closed', async () => {
    await hold(key(0x10));
    const rep = replicator();
    await rep.close();
    await rep.round();
    expect(rep.stats().rounds).toBe(0);
    expect(net.targetCalls).toHaveLength(0);
  });

  it('runs rounds on its clock once started, one at a time', async () => {
    await hold(key(0x10));
    const rep = replicator({ interval: 10 * minute });
    rep.start();
    clock.advance(10 * minute);
    clock.advance(10 * minute); // the first round is still running: this tick joins it
    await rep.round();
    expect(rep.stats().rounds).toBe(1);
    clock.advance(10 * minute);
    await rep.round();
    expect(rep.stats().rounds).toBe(2);
  });

  it('runs its first round firstRoundAfter from start, then every interval', async () => {
    await hold(key(0x10));
    const rep = replicator({ interval: 10 * minute, firstRoundAfter: 3 * minute });
    rep.start();
    clock.advance(3 * minute - 1);
    expect(net.targetCalls).toHaveLength(0);
    clock.advance(1);
    await vi.waitFor(() => expect(rep.stats().rounds).toBe(1));
    await rep.round(); // joins the first round until it ends
    clock.advance(10 * minute);
    await vi.waitFor(() => expect(rep.stats().rounds).toBe(2));
    expect(net.checked()).toEqual([0x10, 0x10]);
  });
});

describe('Replicator: a record another holder just checked', () => {
  it('skips a record a peer audited or stored here within the last interval, and checks it again after', async () => {
    for (const first of [0x10, 0x20, 0x30]) await hold(key(first));
    for (const first of [0x10, 0x20, 0x30]) for (const c of [A, B, C]) net.give(c, key(first), VALUE);
    const rep = replicator({ interval: 10 * minute });
    rep.peerChecked(key(0x10));
    clock.advance(9 * minute);
    rep.peerChecked(key(0x20));
    clock.advance(minute);
    await rep.round(); // 0x10 was checked by a peer 10 minutes ago: no longer covered
    expect(net.checked()).toEqual([0x10, 0x30]);
    expect(rep.stats()).toMatchObject({ checked: 2, skipped: 1 });
    clock.advance(10 * minute);
    await rep.round();
    expect(net.checked().slice(2)).toEqual([0x10, 0x20, 0x30]);
  });

  it('skips a queued key only for a peer check made after it was queued', async () => {
    for (const first of [0x05, 0x06]) await hold(key(first));
    const rep = replicator({ interval: 10 * minute, urgentDelay: 5000 });
    rep.start();
    rep.peerChecked(key(0x05)); // before the departure: says nothing about it
    clock.advance(1000);
    rep.nodeLost(contact(0x00)); // queues 0x05 and 0x06
    clock.advance(1000);
    rep.peerChecked(key(0x06)); // another holder saw the departure first and checked 0x06
    clock.advance(4000);
    await vi.waitFor(() => expect(rep.stats().urgentRounds).toBe(1));
    await vi.waitFor(() => expect(rep.stats().checked).toBe(1));
    expect(net.checked()).toEqual([0x05]);
    expect(rep.stats().skipped).toBe(1);
  });

  it('still republishes its own record when the republish is due, checked by a peer or not', async () => {
    await hold(key(0x10), { origin: SELF_SOURCE });
    const rep = replicator({ interval: 10 * minute, republishInterval: hour });
    await rep.round(); // the first republish
    expect(rep.stats().republished).toBe(3);
    clock.advance(30 * minute);
    rep.peerChecked(key(0x10));
    await rep.round(); // not due, and a peer checked it: skipped
    expect(rep.stats()).toMatchObject({ republished: 3, skipped: 1 });
    clock.advance(30 * minute);
    rep.peerChecked(key(0x10));
    await rep.round(); // due: re-sent to every holder whatever the peer did
    expect(rep.stats()).toMatchObject({ republished: 6, skipped: 1 });
  });
});
