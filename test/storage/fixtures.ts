/** Shared fixtures of the storage suites: a real LMDB store in a fresh temporary folder. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Key } from '../../src/id/index.js';
import { Store, type StoreInit } from '../../src/storage/index.js';
import { afterEach, beforeEach } from 'vitest';
import { ManualClock } from '../../src/util/index.js';

/** A fresh temporary folder; remove it with `removeDir`. */
export function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'zhtp-store-'));
}

export function removeDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

/** A key whose 32 bytes are all `n`. */
export function keyOf(n: number): Key {
  return new Uint8Array(32).fill(n) as Key;
}

/** `size` bytes, all `fill`. */
export function bytes(size: number, fill = 1): Uint8Array {
  return new Uint8Array(size).fill(fill);
}

/**
 * Opens stores in one temporary folder and closes and removes everything in `cleanup`,
 * so a failing test leaves nothing behind.
 */
export class StoreFixture {
  readonly dir = tempDir();
  readonly #opened: Store[] = [];

  /** The store path inside the folder (a subfolder, as the node uses `<dataDir>/store`). */
  get path(): string {
    return path.join(this.dir, 'store');
  }

  open(init: Partial<StoreInit> = {}): Store {
    const store = Store.open({ path: this.path, ...init });
    this.#opened.push(store);
    return store;
  }

  async cleanup(): Promise<void> {
    await Promise.all(this.#opened.map((s) => s.close()));
    removeDir(this.dir);
  }
}

/**
 * Registers the per-test hooks every store suite needs: a fresh fixture and a manual clock
 * starting at `start` before each test (handed to `use`), and cleanup after it.
 */
export function useStoreFixture(start: number, use: (fx: StoreFixture, clock: ManualClock) => void): void {
  let fx: StoreFixture | null = null;
  beforeEach(() => {
    fx = new StoreFixture();
    use(fx, new ManualClock(start));
  });
  afterEach(async () => {
    await fx?.cleanup();
  });
}
