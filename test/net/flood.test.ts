import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Id } from '../../src/id/index.js';
import { DhtNode } from '../../src/node/index.js';
import { encodeMessage } from '../../src/transport/index.js';
import { DATAGRAM_PAYLOAD, MIN_DATAGRAM, SeededRandom } from '../../src/util/index.js';
import { encode, type Message, WIRE_LIMITS } from '../../src/wire/index.js';
import { pingFromAnotherProcess } from '../helpers/pinger.js';
import { report } from '../helpers/report.js';
import { THRESHOLDS } from '../thresholds.js';

const RANDOM_DATAGRAMS = 10_000;
const MUTANTS = 10_000;
/** Datagrams the attacker sends per 5 ms: 10,000 a second. */
const BATCH = 50;

/** The attacker process: reads length-prefixed datagrams from a file, sends BATCH every 5 ms, exits. */
const ATTACKER = `
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
const [file, port, batch] = process.argv.slice(-3);
const bytes = readFileSync(file);
const datagrams = [];
for (let at = 0; at < bytes.length; at += 2 + bytes.readUInt16BE(at)) datagrams.push(bytes.subarray(at + 2, at + 2 + bytes.readUInt16BE(at)));
const socket = createSocket('udp4');
await new Promise((resolve) => socket.bind(0, '127.0.0.1', resolve));
for (let i = 0; i < datagrams.length; i += Number(batch)) {
  for (const d of datagrams.slice(i, i + Number(batch))) socket.send(d, Number(port), '127.0.0.1');
  await new Promise((resolve) => setTimeout(resolve, 5));
}
await new Promise((resolve) => setTimeout(resolve, 50));
socket.close();
`;

/** Valid requests of every type, as whole frames, to mutate. */
function seeds(rnd: SeededRandom): Uint8Array[] {
  const sender = rnd.bytes(32) as Id;
  const id = rnd.bytes(32) as Id;
  const messages: Message[] = [
    { type: 'PING', tid: 1, sender, flags: 0 },
    { type: 'FIND_NODE', tid: 2, sender, flags: 0, target: id },
    { type: 'FIND_VALUE', tid: 3, sender, flags: 0, key: id },
    { type: 'STORE', tid: 4, sender, flags: 0, key: id, value: rnd.bytes(64), ttl: 60, token: rnd.bytes(WIRE_LIMITS.tokenBytes) },
    { type: 'NODES', tid: 5, sender, flags: 0, contacts: [{ id, host: '127.0.0.1', port: 9 }], token: rnd.bytes(WIRE_LIMITS.tokenBytes) },
    { type: 'VALUE', tid: 6, sender, flags: 0, value: rnd.bytes(32), contacts: [], token: new Uint8Array(0) },
  ];
  return messages.map((m) => Uint8Array.from(encodeMessage(encode(m), 0)[0]!));
}

function mutate(seed: Uint8Array, rnd: SeededRandom): Uint8Array {
  const out = Uint8Array.from(seed);
  const flips = 1 + rnd.int(4);
  for (let i = 0; i < flips; i++) out[rnd.int(out.length)] = rnd.int(256);
  const mode = rnd.int(4);
  if (mode === 0) return out.subarray(0, rnd.int(out.length));           // truncation
  if (mode === 1) { out[1] = 0xdc; return out; }                          // lying array length
  if (mode === 2) { out[3] = 200 + rnd.int(56); return out; }             // unknown type id
  return out;
}

