// CRD's memory banks through `tdc compile` and the generated glue. torchdistill updates CRDLoss's state (params
// [K, T, Z1, Z2, momentum], memory_v1, memory_v2) inside every forward; `tdc compile` plans a stage with state outputs
// when its graph has them (as `tdc run` does), the manifest lists them with the input each replaces, and the glue
// keeps the state on the device: setState() once, then every forward reads it and updates it in place on the GPU.
// Checked on the golden CRD case: step 1 against the float64 oracle (loss, terms, gradients, state_out), step 2
// (the state carried over on the device) against the float64 CPU executor fed golden's state_out, both at
// golden/README.md's GPU tolerance.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';
import { GpuInputError, nestByName, writeSafetensors, type KernelPlan, type SafeTensor } from 'tdc-runtime';
import { compileCriterion, compileStages, sampleInputShapes, type CompileResult } from '../src/compiler/compile.js';
import { runStageOnCpu } from '../src/compiler/run-cpu.js';
import { runStageOnGpu } from '../src/compiler/run-gpu.js';
import type { Manifest } from '../src/api/manifest-types.js';
import { compareCase, defaultTolerance, familyOf, loadCase, newWorst, toleranceTable, type CaseResult, type LoadedCase } from './helpers/golden-gpu.js';
import { openTestRuntime } from './helpers/open-gpu.js';
import { typecheckStrict } from './helpers/typecheck-glue.js';
import { goldenIndex } from './helpers/golden.js';
import { checkFile } from '../src/compiler/driver/check.js';
import { GOLDEN, tdc } from './helpers/cli.js';

const TORCHDISTILL_CONFIGS = join(process.env['TDC_SHARED'] ?? '/work/shared', 'torchdistill', 'configs');

const CRD = 'sample__ilsvrc2012__crd__resnet18_from_resnet50';
const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const STATE = ['state_out/crd/params', 'state_out/crd/memory_v1', 'state_out/crd/memory_v2'];

async function compileCase(id: string): Promise<{ c: LoadedCase; out: CompileResult; plan: KernelPlan; manifest: Manifest }> {
  const c = await loadCase(id);
  if ('problems' in c) throw new Error(`${id}: ${c.problems.join('; ')}`);
  const out = await compileStages([c.stage], { configFile: `golden/${id}/config.yaml`, moduleName: 'criterion', shapes: sampleInputShapes(c.tensors) });
  assert.equal(out.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message), [], `${id} compiles`);
  return { c, out, plan: out.stages[0]!.plan, manifest: JSON.parse(out.files!.get('manifest.json')!) as Manifest };
}

function scratch(): string {
  mkdirSync(join(REPO, 'dist'), { recursive: true });
  return mkdtempSync(join(REPO, 'dist', 'tmp-glue-state-'));
}

test('tdc compile plans CRD with its state outputs (every variant) and the manifest lists them with the input each replaces', async () => {
  const { plan, manifest } = await compileCase(CRD);
  for (const p of [plan, ...(plan.variants ?? []).map((v) => v.plan)]) {
    assert.equal(p.outputs.state?.map((s) => s.name), STATE, `${p.kernels.length}-kernel plan`);
    for (const s of p.outputs.state!) assert.ok(p.kernels.some((k) => k.bindings.some((b) => b.buffer === s.buffer && b.access !== 'read')), `a kernel writes ${s.name}`);
    // the banks are updated in place (an index_copy of their own state input), the params are not
    assert.equal(p.outputs.state!.map((s) => s.inPlace === true), [false, true, true], `${p.kernels.length}-kernel plan: in place`);
  }
  const stages = [manifest.stages[0]!, ...(manifest.stages[0]!.variants ?? [])];
  for (const st of stages) {
    assert.equal(st.outputs.state?.map((s) => [s.name, s.input]), STATE.map((n) => [n, n.replace('state_out/', 'state_in/')]));
    assert.equal(st.outputs.state?.map((s) => s.inPlace === true && s.buffer === st.inputs.find((i) => i.name === s.input)?.buffer), [false, true, true], 'manifest: the banks are their inputs\' buffers');
    for (const s of st.outputs.state!) assert.ok(st.inputs.some((i) => i.name === s.input && String(i.shape) === String(s.shape)), `${s.input} is an input of the same shape`);
  }
  assert.ok(manifest.conventions['state'], 'the manifest says what to do with the state outputs');
});

