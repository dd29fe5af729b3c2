// Values the fused schedule stores although no loop structure needs them: values stored once (computing them
// inline where read would recompute them many times) and row values (stored one per row by the row kernel
// computing the statistics they combine). Both become elementwise units (units.ts).
import { dimSymbols, evalDim } from '../../graph/dims.js';
import type { Dim, Graph, Node } from '../../graph/types.js';
import { opKind } from '../../graph/ops/index.js';
import { DependenceAnalysis, nonOneDims, reductionAxes, sameDims } from './domains.js';
import { coord } from './coords.js';
import type { Prepared } from './prepare.js';
import { ownsLoop } from './units.js';
import { inPlaceUpdates } from './in-place-state.js';
import { computedIndices } from './computed-indices.js';

/** Ops with no arithmetic (the op table's source and layout kinds): free to re-evaluate. */
const isFree = (op: Node['op']): boolean => opKind(op) === 'source' || opKind(op) === 'layout';
/** Views of a value (layout ops that keep its dtype): storedOnce stores the value below them. */
const VIEW_OPS = new Set(['reshape', 'permute', 'broadcast', 'slice', 'detach']);
/** Operand ops re-evaluated by a matmul above which the operand is stored (2^24: SPKD's backward, ~10^9, is; PKT's, ~10^7, is not). */
const RECOMPUTE_LIMIT = 2 ** 24;
/** Output indices along the other axis taken to share one evaluation of a matmul operand in the recompute estimate: a
 *  fixed rule, independent of the kernels' register block (geometry.ts), so a new block does not move what is stored. */
const RECOMPUTE_SHARE = 8;
const sizeOf = (shape: readonly Dim[]): number => shape.reduce<number>((a, d) => a * evalDim(d, Object.fromEntries([...dimSymbols(d)].map((x) => [x, 64]))), 1);

/**
 * Values worth computing once into memory rather than inline in every expression that reads them:
 * - matmul operands: a matmul kernel evaluates its operand expressions per (row, k) and (k, column) in every
 *   invocation that covers them, so an operand of [M, K] is recomputed about ⌈N / RECOMPUTE_SHARE⌉ times (SPKD's
 *   normalised-Gram gradient: ~40 ops per element, 6 272 times each). An operand with more than two arithmetic
 *   ops whose recomputation costs more than RECOMPUTE_LIMIT ops is stored;
 * - the gradient read by an adaptive-pooling VJP: it is read at every pooled cell from each input cell, and
 *   when it holds pooled values (MSE of pooled maps: KR's HCL pyramid) each of those sums a bin, so inlined
 *   the VJP costs (H·W)² per channel; stored, H·W·oh·ow;
 * - adaptive pools over bins of POOL_STORE_CELLS cells or more: every expression reading a pooled cell sums its
 *   bin again (KR's HCL reads each pooled map in the loss, in its gradient and in the next, coarser level of the
 *   pyramid); stored, each map is read once;
 * - values built from the statistics of rows that a reduction across those rows sums (transposedRowValues);
 * - indices the graph computes, which the runtime range-checks on the device (computed-indices.ts).
 */
