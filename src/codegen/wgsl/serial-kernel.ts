// Kernels for ops with sequential dependences inside one matrix or row, one workgroup each: Cholesky
// (column by column, a barrier per column), triangular solves (each thread substitutes its own right-hand
// side columns), stable sorts (each element's rank by counting, O(n²) per row) and CTC (ctc-kernel.ts, one
// workgroup per sample). Operands are expressions (elementwise prologues fuse in); the result is materialised
// in the store buffer, which the kernel also reads back (Cholesky's earlier columns, a solve's earlier
// unknowns). Arithmetic follows the float64 CPU kernels of src/graph/ops (same loops, same summation order).
import { mulDims } from '../../graph/dims.js';
import type { Dim, Node, NodeOf } from '../../graph/types.js';
import { wgslType } from './emitter.js';
import { ixVar as v, type Ix } from '../../compiler/schedule/index-expr.js';
import { isOne } from '../../compiler/schedule/index-math.js';
import { ixWgsl } from './print-ix.js';
import type { SerialKernelSpec } from '../../compiler/schedule/kernel-spec.js';
import { assembleModule } from './prelude.js';
import { ENTRY_PARAMS } from './row-kernel.js';
import { kernelEmitter } from './kernel-emitter.js';
import type { Scope } from './scope.js';
import { compensatedAdd, compensatedDecl, compensatedValue } from './compensated.js';
import { WG_SIZE } from '../../compiler/schedule/workgroup.js';
import { serialWorkgroups } from '../../compiler/schedule/geometry.js';
import { ctcNll, ctcNllGrad } from './ctc-kernel.js';
import type { SerialCtx } from './serial-context.js';


export function serialKernelWgsl(spec: SerialKernelSpec): string {
  const g = spec.graph;
  const n = g.nodes[spec.node]!;
  const { math, scopes, emitter } = kernelEmitter(spec);
  const root = scopes.root;
  const count = serialWorkgroups(n);
  root.lines.push('let mtx = wid.x + wid.y * nwg.x;');
  if (count !== 1) root.lines.push(`if (mtx >= ${ixWgsl(math.dim(count))}) { return; }`);
  const ctx: Ctx = { spec, math, scopes, emitter, out: spec.store.buffer, ...(spec.workspace ? { workspace: spec.workspace } : {}) };
  if (n.op === 'cholesky') cholesky(ctx, n);
  else if (n.op === 'triangular_solve') triangularSolve(ctx, n);
  else if (n.op === 'sort') sort(ctx, n);
  else if (n.op === 'ctc_nll') ctcNll(ctx, n);
  else if (n.op === 'ctc_nll_grad') ctcNllGrad(ctx, n);
  else throw new Error(`node ${spec.node} (${n.op}) has no serial kernel`);
  return assembleModule({
    header: spec.header,
    symbols: spec.symbols,
    buffers: spec.buffers,
    helpers: emitter.helpers,
    shared: [],
    overrides: [`override ${WG_SIZE}: u32;`],
    workgroupSize: WG_SIZE,
    params: ENTRY_PARAMS,
    body: root.lines,
  });
}

type Ctx = SerialCtx;

/** Coordinates of the matrix this workgroup handles, bound in the root scope. */
function batchCoords(c: Ctx, batch: Dim[]): Ix[] {
  return c.math.unravel(v('mtx'), batch).map((e, k) => {
    if (isOne(batch[k]!)) return e;
    return v(c.scopes.bind(c.scopes.root, 'bz', ixWgsl(e)));
  });
}

/** `for (var v = from; v < to; v = v + step) { … }` as a child scope of `parent`, with `v` defined. */
function loop(c: Ctx, parent: Scope, v: string): Scope {
  const s = c.scopes.open(parent);
  c.scopes.define(v, s);
  return s;
}

function f32Value(c: Ctx, node: number, idx: Ix[]): string {
  const t = wgslType(c.spec.graph.nodes[node]!.dtype);
  return c.emitter.as(c.emitter.value(node, idx), t, 'f32');
}

/** Lower factor, left-looking: L[j][j] = √(A[j][j] − Σ_k L[j][k]²) by thread 0, then rows i > j in parallel. */
function cholesky(c: Ctx, n: NodeOf<'cholesky'>): void {
  const { math, scopes } = c;
  const WG = WG_SIZE;
  const s = n.shape;
  const r = s.length;
  const N = ixWgsl(math.dim(s[r - 1]!));
  const b = batchCoords(c, s.slice(0, -2));
  const a = n.inputs[0]!;
  const at = (i: string, j: string) => `${c.out}[${ixWgsl(math.offset(s, [...b, v(i), v(j)]))}]`;
  const root = scopes.root;
  // the strict upper triangle is zero
  const z = loop(c, root, 'e');
  z.lines.push(`let zi = e / ${N};`, `let zj = e % ${N};`, `if (zj > zi) { ${at('zi', 'zj')} = 0.0; }`);
  scopes.close(z, `for (var e = lid; e < ${N} * ${N}; e = e + ${WG})`);
  const col = loop(c, root, 'j');
  const diag = scopes.open(col);
  const ajj = f32Value(c, a, [...b, v('j'), v('j')]);
  diag.lines.push(...compensatedDecl('d', ajj), `for (var k = 0u; k < j; k = k + 1u) { let l = ${at('j', 'k')}; ${compensatedAdd('d', '-(l * l)')} }`, `${at('j', 'j')} = sqrt(${compensatedValue('d')});`);
  scopes.close(diag, 'if (lid == 0u)');
  col.lines.push('storageBarrier();', `let ljj = ${at('j', 'j')};`);
  scopes.define('ljj', col);
  const rows = loop(c, col, 'i');
  const aij = f32Value(c, a, [...b, v('i'), v('j')]);
  rows.lines.push(...compensatedDecl('v', aij), `for (var k = 0u; k < j; k = k + 1u) { ${compensatedAdd('v', `-(${at('i', 'k')} * ${at('j', 'k')})`)} }`, `${at('i', 'j')} = ${compensatedValue('v')} / ljj;`);
  scopes.close(rows, `for (var i = j + 1u + lid; i < ${N}; i = i + ${WG})`);
  col.lines.push('storageBarrier();');
  scopes.close(col, `for (var j = 0u; j < ${N}; j = j + 1u)`);
}

