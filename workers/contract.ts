/**
 * Piscina task module of the contract pool (src/contracts/engine.ts): runs batches of metered
 * calls, and checks (and audits) write sets replicated from an instance's primary. Each thread
 * opens the node's contract environment read-only (the path comes in `workerData`), reads state
 * synchronously while calls run, and caches compiled modules and one live instance per code. It
 * never writes: write sets go back to the coordinator. binaryen is never loaded here (it would
 * not fit the thread's heap limit, and it is not needed).
 */
import { parentPort } from 'node:worker_threads';
import { workerData } from 'piscina';
import { checkUpdate as check, Executor, StateReader, type BatchResult, type CallTask, type UpdateCheck, type UpdateVerdict } from '../src/contracts/runtime.js';

const { statePath } = workerData as { statePath: string };
const reader = new StateReader(statePath);
const executor = new Executor(reader);

/**
 * Runs `calls` in order; `fresh` forces a new instance per call (tests compare it with reuse).
 * Tells the coordinator first that batch number `batch` started: its wall-clock budget runs from
 * here, so time spent waiting for this thread to boot is not charged to the calls.
 */
export function execute(task: { calls: CallTask[]; batch?: number; fresh?: boolean }): BatchResult {
  if (task.batch !== undefined) parentPort?.postMessage({ batchStarted: task.batch });
  return executor.runBatch(task.calls, task.fresh === true);
}

/** Checks a replicated update against this thread's view of the committed state (audit.ts). */
export function checkUpdate(task: UpdateCheck): { verdict: UpdateVerdict; audited: boolean; detail?: string } {
  return check(executor, reader, task);
}
