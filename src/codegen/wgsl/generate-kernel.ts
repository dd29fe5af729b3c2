// One kernel spec → its kernel IR module (the template of its kind), and what the code reads; the WGSL printer
// makes its text.
import type { KernelSpec } from '../../compiler/schedule/kernel-spec.js';
import type { KernelModule } from '../kernel-ir/ir.js';
import { hasMatmulSubgroupVariant, matmulKernel } from './matmul-kernel.js';
import { rowKernel, type RowKernelOptions } from './row-kernel.js';
import { mapKernel } from './map-kernel.js';
import { rowSegmentsKernel } from './row-segments.js';
import { serialKernel } from './serial-kernel.js';
import { printModule } from './print-module.js';
import { arraysRead, vec4Arrays } from '../kernel-ir/analysis.js';
import { hoistInvariants } from '../kernel-ir/hoist.js';
import type { Stmt } from '../kernel-ir/ir.js';

/** The kernel IR passes a template's module goes through before it is printed or interpreted. */
function passes(m: KernelModule): KernelModule {
  return { ...m, body: hoistInvariants(m.body) };
}

/** Names of the private arrays the statements declare (`var a: array<…>`). */
function privateArrays(body: readonly Stmt[], out: string[] = []): string[] {
  for (const s of body) {
    if (s.k === 'var' && s.ty && typeof s.ty !== 'string') out.push(s.name);
    if (s.k === 'block' || s.k === 'loop' || s.k === 'for') privateArrays(s.body, out);
    if (s.k === 'if') {
      privateArrays(s.then, out);
      if (s.else) privateArrays(s.else, out);
    }
  }
  return out;
}

/**
 * The kernel IR of one kernel, the storage buffers its code reads (read-only bindings), and those it reads or
 * writes as vec4 (their plan lengths must be rounded up to a multiple of 4 elements so the vec4 view covers
 * every element) — both read off the IR.
 */
function lowerKernel(spec: KernelSpec, opts: RowKernelOptions = {}): { module: KernelModule; used: Set<string>; vec4: Set<string> } {
  const module =
    spec.kind === 'segments'
      ? rowSegmentsKernel(spec, opts, passes)
      : passes(spec.kind === 'row' ? rowKernel(spec, opts) : spec.kind === 'map' ? mapKernel(spec) : spec.kind === 'serial' ? serialKernel(spec) : matmulKernel(spec));
  const local = new Set([...module.shared.map((s) => s.name), ...privateArrays(module.body)]);
  const written = new Set(spec.buffers.filter((b) => b.access === 'read_write').map((b) => b.name));
  const used = new Set([...arraysRead(module.body)].filter((a) => !local.has(a) && !written.has(a)));
  return { module, used, vec4: vec4Arrays(module.body) };
}

/** The kernel's variant with subgroup operations (row kernels that combine partials, register-tiled matmuls that
 *  share the uniform operand by shuffles), or undefined. */
export function lowerSubgroupVariant(spec: KernelSpec): KernelModule | undefined {
  if (spec.kind === 'matmul') return hasMatmulSubgroupVariant(spec) ? passes(matmulKernel(spec, { subgroups: true })) : undefined;
  if (spec.kind === 'segments') {
    const m = rowSegmentsKernel(spec, { subgroups: true }, passes);
    return m.subgroups ? m : undefined;
  }
  if (spec.kind !== 'row') return undefined;
  const m = rowKernel(spec, { subgroups: true });
  return m.subgroups ? passes(m) : undefined;
}

/** lowerKernel, printed: the WGSL of one kernel. */
export function generateKernel(spec: KernelSpec): { wgsl: string; used: Set<string>; vec4: Set<string>; module: KernelModule } {
  const k = lowerKernel(spec);
  return { ...k, wgsl: printModule(k.module) };
}
