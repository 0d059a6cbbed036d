/**
 * The ZkDhtValue endpoints (docs/api.md): PUT /zk encrypts, proves and stores a payload as this
 * node's owner; POST /zk/values stores a value proven elsewhere (`zhtp-dht zk prove`); GET /zk/:key
 * reads the newest verified value and decrypts it with this node's owner secrets or ML-KEM key.
 * Nonces travel as decimal strings: a u64 does not fit a JSON number.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { idToHex, type Key } from '../id/index.js';
import type { GetZkResult, PutZkResult } from '../node/index.js';
import { MLKEM768_PUBLIC_KEY_BYTES } from '../crypto/index.js';
import { decodeZkValue, fieldToBytes, MAX_ZK_READERS, MAX_ZK_VALUE_BYTES, NONCE_LIMIT, ZK_ACCESS_LEVELS, type ZkAccessLevel } from '../zk/index.js';
import { ApiError, b64, base64Field, hex, intField, readBody, readJson, sendJson } from './http.js';
import type { RouteContext } from './routes.js';

/** Encrypts, proves and stores `{data, access?, name?, readers?, nonce?, ttl?, replicas?}` as this node's value. */
export async function putZk(ctx: RouteContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await readJson(req, ctx.maxJsonBytes);
  const data = base64Field(body, 'data', true)!;
  const ttl = intField(body.ttl, 'ttl', 1, 7 * 24 * 3600);
  const r = await ctx.node.putZk(data, {
    access: accessField(body.access), name: base64Field(body, 'name', false), readers: readersField(body.readers), nonce: nonceField(body.nonce),
    ttl: ttl === undefined ? undefined : ttl * 1000, replicationFactor: intField(body.replicas, 'replicas', 3, 12),
  });
  sendJson(res, 201, putBody(r));
}

/** Stores an encoded ZkDhtValue (application/octet-stream) after checking it as a holder would; `?ttl=&replicas=`. */
export async function storeZkValue(ctx: RouteContext, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const bytes = await readBody(req, MAX_ZK_VALUE_BYTES);
  const value = decodeZkValue(bytes);
  if (value === null) throw new ApiError(400, 'bad_request', 'the body is not an encoded ZkDhtValue (see zhtp-dht zk prove)');
  const ttl = intField(url.searchParams.get('ttl'), 'ttl', 1, 7 * 24 * 3600);
  const r = await ctx.node.storeZk(value, { ttl: ttl === undefined ? undefined : ttl * 1000, replicationFactor: intField(url.searchParams.get('replicas'), 'replicas', 3, 12) });
  sendJson(res, 201, putBody(r));
}

/** The newest verified value under `key`, decrypted unless `?decrypt=false`. */
export async function getZk(ctx: RouteContext, res: ServerResponse, key: Key, url: URL): Promise<void> {
  const decrypt = url.searchParams.get('decrypt');
  if (decrypt !== null && decrypt !== 'true' && decrypt !== 'false') throw new ApiError(400, 'bad_request', "'decrypt' must be true or false");
  const r = await ctx.node.getZk(key, { decrypt: decrypt !== 'false' });
  sendJson(res, 200, getBody(r));
}

function putBody(r: PutZkResult): Record<string, unknown> {
  const v = r.value;
  return {
    key: idToHex(r.key), access: v.accessLevel, name: b64(v.name), nonce: v.nonce.toString(), commitment: hex(fieldToBytes(v.commitment)),
    readers: v.wrappedKeys.length, replicas: r.replicas.length, durationMs: r.durationMs,
  };
}

function getBody(r: GetZkResult): Record<string, unknown> {
  const v = r.value;
  return {
    key: idToHex(r.key), access: v.accessLevel, name: b64(v.name), nonce: v.nonce.toString(), commitment: hex(fieldToBytes(v.commitment)),
    readers: v.wrappedKeys.length, size: v.encryptedData.byteLength, data: r.data === null ? null : b64(r.data),
    holders: r.holders, stale: r.stale, rejected: r.rejected, durationMs: r.durationMs,
  };
}

function accessField(v: unknown): ZkAccessLevel | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || !(ZK_ACCESS_LEVELS as readonly string[]).includes(v)) throw new ApiError(400, 'bad_request', `'access' must be one of ${ZK_ACCESS_LEVELS.join(', ')}`);
  return v as ZkAccessLevel;
}

function readersField(v: unknown): Uint8Array[] | undefined {
  if (v === undefined || v === null) return undefined;
  const hexKey = new RegExp(`^[0-9a-fA-F]{${2 * MLKEM768_PUBLIC_KEY_BYTES}}$`);
  if (!Array.isArray(v) || v.length > MAX_ZK_READERS || !v.every((k) => typeof k === 'string' && hexKey.test(k))) {
    throw new ApiError(400, 'bad_request', `'readers' must be a list of at most ${MAX_ZK_READERS} ML-KEM-768 public keys, ${MLKEM768_PUBLIC_KEY_BYTES} bytes each in hex`);
  }
  return (v as string[]).map((k) => new Uint8Array(Buffer.from(k, 'hex')));
}

function nonceField(v: unknown): bigint | undefined {
  if (v === undefined || v === null) return undefined;
  const n = typeof v === 'string' && /^(0|[1-9][0-9]{0,19})$/.test(v) ? BigInt(v) : null;
  if (n === null || n >= NONCE_LIMIT) throw new ApiError(400, 'bad_request', "'nonce' must be a decimal string of an integer in [0, 2^64)");
  return n;
}
