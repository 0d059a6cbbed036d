/**
 * Small HTTP helpers of the API: the JSON error every refusal carries, bounded body reading,
 * bearer-token checking in constant time, and JSON-safe encoding of bytes (hex for ids and
 * keys, base64 for values).
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { DhtError, type DhtErrorCode } from '../util/index.js';

/** A refusal with its HTTP status and a stable, machine-readable code. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

/** HTTP status of each DhtError code an operation can reject with. */
const DHT_STATUS: Partial<Record<DhtErrorCode, number>> = {
  NOT_FOUND: 404, VALUE_TOO_BIG: 413, STORAGE_FULL: 507, NO_PEERS: 503, STORE_FAILED: 502, BUSY: 503, TIMEOUT: 504,
  INVALID_CONTENT: 502, BAD_REQUEST: 400, SALT_TOO_BIG: 400, INVALID_SIGNATURE: 400, SEQ_TOO_LOW: 409, SEQ_REUSED: 409,
  CAS_MISMATCH: 409, SET_FULL: 409, DESTROYED: 503, ABORTED: 499, REMOTE_ERROR: 502, SEND_FAILED: 502,
  STALE_NONCE: 409, NONCE_OUT_OF_RANGE: 400, INVALID_PROOF: 400, COMMITMENT_MISMATCH: 400, ACCESS_DENIED: 403,
  INVALID_CONTRACT: 400, DISABLED: 501, CONTRACT_MISMATCH: 502, STATE_CONFLICT: 409,
};

/** Maps anything an operation threw to an ApiError (RangeError/TypeError: the caller's input was wrong). */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof DhtError) return new ApiError(DHT_STATUS[err.code] ?? 500, err.code.toLowerCase(), err.message);
  if (err instanceof RangeError || err instanceof TypeError) return new ApiError(400, 'bad_request', err.message);
  return new ApiError(500, 'internal', 'internal error');
}

/** Writes `body` as JSON with `status`. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

/** Writes the JSON error `{code, message}`. */
export function sendError(res: ServerResponse, err: ApiError): void {
  if (res.headersSent) {
    res.destroy(); // mid-stream: the client sees a truncated body, never a wrong one
    return;
  }
  if (err.status === 401) res.setHeader('www-authenticate', 'Bearer realm="zhtp-dht"');
  sendJson(res, err.status, { code: err.code, message: err.message });
}

/**
 * Pulls a request body chunk by chunk with backpressure ('data' events, paused while a chunk
 * waits). Unlike the stream's async iterator, stopping early does not destroy the socket:
 * discard() lets the rest flow away, so the client can still read our 413 or 400.
 */
export class BodyReader {
  readonly #req: IncomingMessage;
  readonly #queue: Buffer[] = [];
  #ended = false;
  #error: Error | null = null;
  #wake: (() => void) | null = null;
  #discarding = false;

