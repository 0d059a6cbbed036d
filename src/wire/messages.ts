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
  CONTRACT_CALL: 14,
  CONTRACT_QUERY: 15,
  CONTRACT_RESULT: 16,
  CONTRACT_UPDATE: 17,
  CONTRACT_INSTALL: 18,
  CONTRACT_ACK: 19,
  CONTRACT_SYNC: 20,
  CONTRACT_STATE: 21,
  CONTRACT_RECEIPT: 22,
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
/**
 * Asks for the value under `key`. `inline`: the largest immutable value the asker wants in the
 * answer, bytes (default maxValueBytes: any). A holder of a larger one answers with `held`, and the
 * asker fetches it from one holder instead of receiving it from every holder it asked at once.
 */
export interface FindValue extends Header { readonly type: 'FIND_VALUE'; readonly key: Key; readonly inline?: number }
/** Answer to FIND_VALUE: the value when the peer holds it, else closer contacts. */
export interface ValueReply extends Header {
  readonly type: 'VALUE';
  readonly value: Uint8Array | null;
  readonly contacts: readonly Contact[];
  /** A write token for a later STORE of the key (empty from a node that stores nothing). */
  readonly token: Uint8Array;
  /** Size of the value the peer holds but did not send (larger than the asked `inline`); 0 or absent: none. */
  readonly held?: number;
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

// Contract execution across an instance's holders (docs/contracts.md, "Part 2b"). Byte fields
// holding signed calls and receipts are checked by their own decoders (src/contracts/call.ts).

/** Runs a signed state-changing call (src/contracts encodeSignedCall) at the instance's primary. */
export interface ContractCall extends Header { readonly type: 'CONTRACT_CALL'; readonly call: Uint8Array }
/** Runs a read-only method at any holder; the caller the contract sees is the sender's id. */
export interface ContractQuery extends Header {
  readonly type: 'CONTRACT_QUERY';
  readonly instance: Key;
  readonly method: string;
  readonly input: Uint8Array;
  readonly gasLimit: number;
}
/** Asks a holder for the receipt kept under a call id. */
export interface ContractReceiptGet extends Header { readonly type: 'CONTRACT_RECEIPT'; readonly callId: Key }
/**
 * The answer to CONTRACT_CALL, CONTRACT_QUERY and CONTRACT_RECEIPT: an encoded receipt, or none
 * and `redirect` naming the closer holder that orders calls ("not primary"), or neither (no such
 * receipt). `replicas` counts the holders known to hold the call's outcome (the executor included).
 */
export interface ContractResult extends Header {
  readonly type: 'CONTRACT_RESULT';
  readonly receipt: Uint8Array | null;
  readonly callId: Uint8Array;
  readonly redirect: readonly Contact[];
  readonly replicas: number;
}
/** The primary's replication of one executed call to a follower: the receipt carries the write set. */
export interface ContractUpdate extends Header {
  readonly type: 'CONTRACT_UPDATE';
  readonly instance: Key;
  readonly version: number;
  readonly previousHash: Uint8Array;
  readonly stateHash: Uint8Array;
  readonly call: Uint8Array;
  readonly receipt: Uint8Array;
}
/** Installs an instance at genesis on a holder, which fetches the code from the DHT itself. */
export interface ContractInstall extends Header {
  readonly type: 'CONTRACT_INSTALL';
  readonly codeHash: Key;
  readonly creator: NodeId;
  readonly salt: Uint8Array;
}
/** A holder's answer to CONTRACT_UPDATE and CONTRACT_INSTALL: its version and state hash now. */
export interface ContractAck extends Header { readonly type: 'CONTRACT_ACK'; readonly version: number; readonly stateHash: Uint8Array }
/**
 * A holder catching up: the calls after `fromVersion` (log mode), or a page of the whole state
 * after key `after` (snapshot mode, `after` empty for the first page).
 */
export interface ContractSync extends Header {
  readonly type: 'CONTRACT_SYNC';
  readonly instance: Key;
  readonly fromVersion: number;
  readonly snapshot: boolean;
  readonly after: Uint8Array;
}
/**
 * The answer to CONTRACT_SYNC. `meta` is [codeHash, creator, version, stateHash]. Log mode:
 * `updates` holds [signed call, receipt] pairs in version order (empty with `snapshot` true when
 * the log no longer reaches back: ask for a snapshot). Snapshot mode: `entries` is one page of
 * [key, value] pairs at meta's version; `next` the key to continue after, empty on the last page.
 */
export interface ContractState extends Header {
  readonly type: 'CONTRACT_STATE';
  readonly meta: readonly [Uint8Array, Uint8Array, number, Uint8Array];
  readonly snapshot: boolean;
  readonly updates: ReadonlyArray<readonly [Uint8Array, Uint8Array]>;
  readonly entries: ReadonlyArray<readonly [Uint8Array, Uint8Array]>;
  readonly next: Uint8Array;
}

/** The contract requests: answered by the node's contract handler, not the Kademlia one. */
export type ContractRequest = ContractCall | ContractQuery | ContractReceiptGet | ContractUpdate | ContractInstall | ContractSync;
export type ContractResponse = ContractResult | ContractAck | ContractState;

export type Request = Ping | FindNode | FindValue | Store | GetRecord | Audit;
export type Response = Pong | Nodes | ValueReply | Stored | ErrorReply | RecordReply | AuditProof | ContractResponse;
/** Every request, the Kademlia ones and the contract ones. */
export type AnyRequest = Request | ContractRequest;
export type Message = AnyRequest | Response;

/** A message without its header: what callers build before the RPC layer stamps it. */
export type Body<M extends Message> = M extends Message ? Omit<M, keyof Header> : never;
export type RequestBody = Body<AnyRequest>;
export type ContractRequestBody = Body<ContractRequest>;
export type ResponseBody = Body<Response>;

/** The reply type a request expects (ERROR is always possible too). */
export const REPLY_TYPE = {
  PING: 'PONG',
  FIND_NODE: 'NODES',
  FIND_VALUE: 'VALUE',
  STORE: 'STORED',
  GET_RECORD: 'RECORD',
  AUDIT: 'AUDIT_PROOF',
  CONTRACT_CALL: 'CONTRACT_RESULT',
  CONTRACT_QUERY: 'CONTRACT_RESULT',
  CONTRACT_RECEIPT: 'CONTRACT_RESULT',
  CONTRACT_UPDATE: 'CONTRACT_ACK',
  CONTRACT_INSTALL: 'CONTRACT_ACK',
  CONTRACT_SYNC: 'CONTRACT_STATE',
} as const satisfies Record<AnyRequest['type'], Response['type']>;

/** Reply type for a given request type. */
export type ReplyTo<R extends RequestBody> = Extract<Response, { type: (typeof REPLY_TYPE)[R['type']] }>;

const CONTRACT_REQUEST_TYPES: ReadonlySet<string> = new Set(['CONTRACT_CALL', 'CONTRACT_QUERY', 'CONTRACT_RECEIPT', 'CONTRACT_UPDATE', 'CONTRACT_INSTALL', 'CONTRACT_SYNC']);
const REQUEST_TYPES: ReadonlySet<string> = new Set(['PING', 'FIND_NODE', 'FIND_VALUE', 'STORE', 'GET_RECORD', 'AUDIT', ...CONTRACT_REQUEST_TYPES]);

/** True when `m` is a request (it expects a reply). */
export function isRequest(m: Message): m is AnyRequest {
  return REQUEST_TYPES.has(m.type);
}

/** True when `m` is a contract request (the node's contract handler answers it). */
export function isContractRequest(m: Message): m is ContractRequest {
  return CONTRACT_REQUEST_TYPES.has(m.type);
}
