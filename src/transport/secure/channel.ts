/**
 * The secure channel: a Transport over a Transport that runs the session handshake and seals
 * every message of a session (docs/security.md "Sessions"). discv5 is the model: an unknown
 * sealed packet gets a WHOAREYOU, a session is bound to (node id, ip:port), and answers to
 * unvalidated addresses stay within 3× what they sent (QUIC). Plaintext messages pass through
 * marked unauthenticated (the RPC answers only PING that way).
 *
 *   initiator                                 responder
 *   HELLO(nonce, want record, padding)   →
 *                                        ←    CHALLENGE(nonce, cookie, record?)      (no state kept)
 *   HANDSHAKE(nonce, cookie, KEM ct, sig, record) →   cookie checked, then verified in the pool
 *                                        ←    DONE(nonce, sig)                       session up
 *   SEALED(session id, counter ‖ random, AEAD(message)) ⇄
 */
import {
  type Address, bytesEqual, type Clock, formatAddress, minute, type Random, type Timer,
} from '../../util/index.js';
import { framedBytes } from '../frame.js';
import type { MessageHandler, SendOptions, Transport, TransportCounters } from '../types.js';
import { AmplificationGuard } from './amplification.js';
import {
  challengeBytes, type Challenge, type Done, encodeChallenge, encodeDone, encodeHandshake, encodeHello, encodeWhoAreYou,
  type Handshake, type Hello, isPlainMessage, NONCE_BYTES, parsePacket, type Sealed, type WhoAreYou,
} from './packets.js';
import { ResponderGate } from './responder.js';
import { Session } from './session.js';
import {
  type ChannelCounters, type ChannelDropReason, type ChannelKeys, CHANNEL_DROP_REASONS, type HandshakeCrypto,
  type InitiatorHalf, type PenaltyEvent, type SessionEvent,
} from './types.js';
import { Outbound } from './outbound.js';
import { resolveChannelOptions, type SecureChannelInit } from './options.js';

/** Bounds of the small bookkeeping maps (bans, cooldowns, known endpoints). */
const MAX_TRACKED = 16_384;

export interface SecureChannelComponents {
  transport: Transport;
  crypto: HandshakeCrypto;
  clock: Clock;
  random: Random;
}

/** Sessions over a message transport. */
export class SecureChannel implements Transport {
  readonly options: Readonly<Required<SecureChannelInit>>;
  readonly #transport: Transport;
  readonly #crypto: HandshakeCrypto;
  readonly #clock: Clock;
  readonly #random: Random;
  readonly #guard: AmplificationGuard;
  readonly #gate: ResponderGate;
  /** Endpoint → its sessions, newest first (at most two: a new one and the one it replaces). LRU order. */
  readonly #sessions = new Map<string, Session[]>();
  readonly #outbound = new Map<string, Outbound>();
  /** Messages waiting for the peer to confirm a session it handshook with us (at most one entry per endpoint). */
  readonly #held = new Map<string, { messages: Uint8Array[]; timer: Timer }>();
  /** Endpoints that completed a session once: exempt from the probe cooldown. */
  readonly #known = new Map<string, true>();
  readonly #cooldown = new Map<string, number>();
  readonly #bans = new Map<string, number>();
  #handler: MessageHandler | null = null;
  #onSession: (e: SessionEvent) => void = () => {};
  #onUnreachable: (to: Address) => void = () => {};
  #onPenalty: (e: PenaltyEvent) => void = () => {};
  readonly #sweep: Timer;
  #closed = false;
  readonly #c: Omit<ChannelCounters, 'sessions' | 'bannedEndpoints' | 'amplificationPeakRatio'>;

