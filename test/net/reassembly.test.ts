/**
 * T03 (RELIABILITY.md §5): fragment reassembly limits, over real UDP on 127.0.0.0/8. Plain dgram
 * sockets bound on distinct loopback addresses play hostile senders against a real UdpTransport:
 * fragments out of order, duplicated, inconsistent, beyond the count, with lying counts, empty;
 * one message id from several sources; then 10,000 partial messages that never complete.
 * Reassembly timeouts are configured short so expiry is measured in real time within seconds.
 * "Unsolicited" fragments have no meaning below the RPC layer (the transport rebuilds any
 * message; the RPC drops unmatched responses as `unsolicited`): that case belongs to T08.
 */
import { createSocket, type Socket } from 'node:dgram';
import { afterEach, expect, it } from 'vitest';
import {
  type DropReason, FRAGMENT_DATA_BYTES, FRAME_FRAGMENT, type ReassemblyLimits, UdpTransport, encodeFragment,
  encodeMessage, zeroDrops,
} from '../../src/transport/index.js';
import { type Address, MAX_MESSAGE_BYTES } from '../../src/util/index.js';
import { report } from '../helpers/report.js';
import { THRESHOLDS } from '../thresholds.js';
import { Closer, patternBytes, sameBytes } from '../transport/helpers.js';

const T03 = THRESHOLDS.T03;
/** Reassembly timeout of the single-case tests: expiry shows within half a second. */
const TIMEOUT_MS = 500;
/** Timeout of the flood: long enough that its 10,000 datagrams usually land before any expiry. */
const FLOOD_TIMEOUT_MS = 2_000;
/** Timer lateness tolerated on a loaded 2-core machine. */
const TIMER_SLACK_MS = 250;
/** Longest wait for anything that should happen at once (datagrams crossing loopback). */
const ARRIVAL_MS = 5_000;
/** Datagrams sent before waiting for the receiver: far below what a 208 KiB default receive buffer holds. */
const BATCH = 32;
const FLOOD_SOURCES = 50;
const FLOOD_PER_SOURCE = 200;

const closer = new Closer();
afterEach(() => closer.closeAll());

interface Received {
  message: Uint8Array;
  from: Address;
}

/** A real UdpTransport on 127.0.0.1 that records what it delivers. */
async function receiver(limits: Partial<ReassemblyLimits>): Promise<{ t: UdpTransport; got: Received[] }> {
  const t = closer.add(await UdpTransport.bind({ host: '127.0.0.1', port: 0, limits }));
  const got: Received[] = [];
  t.setHandler((message, from) => got.push({ message, from }));
  return { t, got };
}

/** A plain dgram socket on `host` (an address of 127.0.0.0/8) that sends raw datagrams. */
async function rawSocket(host: string): Promise<Socket> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, host, resolve));
  closer.add({ close: () => new Promise<void>((resolve) => s.close(() => resolve())) });
  return s;
}

/** Polls `condition` every millisecond; throws after `timeoutMs`, so no test can hang. */
async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

/**
 * Sends `datagrams` in order from `s` to `t`, BATCH at a time, waiting after each batch until `t`
 * has counted them in: pacing keeps the receive buffer from overflowing, and every counter read
 * afterwards already includes them.
 */
async function sendPaced(s: Socket, t: UdpTransport, datagrams: readonly Uint8Array[]): Promise<void> {
  let expected = t.counters().datagramsIn;
  for (let i = 0; i < datagrams.length; i += BATCH) {
    const batch = datagrams.slice(i, i + BATCH);
    await Promise.all(batch.map((d) => new Promise<void>((resolve, reject) => {
      s.send(d, t.local.port, t.local.host, (err) => (err ? reject(err) : resolve()));
    })));
    expected += batch.length;
    await until(() => t.counters().datagramsIn >= expected, ARRIVAL_MS, `${expected} datagrams in`);
  }
}

/** Fragment `index` of `count` of message `id`, carrying `length` pattern bytes. */
function frag(id: number, index: number, count: number, length: number, seed = index + 1): Uint8Array {
  return encodeFragment(id, index, count, patternBytes(length, seed));
}

