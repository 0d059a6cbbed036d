/**
 * Encryption and proving of ZkDhtValues without the network (src/zk/seal.ts, build.ts,
 * src/crypto/kemwrap.ts): payload AEAD bound to key, nonce and access level; data keys per version;
 * owner key files; ML-KEM-768 key wrapping; and values built with a real Groth16 prover and checked
 * with the real verifier as a storage node does — each tampering refused with its code — then
 * opened (or not) for each kind of reader.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { kemUnwrap, kemWrap, type KemStanza, mlkemKeygen, WRAPPED_KEY_BYTES } from '../../src/crypto/index.js';
import type { Key } from '../../src/id/index.js';
import { DhtError, SeededRandom } from '../../src/util/index.js';
import {
  buildZkValue, decodeZkOwner, encodeZkOwner, FIELD_MODULUS, Groth16Prover, Groth16Verifier, maxZkPayload, openZkData, openZkValue,
  ownerCommitment, randomZkOwner, sealZkData, verifyZkValue, type ZkCheck, type ZkDhtValue, zkDataKey, zkKey, type ZkOwner, zkOwnerFromSeed,
  type ZkWorkers, zkWrapAd,
} from '../../src/zk/index.js';

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const random = new SeededRandom(909);
const key = zkKey(5n, text('k')) as Key;

describe('payload encryption', () => {
  const owner = randomZkOwner(random);

  it('derives one data key per owner, key and nonce', () => {
    const k = zkDataKey(owner, key, 1n);
    expect(k.byteLength).toBe(32);
    expect(zkDataKey(owner, key, 1n)).toEqual(k);
    expect(zkDataKey(owner, key, 2n)).not.toEqual(k);
    expect(zkDataKey(owner, zkKey(6n, text('k')), 1n)).not.toEqual(k);
    expect(zkDataKey(randomZkOwner(random), key, 1n)).not.toEqual(k);
    expect(() => zkDataKey(owner, key, 1n << 64n)).toThrow(RangeError);
  });

  it('opens only under the same data key, DHT key, nonce and access level, and never with a flipped byte', () => {
    const dataKey = zkDataKey(owner, key, 3n);
    const envelope = sealZkData(dataKey, random.bytes(12), text('secret payload'), key, 3n, 'private');
    expect(envelope.byteLength).toBe(12 + 14 + 16);
    expect(openZkData(dataKey, envelope, key, 3n, 'private')).toEqual(text('secret payload'));
    expect(openZkData(zkDataKey(owner, key, 4n), envelope, key, 3n, 'private')).toBeNull();
    expect(openZkData(dataKey, envelope, zkKey(6n, text('k')), 3n, 'private')).toBeNull();
    expect(openZkData(dataKey, envelope, key, 4n, 'private')).toBeNull();
    expect(openZkData(dataKey, envelope, key, 3n, 'restricted')).toBeNull();
    for (const at of [0, 12, envelope.byteLength - 1]) {
      const bad = envelope.slice();
      bad[at] = bad[at]! ^ 1;
      expect(openZkData(dataKey, bad, key, 3n, 'private'), `byte ${at}`).toBeNull();
    }
    expect(openZkData(dataKey, envelope.subarray(0, 20), key, 3n, 'private')).toBeNull();
  });

  it('writes an owner as 128 hex digits and reads back only two field elements', () => {
    const text128 = encodeZkOwner(owner);
    expect(text128).toMatch(/^[0-9a-f]{128}$/);
    expect(decodeZkOwner(`  ${text128}\n`)).toEqual(owner);
    expect(decodeZkOwner(text128.slice(1))).toBeNull();
    expect(decodeZkOwner(`${'ff'.repeat(32)}${text128.slice(64)}`)).toBeNull(); // secret ≥ r
    expect(decodeZkOwner('zz'.repeat(64))).toBeNull();
    const seeded = zkOwnerFromSeed(new Uint8Array(32).fill(7));
    expect(zkOwnerFromSeed(new Uint8Array(32).fill(7))).toEqual(seeded);
    expect(zkOwnerFromSeed(new Uint8Array(32).fill(8))).not.toEqual(seeded);
    expect(seeded.secret).toBeLessThan(FIELD_MODULUS);
    expect(() => zkOwnerFromSeed(new Uint8Array(31))).toThrow(RangeError);
  });
});

describe('ML-KEM-768 key wrapping', () => {
  const alice = mlkemKeygen(random.bytes(64));
  const bob = mlkemKeygen(random.bytes(64));
  const carol = mlkemKeygen(random.bytes(64));
  const dataKey = random.bytes(32);
  const ad = zkWrapAd(key, 9n);

  it('unwraps for each reader and for nobody else; stanzas name no reader', () => {
    const stanzas = kemWrap([alice.publicKey, bob.publicKey], dataKey, ad, [random.bytes(32), random.bytes(32)]);
    expect(stanzas.map((s) => s.wrappedKey.byteLength)).toEqual([WRAPPED_KEY_BYTES, WRAPPED_KEY_BYTES]);
    expect(kemUnwrap(stanzas, alice.secretKey, ad)).toEqual(dataKey);
    expect(kemUnwrap(stanzas, bob.secretKey, ad)).toEqual(dataKey);
    expect(kemUnwrap(stanzas, carol.secretKey, ad)).toBeNull();
    // Bound to the key and nonce: a stanza moved to another version opens nothing.
    expect(kemUnwrap(stanzas, alice.secretKey, zkWrapAd(key, 10n))).toBeNull();
    const broken: KemStanza[] = [{ kemCiphertext: stanzas[0]!.kemCiphertext.subarray(1), wrappedKey: stanzas[0]!.wrappedKey }];
    expect(kemUnwrap(broken, alice.secretKey, ad)).toBeNull();
  });

  it('is reproducible from seeds and refuses bad keys and seeds by name', () => {
    const seeds = [new Uint8Array(32).fill(1)];
    expect(kemWrap([alice.publicKey], dataKey, ad, seeds)).toEqual(kemWrap([alice.publicKey], dataKey, ad, seeds));
    expect(() => kemWrap([alice.publicKey.subarray(1)], dataKey, ad)).toThrow('public key 0 must be 1184 bytes');
    expect(() => kemWrap([alice.publicKey], dataKey, ad, [new Uint8Array(31)])).toThrow('seed 0 must be 32 bytes');
    expect(() => kemWrap([alice.publicKey], dataKey.subarray(1), ad)).toThrow(RangeError);
    expect(() => kemUnwrap([], alice.publicKey, ad)).toThrow(RangeError);
  });
});

describe('building, checking and opening values', () => {
  let verifier: Groth16Verifier;
  const prover = new Groth16Prover();
  const workers: ZkWorkers = {
    wrap: async (pks, k, ad, seeds) => kemWrap(pks, k, ad, seeds),
    prove: (signals) => prover.prove('storage_access', signals),
  };
  const check: ZkCheck = async (signals, proof) => verifier.check(signals, proof);
  const owner: ZkOwner = randomZkOwner(random);
  const reader = mlkemKeygen(random.bytes(64));
  const stranger = mlkemKeygen(random.bytes(64));
  const unwrapWith = (secretKey: Uint8Array) => ({ unwrap: async (s: readonly KemStanza[], ad: Uint8Array) => kemUnwrap(s, secretKey, ad) });
  const built = new Map<string, { key: Key; value: ZkDhtValue }>();

  beforeAll(async () => {
    verifier = await Groth16Verifier.forCircuit('storage_access');
    for (const access of ['public', 'private', 'restricted'] as const) {
      built.set(access, await buildZkValue(workers, random, {
        owner, name: text(access), nonce: 41n, accessLevel: access, data: text(`${access} payload`), readers: access === 'restricted' ? [reader.publicKey] : [],
      }));
    }
  }, 60_000);

  it('builds values keyed by the owner\'s commitment whose proofs a storage node accepts', async () => {
    for (const [access, { key: k, value }] of built) {
      expect(k, access).toEqual(zkKey(ownerCommitment(owner), text(access)));
      expect(value.commitment).toBe(ownerCommitment(owner));
      expect(await verifyZkValue(check, k, value), access).toBe('valid');
    }
    expect(built.get('public')!.value.encryptedData).toEqual(text('public payload'));
    expect(Buffer.from(built.get('private')!.value.encryptedData).includes(Buffer.from('private payload'))).toBe(false);
  });

  it('refuses every tampering with the refusal a holder answers', async () => {
    const { key: k, value } = built.get('restricted')!;
    const other = built.get('private')!;
    const flip = (b: Uint8Array, at = 0): Uint8Array => { const c = b.slice(); c[at] = c[at]! ^ 1; return c; };
    const intruder = randomZkOwner(random);
    const cases: Array<[string, Key, ZkDhtValue, string]> = [
      ['proof moved to another key (same owner, other name)', other.key, { ...value, name: text('private') }, 'INVALID_PROOF'],
      ['proof moved to another ciphertext', k, { ...value, encryptedData: flip(value.encryptedData, 20) }, 'INVALID_PROOF'],
      ['readers swapped', k, { ...value, wrappedKeys: other.value.wrappedKeys.length > 0 ? other.value.wrappedKeys : [{ ...value.wrappedKeys[0]!, wrappedKey: flip(value.wrappedKeys[0]!.wrappedKey) }] }, 'INVALID_PROOF'],
      ['access level relabelled', k, { ...value, accessLevel: 'private', wrappedKeys: [] }, 'INVALID_PROOF'],
      ['nonce raised', k, { ...value, nonce: 42n }, 'INVALID_PROOF'],
      ['another commitment under this key', k, { ...value, commitment: ownerCommitment(intruder) }, 'COMMITMENT_MISMATCH'],
      ['proof of another value', k, { ...value, validityProof: other.value.validityProof }, 'INVALID_PROOF'],
      ['random proof bytes', k, { ...value, validityProof: random.bytes(256) }, 'INVALID_PROOF'],
    ];
    for (const [name, at, v, expected] of cases) expect(await verifyZkValue(check, at, v), name).toBe(expected);
    // An intruder's own valid proof under the victim's key: the key is not derived from its commitment.
    const squat = await buildZkValue(workers, random, { owner: intruder, name: text('restricted'), nonce: 99n, accessLevel: 'public', data: text('mine now') });
    expect(await verifyZkValue(check, k, squat.value)).toBe('COMMITMENT_MISMATCH');
    // …and with the victim's commitment written in, the intruder's proof does not verify.
    expect(await verifyZkValue(check, k, { ...squat.value, commitment: value.commitment, name: value.name })).toBe('INVALID_PROOF');
  }, 60_000);

  it('opens public values for anyone, private ones for the owner, restricted ones for the owner and the readers', async () => {
    const pub = built.get('public')!;
    const priv = built.get('private')!;
    const res = built.get('restricted')!;
    expect(await openZkValue(pub.key, pub.value)).toEqual(text('public payload'));
    expect(await openZkValue(priv.key, priv.value, { owner })).toEqual(text('private payload'));
    expect(await openZkValue(res.key, res.value, { owner })).toEqual(text('restricted payload'));
    expect(await openZkValue(res.key, res.value, unwrapWith(reader.secretKey))).toEqual(text('restricted payload'));
    const denied = async (p: Promise<unknown>): Promise<string> => p.then(() => 'opened', (e: unknown) => (e instanceof DhtError ? `${e.code}: ${e.message}` : String(e)));
    expect(await denied(openZkValue(priv.key, priv.value, { owner: randomZkOwner(random) }))).toMatch(/^ACCESS_DENIED: a private value opens only with its owner's secrets/);
    expect(await denied(openZkValue(priv.key, priv.value, unwrapWith(reader.secretKey)))).toMatch(/^ACCESS_DENIED/);
    expect(await denied(openZkValue(res.key, res.value, unwrapWith(stranger.secretKey)))).toMatch(/^ACCESS_DENIED: this reader's ML-KEM-768 key is not among the 1 reader/);
    expect(await denied(openZkValue(res.key, res.value))).toMatch(/^ACCESS_DENIED/);
  });

  it('checks its input before any proof', async () => {
    const input = { owner, nonce: 1n, data: text('x') };
    const failure = (p: Promise<unknown>): Promise<string> => p.then(() => 'built', (e: unknown) => (e instanceof DhtError ? e.code : (e as Error).name));
    expect(await failure(buildZkValue(workers, random, { ...input, accessLevel: 'restricted' }))).toBe('RangeError');
    expect(await failure(buildZkValue(workers, random, { ...input, accessLevel: 'public', readers: [reader.publicKey] }))).toBe('RangeError');
    expect(await failure(buildZkValue(workers, random, { ...input, accessLevel: 'private', name: new Uint8Array(65) }))).toBe('RangeError');
    expect(await failure(buildZkValue(workers, random, { ...input, accessLevel: 'private', nonce: 1n << 64n }))).toBe('RangeError');
    expect(await failure(buildZkValue(workers, random, { ...input, accessLevel: 'private', data: new Uint8Array(maxZkPayload('private') + 1) }))).toBe('VALUE_TOO_BIG');
    expect(maxZkPayload('public') - maxZkPayload('private')).toBe(28);
  });
});
