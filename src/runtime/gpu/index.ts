// The GPU runtime's public surface (`tdc/runtime`): what generated glue and host programs import.
// Nothing here loads the compiler; `webgpu` itself is imported lazily by GpuRuntime.open().
export { GpuRuntime, openGpu, dawnOptions, withTimeout, DEFAULT_TIMEOUT_MS, type GpuOptions, type AdapterDescription } from './device.js';
export { PlanExecutor, checkPlan, type Readback, type DeviceOutputs, type ScalarResult, type HostResult } from './executor.js';
export { validateWgsl, type ValidateOptions } from './validate-wgsl.js';
export {
  GpuError,
  NoWebGpuAdapterError,
  GpuDeviceLostError,
  GpuValidationError,
  GpuTimeoutError,
  GpuInputError,
  PlanError,
  isNoAdapterError,
} from './errors.js';
export type { TensorInput, HostInput, DeviceInput, HostData, FloatTensor, IntTensor } from './tensors.js';
export { flattenInputs, nestByName } from './nested.js';
export type { KernelPlan, PlanInput, PlanBuffer, PlanKernel, KernelBinding, PlanOutputs, GpuDType } from '../../compiler/schedule/plan.js';
export type { Dim, Shape } from '../../graph/types.js';
