// What the scheduler outputs: the kernel plan without any WGSL — buffers, outputs and, per kernel, its
// structured spec (kernel-spec.ts), bindings, dispatch formula and override constants. The WGSL codegen stage
// (src/codegen/wgsl/generate-plan.ts) lowers each spec and returns the runtime's KernelPlan.
import type { KernelSpec } from './kernel-spec.js';
import type { KernelPlan, PlanKernel } from './plan.js';

export interface ScheduledKernel extends Omit<PlanKernel, 'wgsl'> {
  spec: KernelSpec;
}

export interface Schedule extends Omit<KernelPlan, 'kernels'> {
  kernels: ScheduledKernel[];
}