it('T03 reassembles messages byte-exactly from fragments out of order and duplicated', async () => {
  const { t, got } = await receiver({ timeout: TIMEOUT_MS });
  const raw = await rawSocket('127.3.0.1');
  const small = patternBytes(6_000, 1);
  const parts = encodeMessage(small, 1);
  // Six fragments; 3 and 0 arrive twice, each copy before the fragment that completes the message.
  await sendPaced(raw, t, [3, 0, 3, 5, 1, 0, 4, 2].map((i) => parts[i]!));
  const largest = patternBytes(MAX_MESSAGE_BYTES, 2);
  await sendPaced(raw, t, encodeMessage(largest, 2).reverse());

  expect(got).toHaveLength(2);
  expect(sameBytes(got[0]?.message, small)).toBe('');
  expect(sameBytes(got[1]?.message, largest)).toBe('');
  expect(got.map((g) => g.from)).toEqual([0, 1].map(() => ({ host: '127.3.0.1', port: raw.address().port })));
  expect(t.counters()).toMatchObject({ reassembled: 2, reassemblyBytes: 0, drops: { ...zeroDrops(), fragment_duplicate: 2 } });
});

interface MalformedCase {
  name: string;
  reason: DropReason;
  /** The malformed datagram: it must be dropped and counted under `reason`. */
  bad: Uint8Array;
  /** Well-formed fragments sent first to set the case up; each opens a partial that later expires. */
  setup: Uint8Array[];
}

function malformed(name: string, reason: DropReason, bad: Uint8Array, setup: Uint8Array[] = []): MalformedCase {
  return { name, reason, bad, setup };
}

const MALFORMED: MalformedCase[] = [
  malformed('an empty fragment', 'fragment_invalid', frag(101, 0, 2, 0)),
  malformed('an index equal to the count', 'fragment_invalid', frag(102, 3, 3, 600)),
  malformed('index 65535 of a 1-fragment message', 'fragment_invalid', frag(103, 0xffff, 1, 600)),
  malformed('a count of zero', 'fragment_invalid', frag(104, 0, 0, 600)),
  malformed('a count of 65535 full fragments (lying count)', 'fragment_invalid', frag(105, 0, 0xffff, FRAGMENT_DATA_BYTES)),
  malformed('an offset of 65534 × 1,191 B (overflows the limit)', 'fragment_invalid', frag(106, 0xfffe, 0xffff, FRAGMENT_DATA_BYTES)),
  malformed('a 1-byte last fragment of 1,000 (count implies too much)', 'fragment_invalid', frag(107, 999, 1_000, 1)),
  malformed('a non-last fragment under the 512 B floor', 'fragment_invalid', frag(108, 0, 3, 511)),
  malformed('a fragment that changes the count', 'fragment_invalid', frag(109, 1, 4, 600), [frag(109, 0, 3, 600)]),
  malformed('a second stride (overlapping layout)', 'fragment_invalid', frag(110, 1, 3, 800), [frag(110, 0, 3, 1_000)]),
  malformed('a last fragment longer than the stride', 'fragment_invalid', frag(111, 2, 3, 601), [frag(111, 0, 3, 600)]),
  malformed('the same fragment twice', 'fragment_duplicate', frag(112, 0, 3, 600), [frag(112, 0, 3, 600)]),
  malformed('the same index with other bytes (overlap)', 'fragment_duplicate', frag(113, 1, 3, 600, 2), [frag(113, 1, 3, 600, 1)]),
  malformed('a truncated fragment header', 'bad_frame', Uint8Array.of(FRAME_FRAGMENT, 0, 0, 0, 114, 0)),
  malformed('a fragment datagram over 1,200 B', 'too_large', frag(115, 0, 2, FRAGMENT_DATA_BYTES + 1)),
];

