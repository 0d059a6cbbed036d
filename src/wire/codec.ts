/**
 * msgpack encoding of messages. A message is one msgpack array:
 *   [version, type, tid, sender(32 B), flags, ...fields of the type]
 * Contacts are [id(32 B), ip(4|16 B), port]. decode() is total: it returns a validated Message
 * or null, and never throws, whatever the bytes (T02).
 */
import { Packr, Unpackr } from 'msgpackr';
import type { Contact } from '../id/index.js';
import { DHT_REPLICATION_FACTOR, ipToBytes } from '../util/index.js';
import { PROTOCOL_VERSION, WIRE_LIMITS } from './limits.js';
import { MessageType, type Message, ValueKind } from './messages.js';
import { validate } from './validate.js';
import { contractFields } from './contract.js';

const packr = new Packr({ useRecords: false, moreTypes: false, variableMapSize: true });
// Binary strings must come back as plain bytes; records and extensions are not part of our schema.
const unpackr = new Unpackr({ useRecords: false, moreTypes: false, mapsAsObjects: false });

/** Encodes a message. Throws RangeError when the message breaks a wire limit (a local bug). */
export function encode(m: Message): Uint8Array {
  const header = [PROTOCOL_VERSION, MessageType[m.type], m.tid, m.sender, m.flags];
  const out = packr.pack([...header, ...fields(m)]);
  if (out.byteLength > WIRE_LIMITS.maxMessageBytes) {
    throw new RangeError(`encoded ${m.type} is ${out.byteLength} bytes, over maxMessageBytes`);
  }
  return out;
}

function fields(m: Message): unknown[] {
  switch (m.type) {
    case 'PING':
      return [];
    case 'STORED':
      return [Math.min(Number.MAX_SAFE_INTEGER, Math.max(0, Math.floor(m.free ?? 0)))];
    case 'PONG': {
      const ip = ipToBytes(m.observed.host);
      if (ip === null) throw new RangeError(`PONG observed host is not an IP literal: ${m.observed.host}`);
      return [ip, m.observed.port];
    }
    case 'FIND_NODE':
      return [m.target];
    case 'NODES':
      return [packContacts(m.contacts), m.token];
    case 'FIND_VALUE':
      return [m.key, m.inline ?? WIRE_LIMITS.maxValueBytes];
    case 'VALUE':
      return [m.value, packContacts(m.contacts), m.token, m.held ?? 0];
    case 'STORE':
      return [m.key, m.value, m.ttl, m.token, m.kind ?? ValueKind.IMMUTABLE, m.cas ?? null, m.replicas ?? DHT_REPLICATION_FACTOR];
    case 'AUDIT':
      return [m.key, m.nonce];
    case 'AUDIT_PROOF':
      return [m.proof];
    case 'ERROR':
      return [m.code, m.message.slice(0, WIRE_LIMITS.maxErrorMessage)];
    case 'GET_RECORD':
      return [m.padding];
    case 'RECORD':
      return [m.record];
    case 'CONTRACT_RESULT':
      return [m.receipt, m.callId, packContacts(m.redirect), m.replicas];
    default:
      return contractFields(m) ?? [];
  }
}

function packContacts(contacts: readonly Contact[]): unknown[] {
  if (contacts.length > WIRE_LIMITS.maxContacts) throw new RangeError('too many contacts for one message');
  return contacts.map((c) => {
    const ip = ipToBytes(c.host);
    if (ip === null) throw new RangeError(`contact host is not an IP literal: ${c.host}`);
    return [c.id, ip, c.port];
  });
}

/** Decodes and validates untrusted bytes: a Message, or null for anything malformed. */
export function decode(bytes: Uint8Array): Message | null {
  if (bytes.byteLength === 0 || bytes.byteLength > WIRE_LIMITS.maxMessageBytes) return null;
  // msgpack arrays start with 0x90-0x9f, 0xdc or 0xdd; reject anything else before parsing.
  const first = bytes[0]!;
  if (!((first >= 0x95 && first <= 0x9f) || first === 0xdc)) return null;
  let raw: unknown;
  try {
    raw = unpackr.unpack(bytes);
  } catch {
    return null; // malformed msgpack: the caller counts the drop
  }
  return validate(raw);
}
