/**
 * The zhtp-dht commands: start a node, put and get content through an ephemeral client node,
 * run a loopback testnet. Each returns an exit code; output goes to the given streams.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { type Key, idFromHex, idToHex } from '../id/index.js';
import { createTestnet, DhtNode } from '../node/index.js';
import { DHT_PORT, formatAddress, MAX_VALUE_BYTES, stderrLogger } from '../util/index.js';
import { bootstrapOption, intOption, parse, UsageError } from './args.js';

/** Where a command writes. */
export interface Io {
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
}

/** Resolves at the first SIGINT or SIGTERM. */
function untilSignal(): Promise<string> {
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

/** `zhtp-dht start --port P --data DIR [--host H] [--bootstrap HOST:PORT ...]` */
export async function start(argv: string[], io: Io): Promise<number> {
  const { values } = parse(argv, {
    port: { type: 'string' }, data: { type: 'string' }, host: { type: 'string' },
    bootstrap: { type: 'string', multiple: true }, verbose: { type: 'boolean' },
  });
  if (typeof values.data !== 'string') throw new UsageError('--data DIR is required');
  const node = new DhtNode({
    host: (values.host as string | undefined) ?? '0.0.0.0',
    port: intOption(values, 'port', DHT_PORT, 0, 65535),
    dataDir: values.data,
    bootstrap: bootstrapOption(values, false),
    logger: stderrLogger(values.verbose === true ? 'debug' : 'warn'),
  });
  await node.start();
  io.out.write(`node ${idToHex(node.id)} listening on ${formatAddress(node.address)}\n`);
  io.out.write(`routing table: ${node.stats().routingTableSize} contacts\n`);
  const sig = await untilSignal();
  io.err.write(`${sig}: stopping\n`);
  await node.stop();
  return 0;
}

/** Runs `fn` with an ephemeral client node joined through `--bootstrap`. */
async function withClient<T>(values: Record<string, unknown>, fn: (node: DhtNode) => Promise<T>): Promise<T> {
  const node = new DhtNode({ ephemeral: true, host: '0.0.0.0', port: 0, bootstrap: bootstrapOption(values, true) });
  await node.start();
  try {
    if (node.stats().routingTableSize === 0) throw new Error('no bootstrap peer answered');
    return await fn(node);
  } finally {
    await node.stop();
  }
}

/** `zhtp-dht put FILE --bootstrap HOST:PORT` prints the key in hex. */
export async function put(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, { bootstrap: { type: 'string', multiple: true } });
  if (positionals.length !== 1) throw new UsageError('usage: zhtp-dht put FILE --bootstrap HOST:PORT');
  const content = readFileSync(positionals[0]!);
  if (content.byteLength > MAX_VALUE_BYTES) {
    io.err.write(`error: ${positionals[0]} is ${content.byteLength} bytes; a single value holds at most ${MAX_VALUE_BYTES}\n`);
    return 1;
  }
  const result = await withClient(values, (node) => node.put(content));
  io.out.write(`${idToHex(result.key)}\n`);
  io.err.write(`stored on ${result.replicas.length} node(s) in ${result.durationMs} ms\n`);
  return 0;
}

/** `zhtp-dht get KEY --bootstrap HOST:PORT [-o FILE]` writes the verified content. */
export async function get(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, { bootstrap: { type: 'string', multiple: true }, output: { type: 'string', short: 'o' } });
  if (positionals.length !== 1) throw new UsageError('usage: zhtp-dht get KEY --bootstrap HOST:PORT [-o FILE]');
  const key = idFromHex(positionals[0]!) as Key | null;
  if (key === null) throw new UsageError('KEY must be 64 hex digits');
  const result = await withClient(values, (node) => node.get(key));
  if (typeof values.output === 'string') writeFileSync(values.output, result.value);
  else io.out.write(result.value);
  io.err.write(`verified ${result.value.byteLength} bytes from ${formatAddress(result.from)} in ${result.hops} hop(s)\n`);
  return 0;
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