it('T03 drops every malformed fragment, counts it under its reason, and delivers nothing', async () => {
  const { t, got } = await receiver({ timeout: TIMEOUT_MS });
  const raw = await rawSocket('127.3.0.2');
  const expected = zeroDrops();
  let dropped = 0;
  for (const c of MALFORMED) {
    await sendPaced(raw, t, c.setup);
    const before = t.counters().drops[c.reason];
    await sendPaced(raw, t, [c.bad]);
    const counted = t.counters().drops[c.reason] - before;
    expect.soft(counted, c.name).toBe(1);
    dropped += Math.min(counted, 1);
    expected[c.reason]++;
    expected.reassembly_timeout += c.setup.length;
  }
  const sent = MALFORMED.length;
  report({ test: 'T03', figure: 'malformed_dropped', value: dropped, threshold: sent, pass: dropped === sent && got.length === 0 });
  for (const reason of ['fragment_invalid', 'fragment_duplicate', 'bad_frame', 'too_large'] as const) {
    report({ test: 'T03', figure: `dropped_${reason}`, value: t.counters().drops[reason] });
  }
  expect(dropped).toBe(sent);
  expect(got).toHaveLength(0);
  // The partials the set-up fragments opened expire, and nothing was counted under another reason.
  await until(() => t.counters().reassemblyBytes === 0, TIMEOUT_MS + TIMER_SLACK_MS + ARRIVAL_MS, 'the set-up partials to expire');
  expect(t.counters()).toMatchObject({ messagesIn: 0, reassembled: 0, drops: expected });
});

it('T03 never merges partials of one message id from different sources', async () => {
  const { t, got } = await receiver({ timeout: TIMEOUT_MS });
  // Two hosts, and one of them on two ports: a source is an ip:port.
  const senders = [await rawSocket('127.3.1.1'), await rawSocket('127.3.1.2'), await rawSocket('127.3.1.1')];
  const messages = senders.map((_, i) => patternBytes(3_000, 10 + i));
  const parts = messages.map((m) => encodeMessage(m, 7)); // the same id everywhere; 3 fragments each
  // Each index arrives first from another sender: merging by id alone would complete a mix early.
  for (const [s, i] of [[0, 0], [1, 2], [2, 1], [0, 1], [1, 0], [2, 2], [0, 2], [1, 1], [2, 0]] as const) {
    await sendPaced(senders[s]!, t, [parts[s]![i]!]);
  }
  // Two halves of one message from two sources: merged, they would make a whole.
  const [half0, half1] = encodeMessage(patternBytes(2_000, 20), 9);
  await sendPaced(senders[0]!, t, [half0!]);
  await sendPaced(senders[1]!, t, [half1!]);

  const sourceOf = (g: Received): number =>
    senders.findIndex((s) => s.address().address === g.from.host && s.address().port === g.from.port);
  const merged = got.filter((g) => sourceOf(g) < 0 || sameBytes(g.message, messages[sourceOf(g)]!) !== '').length;
  const maxMerged = T03.merged_across_sources;
  report({ test: 'T03', figure: 'merged_across_sources', value: merged, threshold: maxMerged, pass: merged <= maxMerged });
  expect(merged).toBeLessThanOrEqual(maxMerged);
  expect(got.map(sourceOf)).toEqual([0, 1, 2]);
  await until(() => t.counters().drops.reassembly_timeout === 2, TIMEOUT_MS + TIMER_SLACK_MS + ARRIVAL_MS, 'the halves to expire');
  expect(t.counters()).toMatchObject({ reassembled: 3, reassemblyBytes: 0 });
});