export function storedOnce(g: Graph, prep: Prepared): Set<number> {
  const stop = (id: number) => ownsLoop(g.nodes[id]!, prep);
  const cost = (root: number): number => {
    const seen = new Set<number>();
    let ops = 0;
    const visit = (id: number): void => {
      if (seen.has(id) || (id !== root && stop(id))) return;
      seen.add(id);
      const n = g.nodes[id]!;
      if (!isFree(n.op)) ops++;
      if (ops <= 64) for (const i of n.inputs) visit(i);
    };
    visit(root);
    return ops;
  };
  const out = new Set<number>();
  // rows written in place into a state buffer: computed by an earlier kernel (in-place-state.ts), never inline
  // in the kernel that overwrites the rows they read
  for (const ip of inPlaceUpdates(g)) if (ip && !stop(ip.rows) && g.nodes[ip.rows]!.op !== 'input' && g.nodes[ip.rows]!.op !== 'const') out.add(ip.rows);
  // twice: values of the other orientation read past the first ones (DIST's intra-class gradient, from per-class
  // statistics and the stored probabilities) are found once the probabilities are units
  const first = transposedRowValues(g, prep, cost, new Set());
  for (const v of transposedRowValues(g, prep, cost, first)) out.add(v);
  for (const v of first) out.add(v);
  // indices the graph computes: stored for the device's range check (computed-indices.ts)
  for (const c of computedIndices(g)) if (!stop(c.node) && g.nodes[c.node]!.op !== 'const') out.add(c.node);
  for (const n of g.nodes) {
    if (n.op === 'adaptive_pool2d' && pooledCells(g, n) >= POOL_STORE_CELLS) out.add(n.id);
    if (n.op === 'adaptive_pool2d_grad') {
      const gi = n.inputs[n.inputs.length - 1]!;
      if (!stop(gi) && g.nodes[gi]!.op !== 'input' && cost(gi) > 0) out.add(gi);
    }
    if (opKind(n.op) !== 'contraction') continue;
    const r = n.shape.length;
    n.inputs.forEach((x, k) => {
      const other = n.shape[k === 0 ? r - 1 : r - 2]!; // the output extent the operand is recomputed across
      // below layout ops (xᵀ in x·xᵀ): store the value itself once, not each view of it
      let v = x;
      while (VIEW_OPS.has(g.nodes[v]!.op) && !stop(v)) v = g.nodes[v]!.inputs[0]!;
      if (stop(v) || g.nodes[v]!.op === 'input' || g.nodes[v]!.op === 'const') return;
      const ops = cost(v);
      // recomputed work (symbols taken as 64) against an extra kernel launch: small operands stay inline
      if (ops > 2 && sizeOf(g.nodes[v]!.shape) * Math.ceil(sizeOf([other]) / RECOMPUTE_SHARE) * ops >= RECOMPUTE_LIMIT) out.add(v);
    });
  }
  return out;
}

/** Pools whose bins hold at least this many cells on average are stored (see storedOnce). */
const POOL_STORE_CELLS = 2;

/** Input cells per output cell of an adaptive pool (0 when a size is symbolic). */
function pooledCells(g: Graph, n: Node): number {
  const s = g.nodes[n.inputs[0]!]!.shape;
  const [H, W] = [s[s.length - 2]!, s[s.length - 1]!];
  const [oh, ow] = n.shape.slice(-2) as [Dim, Dim];
  return [H, W, oh, ow].every((d) => typeof d === 'number') ? ((H as number) * (W as number)) / ((oh as number) * (ow as number)) : 0;
}

/**
 * Row values: the input of a reduction that combines two or more statistics of the rows of another, finer
 * domain (a whole-batch sum of per-row losses built from each row's max and Σexp). Stored as one value per
 * row by the row kernel computing those statistics (partition.ts), the reduction reads one buffer instead of
 * one per statistic, which can keep that row kernel within the binding limit.
 */
export function rowValues(g: Graph, prep: Prepared): Set<number> {
  const { isRed, isUnit, an } = reductionReads(g, prep);
  const out = new Set<number>();
  for (const n of g.nodes) {
    if (!isRed(n.id)) continue;
    const x = g.nodes[n.inputs[0]!]!;
    if (x.op === 'input' || x.op === 'const' || isUnit(x.id)) continue;
    const dims = nonOneDims(x.shape);
    const stats = [...an.reductionRefs(n.id).keys()].filter((v) => {
      if (!isRed(v)) return false;
      const axes = reductionAxes(g, v);
      return axes.some((a) => a.reduced) && sameDims(dims, axes.filter((a) => !a.reduced).map((a) => a.dim));
    });
    if (stats.length >= 2) out.add(x.id);
  }
  return out;
}

/**
 * Values over a domain [A, B] built from statistics of its A-rows (reductions over B, per a), read by a
 * reduction over A (a row pass over the transposed domain [B, A], one row per b). Inline, that pass reloads the
 * statistics of every A-row and recomputes the value at each element in each of its sweeps (DIST's intra-class
 * Pearson correlation over softmax probabilities: per element and sweep, the logit, the row's max and Σexp,
 * an exp and a division, for student and teacher). Stored, each is computed once per element and read as one
 * value. Chosen: the largest subexpressions of the reduction's input with the input's full domain, more than
 * two arithmetic ops, reading at least one such statistic and no reduction over the transposed rows' own
 * domain (those are computed by the transposed pass itself). Values in `stored` are read as stored (not through
 * the statistics they are built from): with the first round's values there, the second round finds those of the
 * other orientation — DIST's intra-class gradient, built from per-class statistics and the stored probabilities,
 * summed over each sample's classes by the gradient's row pass, is stored by the per-class column pass.
 */
