/**
 * `npm run zk:setup`: compiles the four circuits, runs a local powers-of-tau and a Groth16 setup
 * per circuit (snarkjs's JS API), verifies each zkey against its r1cs and the ptau, and writes the
 * artifacts and SHA256SUMS into src/zk/keys. A single-party setup: whoever runs it must be trusted
 * to forget its entropy (docs/zk.md says how to replace it with a multi-party ceremony).
 *
 *   node dist/src/zk/setup.js [--power 12]                      fresh entropy, writes src/zk/keys
 *   node dist/src/zk/setup.js --deterministic --out DIR         beacon only: reproducible, INSECURE
 */
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, renameSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type Bn128Curve, buildBn128 } from 'ffjavascript';
import * as snarkjs from 'snarkjs';
import { artifactFiles, CHECKSUM_FILE, checksumText, keysDir, packageRoot, PTAU_FILE } from './artifacts.js';
import { CIRCUIT_NAMES, type CircuitName } from './circuits.js';
import { compileCircuit } from './compile.js';

/** 2^12 = 4,096 ≥ identity's 4,088 constraints + 4 public signals + 1 (snarkjs's requirement). */
export const DEFAULT_POWER = 12;
/** Beacon of the deterministic mode: public, so anyone can recompute its toxic waste. */
export const TEST_BEACON = '7a6874702d646874207a6b2074657374206b6579732c206e6f7420736563757265';
/** 2^10 hash iterations of the beacon (snarkjs's usual choice). */
const BEACON_ITERATIONS_EXP = 10;

/** Options of one setup run (from the command line). */
export interface SetupOptions {
  /** Folder the artifacts go to (default src/zk/keys). */
  out: string;
  /** log2 of the powers-of-tau size: 2^power ≥ constraints + public signals + 1 for every circuit. */
  power: number;
  /** Beacon-only setup: byte-reproducible and INSECURE (anyone can recompute the toxic waste). */
  deterministic: boolean;
}

/** snarkjs logger: its own progress lines stay quiet, warnings and errors are shown. */
const quiet = {
  debug: (): void => {},
  info: (): void => {},
  warn: (...a: unknown[]): void => console.warn(...a),
  error: (...a: unknown[]): void => console.error(...a),
};

function options(argv: readonly string[]): SetupOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: { out: { type: 'string' }, power: { type: 'string' }, deterministic: { type: 'boolean', default: false } },
  });
  const power = values.power === undefined ? DEFAULT_POWER : Number(values.power);
  if (!Number.isInteger(power) || power < 8 || power > 20) throw new RangeError('--power must be an integer in 8..20');
  if (values.deterministic && values.out === undefined) {
    // Deterministic keys are forgeable by anyone; never let them land on the committed keys by default.
    throw new RangeError('--deterministic needs --out DIR (it must not overwrite src/zk/keys)');
  }
  return { out: resolve(values.out ?? keysDir()), power, deterministic: values.deterministic };
}

/** Fresh entropy for one contribution; snarkjs mixes in its own random bytes as well. */
const entropy = (): string => randomBytes(64).toString('base64');

async function step<T>(label: string, run: () => Promise<T>): Promise<T> {
  const start = performance.now();
  const result = await run();
  console.log(`  ${((performance.now() - start) / 1000).toFixed(1).padStart(6)} s  ${label}`);
  return result;
}

/** Phase 1: a new powers-of-tau file, one contribution (or the beacon), prepared for phase 2. */
async function powersOfTau(curve: Bn128Curve, tmp: string, opts: SetupOptions): Promise<string> {
  const p0 = join(tmp, 'pot0.ptau');
  const p1 = join(tmp, 'pot1.ptau');
  const final = join(tmp, PTAU_FILE);
  await step(`powersoftau new bn128 ${opts.power}`, () => snarkjs.powersOfTau.newAccumulator(curve, opts.power, p0, quiet));
  if (opts.deterministic) {
    await step('powersoftau beacon', () => snarkjs.powersOfTau.beacon(p0, p1, 'zhtp-dht test beacon', TEST_BEACON, BEACON_ITERATIONS_EXP, quiet));
  } else {
    await step('powersoftau contribute', () => snarkjs.powersOfTau.contribute(p0, p1, 'zhtp-dht local setup', entropy(), quiet));
  }
  await step('powersoftau prepare phase2', () => snarkjs.powersOfTau.preparePhase2(p1, final, quiet));
  return final;
}

