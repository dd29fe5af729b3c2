// The back half of a compile, in pipeline order: schedule (fusion decisions, as data: src/compiler/schedule)
// then WGSL codegen (src/codegen/wgsl/generate-plan.ts) → the KernelPlan the runtime executes.
import type { Graph } from '../graph/types.js';
import { generatePlan } from '../codegen/wgsl/generate-plan.js';
import { schedule, type ScheduleOptions } from './schedule/index.js';
import type { KernelPlan } from './schedule/plan.js';

export function kernelPlan(graph: Graph, opts: ScheduleOptions): KernelPlan {
  return generatePlan(schedule(graph, opts));
}
