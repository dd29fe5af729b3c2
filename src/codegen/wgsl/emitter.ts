// Expression lowering: the value of a graph node at an index, as WGSL. Elementwise and view ops inline into
// whatever kernel reads them; reductions and matmuls are either registers of the current kernel (a row's
// result) or loads from the buffer they were materialised in. One entry per op of the op table.
import { addDims, dimEq, mulDims } from '../../graph/dims.js';
import type { Dim, DType, Graph, Node, NodeOf, OpName, Shape } from '../../graph/types.js';
import { ixAdd, ixDiv, ixEq, ixKey, ixLit, ixListKey, ixMul, ixNode, ixSub, ixVar, ixVars, isVar, ONE, type Ix } from '../../compiler/schedule/index-expr.js';
import { INDEX_MAPS, isGlobalPool, planeCell, type Read } from '../../compiler/schedule/reads.js';
import { IndexMath, isOne } from '../../compiler/schedule/index-math.js';
import { dimValueExpr } from './dim-value.js';
import { scaledExp } from './scaled-exp.js';
import { Scope, ScopeTree } from './scope.js';
import { compensatedAdd, compensatedDecl, compensatedValue } from './compensated.js';
import { all, assign, at, at4, at4s, bare, bin, call, f32, forS, hex, i32, ifS, isAtom, ixE, lane, not, ref, u32, varS, type Expr, type Stmt } from '../kernel-ir/ir.js';
import { BINARY_LOWERING, UNARY_LOWERING, type BinaryLowering, type UnaryLowering } from '../kernel-ir/scalar-lowering.js';
import { binaryFn, unaryFn } from '../../graph/ops/scalar-fns.js';

export type WgslType = 'f32' | 'i32';
export const wgslType = (d: DType): WgslType => (d === 'int' ? 'i32' : 'f32');

export interface Materialized {
  /** WGSL variable of the storage buffer. */
  name: string;
  dtype: WgslType;
  shape: Shape;
}

export interface EmitEnv {
  graph: Graph;
  math: IndexMath;
  /** A node held in a register of this kernel (a reduction of the current row), read at `idx`. */
  register?(node: number, idx: Ix[]): Expr | undefined;
  /** Is the node a register of this kernel that can be read now (a reduction of a finished sweep)? */
  hasRegister?(node: number): boolean;
  /** The buffer a node was materialised in, if any. */
  buffer(node: number): Materialized | undefined;
  /** Nodes whose value is `scale · Π dims` (a sum over a broadcast constant). */
  dimValue?(node: number): { scale: number; dims: Dim[] } | undefined;
}


/**
 * Quad sweeps: each thread takes 4 consecutive elements of the row's last axis per iteration, and rows of a
 * buffer whose last dim is that axis are read as one vec4 (lane `lane` of it).
 */
export interface QuadContext {
  /** The coordinate that walks the quad axis (`4t + lane`). */
  coord: string;
  lane: number;
  /** The size of the quad axis (a multiple of 4 whenever the quad path runs, unless rowOffset is set). */
  dim: Dim;
  /** The loop over quads (vec4 loads are bound there, once for the 4 lanes). */
  loop: Scope;
  /** Quad index variable. */
  t: string;
  /**
   * Rows whose length is not a multiple of 4 (misaligned quads): `t` is a global quad index (elements 4t…4t+3
   * of the buffers), and only buffers whose row starts where the domain's does — this row offset (in rows) —
   * are read as vec4s; the others are read element by element.
   */
  rowOffset?: Ix;
  /**
   * Also read as vec4s the buffers whose flat offset is `x + coord` with x a multiple of 4 free of the coordinate,
   * whatever their shape (a matmul's K axis over a reshaped [.., C, H, W] input: its offset is `x + k`); the
   * coordinate walks whole quads of it (K a multiple of 4).
   */
  flat?: boolean;
  /** With flat: bind each vec4 where its index is defined (the coordinate is one fixed quad `4t + lane` of an axis
   *  walked elsewhere), not in `loop`. */
  local?: boolean;
  /**
   * With flat: variables the part x of an offset x + coord must not contain — the coordinates the lanes of a quad
   * bind under names of their own (map kernels, column passes: each lane a position of its own, the 4 lanes'
   * vec4 shared): a row that moves with the lane is read element by element.
   */
  laneVars?: ReadonlySet<string>;
}

export class Emitter {
  /** Buffers this kernel declares as array<vec4<f32>> (scalar reads index them [i / 4][i % 4]). */
  vec4 = new Set<string>();
  quad: QuadContext | undefined;

  constructor(
    readonly env: EmitEnv,
    readonly scopes: ScopeTree,
  ) {}

  private node(id: number): Node {
    return this.env.graph.nodes[id]!;
  }

  /** The value of node `id` at `idx` (a variable or literal; statements go to the right scope). */
  value(id: number, idx: Ix[]): Expr {
    const reg = this.env.register?.(id, idx);
    if (reg !== undefined) return reg;
    const buf = this.env.buffer(id);
    if (buf) return this.load(buf, idx);
    return this.compute(id, idx);
  }

  /** Like value(), but never reads the node's own buffer (the kernel that materialises it). */
  compute(id: number, idx: Ix[]): Expr {
    const n = this.node(id);
    const scope = this.scopes.scopeOf(idx);
    const key = `${id}@${ixListKey(idx)}`;
    const hit = scope.memo.get(key);
    if (hit !== undefined) return hit;
    const expr = this.lower(n, idx, scope);
    // bound in the scope of its index, where it is memoised; the hoisting pass (kernel-ir/hoist.ts) moves it out of
    // the loops it does not depend on
    const name = isAtom(expr) ? expr : this.scopes.bind(scope, 'v', expr);
    scope.memo.set(key, name);
    return name;
  }

