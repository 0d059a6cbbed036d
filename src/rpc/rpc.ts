/**
 * Request/response over a message transport: transaction ids, per-attempt timeouts, bounded
 * retries (the same tid, so a late first answer still counts), replies matched by tid *and*
 * source address, and everything unexpected dropped and counted. Kademlia RPC semantics.
 */
import type { Contact, NodeId } from '../id/index.js';
import { idEquals } from '../id/index.js';
import type { Transport } from '../transport/index.js';
import {
  type Address, type Clock, DhtError, type Timer, PING_TIMEOUT, QUERY_TIMEOUT, REQUEST_RETRIES,
  type Random, sameAddress, WIRE_ERROR_CODES, formatAddress, bytesEqual,
} from '../util/index.js';
import {
  type AnyRequest, type ContractRequest, decode, encode, FLAG_EPHEMERAL, isContractRequest, isRequest, type Message, REPLY_TYPE, type ReplyTo, type Request,
  type RequestBody, type Response, type ResponseBody,
} from '../wire/index.js';
import { emptyCounters, type RpcCounters, type RpcDropReason } from './counters.js';

/** Answers a request; null sends nothing (the request is dropped). */
export type RequestHandler = (request: Request, from: Address) => ResponseBody | null | Promise<ResponseBody | null>;
/**
 * Answers a contract request (docs/contracts.md, part 2b); `authenticated` is true in a session
 * with its sender. Null sends nothing. Without one, contract requests get ERROR DISABLED.
 */
export type ContractRequestHandler = (request: ContractRequest, from: Address, authenticated: boolean) => ResponseBody | null | Promise<ResponseBody | null>;
/**
 * Sees every valid message the RPC accepted: requests, and replies that matched a request.
 * `authenticated` is true when it arrived in a session with its sender (SecureChannel).
 */
export type MessageObserver = (message: Message, from: Address, authenticated: boolean) => void;

export interface RpcComponents {
  transport: Transport;
  clock: Clock;
  random: Random;
}

export interface RpcInit {
  /** Our node id, stamped on every message. */
  self: NodeId;
  /** Mark messages as from an ephemeral client (peers keep us out of their tables). */
  ephemeral?: boolean;
  /** Per-attempt timeout of a PING in ms. Default PING_TIMEOUT (5 s). */
  pingTimeout?: number;
  /** Per-attempt timeout of FIND_NODE, FIND_VALUE and STORE in ms. Default QUERY_TIMEOUT (10 s). */
  queryTimeout?: number;
  /** Re-sends after a timed-out attempt. Default REQUEST_RETRIES (1). */
  retries?: number;
  /**
   * Accept only messages that arrived in a session whose peer is their sender, except a
   * plaintext PING (answered in plaintext, within the channel's amplification budget).
   * Default false (plain transports: the simulator, unit tests).
   */
  requireSession?: boolean;
}

/** Per-call overrides of a request. */
export interface RequestOptions {
  timeout?: number;
  retries?: number;
  signal?: AbortSignal;
}

interface Pending {
  readonly to: Address;
  readonly expectId: NodeId | null;
  readonly replyType: Response['type'];
  readonly bytes: Uint8Array;
  attemptsLeft: number;
  timer: Timer | null;
  resolve(reply: Response): void;
  reject(err: Error): void;
}

/** The RPC endpoint of one node. */
export class Rpc {
  readonly #transport: Transport;
  readonly #clock: Clock;
  readonly #self: NodeId;
  readonly #flags: number;
  readonly #pingTimeout: number;
  readonly #queryTimeout: number;
  readonly #retries: number;
  readonly #requireSession: boolean;
  readonly #pending = new Map<number, Pending>();
  readonly #counters = emptyCounters();
  #nextTid: number;
  #handler: RequestHandler = () => null;
  #contractHandler: ContractRequestHandler | null = null;
  #observer: MessageObserver = () => {};
  #closed = false;

  constructor(components: RpcComponents, init: RpcInit) {
    this.#transport = components.transport;
    this.#clock = components.clock;
    this.#self = init.self;
    this.#flags = init.ephemeral === true ? FLAG_EPHEMERAL : 0;
    this.#pingTimeout = positive(init.pingTimeout ?? PING_TIMEOUT, 'pingTimeout');
    this.#queryTimeout = positive(init.queryTimeout ?? QUERY_TIMEOUT, 'queryTimeout');
    this.#retries = retryCount(init.retries ?? REQUEST_RETRIES);
    this.#requireSession = init.requireSession ?? false;
    this.#nextTid = components.random.int(0x1_0000_0000 - 1);
    this.#transport.setHandler((bytes, from, peer) => this.#onBytes(bytes, from, peer));
    this.#transport.setUnreachableHandler?.((to) => this.#failTo(to));
  }

