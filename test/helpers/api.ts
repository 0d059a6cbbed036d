/**
 * A loopback testnet with node 0 serving its HTTP API on a free port, plus a temporary folder:
 * the setup of the API and CLI client tests. Kept out of index.ts, the package's `zhtp-dht/testnet`
 * face, which stays free of the API.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiServer, type ApiServerOptions } from '../../src/api/index.js';
import { afterAll, beforeAll } from 'vitest';
import { createTestnet, type DhtNode, type Testnet, type TestnetOptions } from '../../src/node/index.js';

/** Options of apiTestnet. */
export interface ApiTestnetOptions {
  /** Prefix of the temporary folder's name, e.g. 'zhtp-api-zk-'. */
  prefix: string;
  /** Options of createTestnet. */
  testnet?: TestnetOptions;
  /** Options of node 0's ApiServer. Default: port 0 and hosts ['127.0.0.1']. */
  api?: Omit<ApiServerOptions, 'node' | 'tokenDir'>;
  /**
   * Where the API writes api-token: 'dir' (the temporary folder, the default) or 'dataDir' (node 0's
   * data folder, where the CLI's `--data` finds it).
   */
  tokenIn?: 'dir' | 'dataDir';
}

/** A running testnet with node 0's API; destroy() stops both and removes the temporary folder. */
export interface ApiTestnet {
  readonly net: Testnet;
  /** Node 0, the one serving the API. */
  readonly node: DhtNode;
  readonly api: ApiServer;
  /** The API's bearer token. */
  readonly token: string;
  /** `http://127.0.0.1:PORT` of the API. */
  readonly url: string;
  /** The temporary folder (holds api-token unless `tokenIn` is 'dataDir'). */
  readonly dir: string;
  /** Stops the API, then the testnet, then removes the folder, each even if the one before failed. Idempotent. */
  destroy(): Promise<void>;
}

/** Starts `n` nodes and an ApiServer on node 0. A failed start stops what it had started. */
export async function apiTestnet(n: number, options: ApiTestnetOptions): Promise<ApiTestnet> {
  const net = await createTestnet(n, options.testnet);
  const node = net.nodes[0]!;
  let dir: string | undefined;
  let api: ApiServer | undefined;
  let destroyed: Promise<void> | undefined;
  const destroy = (): Promise<void> => (destroyed ??= stopAll(net, api, dir));
  try {
    dir = mkdtempSync(join(tmpdir(), options.prefix));
    const tokenDir = options.tokenIn === 'dataDir' ? undefined : dir;
    api = new ApiServer({ port: 0, hosts: ['127.0.0.1'], ...options.api, node, tokenDir });
    await api.start();
    return { net, node, api, token: api.token, url: api.url, dir, destroy };
  } catch (err) {
    await destroy();
    throw err;
  }
}

/**
 * The test file's API testnet: started in a beforeAll (up to 120 s) and destroyed in an afterAll.
 * Its parts are read inside tests (`t.net`, `t.node`, …), after the beforeAll has run.
 */
export function useApiTestnet(n: number, options: ApiTestnetOptions): ApiTestnet {
  let started: ApiTestnet | undefined;
  beforeAll(async () => { started = await apiTestnet(n, options); }, 120_000);
  afterAll(() => started?.destroy());
  const get = (): ApiTestnet => {
    if (started === undefined) throw new Error('the API testnet is read before its beforeAll ran');
    return started;
  };
  return {
    get net() { return get().net; },
    get node() { return get().node; },
    get api() { return get().api; },
    get token() { return get().token; },
    get url() { return get().url; },
    get dir() { return get().dir; },
    destroy: () => started?.destroy() ?? Promise.resolve(),
  };
}

/** `--api URL --data DIR` of the API testnet's node 0: where a CLI run finds the API and its token. */
export const cliTarget = (t: ApiTestnet): string[] => ['--api', t.api.url, '--data', t.node.options.dataDir!];

/** Writes `content` to `name` in the testnet's temporary folder; the file's path. */
export function writeIn(t: ApiTestnet, name: string, content: string | Uint8Array): string {
  const path = join(t.dir, name);
  writeFileSync(path, content);
  return path;
}

async function stopAll(net: Testnet, api: ApiServer | undefined, dir: string | undefined): Promise<void> {
  try {
    await api?.stop();
  } finally {
    try {
      await net.destroy();
    } finally {
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    }
  }
}
