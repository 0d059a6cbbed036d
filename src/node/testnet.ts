/**
 * A network of real nodes on loopback in one process: real UDP sockets on 127.0.0.1 and a
 * temporary LMDB folder per node. Used by the tests, the demo, the benchmarks and
 * `zhtp-dht testnet`; exported so users can test against it too (like dht-rpc's testnet).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CryptoPool } from '../crypto/index.js';
import type { Address } from '../util/index.js';
import { ZkPool } from '../zk/index.js';
import { DhtNode } from './node.js';
import type { DhtNodeOptions } from './options.js';

/** Options of createTestnet: node options shared by every node, plus the harness's own. */
export interface TestnetOptions extends Omit<DhtNodeOptions, 'dataDir' | 'bootstrap' | 'port' | 'ephemeral'> {
  /** Folder under which each node gets its own data folder. Default: a new temp folder, removed by destroy(). */
  root?: string;
  /** First port; nodes take consecutive ports. Default 0 (ephemeral ports). */
  basePort?: number;
  /** Nodes started at once while joining. Default 8. */
  concurrency?: number;
}

// All nodes of a testnet share one crypto pool (one thread per core) and one lazy ZK pool (its
// threads start with the first ZK value any node handles), as one process would.

/** A running loopback network. */
export interface Testnet {
  readonly nodes: DhtNode[];
  /** Address of the first node, the one every other node joined through. */
  readonly bootstrap: Address[];
  /** Starts one more node joined to the network. */
  addNode(options?: Partial<DhtNodeOptions>): Promise<DhtNode>;
  /** Stops every node and removes the temporary folders. Idempotent. */
  destroy(): Promise<void>;
}

/** Starts `n` nodes on 127.0.0.1 and joins them into one network. */
export async function createTestnet(n: number, options: TestnetOptions = {}): Promise<Testnet> {
  if (!Number.isInteger(n) || n < 1) throw new RangeError('n must be a positive integer');
  const ownRoot = options.root === undefined;
  const root = options.root ?? mkdtempSync(join(tmpdir(), 'zhtp-testnet-'));
  const { root: _r, basePort = 0, concurrency = 8, ...shared } = options;
  const ownPool = shared.cryptoPool === undefined;
  // One pool serves every node: its queue must hold start-up work (keys, records) of all of them.
  const cryptoPool = shared.cryptoPool ?? new CryptoPool({ maxQueue: Math.max(64, 16 * n), ...shared.crypto });
  const ownZk = shared.zkPool === undefined;
  const zkPool = shared.zkPool ?? new ZkPool({ lazy: true, ...shared.zk });
  const nodes: DhtNode[] = [];
  const bootstrap: Address[] = [];
  let seq = 0;
  let destroyed = false;

  const addNode = async (extra: Partial<DhtNodeOptions> = {}): Promise<DhtNode> => {
    const index = seq++;
    const node = new DhtNode({
      host: '127.0.0.1', ...shared, cryptoPool, zkPool, ...extra,
      port: basePort === 0 ? 0 : basePort + index,
      dataDir: join(root, `node-${index}`),
      bootstrap: extra.bootstrap ?? bootstrap,
    });
    nodes.push(node);
    await node.start();
    return node;
  };

  const destroy = async (): Promise<void> => {
    if (destroyed) return;
    destroyed = true;
    await Promise.all(nodes.map((node) => node.stop()));
    if (ownPool) await cryptoPool.close();
    if (ownZk) await zkPool.close();
    if (ownRoot) rmSync(root, { recursive: true, force: true });
  };

  try {
    const first = await addNode();
    bootstrap.push({ host: '127.0.0.1', port: first.address.port });
    for (let i = 1; i < n; i += concurrency) {
      await Promise.all(Array.from({ length: Math.min(concurrency, n - i) }, () => addNode()));
    }
    // Early joiners met few peers: a second self-lookup round fills every table.
    for (let i = 0; i < nodes.length; i += concurrency) {
      await Promise.all(nodes.slice(i, i + concurrency).map((node) => node.findNode(node.id)));
    }
  } catch (err) {
    await destroy();
    throw err;
  }
  return { nodes, bootstrap, addNode, destroy };
}
