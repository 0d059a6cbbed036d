/**
 * T12 and T13 over real UDP: forged handshakes never put anyone in the routing table, and a
 * session is bound to its endpoint with a bounded session cache. Attackers craft packets by
 * hand from raw sockets; honest peers are light peers with real identities.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CryptoPool, ephemeralIdentity, type NodeIdentity, signNodeRecord } from '../../src/crypto/index.js';
import { type Contact, type Id, idToHex } from '../../src/id/index.js';
import { DhtNode } from '../../src/node/index.js';
import { Rpc } from '../../src/rpc/index.js';
import {
  type Challenge, encodeHandshake, encodeHello, Kind, NONCE_BYTES, parsePacket, readCounter, SecureChannel,
} from '../../src/transport/index.js';
import { type Address, formatAddress, SeededRandom, systemClock, systemRandom } from '../../src/util/index.js';
import { PROTOCOL_VERSION } from '../../src/wire/index.js';
import { PoolHandshake, RecordBook } from '../../src/node/index.js';
import { lightPeer, type LightPeer, politeHandler, rawSocket, until } from '../helpers/peers.js';
import { report } from '../helpers/report.js';
import { THRESHOLDS } from '../thresholds.js';

const SLOW = process.env.SLOW === '1';
const rnd = new SeededRandom(12);

let pool: CryptoPool;
let node: DhtNode;
let dir: string;
let target: Contact;

beforeAll(async () => {
  pool = new CryptoPool({ threads: 2, maxQueue: 256 });
  dir = mkdtempSync(join(tmpdir(), 'zhtp-hs-'));
  node = new DhtNode({ host: '127.0.0.1', port: 0, dataDir: dir, cryptoPool: pool, sessions: { sessionCapacity: SLOW ? 1000 : 100 } });
  await node.start();
  target = { id: node.id, host: node.address.host, port: node.address.port };
});

afterAll(async () => {
  await node?.stop();
  await pool?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** From a fresh socket on `host`: HELLO, wait for the CHALLENGE, send the HANDSHAKE `forge` builds. */
async function forgedHandshake(host: string, forge: (c: Challenge, nonce: Uint8Array) => Uint8Array): Promise<void> {
  const socket = await rawSocket(host);
  try {
    const nonce = rnd.bytes(NONCE_BYTES);
    socket.transport.send(node.address, encodeHello(nonce, false));
    await until(() => socket.received.length > 0, 5000, 'challenge');
    const challenge = parsePacket(socket.received[0]!.bytes);
    if (challenge?.kind !== 'CHALLENGE') throw new Error('expected a CHALLENGE');
    socket.transport.send(node.address, forge(challenge, nonce));
    await new Promise((r) => setTimeout(r, 30)); // let the datagrams leave before the socket closes
  } finally {
    await socket.close();
  }
}

async function identityWithRecord(host: string): Promise<{ identity: NodeIdentity; record: Uint8Array }> {
  const identity = await ephemeralIdentity(pool, rnd.bytes(96));
  const { bytes } = await signNodeRecord(identity, pool, {
    addresses: [{ host, port: 40000 }], seq: 1, capabilities: { freeStorage: 0, bandwidthClass: 1, protocolVersion: PROTOCOL_VERSION },
  });
  return { identity, record: bytes };
}

