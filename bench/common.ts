/**
 * What `npm run bench:zk` shares between its parts: the report (a human table, or one JSON object
 * per figure with --json, as docs/benchmarks.md records them), rates with the CPU this process
 * used meanwhile, alternating rounds, percentiles and the per-phase bounds taken from the command
 * line. bench:crypto keeps its own copies of the same helpers (written first).
 */
import { performance } from 'node:perf_hooks';

export type Extra = Record<string, string | number>;
interface Figure { figure: string; value: number | null; unit: string; extra: Extra }

/** Figures for --json and lines for the table, in the order they were measured. */
export class Report {
  readonly figures: Figure[] = [];
  readonly rows: string[] = [];
  constructor(readonly bench: string, readonly json: boolean) {}

  add(figure: string, value: number | null, unit: string, extra: Extra = {}): void {
    this.figures.push({ figure, value: value === null || !Number.isFinite(value) ? null : value, unit, extra });
  }

  line(text = ''): void {
    this.rows.push(text);
  }

  print(): void {
    if (!this.json) return void console.log(this.rows.join('\n'));
    for (const f of this.figures) {
      console.log(JSON.stringify({ bench: this.bench, figure: f.figure, value: f.value === null ? null : round(f.value), unit: f.unit, ...f.extra }));
    }
  }
}

/** How far each phase may go: whichever of the two comes first. */
export interface PhaseBounds {
  /** Operations per phase at most. */
  count: number;
  /** Wall-clock milliseconds per phase at most. */
  ms: number;
}

/**
 * `--seconds N` and `--count N` from `argv` (either may be absent). RangeError naming the flag
 * when its value is not a positive number (seconds) or a positive integer (count).
 */
export function phaseBounds(argv: readonly string[], defaults: { seconds: number; count: number }): PhaseBounds {
  const value = (flag: string): number | undefined => {
    const i = argv.indexOf(flag);
    if (i < 0) return undefined;
    const v = Number(argv[i + 1]);
    if (argv[i + 1] === undefined || !Number.isFinite(v) || v <= 0) throw new RangeError(`${flag} must be a positive number`);
    return v;
  };
  const seconds = value('--seconds') ?? defaults.seconds;
  const count = value('--count') ?? defaults.count;
  if (!Number.isInteger(count)) throw new RangeError('--count must be a positive integer');
  return { count, ms: seconds * 1000 };
}

/** `cpu`: cores this process used meanwhile (CPU time / wall time), worker threads included. */
export interface Rate { done: number; seconds: number; perSecond: number; cpu: number }

export const round = (v: number): number => Math.round(v * 100) / 100;
export const num = (v: number, digits = 0, width = 8): string => v.toFixed(digits).padStart(width);
export const elapsedSince = (wall: number): number => performance.now() - wall;
/** A start mark for rate(): wall time and this process's CPU time. */
export const mark = (): { wall: number; cpu: NodeJS.CpuUsage } => ({ wall: performance.now(), cpu: process.cpuUsage() });

export function rate(done: number, started: ReturnType<typeof mark>): Rate {
  const seconds = elapsedSince(started.wall) / 1000;
  const cpu = process.cpuUsage(started.cpu);
  return { done, seconds, perSecond: done / seconds, cpu: (cpu.user + cpu.system) / 1e6 / seconds };
}

/** Rates of several runs as one. */
export function total(rates: readonly Rate[]): Rate {
  const done = rates.reduce((s, r) => s + r.done, 0);
  const seconds = rates.reduce((s, r) => s + r.seconds, 0);
  return { done, seconds, perSecond: done / seconds, cpu: rates.reduce((s, r) => s + r.cpu * r.seconds, 0) / seconds };
}

/** Runs `a` then `b`, `rounds` times, so a change in the machine's speed hits both alike; returns the totals. */
export async function alternate(rounds: number, a: () => Promise<Rate>, b: () => Promise<Rate>): Promise<[Rate, Rate]> {
  const as: Rate[] = [];
  const bs: Rate[] = [];
  for (let i = 0; i < rounds; i++) {
    as.push(await a());
    bs.push(await b());
  }
  return [total(as), total(bs)];
}

/** The p-th percentile (0..100) of ascending `sorted`, by nearest rank; NaN when empty. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Ascending copy. */
export const ascending = (xs: readonly number[]): number[] => [...xs].sort((a, b) => a - b);

/**
 * Runs `op` in `lanes` concurrent loops until `bounds` says stop (operations issued, or time
 * spent: a started operation always finishes). Pushes each operation's latency (ms) to
 * `latencies` when given. An operation that throws ends the phase with that error.
 */
export async function drive(lanes: number, bounds: PhaseBounds, op: (i: number) => Promise<void>, latencies?: number[]): Promise<Rate> {
  const started = mark();
  let issued = 0;
  let done = 0;
  const lane = async (): Promise<void> => {
    while (issued < bounds.count && elapsedSince(started.wall) < bounds.ms) {
      const at = performance.now();
      await op(issued++);
      latencies?.push(elapsedSince(at));
      done++;
    }
  };
  await Promise.all(Array.from({ length: lanes }, lane));
  return rate(done, started);
}
