/**
 * The node's HTTP API (docs/api.md), bound to loopback only: 127.0.0.1 and ::1 on one port.
 * Every /api and /metrics request needs `Authorization: Bearer <token>`, the token being written
 * to `<data folder>/api-token` (mode 0600) at start. /healthz, /readyz and the dashboard's static
 * files need none: they reveal nothing but liveness and the page itself. Requests whose Host is
 * not a loopback name are refused (a DNS-rebinding page must not reach the API from a browser).
 * Nothing a request carries can crash the node: every handler's failure becomes `{code, message}`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import type { DhtNode, NodeEvent } from '../node/index.js';
import { type Logger, silentLogger } from '../util/index.js';
import { ApiError, authorized, drainBody, sendError, sendJson, toApiError } from './http.js';
import { NodeMetrics } from './metrics.js';
import { API_VERSION, apiRoutes, match, MAX_UPLOAD_BYTES, nodeInfo, type RouteContext, statsBody } from './routes.js';
import { writeToken } from './token.js';

/** Bytes of a refused body read and thrown away (so the client sees the answer) before the connection is closed. */
const DISCARD_BYTES = 16 * 1024 * 1024;
/** Time given to the rest of a refused body. */
const DISCARD_MS = 5_000;

/** The API port by default (the DHT's UDP port is 33442). */
export const API_PORT = 33443;

export interface ApiServerOptions {
  node: DhtNode;
  /** TCP port; 0 picks a free one. Default API_PORT. */
  port?: number;
  /** Loopback addresses to listen on. Default ['127.0.0.1', '::1'] (::1 skipped when the host has no IPv6). */
  hosts?: string[];
  /** The bearer token. Default: a fresh random token written to `tokenDir`/api-token. */
  token?: string;
  /** Where api-token goes. Default the node's data folder. */
  tokenDir?: string;
  /** Largest JSON body, bytes. Default 1 MiB. */
  maxJsonBytes?: number;
  /** Largest content upload, bytes. Default MAX_MANIFEST_CHUNKS × 256 KiB (≈ 2 GiB). */
  maxUploadBytes?: number;
  /** Interval of the live stream's stats snapshots, ms. Default 1000. */
  streamInterval?: number;
  /** Version reported by /api/v1/node. */
  version?: string;
  logger?: Logger;
}

