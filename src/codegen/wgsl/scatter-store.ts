// A scatter store (StoreSpec.scatter: an in-place state update, schedule/in-place-state.ts): the invocation of
// rows coordinate b writes row index[b] of the buffer with the row of the LAST b' ≥ b whose index equals
// index[b] — every invocation of a repeated index writes the same value, the one torch's sequential
// index_copy_ leaves, so the writes need no order among themselves. Only the B rows are touched.
import { ixVar, type Ix } from '../../compiler/schedule/index-expr.js';
import type { IndexMath } from '../../compiler/schedule/index-math.js';
import type { StoreSpec } from '../../compiler/schedule/kernel-spec.js';
import { assign, at, bare, call, forS, i32, ixE, ref, u32, varS, type Stmt } from '../kernel-ir/ir.js';
import { wgslType, type Emitter } from './emitter.js';
import type { Scope, ScopeTree } from './scope.js';

export interface ScatterRows {
  /** The rows coordinate whose row is written (the last with the same index). */
  src: Ix;
  /** The buffer row written. */
  dst: Ix;
}

/**
 * The statements, in `scope` (where the rows coordinate `b` is defined), that find a scatter store's target row
 * (index[b], clamped into the buffer as gather's reads are) and its source row (the last b' with that index).
 */
export function scatterRows(s: StoreSpec, b: Ix, emitter: Emitter, math: IndexMath, scopes: ScopeTree, scope: Scope): ScatterRows {
  const g = emitter.env.graph;
  const index = s.scatter!.index;
  const count = g.nodes[index]!.shape[0]!;
  const key = emitter.as(emitter.value(index, [b]), wgslType(g.nodes[index]!.dtype), 'i32');
  const last = scopes.fresh('last');
  scope.lines.push(varS(last, 'u32', ixE(b)));
  scopes.define(last, scope);
  const loop = scopes.open(scope);
  const q = scopes.fresh('q');
  scopes.define(q, loop);
  const kq = emitter.as(emitter.value(index, [ixVar(q)]), wgslType(g.nodes[index]!.dtype), 'i32');
  loop.lines.push(assign(ref(last), call('select', ref(last), ref(q), bare('==', kq, key))));
  scopes.close(loop, (body) => forS(q, bare('+', ixE(b), u32(1)), bare('<', ref(q), ixE(math.dim(count))), u32(1), body));
  const dst = scopes.bindName(scope, 'dst', call('min', call('u32', call('max', key, i32(0))), bare('-', ixE(math.dim(s.shape[0]!)), u32(1))));
  return { src: ixVar(last), dst: ixVar(dst) };
}

/** The store of rows element `idx` (rows coordinates; idx[0] is the rows coordinate) at its target row. */
export function scatterStore(s: StoreSpec, idx: Ix[], rows: ScatterRows, emitter: Emitter, math: IndexMath, buffers: Map<string, { dtype: 'f32' | 'i32' }>): Stmt {
  const n = emitter.env.graph.nodes[s.node]!;
  const rest = idx.slice(1);
  const v = emitter.as(emitter.value(s.node, [rows.src, ...rest]), wgslType(n.dtype), buffers.get(s.buffer)!.dtype);
  return assign(at(s.buffer, ixE(math.offset(s.shape, [rows.dst, ...rest]))), v);
}
