/**
 * Leveled logging with per-source rate limiting, so a flood of bad packets from one source
 * writes at most a few lines per window and then one line counting what it held back (T01).
 * Lines are text (`time LEVEL [source] message`) or JSON lines (`{"time","level","msg","source"}`)
 * for log collectors. The Logger interface stays one method, so any component can take one.
 */
import { type Clock, systemClock } from './clock.js';
import { second } from './constants.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
/** Every level, least severe first. */
export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

export type LogFormat = 'json' | 'text';
export const LOG_FORMATS: readonly LogFormat[] = ['json', 'text'];

/** Lines one source may write per window before the rest are counted instead. */
export const LOG_LINES_PER_WINDOW = 20;
/** The rate-limit window. */
export const LOG_WINDOW = 10 * second;

/**
 * Where log lines go. The default writes nothing: a library must not print unasked.
 * `source` names what the line is about (a component such as 'api', or a peer's address); when
 * absent, sinks take it from the message (see sourceOf).
 */
export interface Logger {
  log(level: LogLevel, message: string, source?: string): void;
}

export const silentLogger: Logger = { log: () => {} };

const SEVERITY: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** True when `level` is at least as severe as `min`. */
export function atLeast(level: LogLevel, min: LogLevel): boolean {
  return SEVERITY[level] >= SEVERITY[min];
}

/**
 * The source of a line logged without one: its first word when the message starts like
 * `api: …` or `udp 127.0.0.1:33442: …` (the prefixes this code base uses), else 'node'.
 */
export function sourceOf(message: string): string {
  const m = /^([a-z][a-z0-9-]*)[: ]/.exec(message);
  return m?.[1] ?? 'node';
}

/** A logger that writes `level message` lines to stderr at or above `min`. */
export function stderrLogger(min: LogLevel = 'info'): Logger {
  return {
    log(level, message) {
      if (atLeast(level, min)) process.stderr.write(`${level} ${message}\n`);
    },
  };
}

/** Passes on lines at or above `min` only; dropped lines cost nothing downstream (no rate budget). */
export function leveledLogger(min: LogLevel, inner: Logger): Logger {
  return {
    log(level, message, source) {
      if (atLeast(level, min)) inner.log(level, message, source);
    },
  };
}

/** Anything with write(string): a stream, or a test's collector. */
export interface LineSink {
  write(text: string): unknown;
}

/** One formatted line (with its newline). */
export function formatLogLine(format: LogFormat, time: number, level: LogLevel, message: string, source: string): string {
  const iso = new Date(time).toISOString();
  if (format === 'json') return `${JSON.stringify({ time: iso, level, msg: message, source })}\n`;
  return `${iso} ${level.toUpperCase().padEnd(5)} [${source}] ${message}\n`;
}

/** Writes every line it gets, formatted, to `sink` (filtering and limits are other loggers' job). */
export class StreamLogger implements Logger {
  constructor(
    private readonly sink: LineSink,
    private readonly format: LogFormat = 'text',
    private readonly clock: Clock = systemClock,
  ) {}

  log(level: LogLevel, message: string, source?: string): void {
    this.sink.write(formatLogLine(this.format, this.clock.now(), level, message, source ?? sourceOf(message)));
  }
}

/** Options of RateLimitedLog. */
export interface RateLimitInit {
  /** Window length, ms. Default 10 s. */
  windowMs?: number;
  /** Lines per source per window. Default 1 (what UDP drop warnings get). */
  linesPerWindow?: number;
  /** Sources tracked at once; past that the table is reset (memory bound under a spoofed flood). */
  maxSources?: number;
}

interface Window { start: number; lines: number; suppressed: number }

/**
 * Lets through at most `linesPerWindow` lines per source in each window and counts the rest.
 * When a source's window has ended with lines held back, one warn line reports the count: at the
 * source's next line, or at flush() (call it on a timer and before exit). That report is the
 * first line of the source's next window and uses its budget, so no source ever writes more than
 * `linesPerWindow` lines in a window: UDP's limit of one line per host per 10 s (T01) holds, the
 * host's first line naming the problem and one count per window following it.
 */
export class RateLimitedLog implements Logger {
  readonly #windows = new Map<string, Window>();
  readonly #windowMs: number;
  readonly #linesPerWindow: number;
  readonly #maxSources: number;
  /** Lines held back since creation, all sources together. */
  suppressed = 0;

  constructor(
    private readonly logger: Logger,
    private readonly clock: Clock,
    init: RateLimitInit = {},
  ) {
    this.#windowMs = init.windowMs ?? LOG_WINDOW;
    this.#linesPerWindow = init.linesPerWindow ?? 1;
    this.#maxSources = init.maxSources ?? 10_000;
    if (!(this.#windowMs > 0)) throw new RangeError('windowMs must be a positive number');
    if (!Number.isInteger(this.#linesPerWindow) || this.#linesPerWindow < 1) throw new RangeError('linesPerWindow must be a positive integer');
  }

  /** A warning about `key` (a peer, a failure kind): the key is the line's source. */
  warn(key: string, message: string): void {
    this.log('warn', message, key);
  }

  log(level: LogLevel, message: string, source: string = sourceOf(message)): void {
    const w = this.#current(source, this.clock.now());
    if (w.lines >= this.#linesPerWindow) {
      w.suppressed++;
      this.suppressed++;
      return;
    }
    w.lines++;
    this.logger.log(level, message, source);
  }

  /** Reports the counts of windows that have ended (of every window when `all`, e.g. at exit) and forgets idle sources. */
  flush(all = false): void {
    const now = this.clock.now();
    for (const [source, w] of this.#windows) {
      if (!all && now - w.start < this.#windowMs) continue;
      if (w.suppressed === 0) this.#windows.delete(source);
      else this.#roll(source, w, now);
    }
  }

  /** The source's open window; an ended one is rolled over (and reported) first. */
  #current(source: string, now: number): Window {
    const w = this.#windows.get(source);
    if (w !== undefined && now - w.start < this.#windowMs) return w;
    if (w !== undefined) return this.#roll(source, w, now);
    if (this.#windows.size >= this.#maxSources) this.#reset();
    const fresh = { start: now, lines: 0, suppressed: 0 };
    this.#windows.set(source, fresh);
    return fresh;
  }

  /** Opens the source's next window, its first line the count of what `ended` held back. */
  #roll(source: string, ended: Window, now: number): Window {
    const next = { start: now, lines: 0, suppressed: 0 };
    this.#windows.set(source, next);
    if (ended.suppressed > 0) {
      next.lines++;
      const seconds = Math.round(this.#windowMs / second);
      this.logger.log('warn', `${ended.suppressed} more line(s) from this source suppressed (limit ${this.#linesPerWindow} per ${seconds} s)`, source);
    }
    return next;
  }

  /** Too many sources at once: one summary line instead of one per source, then a fresh table. */
  #reset(): void {
    let lines = 0;
    for (const w of this.#windows.values()) lines += w.suppressed;
    if (lines > 0) this.logger.log('warn', `${lines} line(s) suppressed from ${this.#windows.size} sources (source table full)`, 'log');
    this.#windows.clear();
  }
}
