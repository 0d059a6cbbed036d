/**
 * Settings of `zhtp-dht start`: command line > environment > config file > default, values
 * checked with messages that name their source, the config file format, and `init`.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CONFIG_FILE, EXIT, parseConfig, renderConfig, resolveSettings, SETTINGS } from '../../src/cli/index.js';
import { startOptions } from '../../src/cli/config.js';
import { parse } from '../../src/cli/args.js';
import { cli } from './io.js';

const root = mkdtempSync(join(tmpdir(), 'zhtp-cli-config-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Resolves `start` settings from a command line, an environment and (in memory) config files. */
function settings(argv: string[], env: Record<string, string> = {}, files: Record<string, string> = {}): ReturnType<typeof resolveSettings> {
  const { values } = parse(argv, startOptions());
  return resolveSettings({ argv: values, env, readText: (file) => files[file] ?? null });
}

/** The message of the error `fn` throws. */
function failure(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected a failure');
}

describe('precedence', () => {
  const file = resolve('/etc/zhtp-dht.conf');
  const text = 'port = 1000\napi-port = 2000\nlog-level = error\nstorage-cap = 2GiB\nhost = 127.0.0.2\n';

  it('command line beats environment, which beats the config file, which beats the default', () => {
    const r = settings(['--config', file, '--port', '5000', '--data', '/srv/a'], { ZHTP_PORT: '3000', ZHTP_API_PORT: '4000', ZHTP_HOST: '::' }, { [file]: text });
    expect(r.settings).toMatchObject({ port: 5000, apiPort: 4000, host: '::', logLevel: 'error', storageCap: 2 * 1024 ** 3, replicationFactor: 3, data: '/srv/a' });
    expect(r.origins).toMatchObject({ port: '--port', apiPort: 'ZHTP_API_PORT', host: 'ZHTP_HOST', logLevel: `${file}:3`, storageCap: `${file}:4`, replicationFactor: 'default' });
    expect(r.configFile).toBe(file);
  });

  it('every setting has its default when nothing sets it', () => {
    const r = settings([]);
    for (const [key, s] of Object.entries(SETTINGS)) expect(r.settings[key as keyof typeof SETTINGS], key).toEqual(s.fallback);
    expect(r.configFile).toBeNull();
  });

  it('ZHTP_BOOTSTRAP is comma-separated; --bootstrap may repeat or hold a list', () => {
    expect(settings([], { ZHTP_BOOTSTRAP: '127.0.0.1:4001, [::1]:4002' }).settings.bootstrap).toEqual([{ host: '127.0.0.1', port: 4001 }, { host: '::1', port: 4002 }]);
    expect(settings(['--bootstrap', '10.0.0.1:1', '--bootstrap', '10.0.0.2:2,10.0.0.3:3']).settings.bootstrap).toHaveLength(3);
  });

  it('empty environment and file values count as unset', () => {
    const r = settings(['--config', file], { ZHTP_PORT: '', ZHTP_LOG_LEVEL: '  ' }, { [file]: 'port =\nlog-level = info\n' });
    expect(r.settings.port).toBe(SETTINGS.port.fallback);
    expect(r.settings.logLevel).toBe('info');
  });

  it('the config file is --config, else ZHTP_CONFIG, else <data>/zhtp-dht.conf when it exists', () => {
    const a = resolve('/a.conf');
    const b = resolve('/b.conf');
    const inData = resolve('/srv/n', CONFIG_FILE);
    const files = { [a]: 'port = 1', [b]: 'port = 2', [inData]: 'port = 3' };
    expect(settings(['--config', a, '--data', '/srv/n'], { ZHTP_CONFIG: b }, files).settings.port).toBe(1);
    expect(settings(['--data', '/srv/n'], { ZHTP_CONFIG: b }, files).settings.port).toBe(2);
    expect(settings(['--data', '/srv/n'], {}, files).settings.port).toBe(3);
    expect(settings([], { ZHTP_DATA: '/srv/n' }, files).settings.port).toBe(3);
    expect(settings(['--data', '/srv/other'], {}, files).configFile).toBeNull();
  });

  it('a relative data folder in the file is relative to the file', () => {
    const f = resolve('/etc/zhtp/node.conf');
    expect(settings(['--config', f], {}, { [f]: 'data = state' }).settings.data).toBe(resolve('/etc/zhtp/state'));
    expect(settings(['--data', 'state']).settings.data).toBe('state');
  });
});

