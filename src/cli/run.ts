/**
 * The zhtp-dht command dispatcher. Exit codes (errors.ts): 0 done, 1 the operation failed,
 * 2 usage error, 3 the API cannot be reached, 4 the API refused the token. A failure prints
 * one line on stderr: `error: …`, or `zhtp-dht COMMAND: …` for a usage error.
 */
import { DhtError } from '../util/index.js';
import { type Io, testnet } from './commands.js';
import { demo } from './demo.js';
import { CommandError, EXIT, UsageError } from './errors.js';
import { init } from './init.js';
import { health, peers, routing, stats } from './remote.js';
import { start } from './start.js';
import { get, put } from './transfer.js';
import { commandHelp, fullHelp } from './usage.js';
import { packageVersion } from './version.js';
import { zk } from './zk.js';
import { contract } from './contract.js';

type Command = (argv: string[], io: Io) => Promise<number>;

const COMMANDS: Record<string, Command> = { start, init, stats, peers, routing, health, put, get, zk, contract, testnet, demo };

/** Runs the CLI with `argv` (without node and script) and returns the exit code. */
export async function main(argv: string[], io: Io = { out: process.stdout, err: process.stderr }): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    io.err.write(fullHelp());
    return EXIT.usage;
  }
  if (name === '--version' || name === '-v') {
    io.out.write(`${packageVersion()}\n`);
    return EXIT.ok;
  }
  if (name === 'help' || name === '--help' || name === '-h') return help(rest[0], io);
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (command === undefined) {
    io.err.write(`zhtp-dht: unknown command '${name}' (try zhtp-dht help)\n`);
    return EXIT.usage;
  }
  if (rest.includes('--help') || rest.includes('-h')) return help(name, io);
  try {
    return await command(rest, io);
  } catch (err) {
    return report(name, err, io);
  }
}

function help(name: string | undefined, io: Io): number {
  if (name === undefined) {
    io.out.write(fullHelp());
    return EXIT.ok;
  }
  const text = commandHelp(name);
  if (text === null) {
    io.err.write(`zhtp-dht: no help for '${name}': it is not a command (try zhtp-dht help)\n`);
    return EXIT.usage;
  }
  io.out.write(text);
  return EXIT.ok;
}

/** Prints the one line of a failure and returns its exit code. */
function report(name: string, err: unknown, io: Io): number {
  if (err instanceof UsageError) {
    io.err.write(`zhtp-dht ${name}: ${err.message} (see zhtp-dht help ${name})\n`);
    return EXIT.usage;
  }
  if (err instanceof CommandError) {
    io.err.write(`error: ${err.message}\n`);
    return err.exitCode;
  }
  const message = err instanceof DhtError ? `${err.code}: ${err.message}` : (err as Error)?.message ?? String(err);
  io.err.write(`error: ${message}\n`);
  return EXIT.failed;
}
