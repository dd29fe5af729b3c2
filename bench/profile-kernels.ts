// `npm run bench -- --losses <ids> --profile`: where a loss's time goes, kernel by kernel. For each kernel k
// of the plan, a copy of the plan that dispatches only k (the others get zero workgroups, which the
// executor skips) runs on the same resident inputs, submit + onSubmittedWorkDone, median of several runs;
// the same plan with nothing dispatched is the fixed cost (uniform upload, bind groups, submit) subtracted.
// Each kernel then reads what the earlier kernels left in their buffers (zeros, or the last full run's
// values): timings only, the results are not checked here.
/// <reference types="@webgpu/types" />
import type { KernelPlan } from '../src/compiler/schedule/plan.js';
import { evalDim } from '../src/graph/dims.js';
import { PlanExecutor, type TensorInput } from 'tdc-runtime';
import type { GpuRuntime } from 'tdc-runtime/node';
import { median } from './harness.js';

export interface KernelTime {
  name: string;
  summary: string;
  ms: number;
  workgroups: number;
}

async function timeRuns(rt: GpuRuntime, exec: PlanExecutor, inputs: ReadonlyMap<string, TensorInput>, runs: number, minMs: number): Promise<number> {
  const ts: number[] = [];
  const start = performance.now();
  for (let i = 0; i < runs + 1 || (performance.now() - start < minMs && i < 50); i++) {
    const t0 = performance.now();
    const { done } = exec.submit(inputs);
    await done;
    await rt.device.queue.onSubmittedWorkDone();
    if (i > 0) ts.push(performance.now() - t0);
  }
  return median(ts);
}

const only = (plan: KernelPlan, k: number): KernelPlan => ({
  ...plan,
  kernels: plan.kernels.map((kern, i) => (i === k ? kern : { ...kern, dispatch: [0, 0, 0] })),
});

/** Per-kernel device time (ms) of `plan` on `inputs` (resident), fixed cost subtracted. */
export async function profileKernels(rt: GpuRuntime, plan: KernelPlan, inputs: ReadonlyMap<string, TensorInput>, env: Record<string, number>, runs = 5): Promise<{ fixedMs: number; kernels: KernelTime[] }> {
  const empty = await PlanExecutor.create(rt, only(plan, -1));
  const fixedMs = await timeRuns(rt, empty, inputs, runs, 50);
  empty.destroy();
  const kernels: KernelTime[] = [];
  for (const [k, kern] of plan.kernels.entries()) {
    const exec = await PlanExecutor.create(rt, only(plan, k));
    const ms = await timeRuns(rt, exec, inputs, runs, 100);
    // the workgroup sizes the executor chose for this kernel (a pinned size applies to row and serial kernels only)
    const wgEnv = { ...env, ...exec.constants[k] };
    exec.destroy();
    const workgroups = kern.dispatch.reduce<number>((a, d) => a * evalDim(d, wgEnv), 1);
    kernels.push({ name: kern.name, summary: kern.summary.split('\n')[0]!, ms: Math.max(0, ms - fixedMs), workgroups });
  }
  return { fixedMs, kernels };
}

export function formatProfile(p: { fixedMs: number; kernels: KernelTime[] }): string {
  const total = p.kernels.reduce((a, k) => a + k.ms, 0);
  const lines = p.kernels.map((k) => `    ${k.ms.toFixed(2).padStart(9)} ms ${((100 * k.ms) / total).toFixed(0).padStart(3)}%  ${String(k.workgroups).padStart(7)} wg  ${k.name}: ${k.summary.slice(0, 110)}`);
  return [`    fixed cost ${p.fixedMs.toFixed(2)} ms; kernels sum ${total.toFixed(2)} ms`, ...lines].join('\n');
}