describe('invalid values', () => {
  const file = resolve('/x.conf');
  const cases: Array<[string[], Record<string, string>, string, RegExp]> = [
    [['--port', 'x'], {}, '', /^--port must be an integer in 0\.\.65535, not 'x'$/],
    [['--api-port', '70000'], {}, '', /^--api-port must be an integer in 0\.\.65535/],
    [[], { ZHTP_LOG_LEVEL: 'loud' }, '', /^ZHTP_LOG_LEVEL must be one of debug, info, warn, error, not 'loud'$/],
    [[], { ZHTP_LOG_FORMAT: 'xml' }, '', /^ZHTP_LOG_FORMAT must be one of json, text/],
    [[], { ZHTP_HOST: 'example.com' }, '', /^ZHTP_HOST must be an IP address/],
    [[], { ZHTP_REPLICATION_FACTOR: '2' }, '', /^ZHTP_REPLICATION_FACTOR must be an integer in 3\.\.12/],
    [[], { ZHTP_NO_API: 'maybe' }, '', /^ZHTP_NO_API must be true or false/],
    [[], { ZHTP_BOOTSTRAP: 'host.example:1' }, '', /^ZHTP_BOOTSTRAP entry 'host\.example:1' is not HOST:PORT/],
    [[], { ZHTP_STORAGE_CAP: '10KiB' }, '', /^ZHTP_STORAGE_CAP must be at least 1MiB/],
    [['--config', file], {}, 'storage-cap = lots', /:1: storage-cap must be a size such as/],
    [['--config', file], {}, '# fine\nspeed = 3', /:2: unknown setting 'speed'/],
    [['--config', file], {}, 'port 3', /:1: expected 'name = value'/],
    [['--config', file], {}, 'port = 1\nport = 2', /:2: 'port' was already set on line 1/],
    [['--config', '/nowhere.conf'], {}, '', /^--config \/nowhere\.conf: no such file/],
    [[], { ZHTP_CONFIG: '/nowhere.conf' }, '', /^ZHTP_CONFIG \/nowhere\.conf: no such file/],
  ];
  for (const [argv, env, text, message] of cases) {
    it(`${[...argv, ...Object.entries(env).map(([k, v]) => `${k}=${v}`), text].join(' ').trim()} is refused: ${message.source}`, () => {
      expect(failure(() => settings(argv, env, { [file]: text }))).toMatch(message);
    });
  }

  it('start exits 2 on an invalid value, before starting anything', async () => {
    const data = join(root, 'never-started');
    for (const [args, env] of [[['--log-format', 'xml'], {}], [[], { ZHTP_API_PORT: '-1' }], [['--port'], {}], [['--storage-cap', '1'], {}]] as const) {
      const r = await cli(['start', '--data', data, ...args], { ...env });
      expect(r.code, args.join(' ')).toBe(EXIT.usage);
      expect(r.stderr).toMatch(/^zhtp-dht start: /);
    }
    const noData = await cli(['start', '--port', '1']);
    expect(noData.code).toBe(EXIT.usage);
    expect(noData.stderr).toContain('--data DIR is required');
  });
});

describe('the config file', () => {
  it('init writes every setting, commented out with its default, and the file parses back to the defaults', () => {
    const text = renderConfig(null);
    for (const s of Object.values(SETTINGS)) expect(text).toMatch(new RegExp(`^# ${s.name} =`, 'm'));
    expect(parseConfig(text, 'x').size).toBe(0);
    const uncommented = text.replace(/^# ([a-z-]+ =.*)$/gm, '$1');
    const file = resolve('/all.conf');
    const r = settings(['--config', file], {}, { [file]: uncommented });
    for (const [key, s] of Object.entries(SETTINGS)) expect(r.settings[key as keyof typeof SETTINGS], key).toEqual(s.fallback);
  });

  it('comments start a line or follow a space; a # inside a value stays', () => {
    const entries = parseConfig('# note\n  port = 7 # the port\ndata = /srv/a#1\n', 'f');
    expect(entries.get('port')).toEqual({ value: '7', line: 2 });
    expect(entries.get('data')?.value).toBe('/srv/a#1');
  });

  it('init writes DIR/zhtp-dht.conf that start then reads, and keeps an existing file unless --force', async () => {
    const data = join(root, 'node');
    const first = await cli(['init', '--data', data]);
    expect(first.code, first.stderr).toBe(EXIT.ok);
    const file = join(data, CONFIG_FILE);
    expect(first.stdout).toContain(file);
    expect(readFileSync(file, 'utf8')).toMatch(new RegExp(`^data = ${data}$`, 'm'));
    writeFileSync(file, `${readFileSync(file, 'utf8')}\nport = 4242\n`);
    const r = settings(['--data', data], {}, { [file]: readFileSync(file, 'utf8') });
    expect(r.settings.port).toBe(4242);

    const again = await cli(['init', '--data', data]);
    expect(again.code).toBe(EXIT.failed);
    expect(again.stderr).toMatch(/exists; pass --force/);
    expect(readFileSync(file, 'utf8')).toContain('port = 4242');
    expect((await cli(['init', '--data', data, '--force'])).code).toBe(EXIT.ok);
    expect(readFileSync(file, 'utf8')).not.toContain('port = 4242');
  });

  it('init --config FILE writes there; init with neither is a usage error', async () => {
    const file = join(root, 'etc', 'zhtp.conf');
    expect((await cli(['init', '--config', file])).code).toBe(EXIT.ok);
    expect(parseConfig(readFileSync(file, 'utf8'), file).size).toBe(0);
    expect((await cli(['init'])).code).toBe(EXIT.usage);
    expect((await cli(['init'], { ZHTP_CONFIG: join(root, 'env.conf') })).code).toBe(EXIT.ok);
  });
});
