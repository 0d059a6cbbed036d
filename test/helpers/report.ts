/** One JSON line per figure, as RELIABILITY.md §4 asks: {"test","figure","value","threshold","pass"}. */
export function report(line: { test: string; figure: string; value: number; threshold?: number; pass?: boolean }): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}
