/**
 * The client commands (stats, peers, routing, health, put, get) run through the CLI's main()
 * with in-memory streams against a real node: a 3-node loopback testnet, node 0 serving its
 * HTTP API on a free port, plus a lone node (no contacts) with an API of its own for `health`.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiServer } from '../../src/api/index.js';
import { EXIT } from '../../src/cli/index.js';
import { idToHex } from '../../src/id/index.js';
import type { DhtNode } from '../../src/node/index.js';
import { type ApiTestnet, apiTestnet } from '../helpers/api.js';
import { cli } from './io.js';

let testnet: ApiTestnet;
let node: DhtNode;
let api: ApiServer;
let loneApi: ApiServer;
let root: string;
let dataDir: string;

beforeAll(async () => {
  testnet = await apiTestnet(3, { prefix: 'zhtp-cli-client-', tokenIn: 'dataDir' });
  ({ node, api, dir: root } = testnet);
  dataDir = node.options.dataDir!;
  const lone = await testnet.net.addNode({ bootstrap: [] });
  loneApi = new ApiServer({ node: lone, port: 0, hosts: ['127.0.0.1'] });
  await loneApi.start();
});

afterAll(async () => {
  await loneApi?.stop();
  await testnet?.destroy();
});

/** --api and --data of node 0. */
const target = (): string[] => ['--api', api.url, '--data', dataDir];

