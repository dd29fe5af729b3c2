// Sums the builder rewrites (GraphBuilder.simplify): a Σ over axes R with a one-hot row in it,
//   Σ(w + y) = Σw + Σy   with w = where(iota_R == i, v, 0), whose sum is read once per row (one-hot-sum.ts),
// when Σy then vanishes: an existing sum (CSE), −Σ of one that vanishes, or c · Σ / Σ / c with c constant along R
// and never 0 or ±∞. Autodiff builds such sums for the gradient of a log-softmax under cross-entropy plus other
// terms (Σ_j of its upstream gradient): with KD's teacher probabilities p_j = exp(t_j − m) / Z the sum becomes
// onehot + c · Z / Z, and the row kernel needs no sweep for it (3 sweeps → 2 for KD+CE).
// The values are the same sums regrouped: only rounding moves. Non-finite values keep torch's outcome: a sum is
// NaN, +∞ or −∞ whatever the grouping (NaN anywhere, or both infinities: NaN), and a factor c that is never 0 or
// ±∞ keeps c · Σy non-finite exactly when Σ c·y is (a NaN factor: NaN both ways).
// And a Σ over R of deviations from their means along R, times factors constant along R, is 0 · the means
// (centredSum): DIST's Pearson gradients, where the row kernel would otherwise sweep the row again for a sum of
// rounding noise. That value is not the sum regrouped: ±0 where torch's is noise, NaN where torch's is NaN.
import { isOneDim, shapeEq } from './dims.js';
import { oneHotRow } from './row-patterns.js';
import { neverInfinite, neverZero } from './value-range.js';
import type { Node, OpAttrs, OpName, Shape } from './types.js';

export interface SumBuilder {
  node(id: number): Node;
  op<K extends OpName>(op: K, inputs: number[], attrs: OpAttrs[K]): number;
  /** The node op(inputs, attrs) would be if it was built before (CSE), without building it. */
  existing<K extends OpName>(op: K, inputs: number[], attrs: OpAttrs[K]): number | undefined;
}

/**
 * Σ over `attrs.axes` of node `x` as existing sums (CSE), one-hot sums and arithmetic on values constant along
 * the summed axes — or undefined (build the sum as is). A sum is only ever replaced by one that reads no row
 * of its own: rewrites that would leave other sums over the rows (more reductions, not fewer) are not made.
 */
export function rewriteSum(b: SumBuilder, x: number, attrs: OpAttrs['reduce']): number | undefined {
  if (attrs.fn !== 'sum' || b.node(x).dtype !== 'float') return undefined;
  const centred = centredSum(b, x, attrs);
  if (centred !== undefined) return centred;
  // only sums with a one-hot row in them (cross-entropy's gradient through a log-softmax): a plain Σ_c p over a
  // softmax (DIST's class means) would become Z / Z too, but the fused schedule then splits DIST into more kernels
  let top = b.node(x);
  while (top.op === 'unary' && top.attrs.fn === 'neg') top = b.node(top.inputs[0]!);
  const rank = b.node(x).shape.length;
  if (!(top.op === 'binary' && top.attrs.fn === 'add' && top.inputs.some((w) => isOneHotRow(b, w, attrs.axes, rank)))) return undefined;
  return eliminated(b, x, attrs, false);
}

