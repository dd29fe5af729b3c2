// The index maps of kernels over the dims uniform: row-major offsets and unravelling (with strength
// reduction: coordinates unravelled from one linear index ravel back to it), and the index maps of the view
// ops (broadcast, reshape, permute, slice): given the index a node is read at, the index its input is read at.
// Shared by the scheduler's dependence analysis and codegen, so both see the same index expressions.
import { dimEq, divExactDims, isOneDim as isOne, mulDims } from '../../graph/dims.js';
import type { Dim, Shape } from '../../graph/types.js';
import { dimIx, ixAdd, ixDiv, ixEq, ixLit, ixMod, ixMul, ixNode, ZERO, type Ix } from './index-expr.js';
import { simplifyIx } from './index-simplify.js';

export { isOne };

/** Index arithmetic bound to one symbol naming. */
export class IndexMath {
  /** Coordinates let-bound by a template to an unravelled index (`ix1` = `((j / 56u) % 56u)`), so offset() can ravel them back. */
  private readonly defs = new Map<string, Ix>();
  /** Range facts (`ix1 < N`): offsets and unravelled coordinates are simplified under them (index-simplify.ts). */
  private readonly ranges = new Map<string, Ix>();

  constructor(readonly field: (sym: string) => string) {}

  /**
   * State that every value variable `name` is bound to, wherever an index expression of this IndexMath reads it,
   * is below `extent` (a domain coordinate of a kernel: its axis). Without facts nothing is rewritten (the
   * scheduler's analysis has none).
   */
  bindRange(name: string, extent: Ix): void {
    this.ranges.set(name, extent);
  }

  /** `e` simplified under the range facts. */
  simplify(e: Ix): Ix {
    return simplifyIx(e, this.ranges);
  }

  /** Record (or, with undefined, forget) the expression a coordinate variable is bound to from here on. */
  bindCoord(name: string, expr: Ix | undefined): void {
    if (expr === undefined) this.defs.delete(name);
    else this.defs.set(name, expr);
  }

  dim(d: Dim): Ix {
    return dimIx(d, this.field);
  }

  /** Row-major linear offset of `idx` in `shape` (size-1 dims skipped). */
  offset(shape: Shape, idx: Ix[]): Ix {
    // Strength reduction: adjacent coordinates that unravel one linear index over the same dims
    // ((q / D, q % D) over [·, D]) ravel back to q instead of dividing and multiplying again.
    const dims: Dim[] = [];
    const ix: { e: Ix; plain: Ix }[] = [];
    shape.forEach((d, k) => {
      if (isOne(d)) return;
      const at = idx[k]!;
      let cur = { e: (at.kind === 'var' ? this.defs.get(at.name) : undefined) ?? at, plain: at };
      let dim: Dim = d;
      while (ix.length) {
        const merged = ravelPair(ix[ix.length - 1]!.e, cur.e, this.dim(dim), this.dim(dims[dims.length - 1]!));
        if (merged === undefined) break;
        cur = { e: merged, plain: merged };
        dim = mulDims(dims.pop()!, dim);
        ix.pop();
      }
      dims.push(dim);
      ix.push(cur);
    });
    let acc: Ix = ZERO;
    dims.forEach((d, k) => (acc = ixAdd(ixMul(acc, this.dim(d)), ix[k]!.plain)));
    return this.simplify(acc);
  }

  /** Coordinates of linear index `lin` in `shape` (row-major); `lin` is assumed < numel(shape). */
  unravel(lin: Ix, shape: Shape): Ix[] {
    const out: Ix[] = new Array(shape.length).fill(ZERO);
    const live = shape.map((d, k) => (isOne(d) ? -1 : k)).filter((k) => k >= 0);
    let inner: Dim = 1;
    for (let n = live.length - 1; n >= 0; n--) {
      const k = live[n]!;
      const q = ixDiv(lin, this.dim(inner));
      out[k] = this.simplify(n === 0 ? q : ixMod(q, this.dim(shape[k]!)));
      inner = mulDims(inner, shape[k]!);
    }
    return out;
  }

  /** numpy broadcasting: index into `inShape` for index `idx` of `outShape` (right-aligned, size-1 dims read at 0). */
  broadcast(inShape: Shape, outShape: Shape, idx: Ix[]): Ix[] {
    const lead = outShape.length - inShape.length;
    return inShape.map((d, k) => (isOne(d) ? ZERO : idx[lead + k]!));
  }

