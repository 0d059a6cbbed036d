pragma circom 2.1.6;

// data_integrity: a ciphertext (through its hash valueHash, computed by whoever holds the bytes)
// is the one its owner committed to with commitment = Poseidon(valueHash, salt). The salt stays
// private, so the commitment reveals nothing about the value to someone without the bytes, and a
// reader holding only the commitment can check a copy served by any holder.
include "circomlib/circuits/poseidon.circom";

template DataIntegrity() {
    signal input commitment; // public: Poseidon(valueHash, salt), published by the owner
    signal input valueHash;  // public: valueField(ciphertext), computed by the verifier
    signal input salt;       // private

    component h = Poseidon(2);
    h.inputs[0] <== valueHash;
    h.inputs[1] <== salt;
    commitment === h.out;
}

component main {public [commitment, valueHash]} = DataIntegrity();
