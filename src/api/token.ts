/** The API's bearer token: random, written to `<data folder>/api-token` with mode 0600 at start. */
import { randomBytes } from 'node:crypto';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const TOKEN_FILE = 'api-token';

/** A fresh token (32 random bytes, hex) written to `<dir>/api-token`, readable by the owner only. */
export function writeToken(dir: string): string {
  const token = randomBytes(32).toString('hex');
  const file = join(dir, TOKEN_FILE);
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  chmodSync(file, 0o600); // the mode of writeFileSync applies only when it creates the file
  return token;
}

/** The token a running node wrote to `<dir>/api-token`, or null when there is none. */
export function readToken(dir: string): string | null {
  try {
    const t = readFileSync(join(dir, TOKEN_FILE), 'utf8').trim();
    return /^[0-9a-f]{64}$/.test(t) ? t : null;
  } catch {
    return null;
  }
}
