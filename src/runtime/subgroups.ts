// Which text of each kernel the runtime compiles: row kernels carry a second WGSL text that combines the lanes'
// partials with subgroup operations (PlanKernel.wgslSubgroups; `enable subgroups;` cannot be an override, so
// the variant is a second module). It is chosen at pipeline creation where the device has the `subgroups`
// feature, WGSL has the `subgroup_id` language feature, and the kernel's workgroup size is a multiple of the
// adapter's largest subgroup size (so every subgroup is full and the compensated butterfly runs; a partial
// subgroup falls back to a plain subgroupAdd in the shader, correct but rounded in the implementation's order).
import { GpuInputError } from './errors.js';
import type { PlanKernel } from './plan.js';
import { expectArgument, isGpuDevice, isRecord } from './argument-checks.js';

/** What the device offers for subgroups. */
export interface SubgroupSupport {
  /** The device was created with the `subgroups` feature. */
  feature: boolean;
  /** `subgroup_id` is among the WGSL language features (undefined: not known, e.g. a device from elsewhere). */
  subgroupId: boolean | undefined;
  /** GPUAdapterInfo.subgroupMaxSize (undefined where the adapter does not report it). */
  maxSize: number | undefined;
}

/** The application's choice: true forces the subgroup variants (an error where the device cannot run them), false forbids them. */
export type SubgroupOption = boolean | undefined;

/** The support of `device`, given the GPU object and adapter info it came from when known. */
export function subgroupSupport(device: GPUDevice, gpu: GPU | undefined, info: GPUAdapterInfo | undefined): SubgroupSupport {
  expectArgument(isGpuDevice(device), device, 'subgroupSupport', 'the device', 'a GPUDevice');
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  const lang = (gpu ?? nav)?.wgslLanguageFeatures;
  return {
    feature: device.features.has('subgroups'),
    subgroupId: lang ? lang.has('subgroup_id') : undefined,
    maxSize: (info as { subgroupMaxSize?: number } | undefined)?.subgroupMaxSize,
  };
}

/** Why the device cannot run subgroup variants, or undefined when it can. */
export function subgroupsUnavailable(s: SubgroupSupport): string | undefined {
  expectArgument(isRecord(s), s, 'subgroupsUnavailable', 'the support', 'a SubgroupSupport (subgroupSupport)');
  if (!s.feature) return "the device has no 'subgroups' feature (request it: GpuRuntime.open does where the adapter has it)";
  if (s.subgroupId === false) return "WGSL lacks the 'subgroup_id' language feature";
  return undefined;
}

/**
 * Per kernel (plan order): compile its subgroup variant? `workgroupSizes[i]` is the kernel's chosen workgroup
 * size; `perKernel[i]` a choice for that kernel alone (tdc tune's), which wins over `option`.
 */
export function chooseSubgroupVariants(
  kernels: readonly PlanKernel[],
  workgroupSizes: readonly (number | undefined)[],
  support: SubgroupSupport,
  option: SubgroupOption,
  perKernel: readonly (boolean | undefined)[] = [],
): boolean[] {
  expectArgument(Array.isArray(kernels), kernels, 'chooseSubgroupVariants', 'kernels', "an Array of the plan's kernels");
  expectArgument(Array.isArray(workgroupSizes), workgroupSizes, 'chooseSubgroupVariants', 'workgroupSizes', 'an Array (one size or undefined per kernel)');
  expectArgument(isRecord(support), support, 'chooseSubgroupVariants', 'the support', 'a SubgroupSupport (subgroupSupport)');
  expectArgument(Array.isArray(perKernel), perKernel, 'chooseSubgroupVariants', 'perKernel', 'an Array or left out');
  const why = subgroupsUnavailable(support);
  return kernels.map((k, i) => {
    if (!k.wgslSubgroups) return false;
    const want = perKernel[i] ?? option;
    if (want === false) return false;
    if (want === true) {
      if (why) throw new GpuInputError(`kernel ${k.name}: subgroup variant requested, but ${why}`, 'leave subgroups unset to use them only where the device has them');
      return true;
    }
    const wg = workgroupSizes[i];
    return !why && support.subgroupId === true && support.maxSize !== undefined && wg !== undefined && wg % support.maxSize === 0;
  });
}