  /** Element `idx` of a materialised buffer. */
  load(buf: Materialized, idx: Ix[]): Expr {
    const scope = this.scopes.scopeOf(idx);
    const key = `load:${buf.name}@${ixListKey(idx)}`;
    const hit = scope.memo.get(key);
    if (hit !== undefined) return hit;
    const q = this.quadLoad(buf, idx);
    if (q !== undefined) {
      scope.memo.set(key, q);
      return q;
    }
    const off = ixE(this.env.math.offset(buf.shape, idx));
    const name = this.scopes.bind(scope, 'v', this.vec4.has(buf.name) ? at4s(buf.name, off) : at(buf.name, off));
    scope.memo.set(key, name);
    return name;
  }

  /** In a quad sweep: lane `lane` of the vec4 holding elements 4t…4t+3 of this buffer row, if it has that layout. */
  private quadLoad(buf: Materialized, full: Ix[]): Expr | undefined {
    const q = this.quad;
    if (q?.flat && buf.dtype === 'f32') return this.flatQuadLoad(q, buf, full);
    // trailing unit axes do not move the offset (a statistic kept as [C, 1], read along C)
    let r = buf.shape.length;
    while (r > 1 && buf.shape[r - 1] === 1) r--;
    const shape = buf.shape.slice(0, r);
    const idx = full.slice(0, r);
    if (!q || buf.dtype !== 'f32' || r === 0 || !isVar(idx[r - 1], q.coord) || dimEq(shape[r - 1]!, q.dim) !== true) return undefined;
    const prefix = idx.slice(0, -1);
    if (this.scopes.scopeOf(prefix).depth >= q.loop.depth) return undefined;
    const m = this.env.math;
    const key = `quad:${buf.name}@${ixListKey(prefix)}`;
    let v = q.loop.memo.get(key);
    if (v === undefined) {
      const row = m.offset(shape.slice(0, -1), prefix);
      if (q.rowOffset !== undefined && !ixEq(row, q.rowOffset)) return undefined;
      const at = q.rowOffset !== undefined ? ixVar(q.t) : ixAdd(ixMul(row, ixNode('/', m.dim(q.dim), ixLit(4))), ixVar(q.t));
      v = this.scopes.bind(q.loop, 'q', at4(buf.name, ixE(at)));
      q.loop.memo.set(key, v);
    }
    return lane(v, q.lane);
  }

  /**
   * QuadContext.flat: the index of the vec4 holding element `idx` of an f32 array of `shape` — (x + 4t) / 4 where the
   * element's flat offset is x + coord (x a multiple of 4 free of the coordinate); undefined where it has no such offset.
   */
  flatQuadIndex(shape: Shape, idx: Ix[]): Ix | undefined {
    const q = this.quad;
    if (!q?.flat) return undefined;
    const off = this.env.math.offset(shape, idx);
    // the offset is the coordinate itself (x = 0: a buffer over the quad's axes only)
    if (q.laneVars && isVar(off, q.coord)) return ixVar(q.t);
    const x = withoutTerm(off, q.coord);
    const vars = x === undefined ? [] : ixVars(x);
    const x4 = x === undefined || vars.includes(q.coord) || vars.some((v) => q.laneVars?.has(v)) ? undefined : quarter(x);
    if (x4 === undefined || (!q.local && this.scopes.scopeOf([x4]).depth >= q.loop.depth)) return undefined;
    return ixAdd(x4, ixVar(q.t));
  }

  /** QuadContext.flat: lane `lane` of the vec4 at (x + 4t) / 4 where the element's flat offset is x + coord. */
  private flatQuadLoad(q: QuadContext, buf: Materialized, idx: Ix[]): Expr | undefined {
    const at = this.flatQuadIndex(buf.shape, idx);
    if (at === undefined) return undefined;
    const scope = q.local ? this.scopes.scopeOf([at]) : q.loop;
    const key = `quad:${buf.name}@${ixKey(at)}`;
    let v = scope.memo.get(key);
    if (v === undefined) {
      v = this.scopes.bind(scope, 'q', at4(buf.name, ixE(at)));
      scope.memo.set(key, v);
    }
    return lane(v, q.lane);
  }

  /**
   * An f32 constant. NaN and ±inf (also finite values that round to ±inf in f32) have no WGSL literal, and a
   * const-expression producing one is a shader-creation error: they are built from their IEEE-754 bits by a
   * helper function, which keeps them out of constant evaluation — torch's NaN/inf semantics, not F32_MAX.
   */
  f32Const(v: number): Expr {
    const f = Math.fround(v);
    if (Number.isFinite(f)) return f32(v);
    return call('f32_bits', hex(Number.isNaN(f) ? 0x7fc00000 : f > 0 ? 0x7f800000 : 0xff800000));
  }

  private isConst(id: number): boolean {
    return this.node(id).op === 'const';
  }

  private isZeroConst(id: number): boolean {
    const n = this.node(id);
    return n.op === 'const' && Math.fround(n.attrs.value) === 0;
  }

  /** x · ±0 (`negative`: −0) with IEEE semantics (NaN where x is ±inf or NaN, else ±0 by the signs): drivers may fold
   *  `x * 0.0` to +0 (WGSL allows finite math). */
  private mulZero(x: Expr, negative: boolean): Expr {
    return call('mul_zero_f32', x, hex(negative ? 0x80000000 : 0));
  }

