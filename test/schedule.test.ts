// The scheduler: kernel counts of the fused plans (the KD sample is at most 3 dispatches), what the fused row
// pass contains, determinism, the unfused baseline (one kernel per primitive op), binding limits, workgroup
// size and diagnostics for ops without a GPU lowering.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DiagnosticError } from '../src/diagnostics/index.js';
import { GraphBuilder } from '../src/graph/builder.js';
import { differentiate } from '../src/graph/autodiff.js';
import type { Graph } from '../src/graph/types.js';
import { kernelPlan } from '../src/compiler/kernel-plan.js';
import { schedule, storageBindings, ScheduleError, type Schedule } from '../src/compiler/schedule/index.js';
import { generateKernel } from '../src/codegen/wgsl/generate-kernel.js';
import { generatePlan } from '../src/codegen/wgsl/generate-plan.js';
import type { KernelPlan } from '../src/compiler/schedule/plan.js';
import { readSafetensors } from 'tdc-runtime';
import { stageGraph } from '../src/compiler/run-gpu.js';
import { evalDim, isOneDim as isOne } from '../src/graph/dims.js';
import { loadGoldenStage, GOLDEN_DIR } from './helpers/golden-stage.js';
import { opCases } from './helpers/op-graphs.js';
import { DependenceAnalysis, addRef, type Refs } from '../src/compiler/schedule/domains.js';
import { ixKey, ixVars, type Ix } from '../src/compiler/schedule/index-expr.js';
import { IndexMath } from '../src/compiler/schedule/index-math.js';
import { alignedIndex, coord, reductionInputIndex } from '../src/compiler/schedule/coords.js';
import { Emitter } from '../src/codegen/wgsl/emitter.js';
import { ScopeTree } from '../src/codegen/wgsl/scope.js';
import { ref } from '../src/codegen/kernel-ir/ir.js';

/** A golden case's differentiated graph, instantiated as `tdc run --device gpu` does (batch dim symbolic). */
async function goldenGraph(id: string, symbolic = true, trainable?: { teacher?: boolean }): Promise<Graph> {
  const dir = join(GOLDEN_DIR, id);
  const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as { stage: string; trainable: { student: boolean | null; teacher: boolean | null } };
  const { stage } = await loadGoldenStage(dir, expected.stage);
  if (!stage) throw new Error(`${id}: no stage`);
  stage.trainable = { student: expected.trainable.student !== false, teacher: trainable?.teacher ?? expected.trainable.teacher === true };
  const { tensors } = readSafetensors(new Uint8Array(readFileSync(join(dir, 'tensors.safetensors'))));
  const ds: never[] = [];
  const g = stageGraph(stage, new Map([...tensors].filter(([n]) => !n.startsWith('grad/'))), symbolic, ds);
  if (!g) throw new Error(`${id}: instantiation failed: ${JSON.stringify(ds)}`);
  return g;
}

const KD_SAMPLE = 'sample__ilsvrc2012__kd__resnet18_from_resnet34';
const describe = (p: KernelPlan) => p.kernels.map((k) => `${k.name}: ${k.summary}`).join('\n  ');

test('KD sample (KDLoss α=0.5, T=1: KL + CE, forward + backward) is at most 3 kernels', async () => {
  for (const symbolic of [true, false]) {
    const plan = kernelPlan(await goldenGraph(KD_SAMPLE, symbolic), { workgroupSize: 8 });
    assert.ok(plan.kernels.length <= 3, `${plan.kernels.length} kernels:\n  ${describe(plan)}`);
    assert.equal(plan.symbols, symbolic ? ['N'] : []);
  }
});

test('KD sample with the teacher logits trainable too (gradients for both) is at most 3 kernels', async () => {
  for (const symbolic of [true, false]) {
    const g = await goldenGraph(KD_SAMPLE, symbolic, { teacher: true });
    assert.equal(g.grads.map((x) => x.input).sort(), ['student/./output', 'teacher/./output']);
    const plan = kernelPlan(g, { workgroupSize: 8 });
    assert.ok(plan.kernels.length <= 3, `${plan.kernels.length} kernels:\n  ${describe(plan)}`);
    assert.ok(plan.kernels.every((k) => k.bindings.length <= 8), describe(plan));
  }
});

test('KD with T ≠ 1, α ≠ 0.5, at C = 1000, and CE + KD on the same logits: at most 3 kernels each', async () => {
  for (const id of ['edge__kd_alpha_targets', 'edge__kd_c1000_n8', 'edge__ce_kd_weighted_sum', 'sample__ilsvrc2012__tfkd__resnet18_from_resnet18']) {
    const plan = kernelPlan(await goldenGraph(id), { workgroupSize: 8 });
    assert.ok(plan.kernels.length <= 3, `${id}: ${plan.kernels.length} kernels:\n  ${describe(plan)}`);
  }
});

