/**
 * The BN254 curve that every proof and verification on this thread uses: single-threaded, so
 * neither snarkjs nor ffjavascript ever starts a worker (they would keep the process alive and, in
 * a pool, nest threads inside threads). snarkjs looks for a curve in `globalThis.curve_bn128` and
 * builds a multi-threaded one when it finds none; we put ours there before each snarkjs call.
 */
import './worker-safe.js';
import { type Bn128Curve, buildBn128 } from 'ffjavascript';

declare global {
  // snarkjs's and ffjavascript's per-thread curve cache.
  var curve_bn128: Bn128Curve | null | undefined;
}

/**
 * One curve per thread. This is a per-thread resource that snarkjs already keeps in a global, not
 * a singleton of ours: we only make sure the global holds the single-threaded curve. (A second
 * copy of ffjavascript, loaded with snarkjs's r1csfile dependency, resets the global to null when
 * it is first imported; `singleThreadCurve()` puts ours back every time.)
 */
let curve: Promise<Bn128Curve> | undefined;

/** The thread's single-threaded BN254 curve, installed as snarkjs's curve. */
export async function singleThreadCurve(): Promise<Bn128Curve> {
  curve ??= buildBn128(true);
  const c = await curve;
  // Call this before every snarkjs call: were the global null, snarkjs would build a
  // multi-threaded curve whose workers keep the thread alive.
  globalThis.curve_bn128 = c;
  return c;
}
