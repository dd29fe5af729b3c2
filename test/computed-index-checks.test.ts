// Indices a custom loss computes (QA s30-tdl item 5): `gather(s, 1, unsqueeze(targets, 1) + 40)`, an index_copy
// at `long(tensor([9.0]))`, one_hot of values ≥ its class count. torch raises for each; the GPU kernels read a
// clamped element, so `tdc run --device gpu` printed a wrong loss with exit 0 (and one_hot gave an all-zero row on
// both devices). Now the CPU executor names the op at the .tdl call (not an internal "node 6" at the config's
// `train:`), and the GPU checks the computed index on the device after the kernels (computed-indices.ts:
// the index is stored, KernelPlan.computedIndexChecks) and names the op and the .tdl call. An index that comes
// from an input (one_hot(targets, 3)) is checked before anything runs, on both devices. A computed index in range
// runs as before, with the CPU's loss.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { readSafetensors } from 'tdc-runtime';
import { GOLDEN, hasStackTrace, tdc, type CliResult } from './helpers/cli.js';
import { customTermConfig, customTermSpec } from './helpers/custom-term.js';
import { loadGoldenStage } from './helpers/golden-stage.js';
import { stageGraph } from '../src/compiler/run-gpu.js';
import { planWithVariants } from '../src/compiler/plan-variants.js';
import { prepare } from '../src/compiler/schedule/prepare.js';
import { computedIndices } from '../src/compiler/schedule/computed-indices.js';
import { GraphBuilder } from '../src/graph/builder.js';
import { schedule } from '../src/compiler/schedule/index.js';
import { generatePlanModules } from '../src/codegen/wgsl/generate-plan.js';
import { interpretPlan } from '../src/codegen/kernel-ir/interpret-plan.js';
import { casePath, relErr } from './helpers/golden.js';
import { openTestRuntime } from './helpers/open-gpu.js';
import { GpuInputError, PlanExecutor, type GpuRuntime, type KernelPlan, type SafeTensor } from 'tdc-runtime';
import type { Graph } from '../src/graph/types.js';
import { registerSpecFile, resetToBuiltins } from '../src/registry/registry.js';
import { checkFile } from '../src/compiler/driver/check.js';
import { assertChecksBeforeState } from '../src/compiler/schedule/check-order.js';
import { DiagnosticError } from '../src/diagnostics/index.js';

const KD = 'sample__ilsvrc2012__kd__resnet18_from_resnet34'; // student/teacher logits [7, 37] (F64), targets [7]
const INPUTS = casePath(KD, 'tensors.safetensors');
const dir = mkdtempSync(join(tmpdir(), 'tdc-computed-index-'));
const targets = Array.from(readSafetensors(new Uint8Array(readFileSync(INPUTS))).tensors.get('targets')!.data as BigInt64Array, Number);

/** The spec's return statement is on line 5; `return ` ends at column 10. */
const spec = (ret: string, before = ''): string => customTermSpec('X', `${before}  # the index below is computed by the loss\n  return ${ret}`);

const CONFIG = customTermConfig('X');

let n = 0;
function run(ret: string, device: 'cpu' | 'gpu', extra: string[] = []): { r: CliResult; specFile: string } {
  const specFile = join(dir, `s${n++}.tdl`);
  writeFileSync(specFile, spec(ret));
  const config = join(dir, 'c.yaml');
  writeFileSync(config, CONFIG);
  return { r: tdc(['run', config, '--inputs', INPUTS, '--device', device, '--spec', specFile, ...extra]), specFile };
}

function fails(r: CliResult, ...patterns: (string | RegExp)[]): void {
  assert.is(r.code, 1, `exit code ${r.code}\n${r.stdout}\n${r.stderr}`);
  assert.not.ok(hasStackTrace(r.stderr + r.stdout), r.stderr);
  assert.not.match(r.stdout, /loss =/);
  for (const p of patterns) assert.ok(typeof p === 'string' ? r.stderr.includes(p) : p.test(r.stderr), `expected ${p} in:\n${r.stderr}`);
}

