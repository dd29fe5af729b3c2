// tdc-runtime/tfjs — the TensorFlow.js bridge: train a tfjs student with a tdc-compiled torchdistill criterion on
// the GPUDevice of tfjs's WebGPU backend. tfjs is an optional peer: the caller passes its own `tf` namespace, and
// nothing here imports tfjs or its type declarations.
export { TfjsDistiller, type DistillerOptions, type StepResult, type StageSource, type TensorOf } from './distiller.js';
export { TfjsWebGpu, type TensorLocation } from './backend.js';
export { parseHookName, resolveHooks, type HookRef, type Side } from './hooks.js';
export { TfjsBackendError, TfjsLayerError, TfjsStageError } from './errors.js';
export type { TfApi, TfTensor, TfGrads, TfLayer, TfLayersModel, TfOptimizer, TfSymbolicTensor } from './tfjs-types.js';
