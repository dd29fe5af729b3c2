// From a partition to a Schedule: buffers (inputs, gradients, the scalars slot buffer, scratch for values
// that cross kernels) and per kernel its KernelSpec, bindings (the buffers its units read, found by the
// dependence analysis, and those it stores), dispatch formula and workgroup override. No WGSL here: the
// codegen stage lowers the specs.
import { ceilDivDims, dimSymbols, dimToString, minDims, mulDims, numel, shapeToString } from '../../graph/dims.js';
import type { Dim, Graph, Shape } from '../../graph/types.js';
import type { DType } from '../../graph/types.js';
import { MAP_ELEMS, MATMUL_REG, serialWorkgroups, serialWorkspace } from './geometry.js';
import { matmulLayout, type MatmulLayout } from './matmul-layout.js';
import type { BufferDecl, KernelSpec, StoreSpec } from './kernel-spec.js';
import type { GpuDType, KernelBinding, PlanBuffer, PlanInput } from './plan.js';
import type { Schedule, ScheduledKernel } from './schedule.js';
import { WG_SIZE_DIM, workgroupOverride } from './workgroup.js';
import type { Group, Partition, Unit } from './partition.js';
import type { Prepared } from './prepare.js';
import { termsOfNodes } from './terms.js';

const MAX_WORKGROUPS = 65535;

interface BufferInfo extends PlanBuffer {
  wgsl: string;
  shape: Shape;
}

export interface BuildOptions {
  /** Pinned row/serial workgroup size (else chosen at pipeline creation). */
  workgroupSize: number | undefined;
  mode: 'fused' | 'unfused';
}

const gpuDType = (d: DType): GpuDType => (d === 'int' ? 'i32' : 'f32');

