/**
 * The RPC layer over real UDP on 127.0.0.1: request/reply matching by tid and source, per-attempt
 * timeouts with bounded retries on the same tid, drops counted by reason, handler errors carried
 * by their wire code, close() and AbortSignal. Peers that misbehave are raw node:dgram sockets.
 * These Rpcs run without sessions (requireSession false, the default). The last block checks
 * requireSession: true over a fake in-memory transport that marks messages with the session's
 * peer id, as SecureChannel does.
 */
import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { type Contact, type NodeId, toId } from '../../src/id/index.js';
import { Rpc, type RpcInit, type RequestHandler } from '../../src/rpc/index.js';
import {
  FRAME_WHOLE, type MessageHandler, type SendOptions, type Transport, UdpTransport, encodeMessage, zeroCounters,
} from '../../src/transport/index.js';
import { type Address, DhtError, SeededRandom, systemClock } from '../../src/util/index.js';
import { type Message, type Response, WIRE_LIMITS, decode, encode } from '../../src/wire/index.js';
import { Closer, patternBytes, sleep, waitFor } from '../transport/helpers.js';

/** Short per-attempt timeouts keep the file to a few seconds. */
const TIMEOUT = 200;

const closer = new Closer();
afterEach(() => closer.closeAll());

/** A node id whose 32 bytes are all `n`. */
function idOf(n: number): NodeId {
  return toId(new Uint8Array(32).fill(n));
}

interface Node {
  rpc: Rpc;
  transport: UdpTransport;
  self: NodeId;
}

/** An Rpc on its own UDP socket; both are closed after the test. */
async function startNode(self: NodeId, init: Partial<RpcInit> = {}, seed = 1): Promise<Node> {
  const transport = closer.add(await UdpTransport.bind({ host: '127.0.0.1', port: 0 }));
  const rpc = closer.add(new Rpc(
    { transport, clock: systemClock, random: new SeededRandom(seed) },
    { self, pingTimeout: TIMEOUT, queryTimeout: TIMEOUT, retries: 0, ...init },
  ));
  return { rpc, transport, self };
}

/** A raw socket acting as a peer: it records every message it receives and answers only when told. */
interface RawPeer {
  socket: Socket;
  address: Address;
  /** Decoded messages received, in order (a datagram that does not decode fails the test). */
  received: Message[];
}

async function rawPeer(): Promise<RawPeer> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  closer.add({ close: () => new Promise<void>((resolve) => socket.close(() => resolve())) });
  const received: Message[] = [];
  socket.on('message', (datagram) => {
    // Strip the 1-byte frame header of a whole message and decode what the Rpc sent.
    expect(datagram[0]).toBe(FRAME_WHOLE);
    const message = decode(new Uint8Array(datagram.subarray(1)));
    expect(message).not.toBeNull();
    received.push(message!);
  });
  return { socket, address: { host: '127.0.0.1', port: socket.address().port }, received };
}

/** Frames `message` as the transport would (one whole datagram) and sends it from `socket`. */
function sendMessage(socket: Socket, to: Address, message: Message): Promise<void> {
  const datagrams = encodeMessage(encode(message), 0);
  expect(datagrams).toHaveLength(1);
  return sendDatagram(socket, to, datagrams[0]!);
}

function sendDatagram(socket: Socket, to: Address, datagram: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => socket.send(datagram, to.port, to.host, (err) => (err ? reject(err) : resolve())));
}

/**
 * The DhtError `p` rejects with. Attached as soon as the request starts, so a rejection that
 * arrives while the test awaits something else is never unhandled.
 */
function rejectionOf(p: Promise<unknown>): Promise<DhtError> {
  return p.then(
    (value) => { throw new Error(`expected a rejection, got ${String(value)}`); },
    (err: unknown) => {
      if (!(err instanceof DhtError)) throw err;
      return err;
    },
  );
}

/** The reply a raw peer would send to `request` (same tid), from `sender`. */
function pong(request: Message, sender: NodeId, observed: Address = { host: '127.0.0.1', port: 1 }): Response {
  return { type: 'PONG', tid: request.tid, sender, flags: 0, observed };
}

/** A transport that moves nothing: for constructor checks that never reach the network. */
function inertTransport(): Transport {
  return {
    local: { host: '127.0.0.1', port: 1 },
    setHandler: () => {},
    send: () => false,
    close: () => Promise.resolve(),
    counters: () => zeroCounters(),
  };
}

const zeroDrops = {
  decode_failed: 0, unsolicited: 0, wrong_source: 0, wrong_sender: 0, wrong_reply_type: 0, handler_error: 0, own_id: 0, closed: 0,
  session_required: 0, unauthenticated_reply: 0, wrong_session: 0,
};

/** A write token as a node hands out in NODES and VALUE (WIRE_LIMITS.tokenBytes). */
const TOKEN = Uint8Array.from({ length: WIRE_LIMITS.tokenBytes }, (_, i) => i + 1);

