// tdc-runtime — what an application needs at run time, browser-safe (no Node built-ins, no `process`, no Dawn,
// no top-level await): run a compiled stage on a GPUDevice, read/write safetensors, typed errors.
// In a browser: `const runtime = await GpuRuntime.open()` (navigator.gpu). In Node: import from
// 'tdc-runtime/node', whose GpuRuntime.open() goes through Dawn (npm `webgpu`).
export {
  GpuRuntime,
  DeviceWatch,
  openGpu,
  navigatorGpu,
  requestDevice,
  withTimeout,
  deadline,
  DEFAULT_TIMEOUT_MS,
  RAISED_LIMITS,
  type GpuOptions,
  type AdapterDescription,
  type Deadline,
} from './device.js';
export { checkPlan } from './check-plan.js';
export { PlanExecutor, type ExecutorOptions, type ExecutorTuning, type Readback, type DeviceOutputs, type ScalarResult, type HostResult } from './executor.js';
export { ResidentState } from './resident-state.js';
export { selectPlanVariant, type PlanVariantOption } from './plan-variant.js';
export { isSoftwareAdapter, overrideConstants, type WorkgroupSizeOption, type DeviceWorkgroupLimits } from './workgroup.js';
export {
  TUNING_FORMAT, adapterKey, planHash, kernelTuningKey, describeTuningEntry, parseTuningCache, tunedChoices, withEntry, emptyTuningCache,
  type TuningCache, type TuningEntry, type KernelChoice, type TunedKernelChoice, type KernelMeasurement, type TunedChoices,
} from './tune-cache.js';
export { tunePlan, tuneInputs, tuneSymbols, describeOutcome, formatMs, formatMeasured, CANDIDATE_SIZES, type TuneOptions, type TuneResult, type KernelReport } from './tune.js';
export { chooseSubgroupVariants, subgroupSupport, subgroupsUnavailable, type SubgroupSupport, type SubgroupOption } from './subgroups.js';
export {
  TdcRuntimeError,
  GpuError,
  NoWebGpuError,
  NoWebGpuAdapterError,
  GpuDeviceLostError,
  GpuValidationError,
  GpuTimeoutError,
  GpuInputError,
  GpuOptionsError,
  GpuUsageError,
  GpuStageDestroyedError,
  PlanError,
  SafetensorsError,
  isNoAdapterError,
  type RuntimeDiagnostic,
} from './errors.js';
export type { TensorInput, HostInput, DeviceInput, HostData, FloatTensor, IntTensor } from './tensors.js';
export { flattenInputs, nestByName } from './nested.js';
export { bindSymbols, type SymbolEnv } from './bind-symbols.js';
export type { Polling } from './wait-estimate.js';
export { readSafetensors, writeSafetensors, halfToFloat, type SafeTensor, type SafeDType } from './safetensors.js';
export type { KernelPlan, PlanVariant, PlanInput, PlanBuffer, PlanKernel, PlanOverride, WorkgroupClass, KernelBinding, PlanOutputs, GpuDType, IndexInputCheck, ComputedIndexCheck, FactorCheck, UnitInputCheck, StateInit } from './plan.js';
export { dimToString, shapeToString, evalDim, evalShape, dimSymbols, UnboundDimError, type Dim, type SymDim, type Shape } from './dims.js';
export { didYouMean, closest, editDistance } from './suggest.js';
export { computedIndexProblem, hostIndexProblem, indexCheckProblem, unitCheckProblem, NO_ERROR, CHECK_PARAMS, CHECK_WORKGROUP_SIZE, type DeviceCheckKind } from './device-checks.js';
export { nonFiniteParts, type NonFinite, type ResultValues } from './nonfinite.js';