test('gather with a computed index out of range: the CPU names the op at the .tdl call, the GPU checks it on the device', () => {
  const ret = 'sum(gather(s, 1, unsqueeze(targets, 1) + 40))';
  const cpu = run(ret, 'cpu');
  fails(cpu.r, /TDC521/, `${cpu.specFile}:5:14`, `gather: index ${targets[0]! + 40} is out of range for an axis of size 37`, 'related:');
  assert.not.match(cpu.r.stderr, /node \d+/);
  const gpu = run(ret, 'gpu');
  fails(
    gpu.r,
    /TDC524/,
    `the index of gather at ${basename(gpu.specFile)}:5:14 (computed by the loss), into dimension 1: element 0 is ${targets[0]! + 40}, outside [0, 37)`,
    `torch raises "index ${targets[0]! + 40} is out of bounds for dimension 1 with size 37"`,
    // positioned at the call, as the CPU's
    `${gpu.specFile}:5:14 - error TDC524`,
    'related:',
  );
});

test('a computed index in range: the GPU result is the CPU result (the check passes)', () => {
  const ret = 'sum(gather(s, 1, 36 - unsqueeze(targets, 1))) + sum(one_hot(36 - targets, 37) * t)';
  const loss = (device: 'cpu' | 'gpu') => {
    const { r } = run(ret, device, ['--json']);
    assert.is(r.code, 0, r.stderr);
    return (JSON.parse(r.stdout) as { loss: number }).loss;
  };
  const [c, g] = [loss('cpu'), loss('gpu')];
  assert.ok(relErr(g, c) < 1e-5, `gpu ${g} vs cpu ${c}`);
});

test('a constant index out of range (folded to a broadcast constant) is stored and checked too', () => {
  const ret = 'sum(gather(s, 1, unsqueeze(targets, 1) * 0 + 40))';
  fails(run(ret, 'cpu').r, /TDC521/, 'gather: index 40 is out of range for an axis of size 37');
  const gpu = run(ret, 'gpu');
  fails(gpu.r, /TDC524/, `the index of gather at ${basename(gpu.specFile)}:5:14`, 'is 40, outside [0, 37)');
});

test('built-in losses whose indices are in range by construction store nothing for the check (SSKD: rotation labels, sliced repeated targets)', async () => {
  for (const id of ['sample__ilsvrc2012__sskd__resnet18_from_resnet34__stage1', 'sample__ilsvrc2012__sskd__resnet18_from_resnet34__stage2']) {
    const dirOf = join(GOLDEN, id);
    const expected = JSON.parse(readFileSync(join(dirOf, 'expected.json'), 'utf8')) as { stage: string };
    const { stage } = loadGoldenStage(dirOf, expected.stage);
    const graph = stageGraph(stage!, readSafetensors(new Uint8Array(readFileSync(join(dirOf, 'tensors.safetensors')))).tensors, true, []);
    assert.ok(graph, id);
    assert.equal(computedIndices(prepare(graph, { splitReductions: true, algebra: true, state: true }).graph), [], id);
    assert.is(planWithVariants(graph, { state: true }).computedIndexChecks, undefined, id);
  }
});

test('the plan lists a computed index with its buffer; the kernel IR interpreter refuses it as the runtime does, in both modes', () => {
  const b = new GraphBuilder();
  const x = b.input('x', [{ sym: 'N' }, 6], 'float', true);
  const t = b.input('t', [{ sym: 'N' }], 'int', false);
  const index = b.binary('add', b.op('reshape', [t], { shape: [{ sym: 'N' }, 1] }), b.op('cast', [b.constant(2)], { dtype: 'int' }));
  const picked = b.op('gather', [x, index], { axis: 1 });
  const loss = b.op('reduce', [picked], { fn: 'sum', axes: [0, 1], keepdim: false });
  const g = b.finish({ loss, terms: [] });
  for (const mode of ['fused', 'unfused'] as const) {
    const { plan, modules } = generatePlanModules(schedule(g, { mode }));
    assert.equal(plan.computedIndexChecks?.map((c) => ({ ...c, buffer: plan.buffers.find((x) => x.id === c.buffer)?.role })), [
      { buffer: 'scratch', n: { sym: 'N' }, size: 6, what: 'the index of gather (computed by the loss), into dimension 1', torch: 'index {value} is out of bounds for dimension 1 with size {size}' },
    ], mode);
    const inputs = (tv: number[]) => new Map([['x', { shape: [tv.length, 6], data: new Float64Array(tv.length * 6).fill(1) }], ['t', { shape: [tv.length], data: Int32Array.from(tv) }]]);
    assert.is(interpretPlan(plan, modules, inputs([0, 3, 1])).loss, 3, mode);
    assert.throws(
      () => interpretPlan(plan, modules, inputs([0, 4, 1])),
      (e: Error) => e.message === 'indices out of range: the index of gather (computed by the loss), into dimension 1: element 1 is 6, outside [0, 6) (torch raises "index 6 is out of bounds for dimension 1 with size 6"); the results of this run were discarded',
      mode,
    );
  }
});

