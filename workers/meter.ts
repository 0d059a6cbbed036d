/**
 * Piscina task module of the meter pool (src/contracts/pools.ts): validates and meters deployed
 * modules with binaryen (pinned 132.0.0). binaryen loads once per thread (0.3-0.8 s). A throw
 * from inside binaryen may have aborted its runtime, so such a result says `poisoned` and the
 * pool replaces the thread before the next task.
 */
import { blake3 } from '../src/crypto/primitives.js';
import { type BinaryenApi, InvalidContractError, IrShapes, meterContract, type MeterOutcome } from '../src/contracts/runtime.js';

const binaryen = (await import('binaryen')).default as unknown as BinaryenApi;
binaryen.setDebugInfo(false);
const shapes = new IrShapes(binaryen);

/** The code hash and metered module of `wasm`, or why it was refused. */
export function meter(task: { wasm: Uint8Array }): MeterOutcome {
  if (!(task.wasm instanceof Uint8Array)) return { ok: false, fault: 'malformed', message: 'wasm must be bytes', poisoned: false };
  try {
    return { ok: true, codeHash: blake3(task.wasm), module: meterContract(binaryen, shapes, task.wasm) };
  } catch (err) {
    const ours = err instanceof InvalidContractError;
    const poisoned = !ours || err.cause !== undefined; // the error came out of binaryen
    return { ok: false, fault: ours ? err.fault : 'instrumentation', message: ours ? err.detail : err instanceof Error ? err.message : String(err), poisoned };
  }
}
