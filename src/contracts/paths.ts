/**
 * Files this package builds into dist/ (worker modules, example contracts), found from this
 * module whether it runs from src/ (vitest) or dist/src/ (compiled).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** `<package root>/dist/<parts>`; throws, naming the file, when the build has not made it. */
export function builtFile(...parts: string[]): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'zhtp-dht') {
      const file = join(dir, 'dist', ...parts);
      if (!existsSync(file)) throw new Error(`${file} is missing: run \`npm run build\` first`);
      return file;
    }
    dir = dirname(dir);
  }
  throw new Error('cannot find the zhtp-dht package root (package.json) above src/contracts');
}
