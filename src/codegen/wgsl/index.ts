// WGSL code generation: one deterministic module per kernel of the plan.
import type { KernelSpec } from './kernel-spec.js';
import { matmulKernelWgsl } from './matmul-kernel.js';
import { mapKernelWgsl, rowKernelWgsl } from './row-kernel.js';

/** A node → buffer map that remembers which buffers were actually read. */
class RecordingLoads extends Map<number, string> {
  readonly used = new Set<string>();
  override get(k: number): string | undefined {
    const v = super.get(k);
    if (v !== undefined) this.used.add(v);
    return v;
  }
}

/** The WGSL of one kernel, and the identifiers of the buffers its code reads. */
export function generateKernel(spec: KernelSpec): { wgsl: string; used: Set<string> } {
  const loads = new RecordingLoads(spec.loads);
  const s = { ...spec, loads } as KernelSpec;
  const wgsl = s.kind === 'row' ? rowKernelWgsl(s) : s.kind === 'map' ? mapKernelWgsl(s) : matmulKernelWgsl(s);
  return { wgsl, used: loads.used };
}

export type { KernelSpec } from './kernel-spec.js';
export { f32Literal, i32Literal } from './literals.js';