describe('Rpc: requests and replies between two nodes', () => {
  it('answers a PING with a PONG that tells the requester its observed address', async () => {
    const a = await startNode(idOf(0xa1));
    const b = await startNode(idOf(0xb2), {}, 2);
    b.rpc.setHandler((request, from) => (request.type === 'PING' ? { type: 'PONG', observed: from } : null));

    const reply = await a.rpc.request({ id: b.self, host: b.transport.local.host, port: b.transport.local.port }, { type: 'PING' });

    expect(reply).toMatchObject({ type: 'PONG', sender: b.self, observed: a.transport.local });
    expect(a.rpc.counters()).toMatchObject({
      requests: 1, responses: 1, timeouts: 0, retries: 0, remoteErrors: 0, pending: 0,
      sent: { PING: 1 }, received: { PONG: 1, PING: 0 }, drops: zeroDrops,
    });
    expect(b.rpc.counters()).toMatchObject({
      requests: 0, responses: 0, received: { PING: 1 }, sent: { PONG: 1 }, drops: zeroDrops,
    });
  });

  it('matches FIND_NODE, FIND_VALUE and STORE replies to their requests by tid, even when answered in reverse order', async () => {
    const a = await startNode(idOf(0xa1));
    const b = await startNode(idOf(0xb2), {}, 2);
    const contact: Contact = { id: idOf(0x33), host: '127.0.0.1', port: 4000 };
    // The first request waits longest, so replies arrive in the reverse order of the requests.
    const delay = { FIND_NODE: 120, FIND_VALUE: 60, STORE: 0, PING: 0, GET_RECORD: 0, AUDIT: 0 } as const;
    let storeToken: Uint8Array | null = null;
    b.rpc.setHandler(async (request) => {
      await sleep(delay[request.type]);
      switch (request.type) {
        case 'FIND_NODE': return { type: 'NODES', contacts: [{ ...contact, id: request.target }], token: TOKEN };
        case 'FIND_VALUE': return { type: 'VALUE', value: request.key.slice(0, 4), contacts: [], token: new Uint8Array(0) };
        case 'STORE': storeToken = request.token; return { type: 'STORED' };
        case 'PING':
        case 'GET_RECORD':
        case 'AUDIT': return null;
      }
    });
    const arrivals: string[] = [];
    a.rpc.setObserver((message) => arrivals.push(message.type));

    const [nodes, value, stored] = await Promise.all([
      a.rpc.request(b.transport.local, { type: 'FIND_NODE', target: idOf(0x44) }),
      a.rpc.request(b.transport.local, { type: 'FIND_VALUE', key: idOf(0x55) }),
      a.rpc.request(b.transport.local, { type: 'STORE', key: idOf(0x66), value: Uint8Array.of(1, 2, 3), ttl: 60, token: TOKEN }),
    ]);

    expect(arrivals).toEqual(['STORED', 'VALUE', 'NODES']);
    expect(nodes).toMatchObject({ type: 'NODES', contacts: [{ id: idOf(0x44), host: '127.0.0.1', port: 4000 }], token: TOKEN });
    expect(value).toMatchObject({ type: 'VALUE', value: Uint8Array.of(0x55, 0x55, 0x55, 0x55), contacts: [], token: new Uint8Array(0) });
    expect(stored).toMatchObject({ type: 'STORED', sender: b.self });
    expect(storeToken).toEqual(TOKEN); // the STORE's write token reached the handler intact
    expect(new Set([nodes.tid, value.tid, stored.tid]).size).toBe(3);
    expect(a.rpc.counters()).toMatchObject({
      requests: 3, responses: 3, timeouts: 0, pending: 0,
      sent: { FIND_NODE: 1, FIND_VALUE: 1, STORE: 1, PING: 0 },
      received: { NODES: 1, VALUE: 1, STORED: 1 },
      drops: zeroDrops,
    });
    expect(b.rpc.counters()).toMatchObject({
      received: { FIND_NODE: 1, FIND_VALUE: 1, STORE: 1 }, sent: { NODES: 1, VALUE: 1, STORED: 1 }, drops: zeroDrops,
    });
  });

  it('stamps every request with our id, a tid and the ephemeral flag when asked', async () => {
    const a = await startNode(idOf(0xa1), { ephemeral: true });
    const peer = await rawPeer();

    const failed = rejectionOf(a.rpc.request(peer.address, { type: 'FIND_NODE', target: idOf(0x44) }));
    expect((await failed).code).toBe('TIMEOUT');

    expect(peer.received).toHaveLength(1);
    expect(peer.received[0]).toMatchObject({ type: 'FIND_NODE', sender: idOf(0xa1), flags: 1, target: idOf(0x44) });
  });
});