describe('malformed-datagram flood', () => {
  let root: string;
  let target: DhtNode;
  let pinger: DhtNode;
  const logLines: Array<{ at: number; line: string }> = [];

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'zhtp-flood-'));
    target = new DhtNode({ host: '127.0.0.1', port: 0, dataDir: join(root, 'target'), logger: { log: (_level, line) => logLines.push({ at: Date.now(), line }) } });
    await target.start();
    pinger = new DhtNode({ host: '127.0.0.1', port: 0, ephemeral: true, pingTimeout: 1000, retries: 0 });
    await pinger.start();
  });
  afterAll(async () => {
    await pinger?.stop();
    await target?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('T01 keeps answering PINGs while 20,000 bad datagrams arrive, dropping out-of-size ones before decode', async () => {
    const rnd = new SeededRandom(1);
    const templates = seeds(rnd);
    let oversize = 0;
    let undersize = 0;
    let uncaught = 0;
    const onUncaught = (): void => { uncaught++; };
    process.on('uncaughtException', onUncaught);
    let floodDone = false;

    // The attacker is another process, as it would be: it shares neither our event loop nor our heap.
    const file = join(root, 'flood.bin');
    const parts: Buffer[] = [];
    for (let n = 0; n < RANDOM_DATAGRAMS + MUTANTS; n++) {
      const bytes = n < RANDOM_DATAGRAMS ? rnd.bytes(rnd.int(1501)) : mutate(templates[n % templates.length]!, rnd);
      if (bytes.byteLength > DATAGRAM_PAYLOAD) oversize++;
      if (bytes.byteLength < MIN_DATAGRAM) undersize++;
      const length = Buffer.alloc(2);
      length.writeUInt16BE(bytes.byteLength);
      parts.push(length, Buffer.from(bytes));
    }
    writeFileSync(file, Buffer.concat(parts));
    parts.length = 0;
    const attack = (): Promise<void> => new Promise<void>((resolve) => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', ATTACKER, file, String(target.address.port), String(BATCH)], {
        stdio: ['ignore', 'inherit', 'inherit'],
      });
      child.on('exit', () => resolve());
    });
    // A first, unmeasured flood warms the JIT and lets V8 size its heap; the second is measured.
    await attack();
    const dropsBefore = target.extendedStats().transport.drops.too_large;
    const smallBefore = target.extendedStats().transport.drops.too_small;
    const rssBefore = process.memoryUsage().rss;
    const flood = attack().then(() => { floodDone = true; });

    const rtts: number[] = [];
    let lost = 0;
    const deadline = Date.now() + 60_000;
    while ((!floodDone || rtts.length + lost < 50) && Date.now() < deadline) {
      const t = performance.now();
      try {
        await pinger.ping({ host: '127.0.0.1', port: target.address.port });
        rtts.push(performance.now() - t);
      } catch {
        lost++; // counted and asserted below
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await flood;
    await new Promise((resolve) => setTimeout(resolve, 200)); // let the last datagrams land

    rtts.sort((a, b) => a - b);
    const answered = rtts.length / (rtts.length + lost);
    const p99 = rtts[Math.floor(rtts.length * 0.99)] ?? Infinity;
    const stats = target.extendedStats();
    const tooLarge = stats.transport.drops.too_large - dropsBefore;
    const tooSmall = stats.transport.drops.too_small - smallBefore;
    process.off('uncaughtException', onUncaught);
    // The attacker has one source host: its lines must come at most one per 10 s window.
    const lines = logLines.filter((l) => l.line.includes('(peer 127.0.0.1')); // both floods
    const windows = Math.max(1, Math.ceil(((lines.at(-1)?.at ?? 0) - (lines[0]?.at ?? 0) + 1) / 10_000));
    const linesPerWindow = lines.length / windows;
    const rssGrowthMiB = (process.memoryUsage().rss - rssBefore) / 2 ** 20;
    const T01 = THRESHOLDS.T01;
    report({ test: 'T01', figure: 'pings_answered', value: answered, threshold: T01.pings_answered, pass: answered >= T01.pings_answered });
    report({ test: 'T01', figure: 'ping_p99_ms', value: p99, threshold: T01.ping_p99_ms, pass: p99 <= T01.ping_p99_ms });
    report({ test: 'T01', figure: 'oversize_dropped_before_decode', value: tooLarge, threshold: oversize, pass: tooLarge === oversize });
    report({ test: 'T01', figure: 'undersize_dropped_before_decode', value: tooSmall, threshold: undersize, pass: tooSmall === undersize });
    report({ test: 'T01', figure: 'rss_growth_mib', value: rssGrowthMiB, threshold: T01.rss_growth_mib, pass: rssGrowthMiB < T01.rss_growth_mib });
    report({ test: 'T01', figure: 'uncaught_exceptions', value: uncaught, threshold: T01.uncaught_exceptions, pass: uncaught === 0 });
    report({ test: 'T01', figure: 'log_lines_per_source_per_10s', value: linesPerWindow, threshold: T01.log_lines_per_source_per_10s, pass: linesPerWindow <= T01.log_lines_per_source_per_10s });

    expect(target.running).toBe(true);
    expect(answered).toBeGreaterThanOrEqual(T01.pings_answered);
    expect(p99).toBeLessThanOrEqual(T01.ping_p99_ms);
    expect(tooLarge).toBe(oversize);
    expect(tooSmall).toBe(undersize);
    expect(uncaught).toBe(0);
    expect(linesPerWindow).toBeLessThanOrEqual(T01.log_lines_per_source_per_10s);
    // Garbage is dropped at the frame, at the channel (not a packet) or at decode.
    const rpcDrops = stats.rpc.drops.decode_failed + stats.rpc.drops.unsolicited;
    expect(rpcDrops + stats.sessions.drops.bad_packet + stats.transport.drops.bad_frame + stats.transport.drops.too_small)
      .toBeGreaterThan(RANDOM_DATAGRAMS);
    expect(rssGrowthMiB).toBeLessThan(T01.rss_growth_mib);
    // Mutants that still decode arrive in plaintext: requests other than PING and every reply are
    // refused before any handler or the routing table sees them.
    expect(stats.rpc.drops.session_required).toBeGreaterThan(0);
    expect(stats.rpc.drops.unauthenticated_reply).toBeGreaterThan(0);
    const { FIND_NODE, FIND_VALUE, STORE, NODES, VALUE } = stats.rpc.received;
    expect({ FIND_NODE, FIND_VALUE, STORE, NODES, VALUE }).toEqual({ FIND_NODE: 0, FIND_VALUE: 0, STORE: 0, NODES: 0, VALUE: 0 });
    expect(stats.routing.size).toBe(0);
    expect(stats.storage?.records ?? 0).toBe(0);
    // The pinger's PINGs travelled sealed in its session.
    expect(stats.sessions.sealedIn).toBeGreaterThanOrEqual(rtts.length);

    // Plaintext PINGs from a peer in another process (no session) are still answered in plaintext.
    const plainOutBefore = stats.sessions.plainOut;
    const plain = await pingFromAnotherProcess(target.address.port, 50, 10);
    expect(plain.lost).toBe(0);
    expect(plain.rtts).toHaveLength(50);
    expect(target.extendedStats().sessions.plainOut - plainOutBefore).toBeGreaterThanOrEqual(50);
  }, 120_000);
});
