/**
 * The CLI's side of the node's HTTP API: where the API is and which token to send, requests over
 * node:http (bodies stream both ways, nothing is held whole in memory), and the mapping of every
 * failure to a CommandError with the exit code scripts branch on: 3 when the API cannot be
 * reached, 4 when it refuses the token, 1 for any other error the API answers with.
 */
import { type IncomingMessage, request } from 'node:http';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { API_PORT, readToken, TOKEN_FILE } from '../api/index.js';
import type { Options } from './args.js';
import type { Env } from './config.js';
import { CommandError, EXIT, UsageError } from './errors.js';

export const DEFAULT_API_URL = `http://127.0.0.1:${API_PORT}`;
/** A request with no byte moving for this long is abandoned (node lookups give up after 60 s). */
export const IDLE_TIMEOUT_MS = 120_000;
/** Largest JSON answer read (the routing table of a big node is well under this). */
const MAX_JSON_BYTES = 16 * 1024 * 1024;

/** The options every client command takes. */
export const CLIENT_OPTIONS: Options = {
  api: { type: 'string' }, data: { type: 'string' }, token: { type: 'string' }, json: { type: 'boolean' },
};

/** Where the API is and how to authenticate. */
export interface ApiTarget {
  url: URL;
  token: string | null;
  /** Where the token came from ('--token', 'ZHTP_TOKEN', a file), or null. */
  tokenSource: string | null;
  /** Every place the token was looked for, in order, for the "unauthorized" message. */
  tokenLookup: string[];
}

/** The API URL (--api, ZHTP_API, default) and token (--token, ZHTP_TOKEN, `<--data or ZHTP_DATA>/api-token`). */
export function apiTarget(values: Record<string, unknown>, env: Env): ApiTarget {
  const text = typeof values.api === 'string' ? values.api : set(env.ZHTP_API) ?? DEFAULT_API_URL;
  const url = URL.canParse(text) ? new URL(text) : null;
  if (url === null || url.protocol !== 'http:') throw new UsageError(`--api must be an http:// URL such as ${DEFAULT_API_URL}, not '${text}'`);
  const lookup = ['--token', 'ZHTP_TOKEN'];
  if (typeof values.token === 'string') return { url, token: values.token.trim(), tokenSource: '--token', tokenLookup: lookup };
  const fromEnv = set(env.ZHTP_TOKEN);
  if (fromEnv !== undefined) return { url, token: fromEnv, tokenSource: 'ZHTP_TOKEN', tokenLookup: lookup };
  const data = typeof values.data === 'string' ? values.data : set(env.ZHTP_DATA);
  if (data === undefined) return { url, token: null, tokenSource: null, tokenLookup: lookup };
  const file = join(data, TOKEN_FILE);
  return { url, token: readToken(data), tokenSource: file, tokenLookup: [...lookup, file] };
}

function set(value: string | undefined): string | undefined {
  const v = value?.trim();
  return v === undefined || v === '' ? undefined : v;
}

/** A request body: a stream and, when known, its length. */
export interface RequestBody {
  stream: Readable;
  length?: number;
  type: string;
}

/** Sends requests to one node's API. */
export class ApiClient {
  constructor(readonly target: ApiTarget) {}

