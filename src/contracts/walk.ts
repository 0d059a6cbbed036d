/**
 * Child access for binaryen IR: for each expression class a contract may contain, its child
 * slots as getter/setter pairs, so a pass can walk a function and replace any node in place.
 * The table is also the whitelist of instructions: anything not in it (table ops, memory.init,
 * data.drop, atomics, SIMD, references, exceptions) makes the module invalid.
 */
import type { BinaryenApi, Ref } from './binaryen.js';
import { InvalidContractError } from './errors.js';

/** One child position of an expression. */
export interface Slot {
  get(): Ref;
  set(child: Ref): void;
}

type Accessor = (expr: Ref, ...args: never[]) => unknown;
type Getter = (e: Ref) => Ref;
type Setter = (e: Ref, c: Ref) => void;
/** Child slots of one expression: named single children and, optionally, an indexed list. */
interface Shape {
  fields: Array<[Getter, Setter]>;
  list?: { count: (e: Ref) => number; get: (e: Ref, i: number) => Ref; set: (e: Ref, i: number, c: Ref) => void };
}

/** The walker's view of binaryen: expression id → shape. Build once per binaryen instance. */
export class IrShapes {
  readonly #shapes = new Map<number, Shape>();
  readonly #names = new Map<number, string>();

  constructor(readonly b: BinaryenApi) {
    const leaf: Shape = { fields: [] };
    const f = (cls: Record<string, Accessor>, ...names: string[]): Shape => ({
      fields: names.map((n) => [cls[`get${n}`] as Getter, cls[`set${n}`] as Setter]),
    });
    const list = (cls: Record<string, Accessor>, what: string, plural: string, base: Shape = { fields: [] }): Shape => ({
      fields: base.fields,
      list: {
        count: cls[`getNum${plural}`] as (e: Ref) => number,
        get: cls[`get${what}At`] as (e: Ref, i: number) => Ref,
        set: cls[`set${what}At`] as (e: Ref, i: number, c: Ref) => void,
      },
    });
    const shapes: Array<[string, Shape]> = [
      ['Nop', leaf], ['Unreachable', leaf], ['Const', leaf], ['LocalGet', leaf], ['GlobalGet', leaf], ['MemorySize', leaf],
      ['Block', list(b.Block, 'Child', 'Children')],
      ['If', f(b.If, 'Condition', 'IfTrue', 'IfFalse')],
      ['Loop', f(b.Loop, 'Body')],
      ['Break', f(b.Break, 'Condition', 'Value')],
      ['Switch', f(b.Switch, 'Condition', 'Value')],
      ['Call', list(b.Call, 'Operand', 'Operands')],
      ['CallIndirect', list(b.CallIndirect, 'Operand', 'Operands', f(b.CallIndirect, 'Target'))],
      ['LocalSet', f(b.LocalSet, 'Value')],
      ['GlobalSet', f(b.GlobalSet, 'Value')],
      ['Load', f(b.Load, 'Ptr')],
      ['Store', f(b.Store, 'Ptr', 'Value')],
      ['Unary', f(b.Unary, 'Value')],
      ['Binary', f(b.Binary, 'Left', 'Right')],
      ['Select', f(b.Select, 'IfTrue', 'IfFalse', 'Condition')],
      ['Drop', f(b.Drop, 'Value')],
      ['Return', f(b.Return, 'Value')],
      ['MemoryGrow', f(b.MemoryGrow, 'Delta')],
      ['MemoryFill', f(b.MemoryFill, 'Dest', 'Value', 'Size')],
      ['MemoryCopy', f(b.MemoryCopy, 'Dest', 'Source', 'Size')],
    ];
    for (const [name, shape] of shapes) {
      const id = expressionId(b, name);
      if (typeof id !== 'number') throw new Error(`binaryen has no ${name}Id: not the pinned version?`);
      const accessors = [...shape.fields.flat(), ...Object.values(shape.list ?? {})];
      if (accessors.some((a) => typeof a !== 'function')) throw new Error(`binaryen ${name} lacks an accessor: not the pinned version?`);
      this.#shapes.set(id, shape);
      this.#names.set(id, name);
    }
  }

  /** The name of an expression's class ("Block", "Call", ...), or its numeric id. */
  name(expr: Ref): string {
    const id = this.b.getExpressionId(expr);
    return this.#names.get(id) ?? `expression id ${id}`;
  }

  /** True when `expr` is of class `name`. */
  is(expr: Ref, name: string): boolean {
    return this.b.getExpressionId(expr) === expressionId(this.b, name);
  }

  /** The present children of `expr` as slots, in a fixed order. Throws for a class not allowed. */
  slots(expr: Ref): Slot[] {
    const shape = this.#shapes.get(this.b.getExpressionId(expr));
    if (shape === undefined) throw new InvalidContractError('instruction', `${this.name(expr)} is not allowed in a contract`);
    const out: Slot[] = [];
    for (const [get, set] of shape.fields) {
      if (get(expr) !== 0) out.push({ get: () => get(expr), set: (c) => set(expr, c) });
    }
    if (shape.list !== undefined) {
      const { count, get, set } = shape.list;
      for (let i = 0; i < count(expr); i++) out.push({ get: () => get(expr, i), set: (c) => set(expr, i, c) });
    }
    return out;
  }
}

/** binaryen's numeric id of the expression class `name` (its `${name}Id` constant). */
function expressionId(b: BinaryenApi, name: string): unknown {
  return (b as unknown as Record<string, unknown>)[`${name}Id`];
}
