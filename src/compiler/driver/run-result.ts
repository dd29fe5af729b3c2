// The one result of running a stage (src/compiler/driver/run.ts), whichever executor produced it.
import type { ExecutorTuning, NonFinite, PlanVariantOption } from 'tdc-runtime';
import type { KernelPlan } from '../schedule/plan.js';

/** One evaluation of a stage: float64 on the CPU, float32 on the GPU. */
export interface RunResult {
  loss: number;
  /** Each sub-term: its weight and unweighted value. */
  terms: Record<string, { weight: number; value: number }>;
  /** The model term (WeightedSumLoss model_term), when present: Σ model losses (number weight) or Σ weight·loss (dict). */
  modelTerm?: { weight: number | Record<string, number>; value: number };
  /** d loss / d input for every trainable input the loss reaches. */
  grads: Map<string, { shape: number[]; data: Float64Array | Float32Array }>;
  /** Stateful terms' updated buffers, `state_out/<term>/<buffer>` → value; absent when no term has state. */
  state?: Map<string, { shape: number[]; data: Float64Array | Float32Array }>;
  /** The parts that are NaN or ±Inf ([] when all are finite): NaN propagates as in torch and is named here. */
  nonfinite: NonFinite[];
  /** 'cpu', or the adapter, e.g. "llvmpipe (LLVM 15.0.6, 256 bits) (mesa/cpu)". */
  device: string;
  /** GPU runs: the plan that ran and how it was chosen (`tdc run --explain`). */
  gpu?: GpuRunDetails;
}

/** Which plan ran on which device, and where the time went. */
export interface GpuRunDetails {
  /** The stage's plan for WebGPU's default limits, with the variants `tdc compile` carries (KernelPlan.variants). */
  compiled: KernelPlan;
  /** The plan that ran: `compiled` or one of its variants' plans. */
  plan: KernelPlan;
  /** The variant that ran (its minStorageBuffers); undefined: the plan for the default limits. */
  variant?: number;
  /** The choice asked for ('auto' unless the caller forced the default plan). */
  choice: PlanVariantOption;
  /** The device's maxStorageBuffersPerShaderStage (the runtime raises it to the adapter's maximum). */
  deviceStorageBuffers: number;
  /** Wall time of each step (ms): instantiate + schedule + WGSL of every plan; pipeline creation; the run with its
   *  readback (on software adapters such as lavapipe it includes the driver's shader compilation, done at a
   *  pipeline's first dispatch). */
  ms: { plan: number; pipelines: number; run: number };
  /** Kernels run at their pipeline's first dispatch on this device, each with its wall time (ms) from the previous
   *  one's completion (PlanExecutor.firstDispatchMs): on software adapters mostly the driver compiling it. */
  firstDispatchMs: { kernel: string; ms: number }[];
  /** Each kernel's workgroup size (its `wg_size` override constant; plan order) and whether it ran its subgroup variant. */
  workgroupSizes: (number | undefined)[];
  subgroupVariants: boolean[];
  /** Which kernels ran a choice from the tuning cache (`tdc tune`), from which cache, and what was ignored (PlanExecutor.tuning). */
  tuning: ExecutorTuning;
}

export type { NonFinite } from 'tdc-runtime';
