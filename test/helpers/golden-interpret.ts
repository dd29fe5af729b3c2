// One golden case through the kernel IR interpreter instead of a GPU: instantiate with a symbolic batch (as
// `tdc run --device gpu` does) → fused schedule (`tdc compile`'s default binding limit) → kernel IR → the
// interpreter (src/codegen/kernel-ir/interpret-plan.ts), compared with golden/ under float32 tolerances.
import { stageGraph } from '../../src/compiler/run-gpu.js';
import { schedule } from '../../src/compiler/schedule/index.js';
import { generatePlanModules } from '../../src/codegen/wgsl/generate-plan.js';
import { interpretPlan } from '../../src/codegen/kernel-ir/interpret-plan.js';
import type { Diagnostic } from '../../src/diagnostics/index.js';
import { compareCase, loadCase, type Tolerance, type Worst } from './golden-gpu.js';

export async function checkInterpretedCase(id: string, tol: Tolerance, worst: Worst, workgroupSize?: number): Promise<string[]> {
  const c = await loadCase(id);
  if ('problems' in c) return c.problems;
  const ds: Diagnostic[] = [];
  const g = stageGraph(c.stage, c.inputs, true, ds);
  if (!g) return c.show(ds).length ? c.show(ds) : ['instantiation failed'];
  try {
    const { plan, modules } = generatePlanModules(schedule(g, { state: true }));
    if (g.equalDims?.length) plan.equalDims = g.equalDims;
    const r = interpretPlan(plan, modules, c.inputs, workgroupSize);
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
