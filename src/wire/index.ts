/** The wire format: message schema, msgpack codec with strict validation, size limits. */
export * from './messages.js';
export * from './limits.js';
export { encode, decode } from './codec.js';
export { isValueKind } from './validate.js';
