/**
 * A simulated node: the node's own routing table, table maintainer (liveness, eviction pings),
 * RPC (wire codec, transaction ids, per-attempt timeouts, retries), lookup state machine and
 * driver, bucket refresh, placement and replicator, wired to a SimEndpoint and the virtual
 * clock. What differs from DhtNode is listed in docs/simulation.md: no sessions or signatures
 * (messages arrive as if sealed), no write tokens, no reputation, records in memory.
 * An adversary answers every FIND_NODE / FIND_VALUE with the adversaries closest to the target
 * (T19), and acknowledges STOREs without keeping anything.
 */
import { blake3, keyedBlake3 } from '../crypto/index.js';
import { type Contact, type Id, type Key, type NodeId, idEquals, shareContact } from '../id/index.js';
import { driveDisjointLookup, driveLookup, Lookup, type DisjointResult, type LookupResult, type QueryAnswer } from '../lookup/index.js';
import { Rebootstrap, refreshBuckets, TableMaintainer } from '../node/index.js';
import { auditKey, placementOrder, Replicator } from '../replication/index.js';
import { RoutingTable, type RoutingTableInit } from '../routing/index.js';
import { Rpc } from '../rpc/index.js';
import { SELF_SOURCE } from '../storage/index.js';
import {
  type Address, bytesEqual, DhtError, K_BUCKET_SIZE, LOOKUP_ALPHA, LOOKUP_SEED_FACTOR, SeededRandom, type Timer,
} from '../util/index.js';
import { type Request, type ResponseBody, ValueKind } from '../wire/index.js';
import type { SimEndpoint, SimNetwork } from './network.js';
import { SimRecords } from './records.js';

const NO_TOKEN = new Uint8Array(0);

/** Periodic work of a node; null switches a part off. */
export interface SimTimers {
  /** Bucket refresh check, ms (DhtNode: maintenanceInterval 1 min). */
  maintenanceInterval: number | null;
  /** A bucket idle this long is refreshed, ms (DhtNode: refreshInterval). */
  refreshInterval: number;
  /** Replicator rounds; null for none. */
  replication: { interval: number; republishInterval: number; batch: number } | null;
}

export interface SimNodeInit {
  network: SimNetwork;
  host: string;
  id: NodeId;
  seed: number;
  k?: number;
  alpha?: number;
  adversary?: boolean;
  /** For adversaries: the adversaries closest to a target (global knowledge of the coalition). */
  coalition?: (target: Id, n: number) => Contact[];
  timers?: SimTimers;
  /** Per-attempt RPC timeouts, ms (DhtNode defaults when absent). */
  pingTimeout?: number;
  queryTimeout?: number;
  /** Routing-table admission options (DhtNode defaults when absent), e.g. maxInboundShare. */
  table?: RoutingTableInit;
}

/** The outcome of a simulated FIND_VALUE that collects every holder it meets. */
export interface ValueLookup {
  result: LookupResult;
  /** Holders that served the value, in arrival order. */
  holders: Contact[];
}

export class SimNode {
  readonly contact: Contact;
  readonly table: RoutingTable;
  readonly rpc: Rpc;
  readonly maintainer: TableMaintainer;
  readonly records: SimRecords;
  readonly replicator: Replicator | null;
  readonly adversary: boolean;
  readonly k: number;
  readonly alpha: number;
  readonly endpoint: SimEndpoint;
  readonly #network: SimNetwork;
  readonly #random: SeededRandom;
  readonly #coalition: ((target: Id, n: number) => Contact[]) | null;
  readonly #timers: Timer[] = [];
  /** Where this node joined (join() again after isolation). */
  #bootstraps: Address[] = [];
  #running = true;

