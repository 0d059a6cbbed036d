/**
 * Liveness policy around the pure routing table (BEP 5 / Kademlia §2.2):
 * - a node that answers one of our requests is live and is offered to the table, where it is
 *   admitted only once its signed record verified (id = BLAKE3(public key));
 * - a node that sends us a request is pinged first and admitted only if it answers (so a
 *   spoofed source address never enters the table);
 * - when a bucket is full, its least-recently-seen contact is pinged (two tries); only if it
 *   stays silent is it evicted and the newest replacement-cache entry promoted;
 * - a contact whose requests time out twice in a row is removed.
 */
import type { Contact } from '../id/index.js';
import { idToHex } from '../id/index.js';
import type { RoutingEntry, RoutingTable } from '../routing/index.js';
import type { Rpc } from '../rpc/index.js';
import type { RecordBook } from './records.js';
import { type Address, type Clock, minute } from '../util/index.js';
import { FLAG_EPHEMERAL, type Message } from '../wire/index.js';

/** Pings of unknown requesters in flight at once; more requesters wait for a later request. */
const MAX_ADMISSION_PINGS = 16;
/** A contact seen this recently is considered good without a ping (BEP 5: 15 min). */
const GOOD_FOR = 1 * minute;
/** Consecutive failed requests after which a contact leaves the table. */
const MAX_FAILURES = 2;

export interface MaintainerCounters {
  /** Offers refused because the peer's record did not verify (or could not be fetched). */
  unverified: number;
  admissionPings: number;
  admitted: number;
  evictionPings: number;
  evicted: number;
  removedAfterFailures: number;
}

/** Keeps the routing table fed and honest. */
export class TableMaintainer {
  readonly #table: RoutingTable;
  readonly #rpc: Rpc;
  readonly #clock: Clock;
  readonly #records: RecordBook;
  readonly #admitting = new Set<string>();
  readonly #evicting = new Set<number>();
  readonly counters: MaintainerCounters = { unverified: 0, admissionPings: 0, admitted: 0, evictionPings: 0, evicted: 0, removedAfterFailures: 0 };
  #closed = false;

  constructor(components: { table: RoutingTable; rpc: Rpc; clock: Clock; records: RecordBook }) {
    this.#records = components.records;
    this.#table = components.table;
    this.#rpc = components.rpc;
    this.#clock = components.clock;
  }

  /** Called for every message the RPC accepted. */
  observe(message: Message, from: Address): void {
    if (this.#closed || (message.flags & FLAG_EPHEMERAL) !== 0) return;
    const contact: Contact = { id: message.sender, host: from.host, port: from.port };
    const isReply = message.type === 'PONG' || message.type === 'NODES' || message.type === 'VALUE'
      || message.type === 'STORED' || message.type === 'ERROR';
    if (isReply) void this.offer(contact);
    else this.#admitRequester(contact);
  }

  /**
   * Offers a contact known to be live (it answered us). A contact already in the table is
   * refreshed at once; a new one is added once its record verified. Resolves true when the
   * contact is in the table (or its bucket's replacement cache) afterwards.
   */
  async offer(contact: Contact): Promise<boolean> {
    const known = this.#table.get(contact.id);
    const sameEndpoint = known !== undefined && known.contact.host === contact.host && known.contact.port === contact.port;
    if (!sameEndpoint && !(await this.#records.verify(contact))) {
      this.counters.unverified++;
      return false;
    }
    if (this.#closed) return false;
    const result = this.#table.add(contact, this.#clock.now());
    if (result.status === 'added') this.counters.admitted++;
    if (result.status === 'full') this.#checkOldest(result.oldest);
    return result.status !== 'self';
  }

  /** Records a failed request to `contact`; removes it after repeated failures. */
  failed(contact: Contact): void {
    if (!this.#table.has(contact.id)) return;
    if (this.#table.recordFailure(contact.id) >= MAX_FAILURES) {
      this.#table.remove(contact.id, this.#clock.now());
      this.counters.removedAfterFailures++;
    }
  }

  /** Stops starting pings; pings in flight end with the RPC. */
  close(): void {
    this.#closed = true;
  }

  #admitRequester(contact: Contact): void {
    const known = this.#table.get(contact.id);
    if (known !== undefined) {
      // Same id from the same endpoint: fresh evidence of life. A new endpoint must prove itself.
      if (known.contact.host === contact.host && known.contact.port === contact.port) return void this.offer(contact);
    }
    const key = idToHex(contact.id);
    if (this.#admitting.has(key) || this.#admitting.size >= MAX_ADMISSION_PINGS) return;
    this.#admitting.add(key);
    this.counters.admissionPings++;
    this.#rpc.request(contact, { type: 'PING' }, { retries: 0 }).then(
      () => {}, // the PONG itself reaches observe() and is offered there
      () => {}, // silent: not admitted (the RPC counted the timeout)
    ).finally(() => this.#admitting.delete(key));
  }

  #checkOldest(oldest: RoutingEntry): void {
    const bucket = this.#table.bucketIndex(oldest.contact.id);
    if (this.#evicting.has(bucket)) return;
    if (this.#clock.now() - oldest.lastSeen < GOOD_FOR) return; // recently good: keep it
    this.#evicting.add(bucket);
    this.counters.evictionPings++;
    // One retry: the contact gets two tries before it is judged dead.
    this.#rpc.request(oldest.contact, { type: 'PING' }, { retries: 1 }).then(
      () => {}, // answered: observe() refreshed it, the newcomer stays in the replacement cache
      () => {
        if (this.#closed) return;
        this.#table.replace(oldest.contact.id, undefined, this.#clock.now());
        this.counters.evicted++;
      },
    ).finally(() => this.#evicting.delete(bucket));
  }
}
