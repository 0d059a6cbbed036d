/**
 * A node's contracts (docs/contracts.md, "Part 2a"): its ContractEngine, opened with the first use
 * under `<dataDir>/contracts` with lazily started threads; deploy to the DHT (validate and meter in
 * the engine's meter thread, the original wasm as immutable content under its code hash, the
 * manifest signed in the crypto pool and stored as the owner's mutable record, the name listed in
 * each tag's set); discovery (discovery.ts); fetching code from the DHT into the local engine,
 * which re-meters it to byte-identical code; and instances, calls and queries on this node's
 * engine. Part 2b (contract-exec.ts, contract-client.ts) installs instances at their holders and
 * routes calls (signed with this node's key) and queries to them, behind the same signatures: an
 * instance id, a method, input bytes, a Receipt.
 */
import {
  type AbiMethod, CONTRACT_DROP_REASONS, type ContractDropReason, ContractEngine, type ContractEngineStats, type ContractManifest, encodeManifestBody,
  encodeSignedManifest, type InstanceMeta, isContractName, manifestKey, manifestSalt, manifestSigningPayload, METER_VERSION, type Receipt,
  DEFAULT_CALL_TIMEOUT, DEFAULT_GAS_LIMIT, MAX_GAS_LIMIT, MAX_INPUT_BYTES, type SignedCall,
} from '../contracts/index.js';
import { MLDSA65_PUBLIC_KEY_BYTES, type NodeIdentity } from '../crypto/index.js';
import { idToHex, type Key } from '../id/index.js';
import { bytesEqual, DhtError, MAX_TTL, second, toHex } from '../util/index.js';
import { type ContractRequest, type ResponseBody, ValueKind } from '../wire/index.js';
import type { Contact } from '../id/index.js';
import { type Address } from '../util/index.js';
import {
  type ContractClientDeps, fetchReceipt, installInstance, type NetworkCallOptions, type NetworkReceipt, queryNetwork, signContractCall, submitCall,
} from './contract-client.js';
import { ContractReplica, type ContractReplicaStats } from './contract-exec.js';
import { contractInfo, type ContractListing, findContracts, type FindContractsOptions, type FindContractsResult, publishTag } from './discovery.js';
import { putMutable } from './mutable.js';
import type { OperationsContext } from './context.js';
import { put, replicationFactor } from './operations.js';
import { runLookup } from './run-lookup.js';
import type { ContractsInit } from './options.js';

/** What deployContract takes. */
export interface DeployContractRequest {
  /** The original module (at most MAX_CODE_BYTES, 256 KiB: one DHT value). */
  wasm: Uint8Array;
  /** 1..55 of [a-z0-9._-]; one manifest per owner and name, replaced by a later deploy. */
  name: string;
  /** 1..32 of [0-9A-Za-z.+-]. */
  version: string;
  /** Up to 16 tags of [a-z0-9-]{1,32}, each a set finders search. Default none. */
  tags?: string[];
  /** The methods as callers should see them; each must be exported by the code. Default none. */
  abi?: AbiMethod[];
  /** Lifetime of the code, the manifest and the tag entries, ms, 1 s..48 h. Default the node's defaultTtl. */
  ttl?: number;
  replicationFactor?: number;
  signal?: AbortSignal;
}

/** How a tag's entry went: replicas that took it, or why it failed (the deploy itself stands). */
export interface TagOutcome { tag: string; replicas: number; error?: string }

/** What deployContract stored. */
export interface DeployContractResult {
  codeHash: Uint8Array;
  /** The manifest record's key: what contractInfoByKey takes. */
  key: Key;
  manifest: ContractManifest;
  /** The manifest record's seq (0 for a first deploy of the name). */
  seq: number;
  methods: string[];
  originalBytes: number;
  meteredBytes: number;
  /** BLAKE3 of the metered module: the same on every node that fetches the code. */
  meteredHash: Uint8Array;
  replicas: { code: number; manifest: number };
  tags: TagOutcome[];
  durationMs: number;
}

/** Code in this node's engine, fetched from the DHT or already here. */
export interface FetchedCode {
  codeHash: Uint8Array;
  /** True when the code came from the DHT; false when the engine already held it. */
  fetched: boolean;
  methods: string[];
  meterVersion: number;
  originalBytes: number;
  meteredBytes: number;
  meteredHash: Uint8Array;
  durationMs: number;
}

