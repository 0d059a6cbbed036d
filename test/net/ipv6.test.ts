import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DhtNode } from '../../src/node/index.js';

/** True when this host can bind ::1 (some containers have no IPv6 loopback). */
async function hasIpv6Loopback(): Promise<boolean> {
  const socket = createSocket('udp6');
  try {
    await new Promise<void>((resolve, reject) => { socket.once('error', reject); socket.bind(0, '::1', resolve); });
    return true;
  } catch {
    return false; // no ::1 here: the test is skipped, not failed
  } finally {
    socket.close();
  }
}

describe('IPv6', async () => {
  const available = await hasIpv6Loopback();
  const root = mkdtempSync(join(tmpdir(), 'zhtp-v6-'));
  const nodes: DhtNode[] = [];
  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    rmSync(root, { recursive: true, force: true });
  });

  it.skipIf(!available)('nodes on ::1 join, store and find content', async () => {
    const first = new DhtNode({ host: '::1', port: 0, dataDir: join(root, 'a') });
    nodes.push(first);
    await first.start();
    for (const name of ['b', 'c', 'd']) {
      const node = new DhtNode({ host: '::1', port: 0, dataDir: join(root, name), bootstrap: [`[::1]:${first.address.port}`] });
      nodes.push(node);
      await node.start();
    }
    const { key, replicas } = await nodes[1]!.put(new TextEncoder().encode('over IPv6'));
    expect(replicas.length).toBe(3);
    expect(replicas.every((c) => c.host === '::1')).toBe(true);
    const got = await nodes[3]!.get(key);
    expect(new TextDecoder().decode(got.value)).toBe('over IPv6');
    // Node 2 learns of node 3 when node 3 contacts it: admission (ping, record check) is async.
    const deadline = Date.now() + 10_000;
    while (nodes[2]!.stats().routingTableSize < 3 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(nodes[2]!.stats().routingTableSize).toBe(3);
  });
});
