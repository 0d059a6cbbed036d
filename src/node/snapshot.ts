/**
 * Warm restart: the routing table's contacts are saved in the store at stop (and every
 * maintenance round) and pinged at the next start, so a restarted node rejoins without
 * depending on its bootstrap peers.
 */
import { Packr } from 'msgpackr';
import type { RoutingTable } from '../routing/index.js';
import type { Store } from '../storage/index.js';
import { type Address, bytesToIp, ipToBytes, isPort } from '../util/index.js';

const NAME = 'routing-snapshot';
/** Contacts saved at most (closest-first by bucket depth is not needed: any live peer helps). */
const MAX_SAVED = 256;
const packr = new Packr({ useRecords: false });

/** Saves up to MAX_SAVED contacts, most recently seen first. */
export async function saveSnapshot(store: Store, table: RoutingTable): Promise<void> {
  const entries = [...table.entries()].sort((a, b) => b.lastSeen - a.lastSeen).slice(0, MAX_SAVED);
  const rows = entries.flatMap((e) => {
    const ip = ipToBytes(e.contact.host);
    return ip === null ? [] : [[ip, e.contact.port]];
  });
  await store.putNodeState(NAME, packr.pack(rows));
}

/** The saved addresses; an unreadable snapshot yields none (it is only a hint). */
export function loadSnapshot(store: Store): Address[] {
  const bytes = store.getNodeState(NAME);
  if (bytes === undefined) return [];
  let rows: unknown;
  try {
    rows = packr.unpack(bytes);
  } catch {
    return []; // corrupt hint: start from the bootstrap peers alone
  }
  if (!Array.isArray(rows)) return [];
  const out: Address[] = [];
  for (const row of rows.slice(0, MAX_SAVED) as unknown[]) {
    if (!Array.isArray(row) || !(row[0] instanceof Uint8Array) || !isPort(row[1])) continue;
    const host = bytesToIp(row[0]);
    if (host !== null) out.push({ host, port: row[1] });
  }
  return out;
}
