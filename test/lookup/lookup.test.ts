import { describe, expect, it } from 'vitest';
import { compareDistance, type Contact, type Id, idToHex } from '../../src/id/index.js';
import { driveLookup, Lookup } from '../../src/lookup/index.js';
import { ManualClock, SeededRandom } from '../../src/util/index.js';

/** A pure in-process "network" of ids: each node knows a random subset plus its nearest peers. */
function makeWorld(n: number, seed: number) {
  const rnd = new SeededRandom(seed);
  const nodes: Contact[] = Array.from({ length: n }, (_, i) => ({ id: rnd.bytes(32) as Id, host: '127.0.0.1', port: 1000 + i }));
  const closestOf = (target: Id, pool: Contact[], k: number) =>
    [...pool].sort((a, b) => compareDistance(target, a.id, b.id)).slice(0, k);
  const known = new Map<string, Contact[]>();
  for (const node of nodes) {
    const sample = Array.from({ length: 60 }, () => nodes[rnd.int(n)]!);
    known.set(idToHex(node.id), [...new Set([...closestOf(node.id, nodes, 21).slice(1), ...sample])]);
  }
  const answer = (c: Contact, target: Id, k: number) => closestOf(target, known.get(idToHex(c.id))!, k);
  return { nodes, rnd, answer, closestOf };
}

function runSync(lookup: Lookup, answer: (c: Contact) => Contact[] | null, inFlight: Contact[] = []): void {
  // Answers one query at a time, in FIFO order, bounded in steps.
  for (let step = 0; step < 10_000; step++) {
    const action = lookup.next(step);
    if (action.type === 'query') { inFlight.push(action.contact); continue; }
    if (action.type === 'done') return;
    const c = inFlight.shift()!;
    const reply = answer(c);
    if (reply === null) lookup.onFailure(c);
    else lookup.onSuccess(c, reply);
  }
  throw new Error('lookup did not terminate in 10,000 steps');
}

describe('Lookup (sans-IO iterative FIND_NODE)', () => {
  it('finds the true k closest nodes of a 2,000-node world', () => {
    const world = makeWorld(2000, 7);
    let recallSum = 0;
    const runs = 50;
    for (let i = 0; i < runs; i++) {
      const target = world.rnd.bytes(32) as Id;
      const seeds = world.nodes.slice(0, 3);
      const lookup = new Lookup({ target, k: 20, alpha: 3 }, seeds);
      runSync(lookup, (c) => world.answer(c, target, 20));
      const truth = new Set(world.closestOf(target, world.nodes, 20).map((c) => idToHex(c.id)));
      const found = lookup.closest().filter((c) => truth.has(idToHex(c.id))).length;
      recallSum += found / 20;
      expect(lookup.progress.maxInFlight).toBeLessThanOrEqual(3);
      expect(lookup.hops).toBeGreaterThan(0);
    }
    expect(recallSum / runs).toBeGreaterThanOrEqual(0.95);
  });

  it('never has more than alpha requests in flight and stops when the k closest answered', () => {
    const world = makeWorld(300, 3);
    const target = world.rnd.bytes(32) as Id;
    const lookup = new Lookup({ target, k: 5, alpha: 2 }, world.nodes.slice(0, 10));
    const first = [lookup.next(0), lookup.next(0), lookup.next(0)];
    expect(first.map((a) => a.type)).toEqual(['query', 'query', 'wait']);
    const asked = first.flatMap((a) => (a.type === 'query' ? [a.contact] : []));
    runSync(lookup, (c) => world.answer(c, target, 5), asked);
    expect(lookup.finished).toBe(true);
    expect(lookup.next(1)).toEqual({ type: 'done' });
    expect(lookup.closest()).toHaveLength(5);
  });

  it('skips failed peers and still ends with the live closest', () => {
    const world = makeWorld(500, 11);
    const target = world.rnd.bytes(32) as Id;
    const dead = new Set(world.closestOf(target, world.nodes, 5).map((c) => idToHex(c.id)));
    const lookup = new Lookup({ target, k: 10 }, world.nodes.slice(0, 5));
    runSync(lookup, (c) => (dead.has(idToHex(c.id)) ? null : world.answer(c, target, 20)));
    const result = lookup.closest();
    expect(result.some((c) => dead.has(idToHex(c.id)))).toBe(false);
    const liveTruth = world.closestOf(target, world.nodes.filter((c) => !dead.has(idToHex(c.id))), 10);
    const truth = new Set(liveTruth.map((c) => idToHex(c.id)));
    expect(result.filter((c) => truth.has(idToHex(c.id))).length).toBeGreaterThanOrEqual(8);
    expect(lookup.progress.failed).toBeGreaterThanOrEqual(dead.size);
  });

  it('ends at once with no seeds, and ignores answers from peers it did not ask', () => {
    const target = new Uint8Array(32) as Id;
    const empty = new Lookup({ target }, []);
    expect(empty.next(0)).toEqual({ type: 'done' });
    const stranger: Contact = { id: new Uint8Array(32).fill(9) as Id, host: '127.0.0.1', port: 9 };
    const lookup = new Lookup({ target }, [{ ...stranger, port: 10, id: new Uint8Array(32).fill(1) as Id }]);
    lookup.onSuccess(stranger, [stranger]);
    expect(lookup.progress.succeeded).toBe(0);
  });

  it('validates its options by name', () => {
    const target = new Uint8Array(32) as Id;
    expect(() => new Lookup({ target, k: 0 }, [])).toThrow('options.k must be a positive integer');
    expect(() => new Lookup({ target, alpha: 1.5 }, [])).toThrow('options.alpha must be a positive integer');
  });
});

