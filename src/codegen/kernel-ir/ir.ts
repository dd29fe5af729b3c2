// The kernel IR: what a kernel template builds — typed scalar expressions (f32 / i32 / u32 / bool, vec4<f32>
// lanes), loads and stores of storage buffers, workgroup (shared) and private arrays, let/var bindings,
// structured control flow (for, loop/break, if, return) and barriers, and helper functions (FnDef: parameters and a
// body of the same statements; helpers.ts defines them). Index arithmetic is the scheduler's index expressions
// (src/compiler/schedule/index-expr.ts), embedded as they are. The WGSL printer (src/codegen/wgsl/print.ts) makes
// the text; the interpreter (interpret.ts) runs it on the CPU.
import type { Ix } from '../../compiler/schedule/index-expr.js';
import type { BufferDecl } from '../../compiler/schedule/kernel-spec.js';

export type BinOp = '+' | '-' | '*' | '/' | '%' | '<' | '<=' | '>' | '>=' | '==' | '!=' | '&&' | '||' | '&' | '^' | '>>';

/** Builtin functions (WGSL's) and conversions: their f32 semantics are the interpreter's BUILTINS table (builtins.ts).
 *  No `tanh`: Mesa's is off by thousands of ulp near 0 (the helper tanh_f32 stands in). */
export type Builtin =
  | 'exp' | 'exp2' | 'log' | 'log2' | 'sqrt' | 'inverseSqrt' | 'abs' | 'sign' | 'floor' | 'round' | 'clamp' | 'min' | 'max' | 'select' | 'fma'
  | 'f32' | 'i32' | 'u32' | 'vec4<f32>' | 'bitcast<f32>' | 'bitcast<u32>';

/** Helper functions of the kernels (torch semantics where WGSL's builtins differ): IR functions of helpers.ts. */
export type Helper = 'pow_f32' | 'log1p_f32' | 'tanh_f32' | 'f32_bits' | 'mul_zero_f32' | 'is_nan_f32' | 'zero_div_f32' | 'max_f32' | 'min_f32' | 'flush_subnormal_f32';

/** What a call expression calls: a builtin or a helper function. */
export type Fn = Builtin | Helper;

export type Expr =
  | { readonly k: 'f32'; readonly v: number }
  | { readonly k: 'i32'; readonly v: number }
  /** `hex`: printed in hexadecimal (IEEE-754 bit patterns). */
  | { readonly k: 'u32'; readonly v: number; readonly hex?: true }
  | { readonly k: 'bool'; readonly v: boolean }
  | { readonly k: 'var'; readonly name: string }
  | { readonly k: 'ix'; readonly ix: Ix }
  /** `bare`: printed without parentheses (operands of select, conditions, right-hand sides). */
  | { readonly k: 'bin'; readonly op: BinOp; readonly a: Expr; readonly b: Expr; readonly bare?: true }
  /** `bare`: `-a` (a negative literal or variable operand) instead of `(-a)`. */
  | { readonly k: 'neg'; readonly a: Expr; readonly bare?: true }
  /** Logical negation of a bool. */
  | { readonly k: 'not'; readonly a: Expr }
  | { readonly k: 'call'; readonly fn: Fn; readonly args: readonly Expr[] }
  /** Element `i` of a storage buffer, workgroup array or private array. */
  | { readonly k: 'at'; readonly array: string; readonly i: Expr }
  /** Scalar element `i` of a storage buffer declared as vec4s (element i / 4, lane i % 4). */
  | { readonly k: 'at4s'; readonly array: string; readonly i: Expr }
  /** The vec4 `i` (scalar elements 4i … 4i + 3) of a storage buffer declared as vec4s. */
  | { readonly k: 'at4'; readonly array: string; readonly i: Expr }
  /** Lane of a vec4<f32>. */
  | { readonly k: 'lane'; readonly a: Expr; readonly lane: 0 | 1 | 2 | 3 }
  /** atomicLoad of element `i` of an array of atomic<u32> (device-check kernels). */
  | { readonly k: 'atomicLoad'; readonly array: string; readonly i: Expr }
  /** Elements of a runtime-sized storage array (`arrayLength(&array)`, u32): the run's check flags. */
  | { readonly k: 'arrayLength'; readonly array: string };

/** Types of declared variables. */
export type VarType = 'f32' | 'i32' | 'u32' | 'vec4<f32>' | { readonly array: 'f32' | 'i32' | 'u32'; readonly length: number };