/** An instance this node created (or found existing), and where it was installed. */
export interface CreatedInstance {
  instanceId: Uint8Array;
  codeHash: Uint8Array;
  created: boolean;
  fetched: boolean;
  /** The instance's holders found by a lookup (the r closest nodes to its id, in distance order). */
  holders: Contact[];
  /** Holders that acknowledged the install (this node included when it is one). */
  installed: number;
}

/** Options of callContract and queryContract. */
export interface ContractCallOptions extends NetworkCallOptions {
  /** Gas at most, 1..1e9. Default 10,000,000. */
  gasLimit?: number;
}

/** The contract figures of extendedStats(). */
export interface NodeContractStats {
  /** False when the node runs no engine (options.contracts false, or an ephemeral client). */
  enabled: boolean;
  /** The engine's figures; null until its first use. */
  engine: ContractEngineStats | null;
  /** Successful deployContract calls. */
  published: number;
  /** Code fetched from the DHT and deployed here. */
  fetched: number;
  /** Fetched bytes that did not hash to the code hash (never deployed; the holder is penalised). */
  codeRejected: number;
  /** Calls this node signed and sent to an instance's holders. */
  callsSent: number;
  /** Queries this node sent to an instance's holders. */
  queriesSent: number;
  /** This node as a holder (part 2b); null without an engine or with serve false. */
  network: ContractReplicaStats | null;
  /** Verified manifests returned by findContracts and contractInfo. */
  found: number;
  /** Listings dropped by finders, by reason. */
  dropped: Record<ContractDropReason, number>;
}

/** What NodeContracts is built from. */
export interface NodeContractsDeps {
  ctx: OperationsContext;
  identity: NodeIdentity;
  init: ContractsInit | null;
  /** The engine's folder, or null for none. */
  path: string | null;
  /** Why there is no engine (the DISABLED message). */
  disabled: string;
}

/** The contract feature of one running node. */
export class NodeContracts {
  readonly #d: NodeContractsDeps;
  #engine: ContractEngine | null = null;
  #closed = false;
  /** Tag updates of this publisher, one at a time (each is a read-modify-write of its entry). */
  #tagQueue: Promise<unknown> = Promise.resolve();
  readonly #counts = { published: 0, fetched: 0, codeRejected: 0, found: 0, callsSent: 0, queriesSent: 0 };
  readonly #replica: ContractReplica | null;
  readonly #client: ContractClientDeps;
  readonly #dropped = Object.fromEntries(CONTRACT_DROP_REASONS.map((r) => [r, 0])) as Record<ContractDropReason, number>;

