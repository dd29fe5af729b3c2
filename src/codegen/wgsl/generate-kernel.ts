// One kernel spec → its kernel IR module (the template of its kind), and what the code reads; the WGSL printer
// makes its text.
import type { KernelSpec } from '../../compiler/schedule/kernel-spec.js';
import type { KernelModule } from '../kernel-ir/ir.js';
import { matmulKernel } from './matmul-kernel.js';
import { mapKernel, rowKernel } from './row-kernel.js';
import { serialKernel } from './serial-kernel.js';
import { printModule } from './print-module.js';

/** A node → buffer map that remembers which buffers were actually read. */
class RecordingLoads extends Map<number, string> {
  readonly used = new Set<string>();
  override get(k: number): string | undefined {
    const v = super.get(k);
    if (v !== undefined) this.used.add(v);
    return v;
  }
}

/**
 * The kernel IR of one kernel, the identifiers of the buffers its code reads, and those it reads as vec4 (their
 * plan lengths must be rounded up to a multiple of 4 elements so the vec4 view covers every element).
 */
export function lowerKernel(spec: KernelSpec): { module: KernelModule; used: Set<string>; vec4: Set<string> } {
  const loads = new RecordingLoads(spec.loads);
  const s = { ...spec, loads } as KernelSpec;
  if (s.kind === 'row') {
    const r = rowKernel(s);
    return { module: r.module, used: loads.used, vec4: r.vec4 };
  }
  const module = s.kind === 'map' ? mapKernel(s) : s.kind === 'serial' ? serialKernel(s) : matmulKernel(s);
  return { module, used: loads.used, vec4: new Set() };
}

/** lowerKernel, printed: the WGSL of one kernel. */
export function generateKernel(spec: KernelSpec): { wgsl: string; used: Set<string>; vec4: Set<string>; module: KernelModule } {
  const k = lowerKernel(spec);
  return { ...k, wgsl: printModule(k.module) };
}