  constructor(req: IncomingMessage) {
    this.#req = req;
    req.on('data', (chunk: Buffer) => {
      if (this.#discarding) return;
      this.#queue.push(chunk);
      req.pause();
      this.#notify();
    });
    req.on('end', () => { this.#ended = true; this.#notify(); });
    req.on('error', (err) => { this.#error = err; this.#notify(); });
    req.on('aborted', () => { this.#error ??= new ApiError(400, 'aborted', 'the client aborted the upload'); this.#notify(); });
  }

  /** The next chunk, or null at the end of the body. */
  async next(): Promise<Buffer | null> {
    for (;;) {
      const chunk = this.#queue.shift();
      if (chunk !== undefined) return chunk;
      if (this.#error !== null) throw this.#error;
      if (this.#ended) return null;
      this.#req.resume();
      await new Promise<void>((resolve) => { this.#wake = resolve; });
    }
  }

  /** Drops whatever is still to come (bounded: past `maxBytes` more the connection is closed). */
  discard(maxBytes = 16 * 1024 * 1024): void {
    if (this.#discarding) return;
    this.#discarding = true;
    this.#queue.length = 0;
    let dropped = 0;
    this.#req.on('data', (chunk: Buffer) => {
      dropped += chunk.byteLength;
      if (dropped > maxBytes) this.#req.socket?.destroy();
    });
    this.#req.resume();
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }
}

const readers = new WeakMap<IncomingMessage, BodyReader>();

/** The body reader of `req` (one per request). */
export function bodyOf(req: IncomingMessage): BodyReader {
  let reader = readers.get(req);
  if (reader === undefined) {
    reader = new BodyReader(req);
    readers.set(req, reader);
  }
  return reader;
}

/**
 * Reads and throws away the rest of a refused request's body, up to `maxBytes` and `maxMs`, so
 * the connection can carry the next request; false when the body was too long or too slow (then
 * the answer should close the connection). Node's server would otherwise close a connection
 * whose request body was left unread when the response ends, without saying so in the response,
 * and a keep-alive client that reuses it gets a reset.
 */
export async function drainBody(req: IncomingMessage, maxBytes: number, maxMs: number): Promise<boolean> {
  if (req.complete) return true;
  const body = bodyOf(req);
  let drained = 0;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => { timer = setTimeout(() => resolve('late'), maxMs); });
  try {
    for (;;) {
      const chunk = await Promise.race([body.next(), late]);
      if (chunk === 'late') break;
      if (chunk === null) return true;
      drained += chunk.byteLength;
      if (drained > maxBytes) break;
    }
  } catch {
    // the client aborted: nothing left to keep alive
  } finally {
    clearTimeout(timer);
  }
  body.discard(0);
  return false;
}

/** The whole request body, refused with 413 past `limit` bytes (before reading it when Content-Length says so). */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) throw tooLarge(limit);
  const body = bodyOf(req);
  const parts: Buffer[] = [];
  let size = 0;
  for (let chunk = await body.next(); chunk !== null; chunk = await body.next()) {
    size += chunk.byteLength;
    if (size > limit) throw tooLarge(limit);
    parts.push(chunk);
  }
  return Buffer.concat(parts, size);
}

export function tooLarge(limit: number): ApiError {
  return new ApiError(413, 'payload_too_large', `the body exceeds ${limit} bytes`);
}

/** A JSON object body (`application/json`), at most `limit` bytes. */
export async function readJson(req: IncomingMessage, limit: number): Promise<Record<string, unknown>> {
  const type = req.headers['content-type'] ?? '';
  if (!/^application\/json\b/i.test(type)) throw new ApiError(415, 'unsupported_media_type', 'send the body as application/json');
  const raw = await readBody(req, limit);
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new ApiError(400, 'bad_json', 'the body is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new ApiError(400, 'bad_request', 'the body must be a JSON object');
  return parsed as Record<string, unknown>;
}

/** True when the request carries `Authorization: Bearer <token>` (compared in constant time). */
export function authorized(req: IncomingMessage, token: string): boolean {
  const header = req.headers.authorization;
  if (typeof header !== 'string' || !header.startsWith('Bearer ')) return false;
  const given = Buffer.from(header.slice(7).trim());
  const want = Buffer.from(token);
  return given.byteLength === want.byteLength && timingSafeEqual(given, want);
}

/** Hex of bytes (ids, keys, public keys). */
export const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
/** Base64 of bytes (values). */
export const b64 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');

/** Bytes of a base64 field, or a 400 naming the field. */
export function base64Field(body: Record<string, unknown>, name: string, required: boolean): Uint8Array | undefined {
  const v = body[name];
  if (v === undefined || v === null) {
    if (required) throw new ApiError(400, 'bad_request', `'${name}' is required (base64)`);
    return undefined;
  }
  if (typeof v !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(v) || v.length % 4 !== 0) throw new ApiError(400, 'bad_request', `'${name}' must be base64`);
  return new Uint8Array(Buffer.from(v, 'base64'));
}

/** An optional integer field in [min, max], or a 400 naming it. */
export function intField(value: unknown, name: string, min: number, max: number): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const n = typeof value === 'string' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) throw new ApiError(400, 'bad_request', `'${name}' must be an integer in ${min}..${max}`);
  return n;
}
