/**
 * The part of ffjavascript 0.3.1 (no published types) that src/zk uses: the BN254 curve built in
 * WebAssembly, whose points and field elements are byte buffers in the curve's internal form.
 */
declare module 'ffjavascript' {
  /** A point (affine: 2 coordinates, Jacobian: 3) or a field element, in the curve's own form. */
  export type CurveElement = Uint8Array;

  /** G1 or G2 of BN254; `C` is the coordinate of `fromObject` (bigint in G1, [c0, c1] in G2). */
  export interface CurveGroup<C> {
    readonly zero: CurveElement;
    readonly g: CurveElement;
    fromObject(point: readonly C[]): CurveElement;
    toObject(point: CurveElement): C[];
    toRprUncompressed(out: Uint8Array, offset: number, point: CurveElement): void;
    isValid(point: CurveElement): boolean;
    isZero(point: CurveElement): boolean;
    eq(a: CurveElement, b: CurveElement): boolean;
    add(a: CurveElement, b: CurveElement): CurveElement;
    neg(point: CurveElement): CurveElement;
    /** `scalar` as little-endian bytes (or a bigint, converted by ffjavascript). */
    timesScalar(point: CurveElement, scalar: Uint8Array | bigint): CurveElement;
    toAffine(point: CurveElement): CurveElement;
    toJacobian(point: CurveElement): CurveElement;
  }

  /** The target group of the pairing (F_q^12). */
  export interface TargetGroup {
    mul(a: CurveElement, b: CurveElement): CurveElement;
    inv(a: CurveElement): CurveElement;
    eq(a: CurveElement, b: CurveElement): boolean;
  }

  /** A BN254 curve instance (its own wasm memory; with workers unless built single-threaded). */
  export interface Bn128Curve {
    readonly name: string;
    readonly q: bigint;
    readonly r: bigint;
    readonly G1: CurveGroup<bigint>;
    readonly G2: CurveGroup<readonly bigint[]>;
    readonly Gt: TargetGroup;
    pairing(p: CurveElement, q: CurveElement): CurveElement;
    prepareG1(p: CurveElement): CurveElement;
    prepareG2(q: CurveElement): CurveElement;
    millerLoop(preP: CurveElement, preQ: CurveElement): CurveElement;
    finalExponentiation(f: CurveElement): CurveElement;
    /** Ends the curve's worker threads; does nothing on a single-threaded curve. */
    terminate(): Promise<void>;
  }

  /** Builds BN254; `singleThread` true means no worker threads, ever. */
  export function buildBn128(singleThread?: boolean): Promise<Bn128Curve>;
}
