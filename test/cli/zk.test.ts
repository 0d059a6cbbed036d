/**
 * `zhtp-dht zk put|get|prove|verify` through the CLI's main() with in-memory streams: put and get
 * through node 0's API on a 3-node loopback testnet (each access level, readers from a file), an
 * offline proof with an owner key file, its offline verification (and refusal once tampered with),
 * storing it with `zk put --value`, and the usage errors (exit 2).
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXIT } from '../../src/cli/index.js';
import { decodeZkOwner, decodeZkValue, encodeZkValue } from '../../src/zk/index.js';
import { cliTarget, useApiTestnet, writeIn } from '../helpers/api.js';
import { cli } from './io.js';

const t = useApiTestnet(3, { prefix: 'zhtp-cli-zk-', tokenIn: 'dataDir' });

/** --api and --data of node 0. */
const target = (): string[] => cliTarget(t);
const file = (name: string, content: string | Uint8Array): string => writeIn(t, name, content);

describe('zk put and get through the API', () => {
  it('stores a private value as the node and prints it back; --sealed shows the verified fields only', async () => {
    const put = await cli(['zk', 'put', file('private.txt', 'private via cli\n'), '--name', 'cli private', ...target()]);
    expect(put.code, put.stderr).toBe(EXIT.ok);
    const key = put.stdout.trim();
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(put.stderr).toMatch(/^stored private value at nonce 0 on 3 node\(s\)/);
    const got = await cli(['zk', 'get', key, ...target()]);
    expect([got.code, got.stdout]).toEqual([EXIT.ok, 'private via cli\n']);
    expect(got.stderr).toMatch(/private value, nonce 0, 0 reader\(s\), served by \d+ holder\(s\), proof verified/);
    const sealed = await cli(['zk', 'get', key, '--sealed', ...target()]);
    expect(sealed.code).toBe(EXIT.ok);
    expect(sealed.stdout).toMatch(/^access\s+private$/m);
    expect(sealed.stdout).toMatch(/^proof\s+verified$/m);
    expect(sealed.stdout).not.toContain('private via cli');
    const out = join(t.dir, 'private.out');
    expect((await cli(['zk', 'get', key, '-o', out, ...target()])).code).toBe(EXIT.ok);
    expect(readFileSync(out, 'utf8')).toBe('private via cli\n');
  }, 60_000);

  it('stores a restricted value for a reader given as @FILE; --json prints the API document', async () => {
    const reader = file('reader.hex', `${Buffer.from(t.net.nodes[2]!.identity.kem.publicKey).toString('hex')}\n`);
    const put = await cli(['zk', 'put', file('restricted.txt', 'for node 2'), '--access', 'restricted', '--reader', `@${reader}`, '--json', ...target()]);
    expect(put.code, put.stderr).toBe(EXIT.ok);
    const doc = JSON.parse(put.stdout) as { key: string; readers: number; access: string };
    expect(doc).toMatchObject({ access: 'restricted', readers: 1 });
    expect((await t.net.nodes[2]!.getZk(Buffer.from(doc.key, 'hex') as never)).data).toEqual(new TextEncoder().encode('for node 2'));
    const json = await cli(['zk', 'get', doc.key, '--json', ...target()]);
    expect(JSON.parse(json.stdout)).toMatchObject({ key: doc.key, access: 'restricted', data: Buffer.from('for node 2').toString('base64') });
  }, 60_000);

  it('exits 1 with the API\'s code when the node may not read a value', async () => {
    const other = await t.net.nodes[1]!.putZk(new TextEncoder().encode('node 1 only'), { access: 'private' });
    const r = await cli(['zk', 'get', Buffer.from(other.key).toString('hex'), ...target()]);
    expect(r.code).toBe(EXIT.failed);
    expect(r.stderr).toMatch(/^error: access_denied: a private value opens only with its owner's secrets/);
  }, 60_000);
});

describe('zk prove and verify offline', () => {
  it('proves with a new owner key file, verifies, refuses a tampered copy, and stores it with zk put --value', async () => {
    const ownerFile = join(t.dir, 'owner.key');
    const valueFile = join(t.dir, 'value.zk');
    const proved = await cli(['zk', 'prove', file('offline.txt', 'proven offline'), '--owner', ownerFile, '-o', valueFile, '--access', 'public', '--name', 'offline', '--nonce', '12']);
    expect(proved.code, proved.stderr).toBe(EXIT.ok);
    const key = proved.stdout.trim();
    expect(proved.stderr).toMatch(/^created owner key .*owner\.key/);
    expect(statSync(ownerFile).mode & 0o777).toBe(0o600);
    expect(decodeZkOwner(readFileSync(ownerFile, 'utf8'))).not.toBeNull();
    const value = decodeZkValue(readFileSync(valueFile))!;
    expect([value.accessLevel, value.nonce]).toEqual(['public', 12n]);

    const verified = await cli(['zk', 'verify', valueFile, '--json']);
    expect(verified.code, verified.stderr).toBe(EXIT.ok);
    expect(JSON.parse(verified.stdout)).toMatchObject({ key, access: 'public', nonce: '12', proof: 'valid' });
    const tampered = file('tampered.zk', encodeZkValue({ ...value, encryptedData: new TextEncoder().encode('proven offline!') }));
    const refused = await cli(['zk', 'verify', tampered]);
    expect([refused.code, refused.stderr]).toEqual([EXIT.failed, expect.stringMatching(/^error: INVALID_PROOF: the value would be refused under/)]);
    const elsewhere = await cli(['zk', 'verify', valueFile, '--key', 'ab'.repeat(32)]);
    expect([elsewhere.code, elsewhere.stderr]).toEqual([EXIT.failed, expect.stringMatching(/^error: COMMITMENT_MISMATCH/)]);
    expect((await cli(['zk', 'verify', file('junk.zk', 'junk')])).stderr).toMatch(/^error: BAD_REQUEST/);

    // The same owner file proves the next version; both go through zk put --value.
    const stored = await cli(['zk', 'put', '--value', valueFile, ...target()]);
    expect([stored.code, stored.stdout.trim()]).toEqual([EXIT.ok, key]);
    expect((await cli(['zk', 'get', key, ...target()])).stdout).toBe('proven offline');
    const next = await cli(['zk', 'prove', file('offline2.txt', 'version 13'), '--owner', ownerFile, '-o', valueFile, '--access', 'public', '--name', 'offline', '--nonce', '13']);
    expect([next.code, next.stdout.trim()]).toEqual([EXIT.ok, key]);
    expect((await cli(['zk', 'put', '--value', valueFile, ...target()])).code).toBe(EXIT.ok);
    expect((await cli(['zk', 'get', key, ...target()])).stdout).toBe('version 13');
    const replay = await cli(['zk', 'put', '--value', valueFile, ...target()]);
    expect([replay.code, replay.stderr]).toEqual([EXIT.failed, expect.stringMatching(/^error: stale_nonce/)]);
  }, 120_000);
});

describe('zk usage', () => {
  it('exits 2 with one line naming the problem', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['zk'], /zk needs a subcommand: put, get, prove or verify/],
      [['zk', 'sign'], /unknown zk subcommand 'sign'/],
      [['zk', 'put', 'f', '--access', 'secret', ...target()], /--access must be one of public, private, restricted/],
      [['zk', 'put', 'f', '--reader', 'abcd', ...target()], /--reader must be an ML-KEM-768 public key/],
      [['zk', 'put', 'f', '--nonce=-1', ...target()], /--nonce must be an integer/],
      [['zk', 'put', 'f', '--value', 'v', ...target()], /--value FILE stores a proven value as it is/],
      [['zk', 'get', 'xyz', ...target()], /KEY must be 64 hex digits/],
      [['zk', 'prove', 'f', '-o', 'out'], /usage: zhtp-dht zk prove/],
    ];
    for (const [args, message] of cases) {
      const r = await cli(args);
      expect(r.code, args.join(' ')).toBe(EXIT.usage);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.stderr, args.join(' ')).toMatch(message);
    }
    const help = await cli(['help', 'zk']);
    expect([help.code, help.stdout]).toEqual([EXIT.ok, expect.stringContaining('zhtp-dht zk prove FILE --owner KEYFILE')]);
  });
});
