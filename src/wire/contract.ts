/**
 * Validation and field order of the contract messages (docs/contracts.md, "Part 2b: wire").
 * Every field is checked for type and size here; signed calls and receipts inside byte fields
 * are parsed by their own total decoders (src/contracts/call.ts) where they are used.
 */
import type { Id } from '../id/index.js';
import { isId, toId } from '../id/index.js';
import { WIRE_LIMITS } from './limits.js';
import type { Message, MessageTypeName } from './messages.js';
import { parseContacts } from './validate.js';

type HeaderFields = { tid: number; sender: Id; flags: number };
const L = WIRE_LIMITS;
const isUint = (v: unknown, max = Number.MAX_SAFE_INTEGER): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= max;
const isBytes = (v: unknown, max: number): v is Uint8Array => v instanceof Uint8Array && v.byteLength <= max;
const is32 = (v: unknown): v is Uint8Array => v instanceof Uint8Array && v.byteLength === 32;
const METHOD = /^(?!__)[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const copy = (b: Uint8Array): Uint8Array => new Uint8Array(b);

/** The fields after the header of a contract message, in wire order. */
export function contractFields(m: Message): unknown[] | null {
  switch (m.type) {
    case 'CONTRACT_CALL': return [m.call];
    case 'CONTRACT_QUERY': return [m.instance, m.method, m.input, m.gasLimit];
    case 'CONTRACT_RECEIPT': return [m.callId];
    case 'CONTRACT_RESULT': return [m.receipt, m.callId, m.redirect, m.replicas];
    case 'CONTRACT_UPDATE': return [m.instance, m.version, m.previousHash, m.stateHash, m.call, m.receipt];
    case 'CONTRACT_INSTALL': return [m.codeHash, m.creator, m.salt];
    case 'CONTRACT_ACK': return [m.version, m.stateHash];
    case 'CONTRACT_SYNC': return [m.instance, m.fromVersion, m.snapshot, m.after];
    case 'CONTRACT_STATE': return [m.meta, m.snapshot, m.updates, m.entries, m.next];
    default: return null;
  }
}

/** Validates the fields of a contract message; null when any is off. */
export function contractBody(type: MessageTypeName, f: unknown[], h: HeaderFields): Message | null {
  switch (type) {
    case 'CONTRACT_CALL':
      return isBytes(f[0], L.maxContractCallBytes) ? { type, ...h, call: copy(f[0]) } : null;
    case 'CONTRACT_QUERY': {
      const [instance, method, input, gas] = f;
      if (!isId(instance) || typeof method !== 'string' || !METHOD.test(method) || !isBytes(input, L.maxContractInputBytes)) return null;
      return isUint(gas, L.maxContractGas) && gas > 0 ? { type, ...h, instance: toId(instance), method, input: copy(input), gasLimit: gas } : null;
    }
    case 'CONTRACT_RECEIPT':
      return isId(f[0]) ? { type, ...h, callId: toId(f[0]) } : null;
    case 'CONTRACT_RESULT': {
      const [receipt, callId, redirect, replicas] = f;
      if (receipt !== null && !isBytes(receipt, L.maxContractReceiptBytes)) return null;
      if (!(is32(callId) || (callId instanceof Uint8Array && callId.byteLength === 0)) || !isUint(replicas, L.maxReplicas)) return null;
      const contacts = parseContacts(redirect);
      if (contacts === null || contacts.length > 1 || (contacts.length === 1 && receipt !== null)) return null;
      return { type, ...h, receipt: receipt === null ? null : copy(receipt), callId: copy(callId), redirect: contacts, replicas };
    }
    case 'CONTRACT_UPDATE': {
      const [instance, version, previous, state, call, receipt] = f;
      if (!isId(instance) || !isUint(version) || !is32(previous) || !is32(state)) return null;
      if (!isBytes(call, L.maxContractCallBytes) || !isBytes(receipt, L.maxContractReceiptBytes)) return null;
      return { type, ...h, instance: toId(instance), version, previousHash: copy(previous), stateHash: copy(state), call: copy(call), receipt: copy(receipt) };
    }
    case 'CONTRACT_INSTALL': {
      const [codeHash, creator, salt] = f;
      return isId(codeHash) && isId(creator) && isBytes(salt, L.maxContractSaltBytes)
        ? { type, ...h, codeHash: toId(codeHash), creator: toId(creator), salt: copy(salt) } : null;
    }
    case 'CONTRACT_ACK':
      return isUint(f[0]) && is32(f[1]) ? { type, ...h, version: f[0], stateHash: copy(f[1]) } : null;
    case 'CONTRACT_SYNC': {
      const [instance, from, snapshot, after] = f;
      if (!isId(instance) || !isUint(from) || typeof snapshot !== 'boolean' || !isBytes(after, L.maxContractKeyBytes)) return null;
      return { type, ...h, instance: toId(instance), fromVersion: from, snapshot, after: copy(after) };
    }
    case 'CONTRACT_STATE':
      return contractState(f, h);
    default:
      return null;
  }
}

function contractState(f: unknown[], h: HeaderFields): Message | null {
  const [meta, snapshot, updates, entries, next] = f;
  if (!Array.isArray(meta) || meta.length !== 4) return null;
  const [codeHash, creator, version, stateHash] = meta as unknown[];
  if (!is32(codeHash) || !is32(creator) || !isUint(version) || !is32(stateHash) || typeof snapshot !== 'boolean') return null;
  if (!isBytes(next, L.maxContractKeyBytes)) return null;
  const pairs = (raw: unknown, max: number, a: number, b: number): Array<readonly [Uint8Array, Uint8Array]> | null => {
    if (!Array.isArray(raw) || raw.length > max) return null;
    const out: Array<readonly [Uint8Array, Uint8Array]> = [];
    for (const p of raw as unknown[]) {
      if (!Array.isArray(p) || p.length !== 2 || !isBytes(p[0], a) || !isBytes(p[1], b)) return null;
      out.push([copy(p[0]), copy(p[1])]);
    }
    return out;
  };
  const u = pairs(updates, L.maxContractSyncUpdates, L.maxContractCallBytes, L.maxContractReceiptBytes);
  const e = pairs(entries, L.maxContractSyncEntries, L.maxContractKeyBytes, L.maxContractValueBytes);
  if (u === null || e === null) return null;
  return {
    type: 'CONTRACT_STATE', ...h, meta: [copy(codeHash), copy(creator), version, copy(stateHash)], snapshot, updates: u, entries: e, next: copy(next),
  };
}
