/**
 * Every size limit of the wire format, in one place. The decoder enforces each of them; the
 * encoder refuses to build a message that breaks one (a programmer error).
 */
import { K_BUCKET_SIZE, MAX_MESSAGE_BYTES, MAX_REPLICATION_FACTOR, MAX_TTL, MAX_VALUE_BYTES, second } from '../util/index.js';

/** Protocol version carried in every message. A message of another version is dropped. */
export const PROTOCOL_VERSION = 1;

export const WIRE_LIMITS = {
  /** Largest encoded message (after reassembly). */
  maxMessageBytes: MAX_MESSAGE_BYTES,
  /** Largest value in STORE or VALUE. */
  maxValueBytes: MAX_VALUE_BYTES,
  /** Contacts in one NODES or VALUE answer. */
  maxContacts: K_BUCKET_SIZE,
  /** Characters of the human message in ERROR. */
  maxErrorMessage: 200,
  /** Largest TTL a STORE may ask for, in seconds. */
  maxTtlSeconds: MAX_TTL / second,
  /** Largest node record carried in RECORD. */
  maxRecordBytes: 8 * 1024,
  /** Padding a GET_RECORD must carry: a third of the largest record (3× anti-amplification). */
  minRecordRequestPadding: Math.ceil((8 * 1024) / 3),
  /** Bytes of a write token (a truncated keyed BLAKE3, see docs/security.md). */
  tokenBytes: 16,
  /** Highest replication factor a STORE may ask for (specification: 3..12; 0 marks a cached copy). */
  maxReplicas: MAX_REPLICATION_FACTOR,
  /** Bytes of an audit challenge's nonce. */
  auditNonceBytes: 16,
  /** Bytes of an audit proof (a keyed BLAKE3 digest). */
  auditProofBytes: 32,
  /** Bytes of a signed contract call at most (src/contracts MAX_SIGNED_CALL_BYTES: 64 KiB input + key, signature). */
  maxContractCallBytes: 72 * 1024,
  /** Bytes of an encoded contract receipt at most (src/contracts MAX_RECEIPT_BYTES). */
  maxContractReceiptBytes: 200 * 1024,
  /** Input of a contract query at most (src/contracts MAX_INPUT_BYTES). */
  maxContractInputBytes: 64 * 1024,
  /** Gas of one contract call at most (src/contracts MAX_GAS_LIMIT). */
  maxContractGas: 1_000_000_000,
  /** Salt of a contract instance at most. */
  maxContractSaltBytes: 64,
  /** Calls in one CONTRACT_STATE log page at most. */
  maxContractSyncUpdates: 16,
  /** [key, value] pairs in one CONTRACT_STATE snapshot page at most. */
  maxContractSyncEntries: 4096,
  /** Bytes of a contract storage key / value at most (src/contracts limits). */
  maxContractKeyBytes: 256,
  maxContractValueBytes: 64 * 1024,
  /** Transaction ids are unsigned 32-bit integers. */
  maxTid: 0xffff_ffff,
} as const;
