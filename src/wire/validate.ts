/**
 * Strict validation of a decoded msgpack value against the message schema: exact array
 * lengths, types, id lengths, ranges and limits. Anything unexpected yields null.
 */
import type { Contact, Id } from '../id/index.js';
import { isId, toId } from '../id/index.js';
import { bytesToIp, isPort } from '../util/index.js';
import { PROTOCOL_VERSION, WIRE_LIMITS } from './limits.js';
import { KNOWN_FLAGS, MessageType, type Message, type MessageTypeName, ValueKind } from './messages.js';
import { contractBody } from './contract.js';

const TYPE_NAMES = new Map<number, MessageTypeName>(
  Object.entries(MessageType).map(([name, code]) => [code, name as MessageTypeName]),
);

/** Number of fields after the 5 header fields, per type. */
const FIELD_COUNT: Record<MessageTypeName, number> = {
  PING: 0, PONG: 2, FIND_NODE: 1, NODES: 2, FIND_VALUE: 2, VALUE: 4, STORE: 7, STORED: 1, ERROR: 2,
  GET_RECORD: 1, RECORD: 1, AUDIT: 2, AUDIT_PROOF: 1,
  CONTRACT_CALL: 1, CONTRACT_QUERY: 4, CONTRACT_RESULT: 4, CONTRACT_UPDATE: 6, CONTRACT_INSTALL: 3, CONTRACT_ACK: 2,
  CONTRACT_SYNC: 4, CONTRACT_STATE: 5, CONTRACT_RECEIPT: 1,
};

const isUint = (v: unknown, max: number): v is number =>
  typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= max;
const isBytes = (v: unknown): v is Uint8Array => v instanceof Uint8Array;
/** A write token: empty (the sender stores nothing) or exactly WIRE_LIMITS.tokenBytes. */
const isToken = (v: unknown): v is Uint8Array => isBytes(v) && (v.byteLength === 0 || v.byteLength === WIRE_LIMITS.tokenBytes);

const VALUE_KINDS: ReadonlySet<unknown> = new Set(Object.values(ValueKind));
/** One of the ValueKind numbers. */
export const isValueKind = (v: unknown): v is ValueKind => VALUE_KINDS.has(v);

/** Validates a decoded msgpack value as a Message; null when it is not one. */
export function validate(raw: unknown): Message | null {
  if (!Array.isArray(raw) || raw.length < 5) return null;
  const [version, typeCode, tid, sender, flags] = raw as unknown[];
  if (version !== PROTOCOL_VERSION || typeof typeCode !== 'number') return null;
  const type = TYPE_NAMES.get(typeCode);
  if (type === undefined || raw.length !== 5 + FIELD_COUNT[type]) return null;
  if (!isUint(tid, WIRE_LIMITS.maxTid) || !isId(sender)) return null;
  if (!isUint(flags, 0xff) || (flags & ~KNOWN_FLAGS) !== 0) return null;
  const header = { tid, sender: toId(sender), flags };
  return body(type, raw.slice(5), header);
}

type HeaderFields = { tid: number; sender: Id; flags: number };

