/**
 * The built zhtp-dht binary across processes: three `start`ed nodes, configured by flags (a),
 * by a config file written by `init` (b) and by ZHTP_* environment variables (c), each with its
 * API on a free port; clients in other processes, through the API and through --bootstrap.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const BIN = join(import.meta.dirname, '../../dist/src/cli/main.js');

interface Started { proc: ChildProcess; port: number; api: string; exited: Promise<number | null>; stdout: () => string; stderr: () => string }

/** Runs `zhtp-dht start ...args` and resolves once it printed its address and its API URL. */
function startNode(args: string[], env: Record<string, string> = {}): Promise<Started> {
  const proc = spawn(process.execPath, [BIN, 'start', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  let out = '';
  let err = '';
  proc.stderr!.on('data', (chunk: Buffer) => { err += chunk.toString(); });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`node did not start: ${out} ${err}`)), 30_000);
    proc.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(out);
      const api = /^api (http:\/\/\S+) \(token in /m.exec(out);
      if (m !== null && api !== null) {
        clearTimeout(timer);
        resolve({ proc, port: Number(m[1]), api: api[1]!, exited, stdout: () => out, stderr: () => err });
      }
    });
    proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`node exited with ${code}: ${out} ${err}`)); });
  });
}

describe('the zhtp-dht command', () => {
  const root = mkdtempSync(join(tmpdir(), 'zhtp-cli-'));
  const nodes: Started[] = [];

  beforeAll(async () => {
    const a = await startNode(['--host', '127.0.0.1', '--port', '0', '--data', join(root, 'a'), '--api-port', '0', '--log-format', 'json', '--log-level', 'info']);
    nodes.push(a);
    await run(process.execPath, [BIN, 'init', '--data', join(root, 'b')]);
    appendFileSync(join(root, 'b', 'zhtp-dht.conf'), 'host = 127.0.0.1\nport = 0\napi-port = 0\n');
    nodes.push(await startNode(['--data', join(root, 'b'), '--bootstrap', `127.0.0.1:${a.port}`]));
    nodes.push(await startNode([], {
      ZHTP_HOST: '127.0.0.1', ZHTP_PORT: '0', ZHTP_DATA: join(root, 'c'), ZHTP_API_PORT: '0', ZHTP_BOOTSTRAP: `127.0.0.1:${a.port},127.0.0.1:${nodes[1]!.port}`,
    }));
  }, 90_000);

  afterAll(async () => {
    for (const n of nodes) if (n.proc.exitCode === null) n.proc.kill('SIGKILL');
    rmSync(root, { recursive: true, force: true });
  });

  it('each node serves its API to client commands in other processes', async () => {
    for (const n of nodes) {
      const health = await run(process.execPath, [BIN, 'health', '--json', '--api', n.api]);
      expect(JSON.parse(health.stdout)).toMatchObject({ ready: true, checks: { running: true } });
    }
    const stats = await run(process.execPath, [BIN, 'stats', '--json', '--api', nodes[2]!.api, '--data', join(root, 'c')]);
    expect(JSON.parse(stats.stdout)).toMatchObject({ routingTableSize: expect.any(Number) });
    const file = join(root, 'via-api.txt');
    writeFileSync(file, 'through the API of node b\n');
    const put = await run(process.execPath, [BIN, 'put', file], { env: { ...process.env, ZHTP_API: nodes[1]!.api, ZHTP_DATA: join(root, 'b') } });
    const got = await run(process.execPath, [BIN, 'get', put.stdout.trim(), '--api', nodes[0]!.api, '--data', join(root, 'a')]);
    expect(got.stdout).toBe('through the API of node b\n');
  }, 60_000);

  it('logs JSON lines on stderr when asked', () => {
    const lines = nodes[0]!.stderr().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    for (const l of lines) expect(Object.keys(l)).toEqual(['time', 'level', 'msg', 'source']);
    expect(lines.map((l) => l.msg)).toContain(`api listening on ${nodes[0]!.api}`);
  });

  it('three started nodes serve put and get from other processes', async () => {
    const file = join(root, 'hello.txt');
    writeFileSync(file, 'hello from another process\n');
    const put = await run(process.execPath, [BIN, 'put', file, '--bootstrap', `127.0.0.1:${nodes[2]!.port}`]);
    const key = put.stdout.trim();
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    const out = join(root, 'back.txt');
    await run(process.execPath, [BIN, 'get', key, '--bootstrap', `127.0.0.1:${nodes[0]!.port}`, '-o', out]);
    expect(readFileSync(out, 'utf8')).toBe('hello from another process\n');
    const toStdout = await run(process.execPath, [BIN, 'get', key, '--bootstrap', `127.0.0.1:${nodes[1]!.port}`]);
    expect(toStdout.stdout).toBe('hello from another process\n');
  }, 60_000);

  it('exits 1 with one line on stderr when a key is not found', async () => {
    const missing = 'ab'.repeat(32);
    const err = await run(process.execPath, [BIN, 'get', missing, '--bootstrap', `127.0.0.1:${nodes[0]!.port}`]).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 1 });
    expect((err as { stderr: string }).stderr.trim().split('\n')).toHaveLength(1);
    expect((err as { stderr: string }).stderr).toMatch(/NOT_FOUND/);
  }, 60_000);

  it('exits 2 on usage errors', async () => {
    for (const args of [['get', 'nothex', '--bootstrap', '127.0.0.1:1'], ['put'], ['frobnicate'], ['start', '--port', '1'], ['start', '--data', root, '--log-level', 'loud']]) {
      const err = await run(process.execPath, [BIN, ...args]).catch((e: unknown) => e);
      expect(err, args.join(' ')).toMatchObject({ code: 2 });
    }
  });

  it('stops cleanly on SIGTERM and SIGINT with exit code 0, API first', async () => {
    const [a, b] = [nodes[1]!, nodes[2]!];
    a.proc.kill('SIGTERM');
    b.proc.kill('SIGINT');
    expect(await a.exited).toBe(0);
    expect(await b.exited).toBe(0);
    expect(a.stdout()).toContain('SIGTERM: stopping');
    const gone = await run(process.execPath, [BIN, 'health', '--api', a.api]).catch((e: unknown) => e);
    expect(gone).toMatchObject({ code: 3 });
  }, 30_000);

  it('testnet runs N loopback nodes that serve clients until interrupted', async () => {
    const proc = spawn(process.execPath, [BIN, 'testnet', '--nodes', '4'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
    try {
      const port = await new Promise<number>((resolve, reject) => {
        let out = '';
        const timer = setTimeout(() => reject(new Error(`testnet did not start: ${out}`)), 20_000);
        proc.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          const m = /--bootstrap 127\.0\.0\.1:(\d+)/.exec(out);
          if (m !== null) { clearTimeout(timer); resolve(Number(m[1])); }
        });
      });
      const file = join(root, 'testnet.txt');
      writeFileSync(file, 'via testnet');
      const put = await run(process.execPath, [BIN, 'put', file, '--bootstrap', `127.0.0.1:${port}`]);
      const got = await run(process.execPath, [BIN, 'get', put.stdout.trim(), '--bootstrap', `127.0.0.1:${port}`]);
      expect(got.stdout).toBe('via testnet');
    } finally {
      proc.kill('SIGINT');
    }
    expect(await exited).toBe(0);
  }, 60_000);
});
