pragma circom 2.1.6;

// identity: the prover's identity commitment Poseidon(identitySecret) is a leaf of the Poseidon
// Merkle tree (depth 16) whose root is public, without revealing which leaf. Like storage_access,
// the proof is bound to one write: the DHT key, the nonce and the ciphertext hash are public.
include "circomlib/circuits/poseidon.circom";

template Identity(DEPTH) {
    signal input root;      // public: the group's Merkle root
    signal input keyField;  // public
    signal input nonce;     // public
    signal input valueHash; // public
    signal input identitySecret;       // private
    signal input pathElements[DEPTH];  // private: sibling at each level, leaf level first
    signal input pathIndices[DEPTH];   // private: 1 when the running node is the right child

    component leaf = Poseidon(1);
    leaf.inputs[0] <== identitySecret;

    signal node[DEPTH + 1];
    signal left[DEPTH];
    signal right[DEPTH];
    component level[DEPTH];
    node[0] <== leaf.out;
    for (var i = 0; i < DEPTH; i++) {
        pathIndices[i] * (pathIndices[i] - 1) === 0;
        // left = index ? sibling : node;  right = node + sibling - left
        left[i] <== node[i] + pathIndices[i] * (pathElements[i] - node[i]);
        right[i] <== node[i] + pathElements[i] - left[i];
        level[i] = Poseidon(2);
        level[i].inputs[0] <== left[i];
        level[i].inputs[1] <== right[i];
        node[i + 1] <== level[i].out;
    }
    root === node[DEPTH];

    // keyField, nonce and valueHash appear in no other constraint: bind them explicitly, as
    // storage_access does.
    signal keySq;
    signal nonceSq;
    signal valueSq;
    keySq <== keyField * keyField;
    nonceSq <== nonce * nonce;
    valueSq <== valueHash * valueHash;
}

component main {public [root, keyField, nonce, valueHash]} = Identity(16);