describe('Rpc: timeouts and retries', () => {
  it('sends retries+1 attempts with the same tid to a silent peer, then rejects with TIMEOUT', async () => {
    const a = await startNode(idOf(0xa1), { retries: 2 });
    const peer = await rawPeer();

    const started = Date.now();
    const err = await rejectionOf(a.rpc.request(peer.address, { type: 'PING' }));
    const elapsed = Date.now() - started;

    expect(err).toBeInstanceOf(DhtError);
    expect(err.code).toBe('TIMEOUT');
    expect(elapsed).toBeGreaterThanOrEqual(3 * TIMEOUT - 20); // timer granularity
    expect(peer.received).toHaveLength(3);
    const tid = peer.received[0]!.tid;
    expect(peer.received.map((m) => [m.type, m.tid])).toEqual([['PING', tid], ['PING', tid], ['PING', tid]]);
    expect(a.rpc.counters()).toMatchObject({
      requests: 1, responses: 0, timeouts: 1, retries: 2, pending: 0, sent: { PING: 3 }, drops: zeroDrops,
    });
  });

  it('lets a per-call retries and timeout override the defaults', async () => {
    const a = await startNode(idOf(0xa1), { retries: 3, queryTimeout: 5_000 });
    const peer = await rawPeer();

    const err = await rejectionOf(a.rpc.request(peer.address, { type: 'FIND_VALUE', key: idOf(9) }, { retries: 1, timeout: 100 }));

    expect(err.code).toBe('TIMEOUT');
    expect(peer.received).toHaveLength(2);
    expect(a.rpc.counters()).toMatchObject({ timeouts: 1, retries: 1, sent: { FIND_VALUE: 2 } });
  });

  it('resolves with a late reply to the first attempt that arrives while the retry is pending', async () => {
    const a = await startNode(idOf(0xa1), { retries: 1 });
    const peer = await rawPeer();
    const peerId = idOf(0xc3);

    const reply = a.rpc.request({ id: peerId, ...peer.address }, { type: 'PING' });
    // The second datagram proves the first attempt timed out; answer the first one now.
    await waitFor(() => peer.received.length === 2, 2_000, 'the retry');
    await sendMessage(peer.socket, a.transport.local, pong(peer.received[0]!, peerId));

    await expect(reply).resolves.toMatchObject({ type: 'PONG', tid: peer.received[0]!.tid, sender: peerId });
    expect(peer.received[1]!.tid).toBe(peer.received[0]!.tid);
    expect(a.rpc.counters()).toMatchObject({
      requests: 1, responses: 1, timeouts: 0, retries: 1, pending: 0, sent: { PING: 2 }, received: { PONG: 1 }, drops: zeroDrops,
    });
  });
});

