/**
 * The part of the WebAssembly JS API the contract runtime uses. Node 20 has all of it, but
 * @types/node does not declare it and this project compiles without the DOM library.
 */
declare namespace WebAssembly {
  type ImportValue = ((...args: never[]) => unknown) | Memory | Global | number | bigint;
  type Imports = Record<string, Record<string, ImportValue>>;
  type ExportValue = ((...args: unknown[]) => unknown) | Memory | Global;

  class Module {
    constructor(bytes: Uint8Array);
    static imports(module: Module): Array<{ module: string; name: string; kind: string }>;
    static exports(module: Module): Array<{ name: string; kind: string }>;
  }
  class Instance {
    constructor(module: Module, imports?: Imports);
    readonly exports: Record<string, ExportValue>;
  }
  class Memory {
    constructor(descriptor: { initial: number; maximum?: number; shared?: boolean });
    readonly buffer: ArrayBuffer;
    grow(delta: number): number;
  }
  class Global {
    constructor(descriptor: { value: 'i32' | 'i64'; mutable?: boolean }, value?: number | bigint);
    value: number | bigint;
  }
  class CompileError extends Error {}
  class LinkError extends Error {}
  class RuntimeError extends Error {}
  function validate(bytes: Uint8Array): boolean;
}