test('the KD row pass reads the logits once per sweep and writes the loss rows and the gradient rows together', async () => {
  const plan = kernelPlan(await goldenGraph('edge__kd_alpha_targets'), { workgroupSize: 8 });
  const gradBuf = plan.outputs.grads.find((g) => g.input === 'student/./output')!.buffer;
  const writers = plan.kernels.filter((k) => k.bindings.some((b) => b.buffer === gradBuf && b.access === 'read_write'));
  assert.is(writers.length, 1);
  const row = writers[0]!;
  assert.match(row.summary, /one workgroup per row/);
  // two sweeps: online max + Σexp (softmax statistics of s/T, t/T, s), then gradient + KL row
  assert.match(row.summary, /in 2 sweeps/);
  assert.ok(row.bindings.some((b) => b.access === 'read_write' && b.buffer !== gradBuf), 'the row pass also stores per-row values for the loss');
  // the whole-batch scalars come after it, in a one-workgroup dispatch
  const last = plan.kernels[plan.kernels.length - 1]!;
  assert.equal(last.dispatch, [1, 1, 1]);
  assert.ok(last.bindings.some((b) => b.buffer === plan.outputs.scalars.buffer && b.access === 'read_write'));
});

test('plans are deterministic: the same graph (or a re-instantiated one) gives a byte-identical plan', async () => {
  for (const id of [KD_SAMPLE, 'edge__ce_ignore_index_spatial', 'sample__ilsvrc2012__kd_w_ls__resnet18_from_resnet34']) {
    const g = await goldenGraph(id);
    const a = JSON.stringify(kernelPlan(g, { workgroupSize: 8 }));
    assert.is(JSON.stringify(kernelPlan(g, { workgroupSize: 8 })), a, `${id}: same graph`);
    assert.is(JSON.stringify(kernelPlan(await goldenGraph(id), { workgroupSize: 8 })), a, `${id}: re-instantiated`);
  }
  for (const c of opCases()) assert.is(JSON.stringify(kernelPlan(c.graph, { workgroupSize: 64 })), JSON.stringify(kernelPlan(c.graph, { workgroupSize: 64 })), c.name);
});

/** Ops the unfused plan must give one kernel each: live nodes other than inputs and constants, plus the
 *  whole-tensor reductions over several dims (split into a row pass and a batch pass). */
function expectedUnfusedKernels(g: Graph): number {
  const live = new Array<boolean>(g.nodes.length).fill(false);
  for (const r of [g.loss, ...g.terms.map((t) => t.node), ...g.grads.map((x) => x.node), ...(g.modelTerm ? [g.modelTerm.node] : [])]) live[r] = true;
  for (let id = g.nodes.length - 1; id >= 0; id--) if (live[id]) for (const i of g.nodes[id]!.inputs) live[i] = true;
  // a dim value (a reduction of a broadcast constant) is computed where it is read, and so is what only it reads
  const sumOfConst = (n: Graph['nodes'][number]): boolean => {
    if (n.op !== 'reduce') return false;
    let src = g.nodes[n.inputs[0]!]!;
    while (src.op === 'broadcast' || src.op === 'reshape' || src.op === 'detach' || (src.op === 'cast' && src.dtype === 'float')) src = g.nodes[src.inputs[0]!]!;
    return src.op === 'const';
  };
  const inline = new Set(g.nodes.filter(sumOfConst).map((n) => n.id));
  const roots = new Set([g.loss, ...g.terms.map((t) => t.node), ...g.grads.map((x) => x.node), ...(g.modelTerm ? [g.modelTerm.node] : [])]);
  for (let id = g.nodes.length - 1; id >= 0; id--) {
    const users = g.nodes.filter((u) => live[u.id] && u.inputs.includes(id));
    if (!roots.has(id) && users.length > 0 && users.every((u) => inline.has(u.id))) inline.add(id);
  }
  let count = 0;
  for (const n of g.nodes) {
    if (!live[n.id] || n.op === 'input' || n.op === 'const' || inline.has(n.id)) continue;
    count++;
    if (n.op === 'reduce') {
      const x = g.nodes[n.inputs[0]!]!;
      const nonOne = x.shape.map((d, k) => (isOne(d) ? -1 : k)).filter((k) => k >= 0);
      if (nonOne.length >= 2 && nonOne.every((k) => n.attrs.axes.includes(k))) count++;
    }
  }
  return count;
}