export type Stmt =
  /**
   * `let name[: ty] = e;` — `value`: a value of the graph the Emitter bound (valueS), numbered in the order the
   * Emitter made them; the hoisting pass (hoist.ts) may move it out of any block or branch its operands allow and
   * keeps values in that order where it lands them. Other lets are a template's own names and move only out of loops.
   */
  | { readonly k: 'let'; readonly name: string; readonly e: Expr; readonly ty?: 'f32' | 'i32' | 'u32'; readonly value?: number }
  /** `var name[: ty][ = init];` (the type is inferred from `init` when absent). */
  | { readonly k: 'var'; readonly name: string; readonly ty?: VarType; readonly init?: Expr }
  | { readonly k: 'assign'; readonly to: Expr; readonly e: Expr }
  | { readonly k: 'block'; readonly body: Stmt[] }
  | { readonly k: 'if'; readonly cond: Expr; readonly then: Stmt[]; readonly else?: Stmt[] }
  /** for (var v = from; cond; v = v + step) — `step` is added each iteration. */
  | { readonly k: 'for'; readonly v: string; readonly from: Expr; readonly cond: Expr; readonly step: Expr; readonly body: Stmt[] }
  | { readonly k: 'loop'; readonly body: Stmt[] }
  | { readonly k: 'break' }
  /** `return;` from the kernel, or `return e;` from a helper function. */
  | { readonly k: 'return'; readonly e?: Expr }
  | { readonly k: 'barrier'; readonly scope: 'workgroup' | 'storage' }
  /** atomicMin / atomicStore of `e` into element `i` of an array of atomic<u32> (device-check kernels). */
  | { readonly k: 'atomic'; readonly op: 'min' | 'store'; readonly array: string; readonly i: Expr; readonly e: Expr }
  /**
   * `let name = subgroupAdd(e);` (subgroupMax, subgroupMin, subgroupShuffleXor(e, mask)): an operation across the
   * active invocations of the subgroup, bound to a name. A statement, not an expression, so that the interpreter
   * meets the subgroup's invocations there as at a barrier. Only in modules with `subgroups` set.
   */
  | { readonly k: 'subgroup'; readonly name: string; readonly op: SubgroupOp; readonly e: Expr; readonly mask?: Expr };

/** Subgroup operations (WGSL `enable subgroups;`). */
export type SubgroupOp = 'add' | 'max' | 'min' | 'shuffleXor';

/**
 * The subgroup builtins of the entry point of a module with `subgroups` set: the invocation's index in its
 * subgroup, the subgroup size, the subgroup's index in the workgroup and the number of subgroups.
 */
export const SUBGROUP_BUILTINS = { lane: 'sg_lane', size: 'sg_size', id: 'sg_id', count: 'sg_count' } as const;

export type ScalarType = 'f32' | 'i32' | 'u32';

/** A helper function: scalar parameters, a scalar result, a body of statements (no barriers, no buffer access). */
export interface FnDef {
  readonly name: Helper;
  readonly params: readonly { readonly name: string; readonly ty: ScalarType }[];
  readonly ret: ScalarType | 'bool';
  readonly body: readonly Stmt[];
}

/**
 * A device-check kernel the runtime dispatches (src/codegen/wgsl/device-check-kernels.ts): a uniform struct
 * `params` of the fields listed (binding 0), the checked array `x` (binding 1, read), the u32 flags as atomics
 * (binding 2), and entry points of their own workgroup sizes (`gid`: the global invocation id is in scope).
 */
export interface CheckModule {
  header: string[];
  params: readonly { readonly name: string; readonly ty: 'u32' | 'i32' }[];
  element: 'i32' | 'u32';
  entries: readonly { readonly name: string; readonly workgroupSize: number; readonly gid: boolean; readonly body: Stmt[] }[];
}

/** A workgroup-memory array of `length` elements (an override constant: the workgroup size). */
export interface SharedArray {
  name: string;
  elem: 'f32' | 'i32' | 'u32';
  length: string;
}

/**
 * One kernel: its storage buffers (binding 0 is always the dims uniform, one u32 per plan symbol), workgroup
 * arrays and entry body (the helper functions it needs are the ones its body calls: analysis.ts helpersCalled). A 1-D workgroup of wg_size invocations; builtins: `linear` wid, nwg, lid;
 * `tile` (matmul) wid, lid3.
 */
export interface KernelModule {
  header: string[];
  symbols: readonly string[];
  buffers: readonly BufferDecl[];
  shared: SharedArray[];
  entry: 'linear' | 'tile';
  body: Stmt[];
  /** Buffers declared as vec4s. */
  vec4: ReadonlySet<string>;
  /** The module uses subgroup operations (`enable subgroups;`, the SUBGROUP_BUILTINS in its entry). */
  subgroups?: true;
}

