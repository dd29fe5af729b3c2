// Which of a stage's plans runs on a device: a compiled plan is made for WebGPU's default limits (8 storage
// buffers per shader stage) and may carry variants for adapters allowing more (KernelPlan.variants: fewer,
// fatter kernels). Chosen at pipeline creation from the device's limit — the runtime raises it to the
// adapter's maximum (device.ts RAISED_LIMITS) — unless the application asks for the default plan.
import type { KernelPlan } from './plan.js';
import { checkPlanFields } from './check-plan.js';

/** 'auto': the variant with the most storage bindings the device allows (the default); 'default': the plan
 *  for WebGPU's default limits, whatever the device allows. */
export type PlanVariantOption = 'auto' | 'default';

/** The plan to run on a device allowing `maxStorageBuffers` storage buffers per shader stage. */
export function selectPlanVariant(plan: KernelPlan, maxStorageBuffers: number, choice: PlanVariantOption = 'auto'): KernelPlan {
  checkPlanFields(plan);
  if (choice === 'default' || !plan.variants?.length) return plan;
  let best: KernelPlan = plan;
  let need = 0;
  for (const v of plan.variants)
    if (v.minStorageBuffers <= maxStorageBuffers && v.minStorageBuffers >= need) {
      best = v.plan;
      need = v.minStorageBuffers;
    }
  return best;
}
