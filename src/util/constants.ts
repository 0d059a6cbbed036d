/**
 * Protocol and tuning constants, each with its unit and where the number comes from.
 * Components take these as defaults in their `init` options; nothing reads them at run time
 * from anywhere else, so a test or an operator can override every one.
 */

/** One millisecond: the unit of every duration in this code base. */
export const millisecond = 1;
export const second = 1000 * millisecond;
export const minute = 60 * second;
export const hour = 60 * minute;

export const KiB = 1024;
export const MiB = 1024 * KiB;

/** Default UDP port (ZHTP specification: DHT_PORT). */
export const DHT_PORT = 33442;
/** Contacts per k-bucket and size of a lookup result (specification: K_BUCKET_SIZE). */
export const K_BUCKET_SIZE = 20;
/** Replicas per value (specification: DHT_REPLICATION_FACTOR, range 3..12). */
export const DHT_REPLICATION_FACTOR = 3;
export const MIN_REPLICATION_FACTOR = 3;
export const MAX_REPLICATION_FACTOR = 12;
/** PING timeout (specification: PING_TIMEOUT_SECS = 5). */
export const PING_TIMEOUT = 5 * second;
/** FIND_NODE / FIND_VALUE / STORE timeout (specification: QUERY_TIMEOUT_SECS = 10). */
export const QUERY_TIMEOUT = 10 * second;
/** Retries after a timed-out request before it fails (bounded, as BEP 5's "try once more"). */
export const REQUEST_RETRIES = 1;
/** Requests in flight per lookup (Kademlia paper: alpha = 3). */
export const LOOKUP_ALPHA = 3;
/** A lookup stops waiting for a peer after this long (its late answer still counts). */
export const LOOKUP_SLOW_PEER = 2 * second;
/**
 * Table entries a lookup starts from, as a multiple of k: the k closest, then the next ones as
 * fallbacks that are queried only when closer ones fail or turn slow. A table whose k entries
 * nearest the target have all left (a region the node has not talked to since, under churn)
 * would otherwise end the lookup with nothing (docs/simulation.md, churn diagnosis).
 */
export const LOOKUP_SEED_FACTOR = 3;
/**
 * The largest immutable value a plain read asks to receive inline from every peer it queries
 * (FIND_VALUE `inline`). A holder of a larger value answers that it holds it, and the reader
 * fetches the bytes from one holder at a time: a 256 KiB chunk crossed the network once per
 * holder asked (alpha = 3 times, measured 3.02 bytes received per byte read) before.
 */
export const INLINE_VALUE_BYTES = 16 * KiB;
/**
 * Records a replication round checks at once, each a lookup and up to r audits in flight. Checked
 * one after another, a round of a node holding a few hundred records outlived its interval under
 * churn (a lookup that meets departed nodes takes 5-15 s), and a record waited minutes between
 * checks while its holders left (docs/simulation.md, lost keys).
 */
export const REPAIR_CONCURRENCY = 8;
/**
 * How soon after a holder is seen to leave (or a closer node to arrive) the keys it concerns are
 * checked, in a round of their own: one such round at a time, so a burst of departures costs one.
 */
export const REPAIR_URGENT_DELAY = 5 * second;
/**
 * A node whose routing table holds fewer than this share of k contacts bootstraps again at its
 * next maintenance tick (its bootstrap peers and saved contacts, then a lookup of its own id): a
 * node whose contacts all left, or whose bootstrap died while it joined, heals instead of staying
 * alone. A joined node in a network of more than k nodes holds at least k.
 */
export const REBOOTSTRAP_SHARE = 0.5;
/** Upper bound on a whole lookup, whatever the network does (js-libp2p uses 180 s, sigp 60 s). */
export const LOOKUP_TIMEOUT = 60 * second;
/** A bucket untouched this long is refreshed with a lookup of a random id in its range. */
export const BUCKET_REFRESH_INTERVAL = 1 * hour;
/** Pings an unresponsive least-recently-seen contact gets before it is evicted (BEP 5). */
export const EVICTION_PING_TRIES = 2;
/** Replacement-cache entries kept per bucket. */
export const REPLACEMENT_CACHE_SIZE = 20;

/** Default record lifetime (BEP 44: items may expire after 2 h). */
export const DEFAULT_TTL = 2 * hour;
/** Longest TTL a STORE may ask for. */
export const MAX_TTL = 48 * hour;
/** How often expired records are swept from storage. */
export const EXPIRY_SWEEP_INTERVAL = 1 * minute;
/** Default cap on stored bytes (values only). */
export const DEFAULT_STORAGE_CAP = 1024 * MiB;

/** Payload bytes per datagram (QUIC's minimum MTU; discv5 caps packets at 1,280 B). */
export const DATAGRAM_PAYLOAD = 1200;
/** Datagrams shorter than this cannot hold a frame header and are dropped before decode. */
export const MIN_DATAGRAM = 4;
/** Largest value a single STORE or VALUE message carries; bigger content is chunked (later). */
export const MAX_VALUE_BYTES = 256 * KiB;
/** Largest encoded message after reassembly: a maximal value plus headers and contacts. */
export const MAX_MESSAGE_BYTES = MAX_VALUE_BYTES + 4 * KiB;
/** Bytes of partial messages buffered per source address. */
export const REASSEMBLY_PER_PEER_BYTES = 2 * MAX_MESSAGE_BYTES;
/** Partial messages buffered per source address (T03: at most 64). */
export const REASSEMBLY_PER_PEER_MESSAGES = 64;
/** Bytes of partial messages buffered over all sources. */
export const REASSEMBLY_TOTAL_BYTES = 16 * MiB;
/** A partial message older than this is dropped (OpenDHT RX_MAX_PACKET_TIME: 10 s). */
export const REASSEMBLY_TIMEOUT = 10 * second;
/** Contacts carried in one NODES answer: never more than k. */
export const MAX_CONTACTS_PER_MESSAGE = K_BUCKET_SIZE;
