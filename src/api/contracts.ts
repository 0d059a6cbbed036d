/**
 * The contract endpoints (docs/api.md): POST /contracts deploys a module as this node; GET
 * /contracts/tags/:tag finds verified manifests; GET /contracts/manifests/:key and
 * /contracts/owners/:owner/:name read one; POST /contracts/code/:hash fetches code into this
 * node's engine; /contracts/instances creates instances and runs calls and queries on this node,
 * answering receipts. Bytes are base64, ids and hashes hex, u64 values decimal strings. A receipt
 * of a failed call (revert, out of gas, ...) is an answer (200), not an error.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type AbiType, argsFromJson, argsToJson, decodeArgs, encodeArgs, MAX_GAS_LIMIT, parseAbiTypes, type Receipt } from '../contracts/index.js';
import { MLDSA65_PUBLIC_KEY_BYTES } from '../crypto/index.js';
import { idFromHex, idToHex, type Key } from '../id/index.js';
import { DEFAULT_FIND_LIMIT, MAX_FIND_LIMIT, type ContractListing } from '../node/index.js';
import { ApiError, b64, base64Field, hex, intField, readJson, sendJson } from './http.js';
import type { RouteContext } from './routes.js';

type Json = Record<string, unknown>;

/** Deploys `{wasm, name, version, tags?, abi?, ttl?, replicas?}` as this node. */
export async function deployContract(ctx: RouteContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await readJson(req, ctx.maxJsonBytes);
  const wasm = base64Field(body, 'wasm', true)!;
  const ttl = intField(body.ttl, 'ttl', 1, 48 * 3600);
  // name, version, tags and abi are checked by the manifest's rules (a RangeError naming the field: 400).
  const r = await ctx.node.deployContract({
    wasm, name: body.name as string, version: body.version as string, tags: body.tags as string[] | undefined, abi: body.abi as never,
    ttl: ttl === undefined ? undefined : ttl * 1000, replicationFactor: intField(body.replicas, 'replicas', 3, 12),
  });
  sendJson(res, 201, {
    key: idToHex(r.key), codeHash: hex(r.codeHash), name: r.manifest.name, version: r.manifest.version, tags: r.manifest.tags, seq: r.seq,
    methods: r.methods, originalBytes: r.originalBytes, meteredBytes: r.meteredBytes, meteredHash: hex(r.meteredHash), replicas: r.replicas,
    tagResults: r.tags, durationMs: r.durationMs,
  });
}

/** The verified manifests under `tag` (`?limit=N`). */
export async function findContracts(ctx: RouteContext, res: ServerResponse, tag: string, url: URL): Promise<void> {
  const limit = intField(url.searchParams.get('limit'), 'limit', 1, MAX_FIND_LIMIT) ?? DEFAULT_FIND_LIMIT;
  const r = await ctx.node.findContracts(tag, { limit });
  sendJson(res, 200, {
    tag: r.tag, contracts: r.contracts.map((l) => listingBody(l)), publishers: r.publishers, dropped: r.dropped, truncated: r.truncated,
    durationMs: r.durationMs,
  });
}

/** One verified manifest by its record key. */
export async function contractByKey(ctx: RouteContext, res: ServerResponse, key: string): Promise<void> {
  sendJson(res, 200, listingBody(await ctx.node.contractInfoByKey(hex32(key, 'key') as Key), true));
}

/** One verified manifest by owner (`self` or the ML-DSA-65 public key in hex) and name. */
export async function contractByName(ctx: RouteContext, res: ServerResponse, owner: string, name: string): Promise<void> {
  const pk = owner === 'self' ? null : publicKey(owner);
  sendJson(res, 200, listingBody(await ctx.node.contractInfo(pk, name), true));
}

/** Fetches the code under `hash` into this node's engine (a no-op when it is here). */
export async function fetchCode(ctx: RouteContext, res: ServerResponse, hash: string): Promise<void> {
  const r = await ctx.node.fetchContractCode(hex32(hash, 'code hash'));
  sendJson(res, 200, {
    codeHash: hex(r.codeHash), fetched: r.fetched, methods: r.methods, meterVersion: r.meterVersion, originalBytes: r.originalBytes,
    meteredBytes: r.meteredBytes, meteredHash: hex(r.meteredHash), durationMs: r.durationMs,
  });
}

/** Creates an instance of `{codeHash, salt?}` with this node as creator. */
export async function createInstance(ctx: RouteContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await readJson(req, ctx.maxJsonBytes);
  if (typeof body.codeHash !== 'string') throw new ApiError(400, 'bad_request', "'codeHash' is required (64 hex digits)");
  const r = await ctx.node.createContractInstance(hex32(body.codeHash, 'codeHash'), { salt: base64Field(body, 'salt', false) });
  sendJson(res, r.created ? 201 : 200, {
    instanceId: hex(r.instanceId), codeHash: hex(r.codeHash), created: r.created, fetched: r.fetched, holders: r.holders.map((c) => hex(c.id)), installed: r.installed,
  });
}

