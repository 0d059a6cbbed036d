/**
 * Deploy-time checks of an original contract module (ABI v1, docs/contracts.md): size, spec
 * validity (V8), allowed features (binaryen read with only those enabled), imports only from the
 * ABI list, a capped memory exported as `memory`, methods `() -> ()`, no passive data, no float,
 * and only the instructions the meter handles. Runs in the meter worker; a refusal is an
 * InvalidContractError naming the fault.
 */
import { allowedFeatures, type BinaryenApi, type BinaryenModule, captureOutput, type Ref, type Type } from './binaryen.js';
import { InvalidContractError } from './errors.js';
import {
  ABI_MODULE, ABI_V1_IMPORTS, MAX_CODE_BYTES, MAX_FUNCTIONS, MAX_GLOBALS, MAX_LOCALS, MAX_MEMORY_PAGES, MAX_METHODS, METHOD_NAME,
} from './limits.js';
import type { IrShapes } from './walk.js';

/** Nesting depth of expressions at most, so every walk (ours and binaryen's) stays shallow. */
export const MAX_NESTING = 512;

/** What validation learnt about a module, for the meter and the runtime. */
export interface ModuleFacts {
  /** Exported methods, in export order. */
  methods: string[];
  /** Binaryen's internal name of the memory. */
  memoryName: string;
  /** Pages at instantiation and the cap the module declares (at most MAX_MEMORY_PAGES). */
  memory: { initial: number; maximum: number };
}

/**
 * Reads `bytes` with binaryen, allowing only the contract features, and checks every rule.
 * Returns the module (the caller disposes of it) and its facts; throws InvalidContractError.
 */
export function readContract(b: BinaryenApi, shapes: IrShapes, bytes: Uint8Array): { module: BinaryenModule; facts: ModuleFacts } {
  if (bytes.byteLength > MAX_CODE_BYTES) throw new InvalidContractError('too_big', `${bytes.byteLength} bytes, over ${MAX_CODE_BYTES}`);
  if (!WebAssembly.validate(bytes)) throw new InvalidContractError('malformed', 'not a valid WebAssembly module');
  let module: BinaryenModule;
  try {
    module = captureOutput(() => b.readBinary(bytes, allowedFeatures(b))).result;
  } catch (err) {
    throw new InvalidContractError('malformed', 'binaryen could not read the module', { cause: err });
  }
  try {
    checkFeatures(b, module);
    const facts = checkStructure(b, module);
    checkBodies(b, shapes, module);
    return { module, facts };
  } catch (err) {
    module.dispose();
    throw err;
  }
}

/**
 * binaryen's validator with only the contract features enabled; when it fails, a second run with
 * every feature tells a feature beyond the allowed set from a module binaryen finds invalid anyway.
 * The validator prints its findings (captured for the message) instead of returning them.
 */
function checkFeatures(b: BinaryenApi, module: BinaryenModule): void {
  const { result: valid, output } = captureOutput(() => module.validate());
  if (valid) return;
  module.setFeatures(b.Features.All);
  const validWithAll = captureOutput(() => module.validate()).result;
  const first = output.split('\n').find((l) => l.trim() !== '') ?? 'binaryen validation failed';
  if (validWithAll) throw new InvalidContractError('features', `uses a feature beyond MVP + mutable-globals + sign-ext + nontrapping-f2i + bulk-memory: ${first.slice(0, 160)}`);
  throw new InvalidContractError('malformed', first.slice(0, 200));
}

function checkStructure(b: BinaryenApi, m: BinaryenModule): ModuleFacts {
  checkImports(b, m);
  const memoryName = checkMemory(b, m);
  const methods = checkExports(b, m);
  const info = m.getMemoryInfo(memoryName);
  for (let i = 0; i < m.getNumDataSegments(); i++) {
    const segment = m.getDataSegmentInfo(m.getDataSegmentByIndex(i));
    if (segment.passive) throw new InvalidContractError('data_segment', 'passive data segments are not allowed');
    // Out of bounds, instantiation would fail on every call: refuse the module now instead.
    if ((segment.offset >>> 0) + segment.data.byteLength > info.initial * 65536) throw new InvalidContractError('data_segment', 'a data segment lies outside the initial memory');
  }
  return { methods, memoryName, memory: { initial: info.initial, maximum: Math.min(info.max ?? MAX_MEMORY_PAGES, MAX_MEMORY_PAGES) } };
}

