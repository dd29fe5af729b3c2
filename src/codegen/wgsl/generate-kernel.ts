// One kernel spec → its WGSL module (the template of its kind), and what the code reads.
import type { KernelSpec } from '../../compiler/schedule/kernel-spec.js';
import { matmulKernelWgsl } from './matmul-kernel.js';
import { mapKernelWgsl, rowKernel } from './row-kernel.js';
import { serialKernelWgsl } from './serial-kernel.js';

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
 * The WGSL of one kernel, the identifiers of the buffers its code reads, and those it reads as vec4 (their
 * plan lengths must be rounded up to a multiple of 4 elements so the vec4 view covers every element).
 */
export function generateKernel(spec: KernelSpec): { wgsl: string; used: Set<string>; vec4: Set<string> } {
  const loads = new RecordingLoads(spec.loads);
  const s = { ...spec, loads } as KernelSpec;
  if (s.kind === 'row') {
    const r = rowKernel(s);
    return { wgsl: r.wgsl, used: loads.used, vec4: r.vec4 };
  }
  const wgsl = s.kind === 'map' ? mapKernelWgsl(s) : s.kind === 'serial' ? serialKernelWgsl(s) : matmulKernelWgsl(s);
  return { wgsl, used: loads.used, vec4: new Set() };
}
