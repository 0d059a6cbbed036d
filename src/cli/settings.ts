/**
 * The settings of `zhtp-dht start`. One table gives each its name (the long option and the
 * config-file key), its environment variable, its default and its check, so that the help text,
 * the file `zhtp-dht init` writes and docs/cli.md cannot disagree.
 */
import { isIP } from 'node:net';
import {
  type Address, DEFAULT_STORAGE_CAP, DHT_PORT, DHT_REPLICATION_FACTOR, LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel,
  MAX_REPLICATION_FACTOR, MiB, MIN_REPLICATION_FACTOR, parseAddress,
} from '../util/index.js';
import { API_PORT } from '../api/index.js';

/** What `start` runs with, every default filled in. */
export interface StartSettings {
  data: string | null;
  host: string;
  port: number;
  bootstrap: Address[];
  apiPort: number;
  noApi: boolean;
  logLevel: LogLevel;
  logFormat: LogFormat;
  storageCap: number;
  replicationFactor: number;
  bandwidthClass: number;
  noContracts: boolean;
}

/** A value that fails its check; the message says what was expected ("must be …"). */
export class BadValue extends Error {
  override readonly name = 'BadValue';
}

/** One setting: how it is named, shown, defaulted and checked. */
export interface Setting<T> {
  /** Long option and config-file key, e.g. 'api-port' (environment: ZHTP_API_PORT). */
  readonly name: string;
  /** Placeholder in the help ('PORT'), or '' for a flag. */
  readonly arg: string;
  /** One line: what it does. */
  readonly help: string;
  readonly fallback: T;
  /** The default as written in a config file ('' when there is none). */
  readonly shown: string;
  /** The value of `text`, or BadValue. */
  parse(text: string): T;
}

export type SettingTable = { readonly [K in keyof StartSettings]: Setting<StartSettings[K]> };

/** The environment variable of a setting: ZHTP_ and the name in upper case, '-' as '_'. */
export function envName(name: string): string {
  return `ZHTP_${name.toUpperCase().replace(/-/g, '_')}`;
}

function integer(min: number, max: number): (text: string) => number {
  return (text) => {
    const n = /^-?\d+$/.test(text) ? Number(text) : Number.NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) throw new BadValue(`must be an integer in ${min}..${max}, not '${text}'`);
    return n;
  };
}

function choice<T extends string>(options: readonly T[]): (text: string) => T {
  return (text) => {
    const found = options.find((o) => o === text.toLowerCase());
    if (found === undefined) throw new BadValue(`must be one of ${options.join(', ')}, not '${text}'`);
    return found;
  };
}

function boolean(text: string): boolean {
  const t = text.toLowerCase();
  if (['true', 'yes', 'on', '1'].includes(t)) return true;
  if (['false', 'no', 'off', '0'].includes(t)) return false;
  throw new BadValue(`must be true or false, not '${text}'`);
}

function ipHost(text: string): string {
  if (isIP(text) === 0) throw new BadValue(`must be an IP address to bind (0.0.0.0, ::, 127.0.0.1…), not '${text}'`);
  return text;
}

function addresses(text: string): Address[] {
  return text.split(',').map((s) => s.trim()).filter((s) => s !== '').map((s) => {
    const a = parseAddress(s);
    if (a === null) throw new BadValue(`entry '${s}' is not HOST:PORT with an IP address ([v6]:PORT for IPv6)`);
    return a;
  });
}

const GiB = 1024 * MiB;
const UNITS: Record<string, number> = { b: 1, kib: 1024, mib: MiB, gib: GiB, tib: 1024 * GiB };

/** A byte count: plain bytes or a number with an IEC unit (512MiB, 1.5 GiB). */
export function parseBytes(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text);
  const unit = UNITS[(m?.[2] ?? '').toLowerCase() || 'b'];
  if (m === null || unit === undefined) throw new BadValue(`must be a size such as 1073741824, 512MiB or 1GiB, not '${text}'`);
  const bytes = Math.floor(Number(m[1]) * unit);
  if (bytes < MiB) throw new BadValue(`must be at least 1MiB, not '${text}'`);
  return bytes;
}

/** A folder path, taken as written (empty values never get here: they count as unset). */
function path(text: string): string {
  return text;
}

/** Every setting of `start`, in the order the help and the config file list them. */
export const SETTINGS: SettingTable = {
  data: { name: 'data', arg: 'DIR', help: 'folder of the store, the node identity and the API token; required', fallback: null, shown: '', parse: path },
  host: { name: 'host', arg: 'IP', help: 'address the DHT binds (:: for IPv6)', fallback: '0.0.0.0', shown: '0.0.0.0', parse: ipHost },
  port: { name: 'port', arg: 'PORT', help: 'UDP port of the DHT (0 picks a free one)', fallback: DHT_PORT, shown: String(DHT_PORT), parse: integer(0, 65535) },
  bootstrap: {
    name: 'bootstrap', arg: 'HOST:PORT', help: 'peers to join through: HOST:PORT, comma-separated', fallback: [], shown: '',
    parse: addresses,
  },
  apiPort: { name: 'api-port', arg: 'PORT', help: 'TCP port of the HTTP API on 127.0.0.1 and ::1 (0 picks a free one)', fallback: API_PORT, shown: String(API_PORT), parse: integer(0, 65535) },
  noApi: { name: 'no-api', arg: '', help: 'run without the HTTP API', fallback: false, shown: 'false', parse: boolean },
  logLevel: { name: 'log-level', arg: 'LEVEL', help: `least severe level logged: ${LOG_LEVELS.join(', ')}`, fallback: 'warn', shown: 'warn', parse: choice(LOG_LEVELS) },
  logFormat: { name: 'log-format', arg: 'FORMAT', help: 'log lines on stderr: text, or json (one object per line)', fallback: 'text', shown: 'text', parse: choice(LOG_FORMATS) },
  storageCap: { name: 'storage-cap', arg: 'SIZE', help: 'most bytes of values this node stores (512MiB, 1GiB…)', fallback: DEFAULT_STORAGE_CAP, shown: '1GiB', parse: parseBytes },
  replicationFactor: {
    name: 'replication-factor', arg: 'N', help: 'replicas of each value this node puts', fallback: DHT_REPLICATION_FACTOR,
    shown: String(DHT_REPLICATION_FACTOR), parse: integer(MIN_REPLICATION_FACTOR, MAX_REPLICATION_FACTOR),
  },
  bandwidthClass: { name: 'bandwidth-class', arg: 'N', help: 'bandwidth class advertised in the node record, 0..255', fallback: 1, shown: '1', parse: integer(0, 255) },
  noContracts: {
    name: 'no-contracts', arg: '', help: 'run no contract engine (contract deploy, create, call refused; find and info still work)', fallback: false,
    shown: 'false', parse: boolean,
  },
};

/** The table's entries with their keys, in order. */
export function settingEntries(): Array<[keyof StartSettings, Setting<unknown>]> {
  return Object.entries(SETTINGS) as Array<[keyof StartSettings, Setting<unknown>]>;
}

/** The settings' lines of `zhtp-dht help`: option, what it does, default and variable. */
export function settingsHelp(): string {
  return settingEntries().map(([, s]) => {
    const option = `--${s.name}${s.arg === '' ? '' : ` ${s.arg}`}`;
    const fallback = s.shown === '' ? '' : `default ${s.shown}, `;
    return `  ${option.padEnd(26)} ${s.help}\n  ${''.padEnd(26)} ${fallback}env ${envName(s.name)}\n`;
  }).join('');
}
