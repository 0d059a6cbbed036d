/**
 * Deploy-time validation and metering: every rule refuses its module with the fault it names
 * (checked on the pass itself, in this process), the metered output is byte-identical across runs
 * and across the meter worker, and deploys through the real meter pool refuse bad modules with a
 * typed error, recover from a binaryen failure by replacing the thread, and store good ones.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { codeHashOf, exampleContract, InvalidContractError, isInvalidContract, MAX_CODE_BYTES, METER_VERSION, type ModuleFault } from '../../src/contracts/index.js';
import { meterContract } from '../../src/contracts/meter.js';
import { IrShapes } from '../../src/contracts/walk.js';
import { ABI_IMPORTS, binaryen, EngineRegistry, wat } from './fixtures.js';

const engines = new EngineRegistry();
afterAll(() => engines.closeAll());
const shapes = new IrShapes(binaryen);
const F = binaryen.Features as Record<string, number>;
const MEM = '(memory (export "memory") 1)';

/** The fault meterContract refuses `bytes` with, or 'accepted'. */
function faultOf(bytes: Uint8Array): ModuleFault | 'accepted' {
  try {
    meterContract(binaryen, shapes, bytes);
    return 'accepted';
  } catch (err) {
    if (err instanceof InvalidContractError) return err.fault;
    throw err;
  }
}

describe('validation refuses, naming the fault', () => {
  const cases: Array<[string, ModuleFault, () => Uint8Array]> = [
    ['random bytes', 'malformed', () => Uint8Array.of(1, 2, 3, 4, 5)],
    ['a truncated module', 'malformed', () => exampleContract('counter').subarray(0, 100)],
    ['over MAX_CODE_BYTES', 'too_big', () => new Uint8Array(MAX_CODE_BYTES + 1)],
    ['a forbidden host function', 'import', () => wat(`(module (import "env" "fd_write" (func (param i32))) ${MEM})`)],
    ['a WASI import', 'import', () => wat(`(module (import "wasi_snapshot_preview1" "proc_exit" (func (param i32))) ${MEM})`)],
    ['an ABI import with the wrong signature', 'import', () => wat(`(module (import "env" "input_len" (func (param i32) (result i32))) ${MEM})`)],
    ['an imported global', 'import', () => wat(`(module (import "env" "g" (global i32)) ${MEM})`)],
    ['an imported memory', 'import', () => wat('(module (import "env" "memory" (memory 1)) (export "memory" (memory 0)))')],
    ['an imported table', 'import', () => wat(`(module (import "env" "t" (table 1 funcref)) ${MEM})`)],
    ['SIMD', 'features', () => wat(`(module ${MEM} (func (export "f") (drop (v128.const i32x4 1 2 3 4))))`, F.All)],
    ['threads (atomics on shared memory)', 'features', () => wat('(module (memory (export "memory") 1 1 shared) (func (export "f") (drop (i32.atomic.load (i32.const 0)))))', F.All)],
    ['reference types', 'features', () => wat(`(module ${MEM} (table 1 funcref) (func (export "f") (drop (table.get 0 (i32.const 0)))))`, F.All)],
    ['no memory', 'memory', () => wat('(module (func (export "f")))')],
    ['an unexported memory', 'export', () => wat('(module (memory 1) (func (export "f")))')],
    ['over 256 initial pages', 'memory', () => wat('(module (memory (export "memory") 257))')],
    ['a method with parameters', 'export', () => wat(`(module ${MEM} (func (export "f") (param i32)))`)],
    ['a method with a result', 'export', () => wat(`(module ${MEM} (func (export "f") (result i32) (i32.const 1)))`)],
    ['a reserved method name', 'export', () => wat(`(module ${MEM} (func (export "__gas")))`)],
    ['an exported global', 'export', () => wat(`(module ${MEM} (global (export "g") i32 (i32.const 0)))`)],
    ['floating point', 'float', () => wat(`(module ${MEM} (func (export "f") (drop (f64.add (f64.const 1) (f64.const 2)))))`)],
    ['a float local', 'float', () => wat(`(module ${MEM} (func (export "f") (local f32)))`)],
    ['passive data', 'data_segment', () => wat(`(module ${MEM} (data "x") (func (export "f")))`)],
    ['data outside the initial memory', 'data_segment', () => wat(`(module ${MEM} (data (i32.const 65535) "xy") (func (export "f")))`)],
    ['over 1,024 locals', 'too_big', () => wat(`(module ${MEM} (func (export "f") ${'(local i32) '.repeat(1025)}))`)],
    ['expressions nested over 512 deep', 'too_big', () => wat(`(module ${MEM} (func (export "f") (drop ${'(i32.eqz '.repeat(600)}(i32.const 0)${')'.repeat(600)})))`)],
  ];
  for (const [what, fault, make] of cases) {
    it(`${what}: ${fault}`, () => expect(faultOf(make())).toBe(fault));
  }

  it('reserved internal names from a name section: instrumentation', () => {
    binaryen.setDebugInfo(true); // keep the name section, so the global is really called __zhtp_gas
    try {
      expect(faultOf(wat(`(module ${MEM} (global $__zhtp_gas (mut i32) (i32.const 0)) (func (export "f")))`))).toBe('instrumentation');
    } finally {
      binaryen.setDebugInfo(false);
    }
  });

  it('accepts the examples, a module without a declared maximum, and call_indirect through a table', () => {
    for (const name of ['counter', 'token', 'registry'] as const) expect(faultOf(exampleContract(name))).toBe('accepted');
    expect(faultOf(wat(`(module ${ABI_IMPORTS} (memory (export "memory") 1) (type $v (func))
      (table 1 funcref) (elem (i32.const 0) $g) (func $g) (func (export "f") (call_indirect (type $v) (i32.const 0))))`))).toBe('accepted');
  });
});

