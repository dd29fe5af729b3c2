// The plans a compile emits for one stage: the plan for WebGPU's default limits (8 storage buffers per shader
// stage: it runs everywhere) and variants for adapters allowing more (fewer, fatter kernels: the DIST sample is
// 10 kernels at 8, 6 at 10 and 6 moving fewer bytes at 16, binding 14), which the runtime chooses among at pipeline creation
// (src/runtime/plan-variant.ts).
//
// The budgets tried above the default (STORAGE_BUFFER_TIERS), from what adapters report for
// maxStorageBuffersPerShaderStage: 10, the value browsers commonly expose on desktop GPUs and Apple silicon
// (browsers bucket their limits; 10 is the common bucket above the default); 16, what Dawn reports natively
// (Node's `webgpu`: lavapipe reports 16 here; hardware Vulkan/Metal/D3D12 drivers allow far more, capped by
// Dawn). A variant is kept only when it needs more bindings than the plan below it and is better (see better()).
import { evalDim } from '../graph/dims.js';
import type { Graph } from '../graph/types.js';
import { generatePlan } from '../codegen/wgsl/generate-plan.js';
import { scheduleOrFailure, type ScheduleOptions } from './schedule/index.js';
import type { KernelPlan, PlanVariant } from './schedule/plan.js';
import { kernelPlan } from './kernel-plan.js';

/** WebGPU's default maxStorageBuffersPerShaderStage: every adapter allows it. */
export const DEFAULT_STORAGE_BUFFERS = 8;

/** The storage-buffer budgets variants are planned for (see above). */
export const STORAGE_BUFFER_TIERS = [10, 16] as const;

/** Storage buffers the plan's kernels bind at most. */
export function storageBuffersNeeded(plan: KernelPlan): number {
  return Math.max(0, ...plan.kernels.map((k) => k.bindings.length + (k.checkFlags !== undefined ? 1 : 0)));
}

/**
 * The base plan: for the default limits, or — when some kernel cannot be split to fit them (TDC603: CTC's serial
 * kernel with per-sample losses binds 9) — for the smallest tier it fits; the runtime then refuses devices below
 * it with a clear error (executor: "binds N storage buffers; this device allows M"). Throws as kernelPlan does
 * when no budget fits or the failure is not the binding budget.
 */
export function basePlan(graph: Graph, opts: Omit<ScheduleOptions, 'maxStorageBuffers'>): KernelPlan {
  const first = scheduleOrFailure(graph, { ...opts, maxStorageBuffers: DEFAULT_STORAGE_BUFFERS });
  if ('schedule' in first) return generatePlan(first.schedule);
  if (first.failure.code === BINDING_BUDGET_CODE)
    for (const tier of STORAGE_BUFFER_TIERS) {
      const r = scheduleOrFailure(graph, { ...opts, maxStorageBuffers: tier });
      if ('schedule' in r) return generatePlan(r.schedule);
    }
  return kernelPlan(graph, { ...opts, maxStorageBuffers: DEFAULT_STORAGE_BUFFERS });
}

/** The scheduler's code for "a kernel would bind more storage buffers than this target allows". */
const BINDING_BUDGET_CODE = 'TDC603';

/** The base plan (basePlan) with its variants (KernelPlan.variants); throws as kernelPlan does when no plan can
 *  be made. */
export function planWithVariants(graph: Graph, opts: Omit<ScheduleOptions, 'maxStorageBuffers'>): KernelPlan {
  const base = basePlan(graph, opts);
  const variants: PlanVariant[] = [];
  let below = base;
  for (const tier of STORAGE_BUFFER_TIERS) {
    const r = scheduleOrFailure(graph, { ...opts, maxStorageBuffers: tier });
    if ('failure' in r) continue;
    const plan = generatePlan(r.schedule);
    const need = storageBuffersNeeded(plan);
    if (need <= storageBuffersNeeded(below) || !better(plan, below)) continue;
    variants.push({ minStorageBuffers: need, plan });
    below = plan;
  }
  return variants.length ? { ...base, variants } : base;
}

/**
 * Is `a` better than `b`: fewer kernels moving at most BYTES_SLACK more bytes, or as many kernels moving fewer
 * bytes (bytes with every symbol taken as 64)? More bindings do not always help: a budget that lets the policy's
 * first strategy fit can give the same kernels moving more bytes than the plan below (KD with CE at 9 buffers
 * re-reads the logits), while a few bytes more for fewer launches (the KR loss suite case: 41 kernels at 10
 * buffers against 43 at 8, 16 bytes apart) is a gain.
 */
function better(a: KernelPlan, b: KernelPlan): boolean {
  const ka = a.kernels.length;
  const kb = b.kernels.length;
  const ba = bytesMoved(a);
  const bb = bytesMoved(b);
  return (ka < kb && ba <= bb * (1 + BYTES_SLACK)) || (ka === kb && ba < bb);
}

/** The extra bytes moved (a fraction) a variant with fewer kernels may cost. */
const BYTES_SLACK = 0.01;

/** Bytes all kernels of a plan read and write, every symbol taken as 64. */
export function bytesMoved(plan: KernelPlan): number {
  const env = Object.fromEntries(plan.symbols.map((s) => [s, 64]));
  return plan.kernels.reduce((a, k) => a + evalDim(k.bytesRead, env) + evalDim(k.bytesWritten, env), 0);
}
