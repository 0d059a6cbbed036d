/** Shared helpers for the transport tests: bounded waiting and transports closed after each test. */

/** Polls `condition` every 5 ms; throws after `timeoutMs` so no test can hang. */
export async function waitFor(condition: () => boolean, timeoutMs = 5_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Resolves after `ms` of real time. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Collects transports (and anything else closable) so afterEach can close them all. */
export class Closer {
  readonly #items: { close(): unknown }[] = [];

  add<T extends { close(): unknown }>(item: T): T {
    this.#items.push(item);
    return item;
  }

  async closeAll(): Promise<void> {
    const items = this.#items.splice(0);
    await Promise.all(items.map((i) => i.close()));
  }
}

/** Deterministic bytes (a simple LCG) so a failing case replays exactly. */
export function patternBytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}


/**
 * A fast byte comparison: deep equality of 200 KiB arrays costs vitest most of a second.
 * Returns '' when equal, else where they differ, so `expect(sameBytes(a, b)).toBe('')` reads well.
 */
export function sameBytes(actual: Uint8Array | null | undefined, expected: Uint8Array): string {
  if (actual === null || actual === undefined) return 'no bytes';
  if (actual.byteLength !== expected.byteLength) return `length ${actual.byteLength} != ${expected.byteLength}`;
  const a = Buffer.from(actual.buffer, actual.byteOffset, actual.byteLength);
  const b = Buffer.from(expected.buffer, expected.byteOffset, expected.byteLength);
  if (a.equals(b)) return '';
  let i = 0;
  while (a[i] === b[i]) i++;
  return `first difference at byte ${i}`;
}