describe('Rpc: replies that are dropped and counted', () => {
  it('drops a reply with an unknown tid as unsolicited', async () => {
    const a = await startNode(idOf(0xa1));
    const peer = await rawPeer();

    await sendMessage(peer.socket, a.transport.local, pong({ type: 'PING', tid: 12345, sender: idOf(0xc3), flags: 0 }, idOf(0xc3)));

    await waitFor(() => a.rpc.counters().drops.unsolicited === 1, 2_000, 'the unsolicited drop');
    expect(a.rpc.counters()).toMatchObject({
      responses: 0, received: { PONG: 0 }, drops: { ...zeroDrops, unsolicited: 1 },
    });
  });

  it('counts a reply that arrives after its request timed out as unsolicited', async () => {
    const a = await startNode(idOf(0xa1));
    const peer = await rawPeer();

    const err = await rejectionOf(a.rpc.request(peer.address, { type: 'PING' }));
    expect(err.code).toBe('TIMEOUT');
    await sendMessage(peer.socket, a.transport.local, pong(peer.received[0]!, idOf(0xc3)));

    await waitFor(() => a.rpc.counters().drops.unsolicited === 1, 2_000, 'the unsolicited drop');
    expect(a.rpc.counters()).toMatchObject({
      requests: 1, responses: 0, timeouts: 1, received: { PONG: 0 }, drops: { ...zeroDrops, unsolicited: 1 },
    });
  });

  it('drops a reply with the right tid from another address (wrong_source) and still times out', async () => {
    const a = await startNode(idOf(0xa1));
    const peer = await rawPeer();
    const impostor = await rawPeer();

    const failed = rejectionOf(a.rpc.request(peer.address, { type: 'PING' }));
    await waitFor(() => peer.received.length === 1, 2_000, 'the request');
    await sendMessage(impostor.socket, a.transport.local, pong(peer.received[0]!, idOf(0xc3)));
    await waitFor(() => a.rpc.counters().drops.wrong_source === 1, 2_000, 'the wrong_source drop');

    expect((await failed).code).toBe('TIMEOUT');
    expect(a.rpc.counters()).toMatchObject({
      responses: 0, timeouts: 1, pending: 0, received: { PONG: 0 }, drops: { ...zeroDrops, wrong_source: 1 },
    });
  });

  it('drops a reply whose sender id is not the contacted node id (wrong_sender) and still times out', async () => {
    const a = await startNode(idOf(0xa1));
    const peer = await rawPeer();

    const failed = rejectionOf(a.rpc.request({ id: idOf(0xc3), ...peer.address }, { type: 'PING' }));
    await waitFor(() => peer.received.length === 1, 2_000, 'the request');
    await sendMessage(peer.socket, a.transport.local, pong(peer.received[0]!, idOf(0xd4)));
    await waitFor(() => a.rpc.counters().drops.wrong_sender === 1, 2_000, 'the wrong_sender drop');

    expect((await failed).code).toBe('TIMEOUT');
    expect(a.rpc.counters()).toMatchObject({
      responses: 0, timeouts: 1, received: { PONG: 0 }, drops: { ...zeroDrops, wrong_sender: 1 },
    });
  });

  it('accepts a reply from any node id when the request went to a bare address', async () => {
    const a = await startNode(idOf(0xa1));
    const peer = await rawPeer();

    const reply = a.rpc.request(peer.address, { type: 'PING' });
    await waitFor(() => peer.received.length === 1, 2_000, 'the request');
    await sendMessage(peer.socket, a.transport.local, pong(peer.received[0]!, idOf(0xd4)));

    await expect(reply).resolves.toMatchObject({ type: 'PONG', sender: idOf(0xd4) });
    expect(a.rpc.counters()).toMatchObject({ responses: 1, drops: zeroDrops });
  });

  it('drops a reply of the wrong type (wrong_reply_type) and still times out', async () => {
    const a = await startNode(idOf(0xa1));
    const peer = await rawPeer();

    const failed = rejectionOf(a.rpc.request(peer.address, { type: 'PING' }));
    await waitFor(() => peer.received.length === 1, 2_000, 'the request');
    const nodes: Response = { type: 'NODES', tid: peer.received[0]!.tid, sender: idOf(0xc3), flags: 0, contacts: [], token: new Uint8Array(0) };
    await sendMessage(peer.socket, a.transport.local, nodes);
    await waitFor(() => a.rpc.counters().drops.wrong_reply_type === 1, 2_000, 'the wrong_reply_type drop');

    expect((await failed).code).toBe('TIMEOUT');
    expect(a.rpc.counters()).toMatchObject({
      responses: 0, timeouts: 1, received: { NODES: 0 }, drops: { ...zeroDrops, wrong_reply_type: 1 },
    });
  });

  it('counts malformed bytes as decode_failed and answers nothing', async () => {
    const a = await startNode(idOf(0xa1));
    const peer = await rawPeer();
    let handled = 0;
    a.rpc.setHandler(() => { handled++; return null; });

    const seeds = [1, 2, 3, 4, 5];
    for (const seed of seeds) {
      await sendDatagram(peer.socket, a.transport.local, encodeMessage(patternBytes(64, seed), 0)[0]!);
    }
    // A valid msgpack array that is not a message (wrong version) is malformed too.
    const wrongVersion = Uint8Array.of(0x95, 0x07, 0x01, 0x00, 0x00, 0x00);
    await sendDatagram(peer.socket, a.transport.local, encodeMessage(wrongVersion, 0)[0]!);

    await waitFor(() => a.rpc.counters().drops.decode_failed === seeds.length + 1, 2_000, 'the decode_failed drops');
    expect(handled).toBe(0);
    expect(a.rpc.counters()).toMatchObject({ drops: { ...zeroDrops, decode_failed: 6 }, received: { PING: 0 } });
    expect(a.transport.counters().drops.handler_error).toBe(0);
  });

  it('counts a message carrying our own node id as own_id and does not answer it', async () => {
    const a = await startNode(idOf(0xa1));
    const peer = await rawPeer();
    a.rpc.setHandler((_request, from) => ({ type: 'PONG', observed: from }));

    await sendMessage(peer.socket, a.transport.local, { type: 'PING', tid: 7, sender: idOf(0xa1), flags: 0 });
    await waitFor(() => a.rpc.counters().drops.own_id === 1, 2_000, 'the own_id drop');
    // A well-formed PING from another id afterwards is answered: the first one was not.
    await sendMessage(peer.socket, a.transport.local, { type: 'PING', tid: 8, sender: idOf(0xc3), flags: 0 });
    await waitFor(() => peer.received.length === 1, 2_000, 'the PONG');

    expect(peer.received[0]).toMatchObject({ type: 'PONG', tid: 8, observed: peer.address });
    expect(a.rpc.counters()).toMatchObject({
      received: { PING: 1 }, sent: { PONG: 1 }, drops: { ...zeroDrops, own_id: 1 },
    });
  });
});

