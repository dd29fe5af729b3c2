// The kernel plan the scheduler produces. Its types are the contract with the runtime, so they are defined
// by the runtime package (tdc-runtime, src/runtime/plan.ts) and the compiler imports them from there.
export type { GpuDType, PlanInput, PlanBuffer, KernelBinding, PlanKernel, PlanVariant, PlanOverride, WorkgroupClass, PlanOutputs, KernelPlan, IndexInputCheck, ComputedIndexCheck, FactorCheck, UnitInputCheck } from 'tdc-runtime';