/** op(A) X = B by substitution; each thread solves whole columns of X (no barriers). */
function triangularSolve(c: Ctx, n: NodeOf<'triangular_solve'>): void {
  const { math, scopes } = c;
  const g = c.spec.graph;
  const WG = WG_SIZE;
  const os = n.shape;
  const r = os.length;
  const [A, B] = n.inputs as [number, number];
  const sa = g.nodes[A]!.shape;
  const sb = g.nodes[B]!.shape;
  const batch = os.slice(0, -2);
  const bz = batchCoords(c, batch);
  const ba = math.broadcast(sa.slice(0, -2), batch, bz);
  const bb = math.broadcast(sb.slice(0, -2), batch, bz);
  const N = ixWgsl(math.dim(os[r - 2]!));
  const K = ixWgsl(math.dim(os[r - 1]!));
  const x = (i: string, col: string) => `${c.out}[${ixWgsl(math.offset(os, [...bz, v(i), v(col)]))}]`;
  const { lower, transpose } = n.attrs;
  const forward = lower !== transpose; // op(A) is lower triangular
  const m = (i: string, j: string) => f32Value(c, A, transpose ? [...ba, v(j), v(i)] : [...ba, v(i), v(j)]);
  const cols = loop(c, scopes.root, 'cc');
  const steps = loop(c, cols, 's');
  steps.lines.push(`let i = ${forward ? 's' : `${N} - 1u - s`};`);
  scopes.define('i', steps);
  const bi = f32Value(c, B, [...bb, v('i'), v('cc')]);
  steps.lines.push(...compensatedDecl('v', bi));
  const inner = loop(c, steps, 'k');
  const mik = m('i', 'k');
  inner.lines.push(compensatedAdd('v', `-(${mik} * ${x('k', 'cc')})`));
  scopes.close(inner, forward ? 'for (var k = 0u; k < i; k = k + 1u)' : `for (var k = i + 1u; k < ${N}; k = k + 1u)`);
  const mii = m('i', 'i');
  steps.lines.push(`${x('i', 'cc')} = ${compensatedValue('v')} / ${mii};`);
  scopes.close(steps, `for (var s = 0u; s < ${N}; s = s + 1u)`);
  scopes.close(cols, `for (var cc = lid; cc < ${K}; cc = cc + ${WG})`);
}

/**
 * Stable sort along the axis: element e's position is the number of elements that precede it (smaller —
 * larger when descending — or equal with a smaller index), so ties keep index order exactly like the CPU.
 * values/indices scatter to that position; ranks store it at e. NaN is not given torch's "largest" order.
 */
function sort(c: Ctx, n: NodeOf<'sort'>): void {
  const { math, scopes } = c;
  const WG = WG_SIZE;
  const s = n.shape;
  const axis = n.attrs.axis;
  const x = n.inputs[0]!;
  const others = s.map((d, k) => (k === axis ? 1 : d));
  const lane = math.unravel(v('mtx'), others).map((e, k) => (k === axis || isOne(others[k]!) ? e : v(scopes.bind(scopes.root, 'bz', ixWgsl(e)))));
  const L = ixWgsl(math.dim(s[axis]!));
  const at = (e: string) => lane.map((x, k) => (k === axis ? v(e) : x));
  const elems = loop(c, scopes.root, 'e');
  const xe = c.emitter.value(x, at('e'));
  elems.lines.push('var pos = 0u;');
  const q = loop(c, elems, 'q');
  const xq = c.emitter.value(x, at('q'));
  const before = n.attrs.descending ? '>' : '<';
  q.lines.push(`pos = pos + select(0u, 1u, ${xq} ${before} ${xe} || (${xq} == ${xe} && q < e));`);
  scopes.close(q, `for (var q = 0u; q < ${L}; q = q + 1u)`);
  const outAt = (e: string) => `${c.out}[${ixWgsl(math.offset(s, at(e)))}]`;
  if (n.attrs.output === 'values') elems.lines.push(`${outAt('pos')} = ${xe};`);
  else if (n.attrs.output === 'indices') elems.lines.push(`${outAt('pos')} = i32(e);`);
  else elems.lines.push(`${outAt('e')} = i32(pos);`);
  scopes.close(elems, `for (var e = lid; e < ${L}; e = e + ${WG})`);
}
