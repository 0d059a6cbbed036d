/**
 * `zhtp-dht contract deploy|find|info|create|call|query|receipt` (docs/cli.md): contracts through a
 * running node's API. deploy sends a .wasm file (or a built-in example) with its manifest fields;
 * find and info print verified manifests; create makes an instance and installs it at its holders;
 * call (signed by the node) and query run a method at the instance's holders; receipt prints the
 * receipt kept under a call id. Arguments are a JSON array with a types list, encoded here (encodeArgs); --returns decodes
 * the return data here (decodeArgs). A call whose receipt is not `ok` prints it and exits 1.
 */
import { existsSync, readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { API_VERSION } from '../api/index.js';
import {
  type AbiMethod, type AbiType, argsFromJson, argsToJson, decodeArgs, EXAMPLE_CONTRACTS, encodeArgs, type ExampleContract, exampleContract,
  MAX_GAS_LIMIT, parseAbiTypes,
} from '../contracts/index.js';
import { MLDSA65_PUBLIC_KEY_BYTES } from '../crypto/index.js';
import { intOption, parse, UsageError } from './args.js';
import { ApiClient, apiTarget, CLIENT_OPTIONS, parseJson, readText } from './client.js';
import { envOf, type Io } from './commands.js';
import { CommandError, EXIT } from './errors.js';
import { formatBytes, formatCount, formatDuration, formatPairs, formatTable } from './format.js';

const API = `/api/${API_VERSION}/contracts`;
type Json = Record<string, unknown>;

/** `zhtp-dht contract SUBCOMMAND ...`. */
export async function contract(argv: string[], io: Io): Promise<number> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'deploy': return deploy(rest, io);
    case 'find': return find(rest, io);
    case 'info': return info(rest, io);
    case 'create': return create(rest, io);
    case 'call': return run(rest, io, false);
    case 'query': return run(rest, io, true);
    case 'receipt': return receipt(rest, io);
    default: throw new UsageError(sub === undefined ? `contract needs a subcommand: ${SUBCOMMANDS}` : `unknown contract subcommand '${sub}' (${SUBCOMMANDS})`);
  }
}

const SUBCOMMANDS = 'deploy, find, info, create, call, query, receipt';
const isExample = (name: string): name is ExampleContract => Object.hasOwn(EXAMPLE_CONTRACTS, name);

/** `contract deploy FILE|EXAMPLE [--name N] [--version V] [--tags A,B] [--abi FILE|EXAMPLE] [--ttl S] [--replicas N]`. */
async function deploy(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, {
    ...CLIENT_OPTIONS, name: { type: 'string' }, version: { type: 'string' }, tags: { type: 'string' }, abi: { type: 'string' },
    ttl: { type: 'string' }, replicas: { type: 'string' },
  });
  if (positionals.length !== 1) throw new UsageError('usage: zhtp-dht contract deploy FILE.wasm|counter|token|registry [--name N] [--version V] [--tags A,B] [--abi FILE|EXAMPLE]');
  const source = positionals[0]!;
  const example = !existsSync(source) && isExample(source) ? source : null;
  const name = str(values.name) ?? example;
  const version = str(values.version) ?? (example === null ? null : '1.0.0');
  if (name === null || version === null) throw new UsageError('--name and --version are required for a .wasm file (an example defaults them)');
  const abiOption = str(values.abi);
  const abi = abiOption === null ? (example === null ? [] : EXAMPLE_CONTRACTS[example].abi) : abiFile(abiOption);
  const tagsOption = str(values.tags);
  const tags = tagsOption === null ? (example === null ? [] : EXAMPLE_CONTRACTS[example].tags) : tagsOption.split(',').map((t) => t.trim()).filter((t) => t !== '');
  const wasm = example === null ? readFile(source) : Buffer.from(exampleContract(example));
  const body = {
    wasm: wasm.toString('base64'), name, version, tags, abi,
    ttl: values.ttl === undefined ? undefined : intOption(values, 'ttl', 1, 1, 48 * 3600),
    replicas: values.replicas === undefined ? undefined : intOption(values, 'replicas', 3, 3, 12),
  };
  const text = await post(io, values, API, body);
  if (values.json === true) return printed(io, text);
  const r = parseJson(text, 'contract deploy');
  const tagLines = (Array.isArray(r.tagResults) ? r.tagResults as Json[] : []).map((t): [string, string] =>
    [`tag ${String(t.tag)}`, typeof t.error === 'string' ? `failed: ${t.error}` : `${String(t.replicas)} replica(s)`]);
  io.out.write(formatPairs([
    ['name', `${String(r.name)} ${String(r.version)}`],
    ['code hash', String(r.codeHash)],
    ['manifest key', String(r.key)],
    ['methods', list(r.methods)],
    ['size', `${formatBytes(Number(r.originalBytes))}, metered ${formatBytes(Number(r.meteredBytes))} (BLAKE3 ${String(r.meteredHash).slice(0, 16)}…)`],
    ['replicas', `code ${String((r.replicas as Json | undefined)?.code)}, manifest ${String((r.replicas as Json | undefined)?.manifest)}`],
    ...tagLines,
    ['took', formatDuration(Number(r.durationMs))],
  ]));
  return EXIT.ok;
}

