// Fungible token (ERC-20 shaped, u64 amounts). `init(supply)` credits the whole supply to the
// caller, once. Balances live under "b" ‖ owner, allowances under "a" ‖ owner ‖ spender, the
// supply under "s". Every transfer emits "Transfer" (from ‖ to ‖ amount; from is zeros at
// init), every approval "Approval" (owner ‖ spender ‖ amount). Failures revert.
import { Args, caller, emit, getU64, key, outputU64, revert, setU64, Writer } from "../sdk";

const BALANCE: u8 = 0x62; // "b"
const ALLOWANCE: u8 = 0x61; // "a"
const SUPPLY: u8 = 0x73; // "s"

function move(from: Uint8Array, to: Uint8Array, amount: u64): void {
  const kf = key(BALANCE, from);
  const have = getU64(kf);
  if (have < amount) revert("insufficient balance");
  setU64(kf, have - amount);
  const kt = key(BALANCE, to);
  setU64(kt, getU64(kt) + amount); // cannot overflow: the sum of balances is the supply
  emit("Transfer", new Writer(72).address(from).address(to).u64(amount).finish());
}

/** init(supply: u64): the caller receives the whole supply; only once. */
export function init(): void {
  const args = Args.fromInput();
  const supply = args.u64();
  args.end();
  const ks = key(SUPPLY);
  if (getU64(ks) != 0) revert("already initialised");
  if (supply == 0) revert("supply must be positive");
  const me = caller();
  setU64(ks, supply);
  setU64(key(BALANCE, me), supply);
  emit("Transfer", new Writer(72).address(new Uint8Array(32)).address(me).u64(supply).finish());
}

/** totalSupply() -> u64 */
export function totalSupply(): void {
  Args.fromInput().end();
  outputU64(getU64(key(SUPPLY)));
}

/** balanceOf(owner: address) -> u64 */
export function balanceOf(): void {
  const args = Args.fromInput();
  const owner = args.address();
  args.end();
  outputU64(getU64(key(BALANCE, owner)));
}

/** transfer(to: address, amount: u64) */
export function transfer(): void {
  const args = Args.fromInput();
  const to = args.address();
  const amount = args.u64();
  args.end();
  move(caller(), to, amount);
}

/** approve(spender: address, amount: u64): sets (not adds to) the spender's allowance. */
export function approve(): void {
  const args = Args.fromInput();
  const spender = args.address();
  const amount = args.u64();
  args.end();
  const owner = caller();
  setU64(key(ALLOWANCE, owner, spender), amount);
  emit("Approval", new Writer(72).address(owner).address(spender).u64(amount).finish());
}

/** allowance(owner: address, spender: address) -> u64 */
export function allowance(): void {
  const args = Args.fromInput();
  const owner = args.address();
  const spender = args.address();
  args.end();
  outputU64(getU64(key(ALLOWANCE, owner, spender)));
}

/** transferFrom(from: address, to: address, amount: u64): spends the caller's allowance from `from`. */
export function transferFrom(): void {
  const args = Args.fromInput();
  const from = args.address();
  const to = args.address();
  const amount = args.u64();
  args.end();
  const ka = key(ALLOWANCE, from, caller());
  const allowed = getU64(ka);
  if (allowed < amount) revert("allowance exceeded");
  setU64(ka, allowed - amount);
  move(from, to, amount);
}
