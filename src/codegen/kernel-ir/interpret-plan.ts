// A kernel plan run by the IR interpreter instead of a GPU: the plan's buffers as typed arrays (zeroed, inputs
// converted to f32 / i32 as the runtime uploads them), the symbols bound from the input shapes, every kernel's
// dispatch evaluated with its workgroup size and interpreted in plan order. Results as the runtime reads
// them back: the scalars (loss, terms, model term), the gradients and the state outputs, in float32.
import { bindSymbols, computedIndexProblem, evalDim, hostIndexProblem, overrideConstants, type KernelPlan, type WorkgroupSizeOption } from 'tdc-runtime';
import type { KernelModule } from './ir.js';
import { interpretDispatch } from './interpret.js';
import { dimFields } from '../wgsl/print-module.js';

export interface InterpretedRun {
  loss: number;
  terms: Map<string, number>;
  modelTerm?: number;
  grads: Map<string, Float32Array>;
  state: Map<string, Float32Array>;
}

type Arr = Float32Array | Int32Array;

/** Workgroup limits of the interpreter (WebGPU's defaults). */
const LIMITS = { maxComputeWorkgroupSizeX: 256, maxComputeWorkgroupSizeY: 256, maxComputeInvocationsPerWorkgroup: 256 };

/**
 * Runs `plan` (its kernels' IR in `modules`, plan order) on host inputs. Workgroup sizes: the plan's software
 * defaults unless `workgroupSize` chooses (the runtime's rule, runtime/workgroup.ts).
 */
export function interpretPlan(
  plan: KernelPlan,
  modules: readonly KernelModule[],
  inputs: ReadonlyMap<string, { shape: readonly number[]; data: ArrayLike<number | bigint> }>,
  workgroupSize?: WorkgroupSizeOption,
  /** Invocations per subgroup, for modules with subgroup operations (default: the interpreter's, 8). */
  subgroupSize?: number,
): InterpretedRun {
  const shapes = new Map(plan.inputs.map((i) => [i.name, inputs.get(i.name)?.shape ?? []]));
  const { env, problems } = bindSymbols(plan.inputs, shapes, plan.symbols, plan.equalDims ?? []);
  if (problems.length) throw new Error(`inputs do not fit the plan: ${problems.join('; ')}`);
  // index inputs as the GPU runtime checks host arrays (executor.checkIndices): the kernels would read clamped rows
  const bad = (plan.indexInputs ?? []).flatMap((c) => {
    const data = inputs.get(c.input)?.data;
    const p = data && hostIndexProblem({ ...c, size: evalDim(c.size, env) }, data);
    return p ? [p] : [];
  });
  if (bad.length) throw new Error(`invalid inputs: ${bad.join('; ')}`);
  const buffers = new Map<number, Arr>();
  for (const b of plan.buffers) {
    const n = evalDim(b.length, env);
    buffers.set(b.id, b.dtype === 'f32' ? new Float32Array(n) : new Int32Array(n));
  }
  for (const i of plan.inputs) {
    const t = inputs.get(i.name);
    if (!t) throw new Error(`missing input ${i.name}`);
    const buf = buffers.get(i.buffer)!;
    if (t.data.length > buf.length) throw new Error(`input ${i.name}: ${t.data.length} values for ${buf.length} elements`);
    for (let k = 0; k < t.data.length; k++) buf[k] = Number(t.data[k]);
  }
  const constants = overrideConstants(plan.kernels, true, LIMITS, workgroupSize);
  plan.kernels.forEach((k, ki) => {
    const m = modules[ki]!;
    const c = constants[ki]!;
    const wgSize = c['wg_size'];
    if (wgSize === undefined) throw new Error(`kernel ${k.name}: no wg_size override`);
    const denv = { ...env, ...c };
    const grid = k.dispatch.map((d) => evalDim(d, denv)) as [number, number, number];
    const fields = dimFields(m.symbols);
    const dims: Record<string, number> = {};
    for (const s of m.symbols) dims[fields.get(s)!] = env[s]!;
    const named = new Map<string, Arr>();
    for (const decl of m.buffers) {
      // the run's device-check flags (PlanKernel.checkFlags): none failed, host inputs were checked above
      if (decl.binding === k.checkFlags) {
        named.set(decl.name, Int32Array.of(-1));
        continue;
      }
      const b = k.bindings.find((x) => x.binding === decl.binding);
      if (!b) throw new Error(`kernel ${k.name}: no binding ${decl.binding} for ${decl.name}`);
      named.set(decl.name, buffers.get(b.buffer)!);
    }
    interpretDispatch(m, { buffers: named, dims, wgSize, grid, ...(subgroupSize ? { subgroupSize } : {}) });
  });
  // indices the kernels computed, as the GPU runtime checks them after the kernels (device-checks.ts)
  const outOfRange = (plan.computedIndexChecks ?? []).flatMap((c) => {
    const size = evalDim(c.size, env);
    const data = buffers.get(c.buffer)!.subarray(0, evalDim(c.n, env));
    const i = data.findIndex((v) => !(v >= 0 && v < size));
    return i < 0 ? [] : [computedIndexProblem({ ...c, size }, i, data[i]!)];
  });
  if (outOfRange.length) throw new Error(`indices out of range: ${outOfRange.join('; ')}`);
  const scalars = buffers.get(plan.outputs.scalars.buffer)!;
  const numel = (shape: readonly (number | object)[]) => shape.reduce<number>((a, d) => a * evalDim(d as never, env), 1);
  const run: InterpretedRun = {
    loss: scalars[plan.outputs.scalars.loss]!,
    terms: new Map(plan.outputs.scalars.terms.map((t) => [t.name, scalars[t.index]!])),
    grads: new Map(plan.outputs.grads.map((g) => [g.input, Float32Array.from(buffers.get(g.buffer)!.subarray(0, numel(g.shape)))])),
    state: new Map((plan.outputs.state ?? []).map((s) => [s.name, Float32Array.from(buffers.get(s.buffer)!.subarray(0, numel(s.shape)))])),
  };
  const mt = plan.outputs.scalars.modelTerm;
  if (mt) run.modelTerm = scalars[mt.index]!;
  return run;
}
