/**
 * Disjoint-path lookups (S/Kademlia): no peer is queried by two paths, seeds are dealt
 * round-robin, one path is the plain lookup, and the merged result is the closest answers.
 * Driven against an in-memory graph of contacts (pure routing logic, no transport).
 */
import { describe, expect, it } from 'vitest';
import { type Contact, compareDistance, type Id, idToHex, type NodeId } from '../../src/id/index.js';
import { driveDisjointLookup, Lookup, type QueryAnswer } from '../../src/lookup/index.js';
import { ManualClock, SeededRandom } from '../../src/util/index.js';

function network(n: number, seed: number): { contacts: Contact[]; answer: (c: Contact, target: Id) => Contact[] } {
  const random = new SeededRandom(seed);
  const contacts: Contact[] = Array.from({ length: n }, (_, i) => ({ id: random.bytes(32) as NodeId, host: `10.0.${i >> 8}.${i & 255}`, port: 4000 }));
  // Each peer knows 30 random others plus its 8 nearest: enough for lookups to converge.
  const known = new Map(contacts.map((c) => {
    const near = [...contacts].sort((a, b) => compareDistance(c.id, a.id, b.id)).slice(1, 9);
    const far = Array.from({ length: 30 }, () => contacts[random.int(n)]!);
    return [idToHex(c.id), [...near, ...far]];
  }));
  const answer = (c: Contact, target: Id): Contact[] =>
    [...known.get(idToHex(c.id))!].sort((a, b) => compareDistance(target, a.id, b.id)).slice(0, 20);
  return { contacts, answer };
}

describe('driveDisjointLookup', () => {
  it('queries no peer twice across d = 4 paths and still finds the closest peers', async () => {
    const { contacts, answer } = network(400, 7);
    const random = new SeededRandom(99);
    for (let run = 0; run < 10; run++) {
      const target = random.bytes(32) as NodeId;
      const asked = new Map<string, number>();
      const query = async (c: Contact): Promise<QueryAnswer> => {
        asked.set(idToHex(c.id), (asked.get(idToHex(c.id)) ?? 0) + 1);
        return { closer: answer(c, target) };
      };
      const seeds = contacts.slice(run * 20, run * 20 + 20);
      const result = await driveDisjointLookup({ target, k: 8 }, seeds, 4, query, { clock: new ManualClock() });
      expect(result.paths).toHaveLength(4);
      expect(Math.max(...asked.values())).toBe(1);
      expect(result.queried).toBe(asked.size);
      const truth = [...contacts].sort((a, b) => compareDistance(target, a.id, b.id)).slice(0, 8).map((c) => idToHex(c.id));
      const found = result.closest.map((c) => idToHex(c.id));
      expect(found.filter((h) => truth.includes(h)).length).toBeGreaterThanOrEqual(7);
      expect(found).toEqual([...found].sort((a, b) => compareDistance(target, Buffer.from(a, 'hex') as unknown as Id, Buffer.from(b, 'hex') as unknown as Id)));
    }
  });

  it('deals the seeds round-robin: each path starts from its own share', async () => {
    const { contacts } = network(40, 3);
    const firstAsked: string[][] = [[], [], []];
    let path = 0;
    const target = contacts[0]!.id;
    const query = async (c: Contact): Promise<QueryAnswer> => {
      firstAsked[path++ % 3]!.push(idToHex(c.id));
      return { closer: [] };
    };
    const seeds = contacts.slice(1, 10);
    const result = await driveDisjointLookup({ target, k: 20, alpha: 1 }, seeds, 3, query, { clock: new ManualClock() });
    expect(result.queried).toBe(9);
    expect(result.paths.map((p) => p.queried)).toEqual([3, 3, 3]);
    await expect(driveDisjointLookup({ target }, seeds, 0, query, { clock: new ManualClock() })).rejects.toThrow(RangeError);
  });

  it('a claim that refuses skips the candidate: it is neither queried nor waited for', async () => {
    const { contacts } = network(10, 5);
    const target = contacts[0]!.id;
    const refused = idToHex(contacts[1]!.id);
    const lookup = new Lookup({ target, k: 5, claim: (c) => idToHex(c.id) !== refused }, contacts.slice(1, 6));
    const queried: string[] = [];
    for (let action = lookup.next(0); action.type === 'query'; action = lookup.next(0)) {
      queried.push(idToHex(action.contact.id));
      lookup.onSuccess(action.contact, []);
    }
    expect(queried).not.toContain(refused);
    expect(queried).toHaveLength(4);
    expect(lookup.next(0).type).toBe('done');
  });
});
