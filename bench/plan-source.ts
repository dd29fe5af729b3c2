// tdc's own plans for the bench config: load + resolve + instantiate (symbolic N, C) + schedule, in the
// scheduler's default (fused) mode and its 'unfused' mode (one kernel per primitive op).
import { fileURLToPath } from 'node:url';
import { DiagnosticError, hasErrors, type Diagnostic } from '../src/diagnostics/index.js';
import { checkFile } from '../src/compiler/driver/check.js';
import { instantiateStage } from '../src/compiler/instantiate/index.js';
import type { Graph } from '../src/graph/types.js';
import type { KernelPlan } from '../src/compiler/schedule/plan.js';
import { kernelPlan } from '../src/compiler/kernel-plan.js';

export const BENCH_CONFIG = fileURLToPath(new URL('../../bench/kd-ce.yaml', import.meta.url));

export type ScheduleMode = 'fused' | 'unfused';
export type PlanOrReason = { plan: KernelPlan } | { unavailable: string };

/** The differentiated graph of the bench config, with student/teacher logits [N, C] and targets [N]. */
export function benchGraph(config = BENCH_CONFIG): Graph {
  const checked = checkFile(config);
  if (hasErrors(checked.diagnostics) || !checked.ir?.stages[0]) throw new Error(`cannot load ${config}:\n${describe(checked.diagnostics)}`);
  const N = { sym: 'N' };
  const C = { sym: 'C' };
  const inst = instantiateStage(checked.ir.stages[0], (name) => (name === 'targets' ? { shape: [N], dtype: 'int' } : { shape: [N, C], dtype: 'float' }));
  if (!inst.graph || hasErrors(inst.diagnostics)) throw new Error(`cannot instantiate ${config}:\n${describe(inst.diagnostics)}`);
  return inst.graph;
}

/** The compiler's plan for the bench config in each mode, or why there is none. */
export function compilerPlans(workgroupSize: Record<ScheduleMode, number>, config = BENCH_CONFIG): Record<ScheduleMode, PlanOrReason> {
  const graph = benchGraph(config);
  const one = (mode: ScheduleMode): PlanOrReason => {
    try {
      return { plan: kernelPlan(graph, { workgroupSize: workgroupSize[mode], mode }) };
    } catch (e) {
      return { unavailable: `schedule(mode: ${mode}) failed: ${e instanceof DiagnosticError ? `${e.diagnostic.code} ${e.diagnostic.message}` : (e as Error).message}` };
    }
  };
  return { fused: one('fused'), unfused: one('unfused') };
}

const describe = (ds: readonly Diagnostic[]): string => ds.map((d) => `  ${d.severity} ${d.code}: ${d.message}`).join('\n');
