/**
 * `npm run demo`: a 20-node loopback testnet, a few values stored from one node and fetched
 * from others, and a short report. Exits 0 when every value came back verified.
 */
import { idToHex } from '../id/index.js';
import { createTestnet } from '../node/index.js';
import { formatAddress } from '../util/index.js';
import type { Io } from './commands.js';

const SIZES = [1, 1024, 16 * 1024, 64 * 1024, 200 * 1024];

/** Runs the demo; returns the exit code. */
export async function demo(_argv: string[], io: Io): Promise<number> {
  const say = (line: string): void => void io.out.write(`${line}\n`);
  const t0 = performance.now();
  const net = await createTestnet(20);
  try {
    say(`started 20 nodes on 127.0.0.1 in ${Math.round(performance.now() - t0)} ms (bootstrap ${formatAddress(net.bootstrap[0]!)})`);
    const writer = net.nodes[0]!;
    say('');
    say('key               size      put ms  replicas  read by       hops  get ms  verified');
    let failures = 0;
    for (const [i, size] of SIZES.entries()) {
      const content = new Uint8Array(size).map((_, j) => (j * 31 + i * 7) & 0xff);
      const put = await writer.put(content);
      // Read from a node that does not hold a replica, so every get is a real lookup.
      const others = net.nodes.filter((n) => n !== writer && !n.holds(put.key));
      const reader = others[(i * 7) % others.length] ?? net.nodes[1]!;
      const got = await reader.get(put.key).catch(() => null);
      const ok = got !== null && Buffer.compare(Buffer.from(got.value), Buffer.from(content)) === 0;
      if (!ok) failures++;
      say([
        idToHex(put.key).slice(0, 16).padEnd(18), `${size} B`.padEnd(10), String(put.durationMs).padStart(6),
        String(put.replicas.length).padStart(10), `  node ${net.nodes.indexOf(reader)}`.padEnd(14),
        String(got?.hops ?? '-').padStart(4), String(got?.durationMs ?? '-').padStart(8), ok ? '  yes' : '  NO',
      ].join(''));
    }
    say('');
    say(`DhtStats of node 0: ${JSON.stringify(writer.stats(), null, 1).replace(/\n\s*/g, ' ')}`);
    say(failures === 0 ? `all ${SIZES.length} values found and verified` : `${failures} value(s) NOT found`);
    return failures === 0 ? 0 : 1;
  } finally {
    await net.destroy();
  }
}
