/**
 * DhtNode: one Kademlia node. Wires a UDP transport, the RPC layer, the routing table and its
 * maintainer, the LMDB store and the lookups together, and owns their lifecycle. The node runs
 * on the main thread as the coordinator; nothing here blocks for long.
 */
import { join } from 'node:path';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { InstanceMeta, Receipt, SignedCall } from '../contracts/index.js';
import { type CryptoPool, keyedBlake3, type NodeIdentity, type NodeRecord } from '../crypto/index.js';
import type { Contact, Id, Key, NodeId } from '../id/index.js';
import { idToHex } from '../id/index.js';
import type { LookupResult } from '../lookup/index.js';
import { RoutingTable } from '../routing/index.js';
import { Rpc } from '../rpc/index.js';
import { Store } from '../storage/index.js';
import { SecureChannel, type Transport, UdpTransport } from '../transport/index.js';
import { type Address, DhtError, formatAddress, type Timer } from '../util/index.js';
import { handleRequest } from './handlers.js';
import { PoolHandshake } from './handshake.js';
import { WriteTokens } from './tokens.js';
import { Rebootstrap, refreshBuckets, TableMaintainer } from './maintenance.js';
import { RecordBook } from './records.js';
import type { OperationsContext } from './context.js';
import { get, type GetResult, put, type PutOptions, type PutResult } from './operations.js';
import { runLookup } from './run-lookup.js';
import { getStream, type GetStreamOptions, putStream, type PutStreamOptions, type PutStreamResult } from './content.js';
import { getMutable, type GetMutableOptions, type GetMutableResult, putMutable, type PutMutableOptions, type PutMutableResult } from './mutable.js';
import { addToSet, type AddToSetOptions, getSet, type GetSetResult } from './sets.js';
import { createReplicator } from './replication.js';
import { CapacityBook, type Replicator, type ReplicationStats } from '../replication/index.js';
import { ReputationBook } from '../reputation/index.js';
import type { SetEntry } from '../values/index.js';
import { type ZkDhtValue, type ZkOwner, zkOwnerFromSeed, type ZkPool } from '../zk/index.js';
import { getZk, type GetZkOptions, type GetZkResult, putZk, type PutZkOptions, type PutZkResult, storeZk, type StoreZkOptions } from './zk.js';
import { type DhtNodeOptions, resolveOptions, type ResolvedOptions } from './options.js';
import { loadSnapshot, saveSnapshot } from './snapshot.js';
import { selfIdentity, signSelfRecord } from './self.js';
import { NodePools } from './pools.js';
import { NodeEvents } from './events.js';
import { ActivePeers, buildStats, type DhtStats, type ExtendedStats, extendedStats } from './stats.js';
import {
  type ContractCallOptions, type CreatedInstance, type DeployContractRequest, type DeployContractResult, type FetchedCode, NodeContracts,
} from './contracts.js';
import type { ContractListing, FindContractsOptions, FindContractsResult } from './discovery.js';
import type { NetworkCallOptions, NetworkReceipt } from './contract-client.js';

type Running = {
  readonly self: Contact;
  readonly identity: NodeIdentity;
  readonly pools: NodePools;
  readonly records: RecordBook;
  readonly handshake: PoolHandshake;
  readonly eventLoop: IntervalHistogram;
  record: { record: NodeRecord; bytes: Uint8Array };
  readonly transport: Transport;
  readonly channel: SecureChannel;
  readonly rpc: Rpc;
  readonly table: RoutingTable;
  readonly maintainer: TableMaintainer;
  readonly store: Store | null;
  readonly ops: OperationsContext;
  readonly replicator: Replicator | null;
  readonly contracts: NodeContracts;
  readonly rebootstrap: Rebootstrap;
  readonly timers: Timer[];
};

/** A Kademlia DHT node over UDP with LMDB storage. */
export class DhtNode {
  readonly options: ResolvedOptions;
  #running: Running | null = null;
  #starting: Promise<void> | null = null;
  readonly #peers = new ActivePeers();
  #invalidStores = 0;
  readonly #storeRefusals: Record<string, number> = {}; // by code, BUSY included
  #badTokens = 0;
  readonly #reputation = new ReputationBook();
  readonly #capacity = new CapacityBook();
  /** Lookups, peers entering and leaving the table, puts and gets (the API's live stream). */
  readonly events: NodeEvents;

