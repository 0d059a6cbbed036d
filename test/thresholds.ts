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
  // Values and replication (T20, T21, T23, T24, T25, T27, T28): one block per test, in id order.
} as const satisfies Record<string, Record<string, number>>;
