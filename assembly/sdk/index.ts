// The contract SDK: typed wrappers over the ABI v1 host imports (./env) and the argument
// encoding of docs/contracts.md: fixed little-endian integers, 32-byte addresses, and
// u32-length-prefixed byte strings, read and written in order. Compile with `--runtime stub`:
// the bump allocator never frees, and every call starts from a fresh memory anyway.
import * as env from "./env";

/** Bytes of an address (a caller or account id). */
export const ADDRESS_BYTES: i32 = 32;

/** Ends the call with status "revert" and `reason` as its message. */
export function revert(reason: string): void {
  const msg = String.UTF8.encode(reason);
  env.revert(changetype<usize>(msg), msg.byteLength);
  unreachable();
}

/** The `--use abort=` target: AssemblyScript's own aborts (bounds checks) become a revert. */
export function asAbort(message: string | null, fileName: string | null, line: u32, column: u32): void {
  revert("abort");
}

/** The call's input bytes. */
export function input(): Uint8Array {
  const buf = new Uint8Array(env.input_len());
  env.input_read(buf.dataStart);
  return buf;
}

/** The caller's 32-byte id. */
export function caller(): Uint8Array {
  const buf = new Uint8Array(ADDRESS_BYTES);
  env.caller(buf.dataStart);
  return buf;
}

/** Sets the call's output. */
export function output(bytes: Uint8Array): void {
  env.return_data(bytes.dataStart, bytes.length);
}

/** Records an event with a UTF-8 topic. */
export function emit(topic: string, data: Uint8Array): void {
  const t = String.UTF8.encode(topic);
  env.emit(changetype<usize>(t), t.byteLength, data.dataStart, data.length);
}

/** Reads arguments in order from the input; reading past its end reverts. */
export class Args {
  private at: i32 = 0;
  constructor(private readonly buf: Uint8Array) {}

  static fromInput(): Args {
    return new Args(input());
  }

  private take(n: i32): i32 {
    if (n < 0 || this.at + n > this.buf.length) revert("input too short");
    const start = this.at;
    this.at += n;
    return start;
  }

  u32(): u32 {
    return load<u32>(this.buf.dataStart + <usize>this.take(4));
  }

  u64(): u64 {
    return load<u64>(this.buf.dataStart + <usize>this.take(8));
  }

  address(): Uint8Array {
    return this.buf.slice(this.take(ADDRESS_BYTES), this.at);
  }

  bytes(): Uint8Array {
    const n = <i32>this.u32();
    return this.buf.slice(this.take(n), this.at);
  }

  /** Reverts unless every input byte was read: trailing bytes mean a caller's encoding bug. */
  end(): void {
    if (this.at != this.buf.length) revert("unexpected trailing input");
  }
}

/** Builds an output (or event data) in the argument encoding. */
export class Writer {
  private buf: Uint8Array;
  private at: i32 = 0;
  constructor(capacity: i32 = 64) {
    this.buf = new Uint8Array(capacity);
  }

  private room(n: i32): usize {
    if (this.at + n > this.buf.length) {
      const bigger = new Uint8Array((this.at + n) * 2);
      bigger.set(this.buf);
      this.buf = bigger;
    }
    const p = this.buf.dataStart + <usize>this.at;
    this.at += n;
    return p;
  }

  u32(v: u32): Writer {
    store<u32>(this.room(4), v);
    return this;
  }

  u64(v: u64): Writer {
    store<u64>(this.room(8), v);
    return this;
  }

  address(a: Uint8Array): Writer {
    if (a.length != ADDRESS_BYTES) revert("address must be 32 bytes");
    memory.copy(this.room(ADDRESS_BYTES), a.dataStart, ADDRESS_BYTES);
    return this;
  }

  bytes(b: Uint8Array): Writer {
    this.u32(<u32>b.length);
    memory.copy(this.room(b.length), b.dataStart, b.length);
    return this;
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.at);
  }
}

// One reusable buffer for storage reads: the stub runtime never frees, so allocating per read
// would walk towards the memory cap in a long call.
let readBuf = new Uint8Array(256);

/** The value under `key`, or null when absent. */
export function storageGet(key: Uint8Array): Uint8Array | null {
  let n = env.storage_get(key.dataStart, key.length, readBuf.dataStart, readBuf.length);
  if (n < 0) return null;
  if (n > readBuf.length) {
    readBuf = new Uint8Array(n);
    n = env.storage_get(key.dataStart, key.length, readBuf.dataStart, readBuf.length);
  }
  return readBuf.slice(0, n);
}

/** Writes `key` = `value` (an empty value deletes the key). */
export function storageSet(key: Uint8Array, value: Uint8Array): void {
  env.storage_set(key.dataStart, key.length, value.dataStart, value.length);
}

/** The u64 under `key` (8 bytes little-endian), 0 when absent. */
export function getU64(key: Uint8Array): u64 {
  const v = storageGet(key);
  if (v == null) return 0;
  if (v.length != 8) revert("stored value is not a u64");
  return load<u64>(v.dataStart);
}

/** Stores a u64 (8 bytes little-endian); 0 deletes the key, so absent and zero read the same. */
export function setU64(key: Uint8Array, v: u64): void {
  if (v == 0) {
    env.storage_set(key.dataStart, key.length, 0, 0);
    return;
  }
  const buf = new Uint8Array(8);
  store<u64>(buf.dataStart, v);
  storageSet(key, buf);
}

const NONE = new Uint8Array(0);

/** A storage key: a one-byte prefix (a table) followed by `a` and `b`, concatenated. */
export function key(prefix: u8, a: Uint8Array = NONE, b: Uint8Array = NONE): Uint8Array {
  const out = new Uint8Array(1 + a.length + b.length);
  out[0] = prefix;
  out.set(a, 1);
  out.set(b, 1 + a.length);
  return out;
}

/** Outputs one u64. */
export function outputU64(v: u64): void {
  output(new Writer(8).u64(v).finish());
}

/** True when two byte strings are equal. */
export function equal(a: Uint8Array, b: Uint8Array): bool {
  if (a.length != b.length) return false;
  return memory.compare(a.dataStart, b.dataStart, a.length) == 0;
}
