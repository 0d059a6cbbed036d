/**
 * Zero-knowledge proofs for ZkDhtValue: four circom circuits (Groth16 on BN254, keys committed in
 * src/zk/keys), field mappings of DHT bytes, the 256-byte proof encoding, a strict single-threaded
 * verifier, a prover, Poseidon commitments and Merkle tree, and the worker pool. docs/zk.md.
 */
export * from './field.js';
export * from './circuits.js';
export {
  type VerificationKey, CHECKSUM_FILE, PTAU_FILE, packageRoot, keysDir, circuitSource, artifactFiles, loadVerificationKey,
  loadProvingArtifacts, sha256File, checksumText, parseChecksums,
} from './artifacts.js';
export * from './proof.js';
export * from './verifier.js';
export * from './commitments.js';
export * from './merkle.js';
export * from './prover.js';
export * from './pool.js';
export * from './value.js';
export * from './seal.js';
export * from './build.js';
export { compileCircuit, type CompiledCircuit, COMPILE_TIMEOUT_MS } from './compile.js';