  /** Node `id`'s value in f32 where it is arithmetic on scalar constants through broadcasts, else undefined. */
  private constantValue(id: number): number | undefined {
    const n = this.node(id);
    if (n.dtype !== 'float') return undefined;
    if (n.op === 'const') return Math.fround(n.attrs.value);
    if (n.op === 'broadcast' || n.op === 'reshape' || n.op === 'detach') return this.constantValue(n.inputs[0]!);
    if (n.op !== 'unary' && n.op !== 'binary') return undefined;
    const p = this.constantValue(n.inputs[0]!);
    if (p === undefined) return undefined;
    if (n.op === 'unary') return Math.fround(unaryFn(n.attrs.fn)(p));
    const q = this.constantValue(n.inputs[1]!);
    return q === undefined ? undefined : Math.fround(binaryFn(n.attrs.fn)(p, q));
  }

  /** Is node `id` a constant −0? */
  private isNegativeZero(id: number): boolean {
    const n = this.node(id);
    return n.op === 'const' && Object.is(Math.fround(n.attrs.value), -0);
  }

  /** Is the binary op on nodes a, b (values va, vb) x − x or x + (−x): the same value, or a node and its negation? */
  private cancels(fn: string, a: number, b: number, va: Expr, vb: Expr): boolean {
    const negOf = (m: number, x: number) => {
      const n = this.node(m);
      return n.op === 'unary' && n.attrs.fn === 'neg' && n.inputs[0] === x;
    };
    if (fn === 'sub') return JSON.stringify(va) === JSON.stringify(vb);
    return fn === 'add' && (negOf(b, a) || negOf(a, b));
  }

  /**
   * x − x (and x + (−x)) as IEEE has it: +0, NaN where x is ±inf or NaN. Drivers fold both to 0 (WGSL allows
   * finite math; Mesa's NIR does), and then fold a division by that 0 to 0: `s / (t − t)` was a finite loss.
   * |x| · 0 is the same value, and mulZero keeps it NaN for ±inf and NaN.
   */
  private selfDifference(x: Expr): Expr {
    return this.mulZero(call('abs', x), false);
  }

  /** `x` converted to type `t`. */
  as(x: Expr, from: WgslType, t: WgslType): Expr {
    return from === t ? x : call(t, x);
  }

  private typed(id: number, idx: Ix[], t: WgslType): Expr {
    const n = this.node(id);
    return this.as(this.value(id, idx), wgslType(n.dtype), t);
  }

  private lower(n: Node, idx: Ix[], scope: Scope): Expr {
    return (this.lowering[n.op] as (n: Node, idx: Ix[], scope: Scope) => Expr)(n, idx, scope);
  }

