/**
 * `zhtp-dht contract deploy|find|info|create|call|query` through the CLI's main() with in-memory
 * streams, against node 0's API on a 3-node loopback testnet: a built-in example and a .wasm file
 * with an ABI file, find and info, an instance, calls and queries with JSON arguments and decoded
 * results (a revert exits 1), --json documents, and the usage errors (exit 2).
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXIT } from '../../src/cli/index.js';
import { EXAMPLE_CONTRACTS, exampleContract } from '../../src/contracts/index.js';
import { idToHex } from '../../src/id/index.js';
import { cliTarget, useApiTestnet, writeIn } from '../helpers/api.js';
import { cli } from './io.js';

const t = useApiTestnet(3, { prefix: 'zhtp-cli-contract-', testnet: { contracts: { threads: 1 } }, tokenIn: 'dataDir' });

/** --api and --data of node 0. */
const target = (): string[] => cliTarget(t);
const file = (name: string, content: string | Uint8Array): string => writeIn(t, name, content);
/** The value of a `label  value` line. */
const pair = (text: string, label: string): string => new RegExp(`^${label}\\s+(.*)$`, 'm').exec(text)?.[1] ?? '';

let counterCode = '';
let tokenCode = '';

describe('contract deploy, find and info', () => {
  it('deploys a built-in example and a .wasm file with an ABI file, then finds both by tag', async () => {
    const example = await cli(['contract', 'deploy', 'counter', ...target()]);
    expect(example.code, example.stderr).toBe(EXIT.ok);
    expect(pair(example.stdout, 'name')).toBe('counter 1.0.0');
    expect(pair(example.stdout, 'methods')).toBe('increment, get');
    expect(pair(example.stdout, 'tag example')).toMatch(/^\d replica\(s\)$/);
    counterCode = pair(example.stdout, 'code hash');
    expect(counterCode).toMatch(/^[0-9a-f]{64}$/);

    const wasm = file('my-token.wasm', exampleContract('token'));
    const abi = file('token-abi.json', JSON.stringify(EXAMPLE_CONTRACTS.token.abi));
    const deployed = await cli(['contract', 'deploy', wasm, '--name', 'my-token', '--version', '0.1.0', '--tags', 'example, fungible', '--abi', abi, '--json', ...target()]);
    expect(deployed.code, deployed.stderr).toBe(EXIT.ok);
    const doc = JSON.parse(deployed.stdout) as { codeHash: string; key: string; tags: string[] };
    expect(doc.tags).toEqual(['example', 'fungible']);
    tokenCode = doc.codeHash;

    const found = await cli(['contract', 'find', 'example', ...target()]);
    expect(found.code, found.stderr).toBe(EXIT.ok);
    expect(found.stdout).toMatch(/^NAME\s+VERSION\s+OWNER\s+CODE\s+KEY$/m);
    expect(found.stdout).toMatch(new RegExp(`^counter\\s+1\\.0\\.0\\s+${idToHex(t.node.id).slice(0, 16)}…`, 'm'));
    expect(found.stdout).toMatch(new RegExp(`^my-token\\s+0\\.1\\.0\\s+.*${doc.key}$`, 'm'));
    expect(found.stdout).toMatch(/^2 contract\(s\) under 'example' from 1 publisher\(s\)$/m);
    const json = JSON.parse((await cli(['contract', 'find', 'fungible', '--json', ...target()])).stdout) as { contracts: Array<{ name: string }> };
    expect(json.contracts.map((c) => c.name)).toEqual(['my-token']);

    const byKey = await cli(['contract', 'info', doc.key, ...target()]);
    expect(byKey.code, byKey.stderr).toBe(EXIT.ok);
    expect(pair(byKey.stdout, 'name')).toBe('my-token');
    expect(pair(byKey.stdout, 'signature')).toBe('verified');
    expect(byKey.stdout).toContain('  transfer(to: address, amount: u64) -> ()\n');
    expect(byKey.stdout).toContain('  balanceOf(owner: address) -> (balance: u64)  [readonly]\n');
    const byName = await cli(['contract', 'info', 'counter', ...target()]);
    expect(pair(byName.stdout, 'code hash')).toBe(counterCode);
    const owner = file('owner.hex', Buffer.from(t.net.nodes[1]!.identity.dsa.publicKey).toString('hex'));
    const elsewhere = await cli(['contract', 'info', 'counter', '--owner', `@${owner}`, ...target()]);
    expect([elsewhere.code, elsewhere.stderr]).toEqual([EXIT.failed, expect.stringMatching(/^error: not_found: contract manifest/)]);
  }, 90_000);
});