  /** Sets the function that answers incoming requests. */
  setHandler(handler: RequestHandler): void {
    this.#handler = handler;
  }

  /** Sets the function that answers contract requests. */
  setContractHandler(handler: ContractRequestHandler): void {
    this.#contractHandler = handler;
  }

  /** Sets the observer told of every accepted message (used to maintain the routing table). */
  setObserver(observer: MessageObserver): void {
    this.#observer = observer;
  }

  /** The local transport address. */
  get local(): Address {
    return this.#transport.local;
  }

  /**
   * Sends `body` to `to` and resolves with the matching reply. When `to` is a Contact the reply
   * must come from that node id. Rejects with DhtError TIMEOUT after every attempt timed out,
   * with the peer's error for an ERROR reply, DESTROYED after close(), ABORTED on `signal`.
   */
  request<B extends RequestBody>(to: Address | Contact, body: B, options: RequestOptions = {}): Promise<ReplyTo<B> | Response> {
    if (this.#closed) return Promise.reject(DhtError.destroyed());
    if (options.signal?.aborted === true) return Promise.reject(DhtError.aborted());
    const tid = this.#allocateTid();
    const message = { ...body, tid, sender: this.#self, flags: this.#flags } as Request;
    const timeout = positive(options.timeout ?? (body.type === 'PING' ? this.#pingTimeout : this.#queryTimeout), 'timeout');
    const retries = retryCount(options.retries ?? this.#retries);
    return new Promise<Response>((resolve, reject) => {
      const entry: Pending = {
        to, expectId: 'id' in to ? to.id : null, replyType: REPLY_TYPE[body.type], bytes: encode(message),
        attemptsLeft: 1 + retries, timer: null, resolve, reject,
      };
      this.#pending.set(tid, entry);
      const onAbort = (): void => this.#settle(tid, DhtError.aborted());
      options.signal?.addEventListener('abort', onAbort, { once: true });
      const cleanup = (): void => options.signal?.removeEventListener('abort', onAbort);
      entry.resolve = (r) => { cleanup(); resolve(r); };
      entry.reject = (e) => { cleanup(); reject(e); };
      this.#counters.requests++;
      this.#attempt(tid, entry, timeout, body.type);
    });
  }

  /** Counters snapshot. */
  counters(): RpcCounters {
    return structuredClone({ ...this.#counters, pending: this.#pending.size });
  }

  /** Fails every pending request with DESTROYED and ignores further traffic. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const tid of [...this.#pending.keys()]) this.#settle(tid, DhtError.destroyed());
  }

  /** No session could be made with `to`: its pending requests fail now rather than time out. */
  #failTo(to: Address): void {
    for (const [tid, entry] of [...this.#pending]) {
      if (!sameAddress(entry.to, to)) continue;
      this.#counters.sendFailures++;
      this.#settle(tid, DhtError.sendFailed(formatAddress(to)));
    }
  }

  #attempt(tid: number, entry: Pending, timeout: number, type: RequestBody['type']): void {
    entry.attemptsLeft--;
    const options = entry.expectId === null ? {} : { peer: entry.expectId };
    if (!this.#transport.send(entry.to, entry.bytes, options)) {
      // The transport refused (bad address, closed, queue full) and counted why: fail now
      // rather than wait out every timeout.
      this.#counters.sendFailures++;
      this.#settle(tid, DhtError.sendFailed(formatAddress(entry.to)));
      return;
    }
    this.#counters.sent[type]++;
    entry.timer = this.#clock.setTimeout(() => {
      entry.timer = null;
      if (this.#pending.get(tid) !== entry) return;
      if (entry.attemptsLeft > 0) {
        this.#counters.retries++;
        this.#attempt(tid, entry, timeout, type);
        return;
      }
      this.#counters.timeouts++;
      this.#settle(tid, DhtError.timeout(`${type} to ${formatAddress(entry.to)}`));
    }, timeout);
  }

  #settle(tid: number, outcome: Response | Error): void {
    const entry = this.#pending.get(tid);
    if (entry === undefined) return;
    this.#pending.delete(tid);
    entry.timer?.cancel();
    if (outcome instanceof Error) entry.reject(outcome);
    else entry.resolve(outcome);
  }

  #allocateTid(): number {
    for (;;) {
      this.#nextTid = (this.#nextTid + 1) >>> 0;
      if (!this.#pending.has(this.#nextTid)) return this.#nextTid;
    }
  }

  #drop(reason: RpcDropReason): void {
    this.#counters.drops[reason]++;
  }

  #onBytes(bytes: Uint8Array, from: Address, peer: Uint8Array | undefined): void {
    if (this.#closed) return this.#drop('closed');
    const message = decode(bytes);
    if (message === null) {
      // Garbage inside a session can only come from its peer: penalise it (plaintext could be spoofed).
      if (peer !== undefined) this.#transport.penalize?.(from, 'malformed_message', peer);
      return this.#drop('decode_failed');
    }
    if (idEquals(message.sender, this.#self)) return this.#drop('own_id');
    if (peer !== undefined && !bytesEqual(message.sender, peer)) {
      this.#transport.penalize?.(from, 'wrong_session_sender', peer);
      return this.#drop('wrong_session');
    }
    const authenticated = peer !== undefined;
    if (this.#requireSession && !authenticated) {
      if (message.type !== 'PING') return this.#drop(isRequest(message) ? 'session_required' : 'unauthenticated_reply');
    }
    if (isRequest(message)) this.#onRequest(message, from, authenticated);
    else this.#onResponse(message, from, authenticated);
  }

  #onResponse(message: Response, from: Address, authenticated: boolean): void {
    const entry = this.#pending.get(message.tid);
    if (entry === undefined) return this.#drop('unsolicited');
    if (!sameAddress(entry.to, from)) return this.#drop('wrong_source');
    if (entry.expectId !== null && !idEquals(entry.expectId, message.sender)) return this.#drop('wrong_sender');
    if (message.type !== entry.replyType && message.type !== 'ERROR') return this.#drop('wrong_reply_type');
    this.#counters.received[message.type]++;
    this.#counters.responses++;
    this.#observer(message, from, authenticated);
    if (message.type === 'ERROR') {
      this.#counters.remoteErrors++;
      this.#settle(message.tid, DhtError.remote(message.code, message.message));
    } else {
      this.#settle(message.tid, message);
    }
  }

  #onRequest(request: AnyRequest, from: Address, authenticated: boolean): void {
    this.#counters.received[request.type]++;
    this.#observer(request, from, authenticated);
    let answer: ResponseBody | null | Promise<ResponseBody | null>;
    try {
      if (!isContractRequest(request)) answer = this.#handler(request as Request, from);
      else if (this.#contractHandler !== null) answer = this.#contractHandler(request, from, authenticated);
      else answer = errorBody(new DhtError('DISABLED', 'this node executes no contracts'));
    } catch (err) {
      answer = errorBody(err);
    }
    if (answer instanceof Promise) {
      answer.then((a) => this.#reply(request, from, a, authenticated), (err: unknown) => this.#reply(request, from, errorBody(err), authenticated));
    } else {
      this.#reply(request, from, answer, authenticated);
    }
  }

  /** Answers in the request's session, or in plaintext to a plaintext request. */
  #reply(request: AnyRequest, to: Address, body: ResponseBody | null, authenticated: boolean): void {
    if (body === null || this.#closed) return;
    let bytes: Uint8Array;
    try {
      bytes = encode({ ...body, tid: request.tid, sender: this.#self, flags: this.#flags } as Response);
    } catch {
      this.#drop('handler_error'); // a reply we cannot encode is our bug: count it, do not crash
      return;
    }
    const options = authenticated ? { peer: request.sender } : { plain: true };
    if (this.#transport.send(to, bytes, options)) this.#counters.sent[body.type]++;
    else this.#counters.sendFailures++;
  }
}

/** An ERROR body for a failed handler: DhtErrors keep their wire code, anything else is 203. */
function errorBody(err: unknown): ResponseBody {
  if (err instanceof DhtError && err.code in WIRE_ERROR_CODES) {
    return { type: 'ERROR', code: WIRE_ERROR_CODES[err.code as keyof typeof WIRE_ERROR_CODES], message: err.message };
  }
  return { type: 'ERROR', code: WIRE_ERROR_CODES.BAD_REQUEST, message: 'request failed' };
}

function retryCount(v: number): number {
  if (!Number.isInteger(v) || v < 0) throw new RangeError('options.retries must be a non-negative integer');
  return v;
}

function positive(v: number, name: string): number {
  if (!(typeof v === 'number' && v > 0 && Number.isFinite(v))) throw new RangeError(`options.${name} must be a positive number of milliseconds`);
  return v;
}