  /**
   * The lowering of every op of the op table (src/graph/ops) to kernel IR, keyed by op name: the table's fourth
   * column. Exhaustive by type — a primitive added without its lowering does not compile.
   */
  private readonly lowering: { [K in OpName]: (n: NodeOf<K>, idx: Ix[], scope: Scope) => Expr } = {
    const: (n) => {
      const t = wgslType(n.dtype);
      return t === 'f32' ? this.f32Const(n.attrs.value) : i32(n.attrs.value);
    },
    iota: (n, idx) => {
      const t = wgslType(n.dtype);
      return call(t, ixE(idx[n.attrs.axis]!));
    },
    input: (n) => {
      throw new Error(`input '${n.attrs.name}' has no buffer in this kernel`);
    },
    detach: (n, idx) => {
      const t = wgslType(n.dtype);
      return this.typed(n.inputs[0]!, idx, t);
    },
    cast: (n, idx) => {
      const t = wgslType(n.dtype);
      const x = this.node(n.inputs[0]!);
      if (x.op === 'const' && t === 'i32') return i32(Math.trunc(x.attrs.value));
      return this.typed(n.inputs[0]!, idx, t);
    },
    // views read their input where the op table's index map says (the scheduler's analysis follows the same maps)
    broadcast: (n, idx) => this.view(n, INDEX_MAPS.broadcast(n, idx, this.env.math, this.env.graph)),
    reshape: (n, idx) => this.view(n, INDEX_MAPS.reshape(n, idx, this.env.math, this.env.graph)),
    permute: (n, idx) => this.view(n, INDEX_MAPS.permute(n, idx, this.env.math, this.env.graph)),
    slice: (n, idx) => this.view(n, INDEX_MAPS.slice(n, idx, this.env.math, this.env.graph)),
    unary: (n, idx) => this.unary(n, idx),
    binary: (n, idx) => this.binary(n, idx),
    where: (n, idx) => {
      const m = this.env.math;
      const t = wgslType(n.dtype);
      const [c, a, b] = n.inputs as [number, number, number];
      const cond = this.truthy(c, m.broadcast(this.shape(c), n.shape, idx));
      const va = this.typed(a, m.broadcast(this.shape(a), n.shape, idx), t);
      const vb = this.typed(b, m.broadcast(this.shape(b), n.shape, idx), t);
      return call('select', vb, va, cond);
    },
    gather: (n, idx) => {
      const m = this.env.math;
      const t = wgslType(n.dtype);
      const [x, index] = n.inputs as [number, number];
      const axis = n.attrs.axis;
      const k = this.typed(index, idx, 'i32');
      const size = ixE(m.dim(this.shape(x)[axis]!));
      const xi = [...idx];
      // bound where the index value is (not in the gather's own scope: an inner quad block would hide it from the
      // quad loads of the rows it picks, which are bound outside the lanes)
      const gi = call('min', call('u32', call('max', k, i32(0))), bare('-', size, u32(1)));
      const at = this.scopes.scopeOf([gi]);
      const key = `gather:${JSON.stringify(gi)}`;
      let g = at.memo.get(key);
      if (g === undefined) {
        g = ref(this.scopes.bindName(at, 'g', gi));
        at.memo.set(key, g);
      }
      xi[axis] = ixVar((g as { name: string }).name);
      return this.typed(x, xi, t);
    },
    scatter_add: (n, idx, scope) => this.scatterAdd(n, idx, scope),
    index_copy: (n, idx, scope) => this.indexCopy(n, idx, scope),
    slice_scatter: (n, idx) => {
      const m = this.env.math;
      const t = wgslType(n.dtype);
      const { axis, start, end, step } = n.attrs;
      const i = ixE(idx[axis]!);
      const s = ixE(m.dim(start));
      const rel = ixE(ixSub(idx[axis]!, m.dim(start)));
      const [src] = INDEX_MAPS.slice_scatter(n, idx, m, this.env.graph) as [Read];
      const v = this.typed(src.node, src.idx, t);
      const bounds = [bare('>=', i, s), bare('<', i, ixE(m.dim(end)))];
      const inRange = all(...bounds, ...(step === 1 ? [] : [bare('==', bare('%', rel, u32(step)), u32(0))]));
      return call('select', this.zero(t), v, inRange);
    },
    concat: (n, idx) => {
      const m = this.env.math;
      const t = wgslType(n.dtype);
      const axis = n.attrs.axis;
      let at: Dim = 0;
      const starts = n.inputs.map((x) => {
        const start = at;
        at = addDims(at, this.shape(x)[axis]!);
        return start;
      });
      const reads = INDEX_MAPS.concat(n, idx, m, this.env.graph);
      let expr: Expr | undefined;
      for (let k = reads.length - 1; k >= 0; k--) {
        const v = this.typed(reads[k]!.node, reads[k]!.idx, t);
        expr = expr === undefined ? v : call('select', expr, v, bare('<', ixE(idx[axis]!), ixE(m.dim(starts[k + 1]!))));
      }
      return expr!;
    },
    adaptive_pool2d: (n, idx, scope) => this.adaptivePool(n, idx, scope),
    adaptive_pool2d_grad: (n, idx, scope) => this.adaptivePoolGrad(n, idx, scope),
    reduce: (n) => {
      const m = this.env.math;
      const t = wgslType(n.dtype);
      const dv = this.env.dimValue?.(n.id);
      if (dv) {
        const dims = dv.dims.filter((d) => !isOne(d));
        const prod = mulDims(...dims);
        if (typeof prod === 'number') return t === 'f32' ? this.f32Const(dv.scale * prod) : i32(dv.scale * prod);
        const c = dimValueExpr(prod, m, t);
        return dv.scale === 1 ? c : bin('*', t === 'f32' ? this.f32Const(dv.scale) : i32(dv.scale), c);
      }
      throw new Error(`reduction node ${n.id} is neither a register nor a buffer of this kernel`);
    },
    matmul: (n) => this.notInline(n),
    sort: (n) => this.notInline(n),
    cholesky: (n) => this.notInline(n),
    triangular_solve: (n) => this.notInline(n),
    ctc_nll: (n) => this.notInline(n),
    ctc_nll_grad: (n) => this.notInline(n),
  };

  /** A view: its one input read at the index the op table's index map gives. */
  private view(n: Node, [r]: Read[]): Expr {
    return this.typed(r!.node, r!.idx, wgslType(n.dtype));
  }

  /** Ops computed by a kernel structure of their own are read from a register or a buffer, never inlined. */
  private notInline(n: Node): never {
    throw new Error(`${n.op} node ${n.id} is neither a register nor a buffer of this kernel`);
  }

  private shape(id: number): Shape {
    return this.node(id).shape;
  }

  private zero(t: WgslType): Expr {
    return t === 'f32' ? f32(0) : i32(0);
  }

  /** `x != 0` as a bool. */
  truthy(id: number, idx: Ix[]): Expr {
    const n = this.node(id);
    // comparisons are emitted as select(0, 1, cond): use the condition directly
    const cond = n.op === 'binary' ? (BINARY_LOWERING[n.attrs.fn] as BinaryLowering).cond : undefined;
    if (n.op === 'binary' && cond && !this.env.buffer(id) && !this.env.register?.(id, idx)) {
      const [a, b] = n.inputs as [number, number];
      const ct = this.operandType(a, b);
      const va = this.typed(a, this.env.math.broadcast(this.shape(a), n.shape, idx), ct);
      const vb = this.typed(b, this.env.math.broadcast(this.shape(b), n.shape, idx), ct);
      return cond(va, vb, ct, bin);
    }
    const v = this.value(id, idx);
    // a float on its bits (±0 false, NaN true as in torch): Mesa evaluates `!=` as an ordered comparison, and WGSL
    // may assume finite math
    return wgslType(n.dtype) === 'f32' ? bin('!=', bin('&', call('bitcast<u32>', v), hex(0x7fffffff)), u32(0)) : bin('!=', v, i32(0));
  }

  private operandType(a: number, b: number): WgslType {
    return this.node(a).dtype === 'int' && this.node(b).dtype === 'int' ? 'i32' : 'f32';
  }

