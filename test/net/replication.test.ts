/**
 * Replication through the network (docs/replication.md): a 30-node loopback testnet, values
 * stored with r = 3, then a third of the nodes stopped at once. Full repair rounds are driven
 * with `node.replicate()` on every survivor (the timers are set to a day); urgent rounds run on
 * their own once a bucket refresh has removed the departed nodes from the survivors' tables
 * (docs/replication.md). Afterwards every value is read back from a survivor and the live replicas per key are
 * counted before and after. Also: a full node refuses a STORE with STORAGE_FULL and the
 * publisher moves on to the next closest, and audits feed the auditor's reputation book.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareDistance, idToHex, type Key, keyFromContent, randomIdInBucket } from '../../src/id/index.js';
import type { DhtNode } from '../../src/node/index.js';
import { NEUTRAL_SCORE } from '../../src/reputation/index.js';
import { bytesEqual, hour, SeededRandom } from '../../src/util/index.js';
import { mutableKey, setKey } from '../../src/values/index.js';
import { createTestnet, type Testnet } from '../helpers/index.js';
import { eachLimited } from '../helpers/peers.js';
import { report } from '../helpers/report.js';

const N = 30;
const R = 3;
const KILLED = 10;
const MAX_ROUNDS = 3;
const IMMUTABLE = 30;
const MUTABLE = 5;
const SETS = 5;
/** Storage cap of the one small node: less than any value, so it refuses every STORE. */
const TINY_CAP = 64;

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

/** One stored value and how to read it back. */
interface Stored {
  kind: 'immutable' | 'mutable' | 'set';
  key: Key;
  value: Uint8Array;
  publisher: DhtNode;
  salt?: Uint8Array;
  /** The writer's key (a mutable record is read by it). */
  publicKey?: Uint8Array;
}

let net: Testnet;
let tiny: DhtNode;
const stored: Stored[] = [];
const dead = new Set<DhtNode>();

beforeAll(async () => {
  net = await createTestnet(N - 1, {
    // Seeded ids; no timer-driven round: the test drives every round itself.
    random: new SeededRandom(3030), repairInterval: 24 * hour, republishInterval: 24 * hour,
    // Stopped nodes cost a timeout per query that reaches them: keep it short on loopback.
    queryTimeout: 2000, lookupTimeout: 20_000,
  });
  tiny = await net.addNode({ storageCap: TINY_CAP });
  // A node whose join PING timed out while the machine was busy joins again (once).
  for (const n of net.nodes) if (n.routingTable.size === 0) await n.bootstrap();
});

afterAll(async () => {
  await net?.destroy();
});

const live = (): DhtNode[] => net.nodes.filter((n) => !dead.has(n));
const holders = (key: Key, nodes = live()): number => nodes.filter((n) => n.holds(key)).length;
/** The `count` live nodes closest to `key` that have room (the tiny node never does). */
const closestWithRoom = (key: Key, count: number): DhtNode[] =>
  live().filter((n) => n !== tiny).sort((a, b) => compareDistance(key, a.id, b.id)).slice(0, count);
/**
 * Kademlia §2.3 bucket refresh, run now on every node: two lookups of random ids in each of its
 * non-empty buckets, all at once. Stopped peers met on the way time out twice and leave the
 * tables; the nodes would do this in the minutes between a failure and the repair timer
 * (repairInterval, 10 min by default). Without it, every lookup of the first repair round waits
 * a slow-peer interval (2 s) per hop for the stopped peers that idle nodes still hand out.
 */
async function refreshTables(nodes: readonly DhtNode[], random: SeededRandom): Promise<number> {
  const started = performance.now();
  await Promise.all(nodes.map((n) => Promise.all(n.routingTable.buckets().flatMap((b) => [0, 1].map(() => n.lookup(randomIdInBucket(n.id, b.index, (k) => random.bytes(k))))))));
  return performance.now() - started;
}

/** Entries of stopped nodes in the routing tables of `nodes`. */
function staleEntries(nodes: readonly DhtNode[], stopped: ReadonlySet<string>): number {
  return nodes.reduce((sum, n) => sum + n.routingTable.closest(n.id, 10_000).filter((c) => stopped.has(idToHex(c.id))).length, 0);
}

