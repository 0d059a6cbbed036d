/** What the node's operations (content, records, sets, ZK values, contracts, repair) work with. */
import type { CryptoPool } from '../crypto/index.js';
import type { Contact } from '../id/index.js';
import type { LookupResult } from '../lookup/index.js';
import type { CapacityBook } from '../replication/index.js';
import type { ReputationBook } from '../reputation/index.js';
import type { RoutingTable } from '../routing/index.js';
import type { Rpc } from '../rpc/index.js';
import type { Store as ValueStore } from '../storage/index.js';
import type { Clock } from '../util/index.js';
import type { ZkPool } from '../zk/index.js';
import type { ResolvedOptions } from './options.js';

export interface OperationsContext {
  readonly self: Contact;
  readonly table: RoutingTable;
  readonly rpc: Rpc;
  readonly store: ValueStore | null;
  readonly pool: CryptoPool;
  /** Proves and verifies ZkDhtValues. */
  readonly zk: ZkPool;
  readonly clock: Clock;
  readonly options: ResolvedOptions;
  readonly reputation: ReputationBook;
  readonly capacity: CapacityBook;
  /** Tells the maintainer a peer failed a request. */
  onPeerFailed(contact: Contact): void;
  /** Records a request outcome for networkHealth. */
  onOutcome(ok: boolean): void;
  /** Told of every finished lookup (latency metrics, the live event stream). */
  onLookup?(kind: 'node' | 'value', ms: number, result: LookupResult | null): void;
}

/** Write tokens collected in a lookup: node id (hex) → the token it gave us for the target. */
export type TokenMap = Map<string, Uint8Array>;