test('a stateless config compiles as before: no state in its plan, manifest or glue', async () => {
  const { plan, manifest, out } = await compileCase('sample__ilsvrc2012__kd__resnet18_from_resnet34');
  assert.is(plan.outputs.state, undefined);
  assert.is(manifest.stages[0]!.outputs.state, undefined);
  assert.is(manifest.conventions['state'], undefined);
  assert.not.match(out.files!.get('criterion.ts')!, /ResidentState|setState|readState/);
});

test('tdc compile of every CRD config at its real sizes, from an io_dict sample without state (the banks take the spec\'s shapes)', async () => {
  // a user's torchdistill io_dict has the module ios, not the loss's buffers: the state is sized by the kwargs
  const N = 2;
  const sample = new Map<string, { dtype: string; shape: number[] }>([
    ['student/./output', { dtype: 'F32', shape: [N, 1000] }],
    ['student/normalizer/output', { dtype: 'F32', shape: [N, 128] }],
    ['student/empty/input/pos_idx', { dtype: 'I64', shape: [N] }],
    ['student/empty/input/contrast_idx', { dtype: 'I64', shape: [N, 16385] }],
    ['teacher/./output', { dtype: 'F32', shape: [N, 1000] }],
    ['teacher/normalizer/output', { dtype: 'F32', shape: [N, 128] }],
    ['targets', { dtype: 'I64', shape: [N] }],
  ]);
  const configs = [
    'sample/ilsvrc2012/crd/resnet18_from_resnet50.yaml',
    'official/ilsvrc2012/yoshitomo-matsubara/rrpr2020/crd-resnet18_from_resnet34.yaml',
    'legacy/sample/ilsvrc2012/single_stage/crd/resnet18_from_resnet50.yaml',
    'legacy/official/ilsvrc2012/yoshitomo-matsubara/rrpr2020/crd-resnet18_from_resnet34.yaml',
  ];
  for (const rel of configs) {
    const { ir } = checkFile(join(TORCHDISTILL_CONFIGS, rel));
    assert.ok(ir, `${rel} resolves`);
    const out = await compileCriterion(ir!, { configFile: rel, moduleName: 'criterion', shapes: sampleInputShapes(sample), glue: false });
    assert.equal(out.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message), [], `${rel} compiles`);
    const plan = out.stages[0]!.plan;
    const bank = plan.inputs.find((i) => i.name === 'state_in/crd/memory_v1');
    assert.equal(bank?.shape, [1281167, 128], `${rel}: the bank is output_size x input_size`);
    for (const p of [plan, ...(plan.variants ?? []).map((v) => v.plan)]) assert.equal(p.outputs.state?.map((x) => x.name), STATE, rel);
  }
});

