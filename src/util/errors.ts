/**
 * Operational errors. One class with a string code, static factories, and the numeric code used
 * on the wire (BEP 44's 2xx/3xx numbers where one fits, hyperdht's TRY_LATER idea for BUSY).
 * Programmer errors are TypeError / RangeError; untrusted bytes never throw (decoders return null).
 */

/** Every code a DhtError can carry. */
export type DhtErrorCode =
  | 'TIMEOUT'
  | 'NOT_FOUND'
  | 'INVALID_CONTENT'
  | 'VALUE_TOO_BIG'
  | 'STORAGE_FULL'
  | 'NO_PEERS'
  | 'STORE_FAILED'
  | 'BUSY'
  | 'SEND_FAILED'
  | 'REMOTE_ERROR'
  | 'DESTROYED'
  | 'ABORTED'
  | 'BAD_REQUEST'
  | 'BAD_TOKEN'
  | 'INVALID_SIGNATURE'
  | 'SALT_TOO_BIG'
  | 'SEQ_TOO_LOW'
  | 'SEQ_REUSED'
  | 'CAS_MISMATCH'
  | 'SET_FULL'
  | 'INVALID_PROOF'
  | 'COMMITMENT_MISMATCH'
  | 'NONCE_OUT_OF_RANGE'
  | 'STALE_NONCE'
  | 'ACCESS_DENIED'
  | 'INVALID_CONTRACT'
  /** A feature this node runs without (options.contracts = false, or an ephemeral client's engine). */
  | 'DISABLED'
  /** A contract holder's re-execution or state hash disagreed with the primary's (docs/contracts.md). */
  | 'CONTRACT_MISMATCH'
  /** A replicated contract update does not extend this holder's state (another version or state hash). */
  | 'STATE_CONFLICT';

/** Numeric codes for errors that travel in an ERROR message. */
export const WIRE_ERROR_CODES = {
  BAD_REQUEST: 203,
  /** BEP 5 uses 203 for a bad token too; ours has its own number so publishers can tell. */
  BAD_TOKEN: 204,
  VALUE_TOO_BIG: 205,
  /** BEP 44: the signature is not valid. */
  INVALID_SIGNATURE: 206,
  /** BEP 44: salt longer than 64 bytes. */
  SALT_TOO_BIG: 207,
  INVALID_CONTENT: 208,
  /** A ZkDhtValue whose Groth16 proof does not verify against the signals the node built. */
  INVALID_PROOF: 209,
  /** A ZkDhtValue whose key is not derived from its access commitment (docs/zk.md). */
  COMMITMENT_MISMATCH: 210,
  /** A ZkDhtValue nonce that is not an integer in [0, 2^64). */
  NONCE_OUT_OF_RANGE: 211,
  /** BEP 44: compare-and-swap mismatch. */
  CAS_MISMATCH: 301,
  /** BEP 44: sequence number less than current. */
  SEQ_TOO_LOW: 302,
  /** Same seq as the stored record with a different value (BEP 44 leaves this to the node). */
  SEQ_REUSED: 303,
  /** A multi-writer set already holds its cap of entries from other signers. */
  SET_FULL: 304,
  /** A ZkDhtValue whose nonce is not above the stored one: a replay or an outdated write. */
  STALE_NONCE: 305,
  /** A contract's audit or state hash check failed at a holder. */
  CONTRACT_MISMATCH: 212,
  /** A contract update that does not extend the holder's state. */
  STATE_CONFLICT: 306,
  NOT_FOUND: 404,
  DISABLED: 501,
  STORAGE_FULL: 507,
  BUSY: 3,
} as const satisfies Partial<Record<DhtErrorCode, number>>;

export type WireErrorName = keyof typeof WIRE_ERROR_CODES;

/** Maps a wire number back to its name; unknown numbers become REMOTE_ERROR. */
export function wireErrorName(code: number): DhtErrorCode {
  for (const [name, value] of Object.entries(WIRE_ERROR_CODES)) {
    if (value === code) return name as DhtErrorCode;
  }
  return 'REMOTE_ERROR';
}

/** An operational failure: the network, the peer or the data said no. */
export class DhtError extends Error {
  override readonly name = 'DhtError';
  readonly code: DhtErrorCode;

  constructor(code: DhtErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }

  static timeout(what: string): DhtError {
    return new DhtError('TIMEOUT', `${what} timed out`);
  }
  static notFound(what: string): DhtError {
    return new DhtError('NOT_FOUND', `${what} not found`);
  }
  static invalidContent(what: string): DhtError {
    return new DhtError('INVALID_CONTENT', `${what} does not hash to its key`);
  }
  static valueTooBig(size: number, limit: number): DhtError {
    return new DhtError('VALUE_TOO_BIG', `value of ${size} bytes exceeds the limit of ${limit}`);
  }
  static storageFull(needed: number): DhtError {
    return new DhtError('STORAGE_FULL', `storage cap reached (${needed} more bytes needed)`);
  }
  static noPeers(): DhtError {
    return new DhtError('NO_PEERS', 'no reachable peers in the routing table');
  }
  static storeFailed(key: string, reason: string): DhtError {
    return new DhtError('STORE_FAILED', `no node accepted ${key}: ${reason}`);
  }
  static sendFailed(to: string): DhtError {
    return new DhtError('SEND_FAILED', `could not send to ${to} (see transport drop counters)`);
  }
  static badToken(from: string): DhtError {
    return new DhtError('BAD_TOKEN', `STORE from ${from} without a valid write token (ask FIND_NODE or FIND_VALUE first)`);
  }
  static destroyed(): DhtError {
    return new DhtError('DESTROYED', 'node is stopped');
  }
  static aborted(): DhtError {
    return new DhtError('ABORTED', 'operation aborted');
  }
  static remote(code: number, message: string): DhtError {
    const name = wireErrorName(code);
    return new DhtError(name, `peer answered ${code}: ${message}`);
  }
}

/** True when `err` is a DhtError with the given code. */
export function isDhtError(err: unknown, code?: DhtErrorCode): err is DhtError {
  return err instanceof DhtError && (code === undefined || err.code === code);
}
