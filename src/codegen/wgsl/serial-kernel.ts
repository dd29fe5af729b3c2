// Kernels for ops with sequential dependences inside one matrix or row, one workgroup each: Cholesky
// (column by column, a barrier per column), triangular solves (each thread substitutes its own right-hand
// side columns), stable sorts (each element's rank by counting, O(n²) per row) and CTC (ctc-kernel.ts, one
// workgroup per sample). Operands are expressions (elementwise prologues fuse in); the result is materialised
// in the store buffer, which the kernel also reads back (Cholesky's earlier columns, a solve's earlier
// unknowns). Arithmetic follows the float64 CPU kernels of src/graph/ops (same loops, same summation order).
import type { Dim, NodeOf } from '../../graph/types.js';
import { wgslType } from './emitter.js';
import { ixVar as v, type Ix } from '../../compiler/schedule/index-expr.js';
import { isOne } from '../../compiler/schedule/index-math.js';
import type { SerialKernelSpec } from '../../compiler/schedule/kernel-spec.js';
import { kernelEmitter, LID, upTo, WG, WORKGROUP_INDEX } from './kernel-emitter.js';
import { assign, at, bare, barrier, bin, call, f32, forS, ifS, ixE, letS, ref, RETURN, u32, varS, type Expr, type KernelModule } from '../kernel-ir/ir.js';
import type { Scope } from './scope.js';
import { compensatedAdd, compensatedDecl, compensatedValue } from './compensated.js';
import { serialWorkgroups } from '../../compiler/schedule/geometry.js';
import { ctcNll, ctcNllGrad } from './ctc-kernel.js';
import type { SerialCtx } from './serial-context.js';


export function serialKernel(spec: SerialKernelSpec): KernelModule {
  const g = spec.graph;
  const n = g.nodes[spec.node]!;
  const { math, scopes, emitter } = kernelEmitter(spec);
  const root = scopes.root;
  const count = serialWorkgroups(n);
  root.lines.push(letS('mtx', WORKGROUP_INDEX));
  if (count !== 1) root.lines.push(ifS(bare('>=', ref('mtx'), ixE(math.dim(count))), [RETURN]));
  const ctx: Ctx = { spec, math, scopes, emitter, out: spec.store.buffer, ...(spec.workspace ? { workspace: spec.workspace } : {}) };
  if (n.op === 'cholesky') cholesky(ctx, n);
  else if (n.op === 'triangular_solve') triangularSolve(ctx, n);
  else if (n.op === 'sort') sort(ctx, n);
  else if (n.op === 'ctc_nll') ctcNll(ctx, n);
  else if (n.op === 'ctc_nll_grad') ctcNllGrad(ctx, n);
  else throw new Error(`node ${spec.node} (${n.op}) has no serial kernel`);
  return { header: spec.header, symbols: spec.symbols, buffers: spec.buffers, shared: [], entry: 'linear', body: root.lines, vec4: new Set() };
}

type Ctx = SerialCtx;

/** Coordinates of the matrix this workgroup handles, bound in the root scope. */
function batchCoords(c: Ctx, batch: Dim[]): Ix[] {
  return c.math.unravel(v('mtx'), batch).map((e, k) => {
    if (isOne(batch[k]!)) return e;
    return v(c.scopes.bindName(c.scopes.root, 'bz', ixE(e)));
  });
}

/** A child scope of `parent` with the loop variable `name` defined (closed by an upTo loop). */
function loop(c: Ctx, parent: Scope, name: string): Scope {
  const s = c.scopes.open(parent);
  c.scopes.define(name, s);
  return s;
}

function f32Value(c: Ctx, node: number, idx: Ix[]): Expr {
  const t = wgslType(c.spec.graph.nodes[node]!.dtype);
  return c.emitter.as(c.emitter.value(node, idx), t, 'f32');
}

/** `-(e)`. */
const minus = (e: Expr): Expr => ({ k: 'neg', a: e, bare: true });
const ONE = u32(1);

/** Lower factor, left-looking: L[j][j] = √(A[j][j] − Σ_k L[j][k]²) by thread 0, then rows i > j in parallel. */
function cholesky(c: Ctx, n: NodeOf<'cholesky'>): void {
  const { math, scopes } = c;
  const s = n.shape;
  const r = s.length;
  const N = ixE(math.dim(s[r - 1]!));
  const b = batchCoords(c, s.slice(0, -2));
  const a = n.inputs[0]!;
  const el = (i: string, j: string) => at(c.out, ixE(math.offset(s, [...b, v(i), v(j)])));
  const root = scopes.root;
  // the strict upper triangle is zero
  const z = loop(c, root, 'e');
  z.lines.push(letS('zi', bare('/', ref('e'), N)), letS('zj', bare('%', ref('e'), N)), ifS(bare('>', ref('zj'), ref('zi')), [assign(el('zi', 'zj'), f32(0))]));
  scopes.close(z, upTo('e', LID, bare('*', N, N), WG));
  const col = loop(c, root, 'j');
  const diag = scopes.open(col);
  const ajj = f32Value(c, a, [...b, v('j'), v('j')]);
  const l = ref('l');
  diag.lines.push(
    ...compensatedDecl('d', ajj),
    forS('k', u32(0), bare('<', ref('k'), ref('j')), ONE, [letS('l', el('j', 'k')), compensatedAdd('d', minus(bin('*', l, l)))]),
    assign(el('j', 'j'), call('sqrt', compensatedValue('d'))),
  );
  scopes.close(diag, (body) => ifS(bare('==', LID, u32(0)), body));
  col.lines.push(barrier('storage'), letS('ljj', el('j', 'j')));
  scopes.define('ljj', col);
  const rows = loop(c, col, 'i');
  const aij = f32Value(c, a, [...b, v('i'), v('j')]);
  rows.lines.push(
    ...compensatedDecl('v', aij),
    forS('k', u32(0), bare('<', ref('k'), ref('j')), ONE, [compensatedAdd('v', minus(bin('*', el('i', 'k'), el('j', 'k'))))]),
    assign(el('i', 'j'), bare('/', compensatedValue('v'), ref('ljj'))),
  );
  scopes.close(rows, upTo('i', bare('+', bare('+', ref('j'), ONE), LID), N, WG));
  col.lines.push(barrier('storage'));
  scopes.close(col, upTo('j', u32(0), N, ONE));
}

