// What every kernel template starts from: index math over the dims uniform, a scope tree for the body, and an
// Emitter that reads the kernel's loaded nodes from their buffers. Templates add what is theirs (registers).
import { Emitter, type EmitEnv } from './emitter.js';
import { IndexMath } from '../../compiler/schedule/index-math.js';
import type { BufferDecl, DomainAxis, KernelCommon } from '../../compiler/schedule/kernel-spec.js';
import { coordName } from '../../compiler/schedule/coords.js';
import { dimFields } from './print-module.js';
import { ScopeTree } from './scope.js';
import { bare, forS, ref, type Expr, type Stmt } from '../kernel-ir/ir.js';
import { WG_SIZE } from '../../compiler/schedule/workgroup.js';

/** The invocation's index in its workgroup. */
export const LID = ref('lid');
/** The workgroup size (an override constant). */
export const WG = ref(WG_SIZE);
/** The linear workgroup index of a 2-D dispatch grid. */
export const WORKGROUP_INDEX = bare('+', ref('wid.x'), bare('*', ref('wid.y'), ref('nwg.x')));
/** `for (var v = from; v < to; v = v + step)` over a scope's statements. */
export const upTo =
  (v: string, from: Expr, to: Expr, step: Expr) =>
  (body: Stmt[]): Stmt =>
    forS(v, from, bare('<', ref(v), to), step, body);

export function kernelEmitter(spec: KernelCommon, register?: EmitEnv['register']): { math: IndexMath; scopes: ScopeTree; emitter: Emitter; buffers: Map<string, BufferDecl> } {
  const fields = dimFields(spec.symbols);
  const math = new IndexMath((s) => fields.get(s) ?? s);
  // row and map kernels bind domain coordinate k only to values inside axis k (behind their guards and loop bounds)
  if ('axes' in spec) (spec as { axes: readonly DomainAxis[] }).axes.forEach((a, k) => math.bindRange(coordName(k), math.dim(a.dim)));
  const scopes = new ScopeTree();
  const buffers = new Map(spec.buffers.map((b) => [b.name, b]));
  const env: EmitEnv = {
    graph: spec.graph,
    math,
    buffer(node) {
      const name = spec.loads.get(node);
      if (name === undefined) return undefined;
      const b = buffers.get(name)!;
      return { name, dtype: b.dtype, shape: b.shape };
    },
    dimValue: (node) => spec.dimValues.get(node),
  };
  if (register) env.register = register;
  return { math, scopes, emitter: new Emitter(env, scopes), buffers };
}
