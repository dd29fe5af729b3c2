// One golden case through the kernel IR interpreter instead of a GPU: instantiate with a symbolic batch (as
// `tdc run --device gpu` does) → fused schedule (`tdc compile`'s default binding limit; a case that does not fit
// it gets the plan `tdc run` makes for an adapter allowing 16 storage buffers, listed in `widened`) → kernel IR
// → the interpreter (src/codegen/kernel-ir/interpret-plan.ts), compared with golden/ under float32 tolerances.
import { stageGraph } from '../../src/compiler/run-gpu.js';
import { schedule, scheduleOrFailure, ScheduleError, type Schedule } from '../../src/compiler/schedule/index.js';
import type { Graph } from '../../src/graph/types.js';
import { generatePlanModules } from '../../src/codegen/wgsl/generate-plan.js';
import { interpretPlan } from '../../src/codegen/kernel-ir/interpret-plan.js';
import type { Diagnostic } from '../../src/diagnostics/index.js';
import { compareCase, loadCase, type Tolerance, type Worst } from './golden-gpu.js';

/** Cases whose plan needed more than the default 8 storage buffers per kernel. */
export const widened: string[] = [];

function planOf(id: string, g: Graph): Schedule {
  const r = scheduleOrFailure(g, { state: true });
  if ('schedule' in r) return r.schedule;
  if (r.failure.code !== 'TDC603') throw new ScheduleError(r.failure);
  widened.push(id);
  return schedule(g, { state: true, maxStorageBuffers: 16 });
}

/** `subgroupSize`: run the kernels' subgroup variants (PlanKernel.wgslSubgroups) with subgroups of that size. */
export async function checkInterpretedCase(id: string, tol: Tolerance, worst: Worst, workgroupSize?: number, subgroupSize?: number): Promise<string[]> {
  const c = await loadCase(id);
  if ('problems' in c) return c.problems;
  const ds: Diagnostic[] = [];
  const g = stageGraph(c.stage, c.inputs, true, ds);
  if (!g) return c.show(ds).length ? c.show(ds) : ['instantiation failed'];
  try {
    const { plan, modules, subgroupModules } = generatePlanModules(planOf(id, g));
    if (g.equalDims?.length) plan.equalDims = g.equalDims;
    const run = subgroupSize ? modules.map((m, i) => subgroupModules[i] ?? m) : modules;
    const r = interpretPlan(plan, run, c.inputs, workgroupSize, subgroupSize);
    return compareCase(
      c,
      {
        loss: r.loss,
        terms: Object.fromEntries([...r.terms].map(([n, v]) => [n, { value: v }])),
        ...(r.modelTerm !== undefined ? { modelTerm: { value: r.modelTerm } } : {}),
        grads: new Map([...r.grads].map(([n, d]) => [n, { data: d }])),
        state: new Map([...r.state].map(([n, d]) => [n, { data: d }])),
      },
      tol,
      worst,
    );
  } catch (e) {
    return [`threw: ${(e as Error).stack ?? String(e)}`];
  }
}
