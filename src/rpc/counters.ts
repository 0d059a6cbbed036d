/** Message and drop counters of the RPC layer, by message type and by reason. */
import type { MessageTypeName } from '../wire/index.js';

/** Why an incoming message was dropped above the transport. */
export type RpcDropReason =
  | 'decode_failed'
  | 'unsolicited'
  | 'wrong_source'
  | 'wrong_sender'
  | 'wrong_reply_type'
  | 'handler_error'
  | 'own_id'
  | 'closed'
  | 'session_required' // a plaintext message other than PING where sessions are required
  | 'unauthenticated_reply' // a plaintext reply where sessions are required
  | 'wrong_session'; // the sender id differs from the session's peer id

/** A snapshot of the RPC counters. */
export interface RpcCounters {
  sent: Record<MessageTypeName, number>;
  received: Record<MessageTypeName, number>;
  drops: Record<RpcDropReason, number>;
  requests: number;
  responses: number;
  timeouts: number;
  retries: number;
  remoteErrors: number;
  /** Messages the transport refused to send (its own counters say why). */
  sendFailures: number;
  pending: number;
}

const TYPES: MessageTypeName[] = ['PING', 'PONG', 'FIND_NODE', 'NODES', 'FIND_VALUE', 'VALUE', 'STORE', 'STORED', 'ERROR', 'GET_RECORD', 'RECORD', 'AUDIT', 'AUDIT_PROOF',
  'CONTRACT_CALL', 'CONTRACT_QUERY', 'CONTRACT_RESULT', 'CONTRACT_UPDATE', 'CONTRACT_INSTALL', 'CONTRACT_ACK', 'CONTRACT_SYNC', 'CONTRACT_STATE', 'CONTRACT_RECEIPT'];
const REASONS: RpcDropReason[] = [
  'decode_failed', 'unsolicited', 'wrong_source', 'wrong_sender', 'wrong_reply_type', 'handler_error', 'own_id', 'closed',
  'session_required', 'unauthenticated_reply', 'wrong_session',
];

/** A zeroed counter set. */
export function emptyCounters(): Omit<RpcCounters, 'pending'> {
  const zero = <K extends string>(keys: K[]): Record<K, number> =>
    Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;
  return { sent: zero(TYPES), received: zero(TYPES), drops: zero(REASONS), requests: 0, responses: 0, timeouts: 0, retries: 0, remoteErrors: 0, sendFailures: 0 };
}
