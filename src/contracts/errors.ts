/**
 * The deploy-time error: a module refused by validation or by the metering pass, with the fault
 * named as a code so callers (and part 2's wire answers) can tell why without parsing text.
 */
import { DhtError } from '../util/index.js';

/** Why a module was refused. */
export type ModuleFault =
  /** Over MAX_CODE_BYTES, or over a count limit (functions, locals, methods, globals). */
  | 'too_big'
  /** Not a WebAssembly module at all. */
  | 'malformed'
  /** Uses a feature outside MVP + mutable-globals + sign-ext + nontrapping-f2i + bulk-memory. */
  | 'features'
  /** Imports something outside ABI v1, or an ABI import with the wrong signature. */
  | 'import'
  /** No memory, shared or 64-bit memory, or initial pages over the cap. */
  | 'memory'
  /** No `memory` export, a method that is not `() -> ()`, a reserved or bad export name. */
  | 'export'
  /** Floating-point types or instructions (NaN bits are not portable across CPUs). */
  | 'float'
  /** Passive data segments (their dropped state would survive an instance reset), or one outside the memory. */
  | 'data_segment'
  /** An instruction the meter does not handle (table ops, memory.init, data.drop, ...). */
  | 'instruction'
  /** The metering pass failed, or binaryen threw: refused rather than trusted. */
  | 'instrumentation';

/** A module refused at deploy: `fault` says which rule it broke, `message` the details. */
export class InvalidContractError extends DhtError {
  readonly fault: ModuleFault;
  /** The message without the fault prefix. */
  readonly detail: string;

  constructor(fault: ModuleFault, detail: string, options?: { cause?: unknown }) {
    super('INVALID_CONTRACT', `invalid contract module (${fault}): ${detail}`, options);
    this.fault = fault;
    this.detail = detail;
  }
}

/** True when `err` is an InvalidContractError, optionally with the given fault. */
export function isInvalidContract(err: unknown, fault?: ModuleFault): err is InvalidContractError {
  return err instanceof InvalidContractError && (fault === undefined || err.fault === fault);
}