  /** The op's lowering (kernel-ir/scalar-lowering.ts) on its operand; a negated literal is a literal. */
  private unary(n: NodeOf<'unary'>, idx: Ix[]): Expr {
    const t = wgslType(n.dtype);
    if (n.attrs.fn === 'exp') {
      const twin = scaledExp(this.env.graph, n.id);
      if (twin && (this.env.buffer(twin.max) || this.env.hasRegister?.(twin.max))) {
        // exp(x − max x) as the k-th power of exp(x/k − max(x/k)) (scaled-exp.ts), by squarings
        let e = this.value(twin.exp, idx);
        for (let k = 1; k < twin.squarings; k++) e = this.scopes.bind(this.scopes.scopeOf([e]), 'v', bare('*', e, e));
        return bare('*', e, e);
      }
    }
    const x = this.typed(n.inputs[0]!, idx, t);
    // a negated literal is a literal (used in place, like any constant)
    if (n.attrs.fn === 'neg' && x.k === 'f32') return f32(-x.v);
    if (n.attrs.fn === 'neg' && x.k === 'i32' && x.v > -2147483648) return i32(-x.v);
    const low: UnaryLowering = UNARY_LOWERING[n.attrs.fn];
    if (t === 'f32') return low.f32(x);
    if (!low.i32) throw new Error(`unary ${n.attrs.fn} on int`);
    return low.i32(x);
  }

  /**
   * The op's lowering (kernel-ir/scalar-lowering.ts) on its operands, except where a constant operand allows a
   * cheaper form with the same IEEE result: x · ±0 (mulZero), x / c (divide), small constant powers (pow).
   */
  private binary(n: NodeOf<'binary'>, idx: Ix[]): Expr {
    const [a, b] = n.inputs as [number, number];
    const m = this.env.math;
    const ia = m.broadcast(this.shape(a), n.shape, idx);
    const ib = m.broadcast(this.shape(b), n.shape, idx);
    const t = wgslType(n.dtype);
    const fn = n.attrs.fn;
    const low: BinaryLowering = BINARY_LOWERING[fn];
    const ot = low.operands === 'common' ? this.operandType(a, b) : low.operands === 'f32' ? 'f32' : t;
    const bn = this.node(b);
    if (fn === 'pow' && t === 'f32' && bn.op === 'const') {
      // x^0 = 1 for every x (NaN included): the base is not evaluated, so nothing it reads needs to be bound
      if (bn.attrs.value === 0) return f32(1);
      const p = this.constPow(this.typed(a, ia, 'f32'), bn.attrs.value);
      if (p) return p;
    }
    const va = this.typed(a, ia, ot);
    const vb = this.typed(b, ib, ot);
    if (t === 'f32' && this.cancels(fn, a, b, va, vb)) return this.selfDifference(va);
    if (t === 'f32' && fn === 'mul') {
      if (this.isZeroConst(b) && !this.isConst(a)) return this.mulZero(va, this.isNegativeZero(b));
      if (this.isZeroConst(a) && !this.isConst(b)) return this.mulZero(vb, this.isNegativeZero(a));
    }
    if (t === 'f32' && fn === 'div') return this.divide(va, vb, a, b, n.shape);
    return low.lower(va, vb, t, ot);
  }

  /**
   * a / b, as a multiplication when b is broadcast along a dim of the quotient: by the exact reciprocal of a
   * power-of-two constant, or by 1/b bound where b is (one division per row instead of one per element); a constant
   * a = ±0 over a run-time b on the bits (zero_div_f32).
   * The choice depends on the graph only, never on where the value is evaluated: the same node at the same
   * index gives bit-identical results everywhere (comparisons such as a rank's `p > p[label]` rely on it).
   */
  private divide(va: Expr, vb: Expr, a: number, b: number, out: Shape): Expr {
    const bn = this.node(b);
    // ±0 / x (x not a constant) on the bits: drivers fold `0.0 / x` to 0, where x = 0 or NaN gives NaN — also a 0
    // the driver computes from constants (a gradient's −(g · −0.0) with g a broadcast constant)
    const zero = this.constantValue(a);
    if (zero === 0 && bn.op !== 'const') return call('zero_div_f32', hex(Object.is(zero, -0) ? 0x80000000 : 0), vb);
    if (bn.op === 'const') {
      const c = bn.attrs.value;
      const r = 1 / c;
      if (Number.isFinite(r) && r !== 0 && Math.fround(r) === r && Math.log2(Math.abs(c)) % 1 === 0) return bin('*', va, f32(r));
      // x / ±0 as x · ±inf (the same IEEE result, 0/0 and NaN included): drivers fold `x / 0.0` to 0
      if (Math.fround(c) === 0) return bin('*', va, this.f32Const(r));
      // x / ±inf as x · ±0 (NaN for x = ±inf or NaN)
      if (!Number.isFinite(Math.fround(c)) && !Number.isNaN(c)) return this.mulZero(va, c < 0);
      return bin('/', va, vb);
    }
    if (!this.broadcastAlong(b, out)) return bin('/', va, vb);
    const there = this.scopes.scopeOf([vb]);
    const key = `recip:${JSON.stringify(vb)}`;
    let inv = there.memo.get(key);
    if (inv === undefined) {
      inv = this.scopes.bind(there, 'v', bin('/', f32(1), vb));
      there.memo.set(key, inv);
    }
    return bin('*', va, inv);
  }

  /** Is node `b` (through explicit broadcasts) size 1 or absent along some non-1 dim of `out` (right-aligned)? */
  private broadcastAlong(b: number, out: Shape): boolean {
    let x = this.node(b);
    while (x.op === 'broadcast' || x.op === 'detach') x = this.node(x.inputs[0]!);
    const s = x.shape;
    return out.some((d, k) => {
      const q = k - (out.length - s.length);
      return !isOne(d) && (q < 0 || isOne(s[q]!));
    });
  }

