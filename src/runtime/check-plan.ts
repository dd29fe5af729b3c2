// The structural checks of a kernel plan against itself and the device, before anything is created on the GPU:
// buffer ids, bindings, symbols, overrides, storage-buffer limit, device-check kernels, outputs. Throws PlanError.
/// <reference types="@webgpu/types" preserve="true" />
import { dimSymbols, type Dim } from './dims.js';
import { PlanError } from './errors.js';
import { describeValue } from './argument-checks.js';
import type { KernelPlan, PlanBuffer, PlanKernel } from './plan.js';

/** A PlanError unless `plan` is an object with a kernel plan's top-level fields (arrays, outputs): what every exported
 *  function taking a plan checks first, so that null or another object is named, not a TypeError from inside. */
export function checkPlanFields(plan: KernelPlan): void {
  if (plan === null || typeof plan !== 'object') throw new PlanError(`the plan is ${describeValue(plan)}, not a kernel plan`);
  for (const field of ['symbols', 'inputs', 'buffers', 'kernels'] as const)
    if (!Array.isArray(plan[field])) throw new PlanError(`its '${field}' is ${describeValue(plan[field])}, not an array (is this a kernel plan?)`);
  if (plan.outputs === null || typeof plan.outputs !== 'object') throw new PlanError(`its 'outputs' is ${describeValue(plan.outputs)}, not an object (is this a kernel plan?)`);
}

/** Structural checks of a plan against itself and the device; returns buffers by id. Throws PlanError. */
export function checkPlan(plan: KernelPlan, limits?: GPUSupportedLimits): Map<number, PlanBuffer> {
  checkPlanFields(plan);
  const byId = new Map<number, PlanBuffer>();
  for (const b of plan.buffers) {
    if (byId.has(b.id)) throw new PlanError(`buffer id ${b.id} is used twice`);
    byId.set(b.id, b);
  }
  const need = (id: number, what: string): PlanBuffer => {
    const b = byId.get(id);
    if (!b) throw new PlanError(`${what} refers to buffer ${id}, which the plan does not declare`);
    return b;
  };
  const syms = new Set(plan.symbols);
  const checkDims = (ds: readonly Dim[], what: string, extra: ReadonlySet<string> = new Set()): void => {
    for (const d of ds) for (const s of dimSymbols(d)) if (!syms.has(s) && !extra.has(s)) throw new PlanError(`${what} uses symbol ${s}, not in plan.symbols`);
  };
  for (const i of plan.inputs) {
    const b = need(i.buffer, `input ${i.name}`);
    if (b.dtype !== (i.dtype === 'int' ? 'i32' : 'f32')) throw new PlanError(`input ${i.name} (${i.dtype}) is bound to ${b.dtype} buffer ${b.name}`);
    checkDims(i.shape, `input ${i.name}`);
  }
  for (const b of plan.buffers) checkDims([b.length], `buffer ${b.name}`);
  plan.kernels.forEach((k: PlanKernel) => {
    const seenBinding = new Set<number>();
    const seenBuffer = new Set<number>();
    for (const bd of k.bindings) {
      if (bd.binding < 1) throw new PlanError(`kernel ${k.name} binds buffer ${bd.buffer} at binding ${bd.binding}; binding 0 is the dims uniform`);
      if (seenBinding.has(bd.binding)) throw new PlanError(`kernel ${k.name} uses binding ${bd.binding} twice`);
      if (seenBuffer.has(bd.buffer)) throw new PlanError(`kernel ${k.name} binds buffer ${bd.buffer} twice`);
      seenBinding.add(bd.binding);
      seenBuffer.add(bd.buffer);
      need(bd.buffer, `kernel ${k.name} binding ${bd.binding}`);
    }
    if (k.checkFlags !== undefined && (k.checkFlags < 1 || seenBinding.has(k.checkFlags))) throw new PlanError(`kernel ${k.name} reads the check flags at binding ${k.checkFlags}, which is the dims uniform or taken`);
    const storage = k.bindings.length + (k.checkFlags !== undefined ? 1 : 0);
    if (limits && storage > limits.maxStorageBuffersPerShaderStage)
      throw new PlanError(`kernel ${k.name} binds ${storage} storage buffers; this device allows ${limits.maxStorageBuffersPerShaderStage}`);
    const overrides = new Set<string>();
    for (const o of k.overrides ?? []) {
      if (syms.has(o.name)) throw new PlanError(`kernel ${k.name}: override ${o.name} has the name of a plan symbol`);
      if (overrides.has(o.name)) throw new PlanError(`kernel ${k.name} declares override ${o.name} twice`);
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(o.name)) throw new PlanError(`kernel ${k.name}: override name '${o.name}' is not a WGSL identifier`);
      overrides.add(o.name);
    }
    checkDims(k.dispatch, `kernel ${k.name} dispatch`, overrides);
  });
  // the device checks' kernels come with the plan (made by the compiler; device-checks.ts is their contract)
  for (const [kind, list] of [['index', [...(plan.indexInputs ?? []), ...(plan.computedIndexChecks ?? [])]], ['factor', plan.factorChecks], ['unit', plan.unitInputs]] as const)
    if (list?.length && typeof plan.checkKernels?.[kind] !== 'string')
      throw new PlanError(`the plan lists ${kind} checks but carries no checkKernels.${kind} (a plan from a tdc older than its runtime: recompile it)`);
  need(plan.outputs.scalars.buffer, 'outputs.scalars');
  for (const g of plan.outputs.grads) {
    need(g.buffer, `gradient of ${g.input}`);
    if (!plan.inputs.some((i) => i.name === g.input)) throw new PlanError(`gradient of ${g.input}, which is not an input`);
  }
  return byId;
}
