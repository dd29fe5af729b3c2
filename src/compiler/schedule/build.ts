// The last scheduling pass: from a partition and its buffers (buffers.ts) to a Schedule — per kernel its
// KernelSpec, bindings (the buffers its units read, found by the dependence analysis, and those it stores),
// dispatch formula (dispatch.ts) and workgroup override. No WGSL here: the codegen stage lowers the specs.
import { mulDims, numel } from '../../graph/dims.js';
import type { Dim } from '../../graph/types.js';
import { matmulLayout } from './matmul-layout.js';
import { groupReads, isColumnPass } from './row-layout.js';
import { innermostMapLayout, mapLayout } from './map-layout.js';
import { inPlaceUpdates } from './in-place-state.js';
import type { BufferDecl, KernelSpec, StoreSpec } from './kernel-spec.js';
import type { KernelBinding } from './plan.js';
import type { Schedule, ScheduledKernel } from './schedule.js';
import { workgroupOverride } from './workgroup.js';
import type { Partition } from './partition.js';
import type { Prepared } from './prepare.js';
import { termsOfNodes } from './terms.js';
import { allocateBuffers, type BufferInfo } from './buffers.js';
import { dispatchOf } from './dispatch.js';
import { headerLines, kernelName } from './kernel-header.js';
import { planSymbols } from './symbols.js';
import { computedIndexTorch, computedIndexWhat, computedIndices } from './computed-indices.js';

/** The WGSL name of the check flags a kernel updating state in place reads (its last binding). */
const CHECK_FLAGS = 'check_flags';

export interface BuildOptions {
  /** Pinned row/serial workgroup size (else chosen at pipeline creation). */
  workgroupSize: number | undefined;
  mode: 'fused' | 'unfused';
}

