/**
 * The slice of the binaryen.js 132.0.0 API that validation and metering use, typed here because
 * the package's index.d.ts does not match its JavaScript (readBinary takes features, data
 * segments are read with getDataSegmentInfo, the expression classes are missing). Only the
 * worker loads binaryen itself (`await import('binaryen')`): it is 14 MB of JavaScript, takes
 * 0.3-0.8 s to load, and an internal assertion aborts its runtime, so it never runs on the
 * coordinator.
 */

/** A pointer into binaryen's heap: expressions, functions, globals, exports, segments. */
export type Ref = number;
/** A binaryen value type. */
export type Type = number;

/** Getters and setters of one expression class (Block, If, Call, ...), all static. */
type Accessors = Record<string, (expr: Ref, ...args: never[]) => unknown>;

/** A module being read, validated, metered and emitted. */
export interface BinaryenModule {
  getFeatures(): number;
  setFeatures(features: number): void;
  validate(): number;
  emitBinary(): Uint8Array;
  dispose(): void;
  hasMemory(): boolean;
  getMemoryInfo(name?: string): { module: string; base: string; initial: number; max?: number; shared: boolean; is64: boolean };
  setMemory(initial: number, maximum: number, exportName: string | null, segments: Array<{ name: string; offset: Ref; data: Uint8Array; passive: boolean }>, shared: boolean, memory64: boolean, internalName: string): void;
  addMemoryImport(internalName: string, moduleName: string, baseName: string, shared: boolean): void;
  getNumDataSegments(): number;
  getDataSegmentByIndex(index: number): Ref;
  getDataSegmentInfo(segment: Ref): { name: string; offset: number; data: ArrayBuffer; passive: boolean };
  getNumFunctions(): number;
  getFunctionByIndex(index: number): Ref;
  getFunction(name: string): Ref;
  addFunction(name: string, params: Type, results: Type, vars: Type[], body: Ref): Ref;
  getNumGlobals(): number;
  getGlobalByIndex(index: number): Ref;
  getGlobal(name: string): Ref;
  addGlobal(name: string, type: Type, mutable: boolean, init: Ref): Ref;
  addGlobalImport(internalName: string, moduleName: string, baseName: string, type: Type, mutable: boolean): void;
  getNumExports(): number;
  getExportByIndex(index: number): Ref;
  addFunctionExport(internalName: string, externalName: string): Ref;
  addGlobalExport(internalName: string, externalName: string): Ref;
  getNumTables(): number;
  getTableByIndex(index: number): Ref;
  getStart(): Ref;
  setStart(func: Ref): void;
  copyExpression(expr: Ref): Ref;
  block(label: string | null, children: Ref[], type?: Type): Ref;
  if(condition: Ref, ifTrue: Ref, ifFalse?: Ref): Ref;
  br(label: string, condition?: Ref, value?: Ref): Ref;
  call(name: string, operands: Ref[], type: Type): Ref;
  return(value?: Ref): Ref;
  unreachable(): Ref;
  nop(): Ref;
  local: { get(index: number, type: Type): Ref };
  global: { get(name: string, type: Type): Ref; set(name: string, value: Ref): Ref };
  memory: {
    size(name: string): Ref; grow(delta: Ref, name: string): Ref;
    fill(dest: Ref, value: Ref, size: Ref, name: string): Ref; copy(dest: Ref, source: Ref, size: Ref, destName: string, sourceName: string): Ref;
  };
  i32: {
    const(v: number): Ref; add(a: Ref, b: Ref): Ref; sub(a: Ref, b: Ref): Ref; gt_u(a: Ref, b: Ref): Ref;
  };
  i64: {
    const(v: bigint): Ref; sub(a: Ref, b: Ref): Ref; mul(a: Ref, b: Ref): Ref; add(a: Ref, b: Ref): Ref;
    lt_s(a: Ref, b: Ref): Ref; shr_u(a: Ref, b: Ref): Ref; extend_u(v: Ref): Ref;
  };
}

/** The binaryen.js module object (`(await import('binaryen')).default`). */
export interface BinaryenApi {
  Module: new () => BinaryenModule;
  readBinary(bytes: Uint8Array, features: number): BinaryenModule;
  parseText(text: string): BinaryenModule;
  setDebugInfo(on: boolean): void;
  getExpressionId(expr: Ref): number;
  getExpressionType(expr: Ref): Type;
  expandType(type: Type): Type[];
  createType(types: Type[]): Type;
  getFunctionInfo(func: Ref): { name: string; module: string; base: string; params: Type; results: Type; vars: Type[]; body: Ref };
  getGlobalInfo(global: Ref): { name: string; module: string; base: string; type: Type; mutable: boolean; init: Ref };
  getExportInfo(exp: Ref): { kind: number; name: string; value: string };
  getTableInfo(table: Ref): { name: string; module: string; base: string };
  Function: { setBody(func: Ref, body: Ref): void };
  Block: Accessors; If: Accessors; Loop: Accessors; Break: Accessors; Switch: Accessors; Call: Accessors;
  CallIndirect: Accessors; LocalSet: Accessors; GlobalSet: Accessors; Load: Accessors; Store: Accessors;
  Unary: Accessors; Binary: Accessors; Select: Accessors; Drop: Accessors; Return: Accessors;
  MemoryGrow: Accessors; MemoryFill: Accessors; MemoryCopy: Accessors;
  Features: Record<'MutableGlobals' | 'SignExt' | 'NontrappingFPToInt' | 'BulkMemory' | 'BulkMemoryOpt' | 'All', number>;
  ExternalFunction: number; ExternalTable: number; ExternalMemory: number; ExternalGlobal: number;
  none: Type; unreachable: Type; auto: Type; i32: Type; i64: Type; f32: Type; f64: Type;
}

/** The features a contract may use: MVP plus these. Anything else fails validation. */
export function allowedFeatures(b: BinaryenApi): number {
  const f = b.Features;
  return f.MutableGlobals | f.SignExt | f.NontrappingFPToInt | f.BulkMemory | f.BulkMemoryOpt;
}

/**
 * Runs `body` with process stdout/stderr writes captured, and returns its result and what it
 * wrote: binaryen's validator prints its findings instead of returning them.
 */
export function captureOutput<T>(body: () => T): { result: T; output: string } {
  const out = process.stdout.write;
  const err = process.stderr.write;
  let output = '';
  const sink = ((chunk: string | Uint8Array): boolean => {
    output += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    return true;
  }) as typeof process.stdout.write;
  process.stdout.write = sink;
  process.stderr.write = sink;
  try {
    return { result: body(), output };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
}