  permute(perm: number[], idx: Ix[]): Ix[] {
    const out: Ix[] = new Array(perm.length);
    perm.forEach((p, k) => (out[p] = idx[k]!));
    return out;
  }

  slice(axis: number, start: Dim, step: number, idx: Ix[]): Ix[] {
    const out = [...idx];
    out[axis] = ixAdd(this.dim(start), ixMul(idx[axis]!, ixLit(step)));
    return out;
  }

  /**
   * Reshape: index into `inShape` for index `idx` of `outShape`. Dims are matched in groups of equal element
   * count (size-1 dims dropped); a 1:1 group passes its index through, others go through a linear index.
   */
  reshape(inShape: Shape, outShape: Shape, idx: Ix[]): Ix[] {
    const out: Ix[] = inShape.map(() => ZERO);
    const ins = inShape.map((d, k) => ({ d, k })).filter((x) => !isOne(x.d));
    const outs = outShape.map((d, k) => ({ d, k })).filter((x) => !isOne(x.d));
    let i = 0;
    let o = 0;
    while (i < ins.length || o < outs.length) {
      // grow a group until both sides have the same element count
      const gi = [ins[i]];
      const go = [outs[o]];
      if (gi[0] === undefined || go[0] === undefined) return this.reshapeLinear(inShape, outShape, idx);
      i++;
      o++;
      let pi: Dim = gi[0].d;
      let po: Dim = go[0].d;
      for (let guard = 0; dimEq(pi, po) !== true; guard++) {
        if (guard > 64) return this.reshapeLinear(inShape, outShape, idx);
        const vi = typeof pi === 'number' ? pi : undefined;
        const vo = typeof po === 'number' ? po : undefined;
        // extend the side that is (known to be) smaller — by value, or as a divisor of the other side's
        // product (N·2049 against N: the output side) — else the input side
        const growOut =
          vi !== undefined && vo !== undefined ? vo < vi : divExactDims(pi, po) !== undefined ? true : divExactDims(po, pi) !== undefined ? false : i >= ins.length;
        if (growOut) {
          const n = outs[o++];
          if (!n) return this.reshapeLinear(inShape, outShape, idx);
          go.push(n);
          po = mulDims(po, n.d);
        } else {
          const n = ins[i++];
          if (!n) return this.reshapeLinear(inShape, outShape, idx);
          gi.push(n);
          pi = mulDims(pi, n.d);
        }
      }
      if (gi.length === 1 && go.length === 1) {
        out[gi[0]!.k] = idx[go[0]!.k]!;
        continue;
      }
      let lin: Ix = ZERO;
      for (const x of go) lin = ixAdd(ixMul(lin, this.dim(x!.d)), idx[x!.k]!);
      const coords = this.unravel(lin, gi.map((x) => x!.d));
      gi.forEach((x, n) => (out[x!.k] = coords[n]!));
    }
    return out;
  }

  private reshapeLinear(inShape: Shape, outShape: Shape, idx: Ix[]): Ix[] {
    return this.unravel(this.offset(outShape, idx), inShape);
  }
}

/**
 * The linear index whose coordinates over [Da, Db] are (a, b), when (a, b) is the unravelling of one index q:
 * (q / Db, q % Db) → q; (c + q / Db, q % Db) → c·Db + q; ((q / Db) % Da, q % Db) → q % (Da·Db) (literal dims only).
 */
function ravelPair(a: Ix, b: Ix, db: Ix, da: Ix): Ix | undefined {
  if (b.kind !== 'op' || b.op !== '%' || !ixEq(b.b, db)) return undefined;
  const q = b.a;
  const over = ixNode('/', q, db);
  if (ixEq(a, over)) return q;
  // a block's offset along an outer axis plus a lane's offset in the block (map-kernel.ts blockLoopMap)
  if (a.kind === 'op' && a.op === '+' && (ixEq(a.a, over) || ixEq(a.b, over))) return ixAdd(ixMul(ixEq(a.a, over) ? a.b : a.a, db), q);
  if (a.kind === 'op' && a.op === '%' && ixEq(a.a, over) && ixEq(a.b, da) && da.kind === 'lit' && db.kind === 'lit') return ixNode('%', q, ixLit(da.value * db.value));
  return undefined;
}
