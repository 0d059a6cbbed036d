// Host imports of ABI v1 (docs/contracts.md): all from module "env", all plain i32 pointers and
// lengths into the contract's own memory, so the ABI does not depend on AssemblyScript's object
// layout. The host copies bytes in and out; it never calls back into the contract.

/** Bytes of this call's input. */
@external("env", "input_len")
export declare function input_len(): i32;

/** Copies the whole input to `dst` (input_len() bytes). */
@external("env", "input_read")
export declare function input_read(dst: usize): void;

/** Sets this call's output; the last call wins. Over the output cap the call reverts. */
@external("env", "return_data")
export declare function return_data(ptr: usize, len: i32): void;

/** -1 when `key` is absent, else the value's full length; copies min(length, vcap) bytes to `v`. */
@external("env", "storage_get")
export declare function storage_get(k: usize, kl: i32, v: usize, vcap: i32): i32;

/** Writes `key` = value; an empty value deletes the key. Applied only if the call succeeds. */
@external("env", "storage_set")
export declare function storage_set(k: usize, kl: i32, v: usize, vl: i32): void;

/** Copies the 32-byte id of the caller to `dst`. */
@external("env", "caller")
export declare function caller(dst: usize): void;

/** Records an event (topic, data) in the call's receipt; kept only if the call succeeds. */
@external("env", "emit")
export declare function emit(topic: usize, tl: i32, data: usize, dl: i32): void;

/** Ends the call with status "revert" and `msg` as its reason; never returns. */
@external("env", "revert")
export declare function revert(msg: usize, len: i32): void;
