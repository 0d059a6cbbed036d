/**
 * T08: replayed requests and responses — within a session, after re-keying, from another
 * endpoint — and unsolicited responses have no effect (discv5 §1.2.1–1.2.6): no second store,
 * no table insert, no liveness refresh. Captured packets come from a tap under a real client.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blake3, CryptoPool } from '../../src/crypto/index.js';
import type { Contact, Key } from '../../src/id/index.js';
import { DhtNode } from '../../src/node/index.js';
import { Kind } from '../../src/transport/index.js';
import { encode } from '../../src/wire/index.js';
import { lightPeer, type LightPeer, rawSocket, type Tapped, until } from '../helpers/peers.js';
import { report } from '../helpers/report.js';
import { THRESHOLDS } from '../thresholds.js';

const wait = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let pool: CryptoPool;
let node: DhtNode;
let client: LightPeer;
let dir: string;
let target: Contact;

beforeAll(async () => {
  pool = new CryptoPool({ threads: 2 });
  dir = mkdtempSync(join(tmpdir(), 'zhtp-replay-'));
  node = new DhtNode({ host: '127.0.0.1', port: 0, dataDir: dir, cryptoPool: pool });
  await node.start();
  client = await lightPeer(pool, { host: '127.8.0.1' });
  target = { id: node.id, host: node.address.host, port: node.address.port };
});

afterAll(async () => {
  await client?.close();
  await node?.stop();
  await pool?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The newest sealed packet the client sent whose size passes `pick`. */
function lastSealed(packets: Tapped[], pick: (size: number) => boolean): Uint8Array {
  for (let i = packets.length - 1; i >= 0; i--) {
    const p = packets[i]!;
    if (p.bytes[0] === Kind.SEALED && pick(p.bytes.byteLength)) return p.bytes;
  }
  throw new Error('no such sealed packet captured');
}

describe('replay', () => {
  it('T08 replays and unsolicited responses cause no side effect', async () => {
    const value = new Uint8Array(3000).fill(8);
    const key = blake3(value) as Key;
    const nodes = await client.rpc.request(target, { type: 'FIND_NODE', target: key });
    const token = nodes.type === 'NODES' ? nodes.token : new Uint8Array(0);
    expect((await client.rpc.request(target, { type: 'STORE', key, value, ttl: 600, token })).type).toBe('STORED');
    const store = lastSealed(client.tap.sent, (n) => n > 3000);
    const stores = (): number => node.extendedStats().rpc.received.STORE;
    const drops = () => node.extendedStats().sessions.drops;
    const before = { stores: stores(), replay: drops().replay, noSession: drops().no_session };

    // (a) the same sealed STORE again, in the same session
    client.tap.raw(node.address, store);
    await until(() => drops().replay === before.replay + 1, 3000, 'replay drop');

    // (b) after re-keying twice: first the old session is kept as "previous" (window says replay),
    // then it is gone (no session: a WHOAREYOU the client cannot match)
    client.channel.forget(node.address);
    await client.rpc.request(target, { type: 'PING' });
    client.tap.raw(node.address, store);
    await until(() => drops().replay === before.replay + 2, 3000, 'replay drop after re-key');
    client.channel.forget(node.address);
    await client.rpc.request(target, { type: 'PING' });
    client.tap.raw(node.address, store);
    await until(() => drops().no_session === before.noSession + 1, 3000, 'no-session drop after second re-key');

    // (c) from another endpoint
    const other = await rawSocket('127.8.0.2');
    other.transport.send(node.address, store);
    await until(() => drops().no_session === before.noSession + 2, 3000, 'no-session drop from another endpoint');
    await until(() => other.received.some((m) => m.bytes[0] === Kind.WHOAREYOU), 3000, 'WHOAREYOU to the new endpoint');
    const storesReplayed = stores() - before.stores;

    // (d) responses with unknown or old transaction ids, sealed and plaintext
    const responses = node.extendedStats().rpc.responses;
    const unsolicitedBefore = node.extendedStats().rpc.drops.unsolicited;
    for (let tid = 1; tid <= 20; tid++) {
      client.channel.send(node.address, encode({ type: 'PONG', tid, sender: client.id, flags: 0, observed: { host: '127.8.0.1', port: 9 } }));
      client.channel.send(node.address, encode({ type: 'NODES', tid: tid + 1000, sender: client.id, flags: 0, contacts: [], token: new Uint8Array(0) }));
      other.transport.send(node.address, encode({ type: 'NODES', tid, sender: client.id, flags: 0, contacts: [], token: new Uint8Array(0) }));
    }
    await until(() => node.extendedStats().rpc.drops.unsolicited >= unsolicitedBefore + 40, 3000, 'unsolicited drops');
    const unsolicitedAccepted = node.extendedStats().rpc.responses - responses;
    await other.close();

    // (e) an old PONG replayed to the node that pinged: no liveness refresh
    await node.ping(client.address);
    const pong = lastSealed(client.tap.sent, () => true);
    const seenBefore = node.routingTable.get(client.id)?.lastSeen;
    const pongs = node.extendedStats().rpc.received.PONG;
    await wait(20);
    client.tap.raw(node.address, pong);
    await until(() => drops().replay === before.replay + 3, 3000, 'old PONG dropped as replay');
    const refreshed = node.routingTable.get(client.id)?.lastSeen !== seenBefore ? 1 : 0;
    const pongsReplayed = node.extendedStats().rpc.received.PONG - pongs;

    const replaysAccepted = storesReplayed + pongsReplayed + refreshed;
    report({ test: 'T08', figure: 'replays_accepted', value: replaysAccepted, threshold: THRESHOLDS.T08.replays_accepted, pass: replaysAccepted === 0 });
    report({ test: 'T08', figure: 'unsolicited_accepted', value: unsolicitedAccepted, threshold: THRESHOLDS.T08.unsolicited_accepted, pass: unsolicitedAccepted === 0 });
    report({ test: 'T08', figure: 'replay_drops', value: drops().replay - before.replay });
    expect(replaysAccepted).toBe(0);
    expect(unsolicitedAccepted).toBe(0);
    expect(node.holds(key)).toBe(true);
  });
});
