// Compensated float32 summation (Neumaier's variant of Kahan's): every f32 sum a kernel accumulates over a
// loop carries a second register collecting the rounding error of each addition, folded in at the end. A
// lane that adds 100 000 values sequentially is then as accurate as a float64 sum rounded to float32 (error
// ~1 ulp instead of ~n·ulp), whatever the workgroup size. Partials combined across lanes in a tree are
// already pairwise; serial folds of partials use the same compensation.
//
// The correction term is `(a - t) + v` (or `(v - t) + a`): it must not be algebraically simplified. WGSL has
// no fast-math flags, Tint emits no reassociation, and the test suite checks the effect on lavapipe.
import { assign, bare, bin, block, call, f32, hex, letS, ref, type Expr, type Stmt, varS } from '../kernel-ir/ir.js';

/** Declarations of a compensated f32 accumulator `acc` starting at `init` (its compensation is `acc_c`). */
export function compensatedDecl(acc: string, init: Expr = f32(0)): Stmt[] {
  return [varS(acc, 'f32', init), varS(`${acc}_c`, 'f32', f32(0))];
}

/** `acc += v` with the rounding error added to `acc_c` (one statement block). */
export function compensatedAdd(acc: string, v: Expr): Stmt {
  return block(compensatedAddStmts(ref(acc), ref(`${acc}_c`), v));
}

/** `acc += v` with the rounding error added to `comp` (any lvalues, e.g. array elements), as one block. */
export function compensatedAddInto(acc: Expr, comp: Expr, v: Expr): Stmt {
  return block(compensatedAddStmts(acc, comp, v));
}

/** The statements of a compensated `acc += v` (they bind cs_v and cs_t: a block or a loop body of their own). */
export function compensatedAddStmts(acc: Expr, comp: Expr, v: Expr): Stmt[] {
  const [cv, ct] = [ref('cs_v'), ref('cs_t')];
  return [
    letS('cs_v', v),
    letS('cs_t', bare('+', acc, cv)),
    assign(comp, bare('+', comp, call('select', bare('+', bin('-', cv, ct), acc), bare('+', bin('-', acc, ct), cv), bare('>=', call('abs', acc), call('abs', cv))))),
    assign(acc, ct),
  ];
}

/** `acc *= f` for a compensated accumulator (online softmax rescaling): both parts scale. */
export function compensatedScale(acc: string, f: Expr): Stmt[] {
  return [assign(ref(acc), bare('*', ref(acc), f)), assign(ref(`${acc}_c`), bare('*', ref(`${acc}_c`), f))];
}

/**
 * A compensated sum's value: `acc + comp`, or `acc` itself when it is ±inf or NaN — the compensation of an
 * infinite sum is inf − inf = NaN, while torch's sum is inf (−inf, or NaN for inf − inf or a NaN term: what
 * `acc` already holds). Decided on the exponent bits: WGSL may assume finite math, so no `isinf` comparisons.
 */
export function compensatedSum(acc: Expr, comp: Expr): Expr {
  const exponent = hex(0x7f800000);
  return call('select', bare('+', acc, comp), acc, bare('==', bin('&', call('bitcast<u32>', acc), exponent), exponent));
}

/** The accumulated value: sum plus its compensation (compensatedSum). */
export function compensatedValue(acc: string): Expr {
  return compensatedSum(ref(acc), ref(`${acc}_c`));
}