function eliminated(b: SumBuilder, x: number, attrs: OpAttrs['reduce'], inner: boolean): number | undefined {
  const n = b.node(x);
  const of = (id: number) => b.node(id);
  const rank = n.shape.length;
  const R = attrs.axes;
  if (inner) {
    const hit = b.existing('reduce', [x], attrs);
    if (hit !== undefined) return hit;
  }
  const full = (y: number) => shapeEq(b.node(y).shape, n.shape);
  const sub = (y: number) => (full(y) ? eliminated(b, y, attrs, true) : undefined);
  if (n.op === 'unary' && n.attrs.fn === 'neg') {
    const s = sub(n.inputs[0]!);
    return s === undefined ? undefined : b.op('unary', [s], { fn: 'neg' });
  }
  if (n.op !== 'binary') return undefined;
  const [p, q] = n.inputs as [number, number];
  if (n.attrs.fn === 'add') {
    // a one-hot row's sum is read once per row (one-hot-sum.ts): built; the other side must vanish
    const hot = (w: number) => full(w) && isOneHotRow(b, w, R, rank);
    const other = hot(p) ? q : hot(q) ? p : undefined;
    const s = other === undefined ? undefined : hot(other) ? b.op('reduce', [other], attrs) : sub(other);
    return s === undefined ? undefined : b.op('binary', [b.op('reduce', [other === q ? p : q], attrs), s], { fn: 'add' });
  }
  if (n.attrs.fn === 'mul' || n.attrs.fn === 'div') {
    for (const [y, c] of n.attrs.fn === 'mul' ? [[q, p], [p, q]] : [[p, q]]) {
      const f = alongFactor(b, c!, R, rank);
      if (f === undefined || !neverZero(of, f.base) || !neverInfinite(of, f.base)) continue;
      const s = sub(y!);
      if (s === undefined) continue;
      let v = atOutput(b, f.base, attrs, rank);
      for (let k = 0; k < f.negations; k++) v = b.op('unary', [v], { fn: 'neg' });
      return b.op('binary', [s, v], { fn: n.attrs.fn });
    }
  }
  return undefined;
}

/** A factor of a deviation's term, constant along the summed axes, multiplying or dividing it. */
type Factor = { base: number; fn: 'mul' | 'div' };

/**
 * Σ_R of a combination of deviations from their means along R — Σ_k c_k · (x_k − mean_R x_k), each c_k constant
 * along R — is 0 in exact arithmetic. Autodiff builds such sums for the gradient through a mean it subtracts
 * (DIST's Pearson correlations: the gradient of Σ(a − ā)(b − b̄) / (‖a − ā‖ ‖b − b̄‖), summed over the row for ā's
 * share), and the row kernel would sweep the row again for a sum of rounding noise. Built as Σ_k c_k · (0 · mean_k)
 * instead: ±0 where torch sums noise (|Σ| ≲ ulp · Σ|terms|, which then moves each element of the gradient by
 * less than its rounding), NaN where a factor is ±∞ or NaN or a mean is not finite — as torch's sum is then (its
 * deviations are ±∞ of both signs, 0 · ∞, or NaN), a mean overflowing from finite values aside.
 */
function centredSum(b: SumBuilder, x: number, attrs: OpAttrs['reduce']): number | undefined {
  const shape = b.node(x).shape;
  const rank = shape.length;
  const R = attrs.axes;
  const terms: { factors: Factor[]; mean: number }[] = [];
  // signs are not followed: every term becomes a multiple of 0
  const collect = (y: number, factors: Factor[]): boolean => {
    const n = b.node(y);
    if (!shapeEq(n.shape, shape)) return false;
    if (n.op === 'unary' && n.attrs.fn === 'neg') return collect(n.inputs[0]!, factors);
    if (n.op !== 'binary') return false;
    const [p, q] = n.inputs as [number, number];
    switch (n.attrs.fn) {
      case 'sub':
        if (isMeanAlong(b, q, p, R)) {
          terms.push({ factors, mean: q });
          return true;
        }
        return collect(p, factors) && collect(q, factors);
      case 'add':
        return collect(p, factors) && collect(q, factors);
      case 'mul': {
        const fq = alongFactor(b, q, R, rank);
        if (fq) return collect(p, [...factors, { base: fq.base, fn: 'mul' }]);
        const fp = alongFactor(b, p, R, rank);
        return fp !== undefined && collect(q, [...factors, { base: fp.base, fn: 'mul' }]);
      }
      case 'div': {
        const fq = alongFactor(b, q, R, rank);
        return fq !== undefined && collect(p, [...factors, { base: fq.base, fn: 'div' }]);
      }
      default:
        return false;
    }
  };
  if (!collect(x, []) || !terms.length) return undefined;
  const zero = b.op('const', [], { value: 0 });
  const parts = terms.map((t) => t.factors.reduce((v, f) => b.op('binary', [v, atOutput(b, f.base, attrs, rank)], { fn: f.fn }), b.op('binary', [zero, atOutput(b, t.mean, attrs, rank)], { fn: 'mul' })));
  return parts.reduce((v, w) => b.op('binary', [v, w], { fn: 'add' }));
}

