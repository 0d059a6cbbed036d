/**
 * A sparse Poseidon Merkle tree of fixed depth, the JavaScript twin of the identity circuit:
 * node = Poseidon(left, right), empty leaves are 0, leaves fill from index 0. Only non-empty
 * nodes are stored, so a depth-16 tree with n members costs about 16·n hashes and entries.
 */
import { IDENTITY_TREE_DEPTH } from './circuits.js';
import { poseidonPair } from './commitments.js';
import { isFieldElement } from './field.js';

/** A membership path: the sibling and the side (1 = the node is the right child) per level, leaf level first. */
export interface MerklePath {
  readonly pathElements: readonly bigint[];
  readonly pathIndices: readonly (0 | 1)[];
}

/** A Poseidon Merkle tree; `new PoseidonTree()` has the identity circuit's depth (16). */
export class PoseidonTree {
  readonly depth: number;
  /** `#zeros[i]`: the root of an empty subtree of height i. */
  readonly #zeros: bigint[];
  /** `#nodes[i]`: the non-empty nodes of level i (0 = leaves), by index. */
  readonly #nodes: Map<number, bigint>[];
  #size = 0;

  constructor(depth: number = IDENTITY_TREE_DEPTH) {
    if (!Number.isInteger(depth) || depth < 1 || depth > 32) throw new RangeError('depth must be an integer in 1..32');
    this.depth = depth;
    this.#zeros = [0n];
    for (let i = 0; i < depth; i++) this.#zeros.push(poseidonPair(this.#zeros[i]!, this.#zeros[i]!));
    this.#nodes = Array.from({ length: depth + 1 }, () => new Map<number, bigint>());
  }

  /** Leaves inserted so far (the next insert goes to this index). */
  get size(): number {
    return this.#size;
  }

  /** The current root. */
  get root(): bigint {
    return this.#node(this.depth, 0);
  }

  /** Appends `leaf` (an identity commitment) and returns its index. */
  insert(leaf: bigint): number {
    if (this.#size >= 2 ** this.depth) throw new RangeError(`the tree is full (${2 ** this.depth} leaves)`);
    const index = this.#size++;
    this.update(index, leaf);
    return index;
  }

  /** Sets the leaf at `index` (below size) and rehashes its path; 0 empties it. */
  update(index: number, leaf: bigint): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.#size) throw new RangeError('index must be an inserted leaf index');
    if (!isFieldElement(leaf)) throw new RangeError('leaf must be a field element in [0, r)');
    let value = leaf;
    let i = index;
    for (let level = 0; level <= this.depth; level++) {
      if (value === this.#zeros[level]) this.#nodes[level]!.delete(i);
      else this.#nodes[level]!.set(i, value);
      if (level === this.depth) break;
      const sibling = this.#node(level, i ^ 1);
      value = (i & 1) === 0 ? poseidonPair(value, sibling) : poseidonPair(sibling, value);
      i >>= 1;
    }
  }

  /** The leaf at `index` (0 when empty). */
  leaf(index: number): bigint {
    return this.#node(0, index);
  }

  /** The membership path of the leaf at `index`. */
  path(index: number): MerklePath {
    if (!Number.isInteger(index) || index < 0 || index >= this.#size) throw new RangeError('index must be an inserted leaf index');
    const pathElements: bigint[] = [];
    const pathIndices: (0 | 1)[] = [];
    let i = index;
    for (let level = 0; level < this.depth; level++) {
      pathElements.push(this.#node(level, i ^ 1));
      pathIndices.push((i & 1) as 0 | 1);
      i >>= 1;
    }
    return { pathElements, pathIndices };
  }

  #node(level: number, index: number): bigint {
    return this.#nodes[level]!.get(index) ?? this.#zeros[level]!;
  }
}

/** The root that `leaf` and `path` lead to (what the identity circuit computes). */
export function merkleRoot(leaf: bigint, path: MerklePath): bigint {
  let node = leaf;
  path.pathElements.forEach((sibling, level) => {
    node = path.pathIndices[level] === 1 ? poseidonPair(sibling, node) : poseidonPair(node, sibling);
  });
  return node;
}
