/**
 * The identity file: created once (mode 0600) with keys made in the pool, loaded unchanged on the
 * next start, tightened to 0600 when found looser, and refused with a clear Error when corrupt.
 */
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Packr } from 'msgpackr';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ephemeralIdentity, IDENTITY_FILE, loadOrCreateIdentity, MLDSA65_PUBLIC_KEY_BYTES, MLDSA65_SECRET_KEY_BYTES,
  MLKEM768_PUBLIC_KEY_BYTES, MLKEM768_SECRET_KEY_BYTES, mldsaKeygen, mldsaSign, mldsaVerify, mlkemKeygen, nodeIdFromPublicKey,
} from '../../src/crypto/index.js';
import { PoolRegistry, toHex } from './fixtures.js';

const pools = new PoolRegistry();
let dir = '';

beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'zhtp-identity-')); });
afterEach(async () => {
  await pools.closeAll();
  rmSync(dir, { recursive: true, force: true });
});

const mode = (path: string): number => statSync(path).mode & 0o777;
const packr = new Packr({ useRecords: false });

/** An identity file with the given fields over a valid-sized default. */
function identityFile(overrides: Record<string, unknown>): Buffer {
  return packr.pack({
    v: 1,
    dsaPublic: new Uint8Array(MLDSA65_PUBLIC_KEY_BYTES), dsaSecret: new Uint8Array(MLDSA65_SECRET_KEY_BYTES),
    kemPublic: new Uint8Array(MLKEM768_PUBLIC_KEY_BYTES), kemSecret: new Uint8Array(MLKEM768_SECRET_KEY_BYTES),
    ...overrides,
  });
}

describe('loadOrCreateIdentity', () => {
  it('creates identity.key with mode 0600 once; the second call loads the same keys and id', async () => {
    const pool = pools.open();
    const dataDir = join(dir, 'nested', 'data'); // the folder is created too
    const first = await loadOrCreateIdentity(dataDir, pool);
    const path = join(dataDir, IDENTITY_FILE);
    expect(mode(path)).toBe(0o600);
    expect(toHex(first.id)).toBe(toHex(nodeIdFromPublicKey(first.dsa.publicKey)));
    const fileBefore = readFileSync(path);
    const completedBefore = pool.stats().completed;

    const second = await loadOrCreateIdentity(dataDir, pool);
    expect(pool.stats().completed).toBe(completedBefore); // no second keygen task
    expect(readFileSync(path).equals(fileBefore)).toBe(true);
    expect(toHex(second.id)).toBe(toHex(first.id));
    expect(toHex(second.dsa.secretKey)).toBe(toHex(first.dsa.secretKey));
    expect(toHex(second.kem.publicKey)).toBe(toHex(first.kem.publicKey));
    expect(toHex(second.kem.secretKey)).toBe(toHex(first.kem.secretKey));
    // The loaded keys are a working pair.
    const msg = new Uint8Array([1, 2, 3]);
    expect(mldsaVerify(second.dsa.publicKey, msg, mldsaSign(second.dsa.secretKey, msg))).toBe(true);
  });

  it('creates the identity from a 96-byte seed when given; an existing file wins over the seed', async () => {
    const pool = pools.open();
    const seed = Uint8Array.from({ length: 96 }, (_, i) => i);
    const expectedId = toHex(nodeIdFromPublicKey(mldsaKeygen(seed.slice(0, 32)).publicKey));
    const created = await loadOrCreateIdentity(dir, pool, seed);
    expect(toHex(created.id)).toBe(expectedId);
    expect(toHex(created.kem.publicKey)).toBe(toHex(mlkemKeygen(seed.slice(32)).publicKey));
    const reloaded = await loadOrCreateIdentity(dir, pool, new Uint8Array(96).fill(7));
    expect(toHex(reloaded.id)).toBe(expectedId);
  });

  it('ephemeralIdentity makes keys in memory only (deterministic from a seed) and writes no file', async () => {
    const pool = pools.open();
    const seed = new Uint8Array(96).fill(3);
    const a = await ephemeralIdentity(pool, seed);
    const b = await ephemeralIdentity(pool, seed);
    expect(toHex(a.id)).toBe(toHex(b.id));
    expect(toHex(a.id)).toBe(toHex(nodeIdFromPublicKey(a.dsa.publicKey)));
    expect(toHex((await ephemeralIdentity(pool)).id)).not.toBe(toHex(a.id));
    expect(readdirSync(dir)).toEqual([]);
  });

  it('tightens a file found with mode 0644 to 0600 on load', async () => {
    const pool = pools.open();
    const created = await loadOrCreateIdentity(dir, pool);
    const path = join(dir, IDENTITY_FILE);
    chmodSync(path, 0o644);
    expect(mode(path)).toBe(0o644);
    const loaded = await loadOrCreateIdentity(dir, pool);
    expect(mode(path)).toBe(0o600);
    expect(toHex(loaded.id)).toBe(toHex(created.id));
  });

  it('refuses garbage, an empty file, a wrong version and wrong-size fields with a clear Error', async () => {
    const pool = pools.open();
    const path = join(dir, IDENTITY_FILE);
    const cases: Array<[string, Uint8Array, RegExp]> = [
      ['garbage', Buffer.from('hello, not msgpack at all'), /is not a zhtp-dht identity file/],
      ['empty (a crash while writing)', new Uint8Array(0), /is not a zhtp-dht identity file/],
      ['version 2', identityFile({ v: 2 }), /unknown identity file version 2/],
      ['short dsaPublic', identityFile({ dsaPublic: new Uint8Array(MLDSA65_PUBLIC_KEY_BYTES - 1) }), /field dsaPublic is missing or has the wrong size/],
      ['long kemSecret', identityFile({ kemSecret: new Uint8Array(MLKEM768_SECRET_KEY_BYTES + 1) }), /field kemSecret is missing or has the wrong size/],
      ['missing dsaSecret', identityFile({ dsaSecret: undefined }), /field dsaSecret is missing or has the wrong size/],
      ['dsaPublic as a string', identityFile({ dsaPublic: 'x'.repeat(MLDSA65_PUBLIC_KEY_BYTES) }), /field dsaPublic is missing/],
      ['a msgpack number', packr.pack(1), /is not a zhtp-dht identity file/],
    ];
    for (const [name, bytes, message] of cases) {
      writeFileSync(path, bytes, { mode: 0o600 });
      const err = await loadOrCreateIdentity(dir, pool).then(() => null, (e: unknown) => e);
      expect(err, name).toBeInstanceOf(Error);
      expect((err as Error).message, name).toMatch(message);
      expect((err as Error).message, name).toContain(path);
      expect(readFileSync(path).equals(Buffer.from(bytes)), `${name}: the file is left for the operator`).toBe(true);
    }
  });

  // BUG (src/crypto/identity.ts parseIdentity, the `raw.v` check): a file that is valid msgpack
  // for nil (the single byte 0xc0) unpacks to null, and reading `raw.v` throws
  // "TypeError: Cannot read properties of null (reading 'v')" instead of the clear
  // "<path>: ... identity file" Error. Remove `.fails` when fixed.
  it('refuses a file holding msgpack nil with a clear Error naming the file', async () => {
    const pool = pools.open();
    const path = join(dir, IDENTITY_FILE);
    writeFileSync(path, Buffer.from([0xc0]), { mode: 0o600 });
    const err = await loadOrCreateIdentity(dir, pool).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(TypeError);
    expect((err as Error).message).toContain(path);
  });
});
