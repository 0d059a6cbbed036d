/**
 * The message schema: Kademlia's four RPCs (PING, FIND_NODE, FIND_VALUE, STORE) and their
 * replies, plus ERROR. Every message carries the protocol version, a transaction id echoed by
 * the reply, the sender's node id and flags.
 */
import type { Contact, Key, NodeId } from '../id/index.js';

/** Numeric message types as they travel on the wire. */
export const MessageType = {
  PING: 1,
  PONG: 2,
  FIND_NODE: 3,
  NODES: 4,
  FIND_VALUE: 5,
  VALUE: 6,
  STORE: 7,
  STORED: 8,
  ERROR: 9,
  GET_RECORD: 10,
  RECORD: 11,
  AUDIT: 12,
  AUDIT_PROOF: 13,
} as const;

/**
 * What a STORE carries, which decides how the receiver checks it: immutable content (key =
 * BLAKE3(value)), a signed mutable record (docs/records.md), entries of a multi-writer set, or a
 * ZkDhtValue whose Groth16 proof the receiver verifies (docs/zk.md).
 */
export const ValueKind = { IMMUTABLE: 0, MUTABLE: 1, SET: 2, ZK: 3 } as const;
export type ValueKind = (typeof ValueKind)[keyof typeof ValueKind];

export type MessageTypeName = keyof typeof MessageType;

/** Header flag: the sender is an ephemeral client and must not enter routing tables. */
export const FLAG_EPHEMERAL = 1;
/** Every flag this version knows; a message with other bits set is rejected. */
export const KNOWN_FLAGS = FLAG_EPHEMERAL;

/** Fields every message has. */
export interface Header {
  readonly tid: number;
  readonly sender: NodeId;
  readonly flags: number;
}

export interface Ping extends Header { readonly type: 'PING' }
/** Answer to PING; tells the pinger the address its packet came from. */
export interface Pong extends Header { readonly type: 'PONG'; readonly observed: { host: string; port: number } }
export interface FindNode extends Header { readonly type: 'FIND_NODE'; readonly target: NodeId }
/** Answer to FIND_NODE: closer contacts, and a write token for a later STORE of the target (empty from a node that stores nothing). */
export interface Nodes extends Header { readonly type: 'NODES'; readonly contacts: readonly Contact[]; readonly token: Uint8Array }
export interface FindValue extends Header { readonly type: 'FIND_VALUE'; readonly key: Key }
/** Answer to FIND_VALUE: the value when the peer holds it, else closer contacts. */
export interface ValueReply extends Header {
  readonly type: 'VALUE';
  readonly value: Uint8Array | null;
  readonly contacts: readonly Contact[];
  /** A write token for a later STORE of the key (empty from a node that stores nothing). */
  readonly token: Uint8Array;
}
/** Asks the peer to hold `value` under `key` for `ttl` seconds. */
export interface Store extends Header {
  readonly type: 'STORE';
  readonly key: Key;
  readonly value: Uint8Array;
  readonly ttl: number;
  /** The token the receiver gave us in a NODES or VALUE answer about `key` (BEP 5 write tokens). */
  readonly token: Uint8Array;
  /** How the value is checked and merged; IMMUTABLE when omitted. */
  readonly kind?: ValueKind;
  /** MUTABLE only: compare-and-swap, the seq the writer expects stored (BEP 44 `cas`); null for none. */
  readonly cas?: number | null;
  /** Replicas the publisher wants (3..12), so holders repair to the same factor; 0 for a cached copy. */
  readonly replicas?: number;
}
/** The STORE was committed to disk; `free` is the holder's free storage in bytes (a placement hint). */
export interface Stored extends Header { readonly type: 'STORED'; readonly free?: number }
/**
 * A storage audit: prove you hold `key` by returning keyed-BLAKE3(nonce-derived key, value).
 * See docs/replication.md.
 */
export interface Audit extends Header { readonly type: 'AUDIT'; readonly key: Key; readonly nonce: Uint8Array }
/** Answer to AUDIT: the 32-byte proof, or empty when the value is not held. */
export interface AuditProof extends Header { readonly type: 'AUDIT_PROOF'; readonly proof: Uint8Array }
/**
 * Asks for the peer's signed node record. Padded so the reply stays within 3× the request
 * (anti-amplification: a record is ~6.5 KiB, a PING ~50 B).
 */
export interface GetRecord extends Header { readonly type: 'GET_RECORD'; readonly padding: Uint8Array }
/** The sender's signed node record (src/crypto record wire form). */
export interface RecordReply extends Header { readonly type: 'RECORD'; readonly record: Uint8Array }
/** A request failed; `code` is a number of WIRE_ERROR_CODES. */
export interface ErrorReply extends Header { readonly type: 'ERROR'; readonly code: number; readonly message: string }

export type Request = Ping | FindNode | FindValue | Store | GetRecord | Audit;
export type Response = Pong | Nodes | ValueReply | Stored | ErrorReply | RecordReply | AuditProof;
export type Message = Request | Response;

/** A message without its header: what callers build before the RPC layer stamps it. */
export type Body<M extends Message> = M extends Message ? Omit<M, keyof Header> : never;
export type RequestBody = Body<Request>;
export type ResponseBody = Body<Response>;

/** The reply type a request expects (ERROR is always possible too). */
export const REPLY_TYPE = {
  PING: 'PONG',
  FIND_NODE: 'NODES',
  FIND_VALUE: 'VALUE',
  STORE: 'STORED',
  GET_RECORD: 'RECORD',
  AUDIT: 'AUDIT_PROOF',
} as const satisfies Record<Request['type'], Response['type']>;

/** Reply type for a given request type. */
export type ReplyTo<R extends RequestBody> = Extract<Response, { type: (typeof REPLY_TYPE)[R['type']] }>;

const REQUEST_TYPES: ReadonlySet<string> = new Set(['PING', 'FIND_NODE', 'FIND_VALUE', 'STORE', 'GET_RECORD', 'AUDIT']);

/** True when `m` is a request (it expects a reply). */
export function isRequest(m: Message): m is Request {
  return REQUEST_TYPES.has(m.type);
}
