/**
 * The host side of ABI v1 (docs/contracts.md): the eight `env` functions a contract imports,
 * each charging gas to the instance's `__gas` before doing anything, checking caps (a cap breach
 * reverts the call) and bounds (an out-of-range pointer traps), and copying bytes between the
 * contract's memory and the call's context. Storage writes and events go to the call's overlay,
 * kept only if the call succeeds.
 */
import { asBuffer, toHex } from '../util/index.js';
import type { StateWrite } from './ids.js';
import type { ContractEvent } from './receipt.js';
import {
  CALLER_BYTES, GAS, MAX_EVENT_DATA_BYTES, MAX_EVENT_TOPIC_BYTES, MAX_EVENTS_PER_CALL, MAX_OUTPUT_BYTES, MAX_REVERT_BYTES,
  MAX_STORAGE_KEY_BYTES, MAX_STORAGE_VALUE_BYTES, MAX_WRITE_BYTES_PER_CALL, MAX_WRITES_PER_CALL,
} from './limits.js';

/** The contract ended the call with `revert` (or broke a host cap): state unchanged. */
export class Revert extends Error {
  override readonly name = 'Revert';
}
/** Gas ran out inside a host function. */
export class OutOfGas extends Error {
  override readonly name = 'OutOfGas';
}
/** A host function was handed a pointer outside memory, or called when no call is running. */
export class HostTrap extends Error {
  override readonly name = 'HostTrap';
}

/** Where committed state is read from, below the call's own writes. */
export type StateLookup = (key: Uint8Array) => Uint8Array | null;

/** Everything one call sees and produces. */
export class CallContext {
  /** Writes of this call by key (hex), value null = delete; in first-write order. */
  readonly writes = new Map<string, StateWrite>();
  readonly events: ContractEvent[] = [];
  output: Uint8Array = new Uint8Array(0);
  #writeBytes = 0;

  constructor(readonly input: Uint8Array, readonly caller: Uint8Array, readonly lookup: StateLookup) {}

  /** The value of `key` as this call sees it: its own write, else committed state. */
  read(key: Uint8Array): Uint8Array | null {
    const own = this.writes.get(toHex(key));
    return own !== undefined ? own.value : this.lookup(key);
  }

  write(key: Uint8Array, value: Uint8Array | null): void {
    const hex = toHex(key);
    const size = key.byteLength + (value?.byteLength ?? 0);
    if (!this.writes.has(hex) && this.writes.size >= MAX_WRITES_PER_CALL) throw new Revert(`over ${MAX_WRITES_PER_CALL} keys written`);
    if (this.#writeBytes + size > MAX_WRITE_BYTES_PER_CALL) throw new Revert(`over ${MAX_WRITE_BYTES_PER_CALL} bytes written`);
    this.#writeBytes += size;
    this.writes.set(hex, { key, value });
  }
}

/** What the host functions act on: the instance's memory and gas, and the current call. */
export interface HostBinding {
  memory: WebAssembly.Memory;
  /** The instance's `__gas` export (set once the instance exists). */
  gas: WebAssembly.Global | null;
  /** The running call; null during instantiation, when host calls trap. */
  call: CallContext | null;
}

/** The `env` import object of ABI v1, bound to `h`. */
export function hostFunctions(h: HostBinding): Record<string, (...args: never[]) => unknown> {
  let view = new Uint8Array(h.memory.buffer);
  const mem = (): Uint8Array => (view.buffer === h.memory.buffer ? view : (view = new Uint8Array(h.memory.buffer)));
  const charge = (cost: number): CallContext => {
    const call = h.call;
    if (call === null || h.gas === null) throw new HostTrap('host function called outside a call');
    const left = (h.gas.value as bigint) - BigInt(cost);
    h.gas.value = left < 0n ? -1n : left;
    if (left < 0n) throw new OutOfGas('out of gas in a host function');
    return call;
  };
  /** `len` bytes at `ptr` (both read as unsigned), checked against memory. */
  const span = (ptr: number, len: number): { at: number; len: number } => {
    const at = ptr >>> 0;
    const n = len >>> 0;
    if (at + n > mem().byteLength) throw new HostTrap(`host access out of bounds: ${at}+${n}`);
    return { at, len: n };
  };
  const read = (ptr: number, len: number): Uint8Array => {
    const s = span(ptr, len);
    return mem().slice(s.at, s.at + s.len);
  };
  const write = (ptr: number, bytes: Uint8Array): void => {
    mem().set(bytes, span(ptr, bytes.byteLength).at);
  };
  return {
    input_len: (): number => charge(GAS.hostCall).input.byteLength,
    input_read: (dst: number): void => {
      const call = charge(GAS.hostCall + GAS.byteCopied * (h.call?.input.byteLength ?? 0));
      write(dst, call.input);
    },
    return_data: (ptr: number, len: number): void => {
      if (len >>> 0 > MAX_OUTPUT_BYTES) throw new Revert(`output of ${len >>> 0} bytes, over ${MAX_OUTPUT_BYTES}`);
      charge(GAS.hostCall + GAS.byteCopied * (len >>> 0)).output = read(ptr, len);
    },
    storage_get: (k: number, kl: number, v: number, vcap: number): number => {
      const call = charge(GAS.hostCall + GAS.storageGet + GAS.byteCopied * Math.min(kl >>> 0, MAX_STORAGE_KEY_BYTES + 1));
      const value = call.read(storageKey(read, k, kl));
      if (value === null) return -1;
      const n = Math.min(value.byteLength, vcap >>> 0);
      charge(GAS.byteCopied * n);
      write(v, value.subarray(0, n));
      return value.byteLength;
    },
    storage_set: (k: number, kl: number, v: number, vl: number): void => {
      if (vl >>> 0 > MAX_STORAGE_VALUE_BYTES) throw new Revert(`storage value of ${vl >>> 0} bytes, over ${MAX_STORAGE_VALUE_BYTES}`);
      const call = charge(GAS.hostCall + GAS.storageSet + GAS.byteStored * (Math.min(kl >>> 0, MAX_STORAGE_KEY_BYTES + 1) + (vl >>> 0)));
      const key = storageKey(read, k, kl);
      call.write(key, vl === 0 ? null : read(v, vl));
    },
    caller: (dst: number): void => {
      write(dst, charge(GAS.hostCall + GAS.byteCopied * CALLER_BYTES).caller);
    },
    emit: (t: number, tl: number, d: number, dl: number): void => {
      if (tl >>> 0 > MAX_EVENT_TOPIC_BYTES || dl >>> 0 > MAX_EVENT_DATA_BYTES) throw new Revert('event topic or data over its cap');
      const call = charge(GAS.hostCall + GAS.emit + GAS.byteStored * ((tl >>> 0) + (dl >>> 0)));
      if (call.events.length >= MAX_EVENTS_PER_CALL) throw new Revert(`over ${MAX_EVENTS_PER_CALL} events`);
      call.events.push({ topic: read(t, tl), data: read(d, dl) });
    },
    revert: (msg: number, len: number): never => {
      charge(GAS.hostCall);
      const bytes = read(msg, Math.min(len >>> 0, MAX_REVERT_BYTES));
      throw new Revert(asBuffer(bytes).toString('utf8'));
    },
  };
}

function storageKey(read: (ptr: number, len: number) => Uint8Array, k: number, kl: number): Uint8Array {
  const n = kl >>> 0;
  if (n === 0 || n > MAX_STORAGE_KEY_BYTES) throw new Revert(`storage key of ${n} bytes, not 1..${MAX_STORAGE_KEY_BYTES}`);
  return read(k, n);
}