function checkImports(b: BinaryenApi, m: BinaryenModule): void {
  if (m.getNumFunctions() > MAX_FUNCTIONS) throw new InvalidContractError('too_big', `over ${MAX_FUNCTIONS} functions`);
  for (let i = 0; i < m.getNumFunctions(); i++) {
    const f = b.getFunctionInfo(m.getFunctionByIndex(i));
    if (hasFloat(b, f.params) || hasFloat(b, f.results) || f.vars.some((v) => v === b.f32 || v === b.f64)) {
      throw new InvalidContractError('float', `function ${f.name} has a floating-point type`);
    }
    if (b.expandType(f.params).length + f.vars.length > MAX_LOCALS) throw new InvalidContractError('too_big', `function ${f.name} has over ${MAX_LOCALS} locals`);
    if (f.module === '') continue;
    const abi = f.module === ABI_MODULE ? ABI_V1_IMPORTS[f.base] : undefined;
    if (abi === undefined || !Object.hasOwn(ABI_V1_IMPORTS, f.base)) throw new InvalidContractError('import', `${f.module}.${f.base} is not an ABI v1 import`);
    if (!sameTypes(b, f.params, abi.params.length) || !sameTypes(b, f.results, abi.results.length)) {
      throw new InvalidContractError('import', `${f.module}.${f.base} has the wrong signature`);
    }
  }
  let mutable = 0;
  for (let i = 0; i < m.getNumGlobals(); i++) {
    const g = b.getGlobalInfo(m.getGlobalByIndex(i));
    if (g.module !== '') throw new InvalidContractError('import', `global ${g.module}.${g.base} may not be imported`);
    if (g.type === b.f32 || g.type === b.f64) throw new InvalidContractError('float', `global ${g.name} is floating-point`);
    if (g.mutable && ++mutable > MAX_GLOBALS) throw new InvalidContractError('too_big', `over ${MAX_GLOBALS} mutable globals`);
  }
  for (let i = 0; i < m.getNumTables(); i++) {
    const t = b.getTableInfo(m.getTableByIndex(i));
    if (t.module !== '') throw new InvalidContractError('import', `table ${t.module}.${t.base} may not be imported`);
  }
}

/** True when `type` is exactly `count` i32s (ABI v1 signatures are all i32). */
function sameTypes(b: BinaryenApi, type: Type, count: number): boolean {
  const types = b.expandType(type);
  return types.length === count && types.every((t) => t === b.i32);
}

function hasFloat(b: BinaryenApi, type: Type): boolean {
  return b.expandType(type).some((t) => t === b.f32 || t === b.f64);
}

function checkMemory(b: BinaryenApi, m: BinaryenModule): string {
  if (!m.hasMemory()) throw new InvalidContractError('memory', 'the module has no memory');
  const exp = findExport(b, m, 'memory', b.ExternalMemory);
  if (exp === null) throw new InvalidContractError('export', 'the memory must be exported as "memory"');
  const info = m.getMemoryInfo(exp);
  if (info.module !== '') throw new InvalidContractError('import', 'the memory may not be imported');
  if (info.shared || info.is64) throw new InvalidContractError('memory', 'shared and 64-bit memories are not allowed');
  if (info.initial > MAX_MEMORY_PAGES) throw new InvalidContractError('memory', `${info.initial} initial pages, over ${MAX_MEMORY_PAGES}`);
  return exp;
}

/** The internal name behind the export `name`, or null. */
function findExport(b: BinaryenApi, m: BinaryenModule, name: string, kind: number): string | null {
  for (let i = 0; i < m.getNumExports(); i++) {
    const e = b.getExportInfo(m.getExportByIndex(i));
    if (e.name === name && e.kind === kind) return e.value;
  }
  return null;
}

function checkExports(b: BinaryenApi, m: BinaryenModule): string[] {
  const methods: string[] = [];
  for (let i = 0; i < m.getNumExports(); i++) {
    const e = b.getExportInfo(m.getExportByIndex(i));
    if (e.name === 'memory' && e.kind === b.ExternalMemory) continue;
    if (e.kind !== b.ExternalFunction) throw new InvalidContractError('export', `export "${e.name}" is not a function`);
    if (!METHOD_NAME.test(e.name)) throw new InvalidContractError('export', `export name "${e.name.slice(0, 80)}" is not a method name`);
    const f = b.getFunctionInfo(m.getFunction(e.value));
    if (b.expandType(f.params).length !== 0 || b.expandType(f.results).length !== 0) {
      throw new InvalidContractError('export', `method ${e.name} must take and return nothing`);
    }
    methods.push(e.name);
  }
  if (methods.length > MAX_METHODS) throw new InvalidContractError('too_big', `over ${MAX_METHODS} methods`);
  return methods;
}

/** Every expression: allowed class, no float type, nesting at most MAX_NESTING (iterative walk). */
function checkBodies(b: BinaryenApi, shapes: IrShapes, m: BinaryenModule): void {
  for (let i = 0; i < m.getNumFunctions(); i++) {
    const f = b.getFunctionInfo(m.getFunctionByIndex(i));
    if (f.module !== '' || f.body === 0) continue;
    const stack: Array<[Ref, number]> = [[f.body, 1]];
    for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
      const [expr, depth] = next;
      if (depth > MAX_NESTING) throw new InvalidContractError('too_big', `function ${f.name} nests expressions over ${MAX_NESTING} deep`);
      const type = b.getExpressionType(expr);
      if (type === b.f32 || type === b.f64) throw new InvalidContractError('float', `function ${f.name} uses floating point`);
      for (const slot of shapes.slots(expr)) stack.push([slot.get(), depth + 1]);
    }
  }
}
