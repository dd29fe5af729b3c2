// The fusion policy: which fused schedule a graph gets under a storage-binding limit. Each strategy is a way of
// estimating a candidate kernel's bindings (candidate.ts) while fusing; the policy takes the first strategy
// whose schedule has every kernel within the limit, counted exactly on the built kernels (storageBindings).
// In order of preference:
//   1. optimistic estimates (reads of same-domain reductions become registers, roots join the kernels that
//      compute what they read);
//   2. still optimistic, with row values (stored-values.ts) stored in place of the row statistics they combine;
//   3. conservative estimates (every value a kernel computes counted as stored).
// When none fits, the last strategy's failure is the diagnostic. No exception is thrown and caught: a
// strategy's outcome is data.
import { diag, type Diagnostic } from '../../diagnostics/index.js';
import { buildSchedule } from './build.js';
import type { BindingBudget } from './candidate.js';
import { partition } from './partition.js';
import { mergeRowSiblings } from './merge-row-siblings.js';
import type { Prepared } from './prepare.js';
import { unitsWithinBudget } from './promote.js';
import type { Schedule, ScheduledKernel } from './schedule.js';
import { rowValues, storedOnce } from './stored-values.js';
import type { RootDecl } from './units.js';

/** Storage buffers a scheduled kernel binds (every binding but the dims uniform): what the binding budget limits. */
export function storageBindings(k: ScheduledKernel): number {
  return k.bindings.length + (k.checkFlags !== undefined ? 1 : 0);
}

/** The first kernel of a schedule over the limit, if any. */
function kernelOverBudget(s: Schedule, limit: number): ScheduledKernel | undefined {
  return s.kernels.find((k) => storageBindings(k) > limit);
}

const STRATEGIES = [
  { conservative: false, rowValues: false },
  { conservative: false, rowValues: true },
  { conservative: true, rowValues: false },
] as const;

type Strategy = (typeof STRATEGIES)[number];

export function fusedSchedule(prep: Prepared, roots: readonly RootDecl[], limit: number, workgroupSize: number | undefined): { schedule: Schedule } | { failure: Diagnostic } {
  let failure: Diagnostic | undefined;
  for (const s of STRATEGIES) {
    const r = strategySchedule(prep, roots, s, limit, workgroupSize);
    if ('failure' in r) {
      failure = r.failure;
      continue;
    }
    const over = kernelOverBudget(r.schedule, limit);
    if (!over) return r;
    failure = diag('error', 'TDC603', `kernel ${over.name} would bind ${storageBindings(over)} storage buffers; this target allows ${limit}`);
  }
  return { failure: failure! };
}

/** The fused schedule of one strategy: units (split to fit the budget), partition, build. */
function strategySchedule(prep: Prepared, roots: readonly RootDecl[], s: Strategy, limit: number, workgroupSize: number | undefined): { schedule: Schedule } | { failure: Diagnostic } {
  const g = prep.graph;
  const budget: BindingBudget = { limit, conservative: s.conservative };
  const fused = unitsWithinBudget(prep, roots, storedOnce(g, prep), s.rowValues ? rowValues(g, prep) : new Set(), budget);
  if ('failure' in fused) return fused;
  const part = partition(g, fused.analysis, fused.units, fused.roots, budget);
  const built = buildSchedule(prep, part, { workgroupSize, mode: 'fused' });
  return { schedule: { ...built, kernels: mergeRowSiblings(built.kernels, limit, new Set((built.computedIndexChecks ?? []).map((c) => c.buffer))) } };
}