const STATIC: Record<string, string> = {
  '/': 'index.html',
  '/dashboard/app.js': 'app.js',
  '/dashboard/dom.js': 'dom.js',
  '/dashboard/render.js': 'render.js',
  '/dashboard/stream.js': 'stream.js',
  '/dashboard/style.css': 'style.css',
};
const MIME: Record<string, string> = { html: 'text/html; charset=utf-8', js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8' };

/** True for the loopback addresses the API may bind. */
export function isLoopback(host: string): boolean {
  return host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

export class ApiServer {
  readonly #o: Required<Omit<ApiServerOptions, 'token' | 'tokenDir'>> & { token: string | undefined; tokenDir: string | undefined };
  readonly #servers: Server[] = [];
  readonly #streams = new Set<ServerResponse>();
  #ctx: RouteContext | null = null;
  #token = '';
  #port = 0;

  constructor(options: ApiServerOptions) {
    const hosts = options.hosts ?? ['127.0.0.1', '::1'];
    for (const h of hosts) if (!isLoopback(h)) throw new RangeError(`the API binds loopback addresses only, not '${h}'`);
    if (hosts.length === 0) throw new RangeError('hosts must name at least one loopback address');
    this.#o = {
      node: options.node, port: options.port ?? API_PORT, hosts, token: options.token, tokenDir: options.tokenDir,
      maxJsonBytes: options.maxJsonBytes ?? 1024 * 1024, maxUploadBytes: options.maxUploadBytes ?? MAX_UPLOAD_BYTES,
      streamInterval: options.streamInterval ?? 1000, version: options.version ?? '0.0.0', logger: options.logger ?? silentLogger,
    };
  }

  /** The bearer token (after start). */
  get token(): string {
    return this.#token;
  }

  /** The bound port (after start). */
  get port(): number {
    return this.#port;
  }

  /** `http://127.0.0.1:PORT` (or the first host bound). */
  get url(): string {
    const h = this.#o.hosts[0]!;
    return `http://${h.includes(':') ? `[${h}]` : h}:${this.#port}`;
  }

  /** Writes the token file, binds every host on one port. The node must be running. */
  async start(): Promise<void> {
    const o = this.#o;
    const node = o.node;
    if (!node.running) throw new Error('start the node before its API');
    const dir = o.tokenDir ?? node.options.dataDir;
    if (o.token !== undefined) this.#token = o.token;
    else if (dir === null || dir === undefined) throw new RangeError('an ephemeral node has no data folder: pass token or tokenDir');
    else this.#token = writeToken(dir);
    this.#ctx = {
      node, metrics: new NodeMetrics(node), maxJsonBytes: o.maxJsonBytes, maxUploadBytes: o.maxUploadBytes,
      startedAt: Date.now(), version: o.version,
    };
    const routes = apiRoutes(this.#ctx);
    let port = o.port;
    try {
      for (const host of o.hosts) {
        const server = createServer((req, res) => void this.#serve(req, res, routes));
        server.headersTimeout = 20_000;
        server.requestTimeout = 0; // large uploads and the live stream run long
        server.keepAliveTimeout = 5_000;
        const bound = await listen(server, host, port).catch((err: NodeJS.ErrnoException) => {
          // A host without IPv6 has no ::1: the API stays on IPv4.
          if (host === '::1' && this.#servers.length > 0 && (err.code === 'EADDRNOTAVAIL' || err.code === 'EAFNOSUPPORT')) return null;
          throw err;
        });
        if (bound === null) continue;
        this.#servers.push(server);
        port = bound;
      }
    } catch (err) {
      await this.stop();
      throw err;
    }
    this.#port = port;
  }

  /** Ends live streams, closes the listeners and connections. Idempotent. */
  async stop(): Promise<void> {
    for (const res of this.#streams) res.end();
    this.#streams.clear();
    this.#ctx?.metrics.close();
    const servers = this.#servers.splice(0);
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => {
      s.close(() => resolve());
      s.closeAllConnections();
    })));
  }

  async #serve(req: IncomingMessage, res: ServerResponse, routes: ReturnType<typeof apiRoutes>): Promise<void> {
    try {
      res.setHeader('x-content-type-options', 'nosniff');
      if (!loopbackHost(req.headers.host)) throw new ApiError(403, 'forbidden_host', 'the API answers loopback host names only');
      const url = new URL(req.url ?? '/', 'http://localhost');
      const path = url.pathname;
      const method = req.method ?? 'GET';
      if (path === '/healthz') return this.#health(res);
      if (path === '/readyz') return this.#ready(res);
      const asset = STATIC[path];
      if (asset !== undefined) return await this.#static(res, asset, method);
      if (!authorized(req, this.#token)) throw new ApiError(401, 'unauthorized', 'send Authorization: Bearer <token from api-token>');
      if (path === '/metrics') {
        if (method !== 'GET') throw new ApiError(405, 'method_not_allowed', 'use GET');
        const text = this.#ctx!.metrics.render();
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8', 'content-length': Buffer.byteLength(text) });
        res.end(text);
        return;
      }
      const prefix = `/api/${API_VERSION}`;
      if (!path.startsWith(`${prefix}/`)) throw new ApiError(404, 'not_found', `no such path: ${path}`);
      const sub = path.slice(prefix.length);
      if (sub === '/events') {
        if (method !== 'GET') throw new ApiError(405, 'method_not_allowed', 'use GET');
        return this.#stream(req, res);
      }
      const found = match(routes, method, sub);
      if (found === null) throw new ApiError(404, 'not_found', `no such path: ${path}`);
      if (found === 'method') throw new ApiError(405, 'method_not_allowed', `${method} is not allowed on ${path}`);
      if (!this.#o.node.running) throw new ApiError(503, 'unavailable', 'the node is stopping');
      await found.handler(req, res, found.params, url);
    } catch (err) {
      const e = toApiError(err);
      if (e.status === 500) this.#o.logger.log('warn', `api: ${req.method} ${req.url}: ${(err as Error)?.stack ?? String(err)}`);
      // Read what the client still sends before answering (bounded), or close the connection.
      const declared = Number(req.headers['content-length'] ?? 0);
      const kept = declared <= DISCARD_BYTES && await drainBody(req, DISCARD_BYTES, DISCARD_MS);
      if (!kept && !res.headersSent) res.setHeader('connection', 'close');
      sendError(res, e);
    }
  }

  #health(res: ServerResponse): void {
    const up = this.#o.node.running;
    sendJson(res, up ? 200 : 503, { status: up ? 'ok' : 'stopped' });
  }

  /** Ready: running, with at least one contact in the routing table (a node alone can serve nothing remote). */
  #ready(res: ServerResponse): void {
    const node = this.#o.node;
    const running = node.running;
    const contacts = running ? node.routingTable.size : 0;
    const ready = running && contacts > 0;
    sendJson(res, ready ? 200 : 503, { ready, checks: { running, routingTable: contacts } });
  }

  async #static(res: ServerResponse, file: string, method: string): Promise<void> {
    if (method !== 'GET' && method !== 'HEAD') throw new ApiError(405, 'method_not_allowed', 'use GET');
    const body = await readFile(new URL(`./dashboard/${file}`, import.meta.url)).catch(() => {
      throw new ApiError(404, 'not_found', `dashboard file ${file} is missing (run npm run build)`);
    });
    res.writeHead(200, {
      'content-type': MIME[file.split('.').pop()!] ?? 'application/octet-stream', 'content-length': body.byteLength, 'cache-control': 'no-cache',
      'content-security-policy': "default-src 'self'; style-src 'self'; script-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'",
      'x-frame-options': 'DENY',
    });
    res.end(method === 'HEAD' ? undefined : body);
  }

  /**
   * Server-sent events: `hello` (node info and recent events), then `stats` every streamInterval
   * and `node` for each node event, as they happen. The dashboard reads it with fetch (an
   * EventSource cannot send the Authorization header).
   */
  #stream(req: IncomingMessage, res: ServerResponse): void {
    const ctx = this.#ctx!;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive' });
    const send = (event: string, data: unknown): void => { res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`); };
    send('hello', { node: nodeInfo(ctx), events: ctx.node.events.recent() });
    const tick = (): void => { if (ctx.node.running) send('stats', statsBody(ctx)); };
    tick();
    const timer = setInterval(tick, this.#o.streamInterval);
    const off = ctx.node.events.on((e: NodeEvent) => send('node', e));
    this.#streams.add(res);
    const end = (): void => {
      clearInterval(timer);
      off();
      this.#streams.delete(res);
    };
    req.on('close', end);
    res.on('close', end);
  }
}

function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const fail = (err: Error): void => reject(err);
    server.once('error', fail);
    server.listen({ host, port, exclusive: true }, () => {
      server.off('error', fail);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** Host header names that mean this machine (a missing header is an HTTP/1.0 client on loopback). */
function loopbackHost(host: string | undefined): boolean {
  if (host === undefined) return true;
  const name = host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.replace(/:\d+$/, '');
  return name === 'localhost' || isLoopback(name);
}
