/**
 * A minimal leveled logger with per-key rate limiting, so a flood of bad packets from one source
 * writes at most one line per window (T01: at most 1 line per source per 10 s).
 */
import type { Clock } from './clock.js';
import { second } from './constants.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Where log lines go. The default writes nothing: a library must not print unasked. */
export interface Logger {
  log(level: LogLevel, message: string): void;
}

export const silentLogger: Logger = { log: () => {} };

/** A logger that writes `level message` lines to stderr at or above `min`. */
export function stderrLogger(min: LogLevel = 'info'): Logger {
  const order: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };
  return {
    log(level, message) {
      if (order[level] >= order[min]) process.stderr.write(`${level} ${message}\n`);
    },
  };
}

/** Emits at most one line per key per window; counts what it suppressed. */
export class RateLimitedLog {
  readonly #last = new Map<string, number>();
  suppressed = 0;

  constructor(
    private readonly logger: Logger,
    private readonly clock: Clock,
    private readonly windowMs = 10 * second,
    private readonly maxKeys = 10_000,
  ) {}

  warn(key: string, message: string): void {
    const now = this.clock.now();
    const last = this.#last.get(key);
    if (last !== undefined && now - last < this.windowMs) {
      this.suppressed++;
      return;
    }
    if (this.#last.size >= this.maxKeys) this.#last.clear();
    this.#last.set(key, now);
    this.logger.log('warn', message);
  }
}
