// The kernel plan (the contract between tdc-compiler and tdc-runtime): what the scheduler produces from a differentiated graph and what codegen, the glue
// emitter, manifest.json and the runtime consume. Sizes are Dims over the plan's symbols, bound from the
// input shapes at run time and passed to every kernel in one uniform buffer (so one compile serves any batch).
import type { Dim, Shape } from './dim-types.js';

export type GpuDType = 'f32' | 'i32';

export interface PlanInput {
  /** golden/ naming, e.g. `student/./output`, `targets`, `model_loss/loss`. */
  name: string;
  shape: Shape;
  /** Host dtype accepted ('float' inputs: F32/F64 converted to f32; 'int': I64/I32 converted to i32). */
  dtype: 'float' | 'int';
  buffer: number;
  /** A state input's initial value as the loss defines it (torchdistill's CRDLoss: params [K, T, -1, -1, momentum],
   *  banks uniform in [-stdv, stdv]); what ResidentState.initial() makes. */
  init?: StateInit;
}

/** A state buffer's initial value: these values (row-major), or uniform in [-bound, bound] (torch.rand(…)·2·bound − bound). */
export type StateInit = { values: number[] } | { uniform: number };

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
  /**
   * The binding (read-only storage, array<i32>) at which the kernel reads the run's device-check flags: the first
   * failure of each check (device-checks.ts), NO_ERROR (-1 as i32) when none. The kernels that update state in
   * place (outputs.state[].inPlace) have it and store nothing when any check failed, so a run whose indices are
   * refused on the device leaves the caller's state as it was (torch raises before it updates anything). The
   * kernels storing the other state outputs (CRD's params, a buffer of their own) have it too and store the state
   * input's values instead, so ResidentState carries the old state over after a run that reads nothing back. It
   * counts against the storage-binding budget like `bindings`.
   */
  checkFlags?: number;
  /**
   * Workgroup counts (x, y, z) as Dims over the symbols and this kernel's override constants (a dim may
   * mention an override's `name`, e.g. ceil(N*C/wg_size)): the runtime evaluates them with the values it
   * chose at pipeline creation.
   */
  dispatch: [Dim, Dim, Dim];
  /** Pipeline-overridable constants of the WGSL (`override` declarations), set at pipeline creation. */
  overrides?: PlanOverride[];
  /**
   * The same kernel with its lanes' partials combined by subgroup operations (`enable subgroups;` and the
   * `subgroup_id` WGSL language feature): row kernels with reductions. Same bindings, overrides and dispatch;
   * the runtime picks one of the two texts at pipeline creation (ExecutorOptions.subgroups: where the device
   * has the `subgroups` feature and the workgroup size is a multiple of the adapter's subgroup size).
   */
  wgslSubgroups?: string;
  bytesRead: Dim;
  bytesWritten: Dim;
}

/** Kernel classes whose workgroup size is chosen separately (each suits a different size). */
export type WorkgroupClass = 'row' | 'map' | 'serial' | 'matmul';

/**
 * A WGSL `override` constant the runtime sets at pipeline creation (GPUProgrammableStage.constants). Today
 * every one is a workgroup size: invocations per workgroup (the entry point's workgroup_size attribute names it).
 */
export interface PlanOverride {
  /** The WGSL identifier (also the symbol the kernel's dispatch dims use for it). */
  name: string;
  role: 'workgroupSize';
  class: WorkgroupClass;
  /** The value for software rasterisers (lavapipe, llvmpipe, SwiftShader) and for other adapters. */
  default: { software: number; hardware: number };
  /** Largest value the kernel supports (its workgroup memory is budgeted for it). */
  max: number;
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
  state?: {
    name: string;
    buffer: number;
    shape: Shape;
    /**
     * The output is its state input's own buffer (`state_in/<term>/<buffer>`, the same `buffer`), updated in place
     * by the kernels: only the rows the step changes are written (CRD's memory-bank update, an index_copy). A run
     * that binds a caller's buffer for that input in place updates the caller's buffer; a host array is uploaded
     * and never changed.
     */
    inPlace?: true;
  }[];
}

