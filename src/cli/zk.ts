/**
 * `zhtp-dht zk put|get|prove|verify` (docs/cli.md): ZkDhtValues through a running node's API (put,
 * get), and offline (prove builds a proven value file with an owner key file, verify checks a value
 * file exactly as a storage node would). Proofs and verifications run in a ZkPool worker here too.
 */
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { API_VERSION } from '../api/index.js';
import { kemWrap, MLKEM768_PUBLIC_KEY_BYTES } from '../crypto/index.js';
import { idFromHex, idToHex, type Key } from '../id/index.js';
import { systemClock, systemRandom } from '../util/index.js';
import {
  buildZkValue, decodeZkOwner, decodeZkValue, encodeZkOwner, encodeZkValue, randomZkOwner, verifyZkValue, ZK_ACCESS_LEVELS,
  type ZkAccessLevel, type ZkDhtValue, zkKey, type ZkOwner, ZkPool,
} from '../zk/index.js';
import { intOption, parse, UsageError } from './args.js';
import { ApiClient, apiTarget, CLIENT_OPTIONS, parseJson, readText } from './client.js';
import { envOf, type Io } from './commands.js';
import { CommandError, EXIT } from './errors.js';
import { formatBytes, formatDuration, formatPairs } from './format.js';

const ZK = `/api/${API_VERSION}/zk`;
const VALUE_OPTIONS = {
  access: { type: 'string' }, name: { type: 'string' }, reader: { type: 'string', multiple: true }, nonce: { type: 'string' },
} as const;

/** `zhtp-dht zk SUBCOMMAND ...`. */
export async function zk(argv: string[], io: Io): Promise<number> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'put': return put(rest, io);
    case 'get': return get(rest, io);
    case 'prove': return prove(rest, io);
    case 'verify': return verify(rest, io);
    default: throw new UsageError(sub === undefined ? 'zk needs a subcommand: put, get, prove or verify' : `unknown zk subcommand '${sub}' (put, get, prove, verify)`);
  }
}

/** `zk put FILE [value options]` or `zk put --value FILE`: stores through the node's API; prints the key. */
async function put(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, { ...CLIENT_OPTIONS, ...VALUE_OPTIONS, value: { type: 'string' }, ttl: { type: 'string' }, replicas: { type: 'string' } });
  const client = new ApiClient(apiTarget(values, envOf(io)));
  const ttl = values.ttl === undefined ? undefined : intOption(values, 'ttl', 1, 1, 7 * 24 * 3600);
  const replicas = values.replicas === undefined ? undefined : intOption(values, 'replicas', 3, 3, 12);
  let path: string;
  let body: Buffer;
  let type: string;
  if (typeof values.value === 'string') {
    if (positionals.length > 0 || values.access !== undefined || values.reader !== undefined) throw new UsageError('--value FILE stores a proven value as it is: no FILE, --access or --reader');
    const query = new URLSearchParams();
    if (ttl !== undefined) query.set('ttl', String(ttl));
    if (replicas !== undefined) query.set('replicas', String(replicas));
    [path, body, type] = [`${ZK}/values${query.size > 0 ? `?${query}` : ''}`, readFile(values.value), 'application/octet-stream'];
  } else {
    if (positionals.length !== 1) throw new UsageError('usage: zhtp-dht zk put FILE [--access A] [--name TEXT] [--reader KEY]... [--nonce N] [--ttl S] [--replicas N]');
    const options = {
      access: accessOption(values), name: nameOption(values)?.toString('base64'), readers: readerOption(values).map((k) => Buffer.from(k).toString('hex')),
      nonce: nonceOption(values)?.toString(), ttl, replicas,
    };
    const json = { data: readFile(positionals[0]!).toString('base64'), ...options };
    [path, body, type] = [ZK, Buffer.from(JSON.stringify(json)), 'application/json'];
  }
  const res = await client.send(path === ZK ? 'PUT' : 'POST', path, { stream: Readable.from([body]), length: body.byteLength, type });
  await client.check(res);
  const text = (await readText(res)).toString('utf8');
  if (values.json === true) return printed(io, text);
  const r = parseJson(text, 'zk put');
  io.out.write(`${String(r.key)}\n`);
  io.err.write(`stored ${String(r.access)} value at nonce ${String(r.nonce)} on ${String(r.replicas)} node(s) in ${formatDuration(Number(r.durationMs))}\n`);
  return EXIT.ok;
}