describe('driveLookup', () => {
  it('continues past peers whose value is rejected and returns the accepted one', async () => {
    const clock = new ManualClock();
    const world = makeWorld(200, 5);
    const target = world.rnd.bytes(32) as Id;
    const holders = world.closestOf(target, world.nodes, 6);
    const poisoned = new Set(holders.slice(0, 3).map((c) => idToHex(c.id)));
    const honest = idToHex(holders[4]!.id);
    const lookup = new Lookup({ target, k: 20 }, world.nodes.slice(0, 3));
    const result = await driveLookup(lookup, async (c) => {
      const hex = idToHex(c.id);
      if (poisoned.has(hex)) return { closer: [], value: Uint8Array.of(0) };
      if (hex === honest) return { closer: [], value: Uint8Array.of(1) };
      return { closer: world.answer(c, target, 20) };
    }, { clock, accept: async (v) => (v[0] === 1 ? v : null) });
    expect(result.value).toEqual(Uint8Array.of(1));
    expect(result.rejected).toBeGreaterThanOrEqual(1);
    expect(result.lacking.length).toBeGreaterThan(0);
  });

  it('fetches a held value from one holder at a time, moving on past a forged one; holders are not lacking', async () => {
    const clock = new ManualClock();
    const world = makeWorld(200, 6);
    const target = world.rnd.bytes(32) as Id;
    const holders = world.closestOf(target, world.nodes, 4);
    const held = new Set(holders.map((c) => idToHex(c.id)));
    const forger = idToHex(holders[0]!.id);
    const fetched: string[] = [];
    let running = 0;
    let maxRunning = 0;
    const lookup = new Lookup({ target, k: 20 }, world.nodes.slice(0, 3));
    const result = await driveLookup(lookup, async (c) => {
      if (held.has(idToHex(c.id))) return { closer: world.answer(c, target, 20), held: true };
      return { closer: world.answer(c, target, 20) };
    }, {
      clock,
      accept: async (v) => (v[0] === 1 ? v : null),
      fetch: async (c) => {
        fetched.push(idToHex(c.id));
        maxRunning = Math.max(maxRunning, ++running);
        await new Promise((r) => setImmediate(r));
        running--;
        return idToHex(c.id) === forger ? Uint8Array.of(0) : Uint8Array.of(1);
      },
    });
    expect(result.value).toEqual(Uint8Array.of(1));
    expect(maxRunning).toBe(1);
    // The first holder met is fetched from first; a forged answer costs one more fetch at most.
    expect(fetched.length).toBeLessThanOrEqual(2);
    expect(result.rejected).toBe(fetched[0] === forger ? 1 : 0);
    expect(result.lacking.some((c) => held.has(idToHex(c.id)))).toBe(false);
  });

  it('waits for a held value being fetched after every peer answered, and ends without one when every fetch fails', async () => {
    const clock = new ManualClock();
    const world = makeWorld(100, 7);
    const target = world.rnd.bytes(32) as Id;
    const holder = idToHex(world.closestOf(target, world.nodes, 1)[0]!.id);
    let release: (v: Uint8Array | null) => void = () => {};
    const lookup = new Lookup({ target, k: 20 }, world.nodes.slice(0, 3));
    const query = async (c: Contact) => (idToHex(c.id) === holder ? { closer: [], held: true } : { closer: world.answer(c, target, 20) });
    const pending = driveLookup(lookup, query, { clock, fetch: () => new Promise((r) => { release = r; }) });
    let ended = false;
    void pending.then(() => { ended = true; });
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    expect(ended).toBe(false); // every peer answered; the fetch still runs
    release(Uint8Array.of(7));
    expect((await pending).value).toEqual(Uint8Array.of(7));

    const failing = await driveLookup(new Lookup({ target, k: 20 }, world.nodes.slice(0, 3)), query, { clock, fetch: async () => { throw new Error('timeout'); } });
    expect(failing.value).toBeNull();
    expect(failing.timedOut).toBe(false);
  });

  it('ends by the lookup deadline when peers never answer', async () => {
    const clock = new ManualClock();
    const world = makeWorld(50, 9);
    const lookup = new Lookup({ target: world.nodes[0]!.id, k: 20 }, world.nodes.slice(1, 10));
    let sent = 0;
    const pending = driveLookup(lookup, () => { sent++; return new Promise(() => {}); }, { clock, timeout: 1000 });
    clock.advance(1000);
    const result = await pending;
    expect(result.timedOut).toBe(true);
    expect(sent).toBe(3);
    expect(result.maxInFlight).toBeLessThanOrEqual(3);
  });
});

