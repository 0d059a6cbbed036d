/**
 * Contracts part 2a on a 6-node loopback testnet (real UDP, LMDB, crypto, meter and contract
 * workers): one node deploys the three examples (code, signed manifest, tag entries), another finds
 * them by tag and by name, a third fetches their code and re-meters it to byte-identical code, and
 * instances run calls and queries locally with receipts. Forged manifests in a tag set are dropped
 * and counted; code that does not hash to its code hash is never deployed, and its holder is penalised.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  decodeArgs, decodeSignedManifest, EXAMPLE_CONTRACTS, type ExampleContract, encodeArgs, exampleContract, encodeManifestBody, encodeSignedManifest,
  encodeTagEntry, manifestKey, manifestSalt, signManifest, tagKey, verifyManifest,
} from '../../src/contracts/index.js';
import { blake3 } from '../../src/crypto/index.js';
import { idToHex, type Key } from '../../src/id/index.js';
import type { DeployContractResult, DhtNode } from '../../src/node/index.js';
import { isDhtError, SeededRandom } from '../../src/util/index.js';
import { createTestnet, type Testnet } from '../helpers/index.js';
import { type LightPeer, lightPeer, politeHandler, until } from '../helpers/peers.js';

const NO_TOKEN = new Uint8Array(0);
const EXAMPLES: ExampleContract[] = ['counter', 'token', 'registry'];
const failure = (p: Promise<unknown>): Promise<string> => p.then(() => 'resolved', (e: unknown) => (isDhtError(e) ? `${e.code}: ${e.message}` : String(e)));

let net: Testnet;
let deployer: DhtNode;
let finder: DhtNode;
let fetcher: DhtNode;
let hostile: DhtNode;
const deployed = new Map<ExampleContract, DeployContractResult>();

beforeAll(async () => {
  net = await createTestnet(6, { random: new SeededRandom(1010), contracts: { threads: 1 }, queryTimeout: 2000, lookupTimeout: 20_000 });
  for (const n of net.nodes) if (n.routingTable.size === 0) await n.bootstrap();
  [deployer, , , finder, fetcher, hostile] = net.nodes as [DhtNode, DhtNode, DhtNode, DhtNode, DhtNode, DhtNode];
}, 120_000);

afterAll(async () => {
  await net?.destroy();
});

describe('deploying to the DHT', () => {
  it('stores each example\'s code under its hash, its signed manifest as the owner\'s record, and its name under each tag', async () => {
    for (const name of EXAMPLES) {
      const { abi, tags } = EXAMPLE_CONTRACTS[name];
      const wasm = exampleContract(name);
      const r = await deployer.deployContract({ wasm, name, version: '1.0.0', tags, abi });
      deployed.set(name, r);
      expect(r.codeHash).toEqual(blake3(wasm));
      expect(idToHex(r.key)).toBe(idToHex(manifestKey(deployer.identity.dsa.publicKey, name)));
      expect(r.replicas).toEqual({ code: 3, manifest: 3 });
      expect(r.tags.map((t) => [t.tag, t.replicas > 0, t.error])).toEqual(tags.map((t) => [t, true, undefined]));
      expect(r.seq).toBe(0);
      expect(r.manifest).toMatchObject({ name, version: '1.0.0', tags, abi, meterVersion: 1 });
      expect(r.meteredBytes).toBeGreaterThan(r.originalBytes);
    }
    // The code is plain content: any node gets it, verified by its hash.
    const code = await finder.get(deployed.get('token')!.codeHash as Key);
    expect(blake3(code.value)).toEqual(deployed.get('token')!.codeHash);
    expect(deployer.extendedStats().contracts).toMatchObject({ enabled: true, published: 3, engine: { deploys: 3, threads: 0 } });
  }, 120_000);

  it('refuses bad manifests and modules before storing anything in the network', async () => {
    const wasm = exampleContract('counter');
    expect(await failure(deployer.deployContract({ wasm, name: 'Bad Name', version: '1' }))).toMatch(/name must be 1\.\.55/);
    expect(await failure(deployer.deployContract({ wasm, name: 'x', version: '1', tags: ['UPPER'] }))).toMatch(/tags must be/);
    expect(await failure(deployer.deployContract({ wasm, name: 'x', version: '1', abi: [{ name: 'nope', inputs: [], outputs: [], readonly: true }] })))
      .toMatch(/abi method 'nope' is not exported by the code \(it exports increment, get\)/);
    expect(await failure(deployer.deployContract({ wasm: new Uint8Array([0, 97, 115, 109, 9]), name: 'x', version: '1' }))).toMatch(/^INVALID_CONTRACT: invalid contract module \(malformed\)/);
    expect(await failure(deployer.deployContract({ wasm, name: 'x', version: '1', ttl: 10 }))).toMatch(/options.ttl must be between 1 s and 48 h/);
    expect(deployer.extendedStats().contracts.published).toBe(3);
  }, 60_000);
});

describe('discovery', () => {
  it('finds the examples by tag from another node, each manifest verified, and nothing under an unused tag', async () => {
    const all = await finder.findContracts('example');
    expect(all.contracts.map((c) => c.manifest.name)).toEqual(['counter', 'registry', 'token']);
    expect([all.publishers, all.dropped, all.truncated]).toEqual([1, {}, false]);
    for (const c of all.contracts) {
      const d = deployed.get(c.manifest.name as ExampleContract)!;
      expect(c.manifest.codeHash).toEqual(d.codeHash);
      expect(c.manifest.owner).toEqual(deployer.identity.dsa.publicKey);
      expect(idToHex(c.ownerId)).toBe(idToHex(deployer.id));
      expect(idToHex(c.key)).toBe(idToHex(d.key));
      expect(verifyManifest(decodeSignedManifest(c.signed)!)).toBe(true);
    }
    expect((await finder.findContracts('fungible')).contracts.map((c) => c.manifest.name)).toEqual(['token']);
    expect(await finder.findContracts('nothing-here')).toMatchObject({ contracts: [], publishers: 0 });
    const one = await finder.findContracts('example', { limit: 1 });
    expect([one.contracts.length, one.truncated]).toEqual([1, true]);
    expect(await failure(finder.findContracts('Bad Tag'))).toMatch(/tag must be 1\.\.32/);
  }, 60_000);

  it('looks a contract up by owner and name, or by manifest key; a name nobody deployed is NOT_FOUND', async () => {
    const byName = await finder.contractInfo(deployer.identity.dsa.publicKey, 'registry');
    expect(byName.manifest).toMatchObject({ name: 'registry', abi: EXAMPLE_CONTRACTS.registry.abi });
    const byKey = await finder.contractInfoByKey(deployed.get('registry')!.key);
    expect(byKey.manifest.codeHash).toEqual(byName.manifest.codeHash);
    expect((await deployer.contractInfo(null, 'counter')).manifest.name).toBe('counter');
    expect(await failure(finder.contractInfo(deployer.identity.dsa.publicKey, 'missing'))).toMatch(/^NOT_FOUND: contract manifest/);
  }, 60_000);

  it('a redeploy of a name replaces its manifest (seq + 1) and keeps one entry per tag', async () => {
    const wasm = exampleContract('counter');
    const r = await deployer.deployContract({ wasm, name: 'counter', version: '1.0.1', tags: ['example', 'counter'], abi: EXAMPLE_CONTRACTS.counter.abi });
    expect([r.seq, r.manifest.version]).toEqual([1, '1.0.1']);
    const found = await finder.findContracts('example');
    expect(found.contracts.map((c) => `${c.manifest.name}@${c.manifest.version}`)).toEqual(['counter@1.0.1', 'registry@1.0.0', 'token@1.0.0']);
    expect(found.publishers).toBe(1);
  }, 60_000);

  it('drops and counts forged listings: a bad signature, a manifest of another owner, a malformed entry', async () => {
    const keys = hostile.identity.dsa;
    const other = net.nodes[1]!.identity.dsa;
    const base = { version: '6.6.6', tags: ['example'], abi: [], meterVersion: 1, codeHash: deployed.get('token')!.codeHash };
    // 'evil': a manifest in the hostile's own name whose signature covers another body.
    const evilBody = encodeManifestBody({ ...base, name: 'evil', owner: keys.publicKey });
    const signedOther = decodeSignedManifest(signManifest(keys.secretKey, { ...base, name: 'evil', owner: keys.publicKey, version: '1' }))!;
    await hostile.putMutable(encodeSignedManifest(evilBody, signedOther.signature), { salt: manifestSalt('evil') });
    // 'stolen': another owner's validly signed manifest, replayed in the hostile's record.
    await hostile.putMutable(signManifest(other.secretKey, { ...base, name: 'stolen', owner: other.publicKey }), { salt: manifestSalt('stolen') });
    await hostile.addToSet(tagKey('example'), encodeTagEntry(['evil', 'stolen', 'never-stored']));
    await net.nodes[2]!.addToSet(tagKey('example'), new TextEncoder().encode('not a tag entry'));

    const before = finder.extendedStats().contracts.dropped;
    const found = await finder.findContracts('example');
    expect(found.contracts.map((c) => c.manifest.name)).toEqual(['counter', 'registry', 'token']);
    expect(found.publishers).toBe(3);
    expect(found.dropped).toEqual({ bad_signature: 1, owner_mismatch: 1, missing: 1, entry_malformed: 1 });
    const after = finder.extendedStats().contracts.dropped;
    expect(after.bad_signature - before.bad_signature).toBe(1);
    expect(after.owner_mismatch - before.owner_mismatch).toBe(1);
    expect(await failure(finder.contractInfo(keys.publicKey, 'evil'))).toMatch(/^INVALID_SIGNATURE: contract manifest .*signature does not verify/);
    expect(await failure(finder.contractInfo(keys.publicKey, 'stolen'))).toMatch(/^INVALID_CONTENT: contract manifest .* refused: owner_mismatch/);
  }, 90_000);
});

describe('fetching code', () => {
  it('fetches code on another node, checks its hash, and re-meters it to the deploying node\'s metered bytes', async () => {
    for (const name of EXAMPLES) {
      const d = deployed.get(name)!;
      const f = await fetcher.fetchContractCode(d.codeHash);
      expect(f, name).toMatchObject({ fetched: true, methods: d.methods, meterVersion: 1, originalBytes: d.originalBytes, meteredBytes: d.meteredBytes });
      expect(idToHex(f.meteredHash as Key), name).toBe(idToHex(d.meteredHash as Key));
    }
    const again = await fetcher.fetchContractCode(deployed.get('token')!.codeHash);
    expect(again.fetched).toBe(false);
    expect(fetcher.extendedStats().contracts).toMatchObject({ fetched: 3, codeRejected: 0, engine: { deploys: 3 } });
  }, 90_000);

  it('refuses content that is no contract, and code nobody holds', async () => {
    const junk = new TextEncoder().encode('this is not WebAssembly');
    const { key } = await deployer.put(junk);
    expect(await failure(fetcher.fetchContractCode(key))).toMatch(/^INVALID_CONTRACT: invalid contract module \(malformed\)/);
    expect(await failure(fetcher.fetchContractCode(blake3(new TextEncoder().encode('nobody stored this'))))).toMatch(/^NOT_FOUND: contract code/);
    expect(await failure(fetcher.fetchContractCode(new Uint8Array(31)))).toMatch(/codeHash must be 32 bytes/);
  }, 60_000);

  it('never deploys bytes that do not hash to the code hash, and penalises the holder that served them', async () => {
    let poisoner: LightPeer | null = null;
    try {
      poisoner = await lightPeer(fetcher.cryptoPool, {
        host: '127.31.0.1',
        handler: (request, from) => request.type === 'FIND_VALUE'
          ? { type: 'VALUE', value: new TextEncoder().encode(`forged code for ${idToHex(request.key)}`), contacts: [], token: NO_TOKEN }
          : politeHandler(request, from),
      });
      const p = poisoner;
      await fetcher.ping(p.address);
      await until(() => fetcher.routingTable.has(p.id), 10_000, 'the poisoner in the routing table');
      const codeHash = blake3(new TextEncoder().encode('code only the poisoner claims'));
      const outcome = await failure(fetcher.fetchContractCode(codeHash));
      expect(outcome).toMatch(/^NOT_FOUND: contract code [0-9a-f]{64} \(1 answer\(s\) did not hash to it\)/);
      expect(fetcher.extendedStats().contracts.codeRejected).toBe(1);
      expect(fetcher.reputation.get(p.id, Date.now())?.events.invalid_value).toBeGreaterThanOrEqual(1);
    } finally {
      await poisoner?.close();
    }
  }, 60_000);
});

describe('execution on the holders (details in contracts-network.test.ts)', () => {
  it('creates instances (fetching code when missing) and runs calls and queries with receipts, this node as caller', async () => {
    const runner = net.nodes[2]!;
    const counter = await runner.createContractInstance(deployed.get('counter')!.codeHash);
    expect([counter.created, counter.fetched]).toEqual([true, true]);
    const u64 = (r: { returnData: Uint8Array }): bigint => decodeArgs(['u64'], r.returnData)![0] as bigint;
    const first = await runner.callContract(counter.instanceId, 'increment');
    const second = await runner.callContract(counter.instanceId, 'increment');
    expect([first.status, u64(first), first.version, second.status, u64(second), second.version]).toEqual(['ok', 1n, 1, 'ok', 2n, 2]);
    const read = await runner.queryContract(counter.instanceId, 'get');
    expect([read.status, u64(read), read.version]).toEqual(['ok', 2n, 2]);
    expect(counter.installed).toBe(3);
    expect(second.executor.id).toEqual(counter.holders[0]!.id);
    expect(net.nodes.find((n) => idToHex(n.id) === idToHex(counter.holders[0]!.id))!.contractInstance(counter.instanceId)).toMatchObject({ version: 2, stateHash: second.stateHash });
    expect((await runner.createContractInstance(deployed.get('counter')!.codeHash)).created).toBe(false);

    // The token: the caller is this node's id, so init credits it.
    const token = await fetcher.createContractInstance(deployed.get('token')!.codeHash, { salt: new TextEncoder().encode('t1') });
    expect([token.created, token.fetched]).toEqual([true, false]);
    expect((await fetcher.callContract(token.instanceId, 'init', encodeArgs(['u64'], [1000n]))).status).toBe('ok');
    const mine = await fetcher.queryContract(token.instanceId, 'balanceOf', encodeArgs(['address'], [fetcher.id]));
    expect(u64(mine)).toBe(1000n);
    const sent = await fetcher.callContract(token.instanceId, 'transfer', encodeArgs(['address', 'u64'], [deployer.id, 250n]));
    expect([sent.status, sent.events.length, new TextDecoder().decode(sent.events[0]!.topic)]).toEqual(['ok', 1, 'Transfer']);
    const theirs = await fetcher.queryContract(token.instanceId, 'balanceOf', encodeArgs(['address'], [deployer.id]));
    expect(u64(theirs)).toBe(250n);
    const broke = await fetcher.callContract(token.instanceId, 'transfer', encodeArgs(['address', 'u64'], [deployer.id, 10_000n]));
    expect(broke.status).toBe('revert');
    expect((await fetcher.callContract(token.instanceId, 'init', encodeArgs(['u64'], [1n]), { gasLimit: 100 })).status).toBe('out_of_gas');
    expect((await fetcher.queryContract(token.instanceId, 'nothing')).status).toBe('no_method');
    expect(fetcher.extendedStats().contracts).toMatchObject({ callsSent: 4, queriesSent: 3 });
  }, 90_000);

  it('a node without a contract engine refuses deploys with DISABLED but still finds contracts and calls holders', async () => {
    const plain = await net.addNode({ contracts: false });
    const wasm = exampleContract('counter');
    expect(await failure(plain.deployContract({ wasm, name: 'counter', version: '1' }))).toMatch(/^DISABLED: this node runs no contract engine/);
    expect(await failure(plain.callContract(new Uint8Array(32), 'get'))).toMatch(/^NOT_FOUND/);
    expect((await plain.findContracts('token')).contracts.map((c) => c.manifest.name)).toEqual(['token']);
    expect(plain.extendedStats().contracts).toMatchObject({ enabled: false, engine: null });
  }, 60_000);
});
