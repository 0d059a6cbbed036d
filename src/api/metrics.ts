/**
 * Prometheus metrics in the text exposition format (version 0.0.4), written by hand: a scrape
 * reads the node's counters as they are (nothing is copied between scrapes), and the only state
 * kept here is the lookup-latency histogram, fed by the node's lookup events. Names follow the
 * Prometheus conventions: `zhtp_` prefix, base units (seconds, bytes), `_total` on counters.
 */
import type { DhtNode, LookupEvent, NodeContractStats } from '../node/index.js';

/** Upper bounds of the lookup-latency buckets, seconds (loopback lookups take ms; WAN ones ~1 s). */
export const LOOKUP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** A cumulative histogram with fixed bucket bounds. */
export class Histogram {
  readonly bounds: readonly number[];
  readonly counts: number[];
  sum = 0;
  count = 0;

  constructor(bounds: readonly number[]) {
    this.bounds = bounds;
    this.counts = bounds.map(() => 0);
  }

  observe(v: number): void {
    this.sum += v;
    this.count++;
    const i = this.bounds.findIndex((b) => v <= b);
    if (i >= 0) this.counts[i]!++;
  }
}

type Labels = Record<string, string | number>;

/** Builds one exposition: families in order, each HELP and TYPE once. */
class Exposition {
  readonly #lines: string[] = [];

  family(name: string, type: 'counter' | 'gauge' | 'histogram' | 'summary', help: string, samples: Array<[Labels, number]>): void {
    this.#lines.push(`# HELP ${name} ${help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of samples) this.#lines.push(`${name}${labelText(labels)} ${formatValue(value)}`);
  }

  one(name: string, type: 'counter' | 'gauge', help: string, value: number): void {
    this.family(name, type, help, [[{}, value]]);
  }

  histogram(name: string, help: string, series: Array<[Labels, Histogram]>): void {
    this.#lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} histogram`);
    for (const [labels, h] of series) {
      let cumulative = 0;
      h.bounds.forEach((b, i) => {
        cumulative += h.counts[i]!;
        this.#lines.push(`${name}_bucket${labelText({ ...labels, le: b })} ${cumulative}`);
      });
      this.#lines.push(`${name}_bucket${labelText({ ...labels, le: '+Inf' })} ${h.count}`);
      this.#lines.push(`${name}_sum${labelText(labels)} ${formatValue(h.sum)}`, `${name}_count${labelText(labels)} ${h.count}`);
    }
  }

  toString(): string {
    return `${this.#lines.join('\n')}\n`;
  }
}