/** `zk get KEY [-o FILE] [--sealed]`: the plaintext to FILE or stdout; --sealed verifies without decrypting. */
async function get(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, { ...CLIENT_OPTIONS, output: { type: 'string', short: 'o' }, sealed: { type: 'boolean' } });
  if (positionals.length !== 1) throw new UsageError('usage: zhtp-dht zk get KEY [-o FILE] [--sealed]');
  const key = keyArgument(positionals[0]!);
  const client = new ApiClient(apiTarget(values, envOf(io)));
  const text = await client.getText(`${ZK}/${idToHex(key)}${values.sealed === true ? '?decrypt=false' : ''}`);
  if (values.json === true) return printed(io, text);
  const r = parseJson(text, 'zk get');
  const summary = `${String(r.access)} value, nonce ${String(r.nonce)}, ${String(r.readers)} reader(s), served by ${String(r.holders)} holder(s), proof verified`;
  if (typeof r.data !== 'string') {
    io.out.write(formatPairs([['key', String(r.key)], ['access', String(r.access)], ['nonce', String(r.nonce)], ['commitment', String(r.commitment)],
      ['size', formatBytes(Number(r.size))], ['holders', String(r.holders)], ['proof', 'verified']]));
    return EXIT.ok;
  }
  const data = Buffer.from(r.data, 'base64');
  if (typeof values.output === 'string') writeFileSync(values.output, data);
  else io.out.write(data);
  io.err.write(`${summary}; ${formatBytes(data.byteLength)}\n`);
  return EXIT.ok;
}

/** `zk prove FILE --owner KEYFILE -o VALUEFILE [value options]`: builds and proves a value offline; prints its key. */
async function prove(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, { ...VALUE_OPTIONS, owner: { type: 'string' }, output: { type: 'string', short: 'o' } });
  if (positionals.length !== 1 || typeof values.owner !== 'string' || typeof values.output !== 'string') {
    throw new UsageError('usage: zhtp-dht zk prove FILE --owner KEYFILE -o VALUEFILE [--access A] [--name TEXT] [--reader KEY]... [--nonce N]');
  }
  const owner = ownerFile(values.owner, io);
  const accessLevel = accessOption(values) ?? 'private';
  // Offline there is no network to ask for the stored nonce: the time in ms orders a writer's proofs.
  const nonce = nonceOption(values) ?? BigInt(Math.floor(systemClock.now()));
  const pool = new ZkPool({ threads: 1 });
  try {
    const started = systemClock.now();
    const { key, value } = await buildZkValue({
      // A handful of ML-KEM encapsulations: this one-shot process has no coordinator to keep free.
      wrap: async (publicKeys, k, ad, seeds) => kemWrap(publicKeys, k, ad, seeds),
      prove: (signals) => pool.prove('storage_access', signals),
    }, systemRandom, { owner, name: nameOption(values), nonce, accessLevel, data: readFile(positionals[0]!), readers: readerOption(values) });
    writeFileSync(values.output, encodeZkValue(value));
    io.out.write(`${idToHex(key)}\n`);
    io.err.write(`proved ${accessLevel} value at nonce ${nonce} in ${formatDuration(systemClock.now() - started)}; store it with zhtp-dht zk put --value ${values.output}\n`);
    return EXIT.ok;
  } finally {
    await pool.close();
  }
}