/** An instance's committed metadata on this node. */
export function instanceInfo(ctx: RouteContext, res: ServerResponse, id: string): void {
  const instanceId = hex32(id, 'instance id');
  const meta = ctx.node.contractInstance(instanceId);
  if (meta === null) throw new ApiError(404, 'not_found', `no instance ${id} on this node`);
  sendJson(res, 200, { instanceId: hex(instanceId), codeHash: hex(meta.codeHash), creator: hex(meta.creator), version: meta.version, stateHash: hex(meta.stateHash) });
}

/**
 * Runs `{method, input? | args + types, returns?, gasLimit?}` on an instance: a call (writes
 * committed) or a query. `returns` decodes the return data into `decoded`.
 */
export async function runMethod(ctx: RouteContext, req: IncomingMessage, res: ServerResponse, id: string, query: boolean): Promise<void> {
  const instance = hex32(id, 'instance id');
  const body = await readJson(req, ctx.maxJsonBytes);
  if (typeof body.method !== 'string') throw new ApiError(400, 'bad_request', "'method' is required");
  const input = inputOf(body);
  const returns = body.returns === undefined || body.returns === null ? null : parseAbiTypes(body.returns);
  const options = { gasLimit: intField(body.gasLimit, 'gasLimit', 1, MAX_GAS_LIMIT) };
  if (query) {
    sendJson(res, 200, receiptBody(await ctx.node.queryContract(instance, body.method, input, options), returns));
    return;
  }
  const r = await ctx.node.callContract(instance, body.method, input, options);
  sendJson(res, 200, { ...receiptBody(r, returns), callId: hex(r.callId), replicas: r.replicas, executor: hex(r.executor.id) });
}

/** The receipt kept under a call id: this node's copy, else the holders' of `?instance=`. */
export async function contractReceipt(ctx: RouteContext, res: ServerResponse, id: string, url: URL): Promise<void> {
  const callId = hex32(id, 'call id');
  const inst = url.searchParams.get('instance');
  const r = await ctx.node.contractReceipt(callId, inst === null ? {} : { instance: hex32(inst, 'instance id') });
  if (r === null) throw new ApiError(404, 'not_found', `no receipt ${id}${inst === null ? ' on this node (add ?instance= to ask its holders)' : ' at the instance\'s holders'}`);
  sendJson(res, 200, { ...receiptBody(r, null), callId: hex(r.callId), from: hex(r.executor.id) });
}

/** The call's input: `input` (base64), or `args` encoded as `types`; not both. */
function inputOf(body: Json): Uint8Array | undefined {
  const raw = base64Field(body, 'input', false);
  if (body.args === undefined || body.args === null) {
    if (body.types !== undefined && body.types !== null) throw new ApiError(400, 'bad_request', "'types' goes with 'args'");
    return raw;
  }
  if (raw !== undefined) throw new ApiError(400, 'bad_request', "give 'input' or 'args', not both");
  if (!Array.isArray(body.args)) throw new ApiError(400, 'bad_request', "'args' must be a JSON array");
  const types = parseAbiTypes(body.types ?? []);
  return encodeArgs(types, argsFromJson(types, body.args as unknown[]));
}

/** A receipt as JSON; `decoded` when `returns` was given (null when the data does not decode as those types). */
export function receiptBody(r: Receipt, returns: AbiType[] | null): Json {
  const body: Json = {
    status: r.status, gasUsed: r.gasUsed, returnData: b64(r.returnData),
    events: r.events.map((e) => ({ topic: b64(e.topic), data: b64(e.data) })),
    writes: r.writes.map((w) => ({ key: b64(w.key), value: w.value === null ? null : b64(w.value) })),
    version: r.version, stateHash: hex(r.stateHash),
  };
  if (returns !== null) {
    const values = r.status === 'ok' ? decodeArgs(returns, r.returnData) : null;
    body.decoded = values === null ? null : argsToJson(returns, values);
  }
  if (r.error !== undefined) body.error = r.error;
  return body;
}

function listingBody(l: ContractListing, full = false): Json {
  const m = l.manifest;
  const body: Json = {
    key: idToHex(l.key), name: m.name, version: m.version, tags: m.tags, abi: m.abi, owner: hex(m.owner), ownerId: idToHex(l.ownerId),
    meterVersion: m.meterVersion, codeHash: hex(m.codeHash), seq: l.seq,
  };
  if (full) body.signed = b64(l.signed);
  return body;
}

function hex32(text: string, what: string): Uint8Array {
  const id = idFromHex(text.toLowerCase());
  if (id === null) throw new ApiError(400, 'bad_key', `the ${what} must be 64 hex digits`);
  return id;
}

function publicKey(text: string): Uint8Array {
  if (!new RegExp(`^[0-9a-fA-F]{${2 * MLDSA65_PUBLIC_KEY_BYTES}}$`).test(text)) {
    throw new ApiError(400, 'bad_request', `the owner must be 'self' or an ML-DSA-65 public key in hex (${MLDSA65_PUBLIC_KEY_BYTES} bytes)`);
  }
  return new Uint8Array(Buffer.from(text, 'hex'));
}
