/**
 * Calls and receipts: what a caller asks the runtime and what it gets back. A receipt's status,
 * gasUsed, returnData, events and writes are deterministic (the same on every node for the same
 * call on the same state); `error` is a human-readable detail and `killed` depends on the clock.
 */
import type { StateWrite } from './ids.js';

/** An event a call emitted (kept only if the call ended ok). */
export interface ContractEvent {
  topic: Uint8Array;
  data: Uint8Array;
}

/** How a call ended. */
export type CallStatus =
  /** Ran to the end: its writes and events count. */
  | 'ok'
  /** The contract called `revert`, or broke a host cap (output, key, value, event sizes). */
  | 'revert'
  /** Gas ran out (in the contract or in a host function). */
  | 'out_of_gas'
  /** A wasm trap (unreachable, out-of-bounds access, division by zero, ...) or a bad host pointer. */
  | 'trap'
  /** Nested calls went over MAX_CALL_DEPTH. */
  | 'depth'
  /** The worker ran past the wall-clock limit and was terminated. Not deterministic. */
  | 'killed'
  /** The code does not export this method. */
  | 'no_method'
  /** No such instance, or its code is missing here. */
  | 'not_found'
  /** The state moved while the call ran and retries were used up; nothing was written. */
  | 'conflict';

/** Every status, in a fixed order (for counters). */
export const CALL_STATUSES: readonly CallStatus[] = ['ok', 'revert', 'out_of_gas', 'trap', 'depth', 'killed', 'no_method', 'not_found', 'conflict'];

/** One call of a method on an instance. */
export interface CallRequest {
  /** The instance id (32 bytes). */
  instance: Uint8Array;
  method: string;
  /** Arguments in the ABI encoding (encoding.ts); default empty. */
  input?: Uint8Array;
  /** Who calls (32 bytes): in part 2 the id of the key that signed the call. */
  caller: Uint8Array;
  /** Gas at most; default DEFAULT_GAS_LIMIT, at most MAX_GAS_LIMIT. */
  gasLimit?: number;
}

/** The outcome of one call. */
export interface Receipt {
  status: CallStatus;
  /** Gas charged: everything up to the end, the whole limit for out_of_gas and killed. */
  gasUsed: number;
  /** What the call passed to `return_data` (empty unless ok). */
  returnData: Uint8Array;
  /** Events emitted (empty unless ok). */
  events: ContractEvent[];
  /** Storage writes in key order (empty unless ok). For a query they were not applied. */
  writes: StateWrite[];
  /** The instance's version after the call (unchanged unless an ok state-changing call). */
  version: number;
  /** The instance's state hash after the call. */
  stateHash: Uint8Array;
  /** The revert reason or trap message. */
  error?: string;
}

/** A call as it travels to a worker: validated, with every default filled in. */
export interface CallTask {
  instance: Uint8Array;
  method: string;
  input: Uint8Array;
  caller: Uint8Array;
  gasLimit: number;
  /** A query: runs on committed state; its writes are reported but never applied. */
  readOnly: boolean;
}

/** A receipt with nothing in it but a status (calls that never ran). */
export function emptyReceipt(status: CallStatus, version: number, stateHash: Uint8Array, gasUsed = 0, error?: string): Receipt {
  const r: Receipt = { status, gasUsed, returnData: new Uint8Array(0), events: [], writes: [], version, stateHash };
  if (error !== undefined) r.error = error;
  return r;
}
