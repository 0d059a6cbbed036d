pragma circom 2.1.6;

// storage_access: the writer of a ZkDhtValue knows the secret behind the value's access
// commitment, and this proof is for one write only: the DHT key, the write's nonce and the hash of
// the ciphertext are public inputs, so a copied proof cannot carry another key, nonce or value.
include "circomlib/circuits/poseidon.circom";

template StorageAccess() {
    signal input commitment; // public: Poseidon(secret, salt), recorded by the storage node
    signal input keyField;   // public: keyField(dhtKey), see src/zk/field.ts
    signal input nonce;      // public: the write's nonce, below 2^64
    signal input valueHash;  // public: valueField(ciphertext)
    signal input secret;     // private
    signal input salt;       // private

    component h = Poseidon(2);
    h.inputs[0] <== secret;
    h.inputs[1] <== salt;
    commitment === h.out;

    // keyField, nonce and valueHash appear in no other constraint. snarkjs's setup already binds
    // every public input, but a quadratic constraint on each makes the binding explicit and keeps
    // it if the circuit is ever set up by another tool (1 constraint each; O2 keeps them).
    signal keySq;
    signal nonceSq;
    signal valueSq;
    keySq <== keyField * keyField;
    nonceSq <== nonce * nonce;
    valueSq <== valueHash * valueHash;
}

component main {public [commitment, keyField, nonce, valueHash]} = StorageAccess();
