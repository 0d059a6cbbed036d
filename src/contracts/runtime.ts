/**
 * What the worker modules import (workers/contract.ts, workers/meter.ts): the executor, the
 * read-only state reader and the metering pass, without the pools, so a worker never starts
 * threads of its own. bench/contracts.ts also drives the executor and the host functions from
 * here on the main thread. Other code uses the folder's index.
 */
export { Executor, type BatchResult, type StateSource } from './execute.js';
export { StateReader, type InstanceCommit } from './state.js';
export type { CallTask } from './receipt.js';
export type { BinaryenApi } from './binaryen.js';
export { InvalidContractError } from './errors.js';
export { IrShapes } from './walk.js';
export { meterContract, type MeterOutcome, type MeteredModule } from './meter.js';
export { CodeCache, type CodeSource, type ContractCode, type InstanceCounts, type LiveInstance, StartFailure, sumCounts } from './instance.js';
export { type CallContext, type HostBinding, hostFunctions } from './host.js';
export { checkUpdate, type UpdateCheck, type UpdateVerdict } from './audit.js';
