/**
 * Contracts part 2b on a 10-node loopback testnet (real UDP, LMDB, crypto and contract workers):
 * an instance lives at the r = 3 closest nodes to its id; calls signed by two different nodes run
 * at the primary and are replicated (and audited) at the followers, which end at the same version
 * and state hash with every receipt kept by call id; a forged signature and malformed contract
 * messages are refused and counted; a follower whose state was tampered with refuses the
 * primary's update by its audit and penalises the primary; the primary stopped mid-sequence, and
 * stopped right after executing a call whose receipt the client never saw: the retry completes at
 * the next holder exactly once and later calls go on.
 */
import { join } from 'node:path';
import { open } from 'lmdb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeArgs, encodeArgs, encodeSignedCall, exampleContract, EXAMPLE_CONTRACTS, type Receipt } from '../../src/contracts/index.js';
import { compareDistance, type Key } from '../../src/id/index.js';
import type { DhtNode } from '../../src/node/index.js';
import { encode } from '../../src/wire/index.js';
import { isDhtError, SeededRandom } from '../../src/util/index.js';
import { createTestnet, type Testnet } from '../helpers/index.js';
import { type LightPeer, lightPeer, until } from '../helpers/peers.js';

const failure = (p: Promise<unknown>): Promise<string> => p.then(() => 'resolved', (e: unknown) => (isDhtError(e) ? `${e.code}: ${e.message}` : String(e)));
const u64 = (r: { returnData: Uint8Array }): bigint => decodeArgs(['u64'], r.returnData)![0] as bigint;
const transferArgs = (to: Uint8Array, amount: bigint): Uint8Array => encodeArgs(['address', 'u64'], [to, amount]);
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
/** Per-holder wait before the client moves on (a stopped holder never answers). */
const TIMEOUT = 6000;

let net: Testnet;
let codeHash: Uint8Array;

beforeAll(async () => {
  net = await createTestnet(10, { random: new SeededRandom(2026), contracts: { threads: 1 }, queryTimeout: 1500, lookupTimeout: 20_000 });
  for (const n of net.nodes) if (n.routingTable.size === 0) await n.bootstrap();
  const wasm = exampleContract('token');
  codeHash = (await net.nodes[0]!.deployContract({ wasm, name: 'token', version: '1.0.0', tags: ['token'], abi: EXAMPLE_CONTRACTS.token.abi })).codeHash;
}, 120_000);

afterAll(async () => {
  await net?.destroy();
});

/** The running nodes sorted by distance to `id`. */
function closest(id: Uint8Array, r = 3): DhtNode[] {
  return net.nodes.filter((n) => n.running).sort((a, b) => compareDistance(id as Key, a.id, b.id)).slice(0, r);
}

async function balance(node: DhtNode, instance: Uint8Array, who: Uint8Array): Promise<bigint> {
  return u64(await node.queryContract(instance, 'balanceOf', encodeArgs(['address'], [who]), { timeout: TIMEOUT }));
}

/** Waits until every given holder is at `version`, then returns their state hashes. */
async function settled(holders: DhtNode[], instance: Uint8Array, version: number): Promise<string[]> {
  await until(() => holders.every((h) => h.contractInstance(instance)?.version === version), 15_000, `every holder at version ${version}`);
  return holders.map((h) => hex(h.contractInstance(instance)!.stateHash));
}

