import { appendFileSync } from 'node:fs';

/**
 * One JSON line per figure, as RELIABILITY.md §4 asks: {"test","figure","value","threshold","pass"}.
 * The line goes to stdout and, when `RELIABILITY_REPORT` names a file, is appended to it too:
 * `npm run reliability` (test/run-reliability.mjs) collects the figures of every forked test
 * process there. One append per line, so lines from concurrent processes never interleave.
 */
export function report(line: { test: string; figure: string; value: number; threshold?: number; pass?: boolean }): void {
  const text = `${JSON.stringify(line)}\n`;
  process.stdout.write(text);
  const file = process.env.RELIABILITY_REPORT;
  if (file !== undefined && file !== '') appendFileSync(file, text);
}
