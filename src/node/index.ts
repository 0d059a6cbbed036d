/** DhtNode: lifecycle and wiring of a Kademlia node, its operations and its statistics. */
export { DhtNode } from './node.js';
export type { DhtNodeOptions, ResolvedOptions, ContractsInit } from './options.js';
export type { PutResult, GetResult, PutOptions } from './operations.js';
export type { DhtStats, ExtendedStats } from './stats.js';
export { estimateNetworkSize } from './stats.js';
export { Rebootstrap, refreshBuckets, TableMaintainer, type MaintainerCounters } from './maintenance.js';
export { createTestnet, type Testnet, type TestnetOptions } from './testnet.js';
export { PoolHandshake } from './handshake.js';
export { RecordBook, type RecordCounters } from './records.js';
export { WriteTokens, TOKEN_ROTATION } from './tokens.js';
export type { PutMutableOptions, PutMutableResult, GetMutableOptions, GetMutableResult } from './mutable.js';
export type { AddToSetOptions, GetSetResult } from './sets.js';
export type { PutZkOptions, PutZkResult, StoreZkOptions, GetZkOptions, GetZkResult } from './zk.js';
export type {
  DeployContractRequest, DeployContractResult, TagOutcome, FetchedCode, CreatedInstance, ContractCallOptions, NodeContractStats,
} from './contracts.js';
export { type NetworkReceipt, type NetworkCallOptions, MAX_CALL_REDIRECTS } from './contract-client.js';
export { type ContractReplicaStats, type UpdateRefusal, PRIMARY_PING_TIMEOUT } from './contract-exec.js';
export { type ContractListing, type FindContractsOptions, type FindContractsResult, DEFAULT_FIND_LIMIT, MAX_FIND_LIMIT } from './discovery.js';
export type { PutStreamOptions, PutStreamResult, GetStreamOptions } from './content.js';
export { chunkRoot } from './content.js';
export { NodeEvents, RECENT_EVENTS, type NodeEvent, type LookupEvent, type PeerEvent, type OperationEvent } from './events.js';
