/** Ids and keys of the Kademlia space: XOR distance, ordering, prefixes, BLAKE3 content keys. */
export * from './id.js';
export * from './derive.js';
export * from './contact.js';