describe('Rpc: handler errors travel as wire codes', () => {
  it('turns a handler DhtError STORAGE_FULL into a requester rejection with code STORAGE_FULL', async () => {
    const a = await startNode(idOf(0xa1));
    const b = await startNode(idOf(0xb2), {}, 2);
    b.rpc.setHandler(() => { throw DhtError.storageFull(1024); });

    const err = await rejectionOf(a.rpc.request(b.transport.local, { type: 'STORE', key: idOf(1), value: Uint8Array.of(1), ttl: 60, token: TOKEN }));

    expect(err).toBeInstanceOf(DhtError);
    expect(err.code).toBe('STORAGE_FULL');
    expect(err.message).toContain('507');
    expect(a.rpc.counters()).toMatchObject({
      requests: 1, responses: 1, remoteErrors: 1, timeouts: 0, pending: 0, received: { ERROR: 1, STORED: 0 }, drops: zeroDrops,
    });
    expect(b.rpc.counters()).toMatchObject({ received: { STORE: 1 }, sent: { ERROR: 1, STORED: 0 }, drops: zeroDrops });
  });

  it('turns a plain Error from a handler into BAD_REQUEST without leaking its message', async () => {
    const a = await startNode(idOf(0xa1));
    const b = await startNode(idOf(0xb2), {}, 2);
    b.rpc.setHandler(() => { throw new Error('secret internal detail'); });

    const err = await rejectionOf(a.rpc.request(b.transport.local, { type: 'FIND_NODE', target: idOf(1) }));

    expect(err.code).toBe('BAD_REQUEST');
    expect(err.message).not.toContain('secret');
    expect(a.rpc.counters()).toMatchObject({ remoteErrors: 1, received: { ERROR: 1 } });
    expect(b.rpc.counters()).toMatchObject({ sent: { ERROR: 1 } });
  });

  it('waits for an async handler and sends its answer', async () => {
    const a = await startNode(idOf(0xa1));
    const b = await startNode(idOf(0xb2), {}, 2);
    b.rpc.setHandler(async () => {
      await sleep(30);
      return { type: 'STORED' };
    });

    const reply = await a.rpc.request(b.transport.local, { type: 'STORE', key: idOf(1), value: Uint8Array.of(1), ttl: 60, token: TOKEN });

    expect(reply).toMatchObject({ type: 'STORED', sender: b.self });
    expect(a.rpc.counters()).toMatchObject({ responses: 1, remoteErrors: 0, received: { STORED: 1 } });
    expect(b.rpc.counters()).toMatchObject({ sent: { STORED: 1 } });
  });

  it('carries the wire code of an async handler that rejects with a DhtError', async () => {
    const a = await startNode(idOf(0xa1));
    const b = await startNode(idOf(0xb2), {}, 2);
    const handler: RequestHandler = async () => {
      await sleep(10);
      throw DhtError.valueTooBig(300_000, 262_144);
    };
    b.rpc.setHandler(handler);

    const err = await rejectionOf(a.rpc.request(b.transport.local, { type: 'STORE', key: idOf(1), value: Uint8Array.of(1), ttl: 60, token: TOKEN }));

    expect(err.code).toBe('VALUE_TOO_BIG');
    expect(a.rpc.counters()).toMatchObject({ remoteErrors: 1, received: { ERROR: 1 } });
  });

  it('sends nothing when the handler returns null, so the requester times out', async () => {
    const a = await startNode(idOf(0xa1));
    const b = await startNode(idOf(0xb2), {}, 2);
    b.rpc.setHandler(() => null);

    const err = await rejectionOf(a.rpc.request(b.transport.local, { type: 'PING' }));

    expect(err.code).toBe('TIMEOUT');
    expect(b.rpc.counters()).toMatchObject({ received: { PING: 1 }, sent: { PONG: 0, ERROR: 0 } });
  });
});

describe('Rpc: close() and AbortSignal', () => {
  it('rejects pending requests with DESTROYED on close(), and every later request too', async () => {
    const a = await startNode(idOf(0xa1), { pingTimeout: 10_000, queryTimeout: 10_000 });
    const peer = await rawPeer();

    const first = rejectionOf(a.rpc.request(peer.address, { type: 'PING' }));
    const second = rejectionOf(a.rpc.request(peer.address, { type: 'FIND_NODE', target: idOf(2) }));
    await waitFor(() => peer.received.length === 2, 2_000, 'both requests');
    expect(a.rpc.counters().pending).toBe(2);
    a.rpc.close();
    a.rpc.close(); // idempotent

    expect((await first).code).toBe('DESTROYED');
    expect((await second).code).toBe('DESTROYED');
    expect((await rejectionOf(a.rpc.request(peer.address, { type: 'PING' }))).code).toBe('DESTROYED');
    expect(a.rpc.counters()).toMatchObject({ requests: 2, pending: 0, timeouts: 0, sent: { PING: 1, FIND_NODE: 1 } });
  });

  it('drops traffic that arrives after close() as closed, and answers no request', async () => {
    const a = await startNode(idOf(0xa1));
    const peer = await rawPeer();
    a.rpc.setHandler((_request, from) => ({ type: 'PONG', observed: from }));
    a.rpc.close();

    await sendMessage(peer.socket, a.transport.local, { type: 'PING', tid: 1, sender: idOf(0xc3), flags: 0 });
    await waitFor(() => a.rpc.counters().drops.closed === 1, 2_000, 'the closed drop');

    expect(a.rpc.counters()).toMatchObject({ received: { PING: 0 }, sent: { PONG: 0 }, drops: { ...zeroDrops, closed: 1 } });
  });

  it('rejects with ABORTED when the signal fires, and cancels the retry', async () => {
    const a = await startNode(idOf(0xa1), { retries: 1 });
    const peer = await rawPeer();
    const controller = new AbortController();

    const failed = rejectionOf(a.rpc.request(peer.address, { type: 'PING' }, { signal: controller.signal }));
    await waitFor(() => peer.received.length === 1, 2_000, 'the request');
    controller.abort();

    expect((await failed).code).toBe('ABORTED');
    expect(a.rpc.counters().pending).toBe(0);
    await sleep(TIMEOUT + 50); // past the first attempt's deadline: no retry may leave
    expect(peer.received).toHaveLength(1);
    expect(a.rpc.counters()).toMatchObject({ requests: 1, retries: 0, timeouts: 0, sent: { PING: 1 } });
  });

  it('rejects with ABORTED at once, sending nothing, when the signal is already aborted', async () => {
    const a = await startNode(idOf(0xa1));

    const err = await rejectionOf(a.rpc.request({ host: '127.0.0.1', port: 9 }, { type: 'PING' }, { signal: AbortSignal.abort() }));

    expect(err.code).toBe('ABORTED');
    expect(a.rpc.counters()).toMatchObject({ requests: 0, pending: 0, sent: { PING: 0 } });
  });
});