/** A port nothing listens on (bound once, then freed). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('read commands', () => {
  it('stats, peers and routing print aligned human tables and exit 0', async () => {
    const stats = await cli(['stats', ...target()]);
    expect(stats.code, stats.stderr).toBe(EXIT.ok);
    expect(stats.stdout).toContain(idToHex(node.id));
    expect(stats.stdout).toMatch(/^routing table +\d+ contacts$/m);
    const peers = await cli(['peers', ...target()]);
    expect(peers.code, peers.stderr).toBe(EXIT.ok);
    const lines = peers.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID +ADDRESS +BUCKET +LAST SEEN/);
    expect(lines.at(-1)).toBe(`${node.routingTable.size} peer(s)`);
    // Every row starts its address where the header's ADDRESS starts.
    const column = lines[0]!.indexOf('ADDRESS');
    for (const row of lines.slice(1, -1)) expect(row.slice(column)).toMatch(/^127\.0\.0\.1:\d+/);
    const routing = await cli(['routing', ...target()]);
    expect(routing.code, routing.stderr).toBe(EXIT.ok);
    expect(routing.stdout).toMatch(/^BUCKET +CONTACTS +REPLACEMENTS +LAST CHANGED$/m);
  });

  it('--json prints the API document as it came: one JSON document per command', async () => {
    const stats = await cli(['stats', '--json', ...target()]);
    expect(stats.code).toBe(EXIT.ok);
    expect(stats.stdout.endsWith('\n') && stats.stdout.trimEnd().includes('\n') === false).toBe(true);
    expect(JSON.parse(stats.stdout)).toMatchObject({ routingTableSize: node.routingTable.size, totalNodes: expect.any(Number) });
    const peers = JSON.parse((await cli(['peers', '--json', ...target()])).stdout) as { peers: Array<{ id: string }> };
    expect(peers.peers.map((p) => p.id).sort()).toEqual(node.routingTable.entries().map((e) => idToHex(e.contact.id)).sort());
    const routing = JSON.parse((await cli(['routing', '--json', ...target()])).stdout) as Record<string, unknown>;
    expect(routing).toMatchObject({ self: idToHex(node.id), k: node.options.k, size: node.routingTable.size });
    const health = await cli(['health', '--json', '--api', api.url]);
    expect(JSON.parse(health.stdout)).toEqual({ ready: true, checks: { running: true, routingTable: node.routingTable.size } });
  });

  it('health needs no token, exits 0 when ready and 1 on a node without contacts, printing both checks', async () => {
    const ready = await cli(['health', '--api', api.url]);
    expect(ready.code).toBe(EXIT.ok);
    expect(ready.stdout).toMatch(/^ready +yes$/m);
    expect(ready.stdout).toMatch(/^running +yes$/m);
    const lone = await cli(['health', '--api', loneApi.url]);
    expect(lone.code).toBe(EXIT.failed);
    expect(lone.stdout).toMatch(/^ready +no$/m);
    expect(lone.stdout).toMatch(/^routing table +0 contacts/m);
    const loneJson = await cli(['health', '--json', '--api', loneApi.url]);
    expect(loneJson.code).toBe(EXIT.failed);
    expect(JSON.parse(loneJson.stdout)).toEqual({ ready: false, checks: { running: true, routingTable: 0 } });
  });
});

describe('put and get', () => {
  it('a 600 KiB file goes up and comes back byte for byte, to a file and to stdout', async () => {
    const content = randomBytes(600 * 1024);
    const file = join(root, 'big.bin');
    writeFileSync(file, content);
    const put = await cli(['put', file, '--json', ...target()]);
    expect(put.code, put.stderr).toBe(EXIT.ok);
    const stored = JSON.parse(put.stdout) as { key: string; size: number; chunks: number };
    expect(stored).toMatchObject({ key: expect.stringMatching(/^[0-9a-f]{64}$/), size: content.byteLength, chunks: 3 });

    const copy = join(root, 'big.copy');
    const toFile = await cli(['get', stored.key, '-o', copy, ...target()]);
    expect(toFile.code, toFile.stderr).toBe(EXIT.ok);
    expect(readFileSync(copy).equals(content)).toBe(true);
    expect(existsSync(`${copy}.partial`)).toBe(false);
    expect(toFile.stderr).toMatch(/^received 600\.0 KiB in .* into /);

    const toStdout = await cli(['get', stored.key, ...target()]);
    expect(toStdout.code, toStdout.stderr).toBe(EXIT.ok);
    expect(toStdout.out.equals(content)).toBe(true);

    const summary = await cli(['get', stored.key, '-o', copy, '--json', ...target()]);
    expect(JSON.parse(summary.stdout)).toMatchObject({ key: stored.key, size: content.byteLength, file: copy });
  });

  it('a small file is one value: the key alone on stdout, a summary on stderr', async () => {
    const file = join(root, 'small.txt');
    writeFileSync(file, 'hello through the API\n');
    const put = await cli(['put', file, '--replicas', '3', '--ttl', '3600', ...target()]);
    expect(put.code, put.stderr).toBe(EXIT.ok);
    expect(put.stdout).toMatch(/^[0-9a-f]{64}\n$/);
    expect(put.stderr).toMatch(/^stored 22 B on \d+ node\(s\) in /);
    const get = await cli(['get', put.stdout.trim(), ...target()]);
    expect(get.stdout).toBe('hello through the API\n');
  });

  it('a missing key exits 1 with `error: <code>: <message>`', async () => {
    const r = await cli(['get', 'ab'.repeat(32), ...target()]);
    expect(r.code).toBe(EXIT.failed);
    expect(r.stderr).toMatch(/^error: not_found: .+\n$/);
    expect(r.stdout).toBe('');
  });

  it('a file that cannot be read exits 1 before any request', async () => {
    const r = await cli(['put', join(root, 'no-such-file'), '--api', 'http://127.0.0.1:1']);
    expect(r.code).toBe(EXIT.failed);
    expect(r.stderr).toMatch(/^error: cannot read .*no-such-file/);
  });
});

describe('tokens and failures', () => {
  it('the token comes from --token, then ZHTP_TOKEN, then <--data or ZHTP_DATA>/api-token', async () => {
    expect((await cli(['stats', '--json', '--api', api.url, '--token', api.token])).code).toBe(EXIT.ok);
    expect((await cli(['stats', '--json', '--api', api.url], { ZHTP_TOKEN: api.token })).code).toBe(EXIT.ok);
    expect((await cli(['stats', '--json', '--api', api.url], { ZHTP_DATA: dataDir })).code).toBe(EXIT.ok);
    expect((await cli(['stats', '--json'], { ZHTP_API: api.url, ZHTP_DATA: dataDir })).code).toBe(EXIT.ok);
    // The command line wins: a wrong --token is refused even with the right one in the environment.
    expect((await cli(['stats', '--api', api.url, '--token', 'f'.repeat(64)], { ZHTP_TOKEN: api.token })).code).toBe(EXIT.unauthorized);
  });

  it('a refused or missing token exits 4 and says where the token was looked for', async () => {
    const wrong = await cli(['stats', '--api', api.url, '--token', 'f'.repeat(64)]);
    expect(wrong.code).toBe(EXIT.unauthorized);
    expect(wrong.stderr).toMatch(/^error: unauthorized: .*refused the token from --token/);
    const empty = mkdtempSync(join(root, 'no-token-'));
    const missing = await cli(['peers', '--api', api.url, '--data', empty]);
    expect(missing.code).toBe(EXIT.unauthorized);
    expect(missing.stderr).toContain(join(empty, 'api-token'));
    expect(missing.stderr).toContain('ZHTP_TOKEN');
    const upload = join(root, 'refused.bin');
    writeFileSync(upload, randomBytes(300 * 1024));
    expect((await cli(['put', upload, '--api', api.url, '--token', 'f'.repeat(64)])).code).toBe(EXIT.unauthorized);
  });

  it('an API nobody listens on exits 3 and says the node may not be running', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    for (const args of [['stats'], ['health'], ['get', 'ab'.repeat(32)]]) {
      const r = await cli([...args, '--api', url, '--data', dataDir]);
      expect(r.code, args[0]).toBe(EXIT.unreachable);
      expect(r.stderr).toMatch(/cannot reach the API at .*connection refused.*node running/);
    }
  });

  it('usage errors exit 2 without output on stdout', async () => {
    const file = join(root, 'small.txt');
    for (const args of [
      ['stats', '--bogus'], ['stats', 'extra'], ['peers', '--api', 'ftp://example'], ['get', 'not-hex'], ['put'],
      ['put', file, '--replicas', '99'], ['put', file, '--ttl', '0'], ['get', 'ab'.repeat(32), '--json'], ['frobnicate'], [],
    ]) {
      const r = await cli(args);
      expect(r.code, args.join(' ')).toBe(EXIT.usage);
      expect(r.stdout, args.join(' ')).toBe('');
    }
  });

  it('help lists every command; COMMAND --help shows that command', async () => {
    const help = await cli(['help']);
    expect(help.code).toBe(EXIT.ok);
    for (const c of ['start', 'init', 'stats', 'peers', 'routing', 'health', 'put', 'get', 'testnet', 'demo']) expect(help.stdout).toContain(`zhtp-dht ${c}`);
    for (const o of ['--api-port', '--no-api', '--config', '--log-level', '--log-format', 'ZHTP_TOKEN', '--json']) expect(help.stdout).toContain(o);
    const put = await cli(['put', '--help']);
    expect(put.code).toBe(EXIT.ok);
    expect(put.stdout).toContain('--replicas');
    expect((await cli(['--help'])).code).toBe(EXIT.ok);
  });
});