test('index_copy at a computed index out of range (long(tensor([9.0])) into 7 rows)', () => {
  const ret = 'sum(index_copy(t, 0, long(tensor([9.0])), slice(s, 0, 0, 1)))';
  const cpu = run(ret, 'cpu');
  fails(cpu.r, /TDC521/, `${cpu.specFile}:5:14`, 'index_copy: index 9 is out of range for an axis of size 7');
  const gpu = run(ret, 'gpu');
  fails(gpu.r, /TDC524/, `the index of index_copy at ${basename(gpu.specFile)}:5:14`, 'element 0 is 9, outside [0, 7)', 'index_copy_(): index 9 is out of bounds for dimension 0 with size 7');
});

test('one_hot of class values ≥ its class count: refused on both devices (torch: "Class values must be smaller than num_classes")', () => {
  // from an input: checked before anything runs
  const bad = targets.findIndex((v) => v >= 3);
  assert.ok(bad >= 0, 'a target ≥ 3');
  for (const device of ['cpu', 'gpu'] as const) {
    const { r } = run('sum(one_hot(targets, 3) * slice(s, 1, 0, 3))', device);
    fails(r, /TDC524/, `'targets' element ${bad} is ${targets[bad]}: a one_hot class value must lie in [0, 3)`);
  }
  // computed (negative values): at the one_hot call
  const cpu = run('sum(one_hot(targets - 100, 37) * t)', 'cpu');
  fails(cpu.r, /TDC521/, `${cpu.specFile}:5:14`, `index ${targets[0]! - 100} is out of range for an axis of size 37`);
  const gpu = run('sum(one_hot(targets - 100, 37) * t)', 'gpu');
  fails(gpu.r, /TDC524/, `the class values of one_hot at ${basename(gpu.specFile)}:5:14 (computed by the loss): element 0 is ${targets[0]! - 100}, outside [0, 37)`);
});

/** The first `n` floats of a device buffer. */
async function readBuffer(rt: GpuRuntime, b: GPUBuffer, n: number): Promise<Float32Array> {
  const staging = rt.device.createBuffer({ size: 4 * n, usage: 0x1 | 0x8 /* MAP_READ | COPY_DST */ });
  const enc = rt.device.createCommandEncoder();
  enc.copyBufferToBuffer(b, 0, staging, 0, 4 * n);
  rt.device.queue.submit([enc.finish()]);
  await staging.mapAsync(0x1);
  const out = new Float32Array(staging.getMappedRange().slice(0));
  staging.destroy();
  return out;
}

/** The stage graph of a loss returning `ret` with a [9, 37] state `bank` (initial value 0.5) updated by `update`
 *  (state_out("bank", …)), on the KD case's tensors. Registers the spec: the caller calls resetToBuiltins. */
function bankGraph(name: string, ret: string, update: string): { graph: Graph; tensors: Map<string, SafeTensor> } {
  const specFile = join(dir, `${name}.tdl`);
  writeFileSync(specFile, spec(ret, `  let bank = state("bank", [9, 37], 0.5)\n  state_out("bank", ${update})\n`));
  const config = join(dir, `${name}.yaml`);
  writeFileSync(config, CONFIG);
  assert.equal(registerSpecFile(specFile).filter((d) => d.severity === 'error'), []);
  const { ir, diagnostics } = checkFile(config);
  assert.ok(ir, JSON.stringify(diagnostics));
  const tensors = readSafetensors(new Uint8Array(readFileSync(INPUTS))).tensors;
  const graph = stageGraph(ir!.stages[0]!, new Map([...tensors, ['state_in/my/bank', { dtype: 'F32', shape: [9, 37], data: new Float32Array(9 * 37) }]]) as never, true, []);
  assert.ok(graph);
  return { graph: graph!, tensors };
}