describe('Rpc: option validation', () => {
  const components = () => ({ transport: inertTransport(), clock: systemClock, random: new SeededRandom(1) });

  it.each([0, -1, Number.NaN, Number.POSITIVE_INFINITY])('rejects pingTimeout %s', (pingTimeout) => {
    expect(() => new Rpc(components(), { self: idOf(1), pingTimeout }))
      .toThrow(new RangeError('options.pingTimeout must be a positive number of milliseconds'));
  });

  it.each([0, -5, Number.NaN])('rejects queryTimeout %s', (queryTimeout) => {
    expect(() => new Rpc(components(), { self: idOf(1), queryTimeout }))
      .toThrow(new RangeError('options.queryTimeout must be a positive number of milliseconds'));
  });

  it.each([-1, 1.5, Number.NaN])('rejects retries %s', (retries) => {
    expect(() => new Rpc(components(), { self: idOf(1), retries }))
      .toThrow(new RangeError('options.retries must be a non-negative integer'));
  });

  it('accepts retries 0 and the defaults', () => {
    expect(() => new Rpc(components(), { self: idOf(1), retries: 0 })).not.toThrow();
    expect(new Rpc(components(), { self: idOf(1) }).counters()).toMatchObject({ requests: 0, pending: 0, drops: zeroDrops });
  });
});

describe('Rpc: per-call options and refused sends', () => {
  it('throws RangeError for invalid per-call retries or timeout', async () => {
    const a = await startNode(idOf(1));
    const to = { host: '127.0.0.1', port: 9 };
    expect(() => a.rpc.request(to, { type: 'PING' }, { retries: 1.5 })).toThrow('options.retries must be a non-negative integer');
    expect(() => a.rpc.request(to, { type: 'PING' }, { retries: -3 })).toThrow('options.retries must be a non-negative integer');
    expect(() => a.rpc.request(to, { type: 'PING' }, { timeout: -10 })).toThrow('options.timeout must be a positive number of milliseconds');
    expect(() => a.rpc.request(to, { type: 'PING' }, { timeout: Number.NaN })).toThrow('options.timeout must be a positive number of milliseconds');
    expect(a.rpc.counters().pending).toBe(0);
  });

  it('fails at once with SEND_FAILED when the transport refuses to send, and does not count it as sent', async () => {
    const a = await startNode(idOf(1), { retries: 2 });
    const err = await rejectionOf(a.rpc.request({ host: 'localhost', port: 9 }, { type: 'PING' }));
    expect(err.code).toBe('SEND_FAILED');
    expect(a.rpc.counters()).toMatchObject({ sendFailures: 1, timeouts: 0, retries: 0, pending: 0 });
    expect(a.rpc.counters().sent.PING).toBe(0);
    expect(a.transport.counters().drops.bad_address).toBe(1);
  });
});

/** What a FakeSessionNetwork endpoint was asked to send. */
interface SentMessage {
  to: Address;
  message: Message;
  options: SendOptions | undefined;
}

/**
 * A MemoryNetwork-like fake of a SecureChannel: endpoints keyed by address, whole messages
 * delivered on a later macrotask. A send with `plain` arrives as plaintext (no peer); any other
 * send arrives as if sealed in a session with the sending endpoint's node id (the `peer` third
 * argument of the handler). `inject` delivers a message with any `from` and `peer`, as an
 * attacker or a compromised session would; `unreachable` plays a failed handshake.
 */
class FakeSessionNetwork {
  readonly #endpoints = new Map<string, FakeSessionTransport>();
  #nextPort = 7000;

  bind(id: NodeId, options: { penalize?: boolean } = {}): FakeSessionTransport {
    const local = { host: '127.0.0.1', port: this.#nextPort++ };
    const t = new FakeSessionTransport(local, id, this, options.penalize ?? true);
    this.#endpoints.set(`${local.host}:${local.port}`, t);
    return t;
  }

  carry(from: FakeSessionTransport, to: Address, bytes: Uint8Array, options: SendOptions | undefined): void {
    const target = this.#endpoints.get(`${to.host}:${to.port}`);
    const peer = options?.plain === true ? undefined : from.id;
    const copy = bytes.slice();
    setTimeout(() => target?.receive(copy, from.local, peer), 0);
  }
}

class FakeSessionTransport implements Transport {
  readonly sent: SentMessage[] = [];
  readonly penalties: Array<{ from: Address; reason: string; peerId: Uint8Array | null | undefined }> = [];
  readonly penalize?: (from: Address, reason: string, peerId?: Uint8Array | null) => void;
  #handler: MessageHandler | null = null;
  #unreachable: ((to: Address) => void) | null = null;

  constructor(readonly local: Address, readonly id: NodeId, readonly network: FakeSessionNetwork, withPenalize: boolean) {
    if (withPenalize) this.penalize = (from, reason, peerId) => { this.penalties.push({ from, reason, peerId }); };
  }

