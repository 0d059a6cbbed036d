import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  encodeRecord, identityFromKeys, mldsaKeygen, mldsaSign, mlkemKeygen, type NodeRecord, recordSigningPayload,
} from '../../src/crypto/index.js';
import { type Id, type NodeId, idToHex } from '../../src/id/index.js';
import { DhtNode } from '../../src/node/index.js';
import { Rpc } from '../../src/rpc/index.js';
import { UdpTransport } from '../../src/transport/index.js';
import { SeededRandom, systemClock } from '../../src/util/index.js';
import { report } from '../helpers/report.js';
import { THRESHOLDS } from '../thresholds.js';

const rnd = new SeededRandom(77);

/** A record for fresh keys; `mutate` may corrupt it before encoding. */
function makeRecord(port: number, mutate: (r: NodeRecord) => NodeRecord = (r) => r): { record: NodeRecord; bytes: Uint8Array } {
  const identity = identityFromKeys(mldsaKeygen(rnd.bytes(32)), mlkemKeygen(rnd.bytes(64)));
  const unsigned = {
    publicKeys: { mldsa65: identity.dsa.publicKey, mlkem768: identity.kem.publicKey },
    addresses: [{ host: '127.0.0.1', port }], seq: 1, capabilities: { freeStorage: 0, bandwidthClass: 1, protocolVersion: 1 },
  };
  const record = mutate({ ...unsigned, id: identity.id, signature: mldsaSign(identity.dsa.secretKey, recordSigningPayload(unsigned)) });
  return { record, bytes: encodeRecord(record) };
}

/** A peer on a real socket that claims `claimedId` and serves `recordBytes` for GET_RECORD. */
async function fakePeer(claimedId: NodeId, recordBytes: (port: number) => Uint8Array) {
  const transport = await UdpTransport.bind({ host: '127.0.0.1', port: 0 });
  const rpc = new Rpc({ transport, clock: systemClock, random: rnd }, { self: claimedId, queryTimeout: 2000, pingTimeout: 2000 });
  const bytes = recordBytes(transport.local.port);
  rpc.setHandler((req, from) => {
    if (req.type === 'PING') return { type: 'PONG', observed: { host: from.host, port: from.port } };
    if (req.type === 'GET_RECORD') return { type: 'RECORD', record: bytes };
    return { type: 'NODES', contacts: [] };
  });
  return { rpc, transport, id: claimedId, close: async () => { rpc.close(); await transport.close(); } };
}

describe('node identity and record admission (T12, first half)', () => {
  let root: string;
  let node: DhtNode;
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'zhtp-identity-'));
    node = new DhtNode({ host: '127.0.0.1', port: 0, dataDir: join(root, 'n'), queryTimeout: 2000, pingTimeout: 2000 });
    await node.start();
  });
  afterAll(async () => {
    await node?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('keeps its ML-DSA identity in a 0600 file and derives its id from the public key', async () => {
    const file = join(root, 'n', 'identity.key');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const { nodeIdFromPublicKey } = await import('../../src/crypto/index.js');
    expect(idToHex(nodeIdFromPublicKey(node.identity.dsa.publicKey))).toBe(idToHex(node.id));
    expect(idToHex(node.record.id)).toBe(idToHex(node.id));
  });

  it('admits peers whose records verify and never admits forged ones', async () => {
    const honest = 5;
    const forged = 10;
    const peers: Array<Awaited<ReturnType<typeof fakePeer>> & { good: boolean }> = [];
    for (let i = 0; i < honest; i++) {
      const rec = makeRecord(9);
      peers.push({ ...(await fakePeer(rec.record.id, () => rec.bytes)), good: true });
    }
    for (let i = 0; i < forged; i++) {
      // (a) a valid record, but the claimed id is not BLAKE3 of its key
      peers.push({ ...(await fakePeer(rnd.bytes(32) as Id, (port) => makeRecord(port).bytes)), good: false });
      // (b) the right id, but the signature does not cover the record (signed over seq 1, carries seq 2)
      const tampered = makeRecord(9, (rec) => ({ ...rec, seq: rec.seq + 1 }));
      peers.push({ ...(await fakePeer(tampered.record.id, () => tampered.bytes)), good: false });
    }
    const target = { host: '127.0.0.1', port: node.address.port };
    const checked = (): number => {
      const r = node.extendedStats().records;
      return r.verified + r.invalid + r.idMismatch;
    };
    // Each peer makes itself known with a request; the node pings it back and fetches its record.
    // Waves of 8 stay under the node's limit of 16 admission pings in flight.
    for (let i = 0; i < peers.length; i += 8) {
      const wave = peers.slice(i, i + 8);
      await Promise.all(wave.map((p) => p.rpc.request(target, { type: 'FIND_NODE', target: p.id }).catch(() => null)));
      const deadline = Date.now() + 10_000;
      while (checked() < i + wave.length && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    }

    const inTable = peers.filter((p) => node.routingTable.has(p.id));
    const forgedIn = inTable.filter((p) => !p.good).length;
    const stats = node.extendedStats().records;
    const maxForged = THRESHOLDS.T12.forged_insertions;
    report({ test: 'T12-first-half', figure: 'forged_insertions', value: forgedIn, threshold: maxForged, pass: forgedIn <= maxForged });
    expect(forgedIn).toBeLessThanOrEqual(maxForged);
    expect(inTable.filter((p) => p.good)).toHaveLength(honest);
    expect(stats.idMismatch).toBe(forged);
    expect(stats.invalid).toBe(forged);
    // Forged peers never appear in the node's answers either.
    const reply = await peers[0]!.rpc.request(target, { type: 'FIND_NODE', target: peers[honest]!.id });
    const listed = new Set(reply.type === 'NODES' ? reply.contacts.map((c) => idToHex(c.id)) : []);
    expect(peers.filter((p) => !p.good && listed.has(idToHex(p.id)))).toHaveLength(0);
    // A forged peer that comes back is refused from the ban list, without another verification.
    const again = peers.find((p) => !p.good)!;
    await again.rpc.request(target, { type: 'FIND_NODE', target: again.id }).catch(() => null);
    const until = Date.now() + 5000;
    while (node.extendedStats().records.recentlyRejected === 0 && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 20));
    const after = node.extendedStats().records;
    expect(after.recentlyRejected).toBeGreaterThanOrEqual(1);
    expect(after.invalid + after.idMismatch).toBe(2 * forged);
    await Promise.all(peers.map((p) => p.close()));
  }, 60_000);
});
