/**
 * The order in which `closest()` visits buckets. With buckets indexed by common-prefix length
 * with `self`, every contact of one bucket is strictly closer to any target than every contact
 * of the next bucket in this order, so a lookup sorts only the buckets it needs (Kademlia §2.3).
 */
import { type Id, commonPrefixLength } from '../id/index.js';

/** Bit `i` (0 = most significant) of `a XOR b`. */
function xorBit(a: Id, b: Id, i: number): number {
  return (((a[i >> 3]! ^ b[i >> 3]!) >> (7 - (i & 7))) & 1);
}

/**
 * Bucket indices below `count`, nearest to `target` first. Let b = prefix(self, target):
 * 1. bucket b: its ids share more than b bits with the target;
 * 2. buckets deeper than b share exactly b bits with the target; among them bucket i is nearer
 *    than all deeper ones when bit i of self XOR target is 1, and farther when it is 0. So the
 *    1-buckets come in increasing i, then the 0-buckets in decreasing i;
 * 3. bucket i < b shares exactly i bits with the target: b-1, b-2, ..., 0.
 */
export function* bucketVisitOrder(self: Id, target: Id, count: number): Generator<number, void, undefined> {
  const b = commonPrefixLength(self, target);
  if (b < count) yield b;
  const farther: number[] = [];
  for (let i = b + 1; i < count; i++) {
    if (xorBit(self, target, i) === 1) yield i;
    else farther.push(i);
  }
  for (let j = farther.length - 1; j >= 0; j--) yield farther[j]!;
  for (let i = Math.min(b, count) - 1; i >= 0; i--) yield i;
}
