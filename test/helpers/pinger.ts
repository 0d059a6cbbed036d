/**
 * A PING client in another process: it shares neither the node's event loop nor its heap, as a
 * real peer would not. Sends `count` PINGs, one every `intervalMs` on average, to the node and
 * resolves with the RTTs (ms) of the answered ones and the number lost. Needs the compiled dist/.
 * Pacing follows a schedule: each timer tick sends every PING due by then, so high rates go out
 * in batches (5,000/s is 50 per 10 ms tick) and timer lateness does not lower the rate.
 */
import { spawn } from 'node:child_process';
import { basename, join } from 'node:path';

/** dist/src of the package, from test/helpers (vitest) or from dist/test/helpers (compiled, as the benches use it). */
const DIST = basename(join(import.meta.dirname, '../..')) === 'dist'
  ? join(import.meta.dirname, '../../src')
  : join(import.meta.dirname, '../../dist/src');

const SCRIPT = `
import { createSocket } from 'node:dgram';
const [dist, port, count, interval, bindHost, targetHost, tickMs, settleMs, seed] = process.argv.slice(-9);
const { encode, decode } = await import(dist + '/wire/index.js');
const { encodeMessage } = await import(dist + '/transport/index.js');
const socket = createSocket('udp4');
await new Promise((resolve) => socket.bind(0, bindHost, resolve));
const sender = new Uint8Array(32).map((_, i) => (i * 37 + Number(seed)) & 0xff);
const sent = new Map();
const rtts = [];
socket.on('message', (msg) => {
  const m = decode(msg.subarray(1));
  const at = m && sent.get(m.tid);
  if (at !== undefined && m.type === 'PONG') { rtts.push(performance.now() - at); sent.delete(m.tid); }
});
const total = Number(count);
const tick = Math.max(Number(interval), Number(tickMs));
const started = performance.now();
let tid = 0;
while (tid < total) {
  const due = Math.min(total, Math.floor((performance.now() - started) / Number(interval)) + 1);
  while (tid < due) {
    tid++;
    const [datagram] = encodeMessage(encode({ type: 'PING', tid, sender, flags: 1 }), tid);
    sent.set(tid, performance.now());
    socket.send(datagram, Number(port), targetHost);
  }
  if (tid < total) await new Promise((resolve) => setTimeout(resolve, tick));
}
const sendMs = performance.now() - started;
await new Promise((resolve) => setTimeout(resolve, Number(settleMs)));
socket.close();
process.stdout.write(JSON.stringify({ rtts, lost: sent.size, sent: total, sendMs }));
`;

/** Where and how a pinger sends. */
export interface PingerOptions {
  /** Source address to bind (any of 127.0.0.0/8 on Linux). Default '127.0.0.1'. */
  bindHost?: string;
  /** The node's host. Default '127.0.0.1'. */
  targetHost?: string;
  /** Shortest timer tick between batches, ms. Default 10. */
  tickMs?: number;
  /** Wait for late answers after the last send, ms. Default 1000. */
  settleMs?: number;
  /** Varies the sender id, so that concurrent pingers differ. Default 11. */
  senderSeed?: number;
}

/** What a pinger saw: RTTs (ms) of answered PINGs, unanswered count, PINGs sent, sending time (ms). */
export interface PingResult {
  rtts: number[];
  lost: number;
  sent: number;
  sendMs: number;
}

/** Pings the node at `port` from a child process; resolves when it is done. */
export function pingFromAnotherProcess(port: number, count: number, intervalMs: number, options: PingerOptions = {}): Promise<PingResult> {
  const args = [
    DIST, String(port), String(count), String(intervalMs), options.bindHost ?? '127.0.0.1', options.targetHost ?? '127.0.0.1',
    String(options.tickMs ?? 10), String(options.settleMs ?? 1000), String(options.senderSeed ?? 11),
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', SCRIPT, ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => { out += chunk.toString(); });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`pinger exited with ${code}`));
      resolve(JSON.parse(out) as PingResult);
    });
  });
}

/** The p-th percentile of `values` (0..100). */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}
