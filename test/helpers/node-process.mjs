#!/usr/bin/env node
/**
 * One DhtNode in its own process, so a test can `kill -9` it (T28, crash and restart). It loads
 * the BUILT node from dist (run `npm run build` first), starts it from a JSON config given as the
 * first argument, prints one JSON line `{"event":"started",...}` on stdout, then serves commands
 * read from stdin, one JSON object per line, each answered by one JSON line with the same `id`:
 *
 *   {"id":1,"op":"put","hex":"…"}  → {"id":1,"ok":true,"key":"…","replicas":[port…]} once node.put
 *                                     resolved: every replica acknowledged after its LMDB commit,
 *                                     so this line is the durable acknowledgement
 *   {"id":2,"op":"get","key":"…"}  → {"id":2,"ok":true,"hex":"…","from":port,"rejected":n}
 *   {"id":3,"op":"refresh"}        → {"id":3,"ok":true,"table":n}    (a self-lookup: fills the table)
 *   {"id":4,"op":"stats"}          → {"id":4,"ok":true,"table":n,"invalidStores":n,"records":n}
 *   {"id":5,"op":"stop"}           → {"id":5,"ok":true}, then the process exits 0
 *
 * A failed command answers {"id":…,"ok":false,"error":"CODE"}. The process also stops when stdin
 * closes (the test process died), so no node outlives its test.
 *
 * Config: {host, port, dataDir, bootstrap?: ["host:port"], fallback?: ["host:port"],
 * maintenanceInterval?, pingTimeout?, queryTimeout?, lookupTimeout?, retries?, verbose?}. `fallback` is
 * joined through only when the node found no peer on its own (no saved routing snapshot, or none
 * of its saved contacts answered); the started line says whether that happened. `verbose` adds
 * the RPC and session counters at start to that line (to diagnose a slow or failed rejoin).
 */
import { createInterface } from 'node:readline';
import { DhtNode } from '../../dist/src/node/index.js';
import { parseAddress } from '../../dist/src/util/index.js';

const config = JSON.parse(process.argv[2] ?? '{}');
const TUNING = ['maintenanceInterval', 'pingTimeout', 'queryTimeout', 'lookupTimeout', 'retries'];

/** Writes one JSON line; stdout is the only channel to the test. */
function say(line) {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

const hex = (bytes) => Buffer.from(bytes).toString('hex');
const bytes = (text) => new Uint8Array(Buffer.from(text, 'hex'));

const options = {
  host: config.host,
  port: config.port,
  dataDir: config.dataDir,
  bootstrap: config.bootstrap ?? [],
  // A single worker thread per process keeps 10 to 50 processes light on two cores.
  crypto: { threads: 1 },
};
for (const name of TUNING) if (config[name] !== undefined) options[name] = config[name];
const node = new DhtNode(options);

let stopping = null;
function stop(code) {
  stopping ??= node.stop().catch(() => {}).then(() => process.exit(code));
  return stopping;
}

async function start() {
  const started = performance.now();
  await node.start();
  const joined = node.routingTable.size;
  let fallbackUsed = false;
  if (joined === 0 && (config.fallback ?? []).length > 0) {
    fallbackUsed = true;
    await node.bootstrap(config.fallback.map((a) => parseAddress(a)));
  }
  say({
    event: 'started', id: hex(node.id), port: node.address.port, pid: process.pid,
    joinedWithoutBootstrapList: joined, fallbackUsed, table: node.routingTable.size,
    startMs: Math.round(performance.now() - started),
    ...(config.verbose ? { counters: { rpc: node.extendedStats().rpc, sessions: node.extendedStats().sessions } } : {}),
  });
}

async function serve(command) {
  switch (command.op) {
    case 'put': {
      const result = await node.put(bytes(command.hex));
      return { key: hex(result.key), replicas: result.replicas.map((c) => c.port) };
    }
    case 'get': {
      const result = await node.get(bytes(command.key));
      return { hex: hex(result.value), from: result.from.port, rejected: result.rejected };
    }
    case 'refresh':
      await node.findNode(node.id);
      return { table: node.routingTable.size };
    case 'stats': {
      const s = node.extendedStats();
      return { table: node.routingTable.size, invalidStores: s.invalidStores, records: s.storage?.records ?? null };
    }
    case 'stop':
      return {};
    default:
      throw Object.assign(new Error(`unknown op ${command.op}`), { code: 'BAD_REQUEST' });
  }
}

function onLine(text) {
  if (text.trim() === '') return;
  let command;
  try {
    command = JSON.parse(text);
  } catch {
    say({ id: null, ok: false, error: 'BAD_JSON' });
    return;
  }
  serve(command).then(
    (reply) => {
      say({ id: command.id, ok: true, ...reply });
      if (command.op === 'stop') void stop(0);
    },
    (err) => say({ id: command.id, ok: false, error: err?.code ?? String(err?.message ?? err) }),
  );
}

start().then(
  () => {
    const lines = createInterface({ input: process.stdin });
    lines.on('line', onLine);
    lines.on('close', () => void stop(0)); // the test process went away: do not outlive it
  },
  (err) => {
    say({ event: 'failed', error: err?.code ?? String(err?.message ?? err) });
    void stop(1);
  },
);
