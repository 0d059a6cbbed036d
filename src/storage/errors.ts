/**
 * Turns LMDB's "no room" failures into STORAGE_FULL so a full disk or map refuses a STORE with a
 * clear code (the publisher moves on to the next closest node) instead of surfacing as an
 * opaque native error. Other failures pass through unchanged.
 */
import { DhtError } from '../util/index.js';

/** LMDB return codes (lmdb.h) and errno values that mean "out of space". */
const MDB_MAP_FULL = -30792;
const MDB_TXN_FULL = -30788;
const ENOSPC = 28;
const EDQUOT = 122;
const CAPACITY_CODES: ReadonlySet<unknown> = new Set([MDB_MAP_FULL, MDB_TXN_FULL, ENOSPC, EDQUOT, 'ENOSPC', 'EDQUOT']);
const CAPACITY_TEXT = /MDB_MAP_FULL|MDB_TXN_FULL|No space left|Disk quota exceeded/i;

/** True when `err` is LMDB or the OS saying the write does not fit. */
export function isCapacityError(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const code = (err as { code?: unknown }).code;
  if (CAPACITY_CODES.has(code)) return true;
  const message = (err as { message?: unknown }).message;
  return typeof message === 'string' && CAPACITY_TEXT.test(message);
}

/**
 * The error to hand to the caller of a failed write. A failed asynchronous commit rejects every
 * write of its batch with "Commit failed" and puts the LMDB error in a separate `commitError`
 * promise; that promise is always handled here, since an unhandled rejection would end the
 * process, and its reason decides the classification.
 */
export async function toStorageError(err: unknown): Promise<unknown> {
  const cause = await commitCause(err);
  if (isCapacityError(cause)) {
    const full = new DhtError('STORAGE_FULL', 'storage is full: the database has no room for this write', { cause });
    return full;
  }
  return cause;
}

async function commitCause(err: unknown): Promise<unknown> {
  if (typeof err !== 'object' || err === null) return err;
  const commitError = (err as { commitError?: unknown }).commitError;
  if (!(commitError instanceof Promise)) return err;
  // By the time a write's rejection is seen, lmdb-js has already settled commitError in the same
  // callback; the race with a macrotask only guards against a lmdb-js change leaving it pending.
  const timeout = new Promise<undefined>((resolve) => setImmediate(resolve, undefined));
  const cause = await Promise.race([commitError.then(() => undefined, (e: unknown) => e), timeout]);
  return cause ?? err;
}
