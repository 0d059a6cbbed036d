/**
 * ZkDhtValues end to end on an 8-node loopback testnet (real UDP, LMDB, crypto and ZK workers): a
 * value of each access level stored by one node on r = 3 holders and read back, verified, from
 * others — public by anyone, private by its owner only, restricted by its readers (an unauthorised
 * node gets ACCESS_DENIED) — then a newer version, a republish round the holders acknowledge, and
 * repair back to r holders after one is stopped.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareDistance, type Key } from '../../src/id/index.js';
import type { DhtNode } from '../../src/node/index.js';
import { hour, isDhtError, SeededRandom } from '../../src/util/index.js';
import { createTestnet, type Testnet } from '../helpers/index.js';
import { report } from '../helpers/report.js';

const N = 8;
const R = 3;
const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const failure = (p: Promise<unknown>): Promise<string> => p.then(() => 'read', (e: unknown) => (isDhtError(e) ? `${e.code}: ${e.message}` : String(e)));

let net: Testnet;
const stopped = new Set<DhtNode>();
const live = (): DhtNode[] => net.nodes.filter((n) => !stopped.has(n));
const holders = (key: Key): DhtNode[] => live().filter((n) => n.holds(key));
/** The `count` live nodes closest to `key`. */
const closest = (key: Key, count: number): DhtNode[] => live().sort((a, b) => compareDistance(key, a.id, b.id)).slice(0, count);

beforeAll(async () => {
  net = await createTestnet(N, {
    random: new SeededRandom(909), repairInterval: 24 * hour, republishInterval: 24 * hour, queryTimeout: 2000, lookupTimeout: 20_000,
  });
  for (const n of net.nodes) if (n.routingTable.size === 0) await n.bootstrap();
}, 120_000);

afterAll(async () => {
  await net?.destroy();
});

describe('ZkDhtValue on a testnet', () => {
  const keys = new Map<string, Key>();
  /** The plaintext of the newest version under each access level's key. */
  const latest = new Map<string, string>();

  it('stores a value of each access level on r holders and reads each back from other nodes as its access allows', async () => {
    const [owner, publicReader, privateReader, restricted, stranger] = [net.nodes[0]!, net.nodes[3]!, net.nodes[4]!, net.nodes[5]!, net.nodes[7]!];
    const readers = [restricted.identity.kem.publicKey, net.nodes[6]!.identity.kem.publicKey];
    for (const access of ['public', 'private', 'restricted'] as const) {
      const started = performance.now();
      const put = await owner.putZk(text(`${access} data`), { access, name: text(access), readers: access === 'restricted' ? readers : undefined });
      keys.set(access, put.key);
      latest.set(access, `${access} data`);
      report({ test: 'ZK_testnet', figure: `put_${access}_ms`, value: Math.round(performance.now() - started) });
      expect(put.replicas.length, access).toBe(R);
      expect(put.value.nonce).toBe(0n);
      expect(holders(put.key).length, access).toBeGreaterThanOrEqual(R);
    }

    const pub = await publicReader.getZk(keys.get('public')!);
    expect(pub.data).toEqual(text('public data'));
    expect(pub.holders).toBeGreaterThanOrEqual(R);

    const privateKey = keys.get('private')!;
    expect((await privateReader.getZk(privateKey, { owner: owner.zkOwner })).data).toEqual(text('private data'));
    expect(await failure(privateReader.getZk(privateKey))).toMatch(/^ACCESS_DENIED: a private value opens only with its owner's secrets/);
    // Without decrypting, anyone gets the verified ciphertext.
    const sealed = await privateReader.getZk(privateKey, { decrypt: false });
    expect(sealed.data).toBeNull();
    expect(sealed.value.accessLevel).toBe('private');
    expect(Buffer.from(sealed.value.encryptedData).includes(Buffer.from('private data'))).toBe(false);

    const restrictedKey = keys.get('restricted')!;
    expect((await restricted.getZk(restrictedKey)).data).toEqual(text('restricted data'));
    expect((await net.nodes[6]!.getZk(restrictedKey)).data).toEqual(text('restricted data'));
    expect((await publicReader.getZk(restrictedKey, { owner: owner.zkOwner })).data).toEqual(text('restricted data'));
    expect(await failure(stranger.getZk(restrictedKey))).toMatch(/^ACCESS_DENIED: this reader's ML-KEM-768 key is not among the 2 reader\(s\)/);
    expect(await failure(stranger.getZk(owner.id as Key))).toMatch(/^NOT_FOUND/);
  }, 120_000);

  it('a newer version replaces the older one everywhere a reader looks; an explicit stale nonce is refused before proving', async () => {
    const owner = net.nodes[0]!;
    const key = keys.get('restricted')!;
    const proofsBefore = owner.zkPool.stats().proofs;
    expect(await failure(owner.putZk(text('stale'), { name: text('restricted'), nonce: 0n, access: 'public' }))).toMatch(/^STALE_NONCE/);
    expect(owner.zkPool.stats().proofs).toBe(proofsBefore);
    const v1 = await owner.putZk(text('restricted data, version 1'), { name: text('restricted'), access: 'restricted', readers: [net.nodes[5]!.identity.kem.publicKey] });
    expect(v1.key).toEqual(key);
    latest.set('restricted', 'restricted data, version 1');
    expect(v1.value.nonce).toBe(1n);
    const read = await net.nodes[5]!.getZk(key);
    expect(read.value.nonce).toBe(1n);
    expect(read.data).toEqual(text('restricted data, version 1'));
    expect(read.stale).toBe(0);
    // Node 6 was a reader of version 0 only: the new data key was not wrapped to it.
    expect(await failure(net.nodes[6]!.getZk(key))).toMatch(/^ACCESS_DENIED/);
  }, 120_000);

  it('republishes to holders that already have the value and repairs back to r holders after one stops', async () => {
    const owner = net.nodes[0]!;
    const republish = await owner.replicate();
    expect(republish!.failures).toBe(0);
    expect(republish!.republished).toBeGreaterThanOrEqual(2 * keys.size);
    expect(republish!.lastRoundReplicated).toBe(1);

    // A key whose r + 1 closest nodes exclude the publisher (which keeps a copy of its own): when
    // one of the r holders stops, the node that moves up into the r closest lacks the value.
    const key = [...keys.values()].find((k) => !closest(k, R + 1).includes(owner));
    expect(key, 'a key placed away from its publisher').toBeDefined();
    const victim = closest(key!, R)[0]!;
    expect(victim.holds(key!)).toBe(true);
    await victim.stop();
    stopped.add(victim);
    const lacking = (): number => closest(key!, R).filter((n) => !n.holds(key!)).length;
    expect(lacking()).toBe(1);
    let rounds = 0;
    while (lacking() > 0 && rounds < 3) {
      rounds++;
      await Promise.all(holders(key!).map((n) => n.replicate()));
    }
    report({ test: 'ZK_testnet', figure: 'repair_rounds', value: rounds });
    expect(lacking()).toBe(0);
    expect(rounds).toBeGreaterThanOrEqual(1);
    const reader = live().find((n) => !n.holds(key!))!;
    const access = [...keys].find(([, k]) => k === key)![0];
    expect((await reader.getZk(key!, { owner: owner.zkOwner })).data).toEqual(text(latest.get(access)!));
    // Every copy anywhere was verified on arrival: no holder refused one as invalid.
    for (const n of live()) expect(n.extendedStats().storeRefusals.INVALID_PROOF ?? 0).toBe(0);
  }, 180_000);
});
