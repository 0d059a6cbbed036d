/**
 * Valid signals for each of the four ZK circuits from a fixed seed, so every run proves the same
 * statements. Shared by the ZK tests (test/zk/fixtures.ts) and `npm run bench:zk`, which runs
 * compiled from dist/ and so can only reach test/helpers.
 */
import { SeededRandom } from '../../src/util/index.js';
import {
  accessCommitment, type CircuitSignals, dataCommitment, identityCommitment, keyField, PoseidonTree, randomFieldElement,
  rangeCommitment, valueField,
} from '../../src/zk/index.js';

/** Valid signals for every circuit, from a fixed seed. */
export function validSignals(seed = 29): CircuitSignals {
  const random = new SeededRandom(seed);
  const f = (): bigint => randomFieldElement(random);
  const key = keyField(random.bytes(32));
  const valueHash = valueField(random.bytes(100));
  const secret = f();
  const salt = f();
  const tree = new PoseidonTree();
  const identitySecret = f();
  for (let i = 0; i < 5; i++) tree.insert(identityCommitment(f()));
  const member = tree.insert(identityCommitment(identitySecret));
  tree.insert(identityCommitment(f()));
  const path = tree.path(member);
  const rangeSalt = f();
  return {
    storage_access: { commitment: accessCommitment(secret, salt), keyField: key, nonce: 7n, valueHash, secret, salt },
    data_integrity: { commitment: dataCommitment(valueHash, salt), valueHash, salt },
    identity: {
      root: tree.root, keyField: key, nonce: 7n, valueHash, identitySecret,
      pathElements: path.pathElements, pathIndices: path.pathIndices,
    },
    range: { commitment: rangeCommitment(1_000n, rangeSalt), min: 18n, max: 65_535n, value: 1_000n, salt: rangeSalt },
  };
}
