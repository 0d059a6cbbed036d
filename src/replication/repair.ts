/**
 * Republish and repair rounds (docs/replication.md): a bounded batch of held records per round,
 * round-robin over the key space, `concurrency` at a time, each checked by check.ts. Keys a close
 * contact should hold (it arrived) or held (it left) are checked shortly after in a round of their
 * own; a record another holder has just checked here is skipped (Kademlia §2.5 spares republishing
 * the same way).
 */
import type { Contact, Key } from '../id/index.js';
import { compareDistance, idEquals, idToHex, sharedPrefixRange } from '../id/index.js';
import type { RecordMeta, Store, StoredEntry } from '../storage/index.js';
import { SELF_SOURCE } from '../storage/index.js';
import { type Clock, REPAIR_CONCURRENCY, REPAIR_URGENT_DELAY, type Timer } from '../util/index.js';
import { checkRecord } from './check.js';

/** What a round reads of the local store: the records in key order and a copy of one. */
export type ReplicaStore = Pick<Store, 'entries' | 'getCopy'>;

/** How a round reaches the network; the node supplies these (lookups, RPCs, the pool). */
export interface ReplicatorDeps {
  readonly clock: Clock;
  readonly store: ReplicaStore;
  readonly self: Contact;
  randomBytes(n: number): Uint8Array;
  /** The nodes that should hold `key`, best first (lookup + placement), this node possibly among them. */
  targets(key: Key, r: number, size: number): Promise<Contact[]>;
  /** Sends the record to `c`; true when it acknowledged. */
  send(c: Contact, key: Key, value: Uint8Array, meta: RecordMeta): Promise<boolean>;
  /** Challenges `c`; the proof (empty when it does not hold the key), or null when it did not answer. */
  audit(c: Contact, key: Key, nonce: Uint8Array): Promise<Uint8Array | null>;
  /** The proof this node expects for its own copy. */
  proof(nonce: Uint8Array, key: Key, value: Uint8Array): Promise<Uint8Array>;
  /** Audit outcome for reputation: 'pass', 'fail' (wrong bytes), 'missing', 'silent'. */
  onAudit(c: Contact, outcome: 'pass' | 'fail' | 'missing' | 'silent'): void;
  /** Up to `n` contacts of the routing table closest to `key` (no lookup). Without it, departures are judged by distance to this node only. */
  closest?(key: Key, n: number): Contact[];
}

export interface ReplicatorInit {
  /** Time between rounds, ms. */
  interval: number;
  /** How often a publisher re-sends its own records, ms (≥ interval). */
  republishInterval: number;
  /** Records handled per round at most (bounds the traffic of a node holding millions). */
  batch: number;
  /** Records checked at once. Default REPAIR_CONCURRENCY. */
  concurrency?: number;
  /** Delay before queued keys are checked in a round of their own, ms. Default REPAIR_URGENT_DELAY. */
  urgentDelay?: number;
  /**
   * Time before the first round, ms; default `interval`. Nodes started together (a simulated
   * network, a fleet restarted at once) pass a random share of the interval, so that the holders
   * of a record do not all check it at the same moment and each skip nothing.
   */
  firstRoundAfter?: number;
}

/** Counters of the replicator (extended stats, docs/replication.md). */
export interface ReplicationStats {
  rounds: number;
  /** Rounds of queued keys only (a contact arrived or left). */
  urgentRounds: number;
  checked: number;
  republished: number;
  /** Replicas created at nodes that lacked the record. */
  repaired: number;
  /** Targets beyond the first r tried because one of those did not answer. */
  fallbacks: number;
  /** Records not checked because another holder had just checked them (audited or stored them here). */
  skipped: number;
  auditsPassed: number;
  auditsFailed: number;
  auditsMissing: number;
  auditsSilent: number;
  failures: number;
  /** Live holders (this node included) found for each record checked in the last round: min / median. */
  lastRoundMinHolders: number;
  lastRoundMedianHolders: number;
  /** Share of the records checked in the last round that have all r holders (1 before any round). */
  lastRoundReplicated: number;
}

