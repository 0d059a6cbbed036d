/**
 * Shared fixtures of the ZK tests: deterministic signals for each circuit (seeded, so every run
 * proves the same statements), a pool registry that closes every ZkPool a test opened, and a
 * child-process probe that measures how long a process takes to exit after `ZkPool.close()`.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { packageRoot, ZkPool, type CircuitName, type CircuitSignals, type ZkPoolInit } from '../../src/zk/index.js';

export { validSignals } from '../helpers/zk.js';

/** The public signals of `signals` for `circuit`, as the storage node would build them. */
export function publicOf<C extends CircuitName>(circuit: C, signals: CircuitSignals[C]): bigint[] {
  const s = signals as unknown as Record<string, bigint>;
  const order: Record<CircuitName, readonly string[]> = {
    storage_access: ['commitment', 'keyField', 'nonce', 'valueHash'],
    data_integrity: ['commitment', 'valueHash'],
    identity: ['root', 'keyField', 'nonce', 'valueHash'],
    range: ['commitment', 'min', 'max'],
  };
  return order[circuit].map((n) => s[n]!);
}

/** Opens pools and closes all of them in `closeAll()` (call it from afterEach / afterAll). */
export class ZkPoolRegistry {
  readonly #pools: ZkPool[] = [];

  open(init: ZkPoolInit = {}): ZkPool {
    const pool = new ZkPool(init);
    this.#pools.push(pool);
    return pool;
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.#pools.splice(0).map((p) => p.close()));
  }
}

/**
 * Runs `body` (ES module code with `pool`, a ZkPool from the built package, in scope) in a child
 * node process, then closes the pool; resolves with the milliseconds from `close()` resolving to
 * the child's exit, or rejects when the child fails or is still alive after `limitMs` (it is then
 * killed). The child prints "closed" once close() has resolved.
 */
export function exitAfterClose(body: string, limitMs = 5_000): Promise<{ exitMs: number; output: string }> {
  const root = packageRoot();
  const entry = join(root, 'dist', 'src', 'zk', 'index.js');
  const script = `
    import * as zk from ${JSON.stringify(entry)};
    const pool = new zk.ZkPool({ threads: 2 });
    ${body}
    await pool.close();
    process.stdout.write('closed\\n');
  `;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let closedAt: number | undefined;
    let output = '';
    const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    createInterface({ input: child.stdout }).on('line', (line) => {
      output += `${line}\n`;
      if (line === 'closed') {
        closedAt = performance.now();
        setTimeout(() => child.kill('SIGKILL'), limitMs).unref();
      }
    });
    child.stderr.on('data', (d: Buffer) => { output += d.toString(); });
    child.on('exit', (code, signal) => {
      clearTimeout(killer);
      if (closedAt === undefined || code !== 0) reject(new Error(`child ended with ${code ?? signal}${closedAt === undefined ? ' before closing' : ' (killed: still alive after close)'}:\n${output}`));
      else resolve({ exitMs: performance.now() - closedAt, output });
    });
  });
}

/** p-th percentile (0..100) of `xs` by nearest rank. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
