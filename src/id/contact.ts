/** A peer as the DHT knows it: its node id and the UDP endpoint it answers on. */
import type { Address } from '../util/index.js';
import type { NodeId } from './id.js';

/** A reachable peer: node id plus UDP endpoint. */
export interface Contact extends Address {
  readonly id: NodeId;
}

const sharedContacts = new WeakSet<Contact>();

/**
 * Declares that `contact` (its id bytes included) will never be mutated, so routing tables may
 * hold it instead of a private copy. The simulator shares one contact per node among 100,000
 * tables this way; the UDP node never calls it (contacts there come off the wire).
 */
export function shareContact<C extends Contact>(contact: C): C {
  sharedContacts.add(contact);
  return contact;
}

/** True for a contact passed to shareContact(). */
export function isSharedContact(contact: Contact): boolean {
  return sharedContacts.has(contact);
}
