/**
 * The zhtp-dht command dispatcher. Exit codes: 0 success, 1 operational failure (not found, no peers),
 * 2 usage error; failures print one line on stderr.
 */
import { DhtError } from '../util/index.js';
import { UsageError } from './args.js';
import { get, type Io, put, start, testnet } from './commands.js';
import { demo } from './demo.js';

const USAGE = `usage: zhtp-dht <command> [options]

commands:
  start --data DIR [--port P] [--host H] [--bootstrap HOST:PORT ...]   run a node until SIGINT/SIGTERM
  put FILE --bootstrap HOST:PORT                                        store a file, print its key
  get KEY --bootstrap HOST:PORT [-o FILE]                               fetch and verify content
  testnet [--nodes N] [--base-port P]                                   run N nodes on 127.0.0.1
  demo                                                                  20-node demo, then exit
`;

const COMMANDS: Record<string, (argv: string[], io: Io) => Promise<number>> = { start, put, get, testnet, demo };

/** Runs the CLI with `argv` (without node and script) and returns the exit code. */
export async function main(argv: string[], io: Io = { out: process.stdout, err: process.stderr }): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.out.write(USAGE);
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (command === undefined) {
    io.err.write(`zhtp-dht: unknown command '${name}' (try --help)\n`);
    return 2;
  }
  try {
    return await command(rest, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err.write(`zhtp-dht ${name}: ${err.message}\n`);
      return 2;
    }
    const message = err instanceof DhtError ? `${err.code}: ${err.message}` : (err as Error).message;
    io.err.write(`zhtp-dht ${name}: ${message}\n`);
    return 1;
  }
}
