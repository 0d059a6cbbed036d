/**
 * `put` and `get` through a running node's API. Bytes stream both ways: the file is read as it
 * is sent and the answer written as it arrives, so memory stays flat whatever the size. With
 * --bootstrap the older ephemeral-node path (ephemeral.ts) runs instead.
 */
import { once } from 'node:events';
import { createReadStream, createWriteStream, renameSync, rmSync, statSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { idFromHex } from '../id/index.js';
import { API_VERSION } from '../api/index.js';
import { intOption, parse, UsageError } from './args.js';
import { ApiClient, apiTarget, CLIENT_OPTIONS, parseJson, readText } from './client.js';
import { envOf, type Io } from './commands.js';
import { getThroughPeers, putThroughPeers, wantsBootstrap } from './ephemeral.js';
import { CommandError, EXIT } from './errors.js';
import { formatBytes, formatDuration } from './format.js';
import { Progress, type ProgressSink } from './progress.js';

const CONTENT = `/api/${API_VERSION}/content`;

/** Counts each chunk into `progress` on its way through. */
async function* counted(source: AsyncIterable<Buffer>, progress: Progress): AsyncGenerator<Buffer> {
  for await (const chunk of source) {
    progress.add(chunk.byteLength);
    yield chunk;
  }
}

/** `zhtp-dht put FILE [--replicas N] [--ttl SECONDS]`: the key on stdout, a summary on stderr. */
export async function put(argv: string[], io: Io): Promise<number> {
  if (wantsBootstrap(argv)) return putThroughPeers(argv, io);
  const { values, positionals } = parse(argv, { ...CLIENT_OPTIONS, replicas: { type: 'string' }, ttl: { type: 'string' } });
  if (positionals.length !== 1) throw new UsageError('usage: zhtp-dht put FILE [--replicas N] [--ttl SECONDS] [--api URL] [--data DIR] [--token T] [--json]');
  const file = positionals[0]!;
  const query = new URLSearchParams();
  if (values.replicas !== undefined) query.set('replicas', String(intOption(values, 'replicas', 3, 3, 12)));
  if (values.ttl !== undefined) query.set('ttl', String(intOption(values, 'ttl', 1, 1, 7 * 24 * 3600)));
  const size = fileSize(file);
  const client = new ApiClient(apiTarget(values, envOf(io)));
  const progress = new Progress(io.err as ProgressSink, 'put', size);
  const stream = Readable.from(counted(createReadStream(file), progress));
  const started = performance.now();
  let text: string;
  try {
    const res = await client.send('POST', `${CONTENT}${query.size > 0 ? `?${query}` : ''}`, { stream, length: size, type: 'application/octet-stream' });
    await client.check(res);
    text = (await readText(res)).toString('utf8');
  } catch (err) {
    stream.destroy(); // closes the file when the API refused before reading it all
    progress.abandon();
    throw err;
  }
  progress.finish();
  if (values.json === true) {
    io.out.write(text.endsWith('\n') ? text : `${text}\n`);
    return EXIT.ok;
  }
  const body = parseJson(text, 'put');
  const chunks = typeof body.chunks === 'number' && body.chunks > 0 ? ` as ${body.chunks} chunks` : '';
  const replicas = typeof body.replicas === 'number' ? ` on ${body.replicas} node(s)` : '';
  io.out.write(`${String(body.key)}\n`);
  io.err.write(`stored ${formatBytes(size)}${chunks}${replicas} in ${formatDuration(performance.now() - started)}\n`);
  return EXIT.ok;
}

/** Size of the file to upload; a missing or unreadable file fails before any request. */
function fileSize(file: string): number {
  try {
    const stat = statSync(file);
    if (!stat.isFile()) throw new CommandError(EXIT.failed, `${file} is not a file`);
    return stat.size;
  } catch (err) {
    if (err instanceof CommandError) throw err;
    throw new CommandError(EXIT.failed, `cannot read ${file}: ${(err as Error).message}`);
  }
}

/** `zhtp-dht get KEY [-o FILE]`: the content to FILE (replaced only once complete) or stdout. */
export async function get(argv: string[], io: Io): Promise<number> {
  if (wantsBootstrap(argv)) return getThroughPeers(argv, io);
  const { values, positionals } = parse(argv, { ...CLIENT_OPTIONS, output: { type: 'string', short: 'o' } });
  if (positionals.length !== 1) throw new UsageError('usage: zhtp-dht get KEY [-o FILE] [--api URL] [--data DIR] [--token T] [--json]');
  const key = positionals[0]!.toLowerCase();
  if (idFromHex(key) === null) throw new UsageError('KEY must be 64 hex digits');
  const output = typeof values.output === 'string' ? values.output : null;
  if (values.json === true && output === null) throw new UsageError('--json needs -o FILE: without it the content itself goes to stdout');
  const client = new ApiClient(apiTarget(values, envOf(io)));
  const started = performance.now();
  const res = await client.send('GET', `${CONTENT}/${key}`);
  await client.check(res);
  const length = Number(res.headers['content-length']);
  const progress = new Progress(io.err as ProgressSink, 'get', Number.isInteger(length) ? length : null);
  try {
    if (output === null) await writeAll(io.out, counted(res, progress), res);
    else await saveAs(output, counted(res, progress), res);
  } catch (err) {
    progress.abandon();
    res.destroy();
    throw new CommandError(EXIT.failed, `the transfer broke off after ${progress.done} bytes: ${(err as Error).message}`);
  }
  progress.finish();
  const ms = Math.round(performance.now() - started);
  if (values.json === true) io.out.write(`${JSON.stringify({ key, size: progress.done, file: output, durationMs: ms })}\n`);
  else io.err.write(`received ${formatBytes(progress.done)} in ${formatDuration(ms)}${output === null ? '' : ` into ${output}`}\n`);
  return EXIT.ok;
}

/** Writes every chunk to `out`, waiting for 'drain' when it is full (stdout is never ended). */
async function writeAll(out: NodeJS.WritableStream, chunks: AsyncIterable<Buffer>, res: IncomingMessage): Promise<void> {
  for await (const chunk of chunks) {
    if (!out.write(chunk)) await once(out, 'drain');
  }
  assertComplete(res);
}

/** Streams into `<file>.partial` and renames it when complete, so a broken transfer leaves FILE untouched. */
async function saveAs(file: string, chunks: AsyncIterable<Buffer>, res: IncomingMessage): Promise<void> {
  const partial = `${file}.partial`;
  try {
    await pipeline(Readable.from(chunks), createWriteStream(partial));
    assertComplete(res);
    renameSync(partial, file);
  } catch (err) {
    rmSync(partial, { force: true });
    throw err;
  }
}

/** A chunked answer cut short ends the stream without an error on some paths: check it did finish. */
function assertComplete(res: IncomingMessage): void {
  if (!res.complete) throw new Error('the connection closed before the end of the content');
}