function body(type: MessageTypeName, f: unknown[], h: HeaderFields): Message | null {
  switch (type) {
    case 'PING':
      return { type, ...h };
    case 'STORED':
      return isUint(f[0], Number.MAX_SAFE_INTEGER) ? { type, ...h, free: f[0] } : null;
    case 'AUDIT':
      return isId(f[0]) && isBytes(f[1]) && f[1].byteLength === WIRE_LIMITS.auditNonceBytes
        ? { type, ...h, key: toId(f[0]), nonce: new Uint8Array(f[1]) } : null;
    case 'AUDIT_PROOF':
      return isBytes(f[0]) && (f[0].byteLength === 0 || f[0].byteLength === WIRE_LIMITS.auditProofBytes)
        ? { type, ...h, proof: new Uint8Array(f[0]) } : null;
    case 'PONG': {
      const host = isBytes(f[0]) ? bytesToIp(f[0]) : null;
      if (host === null || !isPort(f[1])) return null;
      return { type, ...h, observed: { host, port: f[1] } };
    }
    case 'FIND_NODE':
      return isId(f[0]) ? { type, ...h, target: toId(f[0]) } : null;
    case 'FIND_VALUE':
      return isId(f[0]) && isUint(f[1], WIRE_LIMITS.maxValueBytes) ? { type, ...h, key: toId(f[0]), inline: f[1] } : null;
    case 'NODES': {
      const contacts = parseContacts(f[0]);
      return contacts === null || !isToken(f[1]) ? null : { type, ...h, contacts, token: new Uint8Array(f[1]) };
    }
    case 'VALUE':
      return valueReply(f, h);
    case 'STORE':
      return store(f, h);
    case 'GET_RECORD':
      // Too little padding would let the reply amplify; more than a datagram's worth is waste.
      return isBytes(f[0]) && f[0].byteLength >= WIRE_LIMITS.minRecordRequestPadding && f[0].byteLength <= 2 * WIRE_LIMITS.minRecordRequestPadding
        ? { type, ...h, padding: f[0] } : null;
    case 'RECORD':
      return isBytes(f[0]) && f[0].byteLength <= WIRE_LIMITS.maxRecordBytes ? { type, ...h, record: new Uint8Array(f[0]) } : null;
    case 'CONTRACT_CALL': case 'CONTRACT_QUERY': case 'CONTRACT_RESULT': case 'CONTRACT_UPDATE': case 'CONTRACT_INSTALL':
    case 'CONTRACT_ACK': case 'CONTRACT_SYNC': case 'CONTRACT_STATE': case 'CONTRACT_RECEIPT':
      return contractBody(type, f, h);
    case 'ERROR': {
      const [code, message] = f;
      if (!isUint(code, 0xffff) || typeof message !== 'string') return null;
      if (message.length > WIRE_LIMITS.maxErrorMessage) return null;
      return { type, ...h, code, message };
    }
  }
}

function valueReply(f: unknown[], h: HeaderFields): Message | null {
  const [value, rawContacts, token, held] = f;
  if (value !== null && !isBytes(value)) return null;
  if (!isToken(token)) return null;
  // A peer holds a value it did not send, or sends one: never both.
  if (!isUint(held, WIRE_LIMITS.maxValueBytes) || (held > 0 && value !== null)) return null;
  if (value !== null && value.byteLength > WIRE_LIMITS.maxValueBytes) return null;
  const contacts = parseContacts(rawContacts);
  if (contacts === null) return null;
  return { type: 'VALUE', ...h, value: value === null ? null : new Uint8Array(value), contacts, token: new Uint8Array(token), held };
}

function store(f: unknown[], h: HeaderFields): Message | null {
  const [key, value, ttl, token, kind, cas, replicas] = f;
  if (!isId(key) || !isBytes(value) || value.byteLength > WIRE_LIMITS.maxValueBytes) return null;
  if (!isUint(ttl, WIRE_LIMITS.maxTtlSeconds) || ttl === 0 || !isToken(token)) return null;
  if (!isValueKind(kind)) return null;
  // cas means something only for a mutable record; elsewhere it must be absent.
  if (cas !== null && (kind !== ValueKind.MUTABLE || !isUint(cas, Number.MAX_SAFE_INTEGER))) return null;
  if (!isUint(replicas, WIRE_LIMITS.maxReplicas)) return null;
  return {
    type: 'STORE', ...h, key: toId(key), value: new Uint8Array(value), ttl, token: new Uint8Array(token), kind, cas, replicas,
  };
}

/**
 * Contacts of a NODES/VALUE answer. More than the limit, a malformed entry, or a duplicate id
 * rejects the whole message: an honest peer never sends one.
 */
export function parseContacts(raw: unknown): Contact[] | null {
  if (!Array.isArray(raw) || raw.length > WIRE_LIMITS.maxContacts) return null;
  const out: Contact[] = [];
  const seen = new Set<string>();
  for (const entry of raw as unknown[]) {
    if (!Array.isArray(entry) || entry.length !== 3) return null;
    const [id, ip, port] = entry as unknown[];
    const host = isBytes(ip) ? bytesToIp(ip) : null;
    if (!isId(id) || host === null || !isPort(port)) return null;
    const hex = Buffer.from(id).toString('hex');
    if (seen.has(hex)) return null;
    seen.add(hex);
    out.push({ id: toId(id), host, port });
  }
  return out;
}
