/**
 * `zhtp-dht init`: writes a commented config file listing every setting of `start` with its
 * default, so an operator edits a file instead of remembering options. Never overwrites one
 * unless told to (--force): the file may hold hand-made changes.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parse, UsageError } from './args.js';
import { envOf, type Io } from './commands.js';
import { CONFIG_FILE, renderConfig } from './config.js';
import { CommandError, EXIT } from './errors.js';

/** `zhtp-dht init [--data DIR] [--config FILE] [--force]`. */
export async function init(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, { data: { type: 'string' }, config: { type: 'string' }, force: { type: 'boolean' } });
  if (positionals.length > 0) throw new UsageError('usage: zhtp-dht init [--data DIR] [--config FILE] [--force]');
  const env = envOf(io);
  const data = typeof values.data === 'string' ? values.data : nonEmpty(env.ZHTP_DATA);
  const named = typeof values.config === 'string' ? values.config : nonEmpty(env.ZHTP_CONFIG);
  if (named === null && data === null) throw new UsageError('say where to write: --data DIR (writes DIR/zhtp-dht.conf) or --config FILE');
  const file = resolve(named ?? join(data!, CONFIG_FILE));
  mkdirSync(dirname(file), { recursive: true });
  try {
    writeFileSync(file, renderConfig(data === null ? null : resolve(data)), { flag: values.force === true ? 'w' : 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new CommandError(EXIT.failed, `${file} exists; pass --force to overwrite it`);
    throw err;
  }
  io.out.write(`wrote ${file}\n`);
  const inData = named === null;
  io.out.write(`edit it, then run: zhtp-dht start ${inData ? `--data ${resolve(data!)}` : `--config ${file}`}\n`);
  return EXIT.ok;
}

function nonEmpty(value: string | undefined): string | null {
  const v = value?.trim();
  return v === undefined || v === '' ? null : v;
}
