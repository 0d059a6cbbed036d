/**
 * Pass thresholds of the numbered reliability tests, in one place so they can be tuned per machine
 * (RELIABILITY.md §4). Keyed by test id, then by the figure name the test reports. Each number
 * is quoted from that test's "Pass" in RELIABILITY.md §5, with the anchor the spec gives for it.
 * Thresholds that depend on the run's own configuration or counts (T01 oversize datagrams = number
 * sent, T10 queue peak ≤ `maxQueue`, T03 malformed drops = number sent) stay with their test.
 */

const MiB = 2 ** 20;

/** Every pass threshold of T01, T03, T05–T10, T12, T13, T15–T18 and T22. Units are in the names. */
export const THRESHOLDS = {
  T01: {
    /** §5 T01: "≥ 99.9 % of valid pings are answered". */
    pings_answered: 0.999,
    /** §5 T01: "p99 RTT ≤ 50 ms" while the flood runs. */
    ping_p99_ms: 50,
    /** §5 T01: "RSS grows < 20 MiB" (strictly less). */
    rss_growth_mib: 20,
    /** §5 T01: "0 uncaught exceptions". */
    uncaught_exceptions: 0,
    /** §5 T01: "the warning log emits ≤ 1 line per source per 10 s". */
    log_lines_per_source_per_10s: 1,
  },
  T03: {
    /** §5 T03: "the reassembly buffer is capped (e.g. ≤ 1 MiB total …)"; OpenDHT RX_MAX_EARLY_BYTES. */
    peak_reassembly_bytes: 1 * MiB,
    /** §5 T03: "… ≤ 64 per source" (partial messages). */
    partials_per_source: 64,
    /** §5 T03: "partials expire within 10 s"; OpenDHT RX_MAX_PACKET_TIME. */
    expiry_latency_ms: 10_000,
    /** §5 T03: "partials from different sources never merge". */
    merged_across_sources: 0,
  },
  T05: {
    /** §5 T05: bytes sent ≤ 3 × bytes received before address validation (QUIC RFC 9000 §8). */
    max_amplification: 3,
  },
  T06: {
    /** §5 T06: "aggregate bytes out / bytes in ≤ 3 per unvalidated address". */
    amplification: 3,
  },
  T07: {
    /** §5 T07: "the victim receives ≤ 1 probe per 10 s from the node". */
    victim_probes_per_10s: 1,
    /** §5 T07: "… and ≤ 16 per minute in total". */
    victim_probes_per_minute: 16,
    /** §5 T07: FIND_NODE answers never include an unverified entry "(0 in 1,000 queries)"; discv5. */
    unverified_relayed: 0,
    /** §2 (poisoning row): "insert only after our own successful ping" — fake ids in the table: 0. */
    fake_ids_in_table: 0,
  },
  T08: {
    /** §5 T08: "0 duplicate side effects (store, table insert, liveness refresh)". */
    replays_accepted: 0,
    /** §5 T08: "unsolicited responses are dropped and counted" (accepted: 0). */
    unsolicited_accepted: 0,
  },
  T09: {
    /** §5 T09: "A's answered rate ≤ its per-IP limit +10 %" (answered/s ÷ per-IP limit). */
    flooder_answered_ratio: 1.1,
    /** §5 T09: "B's success rate ≥ 99 %". */
    b_success: 0.99,
    /** §5 T09: "… with p99 ≤ 100 ms". */
    b_p99_ms: 100,
  },
  T10: {
    /** §5 T10: "event-loop delay p99 (perf_hooks.monitorEventLoopDelay) ≤ 50 ms". */
    eventloop_p99_ms: 50,
    /** §5 T10: "PINGs stay answered ≥ 99 %". */
    pings_answered: 0.99,
    /** §5 T10: "0 bad-signature PUTs are stored". */
    bad_signatures_accepted: 0,
  },
  T12: {
    /** §5 T12: "0 of these enter the routing table"; dht-rpc validateId, S/Kademlia nodeId = H(pk). */
    forged_insertions: 0,
    /** §5 T12: "0 appear in any FIND_NODE answer". */
    forged_in_answers: 0,
    /** §5 T12: "0 are eligible as store targets". */
    forged_store_targets: 0,
  },
  T13: {
    /** §5 T13: "the new endpoint gets a challenge and is not processed as the old session". */
    unchallenged_new_endpoints: 0,
    /** §5 T13: "no AEAD nonce repeats (counter ‖ random)". */
    nonce_collisions: 0,
    /** §5 T13: "the session cache stays ≤ its capacity (e.g. 1,000) under 10,000 identities". */
    session_cache_peak: 1_000,
  },
  T15: {
    /** §5 T15: "at most 2 per bucket … from any /24" (discv5, go-ethereum). */
    max_per_24_per_bucket: 2,
    /** §5 T15: "… and 10 per table from any /24". */
    max_per_24_per_table: 10,
  },
  T16: {
    /** §5 T16: "decisions correct 100 %" (BEP 5 "try once more"). */
    decisions_correct: 1.0,
  },
  T17: {
    /** §5 T17: "the attacker's share of the victim's table is ≤ 25 % (target ≤ 10 %)". */
    attacker_share: 0.25,
    /** §5 T17: "the victim's lookups of honest targets succeed ≥ 99 %". */
    lookup_success: 0.99,
  },
  T18: {
    /** §5 T18: "fakes are not inserted until they answer our ping" (fake insertions: 0). */
    fake_insertions: 0,
    /** §5 T18: fakes "are never relayed". */
    fakes_relayed: 0,
    /** §5 T18: "the lookup still reaches the true k-closest set"; recall@k as T26 measures it (≥ 0.95). */
    recall_at_k: 0.95,
  },
  T22: {
    /** §5 T22: "only the last is accepted": of no token, foreign IP, other key, too old — 0 accepted. */
    invalid_tokens_accepted: 0,
    /** §5 T22: the valid token is accepted (1 of 1). */
    valid_tokens_accepted: 1,
    /** §5 T22: token validity ≥ 1 rotation period (BEP 5: new secret every 5 min). */
    validity_min_rotations: 1,
    /** §5 T22: token validity ≤ 2 rotation periods (BEP 5: accept ≤ 10 min). */
    validity_max_rotations: 2,
  },
  T20: {
    /** §5 T20: "invalid signature 206" (BEP 44). Case figures hold the wire code answered; 0 = STORED. */
    case_bad_signature_code: 206,
    /** §5 T20: "seq less than current 302" (BEP 44). */
    case_seq_lower_code: 302,
    /** §5 T20: seq = stored with a different value → "SEQ_REUSED" (hyperdht; our wire code 303). */
    case_seq_reused_code: 303,
    /** §5 T20: seq = stored with the same value → "accept and refresh the TTL" (0 = STORED). */
    case_seq_equal_same_value_code: 0,
    /** §5 T20: "accept and refresh the TTL": the refreshed record outlives its first TTL (1 = yes). */
    ttl_refreshed: 1,
    /** §5 T20: "CAS mismatch 301" (BEP 44: "MUST emit 301 errors if the cas mismatches"). */
    case_cas_mismatch_code: 301,
    /** BEP 44 `cas`: a cas equal to the stored seq passes (the newer record of the replay case; 0 = STORED). */
    case_cas_match_code: 0,
    /** §5 T20: cas on a missing key → "accept (BEP 44: 'SHOULD be ignored')" (0 = STORED). */
    case_cas_missing_key_code: 0,
    /** §5 T20: "salt too big 207" (BEP 44: salt ≤ 64 B). */
    case_salt_too_big_code: 207,
    /** §5 T20: "value too big 205" (our limit: 64 KiB inside a record). */
    case_value_too_big_code: 205,
    /** §5 T20: target ≠ BLAKE3(pk ‖ salt) → "reject" (INVALID_CONTENT 208). */
    case_wrong_target_code: 208,
    /** §5 T20: replay of an old valid record after a newer one → "reject" (seq less than current 302). */
    case_replay_old_code: 302,
    /** §5 T20: "A GET never returns a lower seq than one already acknowledged." */
    reads_below_acked_seq: 0,
  },
  T23: {
    /** §5 T23: "A per-IP quota holds (e.g. ≤ 1/8 of global)": the most bytes one IP holds ÷ the cap. */
    per_ip_share: 0.125,
    /** §5 T23: "The second source still succeeds" (share of its STOREs accepted). */
    second_source_success: 1,
    /** §5 T23: "At the global limit, eviction takes the oldest value from the heaviest IP" (share of evictions that did). */
    evictions_oldest_of_heaviest: 1,
    /** §5 T23: "LMDB file size ≤ cap + 10 %" (file bytes ÷ cap). */
    disk_over_cap: 1.1,
    /** §5 T23: "`MDB_MAP_FULL` never surfaces as a crash" (writes failing with anything but STORAGE_FULL, or a dead node). */
    map_full_crashes: 0,
    /** §5 T23: "Per-key value count ≤ cap": entries one set key holds, at most MAX_SET_ENTRIES (k = 20); OpenDHT caps values per key too. */
    set_entries_per_key: 20,
  },
  T25: {
    /** §5 T25: "The best record (seq 5) is returned" by a GET with Q = 3. */
    returned_seq: 5,
    /** §5 T25: "all 5 stale holders hold seq 5 within one lookup" (stale holders left after the read). */
    stale_holders_after: 0,
  },
  T28: {
    /** §F T28: "All 1,000 keys are retrievable from the network within 60 s" (share of the keys put). */
    retrievable: 1,
    /** §F T28: "Every write whose durable acknowledgement resolved is present after restart" (acknowledged PUTs not found). */
    lost_acknowledged_writes: 0,
    /**
     * §F T28: the same criterion per replica, read from disk: keys a killed node had acknowledged
     * (STORED after its LMDB commit) missing from its store after kill -9 or after the restart.
     */
    lost_acknowledged_stores: 0,
    /** §F T28: "0 corrupt records" (stored or served values that do not hash to their key). */
    corrupt_records: 0,
    /** §F T28: "… retrievable from the network within 60 s": restart to every key read back, ms. */
    recovery_ms: 60_000,
    /** §F T28: "Restarted nodes rejoin without re-bootstrapping from scratch" (share that rejoined from their saved snapshot alone). */
    rejoined_from_snapshot_share: 1,
  },
  T21: {
    /** §5 T21: "The client never returns a value whose hash ≠ the key" (poisoned values accepted: 0). */
    poisoned_accepted: 0,
    /** §5 T21: "The lookup continues past poisoned holders and succeeds if ≥ 1 honest holder is alive" (every such get). */
    lookup_success: 1.0,
    /** §5 T21: "Poisoners are penalised (counted; optionally blacklisted)": share of poisoners met that the reader marks bad. */
    poisoners_penalised_share: 1.0,
  },
  T24: {
    /** §5 T24: "A's announcement for B is rejected (the provider must equal the signer or sender)"; report "Foreign-provider acceptances (0)". */
    foreign_provider_acceptances: 0,
    /** §5 T24: "Providers per key ≤ cap (k)"; k = 20 = MAX_SET_ENTRIES. */
    providers_per_key: 20,
    /** §5 T24: "Expired records are not served"; report "served-after-expiry (0)". */
    served_after_expiry: 0,
  },
  T27: {
    /** §5 T27: "Lookup success for stored keys ≥ 99 %". */
    lookup_success: 0.99,
    /**
     * §5 T27: "Median live replicas among the current k closest ≥ 10". That figure presumes
     * k = 20 replicas (RFM 17, Kad); this design places r = 3 (DESIGN.md, Replication), so the
     * promise checked is that r stay live: median ≥ r = 3.
     */
    median_live_replicas: 3,
    /** §5 T27: "Replica-holder discovery ratio (holders found / holders existing) ≥ 0.8". */
    discovery_ratio: 0.8,
  },
  T29: {
    /** §5 T29: "0 false accepts" among the hostile proofs. */
    false_accepts: 0,
    /** §5 T29: "Invalid proofs return `false` or a typed error": calls that threw anything else. */
    untyped_errors: 0,
    /** §5 T29: "0 worker crashes that take the pool down" (uncaught worker errors; threads lost at the end). */
    worker_crashes: 0,
    /** The valid control proofs sent among the hostile ones are all still accepted (share). */
    valid_accepted: 1,
    /** §5 T29: "The process exits ≤ 1 s after `node.stop()`" (here: after ZkPool.close()), ms. */
    shutdown_ms: 1_000,
  },
  T29_net: {
    /** §5 T29 "0 false accepts", for hostile proofs sent as ZkDhtValue STOREs over UDP. */
    false_accepts: 0,
    /** Hostile proofs answered with anything but INVALID_PROOF (209). */
    wrong_codes: 0,
    /** §5 T30's bar for a node under attack, applied here: PINGs from another process answered (share). */
    pings_answered: 0.99,
  },
  T30: {
    /** §5 T30: "each is stopped within its budget": the slowest hostile call, submit to receipt, ms (kill backstop 2 s). */
    termination_max_ms: 2_000,
    /** §5 T30: "Memory is capped (e.g. 256 pages = 16 MiB)": pages a memory.grow bomb reached. */
    peak_memory_pages: 256,
    /** §5 T30: "The node keeps answering pings (≥ 99 %)": 10 ms timer ticks on the coordinator served within 100 ms. */
    ticks_answered: 0.99,
    /** §5 T30: "The worker pool recovers to full size": kill to the next call's receipt, ms. */
    pool_recovery_ms: 5_000,
  },
  T30_net: {
    /** §5 T30 over the network: PINGs from another process answered while holders run hostile calls (share). */
    pings_answered: 0.99,
    /**
     * PING p99 while the primary and both followers (audits) run hostile calls, ms. Alone it is
     * 7-8 ms; next to other test files on 2 cores it varies with their load, so the gate is T01's
     * 50 ms (a blocked coordinator shows seconds); the measured p99 is reported on every run.
     */
    ping_p99_ms: 50,
  },
  // Values and replication (T20, T21, T23, T24, T25, T27, T28): one block per test, in id order.
  // Simulator variants (src/sim, docs/simulation.md).
  T19: {
    /** §5 T19: "success(d = 4, f = 20 %) ≥ 0.90". */
    success_d4_f20: 0.9,
  },
  T26_sim: {
    /** §5 T26: "Mean recall@k ≥ 0.95" (sim N = 2,000). */
    recall_at_k: 0.95,
  },
  T27_sim: {
    /** Issue 7: "churn success ≥ 0.99 for N = 1,000" (T27: lookup success for stored keys ≥ 99 %). */
    lookup_success: 0.99,
    /** §5 T27: discovery ratio ≥ 0.8. */
    discovery_ratio: 0.8,
  },
} as const satisfies Record<string, Record<string, number>>;
