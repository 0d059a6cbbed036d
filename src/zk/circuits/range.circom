pragma circom 2.1.6;

// range: the value v behind commitment = Poseidon(v, salt) lies in [min, max]. v, min and max are
// constrained to 64 bits, which is what makes circomlib's comparators sound: LessThan(n) is only
// correct for inputs below 2^n.
include "circomlib/circuits/poseidon.circom";
include "circomlib/circuits/bitify.circom";
include "circomlib/circuits/comparators.circom";

template Range(BITS) {
    signal input commitment; // public: Poseidon(value, salt)
    signal input min;        // public, below 2^BITS
    signal input max;        // public, below 2^BITS
    signal input value;      // private, below 2^BITS
    signal input salt;       // private

    component h = Poseidon(2);
    h.inputs[0] <== value;
    h.inputs[1] <== salt;
    commitment === h.out;

    component valueBits = Num2Bits(BITS);
    valueBits.in <== value;
    component minBits = Num2Bits(BITS);
    minBits.in <== min;
    component maxBits = Num2Bits(BITS);
    maxBits.in <== max;

    component low = GreaterEqThan(BITS);
    low.in[0] <== value;
    low.in[1] <== min;
    low.out === 1;

    component high = LessEqThan(BITS);
    high.in[0] <== value;
    high.in[1] <== max;
    high.out === 1;
}

component main {public [commitment, min, max]} = Range(64);