describe('handshake', () => {
  it('T12 forged identities never enter the table, FIND_NODE answers or store targets', async () => {
    const honest = await lightPeer(pool, { host: '127.12.0.1' });
    const attackers: LightPeer[] = [];
    try {
      await honest.rpc.request(target, { type: 'PING' }); // a real handshake, captured below
      const real = honest.tap.sent.find((m) => m.bytes[0] === Kind.HANDSHAKE)!.bytes;
      const realHs = parsePacket(real);
      if (realHs?.kind !== 'HANDSHAKE') throw new Error('no handshake captured');
      const attacker = await identityWithRecord('127.12.200.1');
      const flipped = new Uint8Array(attacker.record);
      flipped[flipped.byteLength - 10]! ^= 0x01; // breaks the record's signature
      const forgedIds = new Set<string>([idToHex(attacker.identity.id)]);
      const total = SLOW ? 1000 : 600;
      let sent = 0;
      const kinds = [
        // a valid record, but random bytes where the transcript signature should be
        (c: Challenge, nonce: Uint8Array) => encodeHandshake({ nonce, cookie: c.cookie, ciphertext: rnd.bytes(1088), signature: rnd.bytes(3309), record: attacker.record }),
        // the honest peer's record, ciphertext and signature, replayed under a fresh cookie
        (c: Challenge, nonce: Uint8Array) => encodeHandshake({ nonce, cookie: c.cookie, ciphertext: realHs.ciphertext, signature: realHs.signature, record: realHs.record }),
        // a record whose own signature does not verify
        (c: Challenge, nonce: Uint8Array) => encodeHandshake({ nonce, cookie: c.cookie, ciphertext: rnd.bytes(1088), signature: rnd.bytes(3309), record: flipped }),
      ];
      for (let batch = 0; sent < total; batch++) {
        const jobs: Promise<void>[] = [];
        for (let j = 0; j < 20 && sent < total; j++, sent++) {
          jobs.push(forgedHandshake(`127.12.${1 + Math.floor(sent / 250)}.${1 + (sent % 250)}`, kinds[sent % kinds.length]!));
        }
        await Promise.all(jobs);
      }
      // The whole captured HANDSHAKE again from the honest endpoint: a used nonce. And sessions
      // whose peer claims another id in its messages: dropped and penalised.
      honest.tap.raw(node.address, real);
      // All at once, each with 5 s for its handshake and PING: a liar's PING never gets an answer,
      // and a short timeout on a loaded machine would end it before its handshake is done.
      const lies: Promise<void>[] = [];
      for (let i = 0; i < 20; i++) {
        const liar = await lightPeer(pool, { host: `127.12.250.${i + 1}` });
        attackers.push(liar);
        const fake = rnd.bytes(32) as Id;
        forgedIds.add(idToHex(fake));
        const lying = new Rpc({ transport: liar.channel, clock: systemClock, random: systemRandom }, { self: fake as never, requireSession: true, retries: 0, pingTimeout: 5000 });
        lies.push(lying.request(target, { type: 'PING' }).then(() => {}, () => {}).finally(() => lying.close()));
      }
      await Promise.all(lies);
      await until(() => {
        const s = node.extendedStats().sessions;
        return s.drops.handshake_rejected + s.drops.handshake_busy >= total && s.drops.handshake_replay >= 1;
      }, 60_000, 'every forged handshake judged');
      const s = node.extendedStats();
      const inTable = node.routingTable.entries().filter((e) => forgedIds.has(idToHex(e.contact.id))
        || (idToHex(e.contact.id) === idToHex(honest.id) && formatAddress(e.contact) !== formatAddress(honest.address)));
      let inAnswers = 0;
      for (const id of [...forgedIds].slice(0, 50)) {
        const reply = await honest.rpc.request(target, { type: 'FIND_NODE', target: Buffer.from(id, 'hex') as never });
        if (reply.type === 'NODES') inAnswers += reply.contacts.filter((c) => forgedIds.has(idToHex(c.id)) || (c.host.startsWith('127.12.') && c.host !== '127.12.0.1')).length;
      }
      const storeTargets = (await node.findNode(attacker.identity.id)).filter((c) => forgedIds.has(idToHex(c.id))).length;
      report({ test: 'T12', figure: 'forged_insertions', value: inTable.length, threshold: THRESHOLDS.T12.forged_insertions, pass: inTable.length === 0 });
      report({ test: 'T12', figure: 'forged_in_answers', value: inAnswers, threshold: THRESHOLDS.T12.forged_in_answers, pass: inAnswers === 0 });
      report({ test: 'T12', figure: 'forged_store_targets', value: storeTargets, threshold: THRESHOLDS.T12.forged_store_targets, pass: storeTargets === 0 });
      for (const [reason, n] of Object.entries(s.sessions.rejectedHandshakes)) report({ test: 'T12', figure: `rejected_${reason}`, value: n });
      report({ test: 'T12', figure: 'rejected_replayed_nonce', value: s.sessions.drops.handshake_replay });
      report({ test: 'T12', figure: 'rejected_wrong_session_sender', value: s.rpc.drops.wrong_session });
      expect(inTable).toHaveLength(0);
      expect(inAnswers).toBe(0);
      expect(storeTargets).toBe(0);
      expect(s.rpc.drops.wrong_session).toBeGreaterThanOrEqual(20);
      expect(s.sessions.penalties).toBeGreaterThanOrEqual(total - s.sessions.drops.handshake_busy);
      // The honest peer is still there, at its own endpoint.
      expect(node.routingTable.get(honest.id)?.contact.host).toBe('127.12.0.1');
    } finally {
      await honest.close();
      for (const a of attackers) await a.close();
    }
  }, 120_000);

  it('T13 a session is bound to its endpoint: the same identity elsewhere gets a challenge', async () => {
    const peer = await lightPeer(pool, { host: '127.13.0.1' });
    const moved = await rawSocket('127.13.0.2');
    try {
      const count = SLOW ? 20_000 : 2_000;
      await peer.rpc.request(target, { type: 'PING' }); // the session first; then bursts inside it
      for (let i = 0; i < count; i += 100) {
        await Promise.all(Array.from({ length: 100 }, () => peer.rpc.request(target, { type: 'PING' })));
      }
      const sealed = peer.tap.sent.filter((m) => m.bytes[0] === Kind.SEALED).map((m) => m.bytes);
      const nonces = new Set(sealed.map((b) => Buffer.from(b.subarray(9, 21)).toString('hex')));
      const counters = sealed.map((b) => readCounter(b.subarray(9, 21)));
      const collisions = sealed.length - nonces.size;
      expect(counters.every((c, i) => i === 0 || c > counters[i - 1]!)).toBe(true);
      report({ test: 'T13', figure: 'nonce_collisions_udp', value: collisions, threshold: THRESHOLDS.T13.nonce_collisions, pass: collisions === 0 });
      expect(collisions).toBe(0);

      const pings = node.extendedStats().rpc.received.PING;
      moved.transport.send(node.address, sealed.at(-1)!);
      await until(() => moved.received.some((m) => m.bytes[0] === Kind.WHOAREYOU), 3000, 'WHOAREYOU at the new endpoint');
      expect(node.extendedStats().rpc.received.PING).toBe(pings);
      // The same identity from the new endpoint handshakes again and is served.
      const accepted = node.extendedStats().sessions.handshakesAccepted;
      const again = await lightPeer(pool, { host: '127.13.0.3', identity: peer.identity });
      await again.rpc.request(target, { type: 'PING' });
      await again.close();
      const rehandshakes = node.extendedStats().sessions.handshakesAccepted - accepted;
      report({ test: 'T13', figure: 're_handshakes', value: rehandshakes });
      expect(rehandshakes).toBe(1);
    } finally {
      await moved.close();
      await peer.close();
    }
  });

  it('T13 the session cache stays within its capacity under many identities', async () => {
    const capacity = node.options.sessions.sessionCapacity ?? 1000;
    const identities = SLOW ? 10_000 : 3 * capacity;
    let done = 0;
    while (done < identities) {
      const batch = Math.min(25, identities - done);
      await Promise.all(Array.from({ length: batch }, async (_, j) => {
        const i = done + j;
        const identity = await ephemeralIdentity(pool);
        const peer = await lightPeerFast(identity, `127.14.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`);
        try {
          await peer.rpc.request(target, { type: 'PING' });
        } finally {
          await peer.close();
        }
      }));
      done += batch;
    }
    const s = node.extendedStats().sessions;
    report({ test: 'T13', figure: 'session_cache_peak', value: s.peakSessions, threshold: capacity, pass: s.peakSessions <= capacity });
    report({ test: 'T13', figure: 'identities', value: identities });
    expect(s.peakSessions).toBeLessThanOrEqual(capacity);
    expect(s.sessions).toBeLessThanOrEqual(capacity);
    expect(s.sessionsEvicted).toBeGreaterThanOrEqual(identities - capacity);
  }, SLOW ? 1_800_000 : 120_000);
});

/** A light peer for an existing identity, without the test tap (many of them). */
async function lightPeerFast(identity: NodeIdentity, host: string): Promise<{ rpc: Rpc; close(): Promise<void> }> {
  const { UdpTransport } = await import('../../src/transport/index.js');
  const udp = await UdpTransport.bind({ host, port: 0 });
  const { bytes } = await signNodeRecord(identity, pool, {
    addresses: [udp.local], seq: 1, capabilities: { freeStorage: 0, bandwidthClass: 1, protocolVersion: PROTOCOL_VERSION },
  });
  const handshake = new PoolHandshake({ pool, identity, records: new RecordBook(), record: () => bytes });
  const channel = new SecureChannel({ transport: udp, crypto: handshake, clock: systemClock, random: systemRandom });
  const rpc = new Rpc({ transport: channel, clock: systemClock, random: systemRandom }, { self: identity.id, requireSession: true, retries: 1, ephemeral: true });
  rpc.setHandler(politeHandler);
  return { rpc, async close() { rpc.close(); await channel.close(); } };
}

export type { Address };
