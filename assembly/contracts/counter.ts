// Counter: one u64 under the key "c". `increment()` adds one and returns the new value;
// `get()` returns it. Neither takes arguments.
import { Args, getU64, key, outputU64, setU64 } from "../sdk";

const COUNT: u8 = 0x63; // "c"

export function increment(): void {
  Args.fromInput().end();
  const k = key(COUNT);
  const next = getU64(k) + 1;
  setU64(k, next);
  outputU64(next);
}

export function get(): void {
  Args.fromInput().end();
  outputU64(getU64(key(COUNT)));
}
