// Name registry: a name (1..64 bytes of UTF-8) belongs to whoever registered it first and
// points at a target (at most 256 bytes: an address, a content key, a URL). Records live under
// "n" ‖ name as owner (32 B) ‖ target. Events: "Registered" and "Transferred" (name ‖ owner).
import { ADDRESS_BYTES, Args, caller, emit, equal, key, output, revert, storageGet, storageSet, Writer } from "../sdk";

const NAME: u8 = 0x6e; // "n"
const MAX_NAME: i32 = 64;
const MAX_TARGET: i32 = 256;

function checkName(name: Uint8Array): void {
  if (name.length == 0 || name.length > MAX_NAME) revert("name must be 1..64 bytes");
}

function record(owner: Uint8Array, target: Uint8Array): Uint8Array {
  const out = new Uint8Array(ADDRESS_BYTES + target.length);
  out.set(owner, 0);
  out.set(target, ADDRESS_BYTES);
  return out;
}

/** register(name: bytes, target: bytes): the caller owns `name`; reverts when taken. */
export function register(): void {
  const args = Args.fromInput();
  const name = args.bytes();
  const target = args.bytes();
  args.end();
  checkName(name);
  if (target.length > MAX_TARGET) revert("target must be at most 256 bytes");
  const k = key(NAME, name);
  if (storageGet(k) != null) revert("name taken");
  const owner = caller();
  storageSet(k, record(owner, target));
  emit("Registered", new Writer(128).bytes(name).address(owner).finish());
}

/** resolve(name: bytes) -> (owner: address, target: bytes); reverts when not registered. */
export function resolve(): void {
  const args = Args.fromInput();
  const name = args.bytes();
  args.end();
  const rec = storageGet(key(NAME, name));
  if (rec == null) revert("name not registered");
  const r = changetype<Uint8Array>(rec);
  output(new Writer(r.length + 4).address(r.subarray(0, ADDRESS_BYTES)).bytes(r.subarray(ADDRESS_BYTES)).finish());
}

/** transfer(name: bytes, newOwner: address): only the owner may; the target is kept. */
export function transfer(): void {
  const args = Args.fromInput();
  const name = args.bytes();
  const to = args.address();
  args.end();
  const k = key(NAME, name);
  const rec = storageGet(k);
  if (rec == null) revert("name not registered");
  const r = changetype<Uint8Array>(rec);
  if (!equal(r.subarray(0, ADDRESS_BYTES), caller())) revert("not the owner");
  storageSet(k, record(to, r.subarray(ADDRESS_BYTES)));
  emit("Transferred", new Writer(128).bytes(name).address(to).finish());
}
