/**
 * Limits and domain tags of the value types above plain immutable blobs: mutable records
 * (BEP 44 with ML-DSA-65), multi-writer sets and chunked content. Every size is in bytes unless
 * it says otherwise; every number is checked by the encoders (RangeError) and the decoders (null).
 */
import { KiB, MAX_VALUE_BYTES } from '../util/index.js';

/** Bytes of a mutable record's salt at most (BEP 44 allows 64, so do we). */
export const MAX_SALT_BYTES = 64;

/**
 * Bytes of the value inside a signed mutable record at most. A record also carries a 1,952 B key
 * and a 3,309 B signature; 64 KiB keeps a whole record far inside one 256 KiB STORE while leaving
 * room for more than BEP 44's 1,000 B, which is too small to point at a manifest plus metadata.
 */
export const MAX_MUTABLE_VALUE_BYTES = 64 * KiB;

/**
 * Bytes of one set entry's value at most (a provider address, a tag target). Small because a set
 * holds up to MAX_SET_ENTRIES entries of ~5.3 KiB of key and signature each in one value.
 */
export const MAX_SET_ENTRY_VALUE_BYTES = 1 * KiB;

/** Entries per set key at most: k (K_BUCKET_SIZE), as many providers as a lookup returns nodes. */
export const MAX_SET_ENTRIES = 20;

/** Bytes of content per chunk: one chunk is one value, so this equals MAX_VALUE_BYTES (256 KiB). */
export const CHUNK_BYTES = MAX_VALUE_BYTES;

/**
 * Chunks per manifest at most. 8,000 keys of 32 B are 256,000 B, so the manifest itself still
 * fits one value; with 256 KiB chunks that is 2,097,152,000 B (~1.95 GiB) of content.
 */
export const MAX_MANIFEST_CHUNKS = 8000;

/** Domain tag of mutable-record signatures (signed length-prefixed: u8 length ‖ UTF-8). */
export const MUTABLE_DOMAIN = 'zhtp-dht/v1/mutable';

/** Domain tag of set-entry signatures (signed length-prefixed: u8 length ‖ UTF-8). */
export const SET_ENTRY_DOMAIN = 'zhtp-dht/v1/set-entry';

/** Domain tag hashed into set keys, so a set key never equals a content or mutable key. */
export const SET_KEY_DOMAIN = 'zhtp-dht/v1/set-key';

/**
 * First 8 bytes of every encoded manifest: ASCII "ZHTPMAN1". Lets a reader tell a manifest from
 * plain content without parsing; the trailing "1" is the format version. Do not mutate.
 */
export const MANIFEST_MAGIC: Uint8Array = new TextEncoder().encode('ZHTPMAN1');
