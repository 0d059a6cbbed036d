/**
 * One record's check in a replication round (docs/replication.md): look up its targets, then
 * bring r of them to hold it, by re-sending it (a publisher's republish) or by auditing each and
 * sending it to those that lack it (repair). A target that does not end up holding it is
 * replaced by the next in placement order, up to the placement window of 2r.
 */
import type { Contact, Key } from '../id/index.js';
import { idEquals } from '../id/index.js';
import type { RecordMeta } from '../storage/index.js';
import { ValueKind } from '../wire/index.js';
import { AUDIT_NONCE_BYTES, auditPasses } from './audit.js';
import type { ReplicationStats, ReplicatorDeps } from './repair.js';

/** The record to check. `republish` is asked once the targets are known: re-send instead of auditing? */
export interface RecordCheck {
  key: Key;
  value: Uint8Array;
  meta: RecordMeta;
  republish(): boolean;
}

/** Checks one record, counting into `stats`; resolves with the live holders found (this node included). */
export async function checkRecord(d: ReplicatorDeps, stats: ReplicationStats, record: RecordCheck): Promise<number> {
  const { key, value, meta } = record;
  stats.checked++;
  const targets = await d.targets(key, meta.replicas, value.byteLength);
  const republish = record.republish();
  const atTarget = async (c: Contact): Promise<boolean> => {
    if (idEquals(c.id, d.self.id)) return true;
    if (!republish) return repairAt(d, stats, c, record);
    const sent = await d.send(c, key, value, meta);
    if (sent) stats.republished++;
    return sent;
  };
  // The first r targets at once; for each that does not hold the record after (silent, or
  // refused it), the next in placement order, up to the placement window of 2r.
  const limit = Math.min(targets.length, 2 * meta.replicas);
  let live = 0;
  let tried = 0;
  while (live < meta.replicas && tried < limit) {
    const wave = targets.slice(tried, Math.min(limit, tried + meta.replicas - live));
    if (tried > 0) stats.fallbacks += wave.length;
    tried += wave.length;
    const held = await Promise.all(wave.map(atTarget));
    live += held.filter(Boolean).length;
  }
  return live;
}

/** Audits one target and sends it the record when it lacks it; true when it holds it after. */
async function repairAt(d: ReplicatorDeps, stats: ReplicationStats, c: Contact, record: RecordCheck): Promise<boolean> {
  const { key, value, meta } = record;
  const nonce = d.randomBytes(AUDIT_NONCE_BYTES);
  const [proof, expected] = await Promise.all([d.audit(c, key, nonce), d.proof(nonce, key, value)]);
  if (proof === null) {
    stats.auditsSilent++;
    d.onAudit(c, 'silent');
    return false;
  }
  if (proof.byteLength > 0 && auditPasses(expected, proof)) {
    stats.auditsPassed++;
    d.onAudit(c, 'pass');
    return true;
  }
  // Mutable records and sets legitimately differ between holders (a newer seq, another merge):
  // a mismatch there is not a fault, and the STORE below brings either side up to date.
  if (proof.byteLength > 0 && meta.kind === ValueKind.IMMUTABLE) {
    stats.auditsFailed++;
    d.onAudit(c, 'fail');
  } else if (proof.byteLength === 0) {
    stats.auditsMissing++;
    d.onAudit(c, 'missing');
  }
  const sent = await d.send(c, key, value, meta);
  if (sent) stats.repaired++;
  return sent;
}