describe('slow peers', () => {
  it('a peer silent past slowAfter frees its slot and stops holding up termination', () => {
    const target = new Uint8Array(32) as Id;
    const peers: Contact[] = Array.from({ length: 4 }, (_, i) => ({ id: new Uint8Array(32).fill(i + 1) as Id, host: '127.0.0.1', port: 1 + i }));
    const lookup = new Lookup({ target, k: 2, alpha: 1, slowAfter: 100 }, peers);
    const a = lookup.next(0);
    expect(a).toMatchObject({ type: 'query', contact: peers[0] });
    expect(lookup.next(50)).toEqual({ type: 'wait' });
    expect(lookup.nextSlowAt).toBe(100);
    const b = lookup.next(100);
    expect(b).toMatchObject({ type: 'query', contact: peers[1] });
    lookup.onSuccess(peers[1]!, []);
    expect(lookup.next(101)).toMatchObject({ type: 'query', contact: peers[2] });
    lookup.onSuccess(peers[2]!, []);
    // The slow peer answers late: its answer still counts.
    lookup.onSuccess(peers[0]!, []);
    expect(lookup.next(102)).toEqual({ type: 'done' });
    expect(lookup.closest().map((c) => c.port)).toEqual([1, 2]);
    expect(lookup.progress).toMatchObject({ slow: 0, succeeded: 3, inFlight: 0 });
  });
});
