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
import { GpuInputError, PlanExecutor, type GpuRuntime } from 'tdc-runtime';
import { registerSpecFile, resetToBuiltins } from '../src/registry/registry.js';
import { checkFile } from '../src/compiler/driver/check.js';

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

test('state updated in place at a computed index out of range: the run fails and the state is as it was (checked before the update)', async () => {
  // `index_copy(bank, 0, targets + 4, s)` into a [9, 37] bank: the state output is updated in place (a kernel of its
  // own writing the rows into the bank bound by the caller); targets + 4 is computed by an earlier kernel
  const specFile = join(dir, 'state.tdl');
  writeFileSync(specFile, spec('sum(s * t) + sum(bank)', '  let bank = state("bank", [9, 37], 0.5)\n  state_out("bank", index_copy(bank, 0, targets + 4, s))\n'));
  const config = join(dir, 'state.yaml');
  writeFileSync(config, CONFIG);
  try {
    assert.equal(registerSpecFile(specFile).filter((d) => d.severity === 'error'), []);
    const { ir, diagnostics } = checkFile(config);
    assert.ok(ir, JSON.stringify(diagnostics));
    const tensors = readSafetensors(new Uint8Array(readFileSync(INPUTS))).tensors;
    const graph = stageGraph(ir!.stages[0]!, new Map([...tensors, ['state_in/my/bank', { dtype: 'F32', shape: [9, 37], data: new Float32Array(9 * 37) }]]) as never, true, []);
    assert.ok(graph);
    const { plan } = generatePlanModules(schedule(graph!, { state: true }));
    const out = plan.outputs.state!.find((s) => s.name === 'state_out/my/bank')!;
    assert.is(out.inPlace, true, 'the bank is updated in place');
    assert.is(plan.computedIndexChecks?.length, 1, 'targets + 4 is checked');
    const rt = await openTestRuntime('computed index / in-place state GPU test');
    if (!rt) return;
    const exec = await PlanExecutor.create(rt, plan);
    try {
      const old = Float32Array.from({ length: 9 * 37 }, (_, i) => (i % 11) * 0.25 - 1);
      const bank = rt.device.createBuffer({ size: old.byteLength, usage: 0x80 | 0x4 | 0x8 });
      rt.device.queue.writeBuffer(bank, 0, old);
      const inputs = (t: number[]) =>
        new Map<string, unknown>([
          ...[...tensors].filter(([n]) => !n.startsWith('grad/')).map(([n, x]) => [n, n === 'targets' ? { shape: [7], data: BigInt64Array.from(t.map(BigInt)) } : x] as const),
          ['state_in/my/bank', { shape: [9, 37], buffer: bank }],
        ]);
      const bad = targets.findIndex((v) => v + 4 >= 9);
      assert.ok(bad >= 0, 'a target ≥ 5');
      const err = await exec.run(inputs(targets) as never, { readback: 'scalars' }).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(err instanceof GpuInputError, String(err));
      assert.equal(Array.from(await readBuffer(rt, bank, 9 * 37)), Array.from(old), 'the bank is unchanged');
      assert.match((err as Error).message, `element ${bad} is ${targets[bad]! + 4}, outside [0, 9)`);
      assert.match((err as Error).message, "the state the plan updates in place in your buffers ('state_out/my/bank') was left as it was");
      // the structured field names the failed check (run-gpu positions the diagnostic by it)
      assert.equal((err as GpuInputError).computedIndexChecks?.map((c) => c.what), [plan.computedIndexChecks![0]!.what]);
      // the next run, with every index in range, updates the bank (rows 4..8 from s)
      await exec.run(inputs([0, 1, 2, 3, 4, 0, 1]) as never, { readback: 'scalars' });
      const now = await readBuffer(rt, bank, 9 * 37);
      const s = tensors.get('student/./output')!.data as Float64Array;
      assert.equal(Array.from(now.subarray(0, 4 * 37)), Array.from(old.subarray(0, 4 * 37)), 'rows 0..3 are untouched');
      assert.equal(Array.from(now.subarray(8 * 37, 9 * 37)), Array.from(Float32Array.from(s.subarray(4 * 37, 5 * 37))), 'row 8 is s[4]');
      bank.destroy();
    } finally {
      exec.destroy();
      rt.destroy();
    }
  } finally {
    resetToBuiltins();
  }
});

test.run();