export function buildSchedule(prep: Prepared, part: Partition, opts: BuildOptions): Schedule {
  const g = prep.graph;
  const symbols = planSymbols(g);
  const buffers: BufferInfo[] = [];
  const addBuffer = (b: Omit<BufferInfo, 'id'>): BufferInfo => {
    const info = { ...b, id: buffers.length };
    buffers.push(info);
    return info;
  };

  // inputs
  const inputBuf = new Map<number, BufferInfo>();
  const inputs: PlanInput[] = g.inputs.map((inp, k) => {
    const n = g.nodes[inp.node]!;
    const b = addBuffer({ name: `in_${inp.name.replace(/\//g, '_')}`, role: 'input', dtype: gpuDType(n.dtype), length: numel(n.shape), wgsl: `t_in${k}`, shape: n.shape });
    inputBuf.set(inp.node, b);
    return { name: inp.name, shape: n.shape, dtype: n.dtype, buffer: b.id };
  });
  // outputs
  const gradBuf = g.grads.map((x, k) => {
    const n = g.nodes[x.node]!;
    return addBuffer({ name: `grad_${x.input.replace(/\//g, '_')}`, role: 'output', dtype: 'f32', length: numel(n.shape), wgsl: `t_grad${k}`, shape: n.shape });
  });
  const stateBuf = (g.stateOut ?? []).map((x, k) => {
    const n = g.nodes[x.node]!;
    return addBuffer({ name: x.name.replace(/\//g, '_'), role: 'output', dtype: gpuDType(n.dtype), length: numel(n.shape), wgsl: `t_state${k}`, shape: n.shape });
  });
  const nScalars = 1 + g.terms.length + (g.modelTerm ? 1 : 0);
  const scalars = addBuffer({ name: 'out_scalars', role: 'output', dtype: 'f32', length: nScalars, wgsl: 't_out', shape: [nScalars] });

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
  const scratch = new Map<number, BufferInfo>();
  let nScratch = 0;
  for (const grp of part.groups)
    for (const u of grp.units) {
      if (u.kind === 'root' || !readElsewhere.has(u.node) || scratch.has(u.node)) continue;
      const n = g.nodes[u.node]!;
      const k = nScratch++;
      scratch.set(u.node, addBuffer({ name: `${u.kind === 'matmul' ? 'mm' : u.kind === 'serial' ? n.op : n.op === 'reduce' || n.op === 'arg_reduce' ? 'rowstat' : u.at === 'row' ? 'rowval' : 'tmp'}_${k}`, role: 'scratch', dtype: gpuDType(n.dtype), length: numel(n.shape), wgsl: `t_s${k}`, shape: n.shape }));
    }

  const terms = termsOfNodes(g);
  const kernels: ScheduledKernel[] = part.groups.map((grp, ki) => {
    const kindName = grp.kind === 'row' ? (grp.axes.some((a) => !a.reduced) ? 'row' : 'reduce') : grp.kind;
    const kTerms = [...new Set(grp.units.flatMap((u) => terms[u.node] ?? []))];
    const name = kernelName(ki, kindName, kTerms);

    // stores
    const stores: (StoreSpec & { buf: BufferInfo })[] = [];
    for (const u of grp.units) {
      const n = g.nodes[u.node]!;
      if (u.kind === 'root') {
        const t = u.target!;
        const buf = t.kind === 'grad' ? gradBuf[t.index]! : t.kind === 'state' ? stateBuf[t.index]! : scalars;
        stores.push({ node: u.node, buffer: buf.wgsl, shape: n.shape, base: t.kind === 'scalar' ? t.slot : 0, at: u.at ?? 'elem', buf });
      } else if (scratch.has(u.node) && u.kind !== 'matmul' && u.kind !== 'serial') {
        const buf = scratch.get(u.node)!;
        stores.push({ node: u.node, buffer: buf.wgsl, shape: n.shape, base: 0, at: u.at ?? (u.kind === 'reduce' ? 'row' : 'elem'), buf });
      }
    }
    if (grp.kind === 'matmul' || grp.kind === 'serial') {
      const u = grp.units[0]!;
      const buf = scratch.get(u.node);
      if (!buf) throw new Error(`${grp.kind} ${u.node} is never read`);
      stores.push({ node: u.node, buffer: buf.wgsl, shape: g.nodes[u.node]!.shape, base: 0, at: 'elem', buf });
    }
    // loads: inputs and scratch values computed elsewhere
    const loadable = new Map<number, BufferInfo>();
    for (const [node, b] of inputBuf) loadable.set(node, b);
    for (const [node, b] of scratch) if (computedIn.get(node) !== grp) loadable.set(node, b);

    // a serial kernel's own scratch memory (CTC's α/β rows): written and read by this kernel only
    const wsLength = grp.kind === 'serial' ? serialWorkspace(g.nodes[grp.units[0]!.node]!, (v) => g.nodes[v]!.shape) : undefined;
    const workspace = wsLength === undefined ? undefined : addBuffer({ name: `${g.nodes[grp.units[0]!.node]!.op}_ws_${ki}`, role: 'scratch', dtype: 'f32', length: wsLength, wgsl: `t_w${ki}`, shape: [wsLength] });
    const layout = grp.kind === 'matmul' ? matmulLayout(g, grp.units[0]!.node, (id) => loadable.has(id)) : undefined;
    const header = headerLines(name, grp, g, kTerms, stores.map((s) => s.buf.name), part, opts.mode, layout);
    const override = workgroupOverride(grp.kind, opts.workgroupSize);
    // the buffers its units read: what the dependence analysis found they read, where it is loadable
    const used = new Set<number>();
    for (const u of grp.units)
      for (const v of u.refs.keys()) {
        const b = loadable.get(v);
        if (b) used.add(b.id);
      }
    const declared: BufferInfo[] = [];
    const storeBufs = new Set(stores.map((s) => s.buf.id));
    if (workspace) storeBufs.add(workspace.id);
    for (const b of buffers) if (used.has(b.id) || storeBufs.has(b.id)) declared.push(b);
    const decls: BufferDecl[] = declared.map((b, k) => ({
      binding: k + 1,
      name: b.wgsl,
      dtype: b.dtype,
      access: storeBufs.has(b.id) ? 'read_write' : 'read',
      label: b.name,
      shape: b.shape,
    }));
    const loads = new Map<number, string>();
    for (const [node, b] of loadable) if (declared.includes(b)) loads.set(node, b.wgsl);
    const common = { name, header, graph: g, symbols, maxWorkgroupSize: override.max, buffers: decls, loads, dimValues: prep.dimValues };
    const plain = stores.map(({ buf: _b, ...s }) => s);
    let spec: KernelSpec;
    if (layout) spec = { ...common, kind: 'matmul', node: grp.units[0]!.node, store: plain[0]!, reg: MATMUL_REG, ...layout };
    else if (grp.kind === 'serial') spec = { ...common, kind: 'serial', node: grp.units[0]!.node, store: plain[0]!, ...(workspace ? { workspace: workspace.wgsl } : {}) };
    else if (grp.kind === 'map') spec = { ...common, kind: 'map', axes: grp.axes, stores: plain, elemsPerInvocation: MAP_ELEMS };
    else
      spec = {
        ...common,
        kind: 'row',
        axes: grp.axes,
        reductions: grp.units
          .filter((u) => u.kind === 'reduce')
          .sort((a, b) => a.node - b.node)
          .map((u) => ({ node: u.node, phase: part.phase.get(u.node) ?? 0, ...(part.online.has(u.node) ? { online: part.online.get(u.node)! } : {}) })),
        stores: plain,
        ...(part.elemPhase.has(grp) ? { elemPhase: part.elemPhase.get(grp)! } : {}),
      };
    const bindings: KernelBinding[] = spec.buffers.map((b) => ({ binding: b.binding, buffer: declared.find((d) => d.wgsl === b.name)!.id, access: b.access }));
    const read = declared.filter((b) => !stores.some((s) => s.buf.id === b.id) && b !== workspace);
    return {
      name,
      spec,
      summary: header[0]!.replace(/^[^:]*: /, ''),
      terms: kTerms,
      bindings,
      dispatch: dispatchOf(grp, g, layout),
      overrides: [override],
      bytesRead: mulDims(4, sumDims(read.map((b) => b.length))),
      bytesWritten: mulDims(4, sumDims(stores.map((s) => numel(s.shape)))),
    };
  });

  // Cholesky factors, checked on the device by the runtime (positive, finite diagonal: torch raises otherwise)
  const factorChecks = [...scratch]
    .filter(([node]) => g.nodes[node]!.op === 'cholesky')
    .map(([node, b]) => {
      const s = g.nodes[node]!.shape;
      return { buffer: b.id, size: s[s.length - 1]!, count: mulDims(...s.slice(0, -2)), terms: terms[node] ?? [] };
    });
  return {
    ...(opts.workgroupSize !== undefined ? { workgroupSize: opts.workgroupSize } : {}),
    symbols,
    inputs,
    buffers: buffers.map(({ wgsl: _w, shape: _s, ...b }) => b),
    kernels,
    outputs: {
      scalars: {
        buffer: scalars.id,
        loss: 0,
        terms: g.terms.map((t, k) => ({ name: t.name, weight: t.weight, index: 1 + k })),
        ...(g.modelTerm ? { modelTerm: { index: 1 + g.terms.length, weight: g.modelTerm.weight } } : {}),
      },
      grads: g.grads.map((x, k) => ({ input: x.input, buffer: gradBuf[k]!.id, shape: g.nodes[x.node]!.shape })),
      ...(g.stateOut?.length ? { state: g.stateOut.map((x, k) => ({ name: x.name, buffer: stateBuf[k]!.id, shape: g.nodes[x.node]!.shape })) } : {}),
    },
    ...(factorChecks.length ? { factorChecks } : {}),
  };
}

function sumDims(ds: Dim[]): Dim {
  return ds.reduce<Dim>((a, b) => (typeof a === 'number' && typeof b === 'number' ? a + b : { op: 'add', a, b }), 0);
}

/** Plan symbols: in order of first appearance in the inputs' shapes, then anywhere else. */
export function planSymbols(g: Graph): string[] {
  const out: string[] = [];
  const add = (d: Dim) => {
    for (const s of dimSymbols(d)) if (!out.includes(s)) out.push(s);
  };
  for (const i of g.inputs) for (const d of g.nodes[i.node]!.shape) add(d);
  for (const n of g.nodes) for (const d of n.shape) add(d);
  return out;
}

function kernelName(k: number, kind: string, terms: string[]): string {
  const t = terms.slice(0, 3).map((x) => x.replace(/[^A-Za-z0-9]+/g, '_').replace(/^_|_$/g, '').toLowerCase()).filter(Boolean);
  return [`k${k}`, kind, ...t, ...(terms.length > 3 ? ['etc'] : [])].join('_');
}

/**
 * Workgroup counts: rows (row kernels), ⌈lines·⌈last/MAP_ELEMS⌉ / wg_size⌉ (map), output tiles × batch
 * (matmul: tiles of MATMUL_REG·wg_size lane indices × `uniform` indices); x ≤ 65535, the rest in y. `wg_size` is the kernel's override
 * constant: the runtime evaluates these with the value it chose.
 */
function dispatchOf(grp: Group, g: Graph, layout: MatmulLayout | undefined): [Dim, Dim, Dim] {
  if (layout) {
    const s = g.nodes[grp.units[0]!.node]!.shape;
    const r = s.length;
    const [lane, uniform] = layout.swap ? [s[r - 2]!, s[r - 1]!] : [s[r - 1]!, s[r - 2]!];
    return [ceilDivDims(lane, mulDims(MATMUL_REG, WG_SIZE_DIM)), ceilDivDims(uniform, layout.uniform), mulDims(...s.slice(0, -2))];
  }
  if (grp.kind === 'serial') {
    const count = serialWorkgroups(g.nodes[grp.units[0]!.node]!);
    return [minDims(count, MAX_WORKGROUPS), ceilDivDims(count, MAX_WORKGROUPS), 1];
  }
  const dims = grp.axes.map((a) => a.dim);
  const count =
    grp.kind === 'row'
      ? mulDims(...grp.axes.filter((a) => !a.reduced).map((a) => a.dim))
      : ceilDivDims(mulDims(...dims.slice(0, -1), ceilDivDims(dims[dims.length - 1] ?? 1, MAP_ELEMS)), WG_SIZE_DIM);
  return [minDims(count, MAX_WORKGROUPS), ceilDivDims(count, MAX_WORKGROUPS), 1];
}

function headerLines(name: string, grp: Group, g: Graph, terms: string[], writes: string[], part: Partition, mode: string, layout?: MatmulLayout): string[] {
  const dims = grp.axes.map((a) => dimToString(a.dim));
  const reds = grp.units.filter((u) => u.kind === 'reduce');
  const sweeps = new Set([...reds.map((u) => part.phase.get(u.node) ?? 0), ...(part.elemPhase.has(grp) ? [part.elemPhase.get(grp)!] : [])]).size;
  const writesText = `writes ${[...new Set(writes)].join(', ')}`;
  let what: string;
  if (layout) {
    const u = grp.units[0]!;
    const [lane, uni] = layout.swap ? ['rows', 'columns'] : ['columns', 'rows'];
    what = `register-tiled matmul ${shapeToString(g.nodes[u.node]!.shape)} (${MATMUL_REG} ${lane} x ${layout.uniform} ${uni} per invocation, the ${uni} shared by the wg_size invocations of a workgroup); ${writesText}`;
  } else if (grp.kind === 'serial') {
    const n = g.nodes[grp.units[0]!.node]!;
    const per = n.op === 'sort' ? `sorted row (${n.attrs.output})` : n.op === 'ctc_nll' || n.op === 'ctc_nll_grad' ? 'sample' : 'matrix';
    what = `${n.op} ${shapeToString(n.shape)} (one workgroup per ${per}); ${writesText}`;
  } else if (grp.kind === 'map') {
    what = `elementwise over [${dims.join(', ')}]; ${writesText}`;
  } else {
    const kept = grp.axes.filter((a) => !a.reduced).map((a) => dimToString(a.dim));
    const red = grp.axes.filter((a) => a.reduced).map((a) => dimToString(a.dim));
    const rows = kept.length ? `one workgroup per row of [${kept.join(', ')}]` : 'one workgroup';
    what = `${kept.length ? 'row pass' : 'whole reduction'} over [${dims.join(', ')}] (${rows}, reducing [${red.join(', ')}]): ${reds.length} reduction${reds.length === 1 ? '' : 's'} in ${sweeps} sweep${sweeps === 1 ? '' : 's'}; ${writesText}`;
  }
  const ops = describeUnits(grp.units, g);
  return [`${name}: ${what}`, `terms: ${terms.length ? terms.join(', ') : '(none)'}${mode === 'unfused' ? ` — unfused: ${ops}` : ''}`];
}

function describeUnits(units: Unit[], g: Graph): string {
  return units
    .filter((u) => u.kind !== 'root')
    .map((u) => {
      const n = g.nodes[u.node]!;
      return n.op === 'unary' || n.op === 'binary' || n.op === 'reduce' ? `${n.op} ${'fn' in n.attrs ? n.attrs.fn : ''}`.trim() : n.op;
    })
    .join(', ');
}
