/**
 * The session handshake's cryptography for the secure channel, run in the worker pool: each
 * half is one pool task (src/crypto/handshake.ts), so the coordinator never verifies, signs,
 * encapsulates or decapsulates. Records verified along the way go to the RecordBook.
 */
import {
  type CryptoPool, deriveSessionKeys, keyedBlake3, type NodeIdentity, transcriptSigningPayload,
} from '../crypto/index.js';
import type { Id } from '../id/index.js';
import type { ChannelKeys, HandshakeCrypto, HandshakeRejection, InitiatorHalf, ResponderHalf } from '../transport/index.js';
import type { RecordBook } from './records.js';

/** Handshake failures by reason, as the pool reported them. */
export type HandshakeRejections = Record<string, number>;

/** HandshakeCrypto over a CryptoPool. */
export class PoolHandshake implements HandshakeCrypto {
  readonly localId: Uint8Array;
  readonly rejections: HandshakeRejections = {};
  readonly #pool: CryptoPool;
  readonly #identity: NodeIdentity;
  readonly #records: RecordBook;
  readonly #record: () => Uint8Array;

  constructor(components: { pool: CryptoPool; identity: NodeIdentity; records: RecordBook; record: () => Uint8Array }) {
    this.#pool = components.pool;
    this.#identity = components.identity;
    this.#records = components.records;
    this.#record = components.record;
    this.localId = components.identity.id;
  }

  localRecord(): Uint8Array {
    return this.#record();
  }

  knowsPeer(peerId: Uint8Array): boolean {
    return this.#records.get(peerId as Id) !== undefined;
  }

  async initiate(input: { peerRecord: Uint8Array | null; expectedPeer: Uint8Array | null; nonce: Uint8Array; cookie: Uint8Array }): Promise<InitiatorHalf | HandshakeRejection> {
    const known = input.peerRecord === null && input.expectedPeer !== null ? this.#records.get(input.expectedPeer as Id) : undefined;
    if (input.peerRecord === null && known === undefined) return this.#reject('no_record');
    const r = await this.#pool.handshakeInitiate({
      peerRecord: input.peerRecord, peerKeys: known?.publicKeys ?? null, localId: this.localId, nonce: input.nonce,
      cookie: input.cookie, signingSecretKey: this.#identity.dsa.secretKey,
    });
    if (!r.ok) return this.#reject(r.reason);
    if (r.record !== null) this.#records.add(r.record);
    const pool = this.#pool;
    return {
      peerId: r.peerId, ciphertext: r.ciphertext, signature: r.signature,
      async complete(responderSignature: Uint8Array): Promise<ChannelKeys | null> {
        const ok = await pool.verify({ publicKey: r.peerSigningKey, message: transcriptSigningPayload('responder', r.transcript), signature: responderSignature });
        return ok ? deriveSessionKeys(r.sharedSecret, r.transcript, 'initiator') : null;
      },
    };
  }

  async respond(input: { peerRecord: Uint8Array; nonce: Uint8Array; cookie: Uint8Array; ciphertext: Uint8Array; signature: Uint8Array }): Promise<ResponderHalf | HandshakeRejection> {
    const r = await this.#pool.handshakeRespond({
      ...input, localId: this.localId, kemSecretKey: this.#identity.kem.secretKey, signingSecretKey: this.#identity.dsa.secretKey,
    });
    if (!r.ok) return this.#reject(r.reason);
    this.#records.add(r.record);
    return { peerId: r.record.id, keys: deriveSessionKeys(r.sharedSecret, r.transcript, 'responder'), signature: r.signature };
  }

  mac(key: Uint8Array, data: Uint8Array): Uint8Array {
    return keyedBlake3(key, data);
  }

  #reject(reason: string): HandshakeRejection {
    this.rejections[reason] = (this.rejections[reason] ?? 0) + 1;
    return { failure: reason };
  }
}