/** op(A) X = B by substitution; each thread solves whole columns of X (no barriers). */
function triangularSolve(c: Ctx, n: NodeOf<'triangular_solve'>): void {
  const { math, scopes } = c;
  const g = c.spec.graph;
  const os = n.shape;
  const r = os.length;
  const [A, B] = n.inputs as [number, number];
  const sa = g.nodes[A]!.shape;
  const sb = g.nodes[B]!.shape;
  const batch = os.slice(0, -2);
  const bz = batchCoords(c, batch);
  const ba = math.broadcast(sa.slice(0, -2), batch, bz);
  const bb = math.broadcast(sb.slice(0, -2), batch, bz);
  const N = ixE(math.dim(os[r - 2]!));
  const K = ixE(math.dim(os[r - 1]!));
  const x = (i: string, col: string) => at(c.out, ixE(math.offset(os, [...bz, v(i), v(col)])));
  const { lower, transpose } = n.attrs;
  const forward = lower !== transpose; // op(A) is lower triangular
  const m = (i: string, j: string) => f32Value(c, A, transpose ? [...ba, v(j), v(i)] : [...ba, v(i), v(j)]);
  const cols = loop(c, scopes.root, 'cc');
  const steps = loop(c, cols, 's');
  steps.lines.push(letS('i', forward ? ref('s') : bare('-', bare('-', N, ONE), ref('s'))));
  scopes.define('i', steps);
  const bi = f32Value(c, B, [...bb, v('i'), v('cc')]);
  steps.lines.push(...compensatedDecl('v', bi));
  const inner = loop(c, steps, 'k');
  const mik = m('i', 'k');
  inner.lines.push(compensatedAdd('v', minus(bin('*', mik, x('k', 'cc')))));
  scopes.close(inner, forward ? upTo('k', u32(0), ref('i'), ONE) : upTo('k', bare('+', ref('i'), ONE), N, ONE));
  const mii = m('i', 'i');
  steps.lines.push(assign(x('i', 'cc'), bare('/', compensatedValue('v'), mii)));
  scopes.close(steps, upTo('s', u32(0), N, ONE));
  scopes.close(cols, upTo('cc', LID, K, WG));
}

/**
 * Stable sort along the axis: element e's position is the number of elements that precede it (smaller —
 * larger when descending — or equal with a smaller index), so ties keep index order exactly like the CPU.
 * values/indices scatter to that position; ranks store it at e. NaN is not given torch's "largest" order.
 */
function sort(c: Ctx, n: NodeOf<'sort'>): void {
  const { math, scopes } = c;
  const s = n.shape;
  const axis = n.attrs.axis;
  const x = n.inputs[0]!;
  const others = s.map((d, k) => (k === axis ? 1 : d));
  const lane = math.unravel(v('mtx'), others).map((e, k) => (k === axis || isOne(others[k]!) ? e : v(scopes.bindName(scopes.root, 'bz', ixE(e)))));
  const L = ixE(math.dim(s[axis]!));
  const idxAt = (e: string) => lane.map((y, k) => (k === axis ? v(e) : y));
  const elems = loop(c, scopes.root, 'e');
  const xe = c.emitter.value(x, idxAt('e'));
  elems.lines.push(varS('pos', undefined, u32(0)));
  const q = loop(c, elems, 'q');
  const xq = c.emitter.value(x, idxAt('q'));
  const before = bare('||', bare(n.attrs.descending ? '>' : '<', xq, xe), bin('&&', bare('==', xq, xe), bare('<', ref('q'), ref('e'))));
  q.lines.push(assign(ref('pos'), bare('+', ref('pos'), call('select', u32(0), ONE, before))));
  scopes.close(q, upTo('q', u32(0), L, ONE));
  const outAt = (e: string) => at(c.out, ixE(math.offset(s, idxAt(e))));
  if (n.attrs.output === 'values') elems.lines.push(assign(outAt('pos'), xe));
  else if (n.attrs.output === 'indices') elems.lines.push(assign(outAt('pos'), call('i32', ref('e'))));
  else elems.lines.push(assign(outAt('e'), call('i32', ref('pos'))));
  scopes.close(elems, upTo('e', LID, L, WG));
}
