import { afterEach, describe, expect, it } from 'vitest';
import { DhtNode } from '../../src/node/index.js';
import { createTestnet, type Testnet } from '../helpers/index.js';

describe('restart on the same data folder', () => {
  let net: Testnet | null = null;
  let revived: DhtNode | null = null;
  afterEach(async () => {
    await revived?.stop();
    await net?.destroy();
    revived = null;
    net = null;
  });

  it('a node stopped and started again still serves what it had, under the same id', async () => {
    net = await createTestnet(6);
    const value = new TextEncoder().encode('kept across a restart');
    const { key } = await net.nodes[0]!.put(value);
    const holders = net.nodes.filter((n) => n.holds(key));
    expect(holders.length).toBeGreaterThanOrEqual(3);
    const keeper = holders.find((n) => n !== net!.nodes[0])!;
    const reader = net.nodes.find((n) => !n.holds(key) && n !== net!.nodes[0]) ?? null;
    // Only the keeper will hold the value: stop every other holder.
    for (const h of holders) if (h !== keeper) await h.stop();

    const { id, address, options } = { id: keeper.id, address: keeper.address, options: keeper.options };
    await keeper.stop();
    const bootstrap = [reader ?? net.nodes.find((n) => n.running)!].map((n) => n.address);
    revived = new DhtNode({ host: '127.0.0.1', port: address.port, dataDir: options.dataDir!, bootstrap });
    await revived.start();
    expect(Buffer.from(revived.id)).toEqual(Buffer.from(id));
    expect(revived.holds(key)).toBe(true);

    const asker = reader ?? (await net.addNode());
    const got = await asker.get(key);
    expect(new TextDecoder().decode(got.value)).toBe('kept across a restart');
    expect(got.from.port).toBe(address.port);
  });
});