  /** Sends a request; resolves with the answer whatever its status. Rejects with exit code 3 when nothing answers. */
  send(method: string, path: string, body?: RequestBody, auth = true): Promise<IncomingMessage> {
    const url = new URL(path, this.target.url);
    const headers: Record<string, string> = { accept: 'application/json, application/octet-stream' };
    if (auth && this.target.token !== null) headers.authorization = `Bearer ${this.target.token}`;
    if (body !== undefined) {
      headers['content-type'] = body.type;
      if (body.length !== undefined) headers['content-length'] = String(body.length);
    }
    return new Promise((resolve, reject) => {
      const req = request(url, { method, headers });
      req.on('response', resolve);
      // Errors after the answer arrived (the upload cut short by a refusal) change nothing.
      req.on('error', (err: NodeJS.ErrnoException) => reject(this.#connectionError(err)));
      req.setTimeout(IDLE_TIMEOUT_MS, () => req.destroy(new CommandError(EXIT.failed, `no answer from ${this.target.url.origin} for ${IDLE_TIMEOUT_MS / 1000} s`)));
      if (body === undefined) {
        req.end();
        return;
      }
      body.stream.on('error', (err) => req.destroy(err));
      body.stream.pipe(req);
    });
  }

  /** GETs `path` and returns the body text of a 2xx answer; any other answer is thrown as a CommandError. */
  async getText(path: string, auth = true): Promise<string> {
    const res = await this.send('GET', path, undefined, auth);
    await this.check(res);
    return (await readText(res)).toString('utf8');
  }

  /** Throws the CommandError of a non-2xx answer; returns for 2xx without touching the body. */
  async check(res: IncomingMessage): Promise<void> {
    const status = res.statusCode ?? 0;
    if (status >= 200 && status < 300) return;
    const text = (await readText(res).catch(() => Buffer.alloc(0))).toString('utf8');
    if (status === 401) throw new CommandError(EXIT.unauthorized, this.#unauthorized());
    const error = parseError(text);
    throw CommandError.api(error?.code ?? `http_${status}`, error?.message ?? (res.statusMessage || 'no message'));
  }

  #unauthorized(): string {
    const t = this.target;
    const where = t.tokenLookup.join(', then ');
    if (t.token === null) {
      const hint = t.tokenLookup.length === 2 ? '; pass --data DIR (the node\'s data folder) or --token' : '; is that the node\'s data folder, and is the node running?';
      return `unauthorized: no API token found (looked in ${where})${hint}`;
    }
    return `unauthorized: the API at ${t.url.origin} refused the token from ${t.tokenSource} (looked in ${where}; a restarted node writes a new token)`;
  }

  #connectionError(err: NodeJS.ErrnoException): Error {
    if (err instanceof CommandError) return err;
    const origin = this.target.url.origin;
    const reason = CONNECTION_ERRORS[err.code ?? ''];
    if (reason === undefined) return new CommandError(EXIT.failed, `request to ${origin} failed: ${err.message}`);
    return new CommandError(EXIT.unreachable, `cannot reach the API at ${origin}: ${reason}. Is the node running (zhtp-dht start), and is --api (or ZHTP_API) right?`);
  }
}

/** Socket errors that mean "nothing usable answers there". */
const CONNECTION_ERRORS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'unknown host name',
  EAI_AGAIN: 'host name lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  EADDRNOTAVAIL: 'address not available',
  ETIMEDOUT: 'connection timed out',
};

/** The whole body of a (JSON or error) answer, refused past MAX_JSON_BYTES. */
export async function readText(res: IncomingMessage): Promise<Buffer> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of res as AsyncIterable<Buffer>) {
    size += chunk.byteLength;
    if (size > MAX_JSON_BYTES) {
      res.destroy();
      throw new CommandError(EXIT.failed, `the API's answer exceeds ${MAX_JSON_BYTES} bytes`);
    }
    parts.push(chunk);
  }
  return Buffer.concat(parts, size);
}

/** `{code, message}` of an API error body, or null when the body is something else. */
function parseError(text: string): { code: string; message: string } | null {
  try {
    const body: unknown = JSON.parse(text);
    if (typeof body !== 'object' || body === null) return null;
    const { code, message } = body as Record<string, unknown>;
    return typeof code === 'string' && typeof message === 'string' ? { code, message } : null;
  } catch {
    return null; // not JSON: the caller reports the HTTP status instead
  }
}

/** Parses a JSON answer of the API into an object (a broken answer is an operation failure). */
export function parseJson(text: string, what: string): Record<string, unknown> {
  try {
    const body: unknown = JSON.parse(text);
    if (typeof body === 'object' && body !== null && !Array.isArray(body)) return body as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new CommandError(EXIT.failed, `the API's answer to ${what} is not a JSON object`);
}
