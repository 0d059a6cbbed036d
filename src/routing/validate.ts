/**
 * Checks at the routing table's API boundary: programmer errors throw TypeError / RangeError
 * naming the argument or option (STYLE.md, errors of the second kind).
 */
import { type Contact, isId } from '../id/index.js';
import { isPort } from '../util/index.js';
import type { AddOptions } from './types.js';

/** Throws RangeError unless `value` is an integer ≥ `min` (0 or 1). */
export function assertInteger(value: number, name: string, min: number): void {
  if (!Number.isInteger(value) || value < min) {
    throw new RangeError(`${name} must be a ${min === 0 ? 'non-negative' : 'positive'} integer`);
  }
}

/** Throws unless `contact` has a 32-byte id, a string host and a valid port. */
export function assertContact(contact: Contact): void {
  if (!isId(contact.id)) throw new TypeError('contact.id must be a 32-byte id');
  if (typeof contact.host !== 'string') throw new TypeError('contact.host must be a string');
  if (!isPort(contact.port)) throw new RangeError('contact.port must be an integer in 1..65535');
}

/** `options.inbound`, default false; throws TypeError when it is not a boolean. */
export function inboundOption(options: AddOptions): boolean {
  const inbound = options.inbound ?? false;
  if (typeof inbound !== 'boolean') throw new TypeError('options.inbound must be a boolean');
  return inbound;
}
