// The buffers pass (after partition): the plan's buffers in id order — inputs, gradients, state outputs, the
// scalars slot buffer (loss, terms, model term), scratch for every value a kernel other than the one
// computing it reads and for each computed index the runtime checks (in kernel order), then each serial
// kernel's own workspace (CTC's α/β rows).
import { numel } from '../../graph/dims.js';
import type { DType, Graph, Shape } from '../../graph/types.js';
import { serialWorkspace } from './geometry.js';
import type { Group } from './kernel-graph.js';
import type { Partition } from './partition.js';
import { inPlaceUpdates } from './in-place-state.js';
import { computedIndices } from './computed-indices.js';
import type { GpuDType, PlanBuffer, PlanInput } from './plan.js';

export interface BufferInfo extends PlanBuffer {
  /** The WGSL identifier kernels bind it as. */
  wgsl: string;
  shape: Shape;
}

export interface Buffers {
  /** Every buffer, by id. */
  list: BufferInfo[];
  inputs: PlanInput[];
  /** Input node → its buffer. */
  inputOf: Map<number, BufferInfo>;
  grads: BufferInfo[];
  state: BufferInfo[];
  scalars: BufferInfo;
  /** Node → the scratch buffer holding it (values read by a kernel other than the one computing them). */
  scratch: Map<number, BufferInfo>;
  /** Unit node → the kernel computing it. */
  computedIn: Map<number, Group>;
  /** Serial kernel → its workspace. */
  workspace: Map<Group, BufferInfo>;
}

const gpuDType = (d: DType): GpuDType => (d === 'int' ? 'i32' : 'f32');

export function allocateBuffers(g: Graph, part: Partition): Buffers {
  const list: BufferInfo[] = [];
  const add = (b: Omit<BufferInfo, 'id'>): BufferInfo => {
    const info = { ...b, id: list.length };
    list.push(info);
    return info;
  };
  const inputOf = new Map<number, BufferInfo>();
  const inputs: PlanInput[] = g.inputs.map((inp, k) => {
    const n = g.nodes[inp.node]!;
    const b = add({ name: `in_${inp.name.replace(/\//g, '_')}`, role: 'input', dtype: gpuDType(n.dtype), length: numel(n.shape), wgsl: `t_in${k}`, shape: n.shape });
    inputOf.set(inp.node, b);
    return { name: inp.name, shape: n.shape, dtype: n.dtype, buffer: b.id };
  });
  const grads = g.grads.map((x, k) => {
    const n = g.nodes[x.node]!;
    return add({ name: `grad_${x.input.replace(/\//g, '_')}`, role: 'output', dtype: 'f32', length: numel(n.shape), wgsl: `t_grad${k}`, shape: n.shape });
  });
  const inPlace = inPlaceUpdates(g);
  const state = (g.stateOut ?? []).map((x, k) => {
    // updated in place: the state input's own buffer (in-place-state.ts)
    const ip = inPlace[k];
    if (ip) return inputOf.get(ip.input)!;
    const n = g.nodes[x.node]!;
    return add({ name: x.name.replace(/\//g, '_'), role: 'output', dtype: gpuDType(n.dtype), length: numel(n.shape), wgsl: `t_state${k}`, shape: n.shape });
  });
  const nScalars = 1 + g.terms.length + (g.modelTerm ? 1 : 0);
  const scalars = add({ name: 'out_scalars', role: 'output', dtype: 'f32', length: nScalars, wgsl: 't_out', shape: [nScalars] });

  // scratch: values read by a kernel other than the one computing them
  const computedIn = new Map<number, Group>();
  for (const grp of part.groups) for (const u of grp.units) if (u.kind !== 'root') computedIn.set(u.node, grp);
  const readElsewhere = new Set<number>();
  for (const grp of part.groups)
    for (const u of grp.units)
      for (const v of u.refs.keys()) {
        const h = computedIn.get(v);
        if (h && h !== grp) readElsewhere.add(v);
      }
  // computed indices: stored where they are computed, for the device's range check (computed-indices.ts)
  const checked = new Set(computedIndices(g).map((c) => c.node));
  const scratch = new Map<number, BufferInfo>();
  for (const grp of part.groups)
    for (const u of grp.units) {
      if (u.kind === 'root' || !(readElsewhere.has(u.node) || checked.has(u.node)) || scratch.has(u.node)) continue;
      const n = g.nodes[u.node]!;
      const k = scratch.size;
      const what = u.kind === 'matmul' ? 'mm' : u.kind === 'serial' ? n.op : n.op === 'reduce' ? 'rowstat' : u.at === 'row' ? 'rowval' : 'tmp';
      scratch.set(u.node, add({ name: `${what}_${k}`, role: 'scratch', dtype: gpuDType(n.dtype), length: numel(n.shape), wgsl: `t_s${k}`, shape: n.shape }));
    }

  // a serial kernel's own scratch memory: written and read by this kernel only
  const workspace = new Map<Group, BufferInfo>();
  part.groups.forEach((grp, ki) => {
    if (grp.kind !== 'serial') return;
    const n = g.nodes[grp.units[0]!.node]!;
    const length = serialWorkspace(n, (v) => g.nodes[v]!.shape);
    if (length !== undefined) workspace.set(grp, add({ name: `${n.op}_ws_${ki}`, role: 'scratch', dtype: 'f32', length, wgsl: `t_w${ki}`, shape: [length] }));
  });
  return { list, inputs, inputOf, grads, state, scalars, scratch, computedIn, workspace };
}