test('unfused mode: one kernel per primitive op, each naming its op', async () => {
  for (const [name, g] of [
    [KD_SAMPLE, await goldenGraph(KD_SAMPLE)],
    ['ce spatial', await goldenGraph('edge__ce_ignore_index_spatial')],
    ...opCases().map((c) => [c.name, c.graph] as const),
  ] as const) {
    // what each kernel computes, read off its spec (data), not its WGSL
    const sched = schedule(g, { workgroupSize: 64, mode: 'unfused' });
    const ops = sched.kernels.map((k) => {
      const sp = k.spec;
      const nodes = sp.kind === 'row' ? sp.reductions.map((r) => r.node) : sp.kind === 'segments' ? sp.parts.flatMap((p) => p.reductions.map((r) => r.node)) : sp.kind === 'map' ? [...new Set(sp.stores.map((x) => x.node))] : [sp.node];
      // a stored value the kernel loads (an input, another kernel's result) or a constant is a copy
      return nodes.filter((n) => !sp.loads.has(n) && sp.graph.nodes[n]!.op !== 'const');
    });
    const copies = ops.filter((o) => o.length === 0).length; // outputs that are inputs, constants or other kernels' results
    assert.is(sched.kernels.length - copies, expectedUnfusedKernels(g), `${name}`);
    for (const [i, o] of ops.entries()) assert.ok(o.length <= 1, `${name}/${sched.kernels[i]!.name}: one op per kernel, got ${o.length}`);
    const plan = generatePlan(sched);
    for (const k of plan.kernels) assert.match(k.wgsl, /— unfused: /, `${name}/${k.name}: the header says what it computes`);
    const fused = schedule(g, { workgroupSize: 64 });
    assert.ok(fused.kernels.length < sched.kernels.length, `${name}: fused ${fused.kernels.length} < unfused ${sched.kernels.length}`);
  }
});

/** Kernels whose read-only bindings differ from the buffers their generated code reads. */
function bindingMismatches(s: Schedule, where: string): string[] {
  const out: string[] = [];
  for (const k of s.kernels) {
    const declared = k.spec.buffers.filter((b) => b.access === 'read').map((b) => b.name).sort();
    const used = [...generateKernel(k.spec).used].sort();
    if (declared.join() !== used.join()) out.push(`${where}/${k.name}: binds [${declared.join(', ')}] for reading, its code reads [${used.join(', ')}]`);
    if (storageBindings(k) !== k.spec.buffers.length) out.push(`${where}/${k.name}: ${storageBindings(k)} bindings, ${k.spec.buffers.length} declarations`);
  }
  return out;
}

/** Kernels of row passes (merge-row-siblings.ts) whose parts are not independent: a part reads or writes a buffer
 *  another part writes (the parts run in one dispatch, with no order between workgroups). */
function segmentConflicts(s: Schedule, where: string): string[] {
  const out: string[] = [];
  for (const k of s.kernels) {
    if (k.spec.kind !== 'segments') continue;
    const parts = k.spec.parts.map((p) => ({ all: new Set(p.buffers.map((b) => b.name)), written: p.buffers.filter((b) => b.access === 'read_write').map((b) => b.name) }));
    parts.forEach((a, i) =>
      parts.forEach((b, j) => {
        for (const w of i === j ? [] : a.written) if (b.all.has(w)) out.push(`${where}/${k.name}: part ${j} touches ${w}, which part ${i} writes`);
      }),
    );
  }
  return out;
}

test('the schedule is data: each kernel binds for reading exactly the buffers its generated code reads (every golden case, every op graph)', async () => {
  const index = JSON.parse(readFileSync(join(GOLDEN_DIR, 'index.json'), 'utf8')) as { cases: { case: string }[] };
  const problems: string[] = [];
  let kernels = 0;
  let segmented = 0;
  for (const c of index.cases) {
    let s: Schedule;
    try {
      s = schedule(await goldenGraph(c.case), {});
    } catch (e) {
      problems.push(`${c.case}: ${(e as Error).message}`);
      continue;
    }
    kernels += s.kernels.length;
    for (const k of s.kernels) assert.not.ok('wgsl' in k, 'a scheduled kernel carries no WGSL');
    problems.push(...bindingMismatches(s, c.case), ...segmentConflicts(s, c.case));
    segmented += s.kernels.filter((k) => k.spec.kind === 'segments').length;
  }
  for (const c of opCases())
    for (const mode of ['fused', 'unfused'] as const) {
      const s = schedule(c.graph, { mode });
      kernels += s.kernels.length;
      problems.push(...bindingMismatches(s, `${c.name} ${mode}`));
    }
  console.log(`bindings of ${kernels} scheduled kernels checked against their code; ${segmented} kernels of row passes checked for independent parts`);
  assert.ok(segmented > 0, 'some golden case merges row kernels');
  assert.is(problems.length, 0, problems.slice(0, 8).join('\n'));
});

