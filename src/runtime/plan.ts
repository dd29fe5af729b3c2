// The kernel plan (the contract between tdc-compiler and tdc-runtime): what the scheduler produces from a differentiated graph and what codegen, the glue
// emitter, manifest.json and the runtime consume. Sizes are Dims over the plan's symbols, bound from the
// input shapes at run time and passed to every kernel in one uniform buffer (so one compile serves any batch).
import type { Dim, Shape } from './dims.js';

export type GpuDType = 'f32' | 'i32';

export interface PlanInput {
  /** golden/ naming, e.g. `student/./output`, `targets`, `model_loss/loss`. */
  name: string;
  shape: Shape;
  /** Host dtype accepted ('float' inputs: F32/F64 converted to f32; 'int': I64/I32 converted to i32). */
  dtype: 'float' | 'int';
  buffer: number;
}

export interface PlanBuffer {
  id: number;
  /** Stable, descriptive: `in_student_._output`, `grad_student_._output`, `rowstat_0`, `out_scalars`. */
  name: string;
  role: 'input' | 'output' | 'scratch';
  dtype: GpuDType;
  /** Element count. */
  length: Dim;
}

export interface KernelBinding {
  binding: number;
  buffer: number;
  access: 'read' | 'read_write';
}

export interface PlanKernel {
  /** Deterministic file name stem: `k0_row_kd_ce`, … (kernels/<name>.wgsl). */
  name: string;
  wgsl: string;
  /** Human summary for --explain and the WGSL header comment: what it computes, which config terms. */
  summary: string;
  terms: string[];
  bindings: KernelBinding[];
  /** Workgroup counts (x, y, z) as Dims over the symbols. */
  dispatch: [Dim, Dim, Dim];
  bytesRead: Dim;
  bytesWritten: Dim;
}

export interface PlanOutputs {
  /** Buffer holding the scalars: [loss, term_0, term_1, …, model_term?] in this order. */
  scalars: {
    buffer: number;
    loss: number;
    terms: { name: string; weight: number; index: number }[];
    /** Slot of the model term (WeightedSumLoss model_term: weight · Σ model losses), when the stage has one. */
    modelTerm?: { index: number; weight: number | Record<string, number> };
  };
  grads: { input: string; buffer: number; shape: Shape }[];
  /** Stateful terms' updated buffers (CRD memory banks), `state_out/<term>/<buffer>`; only when scheduled with `state`. */
  state?: { name: string; buffer: number; shape: Shape }[];
}

export interface KernelPlan {
  workgroupSize: number;
  /** Symbol order in the dims uniform (binding 0 of group 0 in every kernel: array<u32> or a struct of u32). */
  symbols: string[];
  inputs: PlanInput[];
  buffers: PlanBuffer[];
  kernels: PlanKernel[];
  outputs: PlanOutputs;
  /**
   * Dims the compiler assumed equal without being able to prove it (a symbolic dim broadcast against a size or
   * another symbol, e.g. N against a teacher batch pinned at 5): the runtime checks each pair before dispatch.
   */
  equalDims?: [Dim, Dim][];
  /** Integer inputs used as class indices: each value must lie in [0, size) unless it is `ignore` (torch raises). */
  indexInputs?: IndexInputCheck[];
}

export interface IndexInputCheck {
  input: string;
  size: Dim;
  ignore?: number;
}