/** `zk verify VALUEFILE [--key KEY]`: the checks a storage node makes; exit 0 when the value passes them. */
async function verify(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, { key: { type: 'string' }, json: { type: 'boolean' } });
  if (positionals.length !== 1) throw new UsageError('usage: zhtp-dht zk verify VALUEFILE [--key KEY]');
  const value = decodeZkValue(readFile(positionals[0]!));
  if (value === null) throw new CommandError(EXIT.failed, `BAD_REQUEST: ${positionals[0]} is not an encoded ZkDhtValue within its limits`);
  const key = typeof values.key === 'string' ? keyArgument(values.key) : zkKey(value.commitment, value.name);
  const pool = new ZkPool({ threads: 1 });
  let verdict: string;
  try {
    verdict = await verifyZkValue((signals, proof) => pool.check('storage_access', signals, proof), key, value);
  } finally {
    await pool.close();
  }
  if (verdict !== 'valid') throw new CommandError(EXIT.failed, `${verdict}: the value would be refused under ${idToHex(key)}`);
  if (values.json === true) return printed(io, JSON.stringify(describe(key, value)));
  io.out.write(formatPairs(Object.entries(describe(key, value)).map(([k, v]) => [k, String(v)])));
  return EXIT.ok;
}

function describe(key: Key, v: ZkDhtValue): Record<string, string | number> {
  return {
    key: idToHex(key), access: v.accessLevel, nonce: v.nonce.toString(), commitment: v.commitment.toString(16).padStart(64, '0'),
    readers: v.wrappedKeys.length, size: v.encryptedData.byteLength, proof: 'valid',
  };
}

function printed(io: Io, text: string): number {
  io.out.write(text.endsWith('\n') ? text : `${text}\n`);
  return EXIT.ok;
}

function readFile(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new CommandError(EXIT.failed, `cannot read ${file}: ${(err as Error).message}`);
  }
}

/** The owner in KEYFILE; a missing file is created (mode 0600) with a new random owner. */
function ownerFile(file: string, io: Io): ZkOwner {
  if (!existsSync(file)) {
    const owner = randomZkOwner(systemRandom);
    writeFileSync(file, `${encodeZkOwner(owner)}\n`, { mode: 0o600, flag: 'wx' });
    chmodSync(file, 0o600);
    io.err.write(`created owner key ${file}: keep it secret, it writes and opens this owner's values\n`);
    return owner;
  }
  const owner = decodeZkOwner(readFile(file).toString('utf8'));
  if (owner === null) throw new CommandError(EXIT.failed, `${file} is not an owner key (128 hex digits)`);
  return owner;
}

function keyArgument(text: string): Key {
  const key = idFromHex(text.toLowerCase()) as Key | null;
  if (key === null) throw new UsageError('KEY must be 64 hex digits');
  return key;
}

function accessOption(values: Record<string, unknown>): ZkAccessLevel | undefined {
  const v = values.access;
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !(ZK_ACCESS_LEVELS as readonly string[]).includes(v)) throw new UsageError(`--access must be one of ${ZK_ACCESS_LEVELS.join(', ')}`);
  return v as ZkAccessLevel;
}

function nameOption(values: Record<string, unknown>): Buffer | undefined {
  return typeof values.name === 'string' ? Buffer.from(values.name, 'utf8') : undefined;
}

function nonceOption(values: Record<string, unknown>): bigint | undefined {
  const v = values.nonce;
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !/^(0|[1-9][0-9]{0,19})$/.test(v) || BigInt(v) >= 1n << 64n) throw new UsageError('--nonce must be an integer in [0, 2^64)');
  return BigInt(v);
}

/** ML-KEM-768 public keys of --reader: hex, or @FILE holding hex (what GET /api/v1/node shows as mlkem768). */
function readerOption(values: Record<string, unknown>): Uint8Array[] {
  return ((values.reader as string[] | undefined) ?? []).map((arg) => {
    const text = (arg.startsWith('@') ? readFile(arg.slice(1)).toString('utf8') : arg).trim();
    if (!new RegExp(`^[0-9a-fA-F]{${2 * MLKEM768_PUBLIC_KEY_BYTES}}$`).test(text)) {
      throw new UsageError(`--reader must be an ML-KEM-768 public key: ${2 * MLKEM768_PUBLIC_KEY_BYTES} hex digits, or @FILE holding them`);
    }
    return new Uint8Array(Buffer.from(text, 'hex'));
  });
}

