import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const BIN = join(import.meta.dirname, '../../dist/src/cli/main.js');

interface Started { proc: ChildProcess; port: number; exited: Promise<number | null> }

/** Starts `zhtp-dht start` and resolves once it printed its address. */
function startNode(dataDir: string, bootstrap: number[]): Promise<Started> {
  const args = [BIN, 'start', '--host', '127.0.0.1', '--port', '0', '--data', dataDir, ...bootstrap.flatMap((p) => ['--bootstrap', `127.0.0.1:${p}`])];
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`node did not start: ${out}`)), 20_000);
    proc.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(out);
      if (m !== null) { clearTimeout(timer); resolve({ proc, port: Number(m[1]), exited }); }
    });
    proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`node exited with ${code}: ${out}`)); });
  });
}

describe('the zhtp-dht command', () => {
  const root = mkdtempSync(join(tmpdir(), 'zhtp-cli-'));
  const nodes: Started[] = [];

  beforeAll(async () => {
    const first = await startNode(join(root, 'a'), []);
    nodes.push(first);
    nodes.push(await startNode(join(root, 'b'), [first.port]));
    nodes.push(await startNode(join(root, 'c'), [first.port, nodes[1]!.port]));
  }, 60_000);

  afterAll(async () => {
    for (const n of nodes) if (n.proc.exitCode === null) n.proc.kill('SIGKILL');
    rmSync(root, { recursive: true, force: true });
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
    for (const args of [['get', 'nothex', '--bootstrap', '127.0.0.1:1'], ['put'], ['frobnicate'], ['start', '--port', '1']]) {
      const err = await run(process.execPath, [BIN, ...args]).catch((e: unknown) => e);
      expect(err, args.join(' ')).toMatchObject({ code: 2 });
    }
  });

  it('stops cleanly on SIGTERM and SIGINT with exit code 0', async () => {
    const [a, b] = [nodes[1]!, nodes[2]!];
    a.proc.kill('SIGTERM');
    b.proc.kill('SIGINT');
    expect(await a.exited).toBe(0);
    expect(await b.exited).toBe(0);
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