  constructor(deps: NodeContractsDeps) {
    this.#d = deps;
    const { init, path } = deps;
    this.#replica = init === null || path === null || init.serve === false ? null : new ContractReplica({
      ctx: deps.ctx, engine: () => this.#open(), fetchCode: (h) => this.fetchCode(h), serve: true, audit: init.audit ?? true,
      // A follower may sync, fetch and meter code, or audit a call of up to the wall-clock limit before it answers.
      updateTimeout: deps.ctx.options.queryTimeout + 2 * (init.callTimeout ?? DEFAULT_CALL_TIMEOUT),
    });
    this.#client = { ctx: deps.ctx, identity: deps.identity, replica: this.#replica, holders: new Map(), suspects: new Map() };
  }

  /** Answers a peer's contract request (DISABLED when this node holds no contracts for peers). */
  handle(request: ContractRequest, from: Address): Promise<ResponseBody> {
    if (this.#replica === null || this.#closed) return Promise.reject(new DhtError('DISABLED', 'this node holds no contracts for peers'));
    return this.#replica.handle(request, from);
  }

  /** Validates, meters and publishes a contract: code, signed manifest, tag entries. */
  async deploy(req: DeployContractRequest): Promise<DeployContractResult> {
    const ctx = this.#d.ctx;
    const started = ctx.clock.now();
    if (typeof req !== 'object' || req === null || !(req.wasm instanceof Uint8Array)) throw new TypeError('request.wasm must be a Uint8Array');
    const ttl = req.ttl ?? ctx.options.defaultTtl;
    if (!Number.isFinite(ttl) || ttl < second || ttl > MAX_TTL) throw new RangeError('options.ttl must be between 1 s and 48 h');
    const r = replicationFactor(ctx, req.replicationFactor);
    const keys = this.#d.identity.dsa;
    const draft: ContractManifest = {
      name: req.name, version: req.version, tags: req.tags ?? [], abi: req.abi ?? [], owner: keys.publicKey, meterVersion: METER_VERSION, codeHash: new Uint8Array(32),
    };
    encodeManifestBody(draft); // names a bad field before any work is done
    const engine = this.#open();
    const deployed = await engine.deploy(req.wasm);
    const unknown = draft.abi.find((m) => !deployed.methods.includes(m.name));
    if (unknown !== undefined) throw new RangeError(`abi method '${unknown.name}' is not exported by the code (it exports ${deployed.methods.join(', ') || 'none'})`);
    const meteredHash = await this.#meteredHash(engine, deployed.codeHash);
    // The original goes to the DHT: each node meters it itself. MAX_CODE_BYTES is MAX_VALUE_BYTES,
    // so the engine never accepts code that would need chunks.
    const code = await put(ctx, req.wasm, { ttl, replicationFactor: r, signal: req.signal });
    if (!bytesEqual(code.key, deployed.codeHash)) throw new DhtError('INVALID_CONTENT', 'the stored code does not hash to the code hash');
    const manifest: ContractManifest = { ...draft, meterVersion: deployed.meterVersion, codeHash: deployed.codeHash };
    const body = encodeManifestBody(manifest);
    const signature = await ctx.pool.sign(keys.secretKey, manifestSigningPayload(body));
    const record = await putMutable(ctx, encodeSignedManifest(body, signature), { keys, salt: manifestSalt(req.name), ttl, replicationFactor: r, signal: req.signal });
    const tags = await this.#publishTags(manifest.tags, req.name, { ttl, replicationFactor: r, signal: req.signal });
    this.#counts.published++;
    return {
      codeHash: deployed.codeHash, key: record.key, manifest, seq: record.record.seq, methods: deployed.methods, originalBytes: deployed.originalBytes,
      meteredBytes: deployed.meteredBytes, meteredHash, replicas: { code: code.replicas.length, manifest: record.replicas.length }, tags,
      durationMs: ctx.clock.now() - started,
    };
  }

  /** The verified manifests listed under `tag`. */
  async find(tag: string, opts: FindContractsOptions = {}): Promise<FindContractsResult> {
    const r = await findContracts(this.#d.ctx, tag, opts, this.#onDrop);
    this.#counts.found += r.contracts.length;
    return r;
  }

  /** The verified manifest of `owner` (an ML-DSA-65 public key) named `name`. */
  info(owner: Uint8Array, name: string, opts: { signal?: AbortSignal } = {}): Promise<ContractListing> {
    if (!(owner instanceof Uint8Array) || owner.byteLength !== MLDSA65_PUBLIC_KEY_BYTES) throw new TypeError(`owner must be an ML-DSA-65 public key (${MLDSA65_PUBLIC_KEY_BYTES} bytes)`);
    if (!isContractName(name)) throw new RangeError('name must be 1..55 of [a-z0-9._-], starting with a letter or digit');
    return this.#info(manifestKey(owner, name), name, opts.signal);
  }

  /** The verified manifest under its record key. */
  infoByKey(key: Key, opts: { signal?: AbortSignal } = {}): Promise<ContractListing> {
    bytes32(key, 'key');
    return this.#info(key, undefined, opts.signal);
  }

  /** Puts the code under `codeHash` in this node's engine: fetched from the DHT, checked, re-metered. */
  async fetchCode(codeHash: Uint8Array, opts: { signal?: AbortSignal } = {}): Promise<FetchedCode> {
    bytes32(codeHash, 'codeHash');
    const started = this.#d.ctx.clock.now();
    const engine = this.#open();
    const held = engine.code(codeHash);
    let fetched = false;
    if (held === null || held.meterVersion !== METER_VERSION) {
      // Code metered under an older METER_VERSION is re-metered from the original kept here.
      const deployed = await engine.deploy(held?.original ?? await this.#download(codeHash as Key, opts.signal));
      if (!bytesEqual(deployed.codeHash, codeHash)) throw new DhtError('INVALID_CONTENT', 'the metered code has another code hash');
      fetched = held === null;
      if (fetched) this.#counts.fetched++;
    }
    const record = engine.code(codeHash);
    if (record === null) throw DhtError.notFound(`contract code ${toHex(codeHash)}`); // closed meanwhile
    return {
      codeHash: codeHash.slice(), fetched, methods: record.methods, meterVersion: record.meterVersion, originalBytes: record.original.byteLength,
      meteredBytes: record.metered.byteLength, meteredHash: await this.#meteredHash(engine, codeHash), durationMs: this.#d.ctx.clock.now() - started,
    };
  }

  /**
   * An instance of `codeHash` created by this node (its code fetched first when not here), made
   * here and installed at its holders, the r closest nodes to its id, which fetch the code themselves.
   */
  async createInstance(codeHash: Uint8Array, opts: { salt?: Uint8Array; signal?: AbortSignal } = {}): Promise<CreatedInstance> {
    bytes32(codeHash, 'codeHash');
    const engine = this.#open();
    const fetched = engine.code(codeHash) === null && (await this.fetchCode(codeHash, opts)).fetched;
    const salt = opts.salt ?? new Uint8Array(0);
    const r = await engine.createInstance(codeHash, this.#d.ctx.self.id, salt);
    const placed = await installInstance(this.#client, r.instanceId, codeHash, salt, opts.signal);
    return { instanceId: r.instanceId, codeHash: codeHash.slice(), created: r.created, fetched, ...placed };
  }

  /**
   * Runs a state-changing call as this node over the network: signed with this node's key (the
   * contract sees this node's id as caller), sent to the instance's primary, answered once a
   * majority of its holders has the outcome.
   */
  async call(instance: Uint8Array, method: string, input?: Uint8Array, opts: ContractCallOptions = {}): Promise<NetworkReceipt> {
    const signed = await this.signCall(instance, method, input, opts);
    return this.submit(signed, opts);
  }

  /** Signs a call with this node's key without sending it (submit it with `submit`). */
  async signCall(instance: Uint8Array, method: string, input?: Uint8Array, opts: { gasLimit?: number } = {}): Promise<SignedCall> {
    this.#assertOpen();
    bytes32(instance, 'instance');
    if (typeof method !== 'string' || method.length === 0 || method.length > 64) throw new TypeError('method must be a name of 1..64 characters');
    const payload = input ?? new Uint8Array(0);
    if (!(payload instanceof Uint8Array) || payload.byteLength > MAX_INPUT_BYTES) throw new RangeError(`input must be at most ${MAX_INPUT_BYTES} bytes`);
    const gasLimit = opts.gasLimit ?? DEFAULT_GAS_LIMIT;
    if (!Number.isSafeInteger(gasLimit) || gasLimit < 1 || gasLimit > MAX_GAS_LIMIT) throw new RangeError(`gasLimit must be an integer in 1..${MAX_GAS_LIMIT}`);
    return signContractCall(this.#client, instance, method, payload, gasLimit);
  }

  /** Sends a signed call (any caller's) to the instance's holders; the same signed call is executed at most once where its receipt is kept. */
  submit(signed: SignedCall, opts: NetworkCallOptions = {}): Promise<NetworkReceipt> {
    this.#assertOpen();
    this.#counts.callsSent++;
    return submitCall(this.#client, signed, opts);
  }

  /** Runs a read-only call at the closest holder that answers, as this node. */
  async query(instance: Uint8Array, method: string, input?: Uint8Array, opts: ContractCallOptions = {}): Promise<Receipt> {
    this.#assertOpen();
    bytes32(instance, 'instance');
    if (typeof method !== 'string' || method.length === 0 || method.length > 64) throw new TypeError('method must be a name of 1..64 characters');
    const gasLimit = opts.gasLimit ?? DEFAULT_GAS_LIMIT;
    if (!Number.isSafeInteger(gasLimit) || gasLimit < 1 || gasLimit > MAX_GAS_LIMIT) throw new RangeError(`gasLimit must be an integer in 1..${MAX_GAS_LIMIT}`);
    this.#counts.queriesSent++;
    return queryNetwork(this.#client, instance, method, input ?? new Uint8Array(0), { ...opts, gasLimit });
  }

  /** The receipt kept under `callId`: on this node, else at `from` or at the holders of `instance`; null when none has it. */
  receipt(callId: Uint8Array, opts: { instance?: Uint8Array; from?: Contact; signal?: AbortSignal } = {}): Promise<NetworkReceipt | null> {
    this.#assertOpen();
    bytes32(callId, 'callId');
    if (opts.instance !== undefined) bytes32(opts.instance, 'instance');
    return fetchReceipt(this.#client, callId, opts);
  }

  /** An instance's committed metadata here, or null. */
  instance(instanceId: Uint8Array): InstanceMeta | null {
    bytes32(instanceId, 'instanceId');
    return this.#open().instance(instanceId);
  }

  stats(): NodeContractStats {
    return {
      enabled: this.#d.init !== null && this.#d.path !== null, engine: this.#engine?.stats() ?? null, ...this.#counts, dropped: { ...this.#dropped },
      network: this.#replica?.stats() ?? null,
    };
  }

  /** Closes the engine (calls in flight reject with DESTROYED). Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    const engine = this.#engine;
    this.#engine = null;
    await engine?.close();
  }

  readonly #onDrop = (reason: ContractDropReason): void => {
    this.#dropped[reason]++;
  };

  async #info(key: Key, name: string | undefined, signal?: AbortSignal): Promise<ContractListing> {
    const listing = await contractInfo(this.#d.ctx, key, name, signal, this.#onDrop);
    this.#counts.found++;
    return listing;
  }

  #assertOpen(): void {
    if (this.#closed) throw DhtError.destroyed();
  }

  /** The engine, opened on first use. Throws DISABLED without one, DESTROYED once closed. */
  #open(): ContractEngine {
    if (this.#closed) throw DhtError.destroyed();
    const { init, path } = this.#d;
    if (init === null || path === null) throw new DhtError('DISABLED', this.#d.disabled);
    this.#engine ??= ContractEngine.open({ ...init, path, lazy: true });
    return this.#engine;
  }

  /** BLAKE3 of the metered module as stored here (in the pool when large). */
  async #meteredHash(engine: ContractEngine, codeHash: Uint8Array): Promise<Uint8Array> {
    const record = engine.code(codeHash);
    if (record === null) throw DhtError.notFound(`contract code ${toHex(codeHash)}`);
    return (await this.#d.ctx.pool.hash(record.metered)).digest;
  }

  /** The original wasm under `key`: this node's copy or a FIND_VALUE, every answer checked against the key. */
  async #download(key: Key, signal?: AbortSignal): Promise<Uint8Array> {
    const ctx = this.#d.ctx;
    const accept = async (value: Uint8Array): Promise<Uint8Array | null> => {
      const { digest, data } = await ctx.pool.hash(value);
      if (bytesEqual(digest, key)) return data;
      this.#counts.codeRejected++;
      return null;
    };
    const local = ctx.store?.getCopy(key);
    const own = local !== undefined && local.kind === ValueKind.IMMUTABLE ? await accept(local.value) : null;
    if (own !== null) return own;
    const found = await runLookup(ctx, key, { valueKey: key, signal, accept });
    if (found.value === null) throw DhtError.notFound(`contract code ${idToHex(key)}${found.rejected > 0 ? ` (${found.rejected} answer(s) did not hash to it)` : ''}`);
    return found.value;
  }

  /** Lists `name` under each tag, one tag and one deploy at a time. A failed tag is reported, not thrown. */
  #publishTags(tags: readonly string[], name: string, opts: { ttl: number; replicationFactor: number; signal?: AbortSignal }): Promise<TagOutcome[]> {
    const run = this.#tagQueue.then(async () => {
      const out: TagOutcome[] = [];
      for (const tag of tags) {
        try {
          out.push({ tag, replicas: await publishTag(this.#d.ctx, this.#d.identity.dsa, tag, name, opts) });
        } catch (err) {
          if (!(err instanceof DhtError) || err.code === 'DESTROYED' || err.code === 'ABORTED') throw err;
          out.push({ tag, replicas: 0, error: `${err.code}: ${err.message}` });
        }
      }
      return out;
    });
    this.#tagQueue = run.catch(() => undefined); // the caller sees the failure; the next deploy goes on
    return run;
  }
}

function bytes32(v: unknown, name: string): void {
  if (!(v instanceof Uint8Array) || v.byteLength !== 32) throw new TypeError(`${name} must be 32 bytes`);
}