  /** x^c for a constant c by multiplication (exact for negative x), sqrt or inverseSqrt; undefined: the general pow. */
  private constPow(x: Expr, c: number): Expr | undefined {
    if (c === 0) return f32(1);
    if (c === 1) return x;
    if (c === 0.5) return call('sqrt', x);
    if (c === -0.5) return call('inverseSqrt', x);
    if (!Number.isInteger(c) || Math.abs(c) > 8) return undefined;
    // x * x * … * x, parenthesised as a whole
    let prod = x;
    for (let k = 1; k < Math.abs(c); k++) prod = k === Math.abs(c) - 1 ? bin('*', prod, x) : bare('*', prod, x);
    return c > 0 ? prod : bin('/', f32(1), prod);
  }

  /** out[idx] = Σ_j [index[idx/axis=j] == idx[axis]] · src[idx/axis=j] (a loop over the index axis). */
  private scatterAdd(n: NodeOf<'scatter_add'>, idx: Ix[], scope: Scope): Expr {
    const [index, src] = n.inputs as [number, number];
    const axis = n.attrs.axis;
    const is = this.shape(index);
    const t = wgslType(n.dtype);
    const acc = this.scopes.fresh('acc');
    if (t === 'f32') scope.lines.push(...compensatedDecl(acc));
    else scope.lines.push(varS(acc, t, this.zero(t)));
    this.scopes.define(acc, scope);
    const inner = this.scopes.open(scope);
    const j = this.scopes.fresh('j');
    this.scopes.define(j, inner);
    const ji = [...idx];
    ji[axis] = ixVar(j);
    const k = this.typed(index, ji, 'i32');
    const v = this.typed(src, ji, t);
    // index may be smaller than the output along the other axes: those outputs receive nothing
    const bounds = is.flatMap((d, q) => (q === axis || dimEq(d, n.shape[q]!) === true ? [] : [bare('<', ixE(idx[q]!), ixE(this.env.math.dim(d)))]));
    const cond = all(bare('==', k, call('i32', ixE(idx[axis]!))), ...bounds);
    const term = call('select', this.zero(t), v, cond);
    inner.lines.push(t === 'f32' ? compensatedAdd(acc, term) : assign(ref(acc), bare('+', ref(acc), term)));
    this.scopes.close(inner, (body) => forS(j, u32(0), bare('<', ref(j), ixE(this.env.math.dim(is[axis]!))), u32(1), body));
    return t === 'f32' ? compensatedValue(acc) : ref(acc);
  }

  /**
   * index_copy read functionally: out[idx] = src[idx/axis=b] for the last b with index[b] == idx[axis], else
   * x[idx] (a loop over the index). A state output that is an index_copy of its state input is not read this way:
   * the scheduler stores it in place, writing only the B slices (schedule/in-place-state.ts).
   */
  private indexCopy(n: NodeOf<'index_copy'>, idx: Ix[], scope: Scope): Expr {
    const [x, index, src] = n.inputs as [number, number, number];
    const axis = n.attrs.axis;
    const t = wgslType(n.dtype);
    const last = this.scopes.fresh('last');
    scope.lines.push(varS(last, 'i32', i32(-1)));
    this.scopes.define(last, scope);
    const inner = this.scopes.open(scope);
    const j = this.scopes.fresh('j');
    this.scopes.define(j, inner);
    const k = this.typed(index, [ixVar(j)], 'i32');
    inner.lines.push(assign(ref(last), call('select', ref(last), call('i32', ref(j)), bare('==', k, call('i32', ixE(idx[axis]!))))));
    this.scopes.close(inner, (body) => forS(j, u32(0), bare('<', ref(j), ixE(this.env.math.dim(this.shape(index)[0]!))), u32(1), body));
    const si = [...idx];
    si[axis] = ixVar(this.scopes.bindName(scope, 'c', call('u32', call('max', ref(last), i32(0)))));
    return call('select', this.typed(x, idx, t), this.typed(src, si, t), bare('>=', ref(last), i32(0)));
  }

  /** torch adaptive pooling bins: [floor(i·H/k), ceil((i+1)·H/k)). */
  private bin(i: Ix, size: Dim, k: Dim): [Expr, Expr] {
    const m = this.env.math;
    const S = m.dim(size);
    const K = m.dim(k);
    return [ixE(ixDiv(ixMul(i, S), K)), ixE(ixDiv(ixSub(ixAdd(ixMul(ixAdd(i, ONE), S), K), ONE), K))];
  }

  /** `for (var v = from; v < to; v = v + 1u)` over a scope's statements. */
  private static upTo(v: string, from: Expr, to: Expr): (body: Stmt[]) => Stmt {
    return (body) => forS(v, from, bare('<', ref(v), to), u32(1), body);
  }

  private adaptivePool(n: NodeOf<'adaptive_pool2d'>, idx: Ix[], scope: Scope): Expr {
    const x = n.inputs[0]!;
    const xs = this.shape(x);
    const r = xs.length;
    const [H, W] = [xs[r - 2]!, xs[r - 1]!];
    const [oh, ow] = n.attrs.out;
    const max = n.attrs.fn === 'max';
    if (isGlobalPool(n)) return this.wholePlanePool(x, idx, H, W, max, scope);
    const [h0, h1] = this.bin(idx[r - 2]!, H, oh).map((e) => this.scopes.bind(scope, 'b', e)) as [Expr, Expr];
    const [w0, w1] = this.bin(idx[r - 1]!, W, ow).map((e) => this.scopes.bind(scope, 'b', e)) as [Expr, Expr];
    const acc = this.poolAccumulator(max, scope);
    const outer = this.scopes.open(scope);
    const h = this.scopes.fresh('h');
    this.scopes.define(h, outer);
    const inner = this.scopes.open(outer);
    const w = this.scopes.fresh('w');
    this.scopes.define(w, inner);
    const xi = [...idx];
    xi[r - 2] = ixVar(h);
    xi[r - 1] = ixVar(w);
    const v = this.typed(x, xi, 'f32');
    inner.lines.push(max ? assign(ref(acc), call('max_f32', ref(acc), v)) : compensatedAdd(acc, v));
    this.scopes.close(inner, Emitter.upTo(w, w0, w1));
    this.scopes.close(outer, Emitter.upTo(h, h0, h1));
    return max ? ref(acc) : bin('/', compensatedValue(acc), call('f32', bare('*', bin('-', h1, h0), bin('-', w1, w0))));
  }

