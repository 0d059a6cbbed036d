/**
 * The Poseidon Merkle tree (src/zk/merkle.ts) and the Poseidon commitments: circomlib's Poseidon
 * test vector, empty-subtree roots, paths that lead to the root, updates and the capacity limit.
 */
import { describe, expect, it } from 'vitest';
import {
  accessCommitment, FIELD_MODULUS, IDENTITY_TREE_DEPTH, identityCommitment, merkleRoot, PoseidonTree, poseidonPair,
  randomFieldElement,
} from '../../src/zk/index.js';
import { SeededRandom } from '../../src/util/index.js';

describe('Poseidon commitments', () => {
  it('match circomlib Poseidon([1, 2]) and refuse non-field inputs', () => {
    // circomlib test/poseidoncircuit.js: Poseidon([1, 2])
    expect(poseidonPair(1n, 2n)).toBe(0x115cc0f5e7d690413df64c6b9662e9cf2a3617f2743245519e19607a4417189an);
    expect(accessCommitment(1n, 2n)).toBe(poseidonPair(1n, 2n));
    expect(() => accessCommitment(FIELD_MODULUS, 1n)).toThrow('secret must be a field element');
    expect(() => identityCommitment(-1n)).toThrow('identitySecret must be a field element');
  });

  it('draws random field elements below 2^253 from the injected source, reproducibly', () => {
    const a = new SeededRandom(1);
    const b = new SeededRandom(1);
    for (let i = 0; i < 50; i++) {
      const x = randomFieldElement(a);
      expect(x).toBe(randomFieldElement(b));
      expect(x >= 0n && x < 2n ** 253n).toBe(true);
    }
  });
});

describe('PoseidonTree', () => {
  it('has the zero-subtree root when empty, depth 16 by default', () => {
    const tree = new PoseidonTree();
    expect(tree.depth).toBe(IDENTITY_TREE_DEPTH);
    let zero = 0n;
    for (let i = 0; i < 16; i++) zero = poseidonPair(zero, zero);
    expect(tree.root).toBe(zero);
    expect(tree.size).toBe(0);
  });

  it('gives every member a path that leads to the root, and the root changes with every insert', () => {
    const tree = new PoseidonTree(5);
    const random = new SeededRandom(7);
    const leaves: bigint[] = [];
    const roots = new Set<bigint>([tree.root]);
    for (let i = 0; i < 20; i++) {
      const leaf = identityCommitment(randomFieldElement(random));
      expect(tree.insert(leaf)).toBe(i);
      leaves.push(leaf);
      roots.add(tree.root);
    }
    expect(roots.size).toBe(21);
    leaves.forEach((leaf, i) => {
      const path = tree.path(i);
      expect(path.pathElements).toHaveLength(5);
      expect(path.pathIndices.every((b) => b === 0 || b === 1)).toBe(true);
      expect(merkleRoot(leaf, path)).toBe(tree.root);
      expect(merkleRoot(leaf + 1n, path)).not.toBe(tree.root);
      expect(tree.leaf(i)).toBe(leaf);
    });
  });

  it('matches a tree rebuilt from scratch after updates', () => {
    const a = new PoseidonTree(4);
    const b = new PoseidonTree(4);
    for (let i = 1n; i <= 10n; i++) a.insert(i);
    a.update(3, 99n);
    a.update(9, 0n);
    for (const leaf of [1n, 2n, 3n, 99n, 5n, 6n, 7n, 8n, 9n, 0n]) b.insert(leaf);
    expect(a.root).toBe(b.root);
  });

  it('refuses inserts past capacity and bad indices or leaves, naming the problem', () => {
    const tree = new PoseidonTree(2);
    for (let i = 1n; i <= 4n; i++) tree.insert(i);
    expect(() => tree.insert(5n)).toThrow('the tree is full (4 leaves)');
    expect(() => tree.path(4)).toThrow('index must be an inserted leaf index');
    expect(() => tree.update(-1, 1n)).toThrow(RangeError);
    expect(() => tree.update(0, FIELD_MODULUS)).toThrow('leaf must be a field element');
    expect(() => new PoseidonTree(0)).toThrow('depth must be an integer in 1..32');
  });
});
