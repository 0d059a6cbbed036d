/**
 * Where the committed setup artifacts live and how they are read. The keys stay in
 * `src/zk/keys/` (the build copies nothing): the package root is found by walking up from this
 * file to zhtp-dht's package.json, which works from src/zk (vitest) and dist/src/zk (compiled).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type CircuitName, PUBLIC_SIGNALS } from './circuits.js';

/** The name of the checksum file in the keys folder (`sha256sum` format). */
export const CHECKSUM_FILE = 'SHA256SUMS';
/** The phase-1 (powers of tau) file the zkeys were made from, prepared for phase 2. */
export const PTAU_FILE = 'final.ptau';

/** A Groth16 verification key as `snarkjs zkey export verificationkey` writes it. */
export interface VerificationKey {
  protocol: 'groth16';
  curve: 'bn128';
  nPublic: number;
  vk_alpha_1: string[];
  vk_beta_2: string[][];
  vk_gamma_2: string[][];
  vk_delta_2: string[][];
  IC: string[][];
}

/** The zhtp-dht package root, found from `from` (a file URL or path) upwards. */
export function packageRoot(from: string = import.meta.url): string {
  let dir = dirname(from.startsWith('file:') ? fileURLToPath(from) : from);
  for (let i = 0; i < 8; i++) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: unknown }).name === 'zhtp-dht') return dir;
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  throw new Error('cannot find the zhtp-dht package root (package.json) above src/zk');
}

/** The folder of the committed artifacts: `<root>/src/zk/keys`. */
export function keysDir(root: string = packageRoot()): string {
  return join(root, 'src', 'zk', 'keys');
}

/** The circom source of a circuit: `<root>/src/zk/circuits/<name>.circom`. */
export function circuitSource(name: CircuitName, root: string = packageRoot()): string {
  return join(root, 'src', 'zk', 'circuits', `${name}.circom`);
}

/** The four artifact file names of a circuit, in the order SHA256SUMS lists them. */
export function artifactFiles(name: CircuitName): { wasm: string; zkey: string; vkey: string; r1cs: string } {
  return { wasm: `${name}.wasm`, zkey: `${name}.zkey`, vkey: `${name}.vkey.json`, r1cs: `${name}.r1cs` };
}

/** Reads and shape-checks `<name>.vkey.json`; throws when it is missing or not a Groth16 BN254 key for `name`. */
export function loadVerificationKey(name: CircuitName, dir: string = keysDir()): VerificationKey {
  const file = join(dir, artifactFiles(name).vkey);
  if (!existsSync(file)) throw new Error(`${file} is missing: run \`npm run zk:setup\``);
  const vk = JSON.parse(readFileSync(file, 'utf8')) as Partial<VerificationKey>;
  const nPublic = PUBLIC_SIGNALS[name].length;
  const ok = vk.protocol === 'groth16' && vk.curve === 'bn128' && vk.nPublic === nPublic && Array.isArray(vk.IC)
    && vk.IC.length === nPublic + 1 && Array.isArray(vk.vk_alpha_1) && Array.isArray(vk.vk_beta_2)
    && Array.isArray(vk.vk_gamma_2) && Array.isArray(vk.vk_delta_2);
  if (!ok) throw new Error(`${file} is not a Groth16 bn128 verification key with ${nPublic} public signals`);
  return vk as VerificationKey;
}

/** The witness generator and proving key of a circuit, as bytes. */
export function loadProvingArtifacts(name: CircuitName, dir: string = keysDir()): { wasm: Uint8Array; zkey: Uint8Array } {
  const files = artifactFiles(name);
  const read = (f: string): Uint8Array => {
    const file = join(dir, f);
    if (!existsSync(file)) throw new Error(`${file} is missing: run \`npm run zk:setup\``);
    return new Uint8Array(readFileSync(file));
  };
  return { wasm: read(files.wasm), zkey: read(files.zkey) };
}

/** Lower-case hex SHA-256 of a file. */
export function sha256File(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/** `SHA256SUMS` text for `files` of `dir`, sorted by name, as `sha256sum` prints it. */
export function checksumText(dir: string, files: readonly string[]): string {
  return [...files].sort().map((f) => `${sha256File(join(dir, f))}  ${f}\n`).join('');
}

/** Parses `SHA256SUMS` text into file → hex digest; throws on a line that is not `<64 hex>  <name>`. */
export function parseChecksums(text: string): Map<string, string> {
  const sums = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const m = /^([0-9a-f]{64}) [ *]([^/\\]+)$/.exec(line);
    if (m === null) throw new Error(`bad ${CHECKSUM_FILE} line: ${line.slice(0, 80)}`);
    sums.set(m[2]!, m[1]!);
  }
  return sums;
}
