/** Human output helpers of the client commands, and the progress line. */
import { describe, expect, it } from 'vitest';
import { formatBytes, formatCount, formatDuration, formatPairs, formatPercent, formatTable } from '../../src/cli/format.js';
import { Progress } from '../../src/cli/progress.js';

describe('readable numbers', () => {
  it('sizes use binary units with one decimal', () => {
    expect([0, 1023, 1024, 600 * 1024, 1.5 * 1024 ** 3, 3 * 1024 ** 5].map(formatBytes)).toEqual(['0 B', '1023 B', '1.0 KiB', '600.0 KiB', '1.5 GiB', '3072.0 TiB']);
  });

  it('counts get separators; ratios become percentages; non-numbers show as -', () => {
    expect(formatCount(1234567)).toBe('1,234,567');
    expect(formatPercent(0.125)).toBe('12.5 %');
    expect(formatCount(Number.NaN)).toBe('-');
  });

  it('durations show their two largest units', () => {
    expect([850, 12_400, 243_000, 7_500_000, 273_600_000].map(formatDuration)).toEqual(['850 ms', '12 s', '4 min 3 s', '2 h 5 min', '3 d 4 h']);
    expect(formatDuration(3_600_000)).toBe('1 h');
  });
});

describe('tables', () => {
  it('columns are as wide as their widest cell; numbers align right', () => {
    const text = formatTable(['NAME', 'N'], [['a', '1'], ['longer', '100']], ['left', 'right']);
    expect(text).toBe('NAME      N\na         1\nlonger  100\n');
    expect(formatPairs([['id', 'x'], ['address', 'y']])).toBe('id       x\naddress  y\n');
  });
});

describe('progress line', () => {
  it('draws only on a terminal, with done / total, percentage and rate', () => {
    const drawn: string[] = [];
    const tty = new Progress({ isTTY: true, write: (t: string) => drawn.push(t) }, 'put', 2048);
    tty.add(1024);
    tty.finish();
    expect(drawn.at(-1)).toMatch(/^\rput {2}\[#{12}\.{12}\] {2}1\.0 KiB \/ 2\.0 KiB {2}50\.0 % {2}\S+ \S+\/s\x1b\[K\n$/);
    const piped: string[] = [];
    const quiet = new Progress({ write: (t: string) => piped.push(t) }, 'get', null);
    quiet.add(10);
    quiet.finish();
    expect(piped).toEqual([]);
    expect(quiet.done).toBe(10);
    expect(quiet.line(performance.now())).toMatch(/^get {2}10 B {2}/);
  });
});