/** A run's inputs: the tensors the plan reads, `t` as the targets, the bank in the caller's device buffer. */
const bankInputs = (plan: KernelPlan, tensors: Map<string, SafeTensor>, bank: GPUBuffer, t: number[]): Map<string, unknown> =>
  new Map<string, unknown>([
    ...[...tensors].filter(([n]) => plan.inputs.some((x) => x.name === n)).map(([n, x]) => [n, n === 'targets' ? { shape: [7], data: BigInt64Array.from(t.map(BigInt)) } : x] as const),
    ['state_in/my/bank', { shape: [9, 37], buffer: bank }],
  ]);

/** Runs `body` with an executor of `plan` and the bank in a device buffer of the caller's holding `old`, and a read of
 *  it; nothing without an adapter. */
async function withBank(what: string, plan: KernelPlan, old: Float32Array<ArrayBuffer>, body: (exec: PlanExecutor, bank: GPUBuffer, readBank: () => Promise<Float32Array>) => Promise<void>): Promise<void> {
  const rt = await openTestRuntime(what);
  if (!rt) return;
  const exec = await PlanExecutor.create(rt, plan);
  const bank = rt.device.createBuffer({ size: old.byteLength, usage: 0x80 | 0x4 | 0x8 });
  rt.device.queue.writeBuffer(bank, 0, old);
  try {
    await body(exec, bank, () => readBuffer(rt, bank, old.length));
  } finally {
    bank.destroy();
    exec.destroy();
    rt.destroy();
  }
}

/** What a run threw (undefined when it did not). */
const rejection = (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  );

test('state updated in place at a computed index out of range: the run fails and the state is as it was (checked before the update)', async () => {
  // `index_copy(bank, 0, targets + 4, s)` into a [9, 37] bank: the state output is updated in place (a kernel of its
  // own writing the rows into the bank bound by the caller); targets + 4 is computed by an earlier kernel
  try {
    const { graph, tensors } = bankGraph('state', 'sum(s * t) + sum(bank)', 'index_copy(bank, 0, targets + 4, s)');
    const { plan } = generatePlanModules(schedule(graph, { state: true }));
    const out = plan.outputs.state!.find((s) => s.name === 'state_out/my/bank')!;
    assert.is(out.inPlace, true, 'the bank is updated in place');
    assert.is(plan.computedIndexChecks?.length, 1, 'targets + 4 is checked');
    const old = Float32Array.from({ length: 9 * 37 }, (_, i) => (i % 11) * 0.25 - 1);
    await withBank('computed index / in-place state GPU test', plan, old, async (exec, bank, readBank) => {
      const inputs = (t: number[]) => bankInputs(plan, tensors, bank, t);
      const bad = targets.findIndex((v) => v + 4 >= 9);
      assert.ok(bad >= 0, 'a target ≥ 5');
      const err = await rejection(exec.run(inputs(targets) as never, { readback: 'scalars' }));
      assert.ok(err instanceof GpuInputError, String(err));
      assert.equal(Array.from(await readBank()), Array.from(old), 'the bank is unchanged');
      assert.match((err as Error).message, `element ${bad} is ${targets[bad]! + 4}, outside [0, 9)`);
      assert.match((err as Error).message, "the state the plan updates in place in your buffers ('state_out/my/bank') was left as it was");
      // the structured field names the failed check (run-gpu positions the diagnostic by it)
      assert.equal((err as GpuInputError).computedIndexChecks?.map((c) => c.what), [plan.computedIndexChecks![0]!.what]);
      // the next run, with every index in range, updates the bank (rows 4..8 from s)
      await exec.run(inputs([0, 1, 2, 3, 4, 0, 1]) as never, { readback: 'scalars' });
      const now = await readBank();
      const s = tensors.get('student/./output')!.data as Float64Array;
      assert.equal(Array.from(now.subarray(0, 4 * 37)), Array.from(old.subarray(0, 4 * 37)), 'rows 0..3 are untouched');
      assert.equal(Array.from(now.subarray(8 * 37, 9 * 37)), Array.from(Float32Array.from(s.subarray(4 * 37, 5 * 37))), 'row 8 is s[4]');
    });
  } finally {
    resetToBuiltins();
  }
});

