#!/usr/bin/env node
/**
 * Runs the numbered reliability tests (RELIABILITY.md §5: vitest tests whose title, or the title
 * of a describe block around them, begins with their id, `T03 …`) and summarises the figures
 * they report (§4: one JSON line each).
 *
 * Usage: node test/run-reliability.mjs [--json] [vitest file filters…]
 *   (normally `npm run reliability [-- --json]`, which builds and type-checks first)
 *   - vitest's own output goes to stderr; SLOW and the rest of the environment pass through.
 *   - stdout: a table (test, figure, value, threshold, pass) sorted by test id, then
 *     `reliability: N figures, N passed, N failed; vitest exit X`;
 *     with --json, only the JSON lines, one per line (the closing line goes to stderr).
 *   - exit 1 when vitest failed, a figure has pass:false, or no figure was reported at all.
 * Tests append their lines to the file named by RELIABILITY_REPORT (test/helpers/report.ts).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * vitest 4 matches `-t` against the full name: the describe titles, then the test title, joined by
 * spaces. `^T[0-9][0-9]` would miss `it('T01 …')` inside `describe('malformed-datagram flood')`,
 * so a title that begins with an id may also follow a space.
 */
const NAME_PATTERN = '(^| )T[0-9][0-9]';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const json = args.includes('--json');
const filters = args.filter((a) => a !== '--json');

const dir = mkdtempSync(join(tmpdir(), 'zhtp-reliability-'));
const reportFile = join(dir, 'figures.jsonl');
try {
  const vitestExit = await runVitest(reportFile, filters);
  const lines = existsSync(reportFile) ? readFileSync(reportFile, 'utf8').split('\n').filter((l) => l.trim() !== '') : [];
  const figures = lines.map(parseLine).sort(byTestId);
  const passed = figures.filter((f) => f.pass === true).length;
  const failed = figures.filter((f) => f.pass === false).length;
  const closing = `reliability: ${figures.length} figures, ${passed} passed, ${failed} failed; vitest exit ${vitestExit}`;
  if (json) {
    for (const f of figures) process.stdout.write(`${f.raw}\n`);
    process.stderr.write(`${closing}\n`);
  } else {
    process.stdout.write(table(figures));
    process.stdout.write(`${closing}\n`);
  }
  if (figures.length === 0) process.stderr.write('reliability: no figure was reported; did any test match?\n');
  process.exitCode = vitestExit !== 0 || failed > 0 || figures.length === 0 ? 1 : 0;
} finally {
  rmSync(dir, { recursive: true, force: true });
}

/** Runs vitest with its stdout on our stderr; resolves with its exit code (a signal name if killed). */
function runVitest(file, fileFilters) {
  const vitest = join(root, 'node_modules', '.bin', 'vitest');
  const child = spawn(vitest, ['run', '-t', NAME_PATTERN, ...fileFilters], {
    cwd: root,
    env: { ...process.env, RELIABILITY_REPORT: file },
    stdio: ['ignore', 2, 2],
  });
  // Ctrl-C reaches vitest through the process group; we only wait for it to finish.
  const ignore = () => {};
  process.on('SIGINT', ignore);
  return new Promise((resolvePromise) => {
    child.on('error', (err) => {
      process.stderr.write(`reliability: could not start vitest: ${err.message}\n`);
      resolvePromise(127);
    });
    child.on('exit', (code, signal) => {
      process.off('SIGINT', ignore);
      resolvePromise(code ?? signal ?? 1);
    });
  });
}

/**
 * One figure from one line. A line that is not a figure object is kept as a failed figure, so a
 * broken reporter cannot pass silently.
 */
function parseLine(raw) {
  try {
    const f = JSON.parse(raw);
    if (typeof f === 'object' && f !== null && typeof f.test === 'string' && typeof f.figure === 'string') {
      return { raw, test: f.test, figure: f.figure, value: f.value, threshold: f.threshold, pass: f.pass };
    }
  } catch {
    // reported below as an unreadable figure
  }
  return { raw, test: '?', figure: `unreadable line: ${raw.slice(0, 60)}`, value: undefined, threshold: undefined, pass: false };
}

/** By test id, numbers compared as numbers (T3 < T10, T01-start < T03); stable within a test. */
function byTestId(a, b) {
  return a.test.localeCompare(b.test, 'en', { numeric: true });
}

function table(figures) {
  const rows = [['test', 'figure', 'value', 'threshold', 'pass']];
  for (const f of figures) {
    rows.push([f.test, f.figure, show(f.value), show(f.threshold), f.pass === undefined ? '-' : f.pass ? 'pass' : 'FAIL']);
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  // Text columns align left, numbers right.
  const line = (r) => r.map((cell, c) => (c === 2 || c === 3 ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join('  ').trimEnd();
  return `${rows.map(line).join('\n')}\n`;
}

/** Numbers with at most 5 significant digits; JSON turns Infinity and NaN into null. */
function show(x) {
  if (x === undefined) return '';
  if (typeof x !== 'number') return String(x);
  return Number.isInteger(x) ? String(x) : String(Number(x.toPrecision(5)));
}