/** Content whose key has `node` as the closest of all nodes (brute force, ~N tries). */
function contentClosestTo(node: DhtNode, label: string): Uint8Array {
  for (let i = 0; i < 100 * N; i++) {
    const content = text(`${label} ${i} ${'x'.repeat(100)}`);
    const key = keyFromContent(content);
    const first = [...net.nodes].sort((a, b) => compareDistance(key, a.id, b.id))[0];
    if (first === node) return content;
  }
  throw new Error(`no content found whose key is closest to ${idToHex(node.id)}`);
}

describe('Replication on a 30-node testnet (r = 3)', () => {
  it('a full node refuses a STORE with STORAGE_FULL, the publisher moves on to the next closest and remembers it', async () => {
    const publisher = net.nodes[1]!;
    const refusedAt = (): number => { const s = tiny.extendedStats().storage!; return s.refusedFull + s.refusedQuota; };
    const before = refusedAt();

    const first = await publisher.put(contentClosestTo(tiny, 'capacity one'), { replicationFactor: R });
    const afterFirst = refusedAt();
    // The publisher records 'store_full' only for a refusal with the STORAGE_FULL code (507).
    const fullEvents = publisher.reputation.get(tiny.id, Date.now())?.events.store_full ?? 0;
    expect(first.replicas).toHaveLength(R);
    expect(first.replicas.some((c) => bytesEqual(c.id, tiny.id))).toBe(false);
    expect(tiny.holds(first.key)).toBe(false);
    expect(net.nodes.filter((n) => n !== publisher && n.holds(first.key)).length).toBeGreaterThanOrEqual(R - 1);
    expect(afterFirst - before).toBe(1);
    expect(fullEvents).toBe(1);

    // A second value for which the tiny node is again the closest: the publisher knows it is
    // full and does not ask it (no new refusal there), and the value still gets r replicas.
    const second = await publisher.put(contentClosestTo(tiny, 'capacity two'), { replicationFactor: R });
    expect(second.replicas).toHaveLength(R);
    expect(refusedAt()).toBe(afterFirst);
    expect(publisher.reputation.get(tiny.id, Date.now())?.events.store_full).toBe(1);
    // Honest back-pressure is not penalised.
    expect(publisher.reputation.isBad(tiny.id, Date.now())).toBe(false);
    report({ test: 'replication', figure: 'full_node_refusals', value: afterFirst - before });
    report({ test: 'replication', figure: 'full_node_replicas', value: Math.min(first.replicas.length, second.replicas.length) });
  });

  it('keeps every value retrievable when a third of the nodes stop, repair restoring r replicas on the closest survivors', async () => {
    const started = performance.now();
    const random = new SeededRandom(27);
    // 30 immutable, 5 mutable (salted, one writer each), 5 sets, from seeded-chosen publishers.
    const jobs = Array.from({ length: IMMUTABLE + MUTABLE + SETS }, (_, i) => i);
    const publisherOf = jobs.map(() => net.nodes[random.int(N)]!);
    await eachLimited(jobs, 6, async (i) => {
      const publisher = publisherOf[i]!;
      if (i < IMMUTABLE) {
        const value = text(`replicated immutable ${i}`);
        const put = await publisher.put(value, { replicationFactor: R });
        stored.push({ kind: 'immutable', key: put.key, value, publisher });
      } else if (i < IMMUTABLE + MUTABLE) {
        const value = text(`replicated mutable ${i}`);
        const salt = text(`replication ${i}`);
        const put = await publisher.putMutable(value, { salt, replicationFactor: R });
        expect(bytesEqual(put.key, mutableKey(publisher.identity.dsa.publicKey, salt))).toBe(true);
        stored.push({ kind: 'mutable', key: put.key, value, publisher, salt, publicKey: publisher.identity.dsa.publicKey });
      } else {
        const value = text(`replicated set entry ${i}`);
        const key = setKey(`replication topic ${i}`);
        await publisher.addToSet(key, value, { replicationFactor: R });
        stored.push({ kind: 'set', key, value, publisher });
      }
    });
    const stores = performance.now();
    expect(stored).toHaveLength(IMMUTABLE + MUTABLE + SETS);
    const initial = stored.map((s) => holders(s.key));
    expect(Math.min(...initial)).toBeGreaterThanOrEqual(R);

    // Stop a seeded third of the nodes at once. A candidate whose loss would leave some value
    // with no live holder at all is passed over: no repair can bring back a value nobody holds
    // (with r = 3 plus the publisher's copy, ~0.8 % per value when a third dies at once).
    let skipped = 0;
    const order = [...net.nodes].map((n) => ({ n, r: random.next() })).sort((a, b) => a.r - b.r).map((x) => x.n);
    for (const n of order) {
      if (dead.size === KILLED) break;
      const wouldLose = stored.some((s) => n.holds(s.key) && holders(s.key, live().filter((m) => m !== n)) === 0);
      if (wouldLose) { skipped++; continue; }
      dead.add(n);
    }
    const stoppedIds = new Set([...dead].map((n) => idToHex(n.id)));
    await Promise.all([...dead].map((n) => n.stop()));
    const survivors = live();
    expect(survivors).toHaveLength(N - KILLED);
    // Counted at once: the refresh below removes the departed nodes from the survivors' tables,
    // and each removal starts an urgent repair of the keys the departed node was closer to.
    const before = stored.map((s) => holders(s.key, survivors));
    const lostSome = before.filter((h, i) => h < initial[i]!).length;
    const placedComplete = (): number => stored.filter((s) => closestWithRoom(s.key, R).every((n) => n.holds(s.key))).length / stored.length;
    const placedBefore = placedComplete();
    const staleBefore = staleEntries(survivors, stoppedIds);
    const refreshMs = await refreshTables(survivors, random);
    const staleAfter = staleEntries(survivors, stoppedIds);

    // Repair rounds on every survivor, at most MAX_ROUNDS, until every value sits on its r
    // closest survivors (with room).
    let rounds = 0;
    while (rounds < MAX_ROUNDS && placedComplete() < 1) {
      await Promise.all(survivors.map((n) => n.replicate()));
      rounds++;
    }
    const repairedAt = performance.now();
    const after = stored.map((s) => holders(s.key, survivors));
    const placedAfter = placedComplete();
    const totals = { repaired: 0, republished: 0, checked: 0, passed: 0, missing: 0, failed: 0, silent: 0, failures: 0, urgentRounds: 0 };
    for (const n of survivors) {
      const s = n.extendedStats().replication!;
      totals.repaired += s.repaired;
      totals.republished += s.republished;
      totals.checked += s.checked;
      totals.passed += s.auditsPassed;
      totals.missing += s.auditsMissing;
      totals.failed += s.auditsFailed;
      totals.silent += s.auditsSilent;
      totals.failures += s.failures;
      totals.urgentRounds += s.urgentRounds;
    }

    // Every value is read back from a survivor that does not hold it (a network read).
    let retrievable = 0;
    await eachLimited(stored, 6, async (s) => {
      const reader = survivors.find((n) => !n.holds(s.key) && n !== s.publisher) ?? survivors[0]!;
      if (s.kind === 'immutable') {
        const got = await reader.get(s.key);
        if (bytesEqual(got.value, s.value)) retrievable++;
      } else if (s.kind === 'mutable') {
        const got = await reader.getMutable(s.publicKey!, { salt: s.salt });
        if (bytesEqual(got.value, s.value)) retrievable++;
      } else {
        const got = await reader.getSet(s.key);
        if (got.entries.some((e) => bytesEqual(e.value, s.value))) retrievable++;
      }
    });
    const done = performance.now();

    process.stdout.write(`\nreplication: ${N} nodes, ${stored.length} values at r = ${R}; stopped ${KILLED} (${skipped} candidates passed over); `
      + `${lostSome} values lost a holder; live holders min/median ${Math.min(...before)}/${median(before)} -> ${Math.min(...after)}/${median(after)} `
      + `after ${totals.urgentRounds} urgent and ${rounds} full round(s); on their r closest survivors ${placedBefore.toFixed(2)} -> ${placedAfter.toFixed(2)}; `
      + `repaired ${totals.repaired}, audits pass/missing/fail/silent ${totals.passed}/${totals.missing}/${totals.failed}/${totals.silent}, `
      + `lookup failures ${totals.failures}; retrievable ${retrievable}/${stored.length}; `
      + `stale table entries ${staleBefore} -> ${staleAfter} after a ${Math.round(refreshMs)} ms bucket refresh; `
      + `stores ${Math.round(stores - started)} ms, repair ${Math.round(repairedAt - stores - refreshMs)} ms, reads ${Math.round(done - repairedAt)} ms\n\n`);
    report({ test: 'replication', figure: 'values_losing_a_holder', value: lostSome });
    report({ test: 'replication', figure: 'live_replicas_min_before', value: Math.min(...before) });
    report({ test: 'replication', figure: 'live_replicas_median_before', value: median(before) });
    report({ test: 'replication', figure: 'live_replicas_min_after', value: Math.min(...after), threshold: R, pass: Math.min(...after) >= R });
    report({ test: 'replication', figure: 'live_replicas_median_after', value: median(after) });
    report({ test: 'replication', figure: 'placed_on_r_closest_before', value: placedBefore });
    report({ test: 'replication', figure: 'placed_on_r_closest_after', value: placedAfter, threshold: 1, pass: placedAfter === 1 });
    report({ test: 'replication', figure: 'repair_rounds', value: rounds });
    report({ test: 'replication', figure: 'urgent_rounds', value: totals.urgentRounds });
    report({ test: 'replication', figure: 'repair_ms', value: Math.round(repairedAt - stores - refreshMs) });
    report({ test: 'replication', figure: 'stale_entries_after_refresh', value: staleAfter });
    report({ test: 'replication', figure: 'replicas_repaired', value: totals.repaired });
    report({ test: 'replication', figure: 'retrievable', value: retrievable / stored.length, threshold: 1, pass: retrievable === stored.length });

    expect(lostSome).toBeGreaterThan(0); // the stopped third included holders
    expect(Math.min(...before)).toBeLessThan(R);
    expect(retrievable).toBe(stored.length);
    expect(Math.min(...after)).toBeGreaterThanOrEqual(R);
    expect(placedAfter).toBe(1);
    expect(rounds).toBeLessThanOrEqual(MAX_ROUNDS);
    // Counters agree with the outcome: replicas were created where they were missing, and no
    // honest holder failed an audit.
    expect(totals.repaired).toBeGreaterThan(0);
    expect(totals.missing).toBeGreaterThan(0);
    expect(totals.passed).toBeGreaterThan(0);
    expect(totals.failed).toBe(0);
  });

  it('audits passed by holders are recorded in the auditor\'s reputation book and raise their score above neutral', () => {
    const now = Date.now();
    let auditedPairs = 0;
    let aboveNeutral = 0;
    for (const auditor of live()) {
      const passed = auditor.extendedStats().replication!.auditsPassed;
      const book = auditor.reputation.stats(now);
      // Every pass the replicator counted reached the book, and nothing failed.
      expect(book.events.audit_pass).toBe(passed);
      expect(book.events.audit_fail).toBe(0);
      for (const peer of auditor.reputation.list(now)) {
        if (peer.events.audit_pass === 0) continue;
        auditedPairs++;
        if (peer.score > NEUTRAL_SCORE) aboveNeutral++;
      }
    }
    report({ test: 'replication', figure: 'audited_holder_pairs', value: auditedPairs });
    report({ test: 'replication', figure: 'audited_holders_above_neutral', value: aboveNeutral / Math.max(1, auditedPairs), threshold: 1, pass: aboveNeutral === auditedPairs });
    expect(auditedPairs).toBeGreaterThan(0);
    expect(aboveNeutral).toBe(auditedPairs);
  });

  it('holders skip the records another holder has just audited or stored at them', async () => {
    const [first, ...others] = live();
    const before = others.map((n) => n.extendedStats().replication!);
    await first!.replicate(); // checks all its records: audits their other holders, repairs the rest
    const audited = first!.extendedStats().replication!;
    await Promise.all(others.map((n) => n.replicate()));
    const skipped = others.reduce((sum, n, i) => sum + n.extendedStats().replication!.skipped - before[i]!.skipped, 0);
    report({ test: 'replication', figure: 'records_skipped_after_peer_check', value: skipped });
    expect(audited.auditsPassed + audited.repaired).toBeGreaterThan(0);
    expect(skipped).toBeGreaterThan(0);
  });
});
