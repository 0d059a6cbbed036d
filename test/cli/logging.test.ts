/**
 * The node's logs as `start` writes them: JSON lines or text, a level filter, and per-source
 * rate limiting that turns a flood into N lines per window plus one count of the rest.
 */
import { describe, expect, it } from 'vitest';
import { cliLogger } from '../../src/cli/start.js';
import {
  formatLogLine, leveledLogger, LOG_LINES_PER_WINDOW, ManualClock, RateLimitedLog, sourceOf, StreamLogger,
} from '../../src/util/index.js';

/** A sink that keeps lines. */
function lines(): { write(text: string): void; all: string[] } {
  const all: string[] = [];
  return { all, write: (text) => void all.push(text) };
}

describe('rate limiting per source', () => {
  it('a flood from one source writes N lines per window, then one line counting the rest; other sources are unaffected', () => {
    const clock = new ManualClock(1_000_000);
    const sink = lines();
    const log = new RateLimitedLog(new StreamLogger(sink, 'json', clock), clock, { linesPerWindow: 5, windowMs: 10_000 });
    for (let i = 0; i < 1000; i++) log.log('warn', `bad packet ${i}`, '192.0.2.1');
    for (let i = 0; i < 3; i++) log.log('warn', `late answer ${i}`, '192.0.2.2');
    const parsed = () => sink.all.map((l) => JSON.parse(l) as { msg: string; source: string; level: string });
    expect(parsed().filter((l) => l.source === '192.0.2.1')).toHaveLength(5);
    expect(parsed().filter((l) => l.source === '192.0.2.2')).toHaveLength(3);
    expect(log.suppressed).toBe(995);

    clock.advance(9_999);
    log.flush();
    expect(sink.all).toHaveLength(8); // the window has not ended: nothing to report yet
    clock.advance(1);
    log.flush();
    const summary = parsed().at(-1)!;
    expect(summary).toMatchObject({ level: 'warn', source: '192.0.2.1' });
    expect(summary.msg).toMatch(/^995 more line\(s\) from this source suppressed \(limit 5 per 10 s\)$/);
    expect(sink.all).toHaveLength(9); // 192.0.2.2 had nothing suppressed: no line for it

    log.log('warn', 'bad packet again', '192.0.2.1');
    expect(parsed().at(-1)!.msg).toBe('bad packet again'); // a new window
  });

  it('without flush(), the count comes with the first line of the next window', () => {
    const clock = new ManualClock(0);
    const sink = lines();
    const log = new RateLimitedLog(new StreamLogger(sink, 'text', clock), clock, { linesPerWindow: 2, windowMs: 1000 });
    for (let i = 0; i < 10; i++) log.warn('peer', `drop ${i}`);
    clock.advance(1500);
    log.warn('peer', 'drop after');
    expect(sink.all.map((l) => l.replace(/^\S+ /, ''))).toEqual([
      'WARN  [peer] drop 0\n', 'WARN  [peer] drop 1\n', 'WARN  [peer] 8 more line(s) from this source suppressed (limit 2 per 1 s)\n', 'WARN  [peer] drop after\n',
    ]);
  });

  it('a sustained flood at one line per window: the first line, then one count per window, never two lines in one window', () => {
    const clock = new ManualClock(0);
    const sink = lines();
    const log = new RateLimitedLog(new StreamLogger(sink, 'json', clock), clock); // UDP's limiter: 1 line per 10 s
    for (let t = 0; t < 60_000; t += 10) {
      log.warn('192.0.2.9', 'udp 0.0.0.0:33442: bad_frame (peer 192.0.2.9:4000)');
      clock.advance(10);
    }
    const written = sink.all.map((l) => JSON.parse(l) as { time: string; msg: string });
    const at = written.map((l) => Date.parse(l.time));
    for (let i = 1; i < at.length; i++) expect(at[i]! - at[i - 1]!).toBeGreaterThanOrEqual(10_000);
    expect(written[0]!.msg).toContain('bad_frame');
    expect(written.slice(1).every((l) => /^\d+ more line\(s\) from this source suppressed \(limit 1 per 10 s\)$/.test(l.msg))).toBe(true);
    expect(written).toHaveLength(6);
    expect(log.suppressed).toBe(5999);
    log.flush(true); // at exit: the open window's count too
    const counts = sink.all.slice(1).map((l) => Number((JSON.parse(l) as { msg: string }).msg.split(' ')[0]));
    expect(counts.reduce((a, b) => a + b, 0)).toBe(5999); // every line held back is counted once
  });

  it('the default keeps one line per key per window, as UDP drop warnings had', () => {
    const clock = new ManualClock(0);
    const sink = lines();
    const log = new RateLimitedLog(new StreamLogger(sink, 'text', clock), clock);
    for (let i = 0; i < 100; i++) log.warn('203.0.113.9', 'udp: truncated frame');
    expect(sink.all).toHaveLength(1);
    expect(log.suppressed).toBe(99);
  });

  it('the source table is bounded: past maxSources one summary replaces per-source lines', () => {
    const clock = new ManualClock(0);
    const sink = lines();
    const log = new RateLimitedLog(new StreamLogger(sink, 'json', clock), clock, { linesPerWindow: 1, maxSources: 3 });
    for (const s of ['a', 'b', 'c']) { log.warn(s, 'one'); log.warn(s, 'two'); }
    log.warn('d', 'one');
    const last = sink.all.slice(-2).map((l) => JSON.parse(l) as { msg: string; source: string });
    expect(last[0]).toEqual({ time: expect.any(String), level: 'warn', msg: '3 line(s) suppressed from 3 sources (source table full)', source: 'log' });
    expect(last[1]).toMatchObject({ msg: 'one', source: 'd' });
  });

  it('refuses a window or line budget that is not positive', () => {
    const clock = new ManualClock(0);
    expect(() => new RateLimitedLog(new StreamLogger(lines()), clock, { windowMs: 0 })).toThrow(/windowMs/);
    expect(() => new RateLimitedLog(new StreamLogger(lines()), clock, { linesPerWindow: 0 })).toThrow(/linesPerWindow/);
  });
});