  constructor(options: DhtNodeOptions) {
    this.options = resolveOptions(options);
    this.events = new NodeEvents(this.options.clock);
  }

  /** This node's id (available after start()). */
  get id(): NodeId {
    return this.#state().self.id;
  }

  /** The bound UDP address (after start()). */
  get address(): Address {
    return this.#state().transport.local;
  }

  /** This node as a contact others can reach (its bound address). */
  get contact(): Contact {
    return this.#state().self;
  }

  /** True between a completed start() and stop(). */
  get running(): boolean {
    return this.#running !== null;
  }

  /** Opens storage, binds the socket and joins the network through the bootstrap peers. */
  start(): Promise<void> {
    if (this.#running !== null) return Promise.resolve();
    this.#starting ??= this.#start().finally(() => { this.#starting = null; });
    return this.#starting;
  }

  async #start(): Promise<void> {
    const o = this.options;
    const pools = new NodePools(o);
    let store: Store | null = null;
    try {
      store = o.ephemeral ? null : Store.open({ path: `${o.dataDir}/store`, clock: o.clock, capBytes: o.storageCap, perSourceBytes: o.perSourceBytes, mapSize: o.storageMapSize });
      const identity = await selfIdentity(o, pools.crypto);
      const transport = await UdpTransport.bind({
        host: o.host, port: o.port, clock: o.clock, logger: o.logger,
        rateLimits: o.rateLimits, treatLoopbackAsPublic: o.treatLoopbackAsPublic,
      });
      const record = await signSelfRecord(o, identity, pools.crypto, transport.local, store);
      this.#wire({ identity, transport, store, pools, record });
    } catch (err) {
      await store?.close();
      await pools.close();
      throw err;
    }
    store?.startSweeping();
    this.#running?.replicator?.start();
    await this.bootstrap();
  }

