/**
 * The progress line of `put` and `get`: bytes done (of the total when known) and the rate,
 * redrawn in place at most ten times a second. Only on a terminal: piped stderr stays clean.
 */
import { formatBytes, formatPercent } from './format.js';

/** A stream a progress line may be drawn on. */
export interface ProgressSink {
  write(text: string): unknown;
  isTTY?: boolean;
}

const REDRAW_MS = 100;
const BAR_WIDTH = 24;

export class Progress {
  readonly #started = performance.now();
  #done = 0;
  #drawnAt = -Infinity;

  /** A progress line on `sink` when it is a terminal; otherwise one that draws nothing. */
  constructor(
    private readonly sink: ProgressSink,
    private readonly label: string,
    private readonly total: number | null,
  ) {}

  get enabled(): boolean {
    return this.sink.isTTY === true;
  }

  get done(): number {
    return this.#done;
  }

  add(bytes: number): void {
    this.#done += bytes;
    const now = performance.now();
    if (this.enabled && now - this.#drawnAt >= REDRAW_MS) {
      this.#drawnAt = now;
      this.sink.write(`\r${this.line(now)}\x1b[K`);
    }
  }

  /** Draws the final state and ends the line. */
  finish(): void {
    if (this.enabled) this.sink.write(`\r${this.line(performance.now())}\x1b[K\n`);
  }

  /** Leaves the line as it is and moves below it (on failure). */
  abandon(): void {
    if (this.enabled && this.#drawnAt > -Infinity) this.sink.write('\n');
  }

  /** `get  [#########...............]  312.0 KiB / 600.0 KiB  52.0 %  1.2 MiB/s` */
  line(now: number): string {
    const seconds = Math.max(1e-3, (now - this.#started) / 1000);
    const rate = `${formatBytes(this.#done / seconds)}/s`;
    if (this.total === null || this.total <= 0) return `${this.label}  ${formatBytes(this.#done)}  ${rate}`;
    const ratio = Math.min(1, this.#done / this.total);
    const filled = Math.round(ratio * BAR_WIDTH);
    const bar = `[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}]`;
    return `${this.label}  ${bar}  ${formatBytes(this.#done)} / ${formatBytes(this.total)}  ${formatPercent(ratio)}  ${rate}`;
  }
}
