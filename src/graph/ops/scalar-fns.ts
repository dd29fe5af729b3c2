// Scalar semantics of the elementwise ops, shared by the CPU kernels and the builder's constant folding.
import type { BinaryOp, UnaryOp } from '../types.js';

export function unaryFn(fn: UnaryOp): (x: number) => number {
  switch (fn) {
    case 'neg':
      return (x) => -x;
    case 'exp':
      return Math.exp;
    case 'log':
      return Math.log;
    case 'sqrt':
      return Math.sqrt;
    case 'abs':
      return Math.abs;
    case 'sign':
      return (x) => (x > 0 ? 1 : x < 0 ? -1 : x); // 0, -0 and NaN pass through like torch.sign
    case 'recip':
      return (x) => 1 / x;
    case 'floor':
      return Math.floor;
    case 'tanh':
      return Math.tanh;
    case 'log1p':
      return Math.log1p;
    case 'relu':
      return (x) => (x > 0 ? x : Number.isNaN(x) ? x : 0);
  }
}

export function binaryFn(fn: BinaryOp): (a: number, b: number) => number {
  switch (fn) {
    case 'add':
      return (a, b) => a + b;
    case 'sub':
      return (a, b) => a - b;
    case 'mul':
      return (a, b) => a * b;
    case 'div':
      return (a, b) => a / b;
    case 'pow': // C pow: 1^y = 1 even for NaN y (JS Math.pow gives NaN)
      return (a, b) => (a === 1 ? 1 : Math.pow(a, b));
    case 'maximum': // NaN propagates like torch.maximum
      return (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : a > b ? a : b);
    case 'minimum':
      return (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : a < b ? a : b);
    case 'lt':
      return (a, b) => (a < b ? 1 : 0);
    case 'le':
      return (a, b) => (a <= b ? 1 : 0);
    case 'gt':
      return (a, b) => (a > b ? 1 : 0);
    case 'ge':
      return (a, b) => (a >= b ? 1 : 0);
    case 'eq':
      return (a, b) => (a === b ? 1 : 0);
    case 'ne':
      return (a, b) => (a !== b ? 1 : 0);
  }
}

export const COMPARISONS: ReadonlySet<BinaryOp> = new Set<BinaryOp>(['lt', 'le', 'gt', 'ge', 'eq', 'ne']);
/** Unary ops whose result keeps an int operand int. */
export const INT_PRESERVING_UNARY: ReadonlySet<UnaryOp> = new Set<UnaryOp>(['neg', 'abs', 'sign', 'floor', 'relu']);
/** Binary ops whose result is int when both operands are int (div is true division → float). */
export const INT_PRESERVING_BINARY: ReadonlySet<BinaryOp> = new Set<BinaryOp>(['add', 'sub', 'mul', 'maximum', 'minimum', 'pow', 'lt', 'le', 'gt', 'ge', 'eq', 'ne']);