/** `contract find TAG [--limit N]`: the verified manifests listed under TAG. */
async function find(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, { ...CLIENT_OPTIONS, limit: { type: 'string' } });
  if (positionals.length !== 1) throw new UsageError('usage: zhtp-dht contract find TAG [--limit N]');
  const limit = values.limit === undefined ? '' : `?limit=${intOption(values, 'limit', 64, 1, 256)}`;
  const text = await client(io, values).getText(`${API}/tags/${encodeURIComponent(positionals[0]!)}${limit}`);
  if (values.json === true) return printed(io, text);
  const r = parseJson(text, 'contract find');
  const found = Array.isArray(r.contracts) ? r.contracts as Json[] : [];
  const rows = found.map((c) => [String(c.name), String(c.version), short(c.ownerId), short(c.codeHash), String(c.key)]);
  io.out.write(formatTable(['NAME', 'VERSION', 'OWNER', 'CODE', 'KEY'], rows));
  const dropped = Object.entries((r.dropped ?? {}) as Record<string, number>);
  const drops = dropped.length === 0 ? '' : `; dropped ${dropped.map(([k, v]) => `${v} ${k}`).join(', ')}`;
  io.out.write(`${rows.length} contract(s) under '${String(r.tag)}' from ${String(r.publishers)} publisher(s)${r.truncated === true ? ' (more listed; raise --limit)' : ''}${drops}\n`);
  return EXIT.ok;
}

/** `contract info KEY` or `contract info NAME [--owner KEY|@FILE]`: one verified manifest and its ABI. */
async function info(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, { ...CLIENT_OPTIONS, owner: { type: 'string' } });
  if (positionals.length !== 1) throw new UsageError('usage: zhtp-dht contract info KEY | NAME [--owner PUBLIC_KEY|@FILE]');
  const arg = positionals[0]!;
  const byKey = /^[0-9a-fA-F]{64}$/.test(arg); // names are at most 55 characters: no clash
  if (byKey && values.owner !== undefined) throw new UsageError('--owner goes with a NAME, not a KEY');
  const path = byKey ? `${API}/manifests/${arg.toLowerCase()}` : `${API}/owners/${ownerOption(values.owner)}/${encodeURIComponent(arg)}`;
  const text = await client(io, values).getText(path);
  if (values.json === true) return printed(io, text);
  const m = parseJson(text, 'contract info');
  io.out.write(formatPairs([
    ['name', String(m.name)], ['version', String(m.version)], ['tags', list(m.tags)], ['owner id', String(m.ownerId)],
    ['code hash', String(m.codeHash)], ['manifest key', String(m.key)], ['meter version', String(m.meterVersion)], ['seq', String(m.seq)],
    ['signature', 'verified'],
  ]));
  const abi = Array.isArray(m.abi) ? m.abi as AbiMethod[] : [];
  io.out.write(abi.length === 0 ? 'no ABI published\n' : `methods:\n${abi.map((f) => `  ${signature(f)}\n`).join('')}`);
  return EXIT.ok;
}