  constructor(init: SimNodeInit) {
    this.#network = init.network;
    const clock = init.network.clock;
    this.k = init.k ?? K_BUCKET_SIZE;
    this.alpha = init.alpha ?? LOOKUP_ALPHA;
    this.adversary = init.adversary ?? false;
    this.#coalition = init.coalition ?? null;
    this.#random = new SeededRandom(init.seed);
    this.endpoint = init.network.bind(init.host, init.id);
    this.contact = shareContact({ id: init.id, host: init.host, port: this.endpoint.local.port });
    this.table = new RoutingTable(init.id, { ...init.table, k: this.k });
    this.records = new SimRecords(() => clock.now());
    this.rpc = new Rpc({ transport: this.endpoint, clock, random: this.#random }, {
      self: init.id, requireSession: true, pingTimeout: init.pingTimeout, queryTimeout: init.queryTimeout,
    });
    this.maintainer = new TableMaintainer({ table: this.table, rpc: this.rpc, clock });
    this.rpc.setObserver((message, from, authenticated) => this.maintainer.observe(message, from, authenticated));
    this.rpc.setHandler((request, from) => this.#handle(request, from));
    const t = init.timers;
    const replication = t?.replication ?? null;
    this.replicator = replication === null || this.adversary ? null : this.#createReplicator(replication);
    if (this.replicator !== null) {
      const replicator = this.replicator;
      this.maintainer.onAdmitted = (c) => replicator.nodeLearned(c);
      this.maintainer.onRemoved = (c, reason) => { if (reason === 'failures') replicator.nodeLost(c); };
      replicator.start();
    }
    if (t?.maintenanceInterval != null && !this.adversary) {
      const refresh = t.refreshInterval;
      const rebootstrap = new Rebootstrap(this.k, t.maintenanceInterval, refresh);
      let busy = false;
      this.#timers.push(clock.setInterval(() => {
        if (busy) return;
        busy = true;
        // DhtNode's self-healing: a node left with almost no contacts joins again.
        if (this.#bootstraps.length > 0 && rebootstrap.due(this.table.size, clock.now())) {
          this.maintainer.counters.rebootstraps++;
          const before = this.table.size;
          void this.join(this.#bootstraps).finally(() => {
            rebootstrap.done(before, this.table.size, clock.now());
            busy = false;
          });
          return;
        }
        void refreshBuckets(this.table, clock, refresh, (n) => this.#random.bytes(n), (target) => this.lookup(target), () => this.#running)
          .finally(() => { busy = false; });
      }, t.maintenanceInterval));
    }
  }

  get id(): NodeId {
    return this.contact.id;
  }

  get running(): boolean {
    return this.#running;
  }

  /**
   * DhtNode.bootstrap: PING the bootstrap peers, admit those that answer, look up our own id. The
   * peers are kept, as DhtNode keeps its configured ones, to join again after isolation.
   */
  async join(bootstrap: Address | readonly Address[]): Promise<void> {
    this.#bootstraps = Array.isArray(bootstrap) ? [...bootstrap] : [bootstrap as Address];
    await Promise.all(this.#bootstraps.map(async (b) => {
      try {
        const reply = await this.rpc.request(b, { type: 'PING' }, { retries: 0 });
        this.maintainer.offer({ id: reply.sender, host: b.host, port: b.port }, false);
      } catch {
        // an unreachable bootstrap peer is skipped (counted by the RPC)
      }
    }));
    if (this.table.size > 0) await this.lookup(this.id);
  }

  /** An iterative FIND_NODE over `paths` disjoint paths (1 = the node's plain lookup). */
  lookup(target: Id, paths = 1): Promise<DisjointResult> {
    const seeds = this.table.closest(target, LOOKUP_SEED_FACTOR * this.k);
    const query = async (contact: Contact): Promise<QueryAnswer> => {
      try {
        const reply = await this.rpc.request(contact, { type: 'FIND_NODE', target });
        return { closer: reply.type === 'NODES' ? reply.contacts : [] };
      } catch (err) {
        if (err instanceof DhtError && err.code === 'TIMEOUT') this.maintainer.failed(contact);
        throw err;
      }
    };
    return driveDisjointLookup({ target, k: this.k, alpha: this.alpha, self: this.id }, seeds, paths, query, { clock: this.#network.clock });
  }

  /**
   * FIND_VALUE for content `key`, collecting every holder met (replica-holder discovery, T27);
   * a value whose BLAKE3 is not the key is rejected like DhtNode does.
   */
  async findValue(key: Key): Promise<ValueLookup> {
    const lookup = new Lookup({ target: key, k: this.k, alpha: this.alpha, self: this.id }, this.table.closest(key, LOOKUP_SEED_FACTOR * this.k));
    const query = async (contact: Contact): Promise<QueryAnswer> => {
      try {
        const reply = await this.rpc.request(contact, { type: 'FIND_VALUE', key });
        if (reply.type !== 'VALUE') return { closer: [] };
        return { closer: reply.contacts, value: reply.value };
      } catch (err) {
        if (err instanceof DhtError && err.code === 'TIMEOUT') this.maintainer.failed(contact);
        throw err;
      }
    };
    const accept = (value: Uint8Array): Promise<Uint8Array | null> => Promise.resolve(bytesEqual(blake3(value), key) ? value : null);
    const result = await driveLookup(lookup, query, { clock: this.#network.clock, accept, collect: true });
    return { result, holders: result.found.map((f) => f.from) };
  }

  /** Publishes content under its BLAKE3 key at r holders (lookup + placement); the acknowledged holders. */
  async put(value: Uint8Array, r: number, ttlMs: number): Promise<Contact[]> {
    const key = blake3(value) as Key;
    const found = await this.lookup(key);
    const order = placementOrder({ key, candidates: [...found.closest, this.contact], r, size: value.byteLength, isBad: () => false, fits: () => true });
    const holders: Contact[] = [];
    for (const c of order) {
      if (holders.length >= r) break;
      if (await this.#storeAt(c, key, value, r, ttlMs)) holders.push(c);
    }
    return holders;
  }

  /** Leaves: closes the endpoint and the RPC, stops timers and the replicator. */
  stop(): void {
    if (!this.#running) return;
    this.#running = false;
    for (const t of this.#timers) t.cancel();
    this.maintainer.close();
    void this.replicator?.close();
    this.rpc.close();
    void this.endpoint.close();
  }

  async #storeAt(c: Contact, key: Key, value: Uint8Array, r: number, ttlMs: number): Promise<boolean> {
    if (idEquals(c.id, this.id)) {
      this.records.put(key, value, { expiresAt: this.#network.clock.now() + ttlMs, size: value.byteLength, origin: SELF_SOURCE, kind: ValueKind.IMMUTABLE, replicas: r });
      return true;
    }
    try {
      const reply = await this.rpc.request(c, { type: 'STORE', key, value, ttl: Math.ceil(ttlMs / 1000), token: NO_TOKEN, kind: ValueKind.IMMUTABLE, replicas: r });
      return reply.type === 'STORED';
    } catch {
      return false;
    }
  }

  #createReplicator(o: { interval: number; republishInterval: number; batch: number }): Replicator {
    const clock = this.#network.clock;
    return new Replicator({
      clock,
      store: this.records,
      self: this.contact,
      randomBytes: (n) => this.#random.bytes(n),
      targets: async (key, r, size) => {
        const found = await this.lookup(key);
        return placementOrder({ key, candidates: [...found.closest, this.contact], r, size, isBad: () => false, fits: () => true });
      },
      send: async (c, key, value, meta) => {
        try {
          const ttl = Math.max(1, Math.ceil((meta.expiresAt - clock.now()) / 1000));
          const reply = await this.rpc.request(c, { type: 'STORE', key, value, ttl, token: NO_TOKEN, kind: meta.kind, replicas: meta.replicas });
          return reply.type === 'STORED';
        } catch {
          return false;
        }
      },
      audit: async (c, key, nonce) => {
        try {
          const reply = await this.rpc.request(c, { type: 'AUDIT', key, nonce });
          return reply.type === 'AUDIT_PROOF' ? reply.proof : null;
        } catch (err) {
          if (err instanceof DhtError && err.code === 'TIMEOUT') this.maintainer.failed(c);
          return null;
        }
      },
      proof: (nonce, key, value) => Promise.resolve(keyedBlake3(auditKey(nonce, key), value)),
      closest: (key, n) => this.table.closest(key, n),
      onAudit: () => {},
    }, { ...o, firstRoundAfter: (this.#random.next() / 0x1_0000_0000) * o.interval }); // nodes started together check at different times
  }

  #handle(request: Request, from: Address): ResponseBody | null {
    if (!this.#running) return null;
    if (this.adversary) return this.#lie(request, from);
    const now = this.#network.clock.now();
    switch (request.type) {
      case 'PING':
        return { type: 'PONG', observed: { host: from.host, port: from.port } };
      case 'FIND_NODE':
        return { type: 'NODES', contacts: this.#closestExcept(request.target, request.sender), token: NO_TOKEN };
      case 'FIND_VALUE': {
        const held = this.records.getCopy(request.key);
        if (held !== undefined) return { type: 'VALUE', value: held.value, contacts: [], token: NO_TOKEN };
        return { type: 'VALUE', value: null, contacts: this.#closestExcept(request.key, request.sender), token: NO_TOKEN };
      }
      case 'STORE':
        this.records.put(request.key, request.value, {
          expiresAt: now + request.ttl * 1000, size: request.value.byteLength, origin: from.host,
          kind: request.kind ?? ValueKind.IMMUTABLE, replicas: request.replicas ?? 0,
        });
        if ((request.replicas ?? 0) > 0) this.replicator?.peerChecked(request.key);
        return { type: 'STORED' };
      case 'AUDIT': {
        const held = this.records.getCopy(request.key);
        if (held !== undefined) this.replicator?.peerChecked(request.key);
        return { type: 'AUDIT_PROOF', proof: held === undefined ? NO_TOKEN : keyedBlake3(auditKey(request.nonce, request.key), held.value) };
      }
      case 'GET_RECORD':
        return null;
    }
  }

  /** An adversary's answers: only fellow adversaries, nothing stored. */
  #lie(request: Request, from: Address): ResponseBody | null {
    const fellows = (target: Id): Contact[] => (this.#coalition?.(target, this.k + 1) ?? []).filter((c) => !idEquals(c.id, this.id)).slice(0, this.k);
    switch (request.type) {
      case 'PING': return { type: 'PONG', observed: { host: from.host, port: from.port } };
      case 'FIND_NODE': return { type: 'NODES', contacts: fellows(request.target), token: NO_TOKEN };
      case 'FIND_VALUE': return { type: 'VALUE', value: null, contacts: fellows(request.key), token: NO_TOKEN };
      case 'STORE': return { type: 'STORED' };
      case 'AUDIT': return { type: 'AUDIT_PROOF', proof: NO_TOKEN };
      case 'GET_RECORD': return null;
    }
  }

  #closestExcept(target: Id, requester: NodeId): Contact[] {
    return this.table.closest(target, this.k, (e) => !idEquals(e.contact.id, requester));
  }
}
