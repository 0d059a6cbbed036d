/**
 * The four circuits of src/zk/circuits/ and the order of their public signals, which is the order
 * the storage node must build them in (circom orders public inputs as the template declares them).
 * Constraint counts are those of `circom2 --O2` (docs/zk.md).
 */

/** Circuit names; each is `src/zk/circuits/<name>.circom` and `src/zk/keys/<name>.*`. */
export const CIRCUIT_NAMES = ['storage_access', 'data_integrity', 'identity', 'range'] as const;

/** One of the four circuits. */
export type CircuitName = (typeof CIRCUIT_NAMES)[number];

/** Depth of the identity circuit's Poseidon Merkle tree: up to 65,536 members. */
export const IDENTITY_TREE_DEPTH = 16;

/** Bit width of the range circuit's value, min and max. */
export const RANGE_BITS = 64;

/** Public signals of each circuit, in proof order. */
export const PUBLIC_SIGNALS = {
  storage_access: ['commitment', 'keyField', 'nonce', 'valueHash'],
  data_integrity: ['commitment', 'valueHash'],
  identity: ['root', 'keyField', 'nonce', 'valueHash'],
  range: ['commitment', 'min', 'max'],
} as const satisfies Record<CircuitName, readonly string[]>;

/** True when `x` names one of the four circuits. */
export function isCircuitName(x: unknown): x is CircuitName {
  return typeof x === 'string' && (CIRCUIT_NAMES as readonly string[]).includes(x);
}