/** `contract create CODEHASH [--salt TEXT]`: an instance on the node (its code fetched when missing); prints its id. */
async function create(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, { ...CLIENT_OPTIONS, salt: { type: 'string' } });
  if (positionals.length !== 1 || !/^[0-9a-fA-F]{64}$/.test(positionals[0]!)) throw new UsageError('usage: zhtp-dht contract create CODEHASH [--salt TEXT] (CODEHASH: 64 hex digits)');
  const salt = str(values.salt);
  if (salt !== null && Buffer.byteLength(salt) > 64) throw new UsageError('--salt must be at most 64 bytes');
  const text = await post(io, values, `${API}/instances`, { codeHash: positionals[0]!.toLowerCase(), salt: salt === null ? undefined : Buffer.from(salt).toString('base64') });
  if (values.json === true) return printed(io, text);
  const r = parseJson(text, 'contract create');
  io.out.write(`${String(r.instanceId)}\n`);
  io.err.write(`${r.created === true ? 'created' : 'already existed:'} instance of ${short(r.codeHash)}${r.fetched === true ? ' (code fetched from the DHT and metered here)' : ''}`
    + `${Array.isArray(r.holders) ? `; installed at ${String(r.installed)} of ${r.holders.length} holders` : ''}\n`);
  return EXIT.ok;
}

/** `contract receipt CALLID [--instance INSTANCE]`: the receipt kept under a call id (exit 1 when it is not ok). */
async function receipt(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, { ...CLIENT_OPTIONS, instance: { type: 'string' }, returns: { type: 'string' } });
  const inst = str(values.instance);
  if (positionals.length !== 1 || !/^[0-9a-fA-F]{64}$/.test(positionals[0]!) || (inst !== null && !/^[0-9a-fA-F]{64}$/.test(inst))) {
    throw new UsageError('usage: zhtp-dht contract receipt CALLID [--instance INSTANCE] [--returns T,...] (64 hex digits each)');
  }
  const returns = values.returns === undefined ? null : usage(() => parseAbiTypes(str(values.returns) ?? ''));
  const api = client(io, values);
  const text = await api.getText(`${API}/receipts/${positionals[0]!.toLowerCase()}${inst === null ? '' : `?instance=${inst.toLowerCase()}`}`);
  const r = parseJson(text, 'contract receipt');
  if (values.json === true) printed(io, text);
  else io.out.write(formatPairs([['call id', String(r.callId)], ['kept by', String(r.from)], ...receiptPairs(r, returns)]));
  return r.status === 'ok' ? EXIT.ok : EXIT.failed;
}

/** `contract call|query INSTANCE METHOD [ARGS_JSON] [--types T,..] [--returns T,..] [--gas N]`. */
async function run(argv: string[], io: Io, query: boolean): Promise<number> {
  const { values, positionals } = parse(argv, { ...CLIENT_OPTIONS, types: { type: 'string' }, returns: { type: 'string' }, gas: { type: 'string' } });
  const verb = query ? 'query' : 'call';
  if (positionals.length < 2 || positionals.length > 3) throw new UsageError(`usage: zhtp-dht contract ${verb} INSTANCE METHOD ['[ARGS]' --types T,...] [--returns T,...] [--gas N]`);
  const [instance, method, argsText] = positionals as [string, string, string | undefined];
  if (!/^[0-9a-fA-F]{64}$/.test(instance)) throw new UsageError('INSTANCE must be 64 hex digits');
  const types = usage(() => parseAbiTypes(str(values.types) ?? ''));
  const returns = values.returns === undefined ? null : usage(() => parseAbiTypes(str(values.returns) ?? ''));
  const input = usage(() => encodeArgs(types, argsFromJson(types, jsonArray(argsText))));
  const gasLimit = values.gas === undefined ? undefined : intOption(values, 'gas', 0, 1, MAX_GAS_LIMIT);
  const text = await post(io, values, `${API}/instances/${instance.toLowerCase()}/${verb}`, { method, input: Buffer.from(input).toString('base64'), gasLimit });
  const r = parseJson(text, `contract ${verb}`);
  const ok = r.status === 'ok';
  if (values.json === true) {
    printed(io, text);
    return ok ? EXIT.ok : EXIT.failed;
  }
  const network: Array<[string, string]> = query ? [] : [['call id', String(r.callId)], ['executed by', String(r.executor)], ['holders', String(r.replicas)]];
  io.out.write(formatPairs([...receiptPairs(r, returns), ...network]));
  return ok ? EXIT.ok : EXIT.failed;
}

