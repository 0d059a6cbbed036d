/**
 * `put` and `get` with --bootstrap: a short-lived ephemeral client node joins the network, does
 * the one operation and leaves. No running node is needed; values are limited to one 256 KiB
 * value (the API path streams larger files).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { type Key, idFromHex, idToHex } from '../id/index.js';
import { DhtNode } from '../node/index.js';
import { formatAddress, MAX_VALUE_BYTES } from '../util/index.js';
import { bootstrapOption, parse, UsageError } from './args.js';
import type { Io } from './commands.js';
import { CommandError, EXIT } from './errors.js';

/** True when the command line asks for the ephemeral-node path. */
export function wantsBootstrap(argv: string[]): boolean {
  return argv.some((a) => a === '--bootstrap' || a.startsWith('--bootstrap='));
}

/** Runs `fn` with an ephemeral client node joined through `--bootstrap`. */
async function withClient<T>(values: Record<string, unknown>, fn: (node: DhtNode) => Promise<T>): Promise<T> {
  const node = new DhtNode({ ephemeral: true, host: '0.0.0.0', port: 0, bootstrap: bootstrapOption(values, true) });
  await node.start();
  try {
    if (node.stats().routingTableSize === 0) throw new CommandError(EXIT.failed, 'no bootstrap peer answered');
    return await fn(node);
  } finally {
    await node.stop();
  }
}

/** `zhtp-dht put FILE --bootstrap HOST:PORT` prints the key in hex. */
export async function putThroughPeers(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, { bootstrap: { type: 'string', multiple: true } });
  if (positionals.length !== 1) throw new UsageError('usage: zhtp-dht put FILE --bootstrap HOST:PORT');
  const content = readFileSync(positionals[0]!);
  if (content.byteLength > MAX_VALUE_BYTES) {
    throw new CommandError(EXIT.failed, `${positionals[0]} is ${content.byteLength} bytes; through --bootstrap a value holds at most ${MAX_VALUE_BYTES} (put through a running node's API streams larger files)`);
  }
  const result = await withClient(values, (node) => node.put(content));
  io.out.write(`${idToHex(result.key)}\n`);
  io.err.write(`stored on ${result.replicas.length} node(s) in ${result.durationMs} ms\n`);
  return EXIT.ok;
}

/** `zhtp-dht get KEY --bootstrap HOST:PORT [-o FILE]` writes the verified content. */
export async function getThroughPeers(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, { bootstrap: { type: 'string', multiple: true }, output: { type: 'string', short: 'o' } });
  if (positionals.length !== 1) throw new UsageError('usage: zhtp-dht get KEY --bootstrap HOST:PORT [-o FILE]');
  const key = idFromHex(positionals[0]!) as Key | null;
  if (key === null) throw new UsageError('KEY must be 64 hex digits');
  const result = await withClient(values, (node) => node.get(key));
  if (typeof values.output === 'string') writeFileSync(values.output, result.value);
  else io.out.write(result.value);
  io.err.write(`verified ${result.value.byteLength} bytes from ${formatAddress(result.from)} in ${result.hops} hop(s)\n`);
  return EXIT.ok;
}
