/**
 * A node's worker pools: the crypto pool (ML-DSA, ML-KEM, large hashes) and the ZK pool (Groth16).
 * Each is either shared — given in the options, as a testnet does, and never closed here — or the
 * node's own, closed by close(). The node's own ZK pool is lazy: its threads, each loading snarkjs
 * (60-90 MB), start with the first ZK value the node handles, so most nodes never pay for them.
 */
import { CryptoPool } from '../crypto/index.js';
import { ZkPool } from '../zk/index.js';
import type { ResolvedOptions } from './options.js';

/** The pools of one node. */
export class NodePools {
  readonly crypto: CryptoPool;
  readonly zk: ZkPool;
  readonly #own: Array<CryptoPool | ZkPool> = [];

  constructor(o: Pick<ResolvedOptions, 'cryptoPool' | 'crypto' | 'zkPool' | 'zk'>) {
    // The lazy ZK pool first: it starts no thread, so a crypto pool that fails to start leaks nothing.
    this.zk = o.zkPool ?? this.#adopt(new ZkPool({ lazy: true, ...o.zk }));
    this.crypto = o.cryptoPool ?? this.#adopt(new CryptoPool(o.crypto));
  }

  /** Closes the node's own pools (not shared ones). Idempotent. */
  async close(): Promise<void> {
    await Promise.all(this.#own.splice(0).map((p) => p.close()));
  }

  #adopt<P extends CryptoPool | ZkPool>(pool: P): P {
    this.#own.push(pool);
    return pool;
  }
}
