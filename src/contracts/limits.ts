/**
 * Protocol constants of the contract runtime: the meter version, module limits, per-call limits
 * and the gas cost table (docs/contracts.md). Every node must use the same values, since gas and
 * receipts are compared across nodes: changing any cost or limit that affects gas means a new
 * METER_VERSION.
 */
import { KiB, MAX_VALUE_BYTES, second } from '../util/index.js';

/**
 * Version of the metering pass and cost table, part of the protocol: the same original wasm
 * metered under the same version gives byte-identical code and gas on every node. Bump it with
 * any change to src/contracts/meter.ts, the costs below, or the pinned binaryen (132.0.0).
 */
export const METER_VERSION = 1;

/** Bytes of an original (unmetered) module at most: one DHT value, so part 2 stores it unchunked. */
export const MAX_CODE_BYTES = MAX_VALUE_BYTES;
/** Linear memory cap in 64 KiB pages (16 MiB); enforced by validation, the meter and the host. */
export const MAX_MEMORY_PAGES = 256;
/** Nested calls at most, counted by the meter (deterministic, unlike V8's stack limit). */
export const MAX_CALL_DEPTH = 1024;
/** Functions per module at most. */
export const MAX_FUNCTIONS = 10_000;
/** Params and locals per function at most: bounds a frame, so 1,024 frames fit the worker stack. */
export const MAX_LOCALS = 1024;
/** Exported methods per module at most. */
export const MAX_METHODS = 256;
/** Mutable globals per module at most (each gets a shadow copy for resets). */
export const MAX_GLOBALS = 1024;
/** A method name: an identifier of 1..64 characters; `__` starts names reserved for the meter. */
export const METHOD_NAME = /^(?!__)[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/** Bytes of a call's input at most. */
export const MAX_INPUT_BYTES = 64 * KiB;
/** Bytes of a call's return data at most; more reverts the call. */
export const MAX_OUTPUT_BYTES = 64 * KiB;
/** Bytes of a storage key at most. */
export const MAX_STORAGE_KEY_BYTES = 256;
/** Bytes of a storage value at most; more reverts the call. */
export const MAX_STORAGE_VALUE_BYTES = 64 * KiB;
/** Distinct keys one call may write at most. */
export const MAX_WRITES_PER_CALL = 1024;
/** Bytes of keys and values one call may write at most. */
export const MAX_WRITE_BYTES_PER_CALL = 1024 * KiB;
/** Events per call at most. */
export const MAX_EVENTS_PER_CALL = 64;
/** Bytes of an event's topic at most. */
export const MAX_EVENT_TOPIC_BYTES = 64;
/** Bytes of an event's data at most. */
export const MAX_EVENT_DATA_BYTES = 4 * KiB;
/** Bytes of a revert message kept at most (longer ones are cut, not refused). */
export const MAX_REVERT_BYTES = 256;
/** Bytes of a caller id. */
export const CALLER_BYTES = 32;

/** Gas of a call when the caller gives none. A token transfer costs about 24k. */
export const DEFAULT_GAS_LIMIT = 10_000_000;
/** Gas a call may ask for at most: about 0.05-0.4 s of CPU here, far below the wall-clock kill. */
export const MAX_GAS_LIMIT = 1_000_000_000;
/**
 * Gas of a module's start function (run once per instantiation, not billed to calls). A protocol
 * constant, so whether a module can be instantiated at all is the same on every node.
 */
export const START_GAS_LIMIT = 10_000_000;
/** Default wall-clock budget of one call in a worker: the backstop behind gas. */
export const DEFAULT_CALL_TIMEOUT = 2 * second;

/** Gas costs of the metered code and the host functions (docs/contracts.md, "Cost tables"). */
export const GAS = {
  /** Each binaryen IR node of the executed scope (see meter.ts). */
  node: 1,
  /** Arms of an `if` costing at most this are charged with their parent scope. */
  foldedArm: 32,
  /**
   * Each memory.grow, whatever it asks (V8 takes about 225 ns even for `memory.grow(0)`: at one
   * gas per node a loop of them ran at 0.02 Ggas/s, 100 times under ordinary code).
   */
  growCall: 1000,
  /** Each page a successful memory.grow adds. */
  growPage: 10_000,
  /**
   * Each started 64 bytes of memory.fill / memory.copy: copying runs at about 11 GB/s here, so
   * this prices it near 3 Ggas/s, inside the 2.4-19 Ggas/s of ordinary code.
   */
  memoryBlock: 16,
  /** Base cost of every host call. */
  hostCall: 500,
  /** Extra base cost of a storage read / write, and of an emitted event. */
  storageGet: 2000,
  storageSet: 5000,
  emit: 1000,
  /** Per byte copied between the host and the contract (input, output, keys, values read). */
  byteCopied: 1,
  /** Per byte written to storage or emitted (keys, values, topics, data). */
  byteStored: 10,
} as const;

/** The host imports of ABI v1, from module "env", with their wasm signatures (params → results). */
export const ABI_V1_IMPORTS: Readonly<Record<string, { params: readonly ('i32')[]; results: readonly ('i32')[] }>> = {
  input_len: { params: [], results: ['i32'] },
  input_read: { params: ['i32'], results: [] },
  return_data: { params: ['i32', 'i32'], results: [] },
  storage_get: { params: ['i32', 'i32', 'i32', 'i32'], results: ['i32'] },
  storage_set: { params: ['i32', 'i32', 'i32', 'i32'], results: [] },
  caller: { params: ['i32'], results: [] },
  emit: { params: ['i32', 'i32', 'i32', 'i32'], results: [] },
  revert: { params: ['i32', 'i32'], results: [] },
};
/** The import module of ABI v1's host functions. */
export const ABI_MODULE = 'env';
