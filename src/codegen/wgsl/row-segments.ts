// The template of a kernel of row passes (RowSegmentsKernelSpec, merge-row-siblings.ts): each part is lowered as
// the row kernel it was and its body becomes a block of the entry, in order. The blocks keep each part's names
// to itself; a workgroup array two parts both use is one array, with a barrier before the later part so that it
// writes none of it while a slower invocation still reads the earlier part's values. A buffer one part reads
// or writes as vec4 is declared vec4 for all, so the others address its lanes (RowKernelOptions.declaredVec4).
// Every part guards with the same rows (the dispatch is shared), so a row out of range returns in the first part.
import type { RowSegmentsKernelSpec } from '../../compiler/schedule/kernel-spec.js';
import { barrier, block, type KernelModule, type SharedArray, type Stmt } from '../kernel-ir/ir.js';
import { rowKernel, type RowKernelOptions } from './row-kernel.js';

/**
 * The module of a kernel of row passes; `passes` runs the IR passes on each part's module (the merged body is
 * not passed again: a value hoisted out of its part's block would meet the other parts' names).
 */
export function rowSegmentsKernel(spec: RowSegmentsKernelSpec, opts: RowKernelOptions, passes: (m: KernelModule) => KernelModule): KernelModule {
  let declared = new Set<string>();
  let parts: KernelModule[];
  // the buffers declared vec4 grow until every part agrees (a part told of one may read another as vec4)
  for (;;) {
    parts = spec.parts.map((p) => passes(rowKernel(p, { ...opts, declaredVec4: declared })));
    const all = new Set([...declared, ...parts.flatMap((m) => [...m.vec4])]);
    if (all.size === declared.size) break;
    declared = all;
  }
  const shared = new Map<string, SharedArray>();
  const body: Stmt[] = [];
  for (const m of parts) {
    const reused = m.shared.filter((s) => shared.has(s.name));
    for (const s of reused)
      if (shared.get(s.name)!.elem !== s.elem || shared.get(s.name)!.length !== s.length) throw new Error(`kernel ${spec.name}: workgroup array ${s.name} of two types`);
    if (reused.length) body.push(barrier());
    for (const s of m.shared) shared.set(s.name, s);
    body.push(block(m.body));
  }
  const subgroups = parts.some((m) => m.subgroups);
  return { header: spec.header, symbols: spec.symbols, buffers: spec.buffers, shared: [...shared.values()], entry: 'linear', body, vec4: declared, ...(subgroups ? { subgroups: true as const } : {}) };
}