test('values a matmul kernel reads are stored with subnormals flushed to ±0 (CRD: the contrast weights), plan outputs never (every golden case)', async () => {
  const index = JSON.parse(readFileSync(join(GOLDEN_DIR, 'index.json'), 'utf8')) as { cases: { case: string }[] };
  const problems: string[] = [];
  const flushedIn = new Set<string>();
  for (const c of index.cases) {
    const s = schedule(await goldenGraph(c.case), {});
    const outputs = new Set([s.outputs.scalars.buffer, ...s.outputs.grads.map((x) => x.buffer), ...(s.outputs.state ?? []).map((x) => x.buffer)]);
    const idOf = (k: Schedule['kernels'][number], wgsl: string): number => k.bindings.find((b) => k.spec.buffers[b.binding - 1]!.name === wgsl)!.buffer;
    const matmulReads = new Set(s.kernels.filter((k) => k.spec.kind === 'matmul').flatMap((k) => k.bindings.filter((b) => b.access === 'read').map((b) => b.buffer)));
    for (const k of s.kernels) {
      const sp = k.spec;
      if (sp.kind !== 'map' && sp.kind !== 'row' && sp.kind !== 'segments') continue;
      for (const st of sp.kind === 'segments' ? sp.parts.flatMap((p) => p.stores) : sp.stores) {
        const id = idOf(k, st.buffer);
        const want = matmulReads.has(id) && !outputs.has(id) && k.spec.buffers.find((b) => b.name === st.buffer)!.dtype === 'f32';
        if ((st.flushSubnormals === true) !== want) problems.push(`${c.case}/${k.name}: store into ${st.buffer} ${want ? 'does not flush' : 'flushes'} subnormals`);
        if (st.flushSubnormals) flushedIn.add(c.case);
      }
    }
  }
  assert.is(problems.length, 0, problems.slice(0, 8).join('\n'));
  const crd = 'sample__ilsvrc2012__crd__resnet18_from_resnet50';
  assert.ok(flushedIn.has(crd), [...flushedIn].join(', '));
  // the printed store calls the helper, which the module defines
  const plan = kernelPlan(await goldenGraph(crd), { workgroupSize: 8 });
  const k = plan.kernels.find((x) => /= flush_subnormal_f32\(/.test(x.wgsl));
  assert.ok(k && /fn flush_subnormal_f32\(x: f32\) -> f32/.test(k.wgsl), describe(plan));
  console.log(`stores flushing subnormals in ${flushedIn.size} of ${index.cases.length} golden cases`);
});

/** An index expression with every variable that is not a domain coordinate as `?` (names bound inside a kernel differ). */
function indexShape(a: Ix): string {
  if (a.kind === 'var') return /^ix\d+$/.test(a.name) ? a.name : '?';
  if (a.kind === 'op') return `(${indexShape(a.a)} ${a.op} ${indexShape(a.b)})`;
  return ixKey(a);
}

function refShapes(refs: Refs): string[] {
  return [...refs].flatMap(([n, list]) => [...new Set(list.map((idx) => `${n}@${idx.map(indexShape).join(',')}`))]).sort();
}

/** The reads the WGSL Emitter makes evaluating `node` at `idx`, recorded through its environment. */
function emitterReads(g: Graph, isUnit: (n: number) => boolean, node: number, idx: Ix[]): Refs {
  const refs: Refs = new Map();
  const inputs = new Set(g.inputs.map((i) => i.node));
  const scopes = new ScopeTree();
  for (const k of idx) for (const v of ixVars(k)) scopes.define(v, scopes.root);
  const em = new Emitter(
    {
      graph: g,
      math: new IndexMath((s) => s),
      register: (n, at) => {
        if (!(isUnit(n) || inputs.has(n))) return undefined;
        addRef(refs, n, at);
        return isUnit(n) ? ref(`u${n}`) : undefined;
      },
      buffer: (n) => (inputs.has(n) ? { name: `in${n}`, dtype: g.nodes[n]!.dtype === 'int' ? 'i32' : 'f32', shape: g.nodes[n]!.shape } : undefined),
    },
    scopes,
  );
  em.value(node, idx);
  return refs;
}

test('the dependence analysis (index maps, no codegen) finds the reads the WGSL Emitter makes, at the same indices (every golden case, every op graph)', async () => {
  const index = JSON.parse(readFileSync(join(GOLDEN_DIR, 'index.json'), 'utf8')) as { cases: { case: string }[] };
  const graphs: [string, Graph][] = [];
  for (const c of index.cases) graphs.push([c.case, await goldenGraph(c.case)]);
  for (const c of opCases()) graphs.push([c.name, c.graph]);
  const problems: string[] = [];
  let compared = 0;
  const UNIT_OPS = new Set(['reduce', 'matmul', 'sort', 'cholesky', 'triangular_solve']);
  for (const [where, g] of graphs) {
    const isUnit = (n: number) => UNIT_OPS.has(g.nodes[n]!.op);
    const an = new DependenceAnalysis(g, isUnit, new Map());
    const check = (what: string, mine: Refs, theirs: Refs) => {
      compared++;
      const [a, b] = [refShapes(mine), refShapes(theirs)];
      if (a.join(' ') !== b.join(' ')) problems.push(`${where} ${what}: analysis [${a.join(' ')}], emitter [${b.join(' ')}]`);
    };
    for (const n of g.nodes) {
      if (n.op !== 'reduce') continue;
      check(`reduction ${n.id}`, an.reductionRefs(n.id), emitterReads(g, isUnit, n.inputs[0]!, reductionInputIndex(g, n.id)));
    }
    for (const r of [...g.grads.map((x) => x.node), g.loss, ...g.terms.map((t) => t.node)]) {
      const shape = g.nodes[r]!.shape;
      const cs = shape.filter((d) => !isOne(d)).map((_, k) => coord(k));
      if (isUnit(r)) continue;
      check(`root ${r}`, an.storeRefs(r, cs), emitterReads(g, isUnit, r, alignedIndex(shape, cs)));
    }
  }
  console.log(`${compared} read sets compared`);
  assert.ok(compared > 1000);
  assert.is(problems.length, 0, problems.slice(0, 8).join('\n'));
});

test('every golden case with core losses schedules; dims uniform, bindings and dispatches are consistent', async () => {
  const index = JSON.parse(readFileSync(join(GOLDEN_DIR, 'index.json'), 'utf8')) as { cases: { case: string; losses: string[] }[] };
  const CORE = new Set(['CrossEntropyLoss', 'MSELoss', 'KDLoss', 'LogitStdKDLoss', 'KLDivLoss', 'L1Loss', 'SmoothL1Loss', 'model_term']);
  const counts = new Map<number, number>();
  for (const c of index.cases.filter((x) => x.losses.every((l) => CORE.has(l)))) {
    const plan = kernelPlan(await goldenGraph(c.case), { workgroupSize: 8 });
    counts.set(plan.kernels.length, (counts.get(plan.kernels.length) ?? 0) + 1);
    const ids = new Set(plan.buffers.map((b) => b.id));
    for (const k of plan.kernels) {
      assert.match(k.wgsl, /@group\(0\) @binding\(0\) var<uniform> dims: Dims;/);
      assert.ok(k.bindings.length <= 8, `${c.case}/${k.name}: ${k.bindings.length} bindings`);
      for (const b of k.bindings) {
        assert.ok(ids.has(b.buffer));
        assert.match(k.wgsl, new RegExp(`@binding\\(${b.binding}\\) var<storage, ${b.access}>`));
      }
      assert.match(k.wgsl, new RegExp(`^// ${k.name}: `), 'header names the kernel');
      assert.match(k.wgsl, /\n\/\/ terms: /, 'header names the config terms');
    }
    for (const g of plan.outputs.grads) assert.ok(plan.kernels.some((k) => k.bindings.some((b) => b.buffer === g.buffer && b.access === 'read_write')), `${c.case}: ${g.input} is written`);
  }
  console.log(`kernel counts over the 159 core golden cases: ${[...counts].sort((a, b) => a[0] - b[0]).map(([k, n]) => `${n}×${k}`).join(', ')}`);
});

test('the binding limit is respected by splitting kernels (and values that read too much get a kernel of their own)', async () => {
  for (const id of [KD_SAMPLE, 'sample__ilsvrc2012__kr__resnet18_from_resnet34', 'official__glue__yoshitomo-matsubara__nlp-oss2023__cola__kd__bert_base_uncased_from_bert_large_uncased']) {
    const g = await goldenGraph(id);
    for (const limit of [16, 10, 8]) {
      const plan = kernelPlan(g, { workgroupSize: 8, maxStorageBuffers: limit });
      for (const k of plan.kernels) assert.ok(k.bindings.length <= limit, `${id} limit ${limit}: ${k.name} binds ${k.bindings.length}`);
    }
  }
});

test('the workgroup size is an override constant: pinned, it is the row kernels\' default; never a literal in the WGSL', async () => {
  const g = await goldenGraph(KD_SAMPLE);
  for (const wg of [1, 8, 24, 64, 256]) {
    const plan = kernelPlan(g, { workgroupSize: wg });
    assert.is(plan.workgroupSize, wg);
    for (const k of plan.kernels) {
      assert.match(k.wgsl, /@workgroup_size\(wg_size\)/);
      assert.equal(k.overrides, [{ name: 'wg_size', role: 'workgroupSize', class: 'row', default: { software: wg, hardware: wg }, max: Math.max(256, wg) }]);
    }
  }
  const free = kernelPlan(g, {});
  assert.is(free.workgroupSize, undefined);
  for (const k of free.kernels) assert.equal(k.overrides![0]!.default, { software: 8, hardware: 128 });
  assert.equal(JSON.stringify(free.kernels.map((k) => k.wgsl)), JSON.stringify(kernelPlan(g, { workgroupSize: 64 }).kernels.map((k) => k.wgsl)), 'the WGSL does not depend on the size');
  for (const bad of [0, 1025, 2.5]) {
    try {
      kernelPlan(g, { workgroupSize: bad });
      assert.unreachable(`workgroupSize ${bad} accepted`);
    } catch (e) {
      assert.instance(e, ScheduleError);
      assert.is((e as DiagnosticError).diagnostic.code, 'TDC602');
    }
  }
});

test('values of [N, C] built from statistics of its rows and summed over N are stored by the row kernel computing those statistics', () => {
  const byName = new Map(opCases().map((c) => [c.name, c.graph]));
  const plan = kernelPlan(byName.get('softmax-probs-over-batch')!, { workgroupSize: 8 });
  const rows = plan.kernels.filter((k) => /row pass over \[N, 1000\]/.test(k.summary));
  const cols = plan.kernels.filter((k) => /row pass over \[1000, N\]/.test(k.summary));
  assert.ok(rows.length > 0 && cols.length > 0, describe(plan));
  const name = (id: number) => plan.buffers.find((x) => x.id === id)!;
  const reads = (k: (typeof plan.kernels)[number]) => k.bindings.filter((b) => b.access === 'read').map((b) => name(b.buffer));
  // the probabilities: written by the row kernel over [N, 1000] that computes each row's max and Σexp
  const probs = rows[0]!.bindings.filter((b) => b.access === 'read_write').map((b) => name(b.buffer)).filter((b) => b.name.startsWith('tmp'));
  assert.is(probs.length, 1, describe(plan));
  // the transposed row passes read them: not the logits, no per-row statistics of [N], no exp
  for (const k of cols) {
    const r = reads(k);
    assert.ok(r.includes(probs[0]!), `${k.name} reads ${r.map((b) => b.name).join(', ')}`);
    assert.not.ok(r.some((b) => b.name === 'in_x' || (b.name.startsWith('rowstat') && JSON.stringify(b.length) === JSON.stringify({ sym: 'N' }))), `${k.name} reads ${r.map((b) => b.name).join(', ')}`);
    assert.not.match(k.wgsl, /exp\(/, k.name);
  }
});

test("DIST at 16 bindings: 7 sweeps over the elements in 6 kernels — centred sums in the sweep storing the probabilities, no sweep for sums of deviations, the intra-class gradient stored by the column pass", async () => {
  const g = await goldenGraph('sample__ilsvrc2012__dist__resnet18_from_resnet34');
  const plan = kernelPlan(g, { workgroupSize: 8, maxStorageBuffers: 16 });
  const rows = plan.kernels.filter((k) => /^row pass over \[N, 37\] \(one workgroup per row/.test(k.summary));
  const cols = plan.kernels.filter((k) => /^row pass over \[37, N\] \(column pass/.test(k.summary));
  const sweeps = (k: (typeof rows)[number]) => Number(/in (\d+) sweeps?/.exec(k.summary)![1]);
  const buffer = (id: number) => plan.buffers.find((x) => x.id === id)!;
  // rows: softmax statistics, then the probabilities stored with their centred sums (the reductions reading them
  // merge into the kernel storing them: partition.ts's joined-first candidate); the gradient: Σ_c of the upstream
  // gradient times the probabilities, then the gradient. Columns: means, centred sums, then the intra-class
  // gradient as a value of [C, N] for the gradient kernel. Σ of deviations from a mean (the gradient's share
  // through each mean it subtracts) is no sweep at all (sum-rewrites.ts centredSum).
  assert.is(plan.kernels.length, 6, describe(plan));
  assert.is(rows.length, 2, describe(plan));
  assert.is(cols.length, 1, describe(plan));
  for (const k of rows) assert.is(sweeps(k), 2, describe(plan));
  assert.is(sweeps(cols[0]!), 3, describe(plan));
  const probs = rows[0]!.bindings.filter((b) => b.access === 'read_write').map((b) => buffer(b.buffer)).filter((b) => b.name.startsWith('tmp'));
  assert.is(probs.length, 2, describe(plan));
  const intra = cols[0]!.bindings.filter((b) => b.access === 'read_write').map((b) => buffer(b.buffer)).filter((b) => b.name.startsWith('tmp'));
  assert.is(intra.length, 1, describe(plan));
  assert.ok(rows[1]!.bindings.some((b) => b.buffer === intra[0]!.id && b.access === 'read'), describe(plan));
  // laid out [N, C] as the gradient's row pass reads it (the column pass writes it at transposed coordinates):
  // each sample's row is contiguous, not strided by the batch
  const binding = rows[1]!.bindings.find((b) => b.buffer === intra[0]!.id)!;
  const name = new RegExp(`var<storage, read> (\\w+): array<f32>; // ${intra[0]!.name}`).exec(rows[1]!.wgsl)?.[1];
  assert.ok(name, `${rows[1]!.name} binds ${intra[0]!.name} (${binding.buffer})`);
  assert.match(rows[1]!.wgsl, new RegExp(`${name}\\[\\(\\(ix0 \\* 37u\\) \\+ ix1\\)\\]`));
});

test('a row pass over the transposed view of what it reads runs as a column pass; [C, 1] statistics are read as vec4s along C', () => {
  const byName = new Map(opCases().map((c) => [c.name, c.graph]));
  const plan = kernelPlan(byName.get('softmax-probs-over-batch')!, { workgroupSize: 8 });
  // the per-class sums of probabilities over the batch: [1000, N] reducing N, reading [N, 1000] buffers only at [n, c]
  const cols = plan.kernels.filter((k) => /row pass over \[1000, N\]/.test(k.summary) && k.bindings.filter((b) => b.access === 'read').length === 2);
  assert.ok(cols.length > 0, describe(plan));
  // 1000 classes: 4 consecutive ones per invocation (row-layout.ts columnQuads)
  for (const k of cols) assert.match(k.summary, /column pass: one invocation per 4 consecutive rows of \[1000\]/, k.name);
  // a statistic of the transposed rows kept as [1000, 1] (a sum over the batch), read by the row pass over [N, 1000]
  const b = new GraphBuilder();
  const N = { sym: 'N' };
  const x = b.input('x', [N, 1000], 'float', true);
  const xt = b.op('permute', [x], { perm: [1, 0] });
  const sum = b.op('reduce', [xt], { fn: 'sum', axes: [1], keepdim: true });
  const centred = b.op('permute', [b.binary('sub', xt, sum)], { perm: [1, 0] });
  const rowMax = b.op('reduce', [centred], { fn: 'max', axes: [1], keepdim: true });
  const loss = b.op('reduce', [b.unary('exp', b.binary('sub', centred, rowMax))], { fn: 'sum', axes: [0, 1], keepdim: false });
  const g = kernelPlan(b.finish({ loss, terms: [] }), { workgroupSize: 8 });
  const col = g.kernels.find((k) => /column pass: one invocation per 4 consecutive rows of \[1000\]/.test(k.summary));
  assert.ok(col, describe(g));
  const stat = g.buffers.find((x) => col!.bindings.some((y) => y.access === 'read_write' && y.buffer === x.id) && x.length === 1000);
  assert.ok(stat, describe(g));
  const readers = g.kernels.filter((k) => /row pass over \[N, 1000\]/.test(k.summary) && k.bindings.some((x) => x.buffer === stat!.id));
  assert.ok(readers.length > 0, describe(g));
  for (const k of readers) assert.match(k.wgsl, new RegExp(`var<storage, read> \\w+: array<vec4<f32>>; // ${stat!.name}`), k.name);
});

test('column passes and maps over positions numbering a multiple of 4 take 4 per invocation (vec4 loads and stores); others one', () => {
  const byName = new Map(opCases().map((c) => [c.name, c.graph]));
  const plan = kernelPlan(byName.get('position-quads')!, { workgroupSize: 8 });
  const invocations = (k: KernelPlan['kernels'][number], n: number) => evalDim(k.dispatch[0], { N: n, wg_size: 1 });
  // [N, 6, 3, 4] reducing the 6 channels: 12 positions per sample, 3 quads
  const quad = plan.kernels.find((k) => /row pass over \[N, 6, 3, 4\] \(column pass: one invocation per 4 consecutive rows of \[N, 3, 4\]/.test(k.summary));
  assert.ok(quad, describe(plan));
  assert.is(invocations(quad!, 5), 15);
  assert.match(quad!.wgsl, /var<storage, read> \w+: array<vec4<f32>>; \/\/ in_x/);
  // each lane its own accumulators and results
  assert.match(quad!.wgsl, /let r\d+_3 = /);
  // [N, 10, 3, 3]: 9 positions per sample, one per invocation, read element by element
  const single = plan.kernels.find((k) => /row pass over \[N, 10, 3, 3\] \(column pass: one invocation per row of \[N, 3, 3\]/.test(k.summary));
  assert.ok(single, describe(plan));
  assert.is(invocations(single!, 5), 45);
  assert.not.match(single!.wgsl, /vec4/);
  // a map along an innermost axis of 12: runs of 8 (dispatch unchanged), walked a quad at a time with vec4 stores
  const map = plan.kernels.find((k) => /elementwise over \[N, 12\]/.test(k.summary));
  assert.ok(map, describe(plan));
  assert.is(invocations(map!, 5), 10);
  assert.match(map!.wgsl, /for \(var qi = first \/ 4u; qi < last \/ 4u; qi = qi \+ 1u\)/);
  assert.match(map!.wgsl, /var<storage, read_write> \w+: array<vec4<f32>>; \/\/ grad_z/);
});

test('maps looping over channels whose positions do not come in quads walk blocks of 4 channels (vec4 loads and stores)', () => {
  const byName = new Map(opCases().map((c) => [c.name, c.graph]));
  const plan = kernelPlan(byName.get('position-blocks')!, { workgroupSize: 8 });
  const invocations = (k: KernelPlan['kernels'][number], n: number) => evalDim(k.dispatch[0], { N: n, wg_size: 1 });
  // [N, 8, 3, 3]: per sample one run of the 8 channels, 9 quads of each 36-element block; [N, 12, 5]: 5 quads
  for (const [shape, input, quads] of [['N, 8, 3, 3', 'x', 9], ['N, 12, 5', 'y', 5]] as const) {
    const map = plan.kernels.find((k) => k.summary.startsWith(`elementwise over [${shape}]; writes grad_${input}`));
    assert.ok(map, describe(plan));
    assert.is(invocations(map!, 5), 5 * quads);
    assert.match(map!.wgsl, /for \(var g = first \/ 4u; g < (last|\d+u) \/ 4u; g = g \+ 1u\)/);
    assert.match(map!.wgsl, new RegExp(`var<storage, read> \\w+: array<vec4<f32>>; // in_${input}`));
    assert.match(map!.wgsl, new RegExp(`var<storage, read_write> \\w+: array<vec4<f32>>; // grad_${input}`));
  }
});

test('sort, cholesky and triangular_solve get serial kernels of their own (one workgroup per row / matrix)', () => {
  const b = new GraphBuilder();
  const x = b.input('x', [4, 5], 'float', true);
  const sorted = b.op('sort', [x], { axis: 1, descending: false, output: 'values' });
  const loss = b.op('reduce', [b.binary('mul', sorted, b.op('iota', [], { shape: [4, 5], axis: 1, dtype: 'float' }))], { fn: 'sum', axes: [0, 1], keepdim: false });
  const g = differentiate(b.finish({ loss, terms: [] }));
  const plan = kernelPlan(g, { workgroupSize: 8 });
  const sorts = plan.kernels.filter((k) => /^sort \[4, 5\] \(one workgroup per sorted row/.test(k.summary));
  assert.equal(sorts.map((k) => k.dispatch), [[4, 1, 1], [4, 1, 1]], describe(plan)); // values forward, ranks for the VJP
  const byName = new Map(opCases().map((c) => [c.name, c.graph]));
  const ch = kernelPlan(byName.get('cholesky-solve')!, { workgroupSize: 8 });
  assert.ok(ch.kernels.some((k) => /^cholesky \[2, 6, 6\] \(one workgroup per matrix\)/.test(k.summary) && k.dispatch[0] === 2), describe(ch));
  assert.ok(ch.kernels.some((k) => /^triangular_solve /.test(k.summary)), describe(ch));
});

test('map kernels whose elements loop (adaptive pool bins) walk no quads, over rows of a multiple of 4 too', () => {
  const byName = new Map(opCases().map((c) => [c.name, c.graph]));
  const plan = kernelPlan(byName.get('adaptive-pools-rows-of-4')!, { workgroupSize: 8 });
  // the pooled outputs (avg, max) and the gradient: loops over bins inside the run's loop
  const pools = plan.kernels.filter((k) => /^elementwise over /.test(k.summary) && (k.wgsl.match(/for \(var/g) ?? []).length > 1);
  assert.is(pools.length, 3, describe(plan));
  for (const k of pools) assert.not.match(k.wgsl, /array<vec4<f32>>/, `${k.name}: ${k.summary}`);
  // a plain map over the same rows still walks quads
  assert.ok(plan.kernels.some((k) => /^elementwise over /.test(k.summary) && /array<vec4<f32>>/.test(k.wgsl)), describe(plan));
});

test('matmul gets a tiled kernel; reductions over a non-last axis and symbolic rows get row kernels', () => {
  const byName = new Map(opCases().map((c) => [c.name, c.graph]));
  const mm = kernelPlan(byName.get('matmul')!, { workgroupSize: 64 });
  assert.ok(mm.kernels.some((k) => /tiled matmul/.test(k.summary) && /@workgroup_size\(wg_size\)/.test(k.wgsl) && k.overrides![0]!.class === 'matmul'));
  const nl = kernelPlan(byName.get('softmax-nonlast-axis')!, { workgroupSize: 64 });
  assert.ok(nl.kernels.some((k) => /row pass over \[5, 37, 3\] \(one workgroup per row of \[5, 3\], reducing \[37\]\)/.test(k.summary)), describe(nl));
  const kd = kernelPlan(byName.get('kd-symbolic-rows')!, { workgroupSize: 8 });
  assert.equal(kd.symbols, ['N', 'C']);
  assert.ok(kd.kernels.length <= 2, describe(kd));
  // the row pass reads rows as vec4 when C is a multiple of 4 (a uniform branch), else element by element
  const row = kd.kernels.find((k) => /row pass/.test(k.summary))!;
  assert.match(row.wgsl, /if \(dims\.C % 4u == 0u\) \{/);
  assert.match(row.wgsl, /array<vec4<f32>>/);
  // rows read strided (a softmax over the symbolic batch axis of [N, 1000], the transposed view of what it reads): a column
  // pass, one invocation per 4 classes, walks the batch axis one element at a time — each sweep is one loop over the row
  // (no quads along N, no N % 4 split, no misaligned head)
  const sb = kernelPlan(byName.get('softmax-symbolic-batch-axis')!, { workgroupSize: 8 });
  const col = sb.kernels.filter((k) => /row pass over \[1000, N\] \(column pass: one invocation per 4 consecutive rows of \[1000\], reducing \[N\]\)/.test(k.summary));
  assert.ok(col.length > 0, describe(sb));
  for (const k of col) {
    assert.not.match(k.wgsl, /% 4u == 0u|let rb\d+|var t = /, k.name);
    assert.ok((k.wgsl.match(/for \(var j = 0u; j < dims\.N; j = j \+ 1u\)/g)?.length ?? 0) > 0, k.name);
  }
});

test.run();
