// The run driver (`tdc run`, library callers): one stage's criterion on concrete tensors, on the GPU or the
// float64 CPU executor, with ONE result type and the GPU→CPU fallback policy:
//   device 'cpu'  → the CPU executor;
//   device 'gpu'  → the GPU path (the plan `tdc compile` emits, its variant chosen for the adapter as the compiled
//                   glue chooses); no adapter is an error (TDC510);
//   device 'auto' → the GPU path when there is an adapter; without one a note (TDC511) and the CPU executor.
// Every other GPU problem is reported, never hidden behind a silent CPU run.
import { diag, hasErrors, type Diagnostic } from '../../diagnostics/index.js';
import type { SafeTensor } from 'tdc-runtime';
import type { StageIR } from '../ir.js';
import type { RunResult } from './run-result.js';
import { nonFiniteWarning } from './nonfinite.js';
import { withMisspeltInputHint } from '../run-input-checks.js';

export type RunDevice = 'auto' | 'cpu' | 'gpu';

export type { NonFinite, RunResult } from './run-result.js';

export interface RunStageOptions {
  device: RunDevice;
  /** The config file (for messages). */
  file: string;
  /** GPU: workgroup size of row/serial kernels, set at pipeline creation (default: chosen from the adapter). */
  workgroupSize?: number;
  /** GPU: which of the stage's plans runs, as the compiled glue's option: 'auto' (default) the variant with the
   *  most storage buffers per kernel the device allows, 'default' the plan for WebGPU's default limits. */
  planVariant?: 'auto' | 'default';
}

export async function runStage(stage: StageIR, tensors: Map<string, SafeTensor>, opts: RunStageOptions): Promise<{ result?: RunResult; diagnostics: Diagnostic[] }> {
  const r = await runOn(stage, tensors, opts);
  return { ...r, diagnostics: r.diagnostics.map((d) => withMisspeltInputHint(d, stage, tensors.keys())) };
}

async function runOn(stage: StageIR, tensors: Map<string, SafeTensor>, opts: RunStageOptions): Promise<{ result?: RunResult; diagnostics: Diagnostic[] }> {
  const diagnostics: Diagnostic[] = [];
  if (opts.device !== 'cpu') {
    const { runStageOnGpu, isNoAdapterError } = await import('../run-gpu.js');
    try {
      const g = await runStageOnGpu(stage, tensors, {
        file: opts.file,
        ...(opts.workgroupSize !== undefined ? { workgroupSize: opts.workgroupSize } : {}),
        ...(opts.planVariant !== undefined ? { planVariant: opts.planVariant } : {}),
      });
      return withNonFiniteWarning(stage, { ...(g.result ? { result: g.result } : {}), diagnostics: [...diagnostics, ...g.diagnostics] });
    } catch (e) {
      if (!isNoAdapterError(e)) throw e;
      // the runtime's message is already worded for a user (runtime/dawn-message.ts): what failed, on one line, maybe
      // followed by one 'driver said:' line; its hint says what to set
      const hint = e.hint !== undefined ? { hint: e.hint } : undefined;
      if (opts.device === 'gpu') return { diagnostics: [...diagnostics, diag('error', 'TDC510', `--device gpu: ${e.message}`, undefined, hint)] };
      diagnostics.push(diag('note', 'TDC511', `running on the CPU executor (float64): ${e.message}`));
    }
  }
  const { runStageOnCpu } = await import('../run-cpu.js');
  const c = runStageOnCpu(stage, tensors);
  diagnostics.push(...c.diagnostics);
  if (hasErrors(c.diagnostics) || !c.result) return { diagnostics };
  return withNonFiniteWarning(stage, { result: c.result, diagnostics });
}

/** A result with NaN/Inf parts carries a warning naming them (TDC504); the parts are in `result.nonfinite`. */
function withNonFiniteWarning(stage: StageIR, r: { result?: RunResult; diagnostics: Diagnostic[] }): { result?: RunResult; diagnostics: Diagnostic[] } {
  const w = r.result ? nonFiniteWarning(r.result.nonfinite, stage.span) : undefined;
  return w ? { ...r, diagnostics: [...r.diagnostics, w] } : r;
}