  /**
   * A pool's accumulator declared in `scope`: a running max from −inf, or a compensated sum. The max folds with
   * max_f32 (a NaN cell makes the bin's max NaN, as torch's; WGSL's max may drop it).
   */
  private poolAccumulator(max: boolean, scope: Scope): string {
    const acc = this.scopes.fresh('acc');
    if (max) scope.lines.push(varS(acc, 'f32', this.f32Const(-Infinity)));
    else scope.lines.push(...compensatedDecl(acc));
    this.scopes.define(acc, scope);
    return acc;
  }

  /**
   * Pooling to 1×1 (a global pool): the one bin is the whole H × W plane, taken as one loop over its H·W cells in
   * row-major order (the h/w loops' order, so the same sum): cell k is (k / W, k % W), which the offsets ravel back
   * to k. Two nested loops of constant trip counts (7 × 7) are what Mesa's NIR fully unrolls (lavapipe: 1.4–2.6 s
   * of compile for one such map kernel); one loop of H·W trips past its unroll limit is not.
   */
  private wholePlanePool(x: number, idx: Ix[], H: Dim, W: Dim, max: boolean, scope: Scope): Expr {
    const m = this.env.math;
    const acc = this.poolAccumulator(max, scope);
    const r = idx.length;
    const loop = this.scopes.open(scope);
    const k = this.scopes.fresh('k');
    this.scopes.define(k, loop);
    const xi = [...idx];
    [xi[r - 2], xi[r - 1]] = planeCell(ixVar(k), m.dim(W));
    const v = this.typed(x, xi, 'f32');
    loop.lines.push(max ? assign(ref(acc), call('max_f32', ref(acc), v)) : compensatedAdd(acc, v));
    const cells = m.dim(mulDims(H, W));
    this.scopes.close(loop, Emitter.upTo(k, u32(0), ixE(cells)));
    return max ? ref(acc) : bin('/', compensatedValue(acc), call('f32', ixE(cells)));
  }

