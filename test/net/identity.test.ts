/**
 * Node identity over real UDP: a node's id is BLAKE3 of its ML-DSA-65 public key, peers learn
 * each other's signed record in the session handshake (no separate record request), and the
 * identity file survives a restart. Forged handshakes and records (T12) are in handshake.test.ts.
 */
import { readFileSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IDENTITY_FILE, mldsaVerify, type NodeRecord, nodeIdFromPublicKey, recordSigningPayload } from '../../src/crypto/index.js';
import { type Contact, idToHex } from '../../src/id/index.js';
import { DhtNode } from '../../src/node/index.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** Checks that `record` is `node`'s: its id, keys and a signature by its ML-DSA key over the record. */
function expectRecordOf(record: NodeRecord | undefined, node: DhtNode): void {
  expect(record).toBeDefined();
  const r = record!;
  expect(idToHex(r.id)).toBe(idToHex(node.id));
  expect(hex(r.publicKeys.mldsa65)).toBe(hex(node.identity.dsa.publicKey));
  expect(hex(r.publicKeys.mlkem768)).toBe(hex(node.identity.kem.publicKey));
  expect(idToHex(nodeIdFromPublicKey(r.publicKeys.mldsa65))).toBe(idToHex(node.id));
  expect(mldsaVerify(r.publicKeys.mldsa65, recordSigningPayload(r), r.signature)).toBe(true);
  expect(r.addresses).toContainEqual(node.address);
}

describe('node identity and records learned in handshakes', () => {
  let root: string;
  let node: DhtNode;
  let other: DhtNode | null = null;
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'zhtp-identity-'));
    node = new DhtNode({ host: '127.0.0.1', port: 0, dataDir: join(root, 'n'), queryTimeout: 2000, pingTimeout: 2000 });
    await node.start();
  });
  afterAll(async () => {
    await other?.stop();
    await node?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('keeps its ML-DSA identity in a 0600 file and derives its id from the public key', () => {
    const file = join(root, 'n', IDENTITY_FILE);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(idToHex(nodeIdFromPublicKey(node.identity.dsa.publicKey))).toBe(idToHex(node.id));
    expect(idToHex(node.identity.id)).toBe(idToHex(node.id));
    // Its own record is signed by that key and names its bound address.
    expectRecordOf(node.record, node);
  });

  it('learns a peer\'s verified record in the handshake of the first contact, and the peer learns its', async () => {
    other = new DhtNode({ host: '127.0.0.1', port: 0, dataDir: join(root, 'other'), queryTimeout: 2000, pingTimeout: 2000 });
    await other.start();
    const nodeAsContact: Contact = node.contact;
    const otherAsContact: Contact = other.contact;
    expect(idToHex(other.id)).not.toBe(idToHex(node.id));
    // Strangers so far: neither holds a record of the other.
    expect(node.peerRecord(otherAsContact)).toBeUndefined();
    expect(other.peerRecord(nodeAsContact)).toBeUndefined();
    const verifiedBefore = node.extendedStats().records.verified;

    // A PING to a bare address: the session handshake says who answers, and the PONG comes from that id.
    const answered = await other.ping(node.address);
    expect(idToHex(answered.id)).toBe(idToHex(node.id));

    expectRecordOf(other.peerRecord(nodeAsContact), node);
    expectRecordOf(node.peerRecord(otherAsContact), other);
    expect(node.extendedStats().records.verified).toBe(verifiedBefore + 1);
    expect(other.extendedStats().records.verified).toBeGreaterThanOrEqual(1);
    // The PING travelled sealed in that session, not in plaintext.
    const sessions = node.extendedStats().sessions;
    expect(sessions.handshakesAccepted).toBeGreaterThanOrEqual(1);
    expect(sessions.sealedIn).toBeGreaterThanOrEqual(1);
    expect(other.extendedStats().sessions.handshakesCompleted).toBeGreaterThanOrEqual(1);
  }, 30_000);

  it('keeps its identity across a restart on the same data folder', async () => {
    const dataDir = join(root, 'n');
    const file = join(dataDir, IDENTITY_FILE);
    const before = { id: idToHex(node.id), file: readFileSync(file), publicKey: hex(node.identity.dsa.publicKey) };
    await node.stop();

    node = new DhtNode({ host: '127.0.0.1', port: 0, dataDir, queryTimeout: 2000, pingTimeout: 2000 });
    await node.start();

    expect(idToHex(node.id)).toBe(before.id);
    expect(hex(node.identity.dsa.publicKey)).toBe(before.publicKey);
    expect(readFileSync(file).equals(before.file)).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    // A fresh record (new address, new seq) under the same key.
    expectRecordOf(node.record, node);
    // A peer that meets the restarted node learns the same id from the handshake.
    const peer = other!;
    const answered = await peer.ping(node.address);
    expect(idToHex(answered.id)).toBe(before.id);
    expectRecordOf(peer.peerRecord(node.contact), node);
  }, 30_000);
});
