/**
 * What every command shares: the streams and environment it runs with, waiting for a signal,
 * and `testnet`, which runs a loopback network until interrupted.
 */
import { idToHex } from '../id/index.js';
import { createTestnet } from '../node/index.js';
import { formatAddress } from '../util/index.js';
import { intOption, parse } from './args.js';
import type { Env } from './config.js';

/** Where a command writes, and the environment it reads (ZHTP_* variables). */
export interface Io {
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
  /** Default process.env; tests pass their own so the machine's variables do not leak in. */
  env?: Env;
}

/** The environment of `io`. */
export function envOf(io: Io): Env {
  return io.env ?? process.env;
}

/** Resolves at the first SIGINT or SIGTERM (a second one then ends the process the default way). */
export function untilSignal(): Promise<string> {
  return new Promise((resolve) => {
    const on = (sig: string): void => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(sig);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}

/** `zhtp-dht testnet --nodes N [--base-port P]` runs N nodes on 127.0.0.1 until interrupted. */
export async function testnet(argv: string[], io: Io): Promise<number> {
  const { values } = parse(argv, { nodes: { type: 'string' }, 'base-port': { type: 'string' } });
  const n = intOption(values, 'nodes', 10, 1, 1000);
  const net = await createTestnet(n, { basePort: intOption(values, 'base-port', 0, 0, 65535) });
  for (const node of net.nodes) io.out.write(`${formatAddress(node.address)} ${idToHex(node.id)}\n`);
  io.out.write(`testnet of ${n} nodes up; bootstrap with --bootstrap ${formatAddress(net.bootstrap[0]!)}; Ctrl-C stops it\n`);
  await untilSignal();
  await net.destroy();
  return 0;
}
