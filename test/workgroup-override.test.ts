// Workgroup sizes are chosen at pipeline creation, not at compile time: ONE compile of the KD example
// (examples/kd/config.yaml, --like its io_dict) runs at two workgroup sizes picked at run time — 8 (the serial
// fold of the partials) and 128 (the tree) — and both match the float64 oracle (golden case
// sample__ilsvrc2012__kd__resnet18_from_resnet34, whose inputs examples/kd/io.safetensors holds) at the GPU
// tolerances of golden-gpu.test.ts. The generated WGSL has no literal workgroup size; the manifest lists each
// kernel's override with its defaults; the runtime picks the software default on lavapipe.
// No adapter: a failure when TDC_REQUIRE_GPU=1 (CI), otherwise a loud skip.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PlanExecutor, GpuInputError, isSoftwareAdapter, overrideConstants, readSafetensors, type SafeTensor } from 'tdc-runtime/node';
import { compile } from '../src/index.js';
import { workgroupSizeProblem } from '../src/compiler/run-gpu.js';
import { openTestRuntime } from './helpers/open-gpu.js';
import { ROOT } from './helpers/cli.js';
import { casePath, expected, gradExcess, relErr } from './helpers/golden.js';

const KD = join(ROOT, 'examples', 'kd', 'config.yaml');
const IO = join(ROOT, 'examples', 'kd', 'io.safetensors');
const KD_CASE = 'sample__ilsvrc2012__kd__resnet18_from_resnet34';
const LOSS_RTOL = 1e-5;
const GRAD_RTOL = 1e-4;

async function compiledKd() {
  const r = await compile(KD, { like: IO, root: ROOT });
  assert.ok(r.ok, JSON.stringify(r.diagnostics));
  return r;
}

