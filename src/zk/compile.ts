/**
 * Compiles a circuit with the circom 2 compiler of the `circom2` npm package (circom built as
 * WASI; no native binary). Used by the setup program and by the circuit-drift test. Runs from
 * the package root with `-l node_modules`: the WASI sandbox only sees the folders above the
 * working directory, and the output folder must exist before the call (notes/zk-groth16.md).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { circuitSource, packageRoot } from './artifacts.js';
import type { CircuitName } from './circuits.js';

/** Compilation of one circuit takes 3-5 s here; this bounds a stuck compiler. */
export const COMPILE_TIMEOUT_MS = 120_000;

/** Paths of a compiled circuit. */
export interface CompiledCircuit {
  r1cs: string;
  wasm: string;
  /** Constraint count as circom reports it ("non-linear constraints" + "linear constraints"). */
  constraints: number;
}

/**
 * Compiles `name` into `outDir` (created if missing) with `--O2`, writing `<name>.r1cs` and
 * `<name>_js/<name>.wasm`. Rejects with circom's output when compilation fails.
 */
export async function compileCircuit(name: CircuitName, outDir: string, root: string = packageRoot()): Promise<CompiledCircuit> {
  mkdirSync(outDir, { recursive: true });
  const bin = join(root, 'node_modules', '.bin', 'circom2');
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run \`npm install\` (circom2 is a dev dependency)`);
  const args = [circuitSource(name, root), '--r1cs', '--wasm', '--O2', '-l', 'node_modules', '-o', outDir];
  const output = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, [bin, ...args], { cwd: root, timeout: COMPILE_TIMEOUT_MS, maxBuffer: 4 * 2 ** 20 }, (err, stdout, stderr) => {
      if (err !== null) reject(new Error(`circom2 failed on ${name}: ${stripAnsi(`${stdout}${stderr}`).trim() || err.message}`, { cause: err }));
      else resolve(stripAnsi(stdout));
    });
  });
  const r1cs = join(outDir, `${name}.r1cs`);
  const wasm = join(outDir, `${name}_js`, `${name}.wasm`);
  if (!existsSync(r1cs) || !existsSync(wasm)) throw new Error(`circom2 wrote no r1cs or wasm for ${name}:\n${output}`);
  const count = (label: string): number => Number(new RegExp(`^${label} constraints: (\\d+)`, 'm').exec(output)?.[1] ?? Number.NaN);
  return { r1cs, wasm, constraints: count('non-linear') + count('linear') };
}

function stripAnsi(s: string): string {
  // circom colours its labels; the counts are parsed from the plain text
  return s.replace(/\x1b\[[0-9;]*m/g, '');
}
