// The one result of running a stage (src/compiler/driver/run.ts), whichever executor produced it.
import type { NonFinite } from 'tdc-runtime';

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
}

export type { NonFinite } from 'tdc-runtime';