/** Phase 2 for one circuit: compile, new zkey, one contribution (or beacon), verify, export. */
async function circuit(name: CircuitName, tmp: string, ptau: string, stage: string, opts: SetupOptions): Promise<void> {
  const files = artifactFiles(name);
  const compiled = await step(`circom2 ${name}`, () => compileCircuit(name, join(tmp, 'build')));
  const info = await snarkjs.r1cs.info(compiled.r1cs);
  const needed = info.nConstraints + info.nPubInputs + info.nOutputs + 1;
  if (needed > 2 ** opts.power) throw new RangeError(`${name} needs 2^power ≥ ${needed}: raise --power above ${opts.power}`);
  console.log(`           ${name}: ${info.nConstraints} constraints, ${info.nPubInputs} public inputs`);
  const z0 = join(tmp, `${name}.0.zkey`);
  const zkey = join(stage, files.zkey);
  await step(`groth16 setup ${name}`, () => snarkjs.zKey.newZKey(compiled.r1cs, ptau, z0, quiet));
  if (opts.deterministic) {
    await step(`zkey beacon ${name}`, () => snarkjs.zKey.beacon(z0, zkey, 'zhtp-dht test beacon', TEST_BEACON, BEACON_ITERATIONS_EXP, quiet));
  } else {
    await step(`zkey contribute ${name}`, () => snarkjs.zKey.contribute(z0, zkey, 'zhtp-dht local setup', entropy(), quiet));
  }
  const valid = await step(`zkey verify ${name}`, () => snarkjs.zKey.verifyFromR1cs(compiled.r1cs, ptau, zkey, quiet));
  if (!valid) throw new Error(`zkey verify failed for ${name}`);
  const vkey: unknown = await snarkjs.zKey.exportVerificationKey(zkey, quiet);
  writeFileSync(join(stage, files.vkey), `${JSON.stringify(vkey, null, 1)}\n`);
  copyFileSync(compiled.wasm, join(stage, files.wasm));
  copyFileSync(compiled.r1cs, join(stage, files.r1cs));
}

/**
 * Runs the whole setup into a staging folder and moves the files into `opts.out` only when every
 * step succeeded, so a failed run never leaves a mixed set of keys.
 */
export async function runSetup(opts: SetupOptions): Promise<void> {
  const root = packageRoot();
  const tmp = mkdtempSync(join(tmpdir(), 'zhtp-zk-setup-'));
  const stage = join(tmp, 'stage');
  mkdirSync(stage);
  const start = performance.now();
  // Multi-threaded: prepare phase2 is the long step and uses both cores. snarkjs finds this curve
  // in globalThis.curve_bn128 for every later step.
  const curve = await buildBn128(false);
  console.log(`zk setup: ${opts.deterministic ? 'DETERMINISTIC (insecure, test keys only)' : 'fresh entropy'}, power ${opts.power}, into ${opts.out}`);
  try {
    const ptau = await powersOfTau(curve, tmp, opts);
    for (const name of CIRCUIT_NAMES) await circuit(name, tmp, ptau, stage, opts);
    copyFileSync(ptau, join(stage, PTAU_FILE));
    const files = [...CIRCUIT_NAMES.flatMap((n) => Object.values(artifactFiles(n))), PTAU_FILE];
    writeFileSync(join(stage, CHECKSUM_FILE), checksumText(stage, files));
    mkdirSync(opts.out, { recursive: true });
    for (const f of [...files, CHECKSUM_FILE]) renameOrCopy(join(stage, f), join(opts.out, f));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
    await curve.terminate(); // its worker threads would keep the process alive
  }
  console.log(`zk setup: done in ${((performance.now() - start) / 1000).toFixed(1)} s (${root})`);
}

function renameOrCopy(from: string, to: string): void {
  try {
    renameSync(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
    copyFileSync(from, to); // the staging folder is on another file system
  }
}

const invokedDirectly = process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  Promise.resolve()
    .then(() => runSetup(options(process.argv.slice(2))))
    .catch((err: unknown) => {
      console.error(`zk setup failed: ${err instanceof Error ? err.message : String(err)}`);
      process.exitCode = 1;
    });
}