  #wire(parts: {
    identity: NodeIdentity; transport: Transport; store: Store | null; pools: NodePools;
    record: { record: NodeRecord; bytes: Uint8Array };
  }): void {
    const o = this.options;
    const { identity, transport, store, pools, record } = parts;
    const { crypto: pool, zk } = pools;
    const id = identity.id;
    const self: Contact = { id, host: transport.local.host, port: transport.local.port };
    const records = new RecordBook();
    const own = { record };
    const handshake = new PoolHandshake({ pool, identity, records, record: () => (this.#running?.record ?? own.record).bytes });
    // Every message but a plaintext PING travels in a session (docs/security.md).
    const channel = new SecureChannel({ transport, crypto: handshake, clock: o.clock, random: o.random }, o.sessions);
    const rpc = new Rpc({ transport: channel, clock: o.clock, random: o.random }, {
      self: id, ephemeral: o.ephemeral, pingTimeout: o.pingTimeout, queryTimeout: o.queryTimeout, retries: o.retries,
      requireSession: true,
    });
    const table = new RoutingTable(id, { k: o.k, treatLoopbackAsPublic: o.treatLoopbackAsPublic });
    const maintainer = new TableMaintainer({ table, rpc, clock: o.clock });
    const peerEvent = (c: Contact, change: 'added' | 'removed', reason?: string): void =>
      this.events.emit({ type: 'peer', at: o.clock.now(), change, id: idToHex(c.id), address: formatAddress(c), reason });
    // A peer that misbehaved in its own session leaves the table (and so our answers) at once.
    channel.setPenaltyHandler((e) => {
      if (e.peerId !== null) {
        const removed = table.remove(e.peerId as NodeId, o.clock.now());
        if (removed !== undefined) peerEvent(removed.contact, 'removed', 'penalty');
        this.#reputation.record(e.peerId as NodeId, 'protocol_violation', o.clock.now());
      }
      o.onPenalty(e);
    });
    const ops: OperationsContext = {
      self, table, rpc, store, pool, zk, clock: o.clock, options: o, reputation: this.#reputation, capacity: this.#capacity,
      onPeerFailed: (c) => maintainer.failed(c),
      onOutcome: (ok) => this.#peers.outcome(ok),
      onLookup: (kind, ms, result) => this.events.emit({
        type: 'lookup', at: o.clock.now(), kind, ms, hops: result?.hops ?? 0,
        ok: result !== null && !result.timedOut && (kind === 'node' ? result.closest.length > 0 : result.value !== null),
      }),
    };
    const replicator = store === null ? null : createReplicator(ops, store);
    maintainer.onAdmitted = (c) => {
      replicator?.nodeLearned(c);
      peerEvent(c, 'added');
    };
    maintainer.onRemoved = (c, reason) => {
      if (reason === 'failures') replicator?.nodeLost(c);
      peerEvent(c, 'removed', reason);
    };
    rpc.setObserver((message, from, authenticated) => {
      if (authenticated) this.#peers.seen(message.sender, o.clock.now());
      maintainer.observe(message, from, authenticated);
    });
    const tokens = new WriteTokens({ master: o.random.bytes(32), mac: keyedBlake3 });
    const handlerCtx = {
      table, store, pool, zk, tokens, k: o.k, now: () => o.clock.now(), record: () => this.#state().record.bytes,
      onInvalidStore: (_from: Address, code: string, penalise: boolean, sender: NodeId) => {
        this.#storeRefusals[code] = (this.#storeRefusals[code] ?? 0) + 1;
        if (code !== 'BUSY') this.#invalidStores++;
        if (penalise) this.#reputation.record(sender, 'invalid_value', o.clock.now());
      },
      onBadToken: () => { this.#badTokens++; },
      onPeerCheck: (key: Key) => replicator?.peerChecked(key),
    };
    rpc.setHandler((request, from) => handleRequest(handlerCtx, request, from));
    const contracts = new NodeContracts({
      ctx: ops, identity, init: o.contracts, path: o.dataDir === null || o.ephemeral ? null : join(o.dataDir, 'contracts'),
      disabled: o.ephemeral ? 'an ephemeral client runs no contract engine' : 'this node runs no contract engine (options.contracts is false)',
    });
    rpc.setContractHandler((request, from) => contracts.handle(request, from));
    const rebootstrap = new Rebootstrap(o.k, o.maintenanceInterval, o.refreshInterval);
    const timers = [o.clock.setInterval(() => void this.#maintain(), o.maintenanceInterval)];
    const eventLoop = monitorEventLoopDelay({ resolution: 10 });
    eventLoop.enable();
    this.#running = {
      self, identity, pools, records, handshake, eventLoop, record, transport, channel, rpc, table, maintainer, store, ops, replicator, contracts, rebootstrap, timers,
    };
  }

  /**
   * Joins through the configured bootstrap peers and the contacts saved at the last stop, then
   * looks up our own id to fill the buckets near us. Safe to call again (e.g. after isolation).
   */
  async bootstrap(extra: ReadonlyArray<Address> = []): Promise<void> {
    const s = this.#state();
    const saved = s.store === null ? [] : loadSnapshot(s.store);
    const addresses = [...this.options.bootstrap, ...extra, ...saved];
    // Go on as soon as one peer is admitted (its record verified) or all failed: dead saved
    // contacts must not hold up a restart for a whole PING timeout. Later answers still count.
    await new Promise<void>((resolve) => {
      let pending = addresses.length;
      if (pending === 0) return resolve();
      for (const a of addresses) {
        s.rpc.request(a, { type: 'PING' }, { retries: 0 })
          .then((reply) => s.maintainer.offer({ id: reply.sender, host: a.host, port: a.port }, false))
          .then((admitted) => { if (admitted) resolve(); }, () => {}) // an unreachable peer is skipped; the RPC counted it
          .finally(() => { if (--pending === 0) resolve(); });
      }
    });
    if (s.table.size > 0) await this.findNode(s.self.id);
  }

  /** Stores content under its BLAKE3 key on the closest nodes; resolves after r acknowledgements (or fewer if fewer accept). */
  put(content: Uint8Array, options?: PutOptions): Promise<PutResult> {
    return this.events.observe('put', put(this.#state().ops, content, options), content.byteLength);
  }

  /** Finds and verifies the content stored under `key`. Rejects with NOT_FOUND. */
  get(key: Key, options: { signal?: AbortSignal } = {}): Promise<GetResult> {
    return this.events.observe('get', get(this.#state().ops, key, options.signal), (r) => r.value.byteLength, key);
  }

  /** Signs `value` as a mutable record (default keys: this node's) and stores it (docs/records.md). */
  putMutable(value: Uint8Array, options: PutMutableOptions = {}): Promise<PutMutableResult> {
    const s = this.#state();
    return putMutable(s.ops, value, { ...options, keys: options.keys ?? s.identity.dsa });
  }

  /** The best mutable record of `publicKey` (+ salt) among the closest holders; corrects stale ones. */
  getMutable(publicKey: Uint8Array, options?: GetMutableOptions): Promise<GetMutableResult> {
    return getMutable(this.#state().ops, publicKey, options);
  }

  /** Adds this writer's signed entry to the multi-writer set under `key` (see setKey()). */
  addToSet(key: Key, value: Uint8Array, options: AddToSetOptions = {}): Promise<PutResult & { entry: SetEntry }> {
    const s = this.#state();
    return addToSet(s.ops, key, value, options.keys ?? s.identity.dsa, options);
  }

  /** The live entries of the set under `key`, merged over its holders. */
  getSet(key: Key, options: { signal?: AbortSignal } = {}): Promise<GetSetResult> {
    return getSet(this.#state().ops, key, options.signal);
  }

  /** Stores content of any size from a stream, in chunks plus a manifest; resolves with the manifest key. */
  putStream(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, options?: PutStreamOptions): Promise<PutStreamResult> {
    return this.events.observe('put', putStream(this.#state().ops, source, options), (r) => r.size);
  }

  /** The content under `key` as verified chunks in order (a manifest's chunks, or one value). */
  getStream(key: Key, options?: GetStreamOptions): AsyncGenerator<Uint8Array> {
    return getStream(this.#state().ops, key, options);
  }

  /** Encrypts, proves and stores `data` as a ZkDhtValue (docs/zk.md); default owner: this node's. */
  putZk(data: Uint8Array, options: Partial<PutZkOptions> = {}): Promise<PutZkResult> {
    return this.events.observe('put', putZk(this.#state().ops, data, { ...options, owner: options.owner ?? this.zkOwner }), data.byteLength);
  }

  /** Stores a ZkDhtValue proven elsewhere (`zhtp-dht zk prove`) after checking it as a holder would. */
  storeZk(value: ZkDhtValue, options?: StoreZkOptions): Promise<PutZkResult> {
    return this.events.observe('put', storeZk(this.#state().ops, value, options), value.encryptedData.byteLength);
  }

  /** The newest verified ZkDhtValue under `key`, opened with this node's owner secrets and ML-KEM key unless told otherwise. */
  getZk(key: Key, options: GetZkOptions = {}): Promise<GetZkResult> {
    const s = this.#state();
    const opts = { ...options, owner: options.owner ?? this.zkOwner, kemSecretKey: options.kemSecretKey ?? s.identity.kem.secretKey };
    return this.events.observe('get', getZk(s.ops, key, opts), (r) => r.data?.byteLength ?? 0, key);
  }

  /** This node's ZK owner secrets, derived from its ML-DSA secret key: the default owner of putZk. */
  get zkOwner(): ZkOwner {
    return zkOwnerFromSeed(this.#state().identity.dsa.secretKey);
  }

  /** The pool that proves and verifies this node's ZK values (shared in a testnet). */
  get zkPool(): ZkPool {
    return this.#state().pools.zk;
  }

  /** Meters `request.wasm` and publishes it: code, signed manifest, tag entries (docs/contracts.md). */
  deployContract(request: DeployContractRequest): Promise<DeployContractResult> {
    return this.#state().contracts.deploy(request);
  }

  /** The verified manifests listed under `tag`; listings that fail a check are dropped and counted. */
  findContracts(tag: string, options?: FindContractsOptions): Promise<FindContractsResult> {
    return this.#state().contracts.find(tag, options);
  }

  /** The verified manifest of `owner` (an ML-DSA-65 public key; default this node's) named `name`. */
  contractInfo(owner: Uint8Array | null, name: string, options?: { signal?: AbortSignal }): Promise<ContractListing> {
    const s = this.#state();
    return s.contracts.info(owner ?? s.identity.dsa.publicKey, name, options);
  }

  /** The verified manifest under its record key (ContractListing.key). */
  contractInfoByKey(key: Key, options?: { signal?: AbortSignal }): Promise<ContractListing> {
    return this.#state().contracts.infoByKey(key, options);
  }

  /** Fetches the code under `codeHash` into this node's engine (BLAKE3-checked, re-metered). */
  fetchContractCode(codeHash: Uint8Array, options?: { signal?: AbortSignal }): Promise<FetchedCode> {
    return this.#state().contracts.fetchCode(codeHash, options);
  }

  /** Creates an instance of `codeHash` with this node as creator, fetching the code if needed. */
  createContractInstance(codeHash: Uint8Array, options?: { salt?: Uint8Array; signal?: AbortSignal }): Promise<CreatedInstance> {
    return this.#state().contracts.createInstance(codeHash, options);
  }

  /** Signs a state-changing call as this node and has the instance's primary run it (docs/contracts.md, part 2b). */
  callContract(instance: Uint8Array, method: string, input?: Uint8Array, options?: ContractCallOptions): Promise<NetworkReceipt> {
    return this.#state().contracts.call(instance, method, input, options);
  }

  /** Signs a call with this node's key without sending it; `submitContractCall` sends it (again, after a failure). */
  signContractCall(instance: Uint8Array, method: string, input?: Uint8Array, options?: { gasLimit?: number }): Promise<SignedCall> {
    return this.#state().contracts.signCall(instance, method, input, options);
  }

  /** Sends a signed call to the instance's holders; a call whose receipt a holder keeps is never run twice. */
  submitContractCall(call: SignedCall, options?: NetworkCallOptions): Promise<NetworkReceipt> {
    return this.#state().contracts.submit(call, options);
  }

  /** The receipt of a call by its id: this node's copy, else `from`'s or the holders' of `instance`; null when none has it. */
  contractReceipt(callId: Uint8Array, options?: { instance?: Uint8Array; from?: Contact; signal?: AbortSignal }): Promise<NetworkReceipt | null> {
    return this.#state().contracts.receipt(callId, options);
  }

  /** Runs a read-only method of an instance as this node at the closest holder that answers. */
  queryContract(instance: Uint8Array, method: string, input?: Uint8Array, options?: ContractCallOptions): Promise<Receipt> {
    return this.#state().contracts.query(instance, method, input, options);
  }

  /** An instance's committed metadata on this node, or null. */
  contractInstance(instanceId: Uint8Array): InstanceMeta | null {
    return this.#state().contracts.instance(instanceId);
  }

  /** Runs a replication round now (repair, audits, republish); resolves when it ends. */
  async replicate(): Promise<ReplicationStats | null> {
    const r = this.#state().replicator;
    if (r === null) return null;
    await r.round();
    return r.stats();
  }

  /** Per-peer reputation (src/reputation): read by placement, exposed for an economic layer. */
  get reputation(): ReputationBook {
    return this.#reputation;
  }

  /** The k closest live nodes to `target` found by an iterative lookup. */
  async findNode(target: Id, options: { signal?: AbortSignal } = {}): Promise<Contact[]> {
    return (await this.lookup(target, options)).closest;
  }

  /** The full result of an iterative FIND_NODE (hops, counters, duration). */
  lookup(target: Id, options: { signal?: AbortSignal } = {}): Promise<LookupResult> {
    return runLookup(this.#state().ops, target, { signal: options.signal });
  }

  /** True when this node's own store holds a live value under `key`. */
  holds(key: Key): boolean {
    return this.#state().store?.has(key) ?? false;
  }

  /** This node's keys and id. */
  get identity(): NodeIdentity {
    return this.#state().identity;
  }

  /** This node's signed record (what peers fetch with GET_RECORD). */
  get record(): NodeRecord {
    return this.#state().record.record;
  }

  /** The verified record of a peer, when this node has checked it. */
  peerRecord(contact: Contact): NodeRecord | undefined {
    return this.#state().records.get(contact.id);
  }

  /** The worker pool that runs this node's heavy crypto (shared in a testnet). */
  get cryptoPool(): CryptoPool {
    return this.#state().pools.crypto;
  }

  /** Pings `address`; resolves with the contact that answered. */
  async ping(address: Address): Promise<Contact> {
    const reply = await this.#state().rpc.request(address, { type: 'PING' });
    return { id: reply.sender, host: address.host, port: address.port };
  }

  /** Summary statistics (docs/stats.md). */
  stats(): DhtStats {
    const s = this.#state();
    return buildStats({
      self: s.self, table: s.table, rpc: s.rpc, store: s.store, peers: this.#peers, k: this.options.k, now: this.options.clock.now(),
      replicated: s.replicator?.stats().lastRoundReplicated ?? 1,
    });
  }

  /** Detailed counters of every layer (for the API, metrics and tests). */
  extendedStats(): ExtendedStats {
    const s = this.#state();
    return extendedStats({
      transport: s.transport, channel: s.channel, handshake: s.handshake, rpc: s.rpc, table: s.table, store: s.store,
      maintainer: s.maintainer, invalidStores: this.#invalidStores, storeRefusals: this.#storeRefusals, badTokens: this.#badTokens,
      pool: s.pools.crypto, zk: s.pools.zk, contracts: s.contracts.stats(), records: s.records, eventLoop: s.eventLoop, replication: s.replicator?.stats() ?? null, reputation: this.#reputation.stats(this.options.clock.now()),
    });
  }

  /** The routing table (read-only use: API, tests). */
  get routingTable(): RoutingTable {
    return this.#state().table;
  }

  /** Saves the routing table, closes the socket and the store. Idempotent. */
  async stop(): Promise<void> {
    await this.#starting?.catch(() => {}); // a failed start leaves nothing to stop
    const s = this.#running;
    if (s === null) return;
    this.#running = null;
    for (const t of s.timers) t.cancel();
    s.maintainer.close();
    await s.contracts.close();
    await s.replicator?.close();
    s.rpc.close();
    if (s.store !== null) await saveSnapshot(s.store, s.table).catch(() => {}); // best effort; the table is rebuilt from bootstrap otherwise
    await s.channel.close(); // closes the UDP transport under it
    await s.store?.close();
    s.eventLoop.disable();
    await s.pools.close();
  }

  /** Refreshes idle buckets and saves the table snapshot. */
  async #maintain(): Promise<void> {
    const s = this.#running;
    if (s === null) return;
    // Self-healing: a node left with almost no contacts (they all left, or its bootstrap died while
    // it joined) joins again through its bootstrap peers and saved contacts.
    if (s.rebootstrap.due(s.table.size, this.options.clock.now())) {
      s.maintainer.counters.rebootstraps++;
      const before = s.table.size;
      await this.bootstrap().catch(() => {}); // nobody answered: tried again later
      if (this.#running !== s) return;
      s.rebootstrap.done(before, s.table.size, this.options.clock.now());
    }
    await refreshBuckets(s.table, this.options.clock, this.options.refreshInterval, (n) => this.options.random.bytes(n),
      (target) => runLookup(s.ops, target), () => this.#running === s);
    if (this.#running !== s) return;
    if (s.store !== null) await saveSnapshot(s.store, s.table).catch(() => {}); // retried next round
  }

  #state(): Running {
    if (this.#running === null) throw DhtError.destroyed();
    return this.#running;
  }

  /** `id@host:port` for logs. */
  toString(): string {
    return this.#running === null ? 'DhtNode(stopped)' : `${idToHex(this.id).slice(0, 12)}@${formatAddress(this.address)}`;
  }
}