function receiptPairs(r: Json, returns: AbiType[] | null): Array<[string, string]> {
  const data = Buffer.from(typeof r.returnData === 'string' ? r.returnData : '', 'base64');
  const pairs: Array<[string, string]> = [['status', String(r.status)]];
  if (typeof r.error === 'string') pairs.push(['error', r.error]);
  if (returns !== null && r.status === 'ok') {
    const values = decodeArgs(returns, data);
    pairs.push(['returned', values === null ? `0x${data.toString('hex')} (does not decode as ${returns.join(', ') || 'nothing'})` : JSON.stringify(argsToJson(returns, values))]);
  } else if (data.byteLength > 0) {
    pairs.push(['return data', `0x${data.toString('hex')}`]);
  }
  const events = Array.isArray(r.events) ? r.events as Json[] : [];
  pairs.push(['gas used', formatCount(Number(r.gasUsed))]);
  events.forEach((e, i) => pairs.push([`event ${i}`, `${topic(e.topic)} 0x${Buffer.from(String(e.data), 'base64').toString('hex')}`]));
  pairs.push(['writes', String(Array.isArray(r.writes) ? r.writes.length : 0)], ['version', String(r.version)], ['state hash', String(r.stateHash)]);
  return pairs;
}

/** An event topic as text when it is printable ASCII, else hex. */
function topic(b64: unknown): string {
  const bytes = Buffer.from(typeof b64 === 'string' ? b64 : '', 'base64');
  return /^[\x20-\x7e]+$/.test(bytes.toString('latin1')) ? bytes.toString('latin1') : `0x${bytes.toString('hex')}`;
}

function signature(f: AbiMethod): string {
  const params = (ps: AbiMethod['inputs']): string => (Array.isArray(ps) ? ps.map((p) => `${p.name}: ${p.type}`).join(', ') : '');
  return `${f.name}(${params(f.inputs)}) -> (${params(f.outputs)})${f.readonly ? '  [readonly]' : ''}`;
}

function client(io: Io, values: Record<string, unknown>): ApiClient {
  return new ApiClient(apiTarget(values, envOf(io)));
}

/** POSTs a JSON body and returns the 2xx answer's text (any other answer is thrown). */
async function post(io: Io, values: Record<string, unknown>, path: string, body: Json): Promise<string> {
  const api = client(io, values);
  const bytes = Buffer.from(JSON.stringify(body));
  const res = await api.send('POST', path, { stream: Readable.from([bytes]), length: bytes.byteLength, type: 'application/json' });
  await api.check(res);
  return (await readText(res)).toString('utf8');
}

/** Runs a local encoder; its RangeError is a usage error (exit 2). */
function usage<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof RangeError) throw new UsageError(err.message);
    throw err;
  }
}

function jsonArray(text: string | undefined): unknown[] {
  if (text === undefined) return [];
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new UsageError(`ARGS must be a JSON array such as '["0x01", 5]', not ${text}`);
  }
  if (!Array.isArray(v)) throw new UsageError('ARGS must be a JSON array');
  return v;
}

/** The ABI in --abi: a JSON file of methods, or an example's name. */
function abiFile(arg: string): AbiMethod[] {
  if (!existsSync(arg) && isExample(arg)) return EXAMPLE_CONTRACTS[arg].abi;
  let v: unknown;
  try {
    v = JSON.parse(readFile(arg).toString('utf8'));
  } catch (err) {
    if (err instanceof CommandError) throw err;
    throw new CommandError(EXIT.failed, `${arg} is not JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(v)) throw new CommandError(EXIT.failed, `${arg} must hold a JSON array of methods ({name, inputs, outputs, readonly})`);
  return v as AbiMethod[];
}

/** --owner: hex of an ML-DSA-65 public key, @FILE holding it, or none for the node itself. */
function ownerOption(v: unknown): string {
  if (v === undefined) return 'self';
  const text = String(v).startsWith('@') ? readFile(String(v).slice(1)).toString('utf8').trim() : String(v);
  if (!new RegExp(`^[0-9a-fA-F]{${2 * MLDSA65_PUBLIC_KEY_BYTES}}$`).test(text)) {
    throw new UsageError(`--owner must be an ML-DSA-65 public key: ${2 * MLDSA65_PUBLIC_KEY_BYTES} hex digits, or @FILE holding them`);
  }
  return text.toLowerCase();
}

function readFile(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new CommandError(EXIT.failed, `cannot read ${file}: ${(err as Error).message}`);
  }
}

function str(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}

function list(v: unknown): string {
  return Array.isArray(v) && v.length > 0 ? v.join(', ') : '-';
}

function short(v: unknown): string {
  return typeof v === 'string' ? `${v.slice(0, 16)}…` : '-';
}

function printed(io: Io, text: string): number {
  io.out.write(text.endsWith('\n') ? text : `${text}\n`);
  return EXIT.ok;
}