describe('an instance on its holders', () => {
  let instance: Uint8Array;
  /** Callers that are none of the instance's holders (so stopping a holder never stops them). */
  let alice: DhtNode;
  let bob: DhtNode;
  let carol: DhtNode;
  const receipts: Array<Receipt & { callId: Uint8Array }> = [];

  it('keeps its state at the r closest nodes, runs calls signed by two callers at the primary, and every holder agrees', async () => {
    const created = await net.nodes[1]!.createContractInstance(codeHash, { salt: new TextEncoder().encode('main') });
    instance = created.instanceId;
    const holders = closest(instance);
    [alice, bob, carol] = net.nodes.filter((n) => !holders.includes(n)) as [DhtNode, DhtNode, DhtNode];
    expect(created.holders.map((c) => hex(c.id))).toEqual(holders.map((h) => hex(h.id)));
    expect(created.installed).toBe(3);
    for (const h of holders) expect(h.contractInstance(instance)).toMatchObject({ version: 0 });

    const init = await alice.callContract(instance, 'init', encodeArgs(['u64'], [1000n]), { timeout: TIMEOUT });
    expect([init.status, init.version, init.replicas >= 2, hex(init.executor.id)]).toEqual(['ok', 1, true, hex(holders[0]!.id)]);
    receipts.push(init);
    // Two callers: the contract sees the id of the key that signed.
    receipts.push(await alice.callContract(instance, 'transfer', transferArgs(bob.id, 300n), { timeout: TIMEOUT }));
    receipts.push(await bob.callContract(instance, 'transfer', transferArgs(carol.id, 120n), { timeout: TIMEOUT }));
    receipts.push(await bob.callContract(instance, 'transfer', transferArgs(alice.id, 5000n), { timeout: TIMEOUT }));
    expect(receipts.map((r) => [r.status, r.version])).toEqual([['ok', 1], ['ok', 2], ['ok', 3], ['revert', 3]]);
    expect(new Set(receipts.map((r) => hex(r.callId))).size).toBe(4);

    const hashes = await settled(holders, instance, 3);
    expect(new Set(hashes).size).toBe(1);
    expect(hashes[0]).toBe(hex(receipts[2]!.stateHash));
    // Every receipt, the revert too, is kept by call id at every holder (the last follower may still be applying it).
    for (const h of holders) {
      for (const r of receipts) {
        let kept = await h.contractReceipt(r.callId);
        for (let i = 0; i < 100 && kept === null; i++) {
          await new Promise((done) => setTimeout(done, 50));
          kept = await h.contractReceipt(r.callId);
        }
        expect(kept && [kept.status, kept.version, hex(kept.stateHash)]).toEqual([r.status, r.version, hex(r.stateHash)]);
      }
    }
    // ...and from a node that is no holder, by asking the instance's holders.
    const outsider = net.nodes.find((n) => !holders.includes(n))!;
    expect((await outsider.contractReceipt(receipts[1]!.callId, { instance }))?.version).toBe(2);
    expect(await outsider.contractReceipt(new Uint8Array(32).fill(7), { instance })).toBeNull();

    const balances = await Promise.all([alice, bob, carol].map((n) => balance(outsider, instance, n.id)));
    expect(balances).toEqual([700n, 180n, 120n]);
    expect(balances.reduce((a, b) => a + b, 0n)).toBe(1000n);
    const followers = holders.slice(1).map((h) => h.extendedStats().contracts.network!);
    for (const f of followers) expect(f.audits).toBeGreaterThanOrEqual(3);
    expect(followers.map((f) => f.auditMismatches)).toEqual([0, 0]);
    expect(holders[0]!.extendedStats().contracts.network!.executed).toBe(4);
  }, 90_000);

  it('refuses a forged call signature with INVALID_SIGNATURE and applies nothing', async () => {
    const signed = await alice.signContractCall(instance, 'transfer', transferArgs(net.nodes[4]!.id, 1n));
    const badSig = signed.signature.slice();
    badSig[10]! ^= 0xff;
    const forged = encodeSignedCall(signed.body, badSig);
    expect(await failure(alice.submitContractCall(forged, { timeout: TIMEOUT }))).toMatch(/^INVALID_SIGNATURE/);
    const primary = closest(instance)[0]!;
    expect(primary.contractInstance(instance)?.version).toBe(3);
    expect(primary.extendedStats().contracts.network!.invalidSignatures).toBeGreaterThanOrEqual(1);
  }, 30_000);

  it('drops malformed contract messages and refuses junk calls and updates from a non-holder', async () => {
    const primary = closest(instance)[0]!;
    const follower = closest(instance)[2]!;
    const peers: LightPeer[] = [];
    try {
      // A CONTRACT_CALL (type 14) whose sender is no id, and a CONTRACT_UPDATE (17) without its fields:
      // each from its own peer (the node penalises a session that carried garbage).
      const bad = [
        (_: LightPeer) => new Uint8Array(Buffer.from('96010e0000000000', 'hex')),
        (p: LightPeer) => encode({ type: 'PING', tid: 1, sender: p.id, flags: 0 }).map((b, i) => (i === 2 ? 17 : b)),
      ];
      for (const [i, make] of bad.entries()) {
        const peer = await lightPeer(primary.cryptoPool, { host: `127.32.0.${i + 1}` });
        peers.push(peer);
        await peer.rpc.request(primary.contact, { type: 'PING' });
        const before = primary.extendedStats().rpc.drops.decode_failed;
        peer.channel.send(primary.contact, make(peer), { peer: primary.id });
        await until(() => primary.extendedStats().rpc.drops.decode_failed === before + 1, 5000, 'a decode drop');
      }
      const peer = await lightPeer(primary.cryptoPool, { host: '127.32.0.9' });
      peers.push(peer);
      const junk = await failure(peer.rpc.request(primary.contact, { type: 'CONTRACT_CALL', call: new Uint8Array(100) }));
      expect(junk).toMatch(/^BAD_REQUEST/);
      expect(primary.extendedStats().contracts.network!.malformed).toBeGreaterThanOrEqual(1);
      const update = await failure(peer.rpc.request(follower.contact, {
        type: 'CONTRACT_UPDATE', instance: instance as Key, version: 4, previousHash: new Uint8Array(32), stateHash: new Uint8Array(32), call: new Uint8Array(8), receipt: new Uint8Array(8),
      }));
      expect(update).toMatch(/^(STATE_CONFLICT|BAD_REQUEST)/);
      const refused = follower.extendedStats().contracts.network!.refused;
      expect(refused.not_closer + refused.malformed).toBeGreaterThanOrEqual(1);
      expect(follower.contractInstance(instance)?.version).toBe(3);
      expect(primary.running && follower.running).toBe(true);
    } finally {
      for (const p of peers) await p.close();
    }
  }, 30_000);

  describe('failures', () => {
    it('a follower whose state was tampered with refuses the next update by its audit and penalises the primary; calls go on', async () => {
      const other = await alice.createContractInstance(codeHash, { salt: new TextEncoder().encode('audited') });
      const id = other.instanceId;
      const [primary, honest, tampered] = closest(id) as [DhtNode, DhtNode, DhtNode];
      await alice.callContract(id, 'init', encodeArgs(['u64'], [500n]), { timeout: TIMEOUT });
      await settled([primary, honest, tampered], id, 1);
      // Rewrite alice's balance in the follower's LMDB behind its back (the same process shares the environment).
      const env = open({ path: join(tampered.options.dataDir!, 'contracts'), maxDbs: 8, encoding: 'binary', keyEncoding: 'binary' });
      const state = env.openDB<Buffer, Buffer>({ name: 'state', encoding: 'binary', keyEncoding: 'binary' });
      let touched = 0;
      for (const { key, value } of state.getRange({ start: Buffer.from(id) })) {
        if (!Buffer.from(key).subarray(0, 32).equals(Buffer.from(id))) break;
        if (value.byteLength === 8 && value.readBigUInt64LE(0) === 500n) {
          const forged = Buffer.alloc(8);
          forged.writeBigUInt64LE(999_999n);
          await state.put(key, forged);
          touched++;
        }
      }
      await env.close(); // this handle only: the node's own handle on the environment stays open
      expect(touched).toBeGreaterThanOrEqual(1); // alice's balance (and the total supply, also 500)
      const scoreBefore = tampered.reputation.score(primary.id, Date.now());
      const sent = await alice.callContract(id, 'transfer', transferArgs(net.nodes[5]!.id, 50n), { timeout: TIMEOUT });
      expect([sent.status, sent.version, sent.replicas]).toEqual(['ok', 2, 2]);
      // The primary answered at a majority (itself and the honest follower); the tampered one may still be auditing.
      await until(() => tampered.extendedStats().contracts.network!.refused.audit_mismatch > 0, 15_000, 'the audit refusal');
      const stats = tampered.extendedStats().contracts.network!;
      expect([stats.auditMismatches, stats.refused.audit_mismatch]).toEqual([1, 1]);
      expect(tampered.contractInstance(id)?.version).toBe(1);
      expect(tampered.reputation.get(primary.id, Date.now())?.events.contract_audit_fail).toBe(1);
      expect(tampered.reputation.score(primary.id, Date.now())).toBeLessThan(scoreBefore);
      // The primary and the honest follower are a majority: later calls go on; the tampered copy stays out.
      const next = await alice.callContract(id, 'transfer', transferArgs(net.nodes[5]!.id, 25n), { timeout: TIMEOUT });
      expect([next.status, next.version, next.replicas]).toEqual(['ok', 3, 2]);
      expect(await settled([primary, honest], id, 3)).toEqual([hex(next.stateHash), hex(next.stateHash)]);
      expect(tampered.extendedStats().contracts.network!.refused.diverged).toBeGreaterThanOrEqual(1);
      expect(await balance(alice, id, alice.id)).toBe(425n);
    }, 60_000);

    it('the primary stopped mid-sequence: the retried call completes at the next holder exactly once, and later calls go on', async () => {
      const [primary, second, third] = closest(instance) as [DhtNode, DhtNode, DhtNode];
      const a = await alice.callContract(instance, 'transfer', transferArgs(bob.id, 10n), { timeout: TIMEOUT });
      expect([a.status, a.version]).toEqual(['ok', 4]);
      await primary.stop();
      const b = await alice.callContract(instance, 'transfer', transferArgs(bob.id, 10n), { timeout: TIMEOUT });
      expect([b.status, b.version, hex(b.executor.id)]).toEqual(['ok', 5, hex(second.id)]);
      expect(b.replicas).toBeGreaterThanOrEqual(2);
      expect(await balance(alice, instance, bob.id)).toBe(200n);

      // Stopped right after executing: the client never saw this receipt and retries the same signed call.
      const signed = await alice.signContractCall(instance, 'transfer', transferArgs(bob.id, 7n));
      const lost = await alice.submitContractCall(signed, { to: second.contact, timeout: TIMEOUT });
      expect([lost.status, lost.version]).toEqual(['ok', 6]);
      await until(() => third.contractInstance(instance)?.version === 6, 10_000, 'the third holder at version 6');
      await second.stop();
      const retried = await alice.submitContractCall(signed, { timeout: TIMEOUT });
      expect([retried.status, retried.version, hex(retried.callId), hex(retried.executor.id)]).toEqual(['ok', 6, hex(lost.callId), hex(third.id)]);
      expect(third.extendedStats().contracts.network!.deduplicated).toBeGreaterThanOrEqual(1);
      expect(await balance(alice, instance, bob.id)).toBe(207n);

      // The remaining holder executes later calls; holders new to the set catch up by sync.
      const c = await bob.callContract(instance, 'transfer', transferArgs(alice.id, 7n), { timeout: TIMEOUT });
      expect([c.status, c.version, hex(c.executor.id)]).toEqual(['ok', 7, hex(third.id)]);
      // The stand-ins fetch and meter the code and sync by snapshot first: on a loaded machine the
      // primary may answer before one has (replicas 1); they catch up all the same.
      expect(c.replicas).toBeGreaterThanOrEqual(1);
      await until(() => net.nodes.filter((n) => n.running && n.contractInstance(instance)?.version === 7).length >= 2, 30_000, 'a stand-in holder at version 7');
      const all = await Promise.all([alice, bob, carol].map((n) => balance(alice, instance, n.id)));
      expect(all.reduce((x, y) => x + y, 0n)).toBe(1000n);
      expect(all[1]).toBe(200n);
    }, 90_000);
  });
});