describe('metering output', () => {
  it('is byte-identical across runs and carries the ABI the runtime expects', () => {
    for (const name of ['counter', 'token', 'registry'] as const) {
      const a = meterContract(binaryen, shapes, exampleContract(name));
      const b = meterContract(binaryen, shapes, exampleContract(name));
      expect(Buffer.compare(a.code, b.code)).toBe(0);
      expect(a.meterVersion).toBe(METER_VERSION);
      const module = new WebAssembly.Module(a.code);
      const imports = WebAssembly.Module.imports(module).map((i) => `${i.module}.${i.name}:${i.kind}`);
      expect(imports).toEqual(expect.arrayContaining(['env.memory:memory', 'meter.gas_limit:global']));
      const exports = WebAssembly.Module.exports(module).map((e) => e.name);
      expect(exports).toEqual(expect.arrayContaining(['__gas', '__depth', '__reset', ...a.methods]));
    }
  });
});

describe('deploy through the meter pool', () => {
  it('stores good code under its BLAKE3 hash, byte-identical to the in-process pass', async () => {
    const engine = engines.open();
    const wasm = exampleContract('token');
    const deployed = await engine.deploy(wasm);
    expect(deployed.codeHash).toEqual(codeHashOf(wasm));
    const stored = engine.code(deployed.codeHash)!;
    expect(Buffer.compare(stored.metered, meterContract(binaryen, shapes, wasm).code)).toBe(0);
    expect(stored.original).toEqual(wasm);
    expect(deployed.meteredBytes).toBe(stored.metered.byteLength);
    expect(deployed.meterVersion).toBe(METER_VERSION);
  });

  it('refuses bad modules with InvalidContractError, and replaces the thread after binaryen throws', async () => {
    const engine = engines.open();
    const refusal = async (bytes: Uint8Array): Promise<string> => {
      try {
        await engine.deploy(bytes);
        return 'accepted';
      } catch (err) {
        return isInvalidContract(err) ? err.fault : `other: ${String(err)}`;
      }
    };
    expect(await refusal(wat(`(module ${MEM} (func (export "f") (drop (v128.const i32x4 1 2 3 4))))`, F.All))).toBe('features');
    expect(await refusal(Uint8Array.of(0, 97, 115, 109, 1, 0, 0, 0, 1))).toBe('malformed');
    expect(engine.stats().meterThreadsRecycled).toBe(0);
    // V8 ignores a malformed name section; binaryen throws reading it. The thread is replaced.
    const counter = exampleContract('counter');
    const badNames = new Uint8Array([...counter, 0, 8, 4, ...new TextEncoder().encode('name'), 9, 9, 9]);
    expect(WebAssembly.validate(badNames)).toBe(true);
    expect(await refusal(badNames)).toBe('malformed');
    expect(engine.stats().meterThreadsRecycled).toBe(1);
    expect(await refusal(counter)).toBe('accepted');
    expect(engine.stats()).toMatchObject({ deploys: 1, deployRefusals: 3 });
  });

  it('refuses over-size code on the calling thread, before any task', async () => {
    const engine = engines.open();
    await expect(engine.deploy(new Uint8Array(MAX_CODE_BYTES + 1))).rejects.toThrow(/too_big/);
    await expect(engine.deploy('wasm' as unknown as Uint8Array)).rejects.toThrow(TypeError);
  });
});
