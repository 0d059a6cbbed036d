/**
 * What a node tells its observers (the API's live stream, the dashboard, metrics): lookups with
 * their latency, peers entering and leaving the routing table, puts and gets. A bounded ring
 * keeps the latest events for a newly connected viewer; listeners are called synchronously and
 * must not throw (a throwing listener is dropped from that one call, never from the node).
 */
import { idToHex, type Key } from '../id/index.js';
import { type Clock, DhtError, systemClock } from '../util/index.js';

/** A lookup finished: iterative FIND_NODE ('node') or FIND_VALUE ('value'). */
export interface LookupEvent { type: 'lookup'; at: number; kind: 'node' | 'value'; ms: number; hops: number; ok: boolean }
/** A contact entered or left the routing table. */
export interface PeerEvent { type: 'peer'; at: number; change: 'added' | 'removed'; id: string; address: string; reason?: string }
/** A put or get issued on this node finished. */
export interface OperationEvent { type: 'put' | 'get'; at: number; key: string | null; ms: number; ok: boolean; bytes: number; error?: string }


export type NodeEvent = LookupEvent | PeerEvent | OperationEvent;

/** Events kept for late listeners. */
export const RECENT_EVENTS = 200;

export class NodeEvents {
  readonly #listeners = new Set<(e: NodeEvent) => void>();
  readonly #recent: NodeEvent[] = [];
  /** Events emitted since the node was created, by type. */
  readonly counts: Record<NodeEvent['type'], number> = { lookup: 0, peer: 0, put: 0, get: 0 };

  constructor(readonly clock: Clock = systemClock) {}

  /** Calls `listener` with every later event; returns the function that unsubscribes it. */
  on(listener: (e: NodeEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => { this.#listeners.delete(listener); };
  }

  /** The latest events, oldest first (at most RECENT_EVENTS). */
  recent(): NodeEvent[] {
    return [...this.#recent];
  }

  emit(event: NodeEvent): void {
    this.counts[event.type]++;
    this.#recent.push(event);
    if (this.#recent.length > RECENT_EVENTS) this.#recent.shift();
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch {
        // an observer's bug must not break the operation that emitted
      }
    }
  }

  /**
   * Emits a put or get event when `op` settles — its duration, bytes (a number, or read from the
   * result) and outcome — and passes the outcome through.
   */
  observe<T extends { key: Key; durationMs: number }>(type: 'put' | 'get', op: Promise<T>, bytes: number | ((r: T) => number), key?: Key): Promise<T> {
    const started = this.clock.now();
    return op.then(
      (r) => {
        const size = typeof bytes === 'number' ? bytes : bytes(r);
        this.emit({ type, at: this.clock.now(), key: idToHex(r.key), ms: r.durationMs, ok: true, bytes: size });
        return r;
      },
      (err: unknown) => {
        const error = err instanceof DhtError ? err.code : (err as Error)?.name ?? 'Error';
        const at = this.clock.now();
        this.emit({ type, at, key: key === undefined ? null : idToHex(key), ms: at - started, ok: false, bytes: typeof bytes === 'number' ? bytes : 0, error });
        throw err;
      },
    );
  }
}
