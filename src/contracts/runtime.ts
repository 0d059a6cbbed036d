/**
 * What the worker modules import (workers/contract.ts, workers/meter.ts): the executor, the
 * read-only state reader and the metering pass, without the pools, so a worker never starts
 * threads of its own. Other code uses the folder's index.
 */
export { Executor, type BatchResult } from './execute.js';
export { StateReader } from './state.js';
export type { CallTask } from './receipt.js';
export type { BinaryenApi } from './binaryen.js';
export { InvalidContractError } from './errors.js';
export { IrShapes } from './walk.js';
export { meterContract, type MeterOutcome, type MeteredModule } from './meter.js';