test('generated WGSL declares its workgroup size as an override, never a literal; the manifest lists the overrides', async () => {
  const r = await compiledKd();
  const wgsl = [...r.files].filter(([f]) => f.endsWith('.wgsl'));
  assert.ok(wgsl.length > 0);
  for (const [f, text] of wgsl) {
    assert.not.match(text, /@workgroup_size\(\s*\d/, `${f} has a literal workgroup size`);
    assert.match(text, /^override wg_size: u32;$/m, f);
    assert.match(text, /@workgroup_size\(wg_size\)/, f);
  }
  const stage = r.manifest!.stages[0]!;
  assert.is(stage.workgroupSize, undefined, 'nothing pinned at compile time');
  for (const k of stage.kernels) {
    assert.is(k.overrides.length, 1, k.name);
    const o = k.overrides[0]!;
    assert.is(o.name, 'wg_size');
    assert.ok(o.default.software >= 1 && o.default.hardware >= o.default.software && o.max >= o.default.hardware, JSON.stringify(o));
  }
  // map kernels mention the size in their dispatch; row kernels dispatch one workgroup per row
  const plan = r.stages[0]!.plan;
  const constants = overrideConstants(plan.kernels, true, { maxComputeWorkgroupSizeX: 256, maxComputeWorkgroupSizeY: 256, maxComputeInvocationsPerWorkgroup: 256 });
  plan.kernels.forEach((k, i) => assert.is(constants[i]!['wg_size'], k.overrides![0]!.default.software));
  const chosen = overrideConstants(plan.kernels, false, { maxComputeWorkgroupSizeX: 256, maxComputeWorkgroupSizeY: 256, maxComputeInvocationsPerWorkgroup: 256 }, 32);
  plan.kernels.forEach((k, i) => assert.is(chosen[i]!['wg_size'], k.overrides![0]!.class === 'row' || k.overrides![0]!.class === 'serial' ? 32 : k.overrides![0]!.default.hardware));
  assert.throws(() => overrideConstants(plan.kernels, true, { maxComputeWorkgroupSizeX: 256, maxComputeWorkgroupSizeY: 256, maxComputeInvocationsPerWorkgroup: 256 }, 512), (e: unknown) => e instanceof GpuInputError && /exceeds/.test(e.message));
});

test('tdc compile --workgroup-size still pins: the overrides default to it', async () => {
  const r = await compile(KD, { like: IO, root: ROOT, workgroupSize: 16 });
  assert.ok(r.ok);
  assert.is(r.manifest!.stages[0]!.workgroupSize, 16);
  for (const k of r.manifest!.stages[0]!.kernels.filter((x) => x.overrides[0]!.class === 'row')) assert.equal(k.overrides[0]!.default, { software: 16, hardware: 16 });
});

test('tdc run --workgroup-size is checked against the kernels and the adapter before any pipeline: TDC602 naming the range', async () => {
  const plan = (await compiledKd()).stages[0]!.plan;
  const limits = (n: number) => ({ maxComputeWorkgroupSizeX: n, maxComputeWorkgroupSizeY: n, maxComputeInvocationsPerWorkgroup: n });
  assert.is(workgroupSizeProblem([plan], 256, limits(1024)), undefined);
  assert.is(workgroupSizeProblem([plan], undefined, limits(64)), undefined);
  const kernels = workgroupSizeProblem([plan], 300, limits(1024));
  assert.is(kernels?.code, 'TDC602');
  assert.match(kernels!.message, /row kernels are built for at most 256 threads; choose one in 1\.\.256/);
  // an adapter below WebGPU's default limit (a compatibility-mode device: 128)
  const device = workgroupSizeProblem([plan], 200, { maxComputeWorkgroupSizeX: 256, maxComputeWorkgroupSizeY: 256, maxComputeInvocationsPerWorkgroup: 128 });
  assert.is(device?.code, 'TDC602');
  assert.match(device!.message, /this adapter allows at most 128 threads per workgroup \(maxComputeWorkgroupSizeX 256, maxComputeInvocationsPerWorkgroup 128\); choose one in 1\.\.128/);
});

test('CompileOptions.workgroupSize above WebGPU\'s default limit 256 is TDC602 (the output must run on every adapter)', async () => {
  const r = await compile(KD, { like: IO, root: ROOT, workgroupSize: 512 });
  assert.not.ok(r.ok);
  assert.match(r.diagnostics.find((d) => d.code === 'TDC602')?.message ?? '', /1\.\.256/);
  assert.ok((await compile(KD, { like: IO, root: ROOT, workgroupSize: 256 })).ok);
});

test('one compile of the KD example runs at workgroup sizes 8 and 128 chosen at run time, both matching the oracle', async () => {
  const r = await compiledKd();
  const plan = r.stages[0]!.plan;
  const rt = await openTestRuntime('workgroup-override GPU test');
  if (!rt) return;
  try {
    const { tensors } = readSafetensors(new Uint8Array(readFileSync(casePath(KD_CASE, 'tensors.safetensors'))));
    const inputs = new Map<string, SafeTensor>(plan.inputs.map((i) => [i.name, tensors.get(i.name)!]));
    const want = expected(KD_CASE);
    const gradName = 'student/./output';
    const g = tensors.get(`grad/${gradName}`)!.data as Float64Array;
    const defaultExec = await PlanExecutor.create(rt, plan);
    const software = isSoftwareAdapter(rt.adapterInfo);
    defaultExec.constants.forEach((c, i) => assert.is(c['wg_size'], software ? plan.kernels[i]!.overrides![0]!.default.software : plan.kernels[i]!.overrides![0]!.default.hardware));
    defaultExec.destroy();
    const losses: number[] = [];
    for (const wg of [8, 128]) {
      const exec = await PlanExecutor.create(rt, plan, { workgroupSize: { row: wg, map: wg, serial: wg, matmul: 8 } });
      try {
        for (const c of exec.constants) assert.is(c['wg_size'], wg);
        const out = await exec.run(inputs, { readback: 'all' });
        assert.ok(relErr(out.loss, want.loss) <= LOSS_RTOL, `wg ${wg}: loss ${out.loss}, expected ${want.loss}`);
        for (const [name, t] of Object.entries(want.terms)) assert.ok(relErr(out.terms[name]!, t.value) <= LOSS_RTOL, `wg ${wg}: term ${name}`);
        const got = out.grads.get(gradName)!;
        assert.is(got.length, g.length);
        const excess = gradExcess(got, g, GRAD_RTOL, GRAD_RTOL);
        assert.ok(excess <= 1, `wg ${wg}: gradient off by ${excess.toFixed(2)}× the tolerance`);
        losses.push(out.loss);
      } finally {
        exec.destroy();
      }
    }
    assert.is(losses.length, 2);
  } finally {
    rt.destroy();
  }
});

test.run();