it('T03 frees a partial message at its timeout in real time, and a late fragment does not complete it', async () => {
  const { t, got } = await receiver({ timeout: TIMEOUT_MS });
  const raw = await rawSocket('127.3.2.1');
  const [first, second] = encodeMessage(patternBytes(2_000, 5), 3);
  const sentAt = performance.now();
  await sendPaced(raw, t, [first!]);
  expect(t.counters().reassemblyBytes).toBe(FRAGMENT_DATA_BYTES);
  await until(() => t.counters().drops.reassembly_timeout === 1, TIMEOUT_MS + TIMER_SLACK_MS + ARRIVAL_MS, 'the expiry');
  const latency = performance.now() - sentAt;
  const maxLatency = T03.expiry_latency_ms;
  report({ test: 'T03', figure: 'expiry_latency_ms', value: Math.round(latency), threshold: maxLatency, pass: latency <= maxLatency });
  expect(latency).toBeLessThanOrEqual(maxLatency);
  // On time for the configured timeout: not early (Date.now() ticks in whole ms), not much late.
  expect(latency).toBeGreaterThanOrEqual(TIMEOUT_MS - 2);
  expect(latency).toBeLessThanOrEqual(TIMEOUT_MS + TIMER_SLACK_MS);
  expect(t.counters().reassemblyBytes).toBe(0);

  await sendPaced(raw, t, [second!]);
  expect(got).toHaveLength(0);
  expect(t.counters().reassemblyBytes).toBe(2_000 - FRAGMENT_DATA_BYTES); // a new partial, which expires in turn
  await until(() => t.counters().drops.reassembly_timeout === 2, TIMEOUT_MS + TIMER_SLACK_MS + ARRIVAL_MS, 'the second expiry');
});

it('T03 holds 10,000 partial messages that never complete within 1 MiB and 64 per source, then frees them all', async () => {
  const totalBytes = T03.peak_reassembly_bytes;
  const { t, got } = await receiver({ timeout: FLOOD_TIMEOUT_MS, totalBytes });
  const sources: Socket[] = [];
  for (let i = 1; i <= FLOOD_SOURCES; i++) sources.push(await rawSocket(`127.4.0.${i}`));
  const data = patternBytes(FRAGMENT_DATA_BYTES, 9);
  const refused = (): number => t.counters().drops.reassembly_peer_limit + t.counters().drops.reassembly_total_limit;
  let perSourcePeak = 0;
  // One source at a time, so each source's refusals can be told apart: the first 64 of a source
  // fit, then the per-source cap refuses the rest, until the total cap refuses everything.
  for (const [n, s] of sources.entries()) {
    const before = refused();
    const datagrams = Array.from({ length: FLOOD_PER_SOURCE }, (_, i) => encodeFragment(n * FLOOD_PER_SOURCE + i, 0, 100, data));
    await sendPaced(s, t, datagrams);
    perSourcePeak = Math.max(perSourcePeak, FLOOD_PER_SOURCE - (refused() - before));
    expect(t.counters().reassemblyBytes).toBeLessThanOrEqual(totalBytes);
  }
  const lastSentAt = performance.now();
  const c = t.counters();
  const accepted = FLOOD_SOURCES * FLOOD_PER_SOURCE - refused();
  const peak = c.peakReassemblyBytes;
  report({ test: 'T03', figure: 'peak_reassembly_bytes', value: peak, threshold: totalBytes, pass: peak <= totalBytes });
  const perSourceCap = T03.partials_per_source;
  const perSourceOk = perSourcePeak <= perSourceCap;
  report({ test: 'T03', figure: 'partials_per_source', value: perSourcePeak, threshold: perSourceCap, pass: perSourceOk });

  expect(c).toMatchObject({ datagramsIn: FLOOD_SOURCES * FLOOD_PER_SOURCE, messagesIn: 0, reassembled: 0 });
  expect(got).toHaveLength(0);
  expect(peak).toBeLessThanOrEqual(totalBytes);
  expect(perSourcePeak).toBeLessThanOrEqual(perSourceCap);
  expect(c.drops.reassembly_peer_limit).toBeGreaterThan(0);
  expect(c.drops.reassembly_total_limit).toBeGreaterThan(0);
  // When nothing expired during the flood, the buffer is exactly as full as the total cap allows.
  if (c.drops.reassembly_timeout === 0) expect(c.reassemblyBytes).toBe(Math.floor(totalBytes / FRAGMENT_DATA_BYTES) * FRAGMENT_DATA_BYTES);

  await until(() => t.counters().reassemblyBytes === 0, FLOOD_TIMEOUT_MS + TIMER_SLACK_MS + ARRIVAL_MS, 'the flood to expire');
  expect(performance.now() - lastSentAt).toBeLessThanOrEqual(FLOOD_TIMEOUT_MS + TIMER_SLACK_MS);
  expect(t.counters().drops.reassembly_timeout).toBe(accepted);
}, 60_000);
