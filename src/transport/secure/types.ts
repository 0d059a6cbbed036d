/**
 * What the secure channel needs from above (the handshake's cryptography, supplied by the node
 * through its worker pool) and what it reports (counters, session and failure events). The
 * channel itself knows no algorithm: it moves opaque keys, records and signatures.
 */
import type { Address } from '../../util/index.js';

/** Keys of one session, seen from this side. */
export interface ChannelKeys {
  readonly sessionId: Uint8Array;
  readonly sendKey: Uint8Array;
  readonly receiveKey: Uint8Array;
}

/** The initiator's half, done: what goes into the HANDSHAKE packet, and how to finish. */
export interface InitiatorHalf {
  readonly peerId: Uint8Array;
  readonly ciphertext: Uint8Array;
  readonly signature: Uint8Array;
  /** Checks the responder's transcript signature and derives the keys; null when it fails. */
  complete(responderSignature: Uint8Array): Promise<ChannelKeys | null>;
}

/** The responder's half, done: the verified initiator, the keys, the responder's signature. */
export interface ResponderHalf {
  readonly peerId: Uint8Array;
  readonly keys: ChannelKeys;
  readonly signature: Uint8Array;
}

/** A handshake half that failed, and why (malformed record, bad signature…). */
export interface HandshakeRejection { readonly failure: string }

/** The handshake's cryptography (src/node/handshake.ts implements it over the worker pool). */
export interface HandshakeCrypto {
  /** Our node id. */
  readonly localId: Uint8Array;
  /** Our signed node record, wire form. */
  localRecord(): Uint8Array;
  /** True when a verified record of `peerId` is at hand, so a HELLO need not ask for it. */
  knowsPeer(peerId: Uint8Array): boolean;
  /** Initiator: verify the responder's record (or use the known one), encapsulate, sign. */
  initiate(input: {
    peerRecord: Uint8Array | null; expectedPeer: Uint8Array | null; nonce: Uint8Array; cookie: Uint8Array;
  }): Promise<InitiatorHalf | HandshakeRejection>;
  /** Responder: verify the initiator's record and signature, decapsulate, sign. */
  respond(input: {
    peerRecord: Uint8Array; nonce: Uint8Array; cookie: Uint8Array; ciphertext: Uint8Array; signature: Uint8Array;
  }): Promise<ResponderHalf | HandshakeRejection>;
  /** Keyed BLAKE3 (32-byte key and output): cookies. */
  mac(key: Uint8Array, data: Uint8Array): Uint8Array;
}

/** A session came up: `direction` says who started the handshake. */
export interface SessionEvent {
  readonly peerId: Uint8Array;
  readonly address: Address;
  readonly direction: 'inbound' | 'outbound';
}

/** A peer misbehaved in a way only it could have (its address was validated): it is banned for a while. */
export interface PenaltyEvent {
  readonly address: Address;
  readonly peerId: Uint8Array | null;
  readonly reason: string;
}

/** Every reason the channel drops a packet or refuses a send. */
export const CHANNEL_DROP_REASONS = [
  'bad_packet', // unknown kind or version, impossible sizes
  'banned', // from an endpoint banned after misbehaving
  'amplification', // an answer over the 3× budget of an unvalidated address
  'unexpected_challenge', // no HELLO of ours waits for it (or the nonce differs)
  'unexpected_done', // no HANDSHAKE of ours waits for it
  'bad_cookie', // HANDSHAKE whose cookie we did not issue to that address (or expired)
  'handshake_replay', // HANDSHAKE reusing a nonce already handshaken
  'handshake_busy', // too many inbound handshakes being verified
  'handshake_rejected', // forged or malformed handshake (the peer is penalised)
  'no_session', // SEALED packet of no session of that endpoint (answered with WHOAREYOU)
  'aead_failed', // SEALED packet whose tag does not verify
  'replay', // SEALED packet whose counter was seen (or is too old)
  'unexpected_whoareyou', // WHOAREYOU not naming a packet we recently sent there
  'probe_cooldown', // send to an endpoint whose handshake failed recently
  'handshake_limit', // too many outbound handshakes at once
  'queue_full', // too many messages waiting for one handshake
  'peer_mismatch', // the endpoint's session (or handshake) is with another node id
  'transport_refused', // the transport below refused a packet (its counters say why)
  'closed', // after close()
] as const;
export type ChannelDropReason = (typeof CHANNEL_DROP_REASONS)[number];

/** Channel counters (a fresh plain object per snapshot). */
export interface ChannelCounters {
  handshakesInitiated: number;
  handshakesCompleted: number;
  handshakesAccepted: number;
  /** Outbound handshakes that failed, by reason (timeout, rejected, wrong_peer, busy…). */
  handshakeFailures: Record<string, number>;
  /** Endpoints with a session now / at most. */
  sessions: number;
  peakSessions: number;
  sessionsEvicted: number;
  sealedIn: number;
  sealedOut: number;
  plainIn: number;
  plainOut: number;
  whoAreYouSent: number;
  whoAreYouReceived: number;
  /** Messages re-sent in a new session after the peer lost the old one. */
  resent: number;
  penalties: number;
  bannedEndpoints: number;
  /** Highest bytes-sent / bytes-received reached by an unvalidated address. */
  amplificationPeakRatio: number;
  drops: Record<ChannelDropReason, number>;
}
