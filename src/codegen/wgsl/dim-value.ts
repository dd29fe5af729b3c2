// A symbolic dim used as a data value (`s.shape[0] - 5`, `-numel(s)`: a sum over a broadcast constant, see
// prepare.ts dimValueOf) as an f32 / i32 expression. Index arithmetic is u32 (src/compiler/schedule/index-expr.ts),
// which is exact for sizes but wraps on a negative intermediate, and a negative coefficient would print as `-1u`;
// a dim with a subtraction or a negative constant in it is therefore evaluated in i32, each symbol converted first.
import type { Dim } from '../../graph/types.js';
import type { IndexMath } from '../../compiler/schedule/index-math.js';
import { all, bare, bin, call, i32, ixE, neg, type Expr } from '../kernel-ir/ir.js';

/** The value of `d` as a `t`: u32 index arithmetic converted when no intermediate can be negative, else i32 arithmetic. */
export function dimValueExpr(d: Dim, m: IndexMath, t: 'f32' | 'i32'): Expr {
  if (!mayBeNegative(d)) return call(t, ixE(m.dim(d)));
  const v = signedDim(d, m);
  return t === 'i32' ? v : call('f32', v);
}

/** Does the expression subtract or hold a negative constant anywhere (symbols are sizes, ≥ 0)? */
function mayBeNegative(d: Dim): boolean {
  if (typeof d === 'number') return d < 0;
  if ('sym' in d) return false;
  return d.op === 'sub' || mayBeNegative(d.a) || mayBeNegative(d.b);
}

/** `d` in i32 arithmetic, with the floor/ceil divisions of the dim algebra (evalDim), not WGSL's truncating `/`. */
function signedDim(d: Dim, m: IndexMath): Expr {
  if (typeof d === 'number') return i32(d);
  if ('sym' in d) return call('i32', ixE(m.dim(d)));
  const a = signedDim(d.a, m);
  const b = signedDim(d.b, m);
  switch (d.op) {
    case 'add':
      return bin('+', a, b);
    case 'sub':
      return bin('-', a, b);
    case 'mul':
      return bin('*', a, b);
    case 'min':
    case 'max':
      return call(d.op, a, b);
    case 'floordiv':
      return floorDiv(a, b);
    case 'ceildiv':
      return neg(floorDiv(neg(a), b));
  }
}

/** ⌊a / b⌋: the truncated quotient, one less where the remainder is non-zero and of the other sign than b. */
function floorDiv(a: Expr, b: Expr): Expr {
  const r = bin('%', a, b);
  const off = all(bare('!=', r, i32(0)), bin('!=', bin('<', r, i32(0)), bin('<', b, i32(0))));
  return bin('-', bin('/', a, b), call('select', i32(0), i32(1), off));
}