  setHandler(handler: MessageHandler): void {
    this.#handler = handler;
  }

  setUnreachableHandler(handler: (to: Address) => void): void {
    this.#unreachable = handler;
  }

  send(to: Address, message: Uint8Array, options?: SendOptions): boolean {
    this.sent.push({ to, message: decode(message)!, options });
    this.network.carry(this, to, message, options);
    return true;
  }

  receive(bytes: Uint8Array, from: Address, peer: Uint8Array | undefined): void {
    this.#handler?.(bytes, from, peer);
  }

  /** Delivers `message` to this endpoint as if from `from`, in a session with `peer` (plaintext when undefined). */
  inject(message: Message, from: Address, peer?: Uint8Array): void {
    this.#handler?.(encode(message), from, peer);
  }

  /** Plays the channel giving up on a handshake with `to`. */
  unreachable(to: Address): void {
    this.#unreachable?.(to);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  counters() {
    return zeroCounters();
  }
}

describe('Rpc: requireSession over a session transport', () => {
  /** An Rpc with requireSession on a FakeSessionNetwork endpoint. */
  function sessionNode(network: FakeSessionNetwork, self: NodeId, options: { penalize?: boolean; timeout?: number } = {}) {
    const transport = network.bind(self, options);
    const timeout = options.timeout ?? TIMEOUT;
    const rpc = closer.add(new Rpc(
      { transport, clock: systemClock, random: new SeededRandom(self[0]!) },
      { self, pingTimeout: timeout, queryTimeout: timeout, retries: 0, requireSession: true },
    ));
    const seen: Array<{ type: string; authenticated: boolean }> = [];
    rpc.setObserver((message, _from, authenticated) => seen.push({ type: message.type, authenticated }));
    return { rpc, transport, self, seen, contact: { id: self, ...transport.local } as Contact };
  }

  /** Answers PING and FIND_NODE; counts the requests it was given. */
  function answering(handled: string[]): RequestHandler {
    return (request, from) => {
      handled.push(request.type);
      if (request.type === 'PING') return { type: 'PONG', observed: from };
      if (request.type === 'FIND_NODE') return { type: 'NODES', contacts: [], token: TOKEN };
      return null;
    };
  }

  it('answers requests in their session, addressed to the requester id; requests to a contact name its id', async () => {
    const network = new FakeSessionNetwork();
    const a = sessionNode(network, idOf(0xa1));
    const b = sessionNode(network, idOf(0xb2));
    const handled: string[] = [];
    b.rpc.setHandler(answering(handled));

    const reply = await a.rpc.request(b.contact, { type: 'FIND_NODE', target: idOf(0x44) });

    expect(reply).toMatchObject({ type: 'NODES', sender: b.self, token: TOKEN });
    expect(a.transport.sent[0]!.options).toEqual({ peer: b.self });
    expect(b.transport.sent).toHaveLength(1);
    expect(b.transport.sent[0]!.options).toEqual({ peer: a.self });
    expect(b.seen).toEqual([{ type: 'FIND_NODE', authenticated: true }]);
    expect(a.seen).toEqual([{ type: 'NODES', authenticated: true }]);
    // A request to a bare address names no peer (the channel learns it in the handshake).
    await a.rpc.request(b.transport.local, { type: 'PING' });
    expect(a.transport.sent[1]!.options).toEqual({});
    expect(handled).toEqual(['FIND_NODE', 'PING']);
  });

  it('answers a plaintext PING in plaintext, but takes no plaintext PONG', async () => {
    const network = new FakeSessionNetwork();
    const a = sessionNode(network, idOf(0xa1));
    const b = sessionNode(network, idOf(0xb2));
    const handled: string[] = [];
    b.rpc.setHandler(answering(handled));
    const from = { host: '127.0.0.1', port: 9999 };

    b.transport.inject({ type: 'PING', tid: 41, sender: idOf(0xc3), flags: 0 }, from);

    expect(handled).toEqual(['PING']);
    expect(b.transport.sent).toHaveLength(1);
    expect(b.transport.sent[0]).toMatchObject({ to: from, message: { type: 'PONG', tid: 41, sender: b.self, observed: from } });
    expect(b.transport.sent[0]!.options).toEqual({ plain: true });
    expect(b.seen).toEqual([{ type: 'PING', authenticated: false }]);
    expect(b.rpc.counters()).toMatchObject({ received: { PING: 1 }, sent: { PONG: 1 }, drops: zeroDrops });

    // Only the PING request is exempt: a requester that requires sessions takes no plaintext PONG.
    const silent = { host: '127.0.0.1', port: 6000 }; // nobody bound: no session answer will come
    const pinged = rejectionOf(a.rpc.request(silent, { type: 'PING' }));
    a.transport.inject(pong(a.transport.sent[0]!.message, idOf(0xc3)), silent);
    expect(a.rpc.counters()).toMatchObject({ responses: 0, pending: 1, drops: { ...zeroDrops, unauthenticated_reply: 1 } });
    expect((await pinged).code).toBe('TIMEOUT');
    expect(a.seen).toEqual([]);
  });

  it('drops a plaintext FIND_NODE as session_required and a plaintext NODES reply as unauthenticated_reply', async () => {
    const network = new FakeSessionNetwork();
    const a = sessionNode(network, idOf(0xa1));
    const b = sessionNode(network, idOf(0xb2));
    const handled: string[] = [];
    b.rpc.setHandler(answering(handled));

    b.transport.inject({ type: 'FIND_NODE', tid: 5, sender: idOf(0xc3), flags: 0, target: idOf(0x44) }, { host: '127.0.0.1', port: 9999 });

    expect(handled).toEqual([]);
    expect(b.transport.sent).toHaveLength(0);
    expect(b.seen).toEqual([]);
    expect(b.rpc.counters()).toMatchObject({ received: { FIND_NODE: 0 }, sent: { NODES: 0 }, drops: { ...zeroDrops, session_required: 1 } });

    // A plaintext (spoofable) reply with the right tid, source and sender arrives before b's
    // answer: it is dropped and settles nothing; b's answer in the session does.
    const reply = a.rpc.request(b.contact, { type: 'FIND_NODE', target: idOf(0x44) });
    const tid = a.transport.sent[0]!.message.tid;
    a.transport.inject({ type: 'NODES', tid, sender: b.self, flags: 0, contacts: [{ id: idOf(0x66), host: '10.0.0.6', port: 6 }], token: TOKEN }, b.transport.local);
    expect(a.rpc.counters()).toMatchObject({ pending: 1, responses: 0, drops: { ...zeroDrops, unauthenticated_reply: 1 } });
    await expect(reply).resolves.toMatchObject({ type: 'NODES', sender: b.self, contacts: [] });
    expect(a.seen).toEqual([{ type: 'NODES', authenticated: true }]);
  });

  it('drops a message whose sender is not the session peer as wrong_session and penalises the endpoint', async () => {
    const network = new FakeSessionNetwork();
    const b = sessionNode(network, idOf(0xb2));
    const handled: string[] = [];
    b.rpc.setHandler(answering(handled));
    const from = { host: '127.0.0.1', port: 9999 };
    const sessionPeer = idOf(0xc3);

    b.transport.inject({ type: 'FIND_NODE', tid: 6, sender: idOf(0xd4), flags: 0, target: idOf(0x44) }, from, sessionPeer);
    b.transport.inject({ type: 'PING', tid: 7, sender: idOf(0xd4), flags: 0 }, from, sessionPeer);

    expect(handled).toEqual([]);
    expect(b.transport.sent).toHaveLength(0);
    expect(b.seen).toEqual([]);
    expect(b.rpc.counters()).toMatchObject({ received: { FIND_NODE: 0, PING: 0 }, drops: { ...zeroDrops, wrong_session: 2 } });
    expect(b.transport.penalties).toHaveLength(2);
    expect(b.transport.penalties[0]).toMatchObject({ from, reason: 'wrong_session_sender' });
    expect(Buffer.from(b.transport.penalties[0]!.peerId!)).toEqual(Buffer.from(sessionPeer));

    // The same sender in its own session is served.
    b.transport.inject({ type: 'FIND_NODE', tid: 8, sender: sessionPeer, flags: 0, target: idOf(0x44) }, from, sessionPeer);
    expect(handled).toEqual(['FIND_NODE']);
    expect(b.transport.sent[0]).toMatchObject({ to: from, options: { peer: sessionPeer }, message: { type: 'NODES', tid: 8 } });
  });

  it('still drops wrong_session on a transport without penalize()', () => {
    const network = new FakeSessionNetwork();
    const b = sessionNode(network, idOf(0xb2), { penalize: false });
    expect(b.transport.penalize).toBeUndefined();
    b.rpc.setHandler(answering([]));

    expect(() => b.transport.inject({ type: 'PING', tid: 9, sender: idOf(0xd4), flags: 0 }, { host: '127.0.0.1', port: 9999 }, idOf(0xc3))).not.toThrow();

    expect(b.transport.sent).toHaveLength(0);
    expect(b.rpc.counters().drops).toEqual({ ...zeroDrops, wrong_session: 1 });
  });

  it('fails pending requests to an unreachable address at once with SEND_FAILED, leaving others pending', async () => {
    const network = new FakeSessionNetwork();
    const a = sessionNode(network, idOf(0xa1), { timeout: 10_000 });
    const dead = { host: '127.0.0.1', port: 6001 }; // nobody bound: only the channel's verdict ends these
    const other = { host: '127.0.0.1', port: 6002 };

    const started = Date.now();
    const first = rejectionOf(a.rpc.request(dead, { type: 'FIND_NODE', target: idOf(1) }));
    const second = rejectionOf(a.rpc.request({ id: idOf(0xd4), ...dead }, { type: 'PING' }));
    const elsewhere = rejectionOf(a.rpc.request(other, { type: 'PING' }));
    expect(a.rpc.counters().pending).toBe(3);

    a.transport.unreachable(dead);

    expect((await first).code).toBe('SEND_FAILED');
    expect((await second).code).toBe('SEND_FAILED');
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(a.rpc.counters()).toMatchObject({ pending: 1, sendFailures: 2, timeouts: 0 });
    // Unrelated traffic is untouched; close() ends it.
    a.rpc.close();
    expect((await elsewhere).code).toBe('DESTROYED');
  });
});
