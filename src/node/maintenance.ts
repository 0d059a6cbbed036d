/**
 * Liveness policy around the pure routing table (BEP 5 / Kademlia §2.2, discv5):
 * - only messages that arrived in a session count: the handshake verified the peer's record and
 *   its signature over our fresh cookie, so its id and its endpoint are proven, and plaintext
 *   (spoofable) packets never touch the table;
 * - a node that answers one of our requests is offered as outbound-verified; a node that only
 *   sends us requests is offered as inbound, and the table caps inbound-only entries per bucket
 *   and as a share of the table (an attacker cannot fill our table just by contacting us); an
 *   inbound entry stays inbound-only while it is in the table, even when it answers us;
 * - the table's subnet limits decide the rest (routing/diversity.ts);
 * - when a bucket is full, its least-recently-seen contact is pinged (two tries); only if it
 *   stays silent is it evicted and the newest replacement-cache entry promoted;
 * - a contact whose requests time out twice in a row is removed.
 */
import { type Contact, type Id, randomIdInBucket } from '../id/index.js';
import type { RoutingEntry, RoutingTable } from '../routing/index.js';
import type { Rpc } from '../rpc/index.js';
import { type Address, type Clock, minute, REBOOTSTRAP_SHARE } from '../util/index.js';
import { FLAG_EPHEMERAL, type Message } from '../wire/index.js';

/** A contact seen this recently is considered good without a ping (BEP 5: 15 min). */
const GOOD_FOR = 1 * minute;
/** Consecutive failed requests after which a contact leaves the table. */
const MAX_FAILURES = 2;

export interface MaintainerCounters {
  admitted: number;
  /** Offers the table refused (subnet or inbound limits). */
  rejected: number;
  evictionPings: number;
  evicted: number;
  removedAfterFailures: number;
  /** Times the node bootstrapped again because its table had almost emptied (REBOOTSTRAP_SHARE of k). */
  rebootstraps: number;
}

/** Keeps the routing table fed and honest. */
export class TableMaintainer {
  readonly #table: RoutingTable;
  readonly #rpc: Rpc;
  readonly #clock: Clock;
  readonly #evicting = new Set<number>();
  readonly counters: MaintainerCounters = { admitted: 0, rejected: 0, evictionPings: 0, evicted: 0, removedAfterFailures: 0, rebootstraps: 0 };
  #closed = false;
  /** Told of each contact newly admitted to the table (replication hands it the keys it should hold). */
  onAdmitted: (contact: Contact) => void = () => {};
  /** Told of each contact the maintainer takes out of the table, and why. */
  onRemoved: (contact: Contact, reason: 'failures' | 'evicted') => void = () => {};

  constructor(components: { table: RoutingTable; rpc: Rpc; clock: Clock }) {
    this.#table = components.table;
    this.#rpc = components.rpc;
    this.#clock = components.clock;
  }

  /** Called for every message the RPC accepted. */
  observe(message: Message, from: Address, authenticated: boolean): void {
    if (this.#closed || !authenticated || (message.flags & FLAG_EPHEMERAL) !== 0) return;
    const contact: Contact = { id: message.sender, host: from.host, port: from.port };
    const isReply = message.type === 'PONG' || message.type === 'NODES' || message.type === 'VALUE'
      || message.type === 'STORED' || message.type === 'ERROR' || message.type === 'RECORD' || message.type === 'AUDIT_PROOF';
    // An entry that came in on its own stays inbound-only even when it later answers us: our
    // lookups query what is in the table, so counting those answers would let an attacker's
    // entries turn "outbound" one by one and free the inbound slots for more of them (T17).
    // Outbound-verified means a contact we went to first, learned from others or bootstrap.
    const inbound = !isReply || this.#table.get(contact.id)?.inbound === true;
    this.offer(contact, inbound);
  }

  /**
   * Offers a contact proven live in a session: `inbound` when it only contacted us. Returns true
   * when the contact is in the table (or its bucket's replacement cache) afterwards.
   */
  offer(contact: Contact, inbound = false): boolean {
    if (this.#closed) return false;
    const result = this.#table.add(contact, this.#clock.now(), { inbound });
    if (result.status === 'added') {
      this.counters.admitted++;
      this.onAdmitted(contact);
    }
    if (result.status === 'full') this.#checkOldest(result.oldest);
    if (result.status === 'rejected') this.counters.rejected++;
    return result.status === 'added' || result.status === 'updated' || result.status === 'full';
  }

  /** Records a failed request to `contact`; removes it after repeated failures. */
  failed(contact: Contact): void {
    if (!this.#table.has(contact.id)) return;
    if (this.#table.recordFailure(contact.id) >= MAX_FAILURES) {
      this.#table.remove(contact.id, this.#clock.now());
      this.counters.removedAfterFailures++;
      this.onRemoved(contact, 'failures');
    }
  }

  /** Stops starting pings; pings in flight end with the RPC. */
  close(): void {
    this.#closed = true;
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
        this.onRemoved(oldest.contact, 'evicted');
      },
    ).finally(() => this.#evicting.delete(bucket));
  }
}

/**
 * Kademlia §2.3 bucket refresh: for each bucket left unchanged for `idleMs`, marks it fresh and
 * looks up a random id in its range, one lookup after another. Stops early when `running()`
 * turns false. Shared by the UDP node and the simulator.
 */
export async function refreshBuckets(
  table: RoutingTable, clock: Clock, idleMs: number, randomBytes: (n: number) => Uint8Array,
  lookup: (target: Id) => Promise<unknown>, running: () => boolean,
): Promise<void> {
  const now = clock.now();
  for (const index of table.staleBuckets(now, idleMs)) {
    table.touchBucket(index, now);
    await lookup(randomIdInBucket(table.self, index, randomBytes));
    if (!running()) return;
  }
}

/**
 * When to bootstrap again (self-healing): while the table holds fewer than REBOOTSTRAP_SHARE of k
 * contacts, at the next maintenance tick; after a bootstrap that added nothing (a network smaller
 * than that, or every bootstrap peer gone), the wait doubles, from one tick up to `maxWait`, so a
 * small network is not re-bootstrapped every minute. Any growth resets the wait. Shared by the
 * UDP node and the simulator.
 */
export class Rebootstrap {
  readonly #k: number;
  readonly #tick: number;
  readonly #maxWait: number;
  #wait = 0;
  #next = 0;
  /** The most contacts the table has held. */
  #peak = 0;

  constructor(k: number, tick: number, maxWait: number) {
    this.#k = k;
    this.#tick = tick;
    this.#maxWait = Math.max(tick, maxWait);
  }

  /**
   * True when a table of `size` contacts should bootstrap again now: below k/2 and emptier than it
   * has been (a network of fewer than k/2 nodes, whose tables never grow, is left alone).
   */
  due(size: number, now: number): boolean {
    this.#peak = Math.max(this.#peak, size);
    return size < REBOOTSTRAP_SHARE * this.#k && (size === 0 || size < this.#peak) && now >= this.#next;
  }

  /** A bootstrap took the table from `before` to `after` contacts. */
  done(before: number, after: number, now: number): void {
    this.#wait = after > before ? 0 : Math.min(this.#maxWait, Math.max(this.#tick, 2 * this.#wait));
    this.#next = now + this.#wait;
  }
}
