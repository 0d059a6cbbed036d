/**
 * The committed setup artifacts (src/zk/keys): SHA256SUMS lists exactly the expected files and
 * every file matches it; each circuit recompiled from source with circom2 (into a temporary
 * folder) gives byte-identical r1cs and wasm, so a circuit edited without re-running the setup
 * fails here; each vkey.json is the one its zkey exports. With SLOW=1 each zkey is also checked
 * against its r1cs and final.ptau (`zkey verify`, about 30 s in all).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as snarkjs from 'snarkjs';
import { afterAll, describe, expect, it } from 'vitest';
import { singleThreadCurve } from '../../src/zk/curve.js';
import {
  artifactFiles, CHECKSUM_FILE, CIRCUIT_NAMES, compileCircuit, keysDir, loadVerificationKey, parseChecksums, PTAU_FILE,
  PUBLIC_SIGNALS, sha256File,
} from '../../src/zk/index.js';

const SLOW = process.env.SLOW === '1';
const dir = keysDir();
const sums = parseChecksums(readFileSync(join(dir, CHECKSUM_FILE), 'utf8'));
const tmp = mkdtempSync(join(tmpdir(), 'zhtp-zk-drift-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('committed artifacts', () => {
  it('SHA256SUMS lists the four files of each circuit and final.ptau, and each file matches', () => {
    const expected = [...CIRCUIT_NAMES.flatMap((n) => Object.values(artifactFiles(n))), PTAU_FILE].sort();
    expect([...sums.keys()].sort()).toEqual(expected);
    for (const [file, digest] of sums) {
      expect(existsSync(join(dir, file)), file).toBe(true);
      expect(sha256File(join(dir, file)), file).toBe(digest);
    }
  });

  it('each verification key is the one its zkey exports, with the documented public signals', async () => {
    await singleThreadCurve(); // snarkjs would otherwise start a multi-threaded curve
    for (const name of CIRCUIT_NAMES) {
      const vk = loadVerificationKey(name);
      expect(vk.nPublic, name).toBe(PUBLIC_SIGNALS[name].length);
      expect(await snarkjs.zKey.exportVerificationKey(join(dir, artifactFiles(name).zkey)), name).toEqual(vk);
    }
  }, 60_000);
});

describe('circuit drift', () => {
  // The four compilations run at once: each is one circom2 process on one core, 3-5 s alone.
  it('recompiling every circuit with circom2 gives the committed r1cs and wasm', async () => {
    const compiled = await Promise.all(CIRCUIT_NAMES.map((name) => compileCircuit(name, join(tmp, name))));
    CIRCUIT_NAMES.forEach((name, i) => {
      const c = compiled[i]!;
      const files = artifactFiles(name);
      expect(sha256File(c.r1cs), `${name}.r1cs: circuit changed without \`npm run zk:setup\``).toBe(sums.get(files.r1cs));
      expect(sha256File(c.wasm), `${name}.wasm: circuit changed without \`npm run zk:setup\``).toBe(sums.get(files.wasm));
    });
    expect(compiled.map((c) => c.constraints)).toEqual([243, 240, 4088, 560]); // docs/zk.md
  }, 120_000);
});

describe.skipIf(!SLOW)('zkey verify against final.ptau (SLOW=1)', () => {
  it.each(CIRCUIT_NAMES)('%s.zkey derives from its r1cs and final.ptau', async (name) => {
    const files = artifactFiles(name);
    await singleThreadCurve();
    expect(await snarkjs.zKey.verifyFromR1cs(join(dir, files.r1cs), join(dir, PTAU_FILE), join(dir, files.zkey))).toBe(true);
  }, 180_000);
});