function transposedRowValues(g: Graph, prep: Prepared, cost: (id: number) => number, stored: ReadonlySet<number>): Set<number> {
  const { isRed, isUnit, an } = reductionReads(g, prep, stored);
  const innermost = (id: number) => nonOneDims(g.nodes[id]!.shape).at(-1);
  const out = new Set<number>();
  for (const r of g.nodes) {
    if (!isRed(r.id)) continue;
    const axes = reductionAxes(g, r.id);
    const reduced = axes.filter((a) => a.reduced).map((a) => a.dim);
    const kept = axes.filter((a) => !a.reduced).map((a) => a.dim);
    // a square domain ([N, N]: RKD's and PKT's pair matrices) cannot tell its rows' statistics from its columns' by dims
    if (!reduced.length || !kept.length || reduced.some((d) => kept.some((e) => sameDims([d], [e])))) continue;
    const x = r.inputs[0]!;
    const full = nonOneDims(g.nodes[x]!.shape);
    // rows along the reduced axes: statistics over the kept axes, one per reduced index
    const classify = (v: number): 'transposed' | 'own' | 'none' => {
      let t = false;
      for (const u of an.storeRefs(v, nonOneDims(g.nodes[v]!.shape).map((_, k) => coord(k))).keys()) {
        if (!isRed(u)) continue;
        const ua = reductionAxes(g, u);
        const uk = ua.filter((a) => !a.reduced).map((a) => a.dim);
        if (!ua.some((a) => a.reduced)) continue;
        if (sameDims(uk, kept)) return 'own';
        if (sameDims(uk, reduced)) t = true;
      }
      return t ? 'transposed' : 'none';
    };
    const seen = new Set<number>();
    const visit = (v: number): void => {
      if (seen.has(v)) return;
      seen.add(v);
      const n = g.nodes[v]!;
      if (isUnit(v) || n.op === 'input' || n.op === 'const') return;
      // a transposed view of such a value that puts the batch outermost, as the inputs are laid out (DIST's intra-class
      // gradient, a value of [C, N] read as [N, C]): the view is stored, by the pass over the value's own domain at
      // transposed coordinates (join-row-values.ts), so that pass writes and the reduction reads along C
      const p = n.op === 'permute' ? n.inputs[0]! : undefined;
      if (p !== undefined && !isUnit(p) && sameDims(nonOneDims(n.shape), full) && typeof innermost(v) === 'number' && typeof innermost(p) !== 'number' && !isFree(g.nodes[p]!.op) && cost(p) > 2 && classify(p) === 'transposed') {
        out.add(v);
        seen.add(p);
        return;
      }
      if (sameDimSet(nonOneDims(n.shape), full) && !isFree(n.op) && cost(v) > 2) {
        const c = classify(v);
        if (c === 'transposed') {
          out.add(v);
          return;
        }
        if (c === 'none') return;
      }
      for (const i of n.inputs) visit(i);
    };
    visit(x);
  }
  return out;
}

/** Which nodes are reductions with a loop of their own and which own a loop, and the reads of each (the dependence
 *  analysis with those as units): what the row-value rules inspect. */
function reductionReads(g: Graph, prep: Prepared, stored: ReadonlySet<number> = new Set()) {
  const isRed = (id: number) => opKind(g.nodes[id]!.op) === 'reduction' && !prep.dimValues.has(id);
  const isUnit = (id: number) => stored.has(id) || ownsLoop(g.nodes[id]!, prep);
  return { isRed, isUnit, an: new DependenceAnalysis(g, isUnit, prep.dimValues) };
}

/** The same dims in any order (a value and its transposed view). */
function sameDimSet(a: readonly Dim[], b: readonly Dim[]): boolean {
  if (a.length !== b.length) return false;
  const left = [...b];
  return a.every((d) => {
    const k = left.findIndex((e) => sameDims([d], [e]));
    return k >= 0 && left.splice(k, 1).length === 1;
  });
}
