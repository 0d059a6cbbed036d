/**
 * Makes snarkjs and ffjavascript importable inside a worker thread (notes/zk-groth16.md, P1).
 * ffjavascript loads web-worker 1.2.0, whose entry point runs its *worker* half whenever
 * `isMainThread` is false: in a Piscina thread that crashes the import ("Cannot destructure
 * property 'mod' of 'threads.workerData'"). Loading web-worker once while `isMainThread` reads
 * true caches its main-thread half, which is harmless because our curves never start workers.
 * Import this module before anything that imports snarkjs or ffjavascript; it is synchronous, so
 * ES module evaluation order (depth-first, in import order) guarantees it runs first.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
// The CommonJS exports object of worker_threads: the one web-worker reads, and writable.
const threads = require('node:worker_threads') as { isMainThread: boolean };
if (!threads.isMainThread) {
  threads.isMainThread = true;
  try {
    // Resolve web-worker from ffjavascript's own folder: the exact copy it will load.
    createRequire(require.resolve('ffjavascript'))('web-worker');
  } finally {
    threads.isMainThread = false;
  }
}

/** True once web-worker's main-thread half is cached (always, after this module ran). */
export const workerSafe = true;
