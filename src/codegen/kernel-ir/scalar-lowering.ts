// The scalar math of the elementwise ops in the kernel IR: the lowering columns of the scalar-math table whose
// float64 column is src/graph/ops/scalar-fns.ts (split because the graph sits below codegen and must not import
// it). What each op lowers to is written once here: the WGSL printer prints it, and the interpreter's f32
// semantics of the op are this IR run by the interpreter (builtins.ts for WGSL's builtins, helpers.ts for the
// helper functions) — there is no third definition. Exhaustive by type: every UnaryOp/BinaryOp has an f32
// lowering, and an op that keeps ints int (IntUnaryOp) has an i32 one. The Emitter (src/codegen/wgsl/emitter.ts)
// adds only graph-dependent rewrites with the same IEEE results (negated literals, x · 0 and x / c for constant
// operands, small constant powers).
import type { BinaryOp, UnaryOp } from '../../graph/types.js';
import type { ComparisonOp, IntUnaryOp } from '../../graph/ops/scalar-fns.js';
import { bare, bin, call, f32, i32, neg, not, type BinOp, type Expr } from './ir.js';

export type ScalarTy = 'f32' | 'i32';

export type UnaryLowering<K extends UnaryOp = UnaryOp> = { readonly f32: (x: Expr) => Expr } & (K extends IntUnaryOp ? { readonly i32: (x: Expr) => Expr } : { readonly i32?: undefined });

export interface BinaryLowering<K extends BinaryOp = BinaryOp> {
  /**
   * The type the operands are converted to: the result's (`result`), f32 (`f32`), or for comparisons i32 when
   * both operands are int, else f32 (`common`; the result is 0/1 in the result's type).
   */
  readonly operands: K extends ComparisonOp ? 'common' : 'result' | 'f32';
  /**
   * The comparison as a bool on operands of type `ot` (a condition used as is by `where` and masks); `op` makes a
   * plain comparison (`bin`: parenthesised, `bare`: not).
   */
  readonly cond: K extends ComparisonOp ? (a: Expr, b: Expr, ot: ScalarTy, op: (o: BinOp, a: Expr, b: Expr) => Expr) => Expr : undefined;
  /** The value, operands already of type `ot` (`operands`), the result of type `t`. */
  readonly lower: (a: Expr, b: Expr, t: ScalarTy, ot: ScalarTy) => Expr;
}

const zeroOf = (t: ScalarTy): Expr => (t === 'f32' ? f32(0) : i32(0));
const oneOf = (t: ScalarTy): Expr => (t === 'f32' ? f32(1) : i32(1));

const same = (f: (x: Expr) => Expr) => ({ f32: f, i32: f });

export const UNARY_LOWERING: { readonly [K in UnaryOp]: UnaryLowering<K> } = {
  neg: same(neg),
  exp: { f32: (x) => call('exp', x) },
  log: { f32: (x) => call('log', x) },
  sqrt: { f32: (x) => call('sqrt', x) },
  abs: same((x) => call('abs', x)),
  sign: same((x) => call('sign', x)),
  recip: { f32: (x) => bin('/', f32(1), x) },
  floor: { f32: (x) => call('floor', x), i32: (x) => x },
  // WGSL's tanh is inaccurate on some drivers (helpers.ts); log1p has no builtin
  tanh: { f32: (x) => call('tanh_f32', x) },
  log1p: { f32: (x) => call('log1p_f32', x) },
  // torch's clamp_min(x, 0) = maximum(x, 0): NaN and −0 pass through
  relu: { f32: (x) => call('max_f32', x, f32(0)), i32: (x) => call('max', x, i32(0)) },
};

type Lower = (a: Expr, b: Expr, t: ScalarTy, ot: ScalarTy) => Expr;
type Cond = (a: Expr, b: Expr, ot: ScalarTy, op: (o: BinOp, a: Expr, b: Expr) => Expr) => Expr;
const arith = (op: BinOp): { operands: 'result'; cond: undefined; lower: Lower } => ({ operands: 'result', cond: undefined, lower: (a, b) => bin(op, a, b) });
const compare = (cond: Cond): { operands: 'common'; cond: Cond; lower: Lower } => ({
  operands: 'common',
  cond,
  lower: (a, b, t, ot) => call('select', zeroOf(t), oneOf(t), cond(a, b, ot, bare)),
});
const plain =
  (o: BinOp): Cond =>
  (a, b, _ot, op) =>
    op(o, a, b);
/** torch's maximum/minimum on f32 (helpers.ts max_f32 / min_f32: NaN propagates, ties keep a); i32 WGSL's. */
const extremum =
  (helper: 'max_f32' | 'min_f32', builtin: 'max' | 'min'): Lower =>
  (a, b, t) =>
    call(t === 'f32' ? helper : builtin, a, b);

export const BINARY_LOWERING: { readonly [K in BinaryOp]: BinaryLowering<K> } = {
  add: arith('+'),
  sub: arith('-'),
  mul: arith('*'),
  div: arith('/'),
  // torch's pow (helpers.ts pow_f32) on f32 operands; an int result rounds it
  pow: { operands: 'f32', cond: undefined, lower: (x, y, t) => (t === 'i32' ? call('i32', call('round', call('pow_f32', x, y))) : call('pow_f32', x, y)) },
  maximum: { operands: 'result', cond: undefined, lower: extremum('max_f32', 'max') },
  minimum: { operands: 'result', cond: undefined, lower: extremum('min_f32', 'min') },
  lt: compare(plain('<')),
  le: compare(plain('<=')),
  gt: compare(plain('>')),
  ge: compare(plain('>=')),
  eq: compare(plain('==')),
  // on f32 NaN != x is true (torch, IEEE): Mesa evaluates `!=` as an ordered comparison, and WGSL may assume finite
  // math, so NaN is tested on the bits (helpers.ts is_nan_f32)
  ne: compare((a, b, ot, op) => (ot === 'f32' ? bin('||', bare('||', not(bin('==', a, b)), call('is_nan_f32', a)), call('is_nan_f32', b)) : op('!=', a, b))),
};