/** Runs republish and repair rounds for one node's store. */
export class Replicator {
  readonly #d: ReplicatorDeps;
  readonly #o: ReplicatorInit;
  readonly #stats: ReplicationStats = {
    rounds: 0, urgentRounds: 0, checked: 0, republished: 0, repaired: 0, fallbacks: 0, skipped: 0, auditsPassed: 0, auditsFailed: 0, auditsMissing: 0, auditsSilent: 0, failures: 0,
    lastRoundMinHolders: 0, lastRoundMedianHolders: 0, lastRoundReplicated: 1,
  };
  /** Keys to check ahead of the round-robin (a close contact appeared or left), with when they were queued. */
  readonly #urgent = new Map<string, { key: Key; at: number }>();
  /** Held keys another holder checked: key hex → when it last audited or stored the key here. */
  readonly #peerChecked = new Map<string, number>();
  /** Where the round-robin resumes: the last key checked. */
  #cursor: Key | null = null;
  /** Own publications: key hex → last republish time. */
  readonly #republishedAt = new Map<string, number>();
  #timer: Timer | null = null;
  /** The pending round of queued keys. */
  #kick: Timer | null = null;
  #running: Promise<void> | null = null;
  #closed = false;

  constructor(deps: ReplicatorDeps, init: ReplicatorInit) {
    this.#d = deps;
    this.#o = init;
  }

  /** Starts rounds every `interval` (one at a time). */
  start(): void {
    if (this.#timer !== null || this.#closed) return;
    const { clock } = this.#d;
    const every = (): void => { this.#timer = clock.setInterval(() => { void this.round(); }, this.#o.interval); };
    const first = this.#o.firstRoundAfter;
    if (first === undefined) { every(); return; }
    this.#timer = clock.setTimeout(() => { every(); void this.round(); }, first);
  }

  /** Runs one round now (or joins the running one). */
  round(): Promise<void> {
    return this.#run(false);
  }

  /**
   * A contact joined the table: queue the held keys it is closer to than this node, so it gets
   * them within seconds instead of a full cycle later.
   */
  nodeLearned(c: Contact): void {
    this.#queue(c, false);
  }

  /**
   * A contact left the table after failing to answer: queue the held keys it was likely a holder
   * of, those it was closer to than this node or than the r-th closest node this node still
   * knows. The copy it took with it is replaced within seconds, before the other holders leave
   * too (under churn they do: docs/simulation.md).
   */
  nodeLost(c: Contact): void {
    this.#queue(c, true);
  }

  /**
   * Another node checked a record held here: it audited this node for `key`, or stored it here
   * as a holder. It looked up the key's holders and repaired them just now, so this node skips
   * the key until an interval has passed, or, for a queued key, when it was queued before.
   */
  peerChecked(key: Key): void {
    this.#peerChecked.set(idToHex(key), this.#d.clock.now());
  }

  stats(): ReplicationStats {
    return { ...this.#stats };
  }

  /** Stops the timer; a running round finishes its current record. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#timer?.cancel();
    this.#timer = null;
    this.#kick?.cancel();
    this.#kick = null;
    await this.#running?.catch(() => {});
  }

  /**
   * Queues the held keys (at most `batch` scanned, those near `c` and this node first) that `c` is
   * closer to than this node, or, when it left (`lost`), those it was among the r closest of as
   * this node knows them.
   */
  #queue(c: Contact, lost: boolean): void {
    let queued = false;
    for (const e of this.#nearFirst(c)) {
      if (e.replicas === 0) continue;
      if (compareDistance(e.key, c.id, this.#d.self.id) < 0 || (lost && this.#wasHolder(c, e.key, e.replicas))) {
        const hex = idToHex(e.key);
        if (!this.#urgent.has(hex)) this.#urgent.set(hex, { key: e.key, at: this.#d.clock.now() });
        queued = true;
      }
    }
    if (queued) this.#scheduleUrgent();
  }

  /**
   * Up to `batch` held records: first those whose keys share the prefix this node and `c` share
   * (where the keys they both hold lie), then the others in key order. A node holding more than
   * `batch` records thus looks where the keys `c` held or should hold are, not at the first
   * `batch` keys of the whole key space.
   */
  *#nearFirst(c: Contact): Generator<StoredEntry> {
    const { store, self } = this.#d;
    const [start, end] = sharedPrefixRange(self.id, c.id);
    let left = this.#o.batch;
    const inRange = (k: Key): boolean => Buffer.compare(k, start) >= 0 && (end === null || Buffer.compare(k, end) < 0);
    for (const e of store.entries(start)) {
      if (left <= 0 || !inRange(e.key)) break;
      left--;
      yield e;
    }
    for (const e of store.entries()) { // the keys before the range
      if (left <= 0 || inRange(e.key)) break;
      left--;
      yield e;
    }
    if (end === null) return;
    for (const e of store.entries(end)) { // and after it
      if (left-- <= 0) break;
      yield e;
    }
  }

  /** True when fewer than r known nodes (this one included) are closer to `key` than `c`. */
  #wasHolder(c: Contact, key: Key, r: number): boolean {
    const known = this.#d.closest?.(key, r);
    if (known === undefined) return false;
    let closer = 0;
    for (const k of known) if (!idEquals(k.id, c.id) && compareDistance(key, k.id, c.id) < 0) closer++;
    return closer < r; // this node is farther than c (else the caller queued the key already)
  }

  /**
   * Checks the queued keys `urgentDelay` from now, in a round of their own (once started: before
   * that the next round takes them). A round still running when the time comes defers it again.
   */
  #scheduleUrgent(): void {
    if (this.#timer === null || this.#kick !== null || this.#closed) return;
    this.#kick = this.#d.clock.setTimeout(() => {
      this.#kick = null;
      if (this.#urgent.size === 0) return;
      if (this.#running !== null) this.#scheduleUrgent();
      else void this.#run(true);
    }, this.#o.urgentDelay ?? REPAIR_URGENT_DELAY);
  }

  #run(urgentOnly: boolean): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#running ??= this.#round(urgentOnly).finally(() => { this.#running = null; });
    return this.#running;
  }

  async #round(urgentOnly: boolean): Promise<void> {
    if (urgentOnly) this.#stats.urgentRounds++;
    else this.#stats.rounds++;
    const holders: number[] = [];
    let complete = 0;
    this.#forgetPeerChecks();
    const keys = this.#pick(urgentOnly);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < keys.length && !this.#closed) {
        const { key, since } = keys[next++]!;
        const found = this.#d.store.getCopy(key);
        if (found === undefined || found.replicas === 0) continue;
        if (this.#coveredByPeer(key, since, found.origin === SELF_SOURCE)) {
          this.#stats.skipped++;
          continue;
        }
        try {
          const live = await this.#check(key, found.value, found);
          holders.push(live);
          if (live >= found.replicas) complete++;
        } catch {
          this.#stats.failures++; // a lookup or RPC failure; the record is tried again next cycle
        }
      }
    };
    const concurrency = Math.max(1, this.#o.concurrency ?? REPAIR_CONCURRENCY);
    await Promise.all(Array.from({ length: Math.min(concurrency, keys.length) }, worker));
    if (urgentOnly) return; // the last-round figures describe full rounds
    holders.sort((a, b) => a - b);
    this.#stats.lastRoundReplicated = holders.length === 0 ? 1 : complete / holders.length;
    this.#stats.lastRoundMinHolders = holders[0] ?? 0;
    this.#stats.lastRoundMedianHolders = holders[Math.floor(holders.length / 2)] ?? 0;
  }

  /**
   * True when another holder checked `key` after `since` and this node need not: its own
   * publications are still re-sent when their republish falls due (that refreshes the TTLs).
   */
  #coveredByPeer(key: Key, since: number, own: boolean): boolean {
    const hex = idToHex(key);
    const at = this.#peerChecked.get(hex);
    if (at === undefined || at <= since) return false;
    return !own || this.#d.clock.now() - (this.#republishedAt.get(hex) ?? -Infinity) < this.#o.republishInterval;
  }

  /** Drops peer checks older than an interval: they no longer spare a check. */
  #forgetPeerChecks(): void {
    const horizon = this.#d.clock.now() - this.#o.interval;
    for (const [hex, at] of this.#peerChecked) if (at < horizon) this.#peerChecked.delete(hex);
  }

  /**
   * The urgent keys, then (unless `urgentOnly`) the next keys of the round-robin, `batch` in all,
   * each once, with the time after which a peer's check spares it (an urgent key: when it was
   * queued; another: an interval ago). Only the round-robin moves the cursor: urgent keys
   * (anywhere in the key space) must not make it skip or repeat the keys between.
   */
  #pick(urgentOnly: boolean): Array<{ key: Key; since: number }> {
    const batch = this.#o.batch;
    const picked = [...this.#urgent.values()].slice(0, batch).map((u) => ({ key: u.key, since: u.at }));
    for (const u of picked) this.#urgent.delete(idToHex(u.key));
    if (urgentOnly) return picked;
    const since = this.#d.clock.now() - this.#o.interval;
    const seen = new Set(picked.map((u) => idToHex(u.key)));
    const after = this.#cursor;
    let cursor = after;
    const visit = (k: Key): void => {
      cursor = k;
      const hex = idToHex(k);
      if (!seen.has(hex)) { seen.add(hex); picked.push({ key: k, since }); }
    };
    for (const e of this.#d.store.entries(after ?? undefined)) {
      if (picked.length >= batch) break;
      if (after === null || Buffer.compare(e.key, after) > 0) visit(e.key);
    }
    if (after !== null) { // wrap around once, up to the cursor
      for (const e of this.#d.store.entries()) {
        if (picked.length >= batch || Buffer.compare(e.key, after) > 0) break;
        visit(e.key);
      }
    }
    this.#cursor = cursor;
    return picked;
  }

  /** Brings one record's holders up to r (republishing it when due); resolves with the live holders found. */
  #check(key: Key, value: Uint8Array, meta: RecordMeta): Promise<number> {
    const republish = (): boolean => {
      if (meta.origin !== SELF_SOURCE) return false;
      const now = this.#d.clock.now();
      const hex = idToHex(key);
      if (now - (this.#republishedAt.get(hex) ?? -Infinity) < this.#o.republishInterval) return false;
      this.#republishedAt.set(hex, now);
      return true;
    };
    return checkRecord(this.#d, this.#stats, { key, value, meta, republish });
  }
}