// ---- builders ----
export const f32 = (v: number): Expr => ({ k: 'f32', v });
export const i32 = (v: number): Expr => ({ k: 'i32', v });
export const u32 = (v: number): Expr => ({ k: 'u32', v });
export const ref = (name: string): Expr => ({ k: 'var', name });
export const ixE = (ix: Ix): Expr => (ix.kind === 'var' ? ref(ix.name) : { k: 'ix', ix });
export const bin = (op: BinOp, a: Expr, b: Expr): Expr => ({ k: 'bin', op, a, b });
export const bare = (op: BinOp, a: Expr, b: Expr): Expr => ({ k: 'bin', op, a, b, bare: true });
export const neg = (a: Expr): Expr => ({ k: 'neg', a });
/** `-a` without parentheses. */
export const negBare = (a: Expr): Expr => ({ k: 'neg', a, bare: true });
export const not = (a: Expr): Expr => ({ k: 'not', a });
export const call = (fn: Fn, ...args: Expr[]): Expr => ({ k: 'call', fn, args });
export const at = (array: string, i: Expr): Expr => ({ k: 'at', array, i });
export const at4s = (array: string, i: Expr): Expr => ({ k: 'at4s', array, i });
export const at4 = (array: string, i: Expr): Expr => ({ k: 'at4', array, i });
export const hex = (v: number): Expr => ({ k: 'u32', v, hex: true });
export const lane = (a: Expr, l: number): Expr => ({ k: 'lane', a, lane: l as 0 | 1 | 2 | 3 });
/** `a && b && …` (bare), left-associated. */
export const all = (...cs: Expr[]): Expr => cs.reduce((x, y) => bare('&&', x, y));

export const letS = (name: string, e: Expr, ty?: 'f32' | 'i32' | 'u32'): Stmt => (ty ? { k: 'let', name, e, ty } : { k: 'let', name, e });
/** The `order`-th let of a graph value (see Stmt `let`): the hoisting pass may move it to the outermost scope its operands allow. */
export const valueS = (name: string, e: Expr, order: number, ty?: 'f32' | 'i32' | 'u32'): Stmt => ({ ...(letS(name, e, ty) as Extract<Stmt, { k: 'let' }>), value: order });
export const varS = (name: string, ty: VarType | undefined, init?: Expr): Stmt => ({ k: 'var', name, ...(ty ? { ty } : {}), ...(init ? { init } : {}) });
export const loop = (body: Stmt[]): Stmt => ({ k: 'loop', body });
export const assign = (to: Expr, e: Expr): Stmt => ({ k: 'assign', to, e });
export const block = (body: Stmt[]): Stmt => ({ k: 'block', body });
export const ifS = (cond: Expr, then: Stmt[], otherwise?: Stmt[]): Stmt => (otherwise ? { k: 'if', cond, then, else: otherwise } : { k: 'if', cond, then });
export const forS = (v: string, from: Expr, cond: Expr, step: Expr, body: Stmt[]): Stmt => ({ k: 'for', v, from, cond, step, body });
export const BREAK: Stmt = { k: 'break' };
export const RETURN: Stmt = { k: 'return' };
/** `return e;` (helper functions). */
export const ret = (e: Expr): Stmt => ({ k: 'return', e });
export const atomicLoad = (array: string, i: Expr): Expr => ({ k: 'atomicLoad', array, i });
export const arrayLength = (array: string): Expr => ({ k: 'arrayLength', array });
export const atomic = (op: 'min' | 'store', array: string, i: Expr, e: Expr): Stmt => ({ k: 'atomic', op, array, i, e });
export const subgroupS = (name: string, op: SubgroupOp, e: Expr, mask?: Expr): Stmt => (mask ? { k: 'subgroup', name, op, e, mask } : { k: 'subgroup', name, op, e });
export const barrier = (scope: 'workgroup' | 'storage' = 'workgroup'): Stmt => ({ k: 'barrier', scope });


/** The direct sub-expressions of an expression (an index `ix` holds none: its terms are Ix, not Expr). */
export function subExprs(e: Expr): readonly Expr[] {
  switch (e.k) {
    case 'f32':
    case 'i32':
    case 'u32':
    case 'bool':
    case 'var':
    case 'ix':
      return [];
    case 'bin':
      return [e.a, e.b];
    case 'neg':
    case 'not':
    case 'lane':
      return [e.a];
    case 'call':
      return e.args;
    case 'at':
    case 'at4s':
    case 'at4':
    case 'atomicLoad':
      return [e.i];
    case 'arrayLength':
      return [];
  }
}
/** Variables an expression reads (index expressions included). */
export function exprVars(e: Expr, out: string[] = []): string[] {
  switch (e.k) {
    case 'var':
      out.push(e.name);
      break;
    case 'ix':
      ixVarsInto(e.ix, out);
      break;
    case 'bin':
      exprVars(e.a, out);
      exprVars(e.b, out);
      break;
    case 'neg':
    case 'not':
    case 'lane':
      exprVars(e.a, out);
      break;
    case 'call':
      for (const a of e.args) exprVars(a, out);
      break;
    case 'at':
    case 'at4s':
    case 'at4':
    case 'atomicLoad':
      out.push(e.array);
      exprVars(e.i, out);
      break;
    case 'arrayLength':
      out.push(e.array);
      break;
  }
  return out;
}

function ixVarsInto(a: Ix, out: string[]): void {
  if (a.kind === 'var') out.push(a.name);
  else if (a.kind === 'op') {
    ixVarsInto(a.a, out);
    ixVarsInto(a.b, out);
  }
}

/** A literal or a variable: used as is, never let-bound. */
export const isAtom = (e: Expr): boolean => e.k === 'var' || e.k === 'f32' || e.k === 'i32' || e.k === 'u32' || e.k === 'bool';
