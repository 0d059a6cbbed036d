/**
 * zhtp-dht: a Kademlia DHT node for the ZHTP network. The package's public face: the node, its
 * options and results, ids and keys, errors, ZkDhtValues, WASM contracts, the loopback testnet and the HTTP API.
 */
export * from './node/index.js';
export {
  type Id, type NodeId, type Key, type Contact, keyFromContent, idToHex, idFromHex, distance, compareDistance,
  commonPrefixLength,
} from './id/index.js';
export { DhtError, isDhtError, type DhtErrorCode, type Address, parseAddress, formatAddress, ManualClock, systemClock, SeededRandom } from './util/index.js';
export {
  DHT_PORT, K_BUCKET_SIZE, DHT_REPLICATION_FACTOR, MIN_REPLICATION_FACTOR, MAX_REPLICATION_FACTOR, PING_TIMEOUT,
  QUERY_TIMEOUT, MAX_VALUE_BYTES, DEFAULT_TTL, MAX_TTL,
} from './util/index.js';
export {
  setKey, mutableKey, type MutableRecord, type SetEntry, type Manifest, MAX_SALT_BYTES, MAX_MUTABLE_VALUE_BYTES,
  MAX_SET_ENTRY_VALUE_BYTES, MAX_SET_ENTRIES, CHUNK_BYTES,
} from './values/index.js';
export {
  type ZkDhtValue, type ZkAccessLevel, type ZkOwner, zkKey, encodeZkValue, decodeZkValue, encodeZkOwner, decodeZkOwner, randomZkOwner,
  ownerCommitment, ZkPool, type ZkPoolInit, MAX_ZK_DATA_BYTES, MAX_ZK_READERS, MAX_ZK_NAME_BYTES,
} from './zk/index.js';
export {
  ContractEngine, type ContractEngineInit, type ContractEngineStats, type DeployedCode, type CallRequest, type Receipt, type CallStatus,
  type ContractEvent, type StateWrite, InvalidContractError, isInvalidContract, type ModuleFault, encodeArgs, decodeArgs, type AbiType,
  type AbiValue, type ContractManifest, type SignedManifest, signManifest, decodeSignedManifest, verifyManifest, exampleContract,
  METER_VERSION, DEFAULT_GAS_LIMIT, MAX_GAS_LIMIT, type AbiMethod, type AbiParam, EXAMPLE_CONTRACTS, type ExampleContract, manifestKey, tagKey,
  encodeTagEntry, decodeTagEntry, type ContractDropReason, argsFromJson, argsToJson, parseAbiTypes, MAX_CONTRACT_NAME,
} from './contracts/index.js';
export type { ReplicationStats } from './replication/index.js';
export { prepareAudits, auditPasses, type PreparedAudit } from './replication/index.js';
export { ReputationBook, type PeerReputation } from './reputation/index.js';
export { ApiServer, API_PORT, type ApiServerOptions, NodeMetrics, readToken } from './api/index.js';
