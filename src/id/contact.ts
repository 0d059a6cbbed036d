/** A peer as the DHT knows it: its node id and the UDP endpoint it answers on. */
import type { Address } from '../util/index.js';
import type { NodeId } from './id.js';

/** A reachable peer: node id plus UDP endpoint. */
export interface Contact extends Address {
  readonly id: NodeId;
}