  /**
   * VJP of adaptive pooling at input cell (h, w): Σ over output cells whose bin holds (h, w) of g / |bin| (avg),
   * or of g where (h, w) is the bin's first maximum or last NaN (max).
   */
  private adaptivePoolGrad(n: NodeOf<'adaptive_pool2d_grad'>, idx: Ix[], scope: Scope): Expr {
    const max = n.attrs.fn === 'max';
    const [x, g] = (max ? n.inputs : [undefined, n.inputs[0]]) as [number | undefined, number];
    const gs = this.shape(g);
    const r = gs.length;
    const [oh, ow] = [gs[r - 2]!, gs[r - 1]!];
    const [H, W] = n.attrs.in;
    const m = this.env.math;
    const hh = idx[r - 2]!;
    const ww = idx[r - 1]!;
    if (!max && [H, oh, W, ow].every((d) => typeof d === 'number') && (H as number) % (oh as number) === 0 && (W as number) % (ow as number) === 0) {
      // equal, disjoint bins of sh × sw cells: (h, w) lies in exactly one, (⌊h/sh⌋, ⌊w/sw⌋)
      const [sh, sw] = [(H as number) / (oh as number), (W as number) / (ow as number)];
      const gi = [...idx];
      gi[r - 2] = ixDiv(hh, ixLit(sh));
      gi[r - 1] = ixDiv(ww, ixLit(sw));
      return bin('/', this.typed(g, gi, 'f32'), call('f32', u32(sh * sw)));
    }
    if (!max && [H, oh, W, ow].every((d) => typeof d === 'number') && (oh as number) <= (H as number) && (ow as number) <= (W as number)) {
      // downsampling: bins start at least one cell apart, so (h, w) lies in at most two per axis — output cells
      // ⌊h·oh/H⌋ and the next, each counted when it exists and its bin holds (h, w); unrolled, no loops
      const axis = (c: Ix, size: number, k: number) =>
        [0, 1].map((d) => {
          const raw = this.scopes.bindName(scope, 'b', ixE(ixAdd(ixDiv(ixMul(c, ixLit(k)), ixLit(size)), ixLit(d))));
          const i = this.scopes.bindName(scope, 'b', call('min', ref(raw), u32(k - 1)));
          const [lo, hi] = this.bin(ixVar(i), size, k).map((e) => this.scopes.bind(scope, 'b', e)) as [Expr, Expr];
          const p = ixE(c);
          return { ix: ixVar(i), ok: all(bare('<', ref(raw), u32(k)), bare('>=', p, lo), bare('<', p, hi)), width: bin('-', hi, lo) };
        });
      const [hs, ws] = [axis(hh, H as number, oh as number), axis(ww, W as number, ow as number)];
      let total: Expr | undefined;
      for (const a of hs)
        for (const c of ws) {
          const gi = [...idx];
          gi[r - 2] = a.ix;
          gi[r - 1] = c.ix;
          const term = call('select', f32(0), bare('/', this.typed(g, gi, 'f32'), call('f32', bare('*', a.width, c.width))), all(a.ok, c.ok));
          total = total === undefined ? term : bin('+', total, term);
        }
      return total!;
    }
    // only the output cells whose bins can hold (h, w): i in [⌊h·oh/H⌋, ⌈(h+1)·oh/H⌉) (1–2 cells, not oh·ow)
    const range = (c: Ix, size: Dim, k: Dim): [Expr, Expr] => {
      const [S, K] = [m.dim(size), m.dim(k)];
      const lo = this.scopes.bind(scope, 'b', ixE(ixDiv(ixMul(c, K), S)));
      const hi = this.scopes.bind(scope, 'b', call('min', ixE(ixDiv(ixSub(ixAdd(ixMul(ixAdd(c, ONE), K), S), ONE), S)), ixE(K)));
      return [lo, hi];
    };
    const [i0, i1] = range(hh, H, oh);
    const [j0, j1] = range(ww, W, ow);
    const acc = this.scopes.fresh('acc');
    scope.lines.push(...compensatedDecl(acc));
    this.scopes.define(acc, scope);
    const li = this.scopes.open(scope);
    const i = this.scopes.fresh('i');
    this.scopes.define(i, li);
    const lj = this.scopes.open(li);
    const j = this.scopes.fresh('j');
    this.scopes.define(j, lj);
    const [h0, h1] = this.bin(ixVar(i), H, oh).map((e) => this.scopes.bind(li, 'b', e)) as [Expr, Expr];
    const [w0, w1] = this.bin(ixVar(j), W, ow).map((e) => this.scopes.bind(lj, 'b', e)) as [Expr, Expr];
    const gi = [...idx];
    gi[r - 2] = ixVar(i);
    gi[r - 1] = ixVar(j);
    const gv = this.typed(g, gi, 'f32');
    const [ph, pw] = [ixE(hh), ixE(ww)];
    const inBin = [bare('>=', ph, h0), bare('<', ph, h1), bare('>=', pw, w0), bare('<', pw, w1)];
    const Wx = ixE(m.dim(W));
    if (!max) {
      lj.lines.push(compensatedAdd(acc, call('select', f32(0), bare('/', gv, call('f32', bare('*', bin('-', h1, h0), bin('-', w1, w0)))), all(...inBin))));
    } else {
      // the cell torch's CPU kernel picks, by its scan of the bin (row-major) from its first cell and −inf:
      // `val > max || isnan(val)`, so the first maximum, or the last NaN (NaN decided on the bits: WGSL may assume
      // finite math), or the first cell of a bin of −inf
      const best = this.scopes.fresh('bm');
      const at = this.scopes.fresh('ba');
      lj.lines.push(varS(best, 'f32', this.f32Const(-Infinity)), varS(at, 'u32', bare('+', bare('*', h0, Wx), w0)));
      this.scopes.define(best, lj);
      this.scopes.define(at, lj);
      const lh = this.scopes.open(lj);
      const p = this.scopes.fresh('p');
      this.scopes.define(p, lh);
      const lw = this.scopes.open(lh);
      const q = this.scopes.fresh('q');
      this.scopes.define(q, lw);
      const xi = [...idx];
      xi[r - 2] = ixVar(p);
      xi[r - 1] = ixVar(q);
      const xv = this.typed(x!, xi, 'f32');
      const wins = bin('||', call('is_nan_f32', xv), bin('&&', bare('>', xv, ref(best)), not(call('is_nan_f32', ref(best)))));
      lw.lines.push(ifS(wins, [assign(ref(best), xv), assign(ref(at), bare('+', bare('*', ref(p), Wx), ref(q)))]));
      this.scopes.close(lw, Emitter.upTo(q, w0, w1));
      this.scopes.close(lh, Emitter.upTo(p, h0, h1));
      lj.lines.push(compensatedAdd(acc, call('select', f32(0), gv, all(...inBin, bare('==', ref(at), bare('+', bare('*', ph, Wx), pw))))));
    }
    this.scopes.close(lj, Emitter.upTo(j, j0, j1));
    this.scopes.close(li, Emitter.upTo(i, i0, i1));
    return compensatedValue(acc);
  }
}

/** `off` as x + v (v a variable that is one of its summands, at any depth of its sums): x, else undefined. */
function withoutTerm(off: Ix, v: string): Ix | undefined {
  if (off.kind !== 'op' || off.op !== '+') return undefined;
  if (isVar(off.b, v)) return off.a;
  if (isVar(off.a, v)) return off.b;
  const a = withoutTerm(off.a, v);
  if (a !== undefined) return ixAdd(a, off.b);
  const b = withoutTerm(off.b, v);
  return b === undefined ? undefined : ixAdd(off.a, b);
}

/** x / 4 where x is provably a multiple of 4 (a literal one, a product with one, a sum of such), else undefined. */
function quarter(x: Ix): Ix | undefined {
  if (x.kind === 'lit') return x.value % 4 === 0 ? ixLit(x.value / 4) : undefined;
  if (x.kind !== 'op') return undefined;
  if (x.op === '*') {
    const a = quarter(x.a);
    if (a !== undefined) return ixMul(a, x.b);
    const b = quarter(x.b);
    return b === undefined ? undefined : ixMul(x.a, b);
  }
  if (x.op === '+') {
    const a = quarter(x.a);
    const b = a === undefined ? undefined : quarter(x.b);
    return b === undefined ? undefined : ixAdd(a!, b);
  }
  return undefined;
}
