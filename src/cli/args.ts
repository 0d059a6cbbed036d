/** Argument parsing shared by the commands: a usage error type and typed option readers. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { type Address, parseAddress } from '../util/index.js';
import { UsageError } from './errors.js';

export { UsageError };

export type Options = NonNullable<ParseArgsConfig['options']>;

/** Parses `argv` strictly; unknown options and missing option values are usage errors. */
export function parse(argv: string[], options: Options): { values: Record<string, unknown>; positionals: string[] } {
  try {
    const r = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
    return { values: r.values as Record<string, unknown>, positionals: r.positionals };
  } catch (err) {
    // Node's first sentence names the problem; the rest is advice about '--' that rarely applies.
    throw new UsageError((err as Error).message.split('. ')[0]!);
  }
}

/** An integer option in [min, max], or the default. */
export function intOption(values: Record<string, unknown>, name: string, fallback: number, min: number, max: number): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be an integer in ${min}..${max}`);
  return n;
}

/** Bootstrap addresses from repeated `--bootstrap HOST:PORT` options. */
export function bootstrapOption(values: Record<string, unknown>, required: boolean): Address[] {
  const raw = (values.bootstrap as string[] | undefined) ?? [];
  if (required && raw.length === 0) throw new UsageError('--bootstrap HOST:PORT is required');
  return raw.map((text) => {
    const a = parseAddress(text);
    if (a === null) throw new UsageError(`--bootstrap '${text}' is not HOST:PORT with an IP address`);
    return a;
  });
}
