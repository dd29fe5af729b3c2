// The shape of manifest.json (format 'tdc-manifest/1', written by src/codegen/manifest.ts), for API users who
// read it as an object. Sizes are numbers, or strings over the stage symbols ("N", "N*C", "ceil(N/8)").

export type ManifestDim = number | string;

export interface ManifestKernel {
  name: string;
  /** Path of the WGSL inside the output directory. */
  file: string;
  sha256: string;
  summary: string;
  terms: string[];
  /** Workgroup counts; may mention the kernel's override names (e.g. ceil(N*C/wg_size)). */
  dispatch: ManifestDim[];
  /** WGSL `override` constants to set at pipeline creation (GPUProgrammableStage.constants). */
  overrides: ManifestOverride[];
  /** The kernel's identity in a tuning cache (`tdc tune`): the same at every size (kernelTuningKey in tdc-runtime). */
  tuningKey: string;
  /** The kernel's variant with subgroup operations (row kernels): same bindings, overrides and dispatch. */
  subgroups?: { file: string; sha256: string };
  bindings: { binding: number; buffer: string; access: 'uniform' | 'read' | 'read_write' }[];
  bytesRead: ManifestDim;
  bytesWritten: ManifestDim;
}

export interface ManifestOverride {
  /** The WGSL identifier, also used by the dispatch sizes. */
  name: string;
  role: 'workgroupSize';
  /** Kernel class (each class's size is invocations per workgroup). */
  class: 'row' | 'map' | 'serial' | 'matmul';
  /** For software rasterisers (lavapipe, SwiftShader) and for other adapters. */
  default: { software: number; hardware: number };
  max: number;
}

export interface ManifestStage extends ManifestPlan {
  name: string;
  /** The row/serial workgroup size pinned at compile time (--workgroup-size), when one was. */
  workgroupSize?: number;
  /** Plans of the stage for devices allowing more storage buffers per shader stage than its own plan's 8 (WebGPU's
   *  default): run the one with the largest `minStorageBuffers` the device allows, else the stage's own plan. */
  variants?: (ManifestPlan & { minStorageBuffers: number })[];
}

/** What a host needs to run one plan of a stage. */
export interface ManifestPlan {
  symbols: string[];
  /** `init`: a state input's initial value as the loss defines it (values, or uniform in [-bound, bound]). */
  inputs: { name: string; shape: ManifestDim[]; dtype: 'float' | 'int'; buffer: string; init?: { values: number[] } | { uniform: number } }[];
  /** Sizes that must be equal once the symbols are bound from the input shapes (e.g. targets' N and logits' 4). */
  equalDims?: [ManifestDim, ManifestDim][];
  /** Integer inputs whose every value must lie in [0, size) unless it equals `ignore`; `what` says what the values
   *  are when not class indices, `torch` is torch's message ({value}, {max} = size − 1, {size}). */
  indexInputs?: { input: string; size: ManifestDim; ignore?: number; what?: string; torch?: string }[];
  /** Float inputs whose every element must lie in [0, 1] (NaN refused); `message` is torch's. */
  unitInputs?: { input: string; message: string }[];
  /** Buffers of `count` lower Cholesky factors (size × size) whose diagonal must be positive and finite after the run. */
  factorChecks?: { buffer: string; size: ManifestDim; count: ManifestDim; terms: string[] }[];
  outputs: {
    scalars: {
      buffer: string;
      loss: number;
      terms: { name: string; weight: number; index: number }[];
      modelTerm?: { index: number; weight: number | Record<string, number> };
    };
    grads: { input: string; buffer: string; shape: ManifestDim[] }[];
    /** Stateful terms' updated buffers (CRD's memory banks), `state_out/<term>/<buffer>`, each with the input it
     *  replaces at the next step (`state_in/<term>/<buffer>`); absent when the stage keeps no state. `inPlace`: the
     *  buffer is the input's own, updated in place by the kernels (only the rows that change are written). */
    state?: { name: string; input: string; buffer: string; shape: ManifestDim[]; inPlace?: true }[];
  };
  buffers: { name: string; role: 'input' | 'output' | 'scratch'; dtype: 'f32' | 'i32'; length: ManifestDim }[];
  kernels: ManifestKernel[];
}

export interface Manifest {
  format: 'tdc-manifest/1';
  /** tdc version that wrote it. */
  tdc: string;
  /** The config, relative to the project root. */
  config: string;
  conventions: Record<string, string>;
  stages: ManifestStage[];
}