test('a state update that does not read the computed index still runs after its check (check-order.ts): the state is as it was', async () => {
  // the bank is updated at the (input) targets, declared before the loss: in the graph's order its in-place update
  // came first, before the kernel storing `targets + 30` (the gather's computed index), so a failed check of that
  // index came too late to keep the bank as it was
  try {
    const { graph, tensors } = bankGraph('state-first', 'sum(gather(s, 1, unsqueeze(targets, 1) + 30))', 'index_copy(bank, 0, targets, s)');
    // every plan (the unfused one, the fused one for each storage-buffer budget): the kernel storing the index, then
    // the first kernel reading the check flags
    const plans = [generatePlanModules(schedule(graph, { state: true, mode: 'unfused' })).plan, ...[8, 10, 16].map((limit) => generatePlanModules(schedule(graph, { state: true, maxStorageBuffers: limit })).plan)];
    for (const p of plans) {
      assert.is(p.computedIndexChecks?.length, 1, 'targets + 30 is checked');
      const writer = p.kernels.reduce((last, k, i) => (k.bindings.some((b) => b.buffer === p.computedIndexChecks![0]!.buffer && b.access !== 'read') ? i : last), -1);
      const guarded = p.kernels.findIndex((k) => k.checkFlags !== undefined);
      assert.ok(writer >= 0 && guarded >= 0, 'an index kernel and a state kernel');
      assert.ok(writer < guarded, `the index is stored by kernel ${writer} (${p.kernels[writer]!.name}), before the state update ${guarded} (${p.kernels[guarded]!.name})`);
    }
    // the invariant itself: a schedule with the state update first is an internal error naming both kernels
    const s = schedule(graph, { state: true });
    const writer = s.kernels.findIndex((k) => k.bindings.some((b) => b.buffer === s.computedIndexChecks![0]!.buffer && b.access !== 'read'));
    const guarded = s.kernels.findIndex((k) => k.checkFlags !== undefined);
    const swapped = { ...s, kernels: s.kernels.map((k, i) => (i === writer ? s.kernels[guarded]! : i === guarded ? s.kernels[writer]! : k)) };
    const err = (() => {
      try {
        assertChecksBeforeState(swapped);
        return undefined;
      } catch (e) {
        return e;
      }
    })();
    assert.ok(err instanceof DiagnosticError, String(err));
    assert.is((err as DiagnosticError).diagnostic.code, 'TDC690');
    assert.match((err as Error).message, `the index of gather at state-first.tdl:7:14 (computed by the loss), into dimension 1 is stored by kernel ${s.kernels[writer]!.name}, which runs after kernel ${s.kernels[guarded]!.name} that updates state`);

    const plan = plans[plans.length - 1]!;
    const old = Float32Array.from({ length: 9 * 37 }, (_, i) => (i % 13) * 0.5 - 2);
    await withBank('computed index / state update order GPU test', plan, old, async (exec, bank, readBank) => {
      const inputs = (t: number[]) => bankInputs(plan, tensors, bank, t);
      // targets in the bank's [0, 9); element 4 + 30 = 38 is outside the gather's [0, 37)
      const err = await rejection(exec.run(inputs([0, 1, 2, 3, 8, 5, 6]) as never, { readback: 'scalars' }));
      assert.ok(err instanceof GpuInputError, String(err));
      assert.match((err as Error).message, 'element 4 is 38, outside [0, 37)');
      assert.equal(Array.from(await readBank()), Array.from(old), 'the bank is unchanged');
      assert.match((err as Error).message, "the state the plan updates in place in your buffers ('state_out/my/bank') was left as it was");
      // in range: rows 0..6 become s's rows
      await exec.run(inputs([0, 1, 2, 3, 4, 5, 6]) as never, { readback: 'scalars' });
      const now = await readBank();
      const s = tensors.get('student/./output')!.data as Float64Array;
      assert.equal(Array.from(now.subarray(0, 7 * 37)), Array.from(Float32Array.from(s.subarray(0, 7 * 37))), 'rows 0..6 are s');
      assert.equal(Array.from(now.subarray(7 * 37)), Array.from(old.subarray(7 * 37)), 'rows 7, 8 are untouched');
    });
  } finally {
    resetToBuiltins();
  }
});

test.run();
