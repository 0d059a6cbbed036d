/**
 * One k-bucket (Kademlia §2.2, BEP 5): at most k entries ordered least-recently-seen first, and a
 * bounded replacement cache of peers met while the bucket was full, most recently seen last.
 * Internal to src/routing/: the table enforces k and keeps the counts; this file keeps order.
 */
import { type Contact, type NodeId, idEquals, isSharedContact } from '../id/index.js';
import type { RoutingEntry } from './types.js';

/**
 * A copy holding only id, host and port, so the table never retains a caller's larger object;
 * a shared (immutable) contact is kept as it is (shareContact(), for the simulator's memory).
 */
export function ownContact(contact: Contact): Contact {
  if (isSharedContact(contact)) return contact;
  return { id: new Uint8Array(contact.id) as NodeId, host: contact.host, port: contact.port };
}

/** The same contact at a possibly new endpoint, reusing the stored object when nothing moved. */
function withAddress(stored: Contact, seen: Contact): Contact {
  if (stored.host === seen.host && stored.port === seen.port) return stored;
  return { id: stored.id, host: seen.host, port: seen.port };
}

/** Contacts of one bucket plus its replacement cache and freshness stamp. */
export class Bucket {
  /** This bucket's index in its table (common-prefix length with the table's id). */
  readonly index: number;
  /** Live contacts, least-recently-seen first. */
  readonly entries: RoutingEntry[] = [];
  /** Candidates for a freed slot, most-recently-seen last. */
  readonly replacements: RoutingEntry[] = [];
  /** When the bucket last gained or refreshed a contact, or was touched by a lookup. */
  lastChanged = 0;

  constructor(index: number) {
    this.index = index;
  }

  /** Position of `id` among the entries, or -1. */
  indexOf(id: NodeId): number {
    return this.entries.findIndex((e) => idEquals(e.contact.id, id));
  }

  /**
   * Moves entry `i` to the most-recently-seen end: failures reset, address refreshed, and the
   * inbound flag kept only while it is offered as inbound again. Returns the new entry.
   */
  refresh(i: number, seen: Contact, now: number, inbound: boolean): RoutingEntry | undefined {
    const [old] = this.entries.splice(i, 1);
    if (old === undefined) return undefined;
    const contact = withAddress(old.contact, seen);
    const entry = { contact, lastSeen: now, addedAt: old.addedAt, failures: 0, inbound: old.inbound && inbound };
    this.entries.push(entry);
    return entry;
  }

  /** Appends a new contact as the most recently seen. */
  append(contact: Contact, now: number, inbound: boolean): void {
    this.entries.push({ contact: ownContact(contact), lastSeen: now, addedAt: now, failures: 0, inbound });
  }

  /** Removes and returns entry `i`. */
  removeAt(i: number): RoutingEntry | undefined {
    return this.entries.splice(i, 1)[0];
  }

  /** Entry `i` with one more failure; returns the new count. */
  fail(i: number): number {
    const old = this.entries[i];
    if (old === undefined) return 0;
    this.entries[i] = { ...old, failures: old.failures + 1 };
    return old.failures + 1;
  }

  /**
   * Records `contact` as the most recent replacement, dropping the oldest beyond `max`. A cached
   * contact offered again keeps its inbound flag only while it is offered as inbound.
   */
  cache(contact: Contact, now: number, max: number, inbound: boolean): void {
    if (max === 0) return;
    const i = this.replacements.findIndex((e) => idEquals(e.contact.id, contact.id));
    const old = i >= 0 ? this.replacements.splice(i, 1)[0] : undefined;
    const stored = old === undefined ? ownContact(contact) : withAddress(old.contact, contact);
    this.replacements.push({
      contact: stored, lastSeen: now, addedAt: old?.addedAt ?? now, failures: 0, inbound: (old?.inbound ?? true) && inbound,
    });
    if (this.replacements.length > max) this.replacements.shift();
  }

  /** Forgets `id` in the replacement cache, if it is there. */
  dropReplacement(id: NodeId): void {
    const i = this.replacements.findIndex((e) => idEquals(e.contact.id, id));
    if (i >= 0) this.replacements.splice(i, 1);
  }

  /** Removes and returns the most recently seen replacement. */
  popReplacement(): RoutingEntry | undefined {
    return this.replacements.pop();
  }

  /**
   * Moves replacement `r` (already taken from the cache) into the entries and returns its new
   * entry. It is placed by its `lastSeen`, so the entries stay least-recently-seen first and
   * `entries[0]` stays the one an eviction policy should question first.
   */
  promote(r: RoutingEntry, now: number): RoutingEntry {
    const entry: RoutingEntry = { contact: r.contact, lastSeen: r.lastSeen, addedAt: now, failures: 0, inbound: r.inbound };
    const at = this.entries.findIndex((e) => e.lastSeen > entry.lastSeen);
    if (at < 0) this.entries.push(entry);
    else this.entries.splice(at, 0, entry);
    return entry;
  }
}