  constructor(components: SecureChannelComponents, init: SecureChannelInit = {}) {
    this.options = Object.freeze(resolveChannelOptions(init));
    this.#transport = components.transport;
    this.#crypto = components.crypto;
    this.#clock = components.clock;
    this.#random = components.random;
    this.#guard = new AmplificationGuard({ factor: this.options.amplificationFactor });
    this.#gate = new ResponderGate({
      master: this.#random.bytes(32), mac: this.#crypto.mac, cookiePeriod: this.options.cookiePeriod, maxInbound: this.options.maxInboundHandshakes,
    });
    const drops = Object.fromEntries(CHANNEL_DROP_REASONS.map((r) => [r, 0])) as Record<ChannelDropReason, number>;
    this.#c = {
      handshakesInitiated: 0, handshakesCompleted: 0, handshakesAccepted: 0, handshakeFailures: {}, peakSessions: 0,
      sessionsEvicted: 0, sealedIn: 0, sealedOut: 0, plainIn: 0, plainOut: 0, whoAreYouSent: 0, whoAreYouReceived: 0,
      resent: 0, penalties: 0, drops,
    };
    this.#transport.setHandler((bytes, from) => this.#onMessage(bytes, from));
    this.#sweep = this.#clock.setInterval(() => this.#expire(), Math.min(this.options.sessionIdleTimeout, minute));
  }

  get local(): Address {
    return this.#transport.local;
  }

  setHandler(handler: MessageHandler): void {
    this.#handler = handler;
  }

  /** Told of every session that comes up (the node admits peers to its table from here). */
  setSessionHandler(handler: (e: SessionEvent) => void): void {
    this.#onSession = handler;
  }

  /** Told when messages queued for `to` were dropped because no session could be made. */
  setUnreachableHandler(handler: (to: Address) => void): void {
    this.#onUnreachable = handler;
  }

  /** Told of every penalty (a reputation hook). */
  setPenaltyHandler(handler: (e: PenaltyEvent) => void): void {
    this.#onPenalty = handler;
  }

  /**
   * Sends `message` to `to`: sealed in the endpoint's session, or queued behind a handshake that
   * this starts. With `plain`, sent as is, within the anti-amplification budget. With `peer`,
   * only to that node id: a session or handshake with another id at that endpoint refuses.
   */
  send(to: Address, message: Uint8Array, options: SendOptions = {}): boolean {
    if (this.#closed) return this.#drop('closed');
    if (options.plain === true) return this.#sendPlain(to, message);
    const key = formatAddress(to);
    const sessions = this.#sessions.get(key);
    const session = sessions?.find((s) => s.confirmed) ?? sessions?.[0];
    if (session !== undefined) {
      if (options.peer !== undefined && !bytesEqual(options.peer, session.peerId)) return this.#drop('peer_mismatch');
      if (!session.confirmed) return this.#hold(session, key, message);
      return this.#seal(session, key, message);
    }
    return this.#queue(to, key, message, options.peer ?? null);
  }

  /** Keeps `message` until the peer confirms `session` (its first packet in it), or drops it after the handshake timeout. */
  #hold(session: Session, key: string, message: Uint8Array): boolean {
    let held = this.#held.get(key);
    if (held === undefined) {
      held = { messages: [], timer: this.#clock.setTimeout(() => this.#expireHeld(key), this.options.handshakeTimeout) };
      this.#held.set(key, held);
    }
    if (held.messages.length >= this.options.maxQueuedMessages) return this.#drop('queue_full');
    held.messages.push(message);
    return true;
  }

  #expireHeld(key: string): void {
    const held = this.#held.get(key);
    if (held === undefined) return;
    this.#held.delete(key);
    this.#c.handshakeFailures.unconfirmed = (this.#c.handshakeFailures.unconfirmed ?? 0) + 1;
    const session = this.#sessions.get(key)?.[0];
    if (session !== undefined && !this.#sessions.get(key)!.some((s) => s.confirmed)) this.#onUnreachable(session.endpoint);
  }

  /** Sends what waited for `session`'s confirmation. */
  #flushHeld(session: Session, key: string): void {
    const held = this.#held.get(key);
    if (held === undefined) return;
    this.#held.delete(key);
    held.timer.cancel();
    for (const message of held.messages) this.#seal(session, key, message);
  }

  /** Bans `from` for a while and reports it: called by layers above for authenticated misbehaviour. */
  penalize(from: Address, reason: string, peerId: Uint8Array | null = null): void {
    this.#c.penalties++;
    this.#bans.set(formatAddress(from), this.#clock.now() + this.options.banDuration);
    trim(this.#bans);
    this.#onPenalty({ address: from, peerId, reason });
  }

  /** Drops the sessions with `address` (the next send handshakes again). True if there was one. */
  forget(address: Address): boolean {
    return this.#sessions.delete(formatAddress(address));
  }

  /** The node id of the session at `address`, if there is one. */
  peerAt(address: Address): Uint8Array | undefined {
    return this.#sessions.get(formatAddress(address))?.[0]?.peerId;
  }

  /** True when `address` is validated (session, cookie echoed or our nonce answered). */
  isValidated(address: Address): boolean {
    return this.#guard.isValidated(address);
  }

  counters(): TransportCounters {
    return this.#transport.counters();
  }

  channelCounters(): ChannelCounters {
    const now = this.#clock.now();
    let banned = 0;
    for (const until of this.#bans.values()) if (until > now) banned++;
    return structuredClone({
      ...this.#c, sessions: this.#sessions.size, bannedEndpoints: banned, amplificationPeakRatio: this.#guard.peakRatio,
    });
  }

  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#sweep.cancel();
      for (const ob of this.#outbound.values()) ob.cancel();
      this.#outbound.clear();
      for (const held of this.#held.values()) held.timer.cancel();
      this.#held.clear();
      this.#sessions.clear();
    }
    await this.#transport.close();
  }

  // ---- sending ----

  #sendPlain(to: Address, message: Uint8Array): boolean {
    if (!this.#guard.allow(to, framedBytes(message.byteLength))) return this.#drop('amplification');
    if (!this.#transport.send(to, message)) return this.#drop('transport_refused');
    this.#c.plainOut++;
    return true;
  }

  #seal(session: Session, key: string, message: Uint8Array): boolean {
    session.lastUsed = this.#clock.now();
    this.#touch(key);
    if (!this.#transport.send(session.endpoint, session.seal(message, this.#random.bytes(4)))) return this.#drop('transport_refused');
    this.#c.sealedOut++;
    return true;
  }

  #queue(to: Address, key: string, message: Uint8Array, peer: Uint8Array | null): boolean {
    let ob = this.#outbound.get(key);
    if (ob === undefined) {
      const until = this.#cooldown.get(key);
      if (until !== undefined && until > this.#clock.now()) return this.#drop('probe_cooldown');
      if (this.#outbound.size >= this.options.maxOutboundHandshakes) return this.#drop('handshake_limit');
      ob = this.#startHandshake(to, key, peer);
    } else if (peer !== null && ob.expectedPeer !== null && !bytesEqual(peer, ob.expectedPeer)) {
      return this.#drop('peer_mismatch');
    }
    if (!ob.enqueue(message, this.options.maxQueuedMessages)) return this.#drop('queue_full');
    return true;
  }

  #startHandshake(to: Address, key: string, peer: Uint8Array | null): Outbound {
    const wantRecord = peer === null || !this.#crypto.knowsPeer(peer);
    const ob = new Outbound(to, peer, this.#random.bytes(NONCE_BYTES), wantRecord);
    this.#outbound.set(key, ob);
    this.#c.handshakesInitiated++;
    ob.arm(this.#clock, this.options.helloTimeout, () => this.#failOutbound(key, ob, 'timeout_hello'));
    if (!this.#transport.send(to, encodeHello(ob.nonce, wantRecord))) this.#failOutbound(key, ob, 'transport_refused');
    return ob;
  }

  #failOutbound(key: string, ob: Outbound, reason: string): void {
    if (this.#outbound.get(key) !== ob) return;
    ob.cancel();
    this.#outbound.delete(key);
    this.#c.handshakeFailures[reason] = (this.#c.handshakeFailures[reason] ?? 0) + 1;
    if (this.#sessions.has(key)) return; // a session came up the other way: nothing was lost
    // Only an address that never answered is put on probation: it may be a victim (T07).
    const silent = reason === 'timeout_hello' || reason === 'transport_refused';
    if (silent && !this.#known.has(key)) {
      this.#cooldown.set(key, this.#clock.now() + this.options.probeCooldown);
      trim(this.#cooldown);
    }
    this.#onUnreachable(ob.address);
  }

  // ---- receiving ----

  #onMessage(bytes: Uint8Array, from: Address): void {
    if (this.#closed) return;
    const key = formatAddress(from);
    const bannedUntil = this.#bans.get(key);
    if (bannedUntil !== undefined) {
      if (bannedUntil > this.#clock.now()) return void this.#drop('banned');
      this.#bans.delete(key);
    }
    if (isPlainMessage(bytes)) {
      this.#guard.received(from, bytes.byteLength + 1);
      this.#c.plainIn++;
      return this.#deliver(bytes, from, undefined);
    }
    const packet = parsePacket(bytes);
    if (packet === null) {
      this.#guard.received(from, bytes.byteLength + 1);
      return void this.#drop('bad_packet');
    }
    if (packet.kind !== 'SEALED') this.#guard.received(from, bytes.byteLength + 1);
    switch (packet.kind) {
      case 'HELLO': return this.#onHello(packet, from);
      case 'CHALLENGE': return void this.#onChallenge(packet, from, key);
      case 'HANDSHAKE': return void this.#onHandshake(packet, from, key);
      case 'DONE': return void this.#onDone(packet, from, key);
      case 'SEALED': return this.#onSealed(packet, from, key, bytes.byteLength);
      case 'WHOAREYOU': return this.#onWhoAreYou(packet, from, key);
    }
  }

  #deliver(message: Uint8Array, from: Address, peer: Uint8Array | undefined): void {
    this.#handler?.(message, from, peer);
  }

  /** Stateless: the cookie binds the answer to the address and the nonce, so nothing is stored. */
  #onHello(hello: Hello, from: Address): void {
    const record = hello.wantRecord ? this.#crypto.localRecord() : null;
    const cookie = this.#gate.cookie(from, hello.nonce, this.#clock.now());
    const size = challengeBytes(record?.byteLength ?? 0);
    if (!this.#guard.allow(from, framedBytes(size))) return void this.#drop('amplification');
    if (!this.#transport.send(from, encodeChallenge(hello.nonce, cookie, record))) this.#drop('transport_refused');
  }

  async #onChallenge(challenge: Challenge, from: Address, key: string): Promise<void> {
    const ob = this.#outbound.get(key);
    if (ob === undefined || ob.state !== 'hello' || !bytesEqual(ob.nonce, challenge.nonce)) return void this.#drop('unexpected_challenge');
    this.#guard.validate(from); // it answered our random nonce: the address is real
    ob.state = 'initiating';
    ob.disarm(); // our own pool work always settles (result, BUSY or closed): no network deadline
    if (ob.wantRecord && challenge.record === null) return this.#failOutbound(key, ob, 'no_record');
    let half: InitiatorHalf | { failure: string };
    try {
      half = await this.#crypto.initiate({ peerRecord: challenge.record, expectedPeer: ob.expectedPeer, nonce: ob.nonce, cookie: challenge.cookie });
    } catch {
      return this.#failOutbound(key, ob, 'busy'); // the pool refused (BUSY) or is closing
    }
    if (this.#outbound.get(key) !== ob) return; // timed out or closed meanwhile
    if ('failure' in half) {
      this.penalize(from, `challenge_${half.failure}`);
      return this.#failOutbound(key, ob, 'rejected');
    }
    if (ob.expectedPeer !== null && !bytesEqual(half.peerId, ob.expectedPeer)) return this.#failOutbound(key, ob, 'wrong_peer');
    ob.state = 'handshake';
    ob.half = half;
    // The peer verifies and signs in its pool: a loaded peer may take a while, a dead one never answers.
    ob.arm(this.#clock, this.options.handshakeTimeout, () => this.#failOutbound(key, ob, 'timeout_handshake'));
    const packet = encodeHandshake({
      nonce: ob.nonce, cookie: challenge.cookie, ciphertext: half.ciphertext, signature: half.signature, record: this.#crypto.localRecord(),
    });
    if (!this.#transport.send(from, packet)) this.#failOutbound(key, ob, 'transport_refused');
  }

  async #onDone(done: Done, from: Address, key: string): Promise<void> {
    const ob = this.#outbound.get(key);
    if (ob === undefined || ob.state !== 'handshake' || ob.half === null || !bytesEqual(ob.nonce, done.nonce)) return void this.#drop('unexpected_done');
    ob.state = 'completing';
    ob.disarm();
    let keys: ChannelKeys | null;
    try {
      keys = await ob.half.complete(done.signature);
    } catch {
      return this.#failOutbound(key, ob, 'busy');
    }
    if (this.#outbound.get(key) !== ob) return;
    if (keys === null) {
      this.penalize(from, 'done_bad_signature', ob.half.peerId);
      return this.#failOutbound(key, ob, 'bad_signature');
    }
    this.#c.handshakesCompleted++;
    this.#establish(from, key, ob.half.peerId, keys, true);
  }

  async #onHandshake(h: Handshake, from: Address, key: string): Promise<void> {
    const { refusal, validated } = this.#gate.admit(from, h.nonce, h.cookie, this.#clock.now());
    if (validated) this.#guard.validate(from); // it echoed our cookie: the address is real
    if (refusal !== null) return void this.#drop(refusal);
    let half;
    try {
      half = await this.#crypto.respond({ peerRecord: h.record, nonce: h.nonce, cookie: h.cookie, ciphertext: h.ciphertext, signature: h.signature });
    } catch {
      this.#gate.release(h.nonce, false); // not verified (pool busy): the peer may try again
      return void this.#drop('handshake_busy');
    }
    this.#gate.release(h.nonce, true);
    if (this.#closed) return;
    if ('failure' in half) {
      this.#drop('handshake_rejected');
      return this.penalize(from, `handshake_${half.failure}`);
    }
    if (!this.#transport.send(from, encodeDone(h.nonce, half.signature))) return void this.#drop('transport_refused');
    this.#c.handshakesAccepted++;
    this.#establish(from, key, half.peerId, half.keys, false);
  }

  #establish(from: Address, key: string, peerId: Uint8Array, keys: ChannelKeys, initiator: boolean): void {
    const session = new Session({ ...keys, peerId, endpoint: from, initiator, now: this.#clock.now() });
    const previous = this.#sessions.get(key)?.[0];
    // A different node at this endpoint ends the old sessions; the same node keeps the last one
    // for packets still in flight under it.
    const keep = previous !== undefined && bytesEqual(previous.peerId, peerId) ? [previous] : [];
    this.#sessions.delete(key);
    this.#sessions.set(key, [session, ...keep]);
    this.#known.set(key, true);
    trim(this.#known);
    this.#cooldown.delete(key);
    this.#guard.validate(from);
    this.#evictOverCapacity();
    const ob = this.#outbound.get(key);
    if (ob !== undefined && (ob.expectedPeer === null || bytesEqual(ob.expectedPeer, peerId))) {
      // Whichever handshake finished first carries the messages that were waiting. Ours, if the
      // peer may already hold a session from it (HANDSHAKE sent), runs on: both sides then hold
      // both sessions, and either decrypts. Before that point the peer kept no state: stop it.
      if (initiator) {
        const waiting = ob.drain();
        ob.cancel();
        this.#outbound.delete(key);
        for (const message of waiting) this.#seal(session, key, message);
      } else if (ob.state === 'hello' || ob.state === 'initiating') {
        // The peer kept no state of ours: stop it; its messages wait for the peer's confirmation.
        for (const message of ob.drain()) this.#hold(session, key, message);
        ob.cancel();
        this.#outbound.delete(key);
      }
    }
    if (initiator) this.#flushHeld(session, key);
    this.#onSession({ peerId: session.peerId, address: from, direction: initiator ? 'outbound' : 'inbound' });
  }

  #onSealed(packet: Sealed, from: Address, key: string, size: number): void {
    const sessions = this.#sessions.get(key);
    const session = sessions?.find((s) => bytesEqual(s.id, packet.sessionId));
    if (session === undefined) {
      this.#guard.received(from, size + 1);
      this.#drop('no_session');
      // discv5: an undecryptable packet gets a challenge; this one names the packet it answers.
      const answer = encodeWhoAreYou(packet.sessionId, packet.aeadNonce);
      if (this.#guard.allow(from, framedBytes(answer.byteLength)) && this.#transport.send(from, answer)) this.#c.whoAreYouSent++;
      return;
    }
    const opened = session.open(packet.packet);
    if (opened === 'aead_failed' || opened === 'replay') return void this.#drop(opened);
    if (!session.confirmed) {
      session.confirmed = true;
      this.#flushHeld(session, key);
    }
    session.lastUsed = this.#clock.now();
    this.#touch(key);
    this.#c.sealedIn++;
    this.#deliver(opened, from, session.peerId);
  }

  /** The peer lost our session (it restarted or evicted it): handshake again, resend what we can. */
  #onWhoAreYou(w: WhoAreYou, from: Address, key: string): void {
    const sessions = this.#sessions.get(key);
    const session = sessions?.find((s) => bytesEqual(s.id, w.sessionId));
    const sent = session?.recentlySent(w.aeadNonce);
    if (session === undefined || sessions === undefined || sent === undefined || !sent.found) return void this.#drop('unexpected_whoareyou');
    this.#c.whoAreYouReceived++;
    const rest = sessions.filter((s) => s !== session);
    if (rest.length > 0) this.#sessions.set(key, rest);
    else this.#sessions.delete(key);
    if (sent.message !== null) {
      this.#c.resent++;
      this.send(from, sent.message, { peer: session.peerId }); // the other session, or a new handshake
    }
  }

  // ---- bookkeeping ----

  #touch(key: string): void {
    const s = this.#sessions.get(key);
    if (s === undefined) return;
    this.#sessions.delete(key);
    this.#sessions.set(key, s);
  }

  #evictOverCapacity(): void {
    while (this.#sessions.size > this.options.sessionCapacity) {
      this.#sessions.delete(this.#sessions.keys().next().value!);
      this.#c.sessionsEvicted++;
    }
    this.#c.peakSessions = Math.max(this.#c.peakSessions, this.#sessions.size);
  }

  #expire(): void {
    const now = this.#clock.now();
    for (const [key, sessions] of this.#sessions) {
      const live = sessions.filter((s) => now - s.lastUsed < this.options.sessionIdleTimeout);
      if (live.length === 0) this.#sessions.delete(key);
      else if (live.length !== sessions.length) this.#sessions.set(key, live);
    }
    for (const [key, until] of this.#bans) if (until <= now) this.#bans.delete(key);
    for (const [key, until] of this.#cooldown) if (until <= now) this.#cooldown.delete(key);
    this.#gate.expire(now);
  }

  #drop(reason: ChannelDropReason): false {
    this.#c.drops[reason]++;
    return false;
  }
}

/** Keeps a bookkeeping map within MAX_TRACKED by dropping its oldest entries. */
function trim<K, V>(map: Map<K, V>): void {
  while (map.size > MAX_TRACKED) map.delete(map.keys().next().value!);
}
