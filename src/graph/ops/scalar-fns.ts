// The scalar math of the elementwise ops in float64: the first column of the scalar-math table, read by the CPU
// kernels (unary.ts, binary.ts), the builder's constant folding, and dtype inference (which ops keep an int
// operand int). The other columns live with the kernel IR (src/codegen/kernel-ir/scalar-lowering.ts: the IR each
// op lowers to, which the printer prints and the interpreter runs as f32): the graph sits below codegen and must
// not import it, and the lowering is written in the kernel IR's terms. Both columns are keyed by op name and
// exhaustive by type, so an op added to UnaryOp/BinaryOp without either does not compile; test/scalar-math.test.ts
// checks that the columns agree on special values (NaN, ±inf, −0, denormals) on the CPU, the interpreter and the GPU.
import type { BinaryOp, UnaryOp } from '../types.js';

/** Unary ops whose result keeps an int operand int (their lowering has an i32 form). */
export type IntUnaryOp = 'neg' | 'abs' | 'sign' | 'floor' | 'relu';
/** Binary ops whose result is int when both operands are int (div is true division → float). */
export type IntBinaryOp = Exclude<BinaryOp, 'div'>;
export type ComparisonOp = 'lt' | 'le' | 'gt' | 'ge' | 'eq' | 'ne';
/** Binary ops whose value does not depend on the operands' order, bit for bit (maximum/minimum do: the sign of a
 *  zero on ties; their torch gradient is symmetric but the value is not). */
export type CommutativeOp = 'add' | 'mul' | 'eq' | 'ne';

export interface UnaryMath<K extends UnaryOp = UnaryOp> {
  /** torch's value in float64. */
  readonly f64: (x: number) => number;
  readonly keepsInt: K extends IntUnaryOp ? true : false;
}

export interface BinaryMath<K extends BinaryOp = BinaryOp> {
  readonly f64: (a: number, b: number) => number;
  readonly keepsInt: K extends IntBinaryOp ? true : false;
  /** 0/1 in the operands' dtype; no gradient. */
  readonly comparison: K extends ComparisonOp ? true : false;
  /** op(a, b) = op(b, a): the builder's CSE takes either order for the same node. */
  readonly commutative: K extends CommutativeOp ? true : false;
}

export const UNARY_MATH: { readonly [K in UnaryOp]: UnaryMath<K> } = {
  neg: { f64: (x) => -x, keepsInt: true },
  exp: { f64: Math.exp, keepsInt: false },
  log: { f64: Math.log, keepsInt: false },
  sqrt: { f64: Math.sqrt, keepsInt: false },
  abs: { f64: Math.abs, keepsInt: true },
  // torch.sign is (0 < x) − (x < 0): +0 for ±0 and NaN
  sign: { f64: (x) => (x > 0 ? 1 : x < 0 ? -1 : 0), keepsInt: true },
  recip: { f64: (x) => 1 / x, keepsInt: false },
  floor: { f64: Math.floor, keepsInt: true },
  tanh: { f64: Math.tanh, keepsInt: false },
  log1p: { f64: Math.log1p, keepsInt: false },
  // torch.relu is clamp_min(x, 0): x < 0 ? 0 : x (NaN and −0 pass through)
  relu: { f64: (x) => (x < 0 ? 0 : x), keepsInt: true },
};

const cmp = <C extends boolean>(f: (a: number, b: number) => boolean, commutative: C) => ({ f64: (a: number, b: number) => (f(a, b) ? 1 : 0), keepsInt: true, comparison: true, commutative }) as const;

export const BINARY_MATH: { readonly [K in BinaryOp]: BinaryMath<K> } = {
  add: { f64: (a, b) => a + b, keepsInt: true, comparison: false, commutative: true },
  sub: { f64: (a, b) => a - b, keepsInt: true, comparison: false, commutative: false },
  mul: { f64: (a, b) => a * b, keepsInt: true, comparison: false, commutative: true },
  div: { f64: (a, b) => a / b, keepsInt: false, comparison: false, commutative: false },
  // C pow: 1^y = 1 even for NaN y, (−1)^±inf = 1 (JS Math.pow gives NaN for both)
  pow: { f64: (a, b) => (a === 1 || (a === -1 && !Number.isFinite(b) && !Number.isNaN(b)) ? 1 : Math.pow(a, b)), keepsInt: true, comparison: false, commutative: false },
  // NaN propagates like torch.maximum / torch.minimum; on ties (±0) the first operand, as std::max / std::min
  maximum: { f64: (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : a < b ? b : a), keepsInt: true, comparison: false, commutative: false },
  minimum: { f64: (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : b < a ? b : a), keepsInt: true, comparison: false, commutative: false },
  lt: cmp((a, b) => a < b, false),
  le: cmp((a, b) => a <= b, false),
  gt: cmp((a, b) => a > b, false),
  ge: cmp((a, b) => a >= b, false),
  eq: cmp((a, b) => a === b, true),
  ne: cmp((a, b) => a !== b, true),
};

export const unaryFn = (fn: UnaryOp): ((x: number) => number) => UNARY_MATH[fn].f64;
export const binaryFn = (fn: BinaryOp): ((a: number, b: number) => number) => BINARY_MATH[fn].f64;