describe('line formats and levels', () => {
  it('JSON lines hold exactly time, level, msg and source', () => {
    const line = formatLogLine('json', Date.UTC(2025, 0, 2, 3, 4, 5, 6), 'error', 'disk "full"\nreally', 'storage');
    expect(line.endsWith('\n')).toBe(true);
    expect(line.trimEnd().includes('\n')).toBe(false);
    expect(JSON.parse(line)).toEqual({ time: '2025-01-02T03:04:05.006Z', level: 'error', msg: 'disk "full"\nreally', source: 'storage' });
  });

  it('text lines read `time LEVEL [source] message`', () => {
    expect(formatLogLine('text', 0, 'info', 'started', 'cli')).toBe('1970-01-01T00:00:00.000Z INFO  [cli] started\n');
  });

  it('a line logged without a source takes the first word of its message', () => {
    expect(sourceOf('api: GET /x: boom')).toBe('api');
    expect(sourceOf('udp 127.0.0.1:33442: oversized (peer 10.0.0.1:5)')).toBe('udp');
    expect(sourceOf('Something else')).toBe('node');
    const clock = new ManualClock(0);
    const sink = lines();
    new StreamLogger(sink, 'json', clock).log('warn', 'api: GET /x failed');
    expect(JSON.parse(sink.all[0]!)).toMatchObject({ source: 'api' });
  });

  it('lines below the level are dropped before they use the rate budget', () => {
    const clock = new ManualClock(0);
    const sink = lines();
    const limiter = new RateLimitedLog(new StreamLogger(sink, 'text', clock), clock, { linesPerWindow: 2 });
    const log = leveledLogger('warn', limiter);
    for (let i = 0; i < 50; i++) log.log('debug', `noise ${i}`, 'x');
    log.log('info', 'still noise', 'x');
    log.log('warn', 'first', 'x');
    log.log('error', 'second', 'x');
    expect(sink.all.map((l) => l.slice(25))).toEqual(['WARN  [x] first\n', 'ERROR [x] second\n']);
    expect(limiter.suppressed).toBe(0);
  });

  it("start's logger: the configured level and format, LOG_LINES_PER_WINDOW per source", () => {
    const sink = lines();
    const { logger, limiter } = cliLogger({ logLevel: 'info', logFormat: 'json' }, sink);
    logger.log('debug', 'hidden', 'cli');
    for (let i = 0; i < LOG_LINES_PER_WINDOW + 7; i++) logger.log('warn', `flood ${i}`, '198.51.100.7');
    expect(sink.all).toHaveLength(LOG_LINES_PER_WINDOW);
    limiter.flush(true);
    expect(JSON.parse(sink.all.at(-1)!)).toMatchObject({ level: 'warn', source: '198.51.100.7', msg: expect.stringMatching(/^7 more line/) });
  });
});
