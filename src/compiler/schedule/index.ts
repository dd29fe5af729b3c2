// The scheduler: a differentiated tensor graph → a Schedule (buffers, and per kernel a structured spec,
// bindings, dispatch formula and workgroup override; no WGSL — src/codegen/wgsl/generate-plan.ts lowers it to
// the runtime's KernelPlan). Pure and deterministic: the same graph and options give an identical schedule.
// Passes, in processing order:
//   prepare.ts          rewrites (algebra.ts), dead code, reduction splitting, dim values
//   units.ts            scheduling units and stored roots, with their reads (domains.ts: the dependence
//                       analysis over index expressions); stored-values.ts, promote.ts: values made units
//   partition.ts        fusion by iteration domain over the kernel graph: kernel-graph.ts → merge-reductions.ts
//                       → join-row-values.ts → place-roots.ts → order.ts → sweeps.ts
//   check-order.ts      computed indices stored (and checked) before any kernel updates state: an ordering
//                       constraint (order.ts, place-roots.ts) and the invariant on the finished schedule
//   buffers.ts          the plan's buffers
//   build.ts            per kernel: spec, bindings, dispatch (dispatch.ts), header (kernel-header.ts)
//   merge-row-siblings.ts  independent row kernels over the same rows, one dispatch of row passes
// policy.ts chooses among fusion strategies by the storage-binding budget.
//   fused (default): reductions grouped by iteration domain into row kernels, elementwise work inlined,
//     gradients and scalars stored by the kernel that computes what they read;
//   unfused: one kernel per primitive op, every intermediate in memory (the benchmark baseline; unfused.ts).
import { diag, DiagnosticError, type Diagnostic } from '../../diagnostics/index.js';
import type { Graph } from '../../graph/types.js';
import { buildSchedule } from './build.js';
import { assertChecksBeforeState } from './check-order.js';
import { fusedSchedule } from './policy.js';
import { prepare } from './prepare.js';
import { unfusedPartition } from './unfused.js';
import { rootUnits } from './units.js';
import type { Schedule } from './schedule.js';
import { MAX_PINNED_WORKGROUP_SIZE, WORKGROUP_SIZE_RANGE } from './workgroup.js';

export interface ScheduleOptions {
  /**
   * Pins the workgroup size of row and serial kernels (threads per row) to this default; without it the
   * runtime chooses each kernel's size from the adapter at pipeline creation (WGSL `override wg_size`).
   */
  workgroupSize?: number;
  mode?: 'fused' | 'unfused';
  /** Storage buffers one kernel may bind (the device's maxStorageBuffersPerShaderStage; default 8, WebGPU's
   *  guaranteed minimum, so plans run everywhere; run-stage passes the adapter's own limit). */
  maxStorageBuffers?: number;
  /** Also store stateful terms' updated buffers (graph.stateOut → plan.outputs.state); default false. */
  state?: boolean;
}

/** A graph the scheduler cannot lower; carries a TDC6xx diagnostic. */
export class ScheduleError extends DiagnosticError {}

/** The schedule of a graph, or the diagnostic saying why it cannot be scheduled under these options (data). */
export function scheduleOrFailure(graph: Graph, opts: ScheduleOptions): { schedule: Schedule } | { failure: Diagnostic } {
  const mode = opts.mode ?? 'fused';
  const wg = opts.workgroupSize;
  if (wg !== undefined && (!Number.isInteger(wg) || wg < 1 || wg > MAX_PINNED_WORKGROUP_SIZE))
    return { failure: diag('error', WORKGROUP_SIZE_RANGE, `workgroup size must be an integer in 1..${MAX_PINNED_WORKGROUP_SIZE}, got ${wg}`) };
  const prep = prepare(graph, { splitReductions: true, algebra: mode === 'fused', state: opts.state ?? false });
  const roots = rootUnits(prep.graph);
  const r = mode === 'unfused' ? { schedule: buildSchedule(prep, unfusedPartition(prep.graph, roots, prep.dimValues), { workgroupSize: wg, mode }) } : fusedSchedule(prep, roots, opts.maxStorageBuffers ?? 8, wg);
  // a computed index is checked before any kernel updates state (check-order.ts): a broken order is a bug in tdc
  if ('schedule' in r) assertChecksBeforeState(r.schedule);
  return r;
}

/** The schedule of a graph; a graph it cannot schedule throws a ScheduleError with the diagnostic. */
export function schedule(graph: Graph, opts: ScheduleOptions): Schedule {
  const r = scheduleOrFailure(graph, opts);
  if ('failure' in r) throw new ScheduleError(r.failure);
  return r.schedule;
}

export { storageBindings } from './policy.js';
export type { KernelPlan } from './plan.js';
export type { Schedule, ScheduledKernel } from './schedule.js';