/** Is `m` the mean of `x` along `R` (kept as 1s): Σ_R x / n with n the count of elements along R — a constant, or
 *  a Σ of a broadcast 1 over those dims (a symbolic batch size)? */
function isMeanAlong(b: SumBuilder, m: number, x: number, R: readonly number[]): boolean {
  const n = b.node(m);
  if (!(n.op === 'binary' && n.attrs.fn === 'div')) return false;
  const [s, count] = n.inputs as [number, number];
  const sum = b.node(s);
  if (!(sum.op === 'reduce' && sum.attrs.fn === 'sum' && sum.attrs.keepdim && sum.inputs[0] === x)) return false;
  const ascending = (a: readonly number[]) => [...a].sort((p, q) => p - q).join();
  if (ascending(sum.attrs.axes) !== ascending(R)) return false;
  const dims = R.map((a) => b.node(x).shape[a]!);
  const c = b.node(count);
  if (c.op === 'const') return dims.every((d) => typeof d === 'number') && c.attrs.value === dims.reduce<number>((p, d) => p * (d as number), 1);
  if (!(c.op === 'reduce' && c.attrs.fn === 'sum')) return false;
  const ones = b.node(c.inputs[0]!);
  if (ones.op !== 'broadcast' || c.attrs.axes.length !== ones.shape.length) return false;
  const one = b.node(ones.inputs[0]!);
  return one.op === 'const' && one.attrs.value === 1 && ones.shape.length === dims.length && ones.shape.every((d, k) => shapeEq([d], [dims[k]!]));
}

/** `c` as −…−base with base constant along the summed axes (below broadcasts and negations), if it is one. */
function alongFactor(b: SumBuilder, c: number, R: readonly number[], rank: number, negations = 0): { base: number; negations: number } | undefined {
  if (constantAlong(b, c, R, rank)) return { base: c, negations };
  const n = b.node(c);
  if (n.op === 'broadcast') return alongFactor(b, n.inputs[0]!, R, rank, negations);
  if (n.op === 'unary' && n.attrs.fn === 'neg') return alongFactor(b, n.inputs[0]!, R, rank, negations + 1);
  return undefined;
}

/** Node `c`'s dims, aligned to the right on `rank` axes (missing leading ones are 1). */
function aligned(b: SumBuilder, c: number, rank: number): Shape {
  const s = b.node(c).shape;
  return [...Array<number>(rank - s.length).fill(1), ...s];
}

/** Is `c` (broadcast against the summed value) the same along every summed axis? */
function constantAlong(b: SumBuilder, c: number, R: readonly number[], rank: number): boolean {
  if (b.node(c).shape.length > rank) return false;
  const s = aligned(b, c, rank);
  return R.every((a) => isOneDim(s[a]!));
}

/** Factor `c` as an operand of the sum's result: its summed axes dropped unless the sum keeps them. */
function atOutput(b: SumBuilder, c: number, attrs: OpAttrs['reduce'], rank: number): number {
  if (attrs.keepdim) return c;
  const s = aligned(b, c, rank).filter((_, k) => !attrs.axes.includes(k));
  return shapeEq(s, b.node(c).shape) ? c : b.op('reshape', [c], { shape: s });
}

/** A one-hot row along the one summed axis (row-patterns.ts) whose value is constant along it. */
function isOneHotRow(b: SumBuilder, w: number, R: readonly number[], rank: number): boolean {
  const hot = R.length === 1 ? oneHotRow((id) => b.node(id), w, R[0]!) : undefined;
  return hot !== undefined && constantAlong(b, hot.value, R, rank);
}
