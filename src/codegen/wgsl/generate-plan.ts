// The WGSL codegen stage: a Schedule (src/compiler/schedule) → the runtime's KernelPlan. Each kernel's spec
// is lowered to one WGSL module; buffers some kernel reads or writes as vec4 get whole vec4s (their length
// rounded up to a multiple of 4 elements, so the last partial vec4 is inside the binding; a gradient buffer
// may thus hold up to 3 elements past its shape, and readback takes the shape's elements).
import { ceilDivDims, mulDims } from '../../graph/dims.js';
import type { KernelPlan, PlanKernel } from '../../compiler/schedule/plan.js';
import type { Schedule } from '../../compiler/schedule/schedule.js';
import { generateKernel, lowerSubgroupVariant } from './generate-kernel.js';
import { deviceCheckKernels } from './device-check-kernels.js';
import { printModule } from './print-module.js';
import type { KernelModule } from '../kernel-ir/ir.js';

export function generatePlan(s: Schedule): KernelPlan {
  return generatePlanModules(s).plan;
}

/**
 * The plan and each kernel's IR module (plan order): what the IR interpreter runs; `subgroupModules[i]` is
 * kernel i's subgroup variant (PlanKernel.wgslSubgroups) where it has one.
 */
export function generatePlanModules(s: Schedule): { plan: KernelPlan; modules: KernelModule[]; subgroupModules: (KernelModule | undefined)[] } {
  const vec4 = new Set<number>();
  const modules: KernelModule[] = [];
  const subgroupModules: (KernelModule | undefined)[] = [];
  const kernels = s.kernels.map((k): PlanKernel => {
    const code = generateKernel(k.spec);
    const sub = lowerSubgroupVariant(k.spec);
    modules.push(code.module);
    subgroupModules.push(sub);
    for (const name of code.vec4) {
      const decl = k.spec.buffers.find((b) => b.name === name);
      const binding = decl && k.bindings.find((b) => b.binding === decl.binding);
      if (!binding) throw new Error(`kernel ${k.name}: vec4 access to undeclared buffer ${name}`);
      vec4.add(binding.buffer);
    }
    return {
      name: k.name,
      wgsl: code.wgsl,
      summary: k.summary,
      terms: k.terms,
      bindings: k.bindings,
      ...(k.checkFlags !== undefined ? { checkFlags: k.checkFlags } : {}),
      dispatch: k.dispatch,
      ...(k.overrides ? { overrides: k.overrides } : {}),
      ...(sub ? { wgslSubgroups: printModule(sub) } : {}),
      bytesRead: k.bytesRead,
      bytesWritten: k.bytesWritten,
    };
  });
  const plan: KernelPlan = {
    ...(s.workgroupSize !== undefined ? { workgroupSize: s.workgroupSize } : {}),
    symbols: s.symbols,
    inputs: s.inputs,
    buffers: s.buffers.map((b) => (vec4.has(b.id) ? { ...b, length: mulDims(4, ceilDivDims(b.length, 4)) } : b)),
    kernels,
    outputs: s.outputs,
    ...(s.equalDims ? { equalDims: s.equalDims } : {}),
    ...(s.indexInputs ? { indexInputs: s.indexInputs } : {}),
    ...(s.factorChecks ? { factorChecks: s.factorChecks } : {}),
    ...(s.computedIndexChecks ? { computedIndexChecks: s.computedIndexChecks } : {}),
  };
  const checkKernels = deviceCheckKernels(plan);
  if (checkKernels) plan.checkKernels = checkKernels;
  return { plan, modules, subgroupModules };
}
