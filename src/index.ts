/**
 * zhtp-dht: a Kademlia DHT node for the ZHTP network. The package's public face: the node, its
 * options and results, ids and keys, errors, and the loopback testnet.
 */
export * from './node/index.js';
export {
  type Id, type NodeId, type Key, type Contact, keyFromContent, idToHex, idFromHex, distance, compareDistance,
  commonPrefixLength,
} from './id/index.js';
export { DhtError, isDhtError, type DhtErrorCode, type Address, parseAddress, formatAddress, ManualClock, systemClock, SeededRandom } from './util/index.js';
export * as constants from './util/constants.js';
