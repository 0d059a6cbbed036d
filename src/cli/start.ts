/**
 * `zhtp-dht start`: runs a node and its HTTP API until SIGINT or SIGTERM, then stops the API
 * first (no request reaches a stopping node) and the node second. Settings come from the
 * command line, the environment and a config file (config.ts); logs go to stderr as text or
 * JSON lines, rate-limited per source so a flood cannot fill the disk.
 */
import { join } from 'node:path';
import { ApiServer, TOKEN_FILE } from '../api/index.js';
import { idToHex } from '../id/index.js';
import { DhtNode, type NodeEvent } from '../node/index.js';
import {
  formatAddress, LOG_LINES_PER_WINDOW, LOG_WINDOW, leveledLogger, type Logger, RateLimitedLog, StreamLogger, systemClock,
} from '../util/index.js';
import { parse, UsageError } from './args.js';
import { envOf, type Io, untilSignal } from './commands.js';
import { resolveSettings, startOptions } from './config.js';
import { CommandError, EXIT } from './errors.js';
import { settingEntries, type StartSettings } from './settings.js';
import { packageVersion } from './version.js';

/** The logger of a running node: level filter, then per-source limit, then the formatted stream. */
export function cliLogger(s: Pick<StartSettings, 'logLevel' | 'logFormat'>, sink: { write(text: string): unknown }): { logger: Logger; limiter: RateLimitedLog } {
  const limiter = new RateLimitedLog(new StreamLogger(sink, s.logFormat, systemClock), systemClock, { linesPerWindow: LOG_LINES_PER_WINDOW });
  return { logger: leveledLogger(s.logLevel, limiter), limiter };
}

/** `zhtp-dht start [options]`; returns 0 after a clean stop. */
export async function start(argv: string[], io: Io): Promise<number> {
  const { values } = parse(argv, startOptions());
  // --verbose predates --log-level and still means debug, unless a level is named too.
  if (values.verbose === true && values['log-level'] === undefined) values['log-level'] = 'debug';
  const { settings: s, configFile, origins } = resolveSettings({ argv: values, env: envOf(io) });
  if (s.data === null) throw new UsageError('--data DIR is required (or ZHTP_DATA, or `data = DIR` in a config file)');
  const { logger, limiter } = cliLogger(s, io.err);
  const flushing = systemClock.setInterval(() => limiter.flush(), LOG_WINDOW);
  try {
    if (configFile !== null) logger.log('info', `settings from ${configFile}`, 'cli');
    const from = settingEntries().map(([key, setting]) => `${setting.name} from ${origins[key]}`);
    logger.log('debug', `settings: ${from.join(', ')}`, 'cli');
    return await run(s, s.data, io, logger);
  } finally {
    flushing.cancel();
    limiter.flush(true);
  }
}

async function run(s: StartSettings, dataDir: string, io: Io, logger: Logger): Promise<number> {
  const node = new DhtNode({
    host: s.host, port: s.port, dataDir, bootstrap: s.bootstrap, storageCap: s.storageCap,
    replicationFactor: s.replicationFactor, bandwidthClass: s.bandwidthClass, contracts: !s.noContracts, logger,
  });
  await node.start();
  const offEvents = node.events.on((e) => logEvent(logger, e));
  let api: ApiServer | null = null;
  try {
    // Nothing is announced until both are up: a taken API port must not follow a "listening" line.
    if (!s.noApi) api = await startApi(node, s.apiPort, logger);
    io.out.write(`node ${idToHex(node.id)} listening on ${formatAddress(node.address)}\n`);
    io.out.write(`routing table: ${node.stats().routingTableSize} contacts\n`);
    logger.log('info', `node ${idToHex(node.id)} started on ${formatAddress(node.address)}`, 'cli');
    if (api !== null) {
      io.out.write(`api ${api.url} (token in ${join(dataDir, TOKEN_FILE)})\n`);
      logger.log('info', `api listening on ${api.url}`, 'cli');
    }
    const sig = await untilSignal();
    io.out.write(`${sig}: stopping\n`);
    logger.log('info', `${sig}: stopping`, 'cli');
  } finally {
    offEvents();
    await api?.stop();
    await node.stop();
  }
  return EXIT.ok;
}

/** Starts the API; a taken port gets a message that says what to do. */
async function startApi(node: DhtNode, port: number, logger: Logger): Promise<ApiServer> {
  const api = new ApiServer({ node, port, version: packageVersion(), logger });
  try {
    await api.start();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new CommandError(EXIT.failed, `API port ${port} is in use (another node?): choose one with --api-port, or run with --no-api`);
    throw err;
  }
  return api;
}

/** Node events as debug lines (failed operations as info): what an operator tails to see activity. */
function logEvent(logger: Logger, e: NodeEvent): void {
  switch (e.type) {
    case 'peer':
      logger.log('debug', `peer ${e.change} ${e.id.slice(0, 16)} ${e.address}${e.reason === undefined ? '' : ` (${e.reason})`}`, 'routing');
      return;
    case 'put':
    case 'get':
      if (e.ok) logger.log('debug', `${e.type} ${e.key ?? '-'} ${e.bytes} B in ${e.ms} ms`, 'ops');
      else logger.log('info', `${e.type} ${e.key ?? '-'} failed after ${e.ms} ms: ${e.error ?? 'unknown error'}`, 'ops');
      return;
    case 'lookup':
      return; // many per second on a busy node; /metrics has their latency
  }
}