describe('contract create, call and query', () => {
  it('creates instances and runs methods with JSON arguments and decoded results; a revert exits 1', async () => {
    const created = await cli(['contract', 'create', counterCode, ...target()]);
    expect(created.code, created.stderr).toBe(EXIT.ok);
    const counter = created.stdout.trim();
    expect(created.stderr).toMatch(/^created instance of/);
    const inc = await cli(['contract', 'call', counter, 'increment', '--returns', 'u64', ...target()]);
    expect(inc.code, inc.stderr).toBe(EXIT.ok);
    expect([pair(inc.stdout, 'status'), pair(inc.stdout, 'returned'), pair(inc.stdout, 'version')]).toEqual(['ok', '["1"]', '1']);
    const callId = pair(inc.stdout, 'call id');
    expect(callId).toMatch(/^[0-9a-f]{64}$/);
    const kept = await cli(['contract', 'receipt', callId, '--instance', counter, '--returns', 'u64', ...target()]);
    expect([kept.code, pair(kept.stdout, 'status'), pair(kept.stdout, 'returned'), pair(kept.stdout, 'call id')], kept.stderr).toEqual([EXIT.ok, 'ok', '["1"]', callId]);
    const none = await cli(['contract', 'receipt', 'ee'.repeat(32), '--instance', counter, ...target()]);
    expect(none.code).toBe(EXIT.failed);
    const get = await cli(['contract', 'query', counter, 'get', '--returns', 'u64', '--json', ...target()]);
    expect(JSON.parse(get.stdout)).toMatchObject({ status: 'ok', version: 1 });

    const token = (await cli(['contract', 'create', tokenCode, '--salt', 'cli', ...target()])).stdout.trim();
    expect((await cli(['contract', 'call', token, 'init', '[1000]', '--types', 'u64', ...target()])).code).toBe(EXIT.ok);
    const me = idToHex(t.node.id);
    const sent = await cli(['contract', 'call', token, 'transfer', JSON.stringify(['ab'.repeat(32), '250']), '--types', 'address,u64', ...target()]);
    expect([sent.code, pair(sent.stdout, 'event 0')]).toEqual([EXIT.ok, expect.stringMatching(/^Transfer 0x/)]);
    const balance = await cli(['contract', 'query', token, 'balanceOf', `["${me}"]`, '--types', 'address', '--returns', 'u64', ...target()]);
    expect(pair(balance.stdout, 'returned')).toBe('["750"]');
    const broke = await cli(['contract', 'call', token, 'transfer', JSON.stringify(['ab'.repeat(32), 10_000]), '--types', 'address,u64', ...target()]);
    expect([broke.code, pair(broke.stdout, 'status')]).toEqual([EXIT.failed, 'revert']);
    expect(pair(broke.stdout, 'error')).not.toBe('');
  }, 90_000);
});

describe('contract usage', () => {
  it('exits 2 with one line naming the problem', async () => {
    const id = 'ab'.repeat(32);
    const cases: Array<[string[], RegExp]> = [
      [['contract'], /contract needs a subcommand: deploy, find, info, create, call, query, receipt/],
      [['contract', 'receipt', 'xyz', ...target()], /usage: zhtp-dht contract receipt CALLID/],
      [['contract', 'sign'], /unknown contract subcommand 'sign'/],
      [['contract', 'deploy', ...target()], /usage: zhtp-dht contract deploy/],
      [['contract', 'deploy', file('x.wasm', 'x'), ...target()], /--name and --version are required/],
      [['contract', 'find', ...target()], /usage: zhtp-dht contract find TAG/],
      [['contract', 'find', 'x', '--limit', '0', ...target()], /--limit must be an integer in 1\.\.256/],
      [['contract', 'info', id, '--owner', 'self', ...target()], /--owner goes with a NAME/],
      [['contract', 'info', 'counter', '--owner', 'abcd', ...target()], /--owner must be an ML-DSA-65 public key/],
      [['contract', 'create', 'xyz', ...target()], /CODEHASH: 64 hex digits/],
      [['contract', 'call', 'xyz', 'get', ...target()], /INSTANCE must be 64 hex digits/],
      [['contract', 'call', id, ...target()], /usage: zhtp-dht contract call INSTANCE METHOD/],
      [['contract', 'call', id, 'f', '[1]', ...target()], /0 types but 1 args/],
      [['contract', 'call', id, 'f', 'nope', '--types', 'u64', ...target()], /ARGS must be a JSON array/],
      [['contract', 'call', id, 'f', '[1]', '--types', 'u65', ...target()], /type 0 must be one of u32, u64, address, bytes, string/],
      [['contract', 'query', id, 'f', '["x"]', '--types', 'address', ...target()], /arg 0 \(address\) must be 64 hex digits/],
      [['contract', 'call', id, 'f', '--gas', '0', ...target()], /--gas must be an integer/],
    ];
    for (const [args, message] of cases) {
      const r = await cli(args);
      expect(r.code, args.join(' ')).toBe(EXIT.usage);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.stderr, args.join(' ')).toMatch(message);
    }
    const bad = await cli(['contract', 'deploy', file('bad.wasm', 'not wasm'), '--name', 'bad', '--version', '1', ...target()]);
    expect([bad.code, bad.stderr]).toEqual([EXIT.failed, expect.stringMatching(/^error: invalid_contract: invalid contract module \(malformed\)/)]);
    const help = await cli(['help', 'contract']);
    expect([help.code, help.stdout]).toEqual([EXIT.ok, expect.stringContaining('zhtp-dht contract call|query INSTANCE METHOD')]);
  }, 60_000);
});