function labelText(labels: Labels): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${String(v).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`);
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

const entries = (r: Record<string, number>, label: string): Array<[Labels, number]> => Object.entries(r).map(([k, v]) => [{ [label]: k }, v]);

/** The node's metrics: subscribe once, render on every scrape. */
export class NodeMetrics {
  readonly #node: DhtNode;
  readonly #lookups = { node: new Histogram(LOOKUP_BUCKETS), value: new Histogram(LOOKUP_BUCKETS) };
  readonly #outcomes = { node: { ok: 0, failed: 0 }, value: { ok: 0, failed: 0 } };
  readonly #unsubscribe: () => void;
  readonly #started = Date.now();

  constructor(node: DhtNode) {
    this.#node = node;
    this.#unsubscribe = node.events.on((e) => { if (e.type === 'lookup') this.#lookup(e); });
  }

  close(): void {
    this.#unsubscribe();
  }

  /** Lookup latency (ms) quantiles from the histogram, for the dashboard: bucket upper bounds. */
  lookupLatency(): { count: number; meanMs: number; p50Ms: number | null; p99Ms: number | null } {
    const all = new Histogram(LOOKUP_BUCKETS);
    for (const h of Object.values(this.#lookups)) {
      h.counts.forEach((c, i) => { all.counts[i]! += c; });
      all.sum += h.sum;
      all.count += h.count;
    }
    const q = (p: number): number | null => {
      if (all.count === 0) return null;
      let seen = 0;
      for (let i = 0; i < all.bounds.length; i++) {
        seen += all.counts[i]!;
        if (seen >= p * all.count) return all.bounds[i]! * 1000;
      }
      return null; // above the last bound
    };
    return { count: all.count, meanMs: all.count === 0 ? 0 : (all.sum / all.count) * 1000, p50Ms: q(0.5), p99Ms: q(0.99) };
  }

  /** The exposition text of a scrape. */
  render(): string {
    const node = this.#node;
    const x = new Exposition();
    const s = node.stats();
    const e = node.extendedStats();
    x.family('zhtp_messages_sent_total', 'counter', 'DHT messages sent, by type.', entries(e.rpc.sent, 'type'));
    x.family('zhtp_messages_received_total', 'counter', 'Valid DHT messages received, by type.', entries(e.rpc.received, 'type'));
    x.family('zhtp_requests_total', 'counter', 'Requests this node sent, by outcome.', [
      [{ outcome: 'answered' }, e.rpc.responses], [{ outcome: 'timeout' }, e.rpc.timeouts], [{ outcome: 'remote_error' }, e.rpc.remoteErrors],
      [{ outcome: 'send_failed' }, e.rpc.sendFailures],
    ]);
    x.one('zhtp_request_retries_total', 'counter', 'Request attempts repeated after a per-attempt timeout.', e.rpc.retries);
    x.one('zhtp_requests_pending', 'gauge', 'Requests waiting for an answer.', e.rpc.pending);
    x.family('zhtp_drops_total', 'counter', 'Incoming messages dropped, by layer and reason.', [
      ...Object.entries(e.transport.drops).map(([k, v]): [Labels, number] => [{ layer: 'transport', reason: k }, v]),
      ...Object.entries(e.sessions.drops).map(([k, v]): [Labels, number] => [{ layer: 'session', reason: k }, v]),
      ...Object.entries(e.rpc.drops).map(([k, v]): [Labels, number] => [{ layer: 'rpc', reason: k }, v]),
    ]);
    x.family('zhtp_transport_bytes_total', 'counter', 'UDP payload bytes, by direction.', [[{ direction: 'in' }, e.transport.bytesIn], [{ direction: 'out' }, e.transport.bytesOut]]);
    x.family('zhtp_transport_datagrams_total', 'counter', 'UDP datagrams, by direction.', [[{ direction: 'in' }, e.transport.datagramsIn], [{ direction: 'out' }, e.transport.datagramsOut]]);
    x.histogram('zhtp_lookup_duration_seconds', 'Iterative lookups by kind (node = FIND_NODE, value = FIND_VALUE), seconds.',
      [[{ kind: 'node' }, this.#lookups.node], [{ kind: 'value' }, this.#lookups.value]]);
    x.family('zhtp_lookups_total', 'counter', 'Finished lookups, by kind and outcome.', [
      [{ kind: 'node', outcome: 'ok' }, this.#outcomes.node.ok], [{ kind: 'node', outcome: 'failed' }, this.#outcomes.node.failed],
      [{ kind: 'value', outcome: 'ok' }, this.#outcomes.value.ok], [{ kind: 'value', outcome: 'failed' }, this.#outcomes.value.failed],
    ]);
    x.one('zhtp_routing_table_contacts', 'gauge', 'Contacts in the routing table.', s.routingTableSize);
    x.one('zhtp_network_size_estimate', 'gauge', 'Estimated number of nodes in the network.', s.totalNodes);
    x.one('zhtp_active_peers', 'gauge', 'Distinct peers heard from in the last 5 minutes.', s.totalConnections);
    x.one('zhtp_network_health', 'gauge', 'DhtStats networkHealth, 0..1 (docs/stats.md).', s.networkHealth);
    if (e.storage !== null) {
      x.one('zhtp_storage_bytes', 'gauge', 'Bytes of stored values.', e.storage.bytes);
      x.one('zhtp_storage_records', 'gauge', 'Stored records.', e.storage.records);
      x.one('zhtp_storage_capacity_bytes', 'gauge', 'Storage cap, bytes.', e.storage.capBytes);
    }
    x.one('zhtp_storage_utilization', 'gauge', 'Stored bytes / storage cap, 0..1.', s.storageUtilization);
    if (e.replication !== null) {
      const r = e.replication;
      x.family('zhtp_replication_rounds_total', 'counter', 'Replication rounds run: full (round-robin) or urgent (keys of a contact that arrived or left).', [
        [{ kind: 'full' }, r.rounds], [{ kind: 'urgent' }, r.urgentRounds],
      ]);
      x.one('zhtp_replication_fallbacks_total', 'counter', 'Targets beyond the first r tried because a target did not answer or refused.', r.fallbacks);
      x.one('zhtp_replication_skipped_total', 'counter', 'Records not checked because another holder had just checked them (audited or stored them here).', r.skipped);
      x.one('zhtp_replicas_repaired_total', 'counter', 'Replicas created at holders that lacked them.', r.repaired);
      x.family('zhtp_audits_total', 'counter', 'Replica audits, by outcome.', [
        [{ outcome: 'pass' }, r.auditsPassed], [{ outcome: 'fail' }, r.auditsFailed], [{ outcome: 'missing' }, r.auditsMissing], [{ outcome: 'silent' }, r.auditsSilent],
      ]);
    }
    x.one('zhtp_pool_threads', 'gauge', 'Worker threads of the crypto pool.', e.pool.threads);
    x.one('zhtp_pool_queue_depth', 'gauge', 'Tasks waiting in the crypto pool queue.', e.pool.queueSize);
    x.one('zhtp_pool_utilization', 'gauge', 'Share of time the pool workers were busy since start, 0..1.', e.pool.utilization);
    x.one('zhtp_pool_tasks_completed_total', 'counter', 'Tasks the crypto pool completed.', e.pool.completed);
    x.one('zhtp_pool_busy_rejections_total', 'counter', 'Tasks refused because the pool queue was full.', e.pool.busyRejections);
    x.family('zhtp_pool_task_seconds', 'summary', 'Run time of pool tasks in the workers, seconds.', [
      [{ quantile: 0.5 }, e.pool.runTimeP50 / 1000], [{ quantile: 0.99 }, e.pool.runTimeP99 / 1000],
    ]);
    x.family('zhtp_store_refusals_total', 'counter', 'STOREs refused by their value\'s check, by error code.', entries(e.storeRefusals, 'code'));
    x.one('zhtp_zk_threads', 'gauge', 'Worker threads of the ZK pool (0 until its first task).', e.zk.threads);
    x.family('zhtp_zk_verifications_total', 'counter', 'Groth16 verifications, by outcome.', entries(e.zk.verifications, 'outcome'));
    x.one('zhtp_zk_proofs_total', 'counter', 'Groth16 proofs made by this node.', e.zk.proofs);
    x.one('zhtp_zk_busy_rejections_total', 'counter', 'ZK tasks refused because the ZK pool queue was full.', e.zk.busyRejections);
    this.#contracts(x, e.contracts);
    x.family('zhtp_event_loop_delay_seconds', 'gauge', 'Main-thread event-loop delay since start, seconds.', [
      [{ stat: 'p50' }, e.eventLoop.p50 / 1000], [{ stat: 'p99' }, e.eventLoop.p99 / 1000], [{ stat: 'max' }, e.eventLoop.max / 1000], [{ stat: 'mean' }, e.eventLoop.mean / 1000],
    ]);
    x.one('zhtp_reputation_peers_bad', 'gauge', 'Peers whose reputation is below the bad threshold.', e.reputation.bad);
    const mem = process.memoryUsage();
    x.one('process_resident_memory_bytes', 'gauge', 'Resident set size, bytes.', mem.rss);
    x.one('process_heap_used_bytes', 'gauge', 'V8 heap in use, bytes.', mem.heapUsed);
    x.one('process_start_time_seconds', 'gauge', 'When the API (and node) started, Unix seconds.', Math.floor(this.#started / 1000));
    return x.toString();
  }

  /** The contract series: DHT-level counts always, the engine's once it has opened. */
  #contracts(x: Exposition, c: NodeContractStats): void {
    x.one('zhtp_contract_deploys_total', 'counter', 'Contracts this node deployed to the DHT.', c.published);
    x.one('zhtp_contract_code_fetches_total', 'counter', 'Contract code fetched from the DHT into this node\'s engine.', c.fetched);
    x.one('zhtp_contract_code_rejected_total', 'counter', 'Fetched contract code that did not hash to its code hash.', c.codeRejected);
    x.family('zhtp_contract_discovery_drops_total', 'counter', 'Listed contracts a find or info left out, by reason.', entries(c.dropped, 'reason'));
    const engine = c.engine;
    x.one('zhtp_contract_threads', 'gauge', 'Execution threads of the contract engine (0 until its first call).', engine?.threads ?? 0);
    x.one('zhtp_contract_queue_depth', 'gauge', 'Contract calls waiting for a thread.', engine?.queued ?? 0);
    x.family('zhtp_contract_calls_total', 'counter', 'Contract calls and queries run here, by receipt status.', entries(engine?.calls ?? {}, 'status'));
    x.one('zhtp_contract_busy_rejections_total', 'counter', 'Contract calls refused because the queue was full.', engine?.busyRejections ?? 0);
    x.one('zhtp_contract_deploy_refusals_total', 'counter', 'Modules the engine refused at deploy or fetch (invalid contracts).', engine?.deployRefusals ?? 0);
    const n = c.network;
    x.one('zhtp_contract_calls_sent_total', 'counter', 'Signed contract calls this node sent to instance holders.', c.callsSent);
    x.one('zhtp_contract_calls_executed_total', 'counter', 'Contract calls this node executed as an instance\'s primary.', n?.executed ?? 0);
    x.one('zhtp_contract_calls_deduplicated_total', 'counter', 'Retried contract calls answered from a kept receipt.', n?.deduplicated ?? 0);
    x.one('zhtp_contract_redirects_total', 'counter', 'Contract calls answered "not primary" with a closer holder.', n?.redirected ?? 0);
    x.one('zhtp_contract_invalid_signatures_total', 'counter', 'Contract calls refused for a signature that does not verify.', n?.invalidSignatures ?? 0);
    x.one('zhtp_contract_updates_applied_total', 'counter', 'Replicated contract calls applied here as a follower.', n?.updatesApplied ?? 0);
    x.one('zhtp_contract_audits_total', 'counter', 'Replicated contract calls executed again here before applying them.', n?.audits ?? 0);
    x.one('zhtp_contract_audit_mismatches_total', 'counter', 'Audits and state hash checks that disagreed with the primary.', n?.auditMismatches ?? 0);
    x.family('zhtp_contract_updates_refused_total', 'counter', 'Replicated contract calls refused here, by reason.', entries(n?.refused ?? {}, 'reason'));
    x.one('zhtp_contract_majority_missed_total', 'counter', 'Contract calls answered before a majority of holders had them.', n?.majorityMissed ?? 0);
  }

  #lookup(e: LookupEvent): void {
    this.#lookups[e.kind].observe(e.ms / 1000);
    this.#outcomes[e.kind][e.ok ? 'ok' : 'failed']++;
  }
}
