/**
 * The Kademlia routing table (Kademlia paper §2.2–2.3, BEP 5): pure data, no I/O, no timers.
 * The node's maintenance code supplies the liveness policy (pings, eviction, refresh lookups).
 */
export { RoutingTable } from './table.js';
export {
  defaultMinInboundAllowance, MAX_INBOUND_PER_BUCKET, MAX_INBOUND_SHARE, MAX_PER_SUBNET_PER_BUCKET, MAX_PER_SUBNET_PER_TABLE,
} from './diversity.js';
export type {
  AddOptions, AddResult, BucketInfo, DiversityCounts, DiversityStats, RejectReason, RejectionCounters, RoutingEntry, RoutingTableInit,
} from './types.js';
