import { defineConfig } from 'vitest/config';

// Real UDP and LMDB suites open sockets and files: run files in forked processes so a crashed
// suite cannot take the others with it, and give network suites room on a 2-core machine.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    maxWorkers: 2,
  },
});
