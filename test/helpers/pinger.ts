/**
 * A PING client in another process: it shares neither the node's event loop nor its heap, as a
 * real peer would not. Sends `count` PINGs `intervalMs` apart to 127.0.0.1:`port` and resolves
 * with the RTTs (ms) of the answered ones and the number lost. Needs the compiled dist/.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';

const DIST = join(import.meta.dirname, '../../dist/src');

const SCRIPT = `
import { createSocket } from 'node:dgram';
const [dist, port, count, interval] = process.argv.slice(-4);
const { encode, decode } = await import(dist + '/wire/index.js');
const { encodeMessage } = await import(dist + '/transport/index.js');
const socket = createSocket('udp4');
await new Promise((resolve) => socket.bind(0, '127.0.0.1', resolve));
const sender = new Uint8Array(32).map((_, i) => (i * 37 + 11) & 0xff);
const sent = new Map();
const rtts = [];
socket.on('message', (msg) => {
  const m = decode(msg.subarray(1));
  const at = m && sent.get(m.tid);
  if (at !== undefined && m.type === 'PONG') { rtts.push(performance.now() - at); sent.delete(m.tid); }
});
for (let tid = 1; tid <= Number(count); tid++) {
  const [datagram] = encodeMessage(encode({ type: 'PING', tid, sender, flags: 1 }), tid);
  sent.set(tid, performance.now());
  socket.send(datagram, Number(port), '127.0.0.1');
  await new Promise((resolve) => setTimeout(resolve, Number(interval)));
}
await new Promise((resolve) => setTimeout(resolve, 1000));
socket.close();
process.stdout.write(JSON.stringify({ rtts, lost: sent.size }));
`;

/** Pings 127.0.0.1:`port` from a child process; resolves when it is done. */
export function pingFromAnotherProcess(port: number, count: number, intervalMs: number): Promise<{ rtts: number[]; lost: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', SCRIPT, DIST, String(port), String(count), String(intervalMs)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => { out += chunk.toString(); });
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`pinger exited with ${code}`));
      resolve(JSON.parse(out) as { rtts: number[]; lost: number });
    });
  });
}

/** The p-th percentile of `values` (0..100). */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}