export function buildSchedule(prep: Prepared, part: Partition, opts: BuildOptions): Schedule {
  const g = prep.graph;
  const symbols = planSymbols(g);
  const bufs = allocateBuffers(g, part);
  const { list: buffers, inputOf, scratch, computedIn } = bufs;

  const terms = termsOfNodes(g);
  // intermediates a matmul kernel reads as operands: stored with subnormals flushed (StoreSpec.flushSubnormals)
  const matmulOperands = new Set(part.groups.filter((grp) => grp.kind === 'matmul').flatMap((grp) => grp.units.flatMap((u) => [...u.refs.keys()].filter((v) => scratch.has(v)))));
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
        const buf = t.kind === 'grad' ? bufs.grads[t.index]! : t.kind === 'state' ? bufs.state[t.index]! : bufs.scalars;
        if (t.kind === 'state' && t.scatter) stores.push({ node: u.node, buffer: buf.wgsl, shape: g.nodes[t.scatter.input]!.shape, base: 0, at: 'elem', scatter: { index: t.scatter.index }, buf });
        else {
          const keep = t.kind === 'state' && t.keep !== undefined ? { input: inputOf.get(t.keep)!.wgsl, flags: CHECK_FLAGS } : undefined;
          stores.push({ node: u.node, buffer: buf.wgsl, shape: n.shape, base: t.kind === 'scalar' ? t.slot : 0, at: u.at ?? 'elem', ...(keep ? { keep } : {}), buf });
        }
      } else if (scratch.has(u.node) && u.kind !== 'matmul' && u.kind !== 'serial') {
        const buf = scratch.get(u.node)!;
        const flush = matmulOperands.has(u.node) && n.dtype === 'float' ? { flushSubnormals: true as const } : {};
        stores.push({ node: u.node, buffer: buf.wgsl, shape: n.shape, base: 0, at: u.at ?? (u.kind === 'reduce' ? 'row' : 'elem'), ...(u.coords ? { coords: u.coords } : {}), ...flush, buf });
      }
    }
    if (grp.kind === 'matmul' || grp.kind === 'serial') {
      const u = grp.units[0]!;
      // a root stored by the matmul (matmul-roots.ts): the product goes straight into its buffer, in the product's shape
      const root = stores.pop();
      if (root && stores.length === 0 && !scratch.has(u.node)) stores.push({ ...root, node: u.node, shape: g.nodes[u.node]!.shape, base: 0, at: 'elem' });
      else {
        if (root) throw new Error(`${grp.kind} ${u.node}: a root stored besides other outputs`);
        const buf = scratch.get(u.node);
        if (!buf) throw new Error(`${grp.kind} ${u.node} is never read`);
        stores.push({ node: u.node, buffer: buf.wgsl, shape: g.nodes[u.node]!.shape, base: 0, at: 'elem', buf });
      }
    }
    // loads: inputs and scratch values computed elsewhere
    const loadable = new Map<number, BufferInfo>();
    for (const [node, b] of inputOf) loadable.set(node, b);
    for (const [node, b] of scratch) if (computedIn.get(node) !== grp) loadable.set(node, b);

    const workspace = bufs.workspace.get(grp);
    const layout = grp.kind === 'matmul' ? matmulLayout(g, grp.units[0]!.node, (id) => loadable.has(id)) : undefined;
    // a scatter's invocations loop along the row (its target row and duplicates are found once per invocation)
    const mapped = grp.kind === 'map' ? (stores.some((s) => s.scatter) ? innermostMapLayout(grp.axes) : mapLayout(grp.axes, grp.units.map((u) => u.refs))) : undefined;
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
    // a kernel updating state in place reads the run's device-check flags (PlanKernel.checkFlags, bound by the
    // runtime) and stores nothing when a check failed: torch raises before it updates the state; a kernel storing
    // another state output (CRD's params) reads them too and stores the state input's values instead
    const guarded = stores.some((s) => s.scatter);
    const flagged = guarded || stores.some((s) => s.keep);
    if (flagged) decls.push({ binding: decls.length + 1, name: CHECK_FLAGS, dtype: 'i32', access: 'read', label: "the run's check flags", shape: [] });
    const loads = new Map<number, string>();
    for (const [node, b] of loadable) if (declared.includes(b)) loads.set(node, b.wgsl);
    const common = { name, header, graph: g, symbols, maxWorkgroupSize: override.max, buffers: decls, loads, dimValues: prep.dimValues };
    const plain = stores.map(({ buf: _b, ...s }) => s);
    let spec: KernelSpec;
    if (layout) spec = { ...common, kind: 'matmul', node: grp.units[0]!.node, store: plain[0]!, ...layout };
    else if (grp.kind === 'serial') spec = { ...common, kind: 'serial', node: grp.units[0]!.node, store: plain[0]!, ...(workspace ? { workspace: workspace.wgsl } : {}) };
    else if (mapped) spec = { ...common, kind: 'map', axes: grp.axes, stores: plain, elemsPerInvocation: mapped.elems, loopAxis: mapped.loopAxis, ...(guarded ? { checkFlags: CHECK_FLAGS } : {}) };
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
        ...(isColumnPass(grp.axes, groupReads(grp, g)) ? { column: true as const } : {}),
      };
    if (guarded && spec.kind !== 'map') throw new Error(`kernel ${name}: an in-place state update outside a map kernel`);
    // matmul and serial kernels store their one value themselves (no storeStmt): a kept state output must not land there
    if (stores.some((s) => s.keep) && spec.kind !== 'map' && spec.kind !== 'row') throw new Error(`kernel ${name}: a state output stored by a ${spec.kind} kernel`);
    const bindings: KernelBinding[] = spec.buffers.filter((b) => b.name !== CHECK_FLAGS).map((b) => ({ binding: b.binding, buffer: declared.find((d) => d.wgsl === b.name)!.id, access: b.access }));
    const read = declared.filter((b) => !stores.some((s) => s.buf.id === b.id) && b !== workspace);
    return {
      name,
      spec,
      summary: header[0]!.replace(/^[^:]*: /, ''),
      terms: kTerms,
      bindings,
      ...(flagged ? { checkFlags: decls.length } : {}),
      dispatch: dispatchOf(grp, g, layout, mapped),
      overrides: [override],
      bytesRead: mulDims(4, sumDims(read.map((b) => b.length))),
      bytesWritten: mulDims(4, sumDims(stores.map((s) => numel(s.scatter ? g.nodes[s.node]!.shape : s.shape)))),
    };
  });

  // Cholesky factors, checked on the device by the runtime (positive, finite diagonal: torch raises otherwise)
  const factorChecks = [...scratch]
    .filter(([node]) => g.nodes[node]!.op === 'cholesky')
    .map(([node, b]) => {
      const s = g.nodes[node]!.shape;
      return { buffer: b.id, size: s[s.length - 1]!, count: mulDims(...s.slice(0, -2)), terms: terms[node] ?? [] };
    });
  // indices the kernels compute, checked on the device by the runtime after the kernel storing each (computed-indices.ts)
  const computedIndexChecks = computedIndices(g).flatMap((c) => {
    const b = scratch.get(c.node);
    return b ? [{ buffer: b.id, n: c.n, size: c.size, what: computedIndexWhat(c), ...computedIndexTorch(c) }] : [];
  });
  return {
    ...(opts.workgroupSize !== undefined ? { workgroupSize: opts.workgroupSize } : {}),
    symbols,
    inputs: bufs.inputs,
    buffers: buffers.map(({ wgsl: _w, shape: _s, ...b }) => b),
    kernels,
    outputs: {
      scalars: {
        buffer: bufs.scalars.id,
        loss: 0,
        terms: g.terms.map((t, k) => ({ name: t.name, weight: t.weight, index: 1 + k })),
        ...(g.modelTerm ? { modelTerm: { index: 1 + g.terms.length, weight: g.modelTerm.weight } } : {}),
      },
      grads: g.grads.map((x, k) => ({ input: x.input, buffer: bufs.grads[k]!.id, shape: g.nodes[x.node]!.shape })),
      ...(g.stateOut?.length ? { state: stateOutputs(g, bufs.state) } : {}),
    },
    ...(factorChecks.length ? { factorChecks } : {}),
    ...(computedIndexChecks.length ? { computedIndexChecks } : {}),
  };
}

/** plan.outputs.state: each state output's buffer; an in-place one's is its state input's (in-place-state.ts). */
function stateOutputs(g: Prepared['graph'], bufs: readonly BufferInfo[]) {
  const inPlace = inPlaceUpdates(g);
  return (g.stateOut ?? []).map((x, k) => ({ name: x.name, buffer: bufs[k]!.id, shape: g.nodes[x.node]!.shape, ...(inPlace[k] ? { inPlace: true as const } : {}) }));
}

function sumDims(ds: Dim[]): Dim {
  return ds.reduce<Dim>((a, b) => (typeof a === 'number' && typeof b === 'number' ? a + b : { op: 'add', a, b }), 0);
}
