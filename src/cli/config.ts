/**
 * The config file of `zhtp-dht start` and the order in which settings are looked up: command
 * line, then environment (ZHTP_*), then config file, then default. The file is `name = value`
 * lines with `#` comments: an operator can annotate it, and it parses in a few lines here
 * without a dependency. Every mistake is a UsageError naming where the bad value came from.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Options } from './args.js';
import { UsageError } from './errors.js';
import { BadValue, envName, type SettingTable, settingEntries, SETTINGS, type StartSettings } from './settings.js';

/** The file `init` writes into a data folder, and `start` reads from it when no other is named. */
export const CONFIG_FILE = 'zhtp-dht.conf';

/** The environment, as a map (process.env in the binary, a plain object in tests). */
export type Env = Readonly<Record<string, string | undefined>>;

/** A `name = value` line of a config file. */
export interface ConfigEntry { value: string; line: number }

/** The entries of a config file; unknown names, repeated names and malformed lines are refused. */
export function parseConfig(text: string, file: string): Map<string, ConfigEntry> {
  const known = new Set(settingEntries().map(([, s]) => s.name));
  const entries = new Map<string, ConfigEntry>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = i + 1;
    const content = stripComment(raw).trim();
    if (content === '') return;
    const m = /^([A-Za-z][\w-]*)\s*=(.*)$/.exec(content);
    if (m === null) throw new UsageError(`${file}:${line}: expected 'name = value', not '${content}'`);
    const name = m[1]!.toLowerCase();
    if (!known.has(name)) throw new UsageError(`${file}:${line}: unknown setting '${name}' (known: ${[...known].join(', ')})`);
    const earlier = entries.get(name);
    if (earlier !== undefined) throw new UsageError(`${file}:${line}: '${name}' was already set on line ${earlier.line}`);
    entries.set(name, { value: m[2]!.trim(), line });
  });
  return entries;
}

/** The line without its comment: `#` at the start or after a space (so `a#b` stays a value). */
function stripComment(line: string): string {
  const m = /(^|\s)#/.exec(line);
  return m === null ? line : line.slice(0, m.index);
}

/** The commented config file `init` writes: every setting with its default, commented out. */
export function renderConfig(data: string | null): string {
  const lines = [
    '# zhtp-dht configuration (read by `zhtp-dht start`).',
    '#',
    '# One `name = value` per line; `#` starts a comment at the start of a line or after a space.',
    '# Names are the long options of `zhtp-dht start`. The environment variable ZHTP_<NAME>',
    "# (upper case, '-' as '_') overrides a value set here, and the command line overrides both.",
    '# An empty value counts as not set. Relative paths are relative to this file\'s folder.',
    "# Each setting below shows its default; remove the '#' in front of it to change it.",
  ];
  for (const [key, s] of settingEntries()) {
    lines.push('', `# ${capitalize(s.help)}.`, `# Environment: ${envName(s.name)}`);
    if (key === 'data' && data !== null) lines.push(`${s.name} = ${data}`);
    else lines.push(`# ${s.name} =${s.shown === '' ? '' : ` ${s.shown}`}`);
  }
  return `${lines.join('\n')}\n`;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** The options `start` accepts on its command line: every setting, plus --config and --verbose. */
export function startOptions(table: SettingTable = SETTINGS): Options {
  const options: Options = { config: { type: 'string' }, verbose: { type: 'boolean' } };
  for (const s of Object.values(table)) {
    options[s.name] = s.name === 'bootstrap' ? { type: 'string', multiple: true } : { type: s.arg === '' ? 'boolean' : 'string' };
  }
  return options;
}

/** What resolveSettings() reads. */
export interface SettingInputs {
  /** The parsed command line, by option name. */
  argv: Record<string, unknown>;
  env: Env;
  /** A file's text, or null when it does not exist. Default: read from disk. */
  readText?: (file: string) => string | null;
}

/** Settings with where each came from. */
export interface ResolvedSettings {
  settings: StartSettings;
  /** The config file that was read, or null. */
  configFile: string | null;
  /** Per setting: '--port', 'ZHTP_PORT', '/path/zhtp-dht.conf:3' or 'default'. */
  origins: Record<keyof StartSettings, string>;
}

/** Resolves every setting: command line > environment > config file > default. */
export function resolveSettings(inputs: SettingInputs): ResolvedSettings {
  const { argv, env } = inputs;
  const config = loadConfig(argv, env, inputs.readText ?? readText);
  const fromFile = config === null ? new Map<string, ConfigEntry>() : parseConfig(config.text, config.file);
  const settings: Record<string, unknown> = {};
  const origins: Record<string, string> = {};
  for (const [key, s] of settingEntries()) {
    const found = lookUp(s.name, argv, env, fromFile, config?.file ?? '');
    if (found === null) {
      settings[key] = s.fallback;
      origins[key] = 'default';
      continue;
    }
    try {
      settings[key] = s.parse(found.text);
    } catch (err) {
      if (err instanceof BadValue) throw new UsageError(`${found.where} ${err.message}`);
      throw err;
    }
    origins[key] = found.origin;
    // A path in the file means the same wherever start is run from.
    if (key === 'data' && found.inFile && config !== null) settings.data = resolve(dirname(config.file), found.text);
  }
  return { settings: settings as unknown as StartSettings, configFile: config?.file ?? null, origins: origins as ResolvedSettings['origins'] };
}

interface Found { text: string; where: string; origin: string; inFile: boolean }

/** The first source that sets `name`; empty environment and file values count as unset. */
function lookUp(name: string, argv: Record<string, unknown>, env: Env, fromFile: Map<string, ConfigEntry>, file: string): Found | null {
  const cli = argv[name];
  if (cli !== undefined) {
    const text = Array.isArray(cli) ? cli.join(',') : String(cli);
    return { text, where: `--${name}`, origin: `--${name}`, inFile: false };
  }
  const variable = envName(name);
  const fromEnv = env[variable];
  if (fromEnv !== undefined && fromEnv.trim() !== '') return { text: fromEnv.trim(), where: variable, origin: variable, inFile: false };
  const entry = fromFile.get(name);
  if (entry !== undefined && entry.value !== '') return { text: entry.value, where: `${file}:${entry.line}: ${name}`, origin: `${file}:${entry.line}`, inFile: true };
  return null;
}

/**
 * The config file: --config, else ZHTP_CONFIG (either must exist), else `<data>/zhtp-dht.conf`
 * when the data folder is named on the command line or in ZHTP_DATA and the file is there.
 */
function loadConfig(argv: Record<string, unknown>, env: Env, read: (file: string) => string | null): { file: string; text: string } | null {
  const named = typeof argv.config === 'string' ? { file: argv.config, by: '--config' } : nonEmpty(env.ZHTP_CONFIG, 'ZHTP_CONFIG');
  if (named !== null) {
    const file = resolve(named.file);
    const text = read(file);
    if (text === null) throw new UsageError(`${named.by} ${named.file}: no such file (zhtp-dht init writes one)`);
    return { file, text };
  }
  const data = typeof argv.data === 'string' ? argv.data : env.ZHTP_DATA?.trim();
  if (data === undefined || data === '') return null;
  const file = resolve(join(data, CONFIG_FILE));
  const text = read(file);
  return text === null ? null : { file, text };
}

function nonEmpty(value: string | undefined, by: string): { file: string; by: string } | null {
  return value === undefined || value.trim() === '' ? null : { file: value.trim(), by };
}

/** A file's text, or null when it does not exist (other failures, such as EACCES, are thrown). */
export function readText(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}