export interface KernelPlan {
  /** The workgroup size pinned at compile time (`tdc compile --workgroup-size`), already each row and serial
   *  kernel's override default; absent: the runtime chooses per adapter (PlanOverride.default). */
  workgroupSize?: number;
  /** Symbol order in the dims uniform (binding 0 of group 0 in every kernel: array<u32> or a struct of u32). */
  symbols: string[];
  inputs: PlanInput[];
  buffers: PlanBuffer[];
  kernels: PlanKernel[];
  outputs: PlanOutputs;
  /**
   * Dims the compiler assumed equal without being able to prove it (a symbolic dim broadcast against a size or
   * another symbol, e.g. N against a teacher batch pinned at 5; a matmul's inner dims; a reshape's element count;
   * a shape the loss asserts, e.g. targets [N] against logits [4, C]): the runtime checks each pair before dispatch.
   */
  equalDims?: [Dim, Dim][];
  /** Integer inputs used as class indices: each value must lie in [0, size) unless it is `ignore` (torch raises). */
  indexInputs?: IndexInputCheck[];
  /**
   * Cholesky factors the kernels compute (buffer of `count` lower factors of size × size): the runtime checks on
   * the device that each diagonal entry is positive and finite (torch raises "not positive-definite" otherwise).
   */
  factorChecks?: FactorCheck[];
  /** Float inputs whose values torch checks (binary_cross_entropy: every element in [0, 1], NaN refused). */
  unitInputs?: UnitInputCheck[];
  /**
   * Indices the kernels compute (a custom loss's `gather(s, 1, unsqueeze(targets, 1) + 10)`), each stored into a
   * scratch buffer: the runtime checks on the device, right after the kernel storing it, that every value lies in [0, size)
   * (torch raises; the kernels read a clamped element).
   */
  computedIndexChecks?: ComputedIndexCheck[];
  /**
   * The WGSL of the device-check kernels the runtime dispatches for this plan (device-checks.ts is their contract),
   * made by the compiler: `index` when the plan has indexInputs or computedIndexChecks, `factor` with
   * factorChecks, `unit` with unitInputs.
   */
  checkKernels?: Partial<Record<DeviceCheckKind, string>>;
  /**
   * Plans of the same stage for adapters that allow more storage buffers per shader stage than WebGPU's default
   * (8, what this plan is made for): fewer, fatter kernels. Ordered by `minStorageBuffers`, each different from
   * the plan below it; the runtime runs the one with the largest `minStorageBuffers` the device allows
   * (selectPlanVariant), unless the application asks for this plan.
   */
  variants?: PlanVariant[];
}

/** A plan for adapters with more storage bindings (see KernelPlan.variants). */
export interface PlanVariant {
  /** The storage buffers its kernels bind at most: runs where maxStorageBuffersPerShaderStage ≥ this. */
  minStorageBuffers: number;
  plan: KernelPlan;
}

export interface UnitInputCheck {
  input: string;
  /** torch's message, e.g. 'binary_cross_entropy: all elements of input should be between 0 and 1'. */
  message: string;
}

export interface ComputedIndexCheck {
  /** The scratch buffer holding the index (i32) and its element count. */
  buffer: number;
  n: Dim;
  /** Each value must lie in [0, size). */
  size: Dim;
  /** How the message names it: the op reading it and the spec call that made that op. */
  what: string;
  /** torch's message for a bad value ({value}, {size}, {max}: as IndexInputCheck.torch). */
  torch?: string;
}

export interface FactorCheck {
  buffer: number;
  size: Dim;
  count: Dim;
  /** Which terms compute it (for the message). */
  terms: string[];
}

export interface IndexInputCheck {
  input: string;
  size: Dim;
  ignore?: number;
  /** What the values are when they are not class indices ('a CTC input length', "an index into dimension 0 of
   *  'state_in/crd/memory_v1'"), and torch's message for a bad one ({max} stands for size − 1, {size} for size,
   *  {value} for the value); without `what`, torch's "Target … is out of bounds". */
  what?: string;
  torch?: string;
}

/** The device checks a plan may carry kernels for (KernelPlan.checkKernels; device-checks.ts is their contract). */
export type DeviceCheckKind = 'index' | 'factor' | 'unit';