test('tdc compile (CLI) of CRD with an io_dict sample holding no state: the glue has setState, and the output says so', async () => {
  const c = await loadCase(CRD);
  if ('problems' in c) throw new Error(c.problems.join('; '));
  const dir = scratch();
  try {
    // what a user dumps from torchdistill: the io_dict (module ios, CRD's pos_idx/contrast_idx, targets), no loss buffers
    writeFileSync(join(dir, 'io.safetensors'), writeSafetensors(new Map([...c.inputs].filter(([n]) => !n.startsWith('state_in/')))));
    const r = tdc(['compile', join(GOLDEN, CRD, 'config.yaml'), '--like', join(dir, 'io.safetensors'), '-o', join(dir, 'out')]);
    assert.is(r.code, 0, r.stderr);
    assert.match(r.stdout, "stage 'train' keeps state across steps (crd/params, crd/memory_v1, crd/memory_v2): set it once with setState()");
    const glue = readFileSync(join(dir, 'out', 'config.ts'), 'utf8');
    assert.match(glue, /setState\(state: TrainState<FloatTensor>\): Promise<void>/);
    const manifest = JSON.parse(readFileSync(join(dir, 'out', 'manifest.json'), 'utf8')) as Manifest;
    assert.equal(manifest.stages[0]!.inputs.filter((i) => i.name.startsWith('state_in/')).map((i) => [i.name, i.shape]), [
      ['state_in/crd/params', [5]],
      ['state_in/crd/memory_v1', [50, 16]],
      ['state_in/crd/memory_v2', [50, 16]],
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const CONSUMER = `
import { GpuInputError } from 'tdc-runtime';
import { TrainCriterion, type TrainInputs, type TrainState } from './criterion.js';

export async function demo(c: TrainCriterion, inputs: TrainInputs, targets: { shape: number[]; data: Int32Array }, init: TrainState<{ shape: number[]; data: Float32Array }>): Promise<number> {
  await c.setState(init);
  const a = await c.forward(inputs, targets);
  const bank: GPUBuffer = a.state.crd.memory_v1;
  const b = await c.forward(inputs, targets, { readback: true });
  const g: Float32Array = b.grads.student.normalizer.output;
  // @ts-expect-error: the state is never read back by forward: readState() does
  const wrong: Float32Array = b.state.crd.memory_v2;
  const saved: TrainState<Float32Array> = await c.readState();
  const d = await c.dispatch(inputs, targets);
  const p: GPUBuffer = d.state.crd.params;
  // @ts-expect-error: the state is not an input: the criterion keeps it
  void inputs.state_in;
  // @ts-expect-error: every state buffer must be given
  await c.setState({ crd: { params: init.crd.params, memory_v1: init.crd.memory_v1 } });
  return bank.size + g.length + wrong.length + saved.crd.params.length + p.size + (GpuInputError.name.length);
}
`;

test('the generated CRD glue type-checks (strict): state typed like the gradients, never an input', async () => {
  const { out } = await compileCase(CRD);
  const dir = scratch();
  try {
    writeFileSync(join(dir, 'criterion.ts'), out.files!.get('criterion.ts')!);
    writeFileSync(join(dir, 'use.ts'), CONSUMER);
    const text = typecheckStrict([join(dir, 'criterion.ts'), join(dir, 'use.ts')], dir);
    assert.is(text, '', text);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** The compiled glue (criterion.ts), transpiled into `dir` and imported. */
async function importGlue(out: CompileResult, dir: string): Promise<{ TrainCriterion: { create(rt: unknown): Promise<Criterion> } }> {
  const src = out.files!.get('criterion.ts')!.replace(/from 'tdc-runtime'/, `from '${import.meta.resolve('tdc-runtime')}'`);
  writeFileSync(join(dir, 'criterion.mjs'), ts.transpileModule(src, { compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 } }).outputText);
  return (await import(pathToFileURL(join(dir, 'criterion.mjs')).href)) as { TrainCriterion: { create(rt: unknown): Promise<Criterion> } };
}

/** A glue result's nested Float32Arrays as flat names. */
function flatten(o: Record<string, unknown>, prefix: string[] = [], out = new Map<string, { data: Float32Array }>()): Map<string, { data: Float32Array }> {
  for (const [k, v] of Object.entries(o)) v instanceof Float32Array ? out.set([...prefix, k].join('/'), { data: v }) : flatten(v as Record<string, unknown>, [...prefix, k], out);
  return out;
}

type Criterion = {
  activePlan: KernelPlan;
  setState(s: unknown): Promise<void>;
  initState(seed?: number): Promise<void>;
  readState(): Promise<Record<string, unknown>>;
  forward(i: unknown, t: unknown, o: { readback: true }): Promise<{ loss: number; terms: Record<string, number>; grads: Record<string, unknown>; state: { crd: Record<string, GPUBuffer> } }>;
  destroy(): void;
};

test('the compiled CRD glue matches the oracle at step 1 (loss, terms, gradients, state) and carries the state on the device to step 2', async () => {
  const rt = await openTestRuntime('glue-state GPU test');
  if (!rt) return;
  const dir = scratch();
  try {
    const { c, out } = await compileCase(CRD);
    const glue = await importGlue(out, dir);
    const tol = toleranceTable().get(familyOf(goldenIndex().find((x) => x.case === CRD)!.losses)) ?? defaultTolerance();
    const io = new Map([...c.inputs].filter(([n]) => n !== 'targets' && !n.startsWith('state_in/')));
    const inputs = nestByName(io);
    const targets = c.inputs.get('targets');
    const stateIn = new Map([...c.inputs].filter(([n]) => n.startsWith('state_in/')).map(([n, t]) => [n.slice('state_in/'.length), t]));
    assert.is(stateIn.size, 3);

    const crit = await glue.TrainCriterion.create(rt);
    try {
      await crit.forward(inputs, targets, { readback: true });
      assert.unreachable('a forward before setState() must throw');
    } catch (e) {
      assert.instance(e, GpuInputError);
      assert.match((e as Error).message, /never set/);
    }
    const bad = new Map(stateIn).set('crd/memory_v1', { dtype: 'F64', shape: [49, 16], data: new Float64Array(49 * 16) } as SafeTensor);
    try {
      await crit.setState(nestByName(bad));
      assert.unreachable('a misshapen bank must be refused');
    } catch (e) {
      assert.instance(e, GpuInputError);
      assert.match((e as Error).message, "state 'crd/memory_v1' has shape [49, 16], expected [50, 16]");
    }
    await crit.setState(nestByName(stateIn));

    // step 1: golden's own expectations (state_out included, read back from the criterion's resident buffers)
    const r1 = await crit.forward(inputs, targets, { readback: true });
    assert.ok(typeof r1.state.crd['memory_v1']!.mapAsync === 'function', 'the state is a resident GPUBuffer');
    const s1 = flatten(await crit.readState());
    const state1 = new Map([...s1].map(([k, v]) => [`state_out/${k}`, v]));
    const got1: CaseResult = { loss: r1.loss, terms: Object.fromEntries(Object.entries(r1.terms).map(([k, v]) => [k, { value: v }])), grads: flatten(r1.grads), state: state1 };
    assert.equal(compareCase(c, got1, tol, newWorst()), [], `step 1 (${crit.activePlan.kernels.length} kernels)`);
    // the resident banks are bound in place: the executor made no buffer of its own for any state input
    const exec = (crit as unknown as { executor: { planBuffer(id: number): GPUBuffer | undefined } }).executor;
    const stateInputs = crit.activePlan.inputs.filter((i) => i.name.startsWith('state_in/'));
    assert.is(stateInputs.length, 3);
    for (const i of stateInputs) assert.is(exec.planBuffer(i.buffer), undefined, `${i.name}: no own copy on the device`);
    // the banks' state outputs are the resident buffers themselves (updated in place, nothing copied after the step)
    const boundOf = (crit as unknown as { executor: { boundBuffer(id: number): GPUBuffer | undefined } }).executor;
    for (const k of ['memory_v1', 'memory_v2'])
      assert.is(boundOf.boundBuffer(crit.activePlan.outputs.state!.find((s) => s.name === `state_out/crd/${k}`)!.buffer), r1.state.crd[k], `${k}: the plan updated the resident bank`);

    // step 2: the oracle is the float64 CPU executor fed golden's state_out (itself checked against torchdistill)
    const step2In = new Map<string, SafeTensor>([...c.inputs].map(([n, t]) => [n, n.startsWith('state_in/') ? c.tensors.get(n.replace('state_in/', 'state_out/'))! : t]));
    const cpu = runStageOnCpu(c.stage, step2In).result!;
    assert.ok(cpu, 'the CPU executor runs step 2');
    const f64 = (shape: readonly number[], data: ArrayLike<number>): SafeTensor => ({ dtype: 'F64', shape: [...shape], data: Float64Array.from(data) }) as SafeTensor;
    const want2: LoadedCase = {
      ...c,
      expected: { ...c.expected, loss: cpu.loss, terms: Object.fromEntries(Object.entries(cpu.terms).map(([k, t]) => [k, { weight: t.weight, value: t.value }])) },
      tensors: new Map([
        ...[...cpu.grads].map(([n, t]) => [`grad/${n}`, f64(t.shape, t.data)] as const),
        ...[...cpu.state!].map(([n, t]) => [n, f64(t.shape, t.data)] as const),
      ]),
    };
    const r2 = await crit.forward(inputs, targets, { readback: true });
    const state2 = new Map([...flatten(await crit.readState())].map(([k, v]) => [`state_out/${k}`, v]));
    const got2: CaseResult = { loss: r2.loss, terms: Object.fromEntries(Object.entries(r2.terms).map(([k, v]) => [k, { value: v }])), grads: flatten(r2.grads), state: state2 };
    assert.equal(compareCase(want2, got2, tol, newWorst()), [], 'step 2 with the state carried over');
    // the carried state matters: step 2 differs from step 1 far beyond the tolerance (Z1, Z2 frozen, banks moved)
    const rel = Math.abs(r2.terms['crd']! - r1.terms['crd']!) / Math.abs(r1.terms['crd']!);
    assert.ok(rel > 100 * tol.loss, `crd term step 1 ${r1.terms['crd']} vs step 2 ${r2.terms['crd']}`);
    assert.ok(Math.abs(cpu.terms['crd']!.value - c.expected.terms['crd']!.value) > 100 * tol.loss * Math.abs(c.expected.terms['crd']!.value), 'the oracle moves too');
    console.log(`CRD via the glue (${crit.activePlan.kernels.length} kernels): crd term step 1 ${r1.terms['crd']} (oracle ${c.expected.terms['crd']!.value}), step 2 ${r2.terms['crd']} (oracle ${cpu.terms['crd']!.value})`);

    // `tdc run --device gpu` runs the same plan (it too plans with state) and gets the same step-1 state
    const run = await runStageOnGpu(c.stage, c.inputs, { file: c.file, runtime: rt });
    assert.ok(run.result, run.diagnostics.map((d) => d.message).join('; '));
    const kernels = (p: KernelPlan) => p.kernels.map((k) => `${k.name}\n${k.wgsl}`).join('\n');
    assert.ok(kernels(run.result!.gpu.plan) === kernels(crit.activePlan), `tdc run: ${run.result!.gpu.plan.kernels.length} kernels, the glue: ${crit.activePlan.kernels.length}`);
    assert.equal([...run.result!.state!.keys()], STATE);
    for (const [name, s] of run.result!.state!) assert.equal(Array.from(s.data), Array.from(state1.get(name)!.data), `${name}: tdc run and the glue agree bit for bit`);

    // setState restores: step 1 again from golden's state_in
    await crit.setState(nestByName(stateIn));
    const again = await crit.forward(inputs, targets, { readback: true });
    assert.is(again.loss, r1.loss, 'setState() restores the state (same inputs, same plan: bit-identical)');
    crit.destroy();
  } finally {
    rt.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("initState(seed): torchdistill's initial CRD state from the loss's own definition (params as golden's state_in, banks uniform in [-stdv, stdv]), seeded", async () => {
  const { c, out, plan } = await compileCase(CRD);
  // the plan carries the spec's init: params [K, T, -1, -1, momentum] equal golden's state_in (torchdistill's fresh CRDLoss)
  const init = new Map(plan.inputs.filter((i) => i.init).map((i) => [i.name, i.init!]));
  assert.equal(init.get('state_in/crd/params'), { values: Array.from(c.inputs.get('state_in/crd/params')!.data as ArrayLike<number>) });
  const stdv = 1 / Math.sqrt(16 / 3);
  for (const k of ['memory_v1', 'memory_v2']) assert.equal(init.get(`state_in/crd/${k}`), { uniform: stdv });
  // golden's banks (torchdistill's own draw) lie in that range
  for (const k of ['memory_v1', 'memory_v2']) assert.ok(Array.from(c.inputs.get(`state_in/crd/${k}`)!.data as ArrayLike<number>).every((v) => Math.abs(v) <= stdv));
  const rt = await openTestRuntime('glue-state initState test');
  if (!rt) return;
  const dir = scratch();
  try {
    const glue = await importGlue(out, dir);
    const crit = await glue.TrainCriterion.create(rt);
    await crit.initState(7);
    const a = flatten(await crit.readState());
    assert.equal(Array.from(a.get('crd/params')!.data), Array.from(Float32Array.from([10, 0.07, -1, -1, 0.5])));
    for (const k of ['crd/memory_v1', 'crd/memory_v2']) {
      const v = a.get(k)!.data;
      assert.is(v.length, 50 * 16);
      assert.ok(v.every((x) => Math.abs(x) <= Math.fround(stdv)), `${k} in [-stdv, stdv]`);
      assert.ok(Math.min(...v) < -stdv / 2 && Math.max(...v) > stdv / 2 && Math.abs(v.reduce((p, q) => p + q, 0) / v.length) < stdv / 5, `${k} spreads over the range`);
    }
    assert.not.equal(Array.from(a.get('crd/memory_v1')!.data), Array.from(a.get('crd/memory_v2')!.data), 'the banks are drawn separately');
    // a step from it runs (Z set from this first batch) and the same seed gives the same state again, another seed another
    const io = nestByName(new Map([...c.inputs].filter(([n]) => n !== 'targets' && !n.startsWith('state_in/'))));
    const r = await crit.forward(io, c.inputs.get('targets'), { readback: true });
    assert.ok(Number.isFinite(r.loss), `loss ${r.loss}`);
    const z = flatten(await crit.readState()).get('crd/params')!.data;
    assert.ok(z[2]! > 0 && z[3]! > 0, `Z1, Z2 set from the first batch: ${Array.from(z)}`);
    await crit.initState(7);
    assert.equal(Array.from(flatten(await crit.readState()).get('crd/memory_v1')!.data), Array.from(a.get('crd/memory_v1')!.data), 'same seed, same bits');
    await crit.initState(8);
    assert.not.equal(Array.from(flatten(await crit.readState()).get('crd/memory_v1')!.data), Array.from(a.get('crd/memory_v1')!.data), 'another seed, another bank');
    // a seed that is no 32-bit unsigned integer is refused (a rejected promise), not truncated or read as 0
    for (const bad of [1.5, -1, NaN, 2 ** 32, '7' as unknown as number]) {
      const e = await crit.initState(bad).then(
        () => undefined,
        (x: unknown) => x,
      );
      assert.instance(e, GpuInputError, `seed ${String(bad)}`);
      assert.match((e as Error).message, /seed must be an integer in \[0, 2\^32\)/);
    }
    crit.destroy();
  } finally {
    rt.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the CRD glue's host arrays (inputs and setState's) may be refilled as soon as the call returns, with steps queued or not: state and results as if they were not", async () => {
  const rt = await openTestRuntime('glue-state GPU test');
  if (!rt) return;
  const dir = scratch();
  try {
    const { c, out } = await compileCase(CRD);
    const glue = await importGlue(out, dir);
    const crit = await glue.TrainCriterion.create(rt);
    const io = new Map([...c.inputs].filter(([n]) => n !== 'targets' && !n.startsWith('state_in/')));
    const stateIn = new Map([...c.inputs].filter(([n]) => n.startsWith('state_in/')).map(([n, t]) => [n.slice('state_in/'.length), t]));
    // step k's inputs: golden's, each float moved by k (so each step's loss and updated banks differ)
    const step = (k: number) => new Map([...io].map(([n, t]) => [n, { ...t, data: t.dtype === 'I64' ? (t.data as BigInt64Array).slice() : Float64Array.from(t.data as Float64Array, (v) => v + 0.25 * k) } as SafeTensor]));
    const refill = (m: Map<string, SafeTensor>, k: number) => {
      for (const [n, t] of step(k)) (m.get(n)!.data as Float64Array).set(t.data as Float64Array);
    };
    const targets = c.inputs.get('targets')!;
    // the reference: steps 0, 1, 2 one after another from golden's state
    await crit.setState(nestByName(stateIn));
    const want: number[] = [];
    for (const k of [0, 1, 2]) want.push((await crit.forward(nestByName(step(k)), targets, { readback: true })).loss);
    const wantState = flatten(await crit.readState());

    // the state from an array refilled right after setState() returns, behind a step still queued and with none
    const garbage = (t: SafeTensor) => (t.data as Float64Array).fill(1e6);
    const own = new Map([...stateIn].map(([k, t]) => [k, { ...t, data: (t.data as Float64Array).slice() } as SafeTensor]));
    const busy = crit.forward(nestByName(step(5)), targets, { readback: true });
    const set = crit.setState(nestByName(own));
    for (const t of own.values()) garbage(t);
    await Promise.all([busy, set]);
    // the same three steps with one set of arrays refilled for the next step as soon as each call returns: the
    // first starts at once, the others queue behind it
    const arrays = step(0);
    const runs: Promise<{ loss: number }>[] = [];
    for (const k of [0, 1, 2]) {
      runs.push(crit.forward(nestByName(arrays), targets, { readback: true }));
      refill(arrays, k + 1);
    }
    assert.equal((await Promise.all(runs)).map((r) => r.loss), want, 'each step ran on the values given at its call');
    const got = flatten(await crit.readState());
    for (const [k, v] of wantState) assert.equal(Array.from(got.get(k)!.data), Array.from(v.data), `state '${k}' bit for bit`);
    crit.destroy();
  } finally {
    rt.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
