/**
 * T16: least-recently-seen eviction only after the old contact fails its pings (Kademlia §2.2,
 * BEP 5). The table only reports a full bucket; this small fake policy plays the node's part.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Contact, NodeId } from '../../src/id/index.js';
import { RoutingTable } from '../../src/routing/index.js';
import { EVICTION_PING_TRIES } from '../../src/util/index.js';
import { report } from '../helpers/report.js';
import { THRESHOLDS } from '../thresholds.js';
import { contactOf, hex, idMaker, idOf } from './helpers.js';

/** A synchronous stand-in for the node's maintenance: ping the oldest, evict it if silent. */
class FakePolicy {
  readonly pings: string[] = [];
  now = 100;

  constructor(readonly table: RoutingTable, readonly alive: Set<string>) {}

  offer(contact: Contact): void {
    this.now++;
    const result = this.table.add(contact, this.now);
    if (result.status !== 'full') return;
    const oldest = result.oldest.contact;
    for (let attempt = 0; attempt < EVICTION_PING_TRIES; attempt++) {
      this.pings.push(hex(oldest.id));
      if (this.alive.has(hex(oldest.id))) {
        this.table.add(oldest, this.now); // its PONG is fresh evidence of life
        return;
      }
      this.table.recordFailure(oldest.id);
    }
    this.table.replace(oldest.id, undefined, this.now);
  }
}

function fullTable(alive: (index: number) => boolean) {
  const self = idOf(0);
  const table = new RoutingTable(self, { k: 4, replacementCacheSize: 2 });
  const make = idMaker(self, 16);
  const members = Array.from({ length: 4 }, () => contactOf(make(0)));
  const policy = new FakePolicy(table, new Set(members.filter((_, i) => alive(i)).map((c) => hex(c.id))));
  members.forEach((c) => policy.offer(c));
  return { table, policy, members, newcomer: contactOf(make(0)) };
}

const hexes = (contacts: readonly { id: NodeId }[]): string[] => contacts.map((c) => hex(c.id));

/** Eviction decisions judged by the scenarios below, for T16's report. */
const tally = { decisions: 0, correct: 0, pings: 0 };
function judge(correct: boolean, pings: number): void {
  tally.decisions++;
  if (correct) tally.correct++;
  tally.pings += pings;
}

describe('T16 eviction of the least-recently-seen contact', () => {
  afterAll(() => {
    const correct = tally.decisions === 0 ? 0 : tally.correct / tally.decisions;
    const pings = tally.decisions === 0 ? 0 : tally.pings / tally.decisions;
    const threshold = THRESHOLDS.T16.decisions_correct;
    report({ test: 'T16', figure: 'decisions_correct', value: correct, threshold, pass: tally.decisions === 2 && correct >= threshold });
    // At most the pings BEP 5's "try once more" allows per decision.
    report({ test: 'T16', figure: 'pings_per_decision', value: pings, threshold: EVICTION_PING_TRIES, pass: pings <= EVICTION_PING_TRIES });
  });

  it('T16 keeps the oldest contact when it answers the ping; the newcomer waits in the replacement cache', () => {
    const { table, policy, members, newcomer } = fullTable(() => true);
    policy.offer(newcomer);
    judge(table.has(members[0]!.id) && !table.has(newcomer.id) && table.buckets()[0]?.replacements === 1, policy.pings.length);
    expect(policy.pings).toEqual([hex(members[0]!.id)]);
    expect(table.has(members[0]!.id)).toBe(true);
    expect(table.has(newcomer.id)).toBe(false);
    // The answer made the oldest the most recently seen.
    expect(hexes(table.entries().map((e) => e.contact))).toEqual(hexes([members[1]!, members[2]!, members[3]!, members[0]!]));
    expect(table.buckets()).toEqual([{ index: 0, size: 4, replacements: 1, lastChanged: 105 }]);
    // Should a contact later leave, the waiting newcomer takes its place.
    table.remove(members[2]!.id, 200);
    expect(table.has(newcomer.id)).toBe(true);
  });

  it('T16 replaces the oldest contact by the newcomer after it fails both pings', () => {
    const { table, policy, members, newcomer } = fullTable((i) => i !== 0);
    policy.offer(newcomer);
    judge(!table.has(members[0]!.id) && table.has(newcomer.id), policy.pings.length);
    expect(policy.pings).toEqual([hex(members[0]!.id), hex(members[0]!.id)]);
    expect(table.has(members[0]!.id)).toBe(false);
    expect(table.get(newcomer.id)).toMatchObject({ lastSeen: 105, addedAt: 105, failures: 0 });
    expect(hexes(table.entries().map((e) => e.contact))).toEqual(hexes([members[1]!, members[2]!, members[3]!, newcomer]));
    expect(table.size).toBe(4);
    expect(table.buckets()[0]?.replacements).toBe(0);
  });

  it('T16 counts the failed pings on the entry until it is evicted', () => {
    const { table, members } = fullTable(() => false);
    expect(table.recordFailure(members[0]!.id)).toBe(1);
    expect(table.recordFailure(members[0]!.id)).toBe(EVICTION_PING_TRIES);
    expect(table.get(members[0]!.id)?.failures).toBe(EVICTION_PING_TRIES);
  });
});
