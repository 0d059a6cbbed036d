/**
 * NodeId derivation golden vectors (test/vectors/node-ids.json): seed -> ML-DSA-65 key pair
 * (deterministic KeyGen) -> NodeId = BLAKE3(public key).
 */
import { describe, expect, it } from 'vitest';
import {
  blake3, identityFromKeys, MLDSA65_PUBLIC_KEY_BYTES, MLDSA65_SECRET_KEY_BYTES, mldsaKeygen, nodeIdFromPublicKey,
} from '../../src/crypto/index.js';
import { fromHex, kemKeys, loadVector, toHex } from './fixtures.js';

interface NodeIdVector { seed_hex: string; mldsa65_public_key_blake3_hex: string; node_id_hex: string }

const { vectors } = loadVector<{ vectors: NodeIdVector[] }>('node-ids.json');

describe('NodeId golden vectors', () => {
  it('seed -> key pair -> id matches every vector, and the loader ran them all', () => {
    let ran = 0;
    for (const v of vectors) {
      const seed = fromHex(v.seed_hex);
      expect(seed.byteLength).toBe(32);
      const { publicKey, secretKey } = mldsaKeygen(seed);
      expect(publicKey.byteLength).toBe(MLDSA65_PUBLIC_KEY_BYTES);
      expect(secretKey.byteLength).toBe(MLDSA65_SECRET_KEY_BYTES);
      expect(toHex(blake3(publicKey)), `public key of seed ${v.seed_hex}`).toBe(v.mldsa65_public_key_blake3_hex);
      // NodeId is BLAKE3 of the key by definition: both columns agree, and the function agrees.
      expect(v.node_id_hex).toBe(v.mldsa65_public_key_blake3_hex);
      expect(toHex(nodeIdFromPublicKey(publicKey))).toBe(v.node_id_hex);
      expect(toHex(identityFromKeys({ publicKey, secretKey }, kemKeys(1)).id)).toBe(v.node_id_hex);
      ran++;
    }
    expect(ran).toBeGreaterThanOrEqual(5);
    expect(ran).toBe(vectors.length);
  });

  it('key generation from a seed is deterministic and seeds do not collide', () => {
    const ids = new Set(vectors.map((v) => v.node_id_hex));
    expect(ids.size).toBe(vectors.length);
    const seed = fromHex(vectors[0]!.seed_hex);
    expect(toHex(mldsaKeygen(seed).publicKey)).toBe(toHex(mldsaKeygen(seed).publicKey));
    expect(toHex(mldsaKeygen(seed).secretKey)).toBe(toHex(mldsaKeygen(seed).secretKey));
  });

  it('the id depends on every byte of the public key', () => {
    const { publicKey } = mldsaKeygen(fromHex(vectors[0]!.seed_hex));
    const id = toHex(nodeIdFromPublicKey(publicKey));
    for (const at of [0, 31, 32, 975, MLDSA65_PUBLIC_KEY_BYTES - 1]) {
      const changed = publicKey.slice();
      changed[at] = changed[at]! ^ 1;
      expect(toHex(nodeIdFromPublicKey(changed)), `byte ${at}`).not.toBe(id);
    }
  });
});
